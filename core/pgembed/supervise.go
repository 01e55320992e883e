package pgembed

import (
	"context"
	"errors"
	"os"
	"time"
)

// supervise watches the postmaster until Stop and restarts it whenever it
// dies (a crash, an OOM kill, a kill -9): clients get errors meanwhile (the
// store answers them 503 with Retry-After) and reconnect by themselves.
func (s *Server) supervise() {
	defer close(s.halted)
	wait := s.cfg.RestartBackoff
	started := time.Now()
	for {
		s.mu.Lock()
		proc, exited := s.proc, s.exited
		s.mu.Unlock()
		select {
		case <-s.halt:
			return
		case <-exited:
		}
		s.mu.Lock()
		s.up = false
		s.mu.Unlock()
		s.cfg.Logger.Error("pg_exited", "pid", proc.Process.Pid, "status", proc.ProcessState.String(),
			"log", tailFile(s.logPath(), 5))
		// One that dies again soon after its restart waits longer each time.
		if time.Since(started) > 2*s.cfg.MaxRestartBackoff {
			wait = s.cfg.RestartBackoff
		}
		var ok bool
		if wait, ok = s.restart(proc.Process.Pid, wait); !ok {
			return
		}
		started = time.Now()
	}
}

// restart starts a new postmaster, waiting wait before the first attempt
// (the dead one's backends let go of its shared memory) and twice as long
// after each failure, up to MaxRestartBackoff. It returns the next wait, and
// false when Stop came first.
func (s *Server) restart(deadPid int, wait time.Duration) (time.Duration, bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.halt:
			cancel()
		case <-ctx.Done():
		}
	}()
	down := time.Now()
	for attempt := 1; ; attempt++ {
		select {
		case <-s.halt:
			return wait, false
		case <-time.After(wait):
		}
		next := min(2*wait, s.cfg.MaxRestartBackoff)
		// Our child was reaped, so its pid file is stale.
		if pidFromFile(s.pidFile()) == deadPid {
			if err := os.Remove(s.pidFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.cfg.Logger.Warn("pg_stale_pid_file", "error", err)
			}
		}
		err := s.startPostmaster(ctx)
		if err == nil {
			s.mu.Lock()
			s.restarts++
			n := s.restarts
			s.mu.Unlock()
			s.cfg.Logger.Info("pg_restarted", "attempt", attempt, "down_for", time.Since(down).Round(time.Millisecond).String(),
				"restarts", n)
			return next, true
		}
		if ctx.Err() != nil {
			return wait, false
		}
		s.cfg.Logger.Warn("pg_restart_failed", "attempt", attempt, "retry_in", next.String(), "error", err)
		wait = next
	}
}

// Up reports whether the postmaster is running: false from its death until
// the supervisor has restarted it, and after Stop.
func (s *Server) Up() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up
}

// Restarts returns how many times the supervisor restarted a postmaster
// that had died.
func (s *Server) Restarts() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}
