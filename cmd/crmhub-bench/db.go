package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmhub/crmhub/core/pgembed"
	"github.com/crmhub/crmhub/core/store"
)

// benchDB is a migrated database on an embedded cluster of its own in a
// temporary folder; close removes everything.
type benchDB struct {
	dir   string
	pool  *pgxpool.Pool
	close func()
}

func newBenchDB(ctx context.Context, name string, cfg pgembed.Config) (*benchDB, error) {
	dir, err := os.MkdirTemp("", "crmhub-"+name+"-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*benchDB, error) { os.RemoveAll(dir); return nil, err }
	if err := os.Chmod(dir, 0o755); err != nil { // the postgres user must reach it
		return fail(err)
	}
	cfg.Dir, cfg.Logger = filepath.Join(dir, "pg"), slog.New(slog.DiscardHandler)
	srv, err := pgembed.Start(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	pool, err := pgxpool.New(ctx, srv.URL())
	if err == nil {
		_, err = store.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	}
	closeAll := func() {
		if pool != nil {
			pool.Close()
		}
		_ = srv.Stop(context.WithoutCancel(ctx))
		os.RemoveAll(dir)
	}
	if err != nil {
		closeAll()
		return nil, err
	}
	return &benchDB{dir: dir, pool: pool, close: closeAll}, nil
}
