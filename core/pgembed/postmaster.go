package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The postmaster runs as the hub's own child rather than daemonized by
// pg_ctl: the hub then reaps it, which matters where PID 1 reaps no orphans
// (containers), and its output goes to the log file through an inherited
// descriptor.

func (s *Server) logPath() string { return filepath.Join(s.cfg.Dir, "log", "postgres.log") }

func (s *Server) pidFile() string { return filepath.Join(s.dataDir, "postmaster.pid") }

func (s *Server) startPostmaster(ctx context.Context) error {
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child keeps its own copy
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", s.dataDir)
	cmd.Dir = s.cfg.Dir
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C in the terminal reaches the hub only,
	// which then shuts PostgreSQL down in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.cred}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.proc, s.exited = cmd, exited
	s.mu.Unlock()

	deadline := time.NewTimer(s.cfg.StartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if pidFileStatus(s.pidFile(), cmd.Process.Pid) == "ready" {
			s.mu.Lock()
			s.up = true
			s.mu.Unlock()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres exited: %s", tailFile(s.logPath(), 5))
		case <-ctx.Done():
			_ = s.stopPostmaster(context.WithoutCancel(ctx))
			return ctx.Err()
		case <-deadline.C:
			_ = s.stopPostmaster(context.WithoutCancel(ctx))
			return fmt.Errorf("postgres not ready after %s: %s", s.cfg.StartTimeout, tailFile(s.logPath(), 5))
		case <-tick.C:
		}
	}
}

// stopPostmaster asks for a fast shutdown and waits; past the timeout it
// asks for an immediate one.
func (s *Server) stopPostmaster(ctx context.Context) error {
	s.mu.Lock()
	proc, exited := s.proc, s.exited
	s.up = false
	s.mu.Unlock()
	if proc == nil {
		return nil
	}
	_ = proc.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
		return nil
	case <-time.After(s.cfg.StartTimeout):
	case <-ctx.Done():
	}
	_ = proc.Process.Signal(syscall.SIGQUIT)
	<-exited
	return errors.New("postgres did not stop in time; sent an immediate shutdown")
}

// clearOrphan deals with a postmaster.pid left by a crashed hub: a live
// postmaster is shut down; a dead or zombie one's pid file is removed
// (PostgreSQL itself would take a zombie for a running server).
func (s *Server) clearOrphan(ctx context.Context) error {
	pid := pidFromFile(s.pidFile())
	if pid <= 0 {
		return nil
	}
	switch procState(pid) {
	case "", "Z", "X":
		s.cfg.Logger.Warn("pg_stale_pid_file", "pid", pid)
		if err := os.Remove(s.pidFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	s.cfg.Logger.Warn("pg_orphan_stop", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGINT)
	deadline := time.Now().Add(s.cfg.StartTimeout)
	for time.Now().Before(deadline) {
		if st := procState(pid); st == "" || st == "Z" || st == "X" {
			_ = os.Remove(s.pidFile()) // gone already after a clean stop
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("an orphaned PostgreSQL (pid %d) on %s does not stop", pid, s.dataDir)
}

// pidFromFile reads the postmaster pid from the first line of its pid file.
func pidFromFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// pidFileStatus returns the status line ("starting", "ready", "stopping")
// of postmaster.pid when it belongs to pid.
func pidFileStatus(path string, pid int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 8 || strings.TrimSpace(lines[0]) != strconv.Itoa(pid) {
		return ""
	}
	return strings.TrimSpace(lines[7])
}

// procState returns the state letter of a process from /proc ("R", "S",
// "Z", …), or "" when there is no such process.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name is in parentheses and may contain spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	return lastLines(b, n)
}
