package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// LoginFailure is what a LoginThrottle remembers of one key (a user name
// or a client address): the attempts counted against it in a row and when
// the last one began. The zero value is a key with nothing against it.
type LoginFailure struct {
	Count int
	Last  time.Time
}

// LoginFailures keeps a LoginThrottle's records: in this process
// (NewLoginFailuresInMemory), or in the database, shared by every replica
// of the hub (core/store).
type LoginFailures interface {
	// UpdateLoginFailures calls fn with the records of keys, in that order
	// (the zero record for a key without one), and stores what it returns
	// (a zero record deletes its key), atomically: concurrent updates of
	// the same keys wait for each other. fn may be called more than once.
	UpdateLoginFailures(ctx context.Context, keys []string, fn func([]LoginFailure) []LoginFailure) error
	// PruneLoginFailures deletes the records of the keys that start with
	// prefix and were last attempted before before, and says how many.
	PruneLoginFailures(ctx context.Context, prefix string, before time.Time) (int64, error)
}

// ThrottleConfig configures a LoginThrottle; zero fields take defaults.
type ThrottleConfig struct {
	// Scope names the login (onec, api…): its keys are its own.
	Scope string
	// UserFailures and IPFailures are the failed attempts in a row a user
	// name and a client address may make before each further attempt
	// waits. Defaults 5 and 20 (an office behind one address has many
	// users).
	UserFailures int
	IPFailures   int
	// Delay is the first wait; it doubles with each further failure up to
	// Lockout, the longest (a temporary lockout). Defaults 1s and 15m.
	Delay   time.Duration
	Lockout time.Duration
	// Forget clears a key after so long without an attempt. Default 24h.
	Forget time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c *ThrottleConfig) setDefaults() {
	if c.UserFailures == 0 {
		c.UserFailures = 5
	}
	if c.IPFailures == 0 {
		c.IPFailures = 20
	}
	if c.Delay == 0 {
		c.Delay = time.Second
	}
	if c.Lockout == 0 {
		c.Lockout = 15 * time.Minute
	}
	if c.Forget == 0 {
		c.Forget = 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate checks the configuration (after its defaults).
func (c *ThrottleConfig) Validate() error {
	switch {
	case c.Scope == "" || strings.Contains(c.Scope, "/"):
		return errors.New("login throttle: a scope without / is required")
	case c.UserFailures < 1 || c.IPFailures < 1:
		return errors.New("login throttle: user and ip failures must be at least 1")
	case c.Delay <= 0 || c.Lockout < c.Delay:
		return errors.New("login throttle: the delay must be positive and at most the lockout")
	case c.Forget < c.Lockout:
		return errors.New("login throttle: forget must be at least the lockout")
	}
	return nil
}

// LoginThrottle slows password guessing down. Each user name and each
// client address may fail a few times in a row; after that every further
// attempt waits, the wait doubling with each failure up to a temporary
// lockout, and while a key waits even the right password is refused (the
// attempt is not checked). An attempt is counted when it begins, so
// concurrent guesses cannot slip through together. A success forgets the
// user's failures and gives the address its attempt back.
type LoginThrottle struct {
	cfg   ThrottleConfig
	store LoginFailures
}

// NewLoginThrottle returns a throttle keeping its records in store (nil:
// in this process only).
func NewLoginThrottle(cfg ThrottleConfig, store LoginFailures) (*LoginThrottle, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		store = NewLoginFailuresInMemory()
	}
	return &LoginThrottle{cfg: cfg, store: store}, nil
}

// LoginAttempt is one attempt to log in, as the throttle judged it.
type LoginAttempt struct {
	// Wait, when positive, refuses the attempt: check no password and tell
	// the client to retry after it (nothing was counted).
	Wait time.Duration
	// Failures is how many attempts the user has made in a row without a
	// success, this one included.
	Failures int
	// Penalty is how long the user or the address waits if this attempt
	// fails (0: the next attempt may come at once).
	Penalty time.Duration

	t    *LoginThrottle
	keys []string
}

// Begin judges an attempt to log in as user from ip, before its password
// is checked: the attempt is counted as a failure until Succeeded says
// otherwise, or it is refused (Wait).
func (t *LoginThrottle) Begin(ctx context.Context, user, ip string) (*LoginAttempt, error) {
	now := t.cfg.Now()
	a := &LoginAttempt{t: t, keys: []string{t.key("user", user), t.key("ip", ip)}}
	free := []int{t.cfg.UserFailures, t.cfg.IPFailures}
	err := t.store.UpdateLoginFailures(ctx, a.keys, func(recs []LoginFailure) []LoginFailure {
		a.Wait, a.Penalty, a.Failures = 0, 0, 0
		out := make([]LoginFailure, len(recs))
		for i, r := range recs {
			out[i] = t.current(r, now)
			a.Wait = max(a.Wait, out[i].Last.Add(t.delay(out[i].Count, free[i])).Sub(now))
		}
		if a.Wait > 0 {
			return recs
		}
		for i := range out {
			out[i] = LoginFailure{Count: out[i].Count + 1, Last: now}
			a.Penalty = max(a.Penalty, t.delay(out[i].Count, free[i]))
		}
		a.Failures = out[0].Count
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("login throttle: %w", err)
	}
	return a, nil
}

// Succeeded records that the attempt's password was right: the user's
// failures are forgotten and the address's count goes back by one.
func (a *LoginAttempt) Succeeded(ctx context.Context) error {
	if a.Wait > 0 {
		return nil // refused: nothing was counted
	}
	err := a.t.store.UpdateLoginFailures(ctx, a.keys, func(recs []LoginFailure) []LoginFailure {
		ip := recs[1]
		if ip.Count--; ip.Count <= 0 {
			ip = LoginFailure{}
		}
		return []LoginFailure{{}, ip}
	})
	if err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}

// Prune forgets this scope's keys left alone for longer than Forget (call
// it now and then: an attack from many addresses leaves many keys).
func (t *LoginThrottle) Prune(ctx context.Context) (int64, error) {
	return t.store.PruneLoginFailures(ctx, t.cfg.Scope+"/", t.cfg.Now().Add(-t.cfg.Forget))
}

// key is a user name's or an address's key in the scope (clipped: the name
// is the client's).
func (t *LoginThrottle) key(kind, name string) string {
	if len(name) > 200 {
		name = name[:200]
	}
	return t.cfg.Scope + "/" + kind + "/" + name
}

// current is the record as it stands at now: forgotten after Forget.
func (t *LoginThrottle) current(r LoginFailure, now time.Time) LoginFailure {
	if r.Count <= 0 || now.Sub(r.Last) > t.cfg.Forget {
		return LoginFailure{}
	}
	return r
}

// delay is how long after its last attempt a key with count failures in a
// row waits: nothing for the first free ones, then Delay doubling up to
// Lockout.
func (t *LoginThrottle) delay(count, free int) time.Duration {
	if count < free {
		return 0
	}
	n := count - free
	if n >= 32 {
		return t.cfg.Lockout
	}
	d := t.cfg.Delay << n
	if d <= 0 || d > t.cfg.Lockout {
		return t.cfg.Lockout
	}
	return d
}

// LoginFailuresInMemory keeps a LoginThrottle's records in this process.
type LoginFailuresInMemory struct {
	mu sync.Mutex
	m  map[string]LoginFailure
}

var _ LoginFailures = (*LoginFailuresInMemory)(nil)

// NewLoginFailuresInMemory returns an empty record of failures.
func NewLoginFailuresInMemory() *LoginFailuresInMemory {
	return &LoginFailuresInMemory{m: map[string]LoginFailure{}}
}

// UpdateLoginFailures implements LoginFailures.
func (s *LoginFailuresInMemory) UpdateLoginFailures(_ context.Context, keys []string, fn func([]LoginFailure) []LoginFailure) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := make([]LoginFailure, len(keys))
	for i, k := range keys {
		recs[i] = s.m[k]
	}
	for i, r := range fn(recs) {
		if r == (LoginFailure{}) {
			delete(s.m, keys[i])
		} else {
			s.m[keys[i]] = r
		}
	}
	return nil
}

// PruneLoginFailures implements LoginFailures.
func (s *LoginFailuresInMemory) PruneLoginFailures(_ context.Context, prefix string, before time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for k, r := range s.m {
		if strings.HasPrefix(k, prefix) && r.Last.Before(before) {
			delete(s.m, k)
			n++
		}
	}
	return n, nil
}
