package onec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

type jobs struct {
	mu    sync.Mutex
	byKey map[string]*Job
	byID  map[string]*Job
}

func newJobs() *jobs { return &jobs{byKey: map[string]*Job{}, byID: map[string]*Job{}} }

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
	go func() {
		defer close(j.done)
		err := fn(ctx, j)
		now := time.Now().UTC()
		j.update(func(s *JobStatus) {
			s.Status, s.FinishedAt = "done", &now
			if err != nil {
				s.Status, s.Error = "failed", err.Error()
			}
		})
	}()
	return j
}

// forget drops the jobs of a session (a new init uploads anew).
func (js *jobs) forget(prefix string) {
	js.mu.Lock()
	defer js.mu.Unlock()
	for k := range js.byKey {
		if strings.HasPrefix(k, prefix) {
			delete(js.byKey, k)
		}
	}
}

func (js *jobs) get(id string) (*JobStatus, error) {
	js.mu.Lock()
	j, ok := js.byID[id]
	js.mu.Unlock()
	if !ok {
		return nil, core.Errorf(core.ENOTFOUND, "1C job not found")
	}
	st := j.snapshot()
	return &st, nil
}
