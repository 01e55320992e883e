package onec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crmhub/crmhub/core"
)

// JobStatus is an import's summary.
type JobStatus struct {
	ID          string     `json:"id"`
	File        string     `json:"file"`
	Status      string     `json:"status"` // running, done, failed
	Processed   int64      `json:"processed"`
	Created     int64      `json:"created"`
	Updated     int64      `json:"updated"`
	Deactivated int64      `json:"deactivated"`
	Skipped     int64      `json:"skipped"`
	Errors      []string   `json:"errors"` // with the element and its Ид
	Error       string     `json:"error"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
}

// Job is a running import.
type Job struct {
	mu   sync.Mutex
	st   JobStatus
	done chan struct{}
}

func (j *Job) update(f func(*JobStatus)) {
	j.mu.Lock()
	f(&j.st)
	j.mu.Unlock()
}

// fail records a row-level error (at most 1,000 kept).
func (j *Job) fail(msg string) {
	j.update(func(s *JobStatus) {
		if len(s.Errors) < 1000 {
			s.Errors = append(s.Errors, msg)
		}
	})
}

func (j *Job) snapshot() JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := j.st
	st.Errors = append([]string{}, st.Errors...)
	return st
}

// JobLog keeps the jobs' summaries (the exchange log) beyond the
// process: each job is saved when it starts and when it ends.
type JobLog interface {
	SaveOneCJob(ctx context.Context, id, file, status string, started time.Time, finished *time.Time, data []byte) error
	OneCJob(ctx context.Context, id string) ([]byte, error)
	OneCJobs(ctx context.Context, limit int) ([][]byte, error)
}

type jobs struct {
	mu    sync.Mutex
	byKey map[string]*Job // a session's imports, by session and file
	byID  map[string]*Job // running jobs (all jobs without a log)
	log   JobLog          // nil: jobs live in memory only
	lg    *slog.Logger
	// onDone, when set, is told the key of each job that ended.
	onDone func(key string)
}

func newJobs(log JobLog, lg *slog.Logger) *jobs {
	return &jobs{byKey: map[string]*Job{}, byID: map[string]*Job{}, log: log, lg: lg}
}

// save writes a job's summary to the log; a failure is logged (the job
// itself went as it went).
func (js *jobs) save(ctx context.Context, st JobStatus) {
	if js.log == nil {
		return
	}
	data, err := json.Marshal(st)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = js.log.SaveOneCJob(ctx, st.ID, st.File, st.Status, st.StartedAt, st.FinishedAt, data)
		cancel()
	}
	if err != nil {
		js.lg.Error("onec_job_log", "job", st.ID, "err", err)
	}
}

// start runs fn once per key: a repeat of the request finds the job.
func (js *jobs) start(key, file string, fn func(context.Context, *Job) error, ctx context.Context) *Job {
	js.mu.Lock()
	defer js.mu.Unlock()
	if j, ok := js.byKey[key]; ok {
		return j
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	j := &Job{st: JobStatus{ID: hex.EncodeToString(b), File: file, Status: "running", StartedAt: time.Now().UTC(), Errors: []string{}},
		done: make(chan struct{})}
	js.byKey[key], js.byID[j.st.ID] = j, j
	js.save(ctx, j.snapshot())
	go func() {
		defer func() {
			close(j.done)
			if js.onDone != nil {
				js.onDone(key)
			}
		}()
		err := fn(ctx, j)
		now := time.Now().UTC()
		j.update(func(s *JobStatus) {
			s.Status = "done"
			s.FinishedAt = &now
			if err != nil {
				s.Status = "failed"
				s.Error = err.Error()
			}
		})
		js.save(ctx, j.snapshot())
		if js.log != nil { // the log has it now
			js.mu.Lock()
			delete(js.byID, j.st.ID)
			js.mu.Unlock()
		}
	}()
	return j
}

// running reports whether a job under prefix (a session's) runs.
func (js *jobs) running(prefix string) bool {
	js.mu.Lock()
	defer js.mu.Unlock()
	for k, j := range js.byKey {
		if strings.HasPrefix(k, prefix) {
			select {
			case <-j.done:
			default:
				return true
			}
		}
	}
	return false
}

// forget drops the jobs of a session (a new init uploads anew; an expired
// session is gone).
func (js *jobs) forget(prefix string) {
	js.mu.Lock()
	defer js.mu.Unlock()
	for k := range js.byKey {
		if strings.HasPrefix(k, prefix) {
			delete(js.byKey, k)
		}
	}
}

// interrupted is a job the log says is running that no process here runs:
// the hub stopped during it (1C repeats the import, which is idempotent).
func interrupted(st *JobStatus) {
	st.Status = "failed"
	st.Error = "interrupted: the hub stopped during the import; 1C repeats it at the next exchange"
}

func (js *jobs) get(ctx context.Context, id string) (*JobStatus, error) {
	js.mu.Lock()
	j, ok := js.byID[id]
	js.mu.Unlock()
	if ok {
		st := j.snapshot()
		return &st, nil
	}
	if js.log == nil {
		return nil, core.Errorf(core.ENOTFOUND, "1C job not found")
	}
	data, err := js.log.OneCJob(ctx, id)
	if err != nil {
		return nil, err
	}
	var st JobStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	if st.Status == "running" {
		interrupted(&st)
	}
	return &st, nil
}

// list returns the newest jobs, at most limit: the exchange log.
func (js *jobs) list(ctx context.Context, limit int) ([]JobStatus, error) {
	js.mu.Lock()
	running := make(map[string]JobStatus, len(js.byID))
	for id, j := range js.byID {
		running[id] = j.snapshot()
	}
	js.mu.Unlock()
	out := []JobStatus{}
	if js.log == nil {
		for _, st := range running {
			out = append(out, st)
		}
		slices.SortFunc(out, func(a, b JobStatus) int { return b.StartedAt.Compare(a.StartedAt) })
		if len(out) > limit {
			out = out[:limit]
		}
		return out, nil
	}
	rows, err := js.log.OneCJobs(ctx, limit)
	if err != nil {
		return nil, err
	}
	out = make([]JobStatus, 0, len(rows))
	for _, data := range rows {
		var st JobStatus
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, err
		}
		if live, ok := running[st.ID]; ok {
			st = live
		} else if st.Status == "running" {
			interrupted(&st)
		}
		out = append(out, st)
	}
	return out, nil
}
