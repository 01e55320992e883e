package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmhub/crmhub/core/pgembed"
)

// database is an open pool and, with the embedded cluster, its server.
type database struct {
	pool *pgxpool.Pool
	srv  *pgembed.Server // nil with database.url or when attached to serve's
}

// openDatabase connects to database.url, or starts the embedded cluster.
// With attach, a cluster already run by `serve` is used through its socket
// (for the CLI commands); without it, that is an error.
func openDatabase(ctx context.Context, cfg Config, log *slog.Logger, attach bool) (*database, error) {
	db := &database{}
	url := cfg.Database.URL
	if url == "" {
		dir := filepath.Join(cfg.DataDir, "pg")
		e := cfg.Database.Embedded
		srv, err := pgembed.Start(ctx, pgembed.Config{Dir: dir, Port: e.Port, Listen: e.Listen,
			Durable: e.Durable, OSUser: e.OSUser, Logger: log})
		switch {
		case err == nil:
			db.srv, url = srv, srv.URL()
		case errors.Is(err, pgembed.ErrLocked) && attach:
			if url, err = pgembed.Attach(dir, e.Port, ""); err != nil {
				return nil, err
			}
		case errors.Is(err, pgembed.ErrLocked):
			return nil, fmt.Errorf("the embedded PostgreSQL in %s is in use by another crmhub process", dir)
		default:
			return nil, err
		}
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		db.close(ctx, log)
		return nil, fmt.Errorf("database.url: %w", err)
	}
	pcfg.MaxConns = int32(cfg.Database.MaxConns)
	if pcfg.ConnConfig.ConnectTimeout == 0 {
		// While PostgreSQL is out of reach, a request fails soon (503,
		// Retry-After) instead of waiting on a connect.
		pcfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pcfg.ConnConfig.RuntimeParams["application_name"] = "crmhub"
	pcfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if db.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err == nil {
		err = db.pool.Ping(ctx)
	}
	if err != nil {
		db.close(ctx, log)
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return db, nil
}

// close closes the pool and stops the embedded cluster if we started it.
func (db *database) close(ctx context.Context, log *slog.Logger) {
	if db.pool != nil {
		db.pool.Close()
	}
	if db.srv != nil {
		if err := db.srv.Stop(context.WithoutCancel(ctx)); err != nil {
			log.Error("pg_stop", "error", err)
		}
	}
}

// lockDataDir takes the hub's lock on data_dir, so that a second `serve` on
// the same folder refuses instead of sharing it.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	path := filepath.Join(dir, "serve.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		pid, _ := os.ReadFile(path)
		return nil, fmt.Errorf("another crmhub serve (pid %s) is running with data_dir %s: stop it first or use another data_dir", strings.TrimSpace(string(pid)), dir)
	}
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	return f, nil
}
