package pgembed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// prepareDirs creates the cluster's folders, owned by the server's OS user,
// and checks that user can reach them.
func (s *Server) prepareDirs() error {
	if err := os.MkdirAll(s.cfg.Dir, 0o755); err != nil {
		return err
	}
	for _, d := range []string{s.dataDir, s.sockDir, filepath.Join(s.cfg.Dir, "log")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
		if err := s.chown(d); err != nil {
			return err
		}
	}
	if s.cred == nil {
		return nil
	}
	// The server user must be able to walk down to its folder.
	for p := s.cfg.Dir; p != "/"; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 && !ownedBy(fi, s.cred.Uid) {
			return fmt.Errorf("the %q user that runs the embedded PostgreSQL cannot enter %s (mode %v): choose a data_dir outside it, or chmod o+x it", s.cfg.OSUser, p, fi.Mode().Perm())
		}
	}
	return nil
}

func (s *Server) chown(path string) error {
	if s.cred == nil {
		return nil
	}
	return os.Chown(path, int(s.cred.Uid), int(s.cred.Gid))
}

func (s *Server) initdb(ctx context.Context) error {
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	pwFile := filepath.Join(s.cfg.Dir, "superuser.password")
	if err := os.WriteFile(pwFile, []byte(hex.EncodeToString(pw)+"\n"), 0o600); err != nil {
		return err
	}
	if err := s.chown(pwFile); err != nil {
		return err
	}
	args := []string{"-D", s.dataDir, "-U", superuser, "--pwfile", pwFile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"}
	if !s.cfg.Durable {
		args = append(args, "--no-sync")
	}
	if out, err := s.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, lastLines(out, 5))
	}
	conf := filepath.Join(s.dataDir, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("\n# crmhub: settings managed by the hub\ninclude_if_exists = 'crmhub.conf'\n")
	return err
}

// writeConf writes the settings the hub manages; they take effect at start.
func (s *Server) writeConf() error {
	set := map[string]string{
		"unix_socket_directories": s.sockDir,
		"unix_socket_permissions": "0700",
		"port":                    strconv.Itoa(s.cfg.Port),
		"listen_addresses":        "",
		"max_connections":         "200",
		"shared_buffers":          "128MB",
		"logging_collector":       "off",
		"fsync":                   "on",
		"full_page_writes":        "on",
		// Bursts of writes (imports, call storms) fill the default 1 GB of
		// WAL in well under a minute, and each forced checkpoint shows as a
		// p99 spike: let checkpoints run on their 5-minute timer instead.
		"max_wal_size": "2GB",
		"min_wal_size": "256MB",
		// A private cluster has no standbys and no WAL archive: the WAL
		// carries crash recovery only, and a table built and filled in
		// one transaction (the address register's regions) is written
		// once, to its files, not again to the WAL. Settings may raise it
		// for a standby.
		"wal_level":       "minimal",
		"max_wal_senders": "0",
	}
	if s.cfg.Listen {
		set["listen_addresses"] = "127.0.0.1"
	}
	if !s.cfg.Durable {
		set["fsync"] = "off"
		set["synchronous_commit"] = "off"
		set["full_page_writes"] = "off"
	}
	for k, v := range s.cfg.Settings {
		set[k] = v
	}
	path := filepath.Join(s.dataDir, "crmhub.conf")
	if err := os.WriteFile(path, []byte(FormatSettings(set)), 0o600); err != nil {
		return err
	}
	return s.chown(path)
}

func (s *Server) checkVersion() error {
	b, err := os.ReadFile(filepath.Join(s.dataDir, "PG_VERSION"))
	if err != nil {
		return err
	}
	have := strings.TrimSpace(string(b))
	if want := filepath.Base(filepath.Dir(s.bin)); isNumber(want) && want != have {
		return fmt.Errorf("the embedded cluster in %s was created by PostgreSQL %s but the binaries found are %s (%s): install PostgreSQL %s or move the folder away", s.dataDir, have, want, s.bin, have)
	}
	return nil
}

func (s *Server) createDatabase(ctx context.Context) error {
	out, err := s.run(ctx, "psql", "-X", "-q", "-t", "-A", "-h", s.sockDir, "-p", strconv.Itoa(s.cfg.Port),
		"-U", superuser, "-d", "postgres", "-c",
		fmt.Sprintf("SELECT 1 FROM pg_database WHERE datname = '%s'", s.cfg.Database))
	if err != nil {
		return fmt.Errorf("query databases: %w: %s", err, lastLines(out, 3))
	}
	if strings.TrimSpace(string(out)) == "1" {
		return nil
	}
	if out, err := s.run(ctx, "createdb", "-h", s.sockDir, "-p", strconv.Itoa(s.cfg.Port), "-U", superuser, s.cfg.Database); err != nil {
		return fmt.Errorf("createdb %s: %w: %s", s.cfg.Database, err, lastLines(out, 3))
	}
	return nil
}

// env is the environment of the PostgreSQL programs.
func (s *Server) env() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TZ=UTC", "PGTZ=UTC"}
	if s.cred != nil {
		env = append(env, "HOME="+s.cfg.Dir)
	}
	return env
}

// run runs one of the PostgreSQL programs as the server's OS user.
func (s *Server) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	if _, err := os.Stat(path); err != nil {
		if p, err := exec.LookPath(prog); err == nil {
			path = p
		}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = s.cfg.Dir
	cmd.Env = s.env()
	if s.cred != nil {
		cmd.SysProcAttr = &syscallProcAttr{Credential: s.cred}
	}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%s timed out: %w", prog, err)
	}
	return buf.Bytes(), err
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}
