// Package pgembed runs a private PostgreSQL cluster for crmhub when no
// database URL is configured: it finds the local initdb and pg_ctl, creates
// the cluster on first start, starts it on a Unix socket inside its folder,
// restarts it (with backoff) when it dies, and stops it cleanly.
//
// PostgreSQL refuses to run as root. When the hub runs as root, initdb and
// pg_ctl run as an unprivileged OS user (the "postgres" user that Debian's
// package creates) and the cluster's folders belong to that user.
package pgembed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrLocked is returned by Start when another process manages the cluster.
var ErrLocked = errors.New("the embedded PostgreSQL cluster is in use by another crmhub process")

// Config configures an embedded cluster.
type Config struct {
	// Dir is the cluster's folder; it holds data/, run/ (the socket), log/
	// and a lock file. Required.
	Dir string
	// Port is the port number in the socket's name and, when Listen is set,
	// the TCP port on 127.0.0.1. Default 5432.
	Port int
	// Listen also opens Port on 127.0.0.1 (password auth) besides the socket.
	Listen bool
	// Database is created on first start. Default "crmhub".
	Database string
	// OSUser runs the server when the process is root. Default "postgres".
	OSUser string
	// Durable keeps fsync on. Tests turn it off for speed.
	Durable bool
	// Settings are extra postgresql.conf settings.
	Settings map[string]string
	// StartTimeout bounds start and stop. Default 60 s.
	StartTimeout time.Duration
	// RestartBackoff is the wait before restarting a postmaster that died;
	// it doubles after each failed restart, up to MaxRestartBackoff.
	// Defaults 500 ms and 30 s.
	RestartBackoff, MaxRestartBackoff time.Duration
	Logger                            *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Port == 0 {
		c.Port = 5432
	}
	if c.Database == "" {
		c.Database = "crmhub"
	}
	if c.OSUser == "" {
		c.OSUser = "postgres"
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 60 * time.Second
	}
	if c.RestartBackoff <= 0 {
		c.RestartBackoff = 500 * time.Millisecond
	}
	if c.MaxRestartBackoff < c.RestartBackoff {
		c.MaxRestartBackoff = max(30*time.Second, c.RestartBackoff)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server is a running embedded cluster. A supervisor watches its
// postmaster from Start to Stop and restarts it when it dies.
type Server struct {
	cfg Config

	mu       sync.Mutex
	proc     *exec.Cmd     // the postmaster, our child
	exited   chan struct{} // closed when proc has been reaped
	up       bool          // proc is the running postmaster
	restarts int64         // postmasters restarted after dying

	halt     chan struct{} // closed by Stop: the supervisor ends
	halted   chan struct{} // closed when it has
	haltOnce sync.Once
	bin      string
	cred     *syscall.Credential // nil when not root
	lock     *os.File
	dataDir  string
	sockDir  string
}

// superuser is the cluster's bootstrap role; trust auth on the socket.
const superuser = "crmhub"

// Start creates the cluster if needed and starts it. It fails with ErrLocked
// when another process holds the cluster's lock.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.Dir == "" {
		return nil, errors.New("pgembed: Dir is required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	s := &Server{cfg: cfg, dataDir: filepath.Join(dir, "data"), sockDir: filepath.Join(dir, "run")}
	if len(s.socketPath()) > 100 {
		return nil, fmt.Errorf("pgembed: the socket path %s is too long for a Unix socket: use a shorter data_dir or set database.url", s.socketPath())
	}
	if s.bin, err = FindBinaries(); err != nil {
		return nil, err
	}
	if s.cred, err = credential(cfg.OSUser); err != nil {
		return nil, err
	}
	if err := s.prepareDirs(); err != nil {
		return nil, err
	}
	if s.lock, err = lockFile(filepath.Join(dir, "crmhub.lock")); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		s.unlock()
		return nil, err
	}
	s.halt, s.halted = make(chan struct{}), make(chan struct{})
	go s.supervise()
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	log := s.cfg.Logger
	if _, err := os.Stat(filepath.Join(s.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("pg_initdb", "dir", s.dataDir)
		if err := s.initdb(ctx); err != nil {
			return err
		}
	} else if err := s.checkVersion(); err != nil {
		return err
	}
	if err := s.writeConf(); err != nil {
		return err
	}
	// We hold the lock, so a server still running here was orphaned by a
	// crashed hub: stop it before starting our own.
	if err := s.clearOrphan(ctx); err != nil {
		return err
	}
	// After a crash the old server's backends may hold its shared memory for
	// a moment after the postmaster died: retry a few times before giving up.
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		if err = s.startPostmaster(ctx); err == nil {
			break
		}
		log.Warn("pg_start_retry", "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("start embedded PostgreSQL (see %s): %w", s.logPath(), err)
	}
	log.Info("pg_started", "socket", s.socketPath())
	return s.createDatabase(ctx)
}

// Stop ends the supervision, stops the cluster (fast shutdown: clients are
// disconnected, then a checkpoint) and releases the lock. It is safe to
// call more than once.
func (s *Server) Stop(ctx context.Context) error {
	if s.lock == nil {
		return nil
	}
	defer s.unlock()
	s.haltOnce.Do(func() {
		close(s.halt)
		<-s.halted
	})
	if err := s.stopPostmaster(ctx); err != nil {
		return fmt.Errorf("stop embedded PostgreSQL: %w", err)
	}
	s.cfg.Logger.Info("pg_stopped", "dir", s.dataDir)
	return nil
}

// URL returns the connection string of the cluster's database.
func (s *Server) URL() string { return socketURL(s.sockDir, s.cfg.Port, s.cfg.Database) }

// AdminURL returns the connection string of the maintenance database.
func (s *Server) AdminURL() string { return socketURL(s.sockDir, s.cfg.Port, "postgres") }

// Dir returns the cluster's folder.
func (s *Server) Dir() string { return s.cfg.Dir }

// Attach returns the URL of a cluster that another process started in dir,
// when its server is running. It lets CLI commands work beside `serve`.
func Attach(dir string, port int, database string) (string, error) {
	if port == 0 {
		port = 5432
	}
	if database == "" {
		database = "crmhub"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	sock := filepath.Join(abs, "run")
	if _, err := os.Stat(filepath.Join(sock, ".s.PGSQL."+strconv.Itoa(port))); err != nil {
		return "", fmt.Errorf("the embedded PostgreSQL in %s is locked by another process but its socket is missing: %w", abs, err)
	}
	return socketURL(sock, port, database), nil
}

func socketURL(sockDir string, port int, db string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable", superuser, db, sockDir, port)
}

func (s *Server) socketPath() string {
	return filepath.Join(s.sockDir, ".s.PGSQL."+strconv.Itoa(s.cfg.Port))
}

func (s *Server) unlock() {
	if s.lock != nil {
		_ = s.lock.Close() // closing releases the flock
		s.lock = nil
	}
}

// FindBinaries returns the folder holding initdb and pg_ctl: from PATH, else
// the newest /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(p)
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dir = filepath.Dir(real)
		}
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install them (Debian: apt-get install postgresql) or set database.url (CRMHUB_DATABASE_URL) to an existing database")
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// credential returns the OS user to run PostgreSQL as when we are root.
func credential(name string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, but PostgreSQL refuses to run as root and there is no %q user to run it as: install PostgreSQL (it creates that user), run crmhub as another user, or set database.url", name)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// FormatSettings renders postgresql.conf lines, quoting every value.
func FormatSettings(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(m[k], "'", "''"))
	}
	return b.String()
}
