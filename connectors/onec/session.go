package onec

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
)

// session is one exchange of 1C's, from checkauth to mode=complete (or
// SessionTTL without a request); its uploads are in dir, removed when it
// ends and none of its imports runs any more.
type session struct {
	id, typ, dir string
	last         time.Time
	uploaded     int64
	version      string // the protocol version 1C gave in init ("" for old modules)
	pending      Sent   // the documents the last query sent, with their versions
}

// sessionOf finds the request's session by its cookie.
func (x *Exchange) sessionOf(r core.WebhookRequest) *session {
	id := ""
	for _, c := range (&http.Request{Header: http.Header{"Cookie": r.Header.Values("Cookie")}}).Cookies() {
		if c.Name == cookieName {
			id = c.Value
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.session[id]
	now := x.cfg.Now()
	if s == nil || now.Sub(s.last) > x.cfg.SessionTTL {
		return nil
	}
	s.last = now
	return s
}

// Run keeps the work folder clean until ctx ends: at once (the folders a
// previous process left behind) and then every SweepEvery it ends the
// sessions idle for longer than SessionTTL and removes their folders, and
// prunes the login throttle's old records.
func (x *Exchange) Run(ctx context.Context) error {
	t := time.NewTicker(x.cfg.SweepEvery)
	defer t.Stop()
	for {
		x.sweep()
		if _, err := x.throttle.Prune(ctx); err != nil && ctx.Err() == nil {
			x.cfg.Logger.Warn("onec_throttle_prune", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// complete ends a session at 1C's mode=complete.
func (x *Exchange) complete(s *session) {
	x.mu.Lock()
	dir := x.endLocked(s)
	x.mu.Unlock()
	x.remove(dir, "complete")
}

// sweep ends the sessions idle for longer than SessionTTL and removes the
// session folders no session of this process owns.
func (x *Exchange) sweep() {
	entries, err := os.ReadDir(x.cfg.WorkDir)
	if err != nil {
		x.cfg.Logger.Warn("onec_sweep", "error", err)
	}
	now := x.cfg.Now()
	var expired, orphans []string
	x.mu.Lock()
	for _, s := range x.session {
		if now.Sub(s.last) > x.cfg.SessionTTL {
			if dir := x.endLocked(s); dir != "" {
				expired = append(expired, dir)
			}
		}
	}
	for _, e := range entries {
		_, live := x.session[e.Name()]
		_, ending := x.ending[e.Name()]
		if e.IsDir() && isSessionID(e.Name()) && !live && !ending {
			orphans = append(orphans, filepath.Join(x.cfg.WorkDir, e.Name()))
		}
	}
	x.mu.Unlock()
	for _, dir := range expired {
		x.remove(dir, "expired")
	}
	for _, dir := range orphans {
		x.remove(dir, "orphan")
	}
}

// endLocked forgets a session (x.mu held) and returns its folder to
// remove, or "" while an import of it runs: importEnded removes it then.
func (x *Exchange) endLocked(s *session) string {
	delete(x.session, s.id)
	if x.jobs.running(s.id + "/") {
		x.ending[s.id] = s
		return ""
	}
	delete(x.ending, s.id)
	x.jobs.forget(s.id + "/")
	return s.dir
}

// importEnded is told when an import job ends (successfully or not): the
// folder of a session that ended meanwhile goes once its last import has.
func (x *Exchange) importEnded(key string) {
	id, _, _ := strings.Cut(key, "/")
	x.mu.Lock()
	s, ok := x.ending[id]
	dir := ""
	if ok {
		dir = x.endLocked(s)
	}
	x.mu.Unlock()
	x.remove(dir, "ended")
}

// remove deletes an ended session's folder ("" : nothing to do).
func (x *Exchange) remove(dir, reason string) {
	if dir == "" {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		x.cfg.Logger.Warn("onec_session_cleanup", "reason", reason, "error", err)
		return
	}
	x.cfg.Logger.Info("onec_session_removed", "reason", reason, "session", filepath.Base(dir)[:8])
}

// isSessionID reports whether a folder name is a session's (32 hex
// digits): nothing else in the work folder is removed.
func isSessionID(name string) bool {
	if len(name) != 32 {
		return false
	}
	for _, c := range name {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
