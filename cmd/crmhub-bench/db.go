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
	// As many connections as the hub's default (database.max_conns), not
	// pgxpool's (four on this machine).
	pcfg, err := pgxpool.ParseConfig(srv.URL())
	var pool *pgxpool.Pool
	if err == nil {
		pcfg.MaxConns = 32
		pool, err = pgxpool.NewWithConfig(ctx, pcfg)
	}
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

// seedLeads gives the CRM n existing leads (numbers +7903…, which no
// benchmark sends), each from a form submission, and fresh statistics, so that the benchmark measures a
// CRM with data rather than the plans of empty tables.
func (db *benchDB) seedLeads(ctx context.Context, n int) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO leads (id, owner_id, created_at, updated_at, version, last_name, company, phone, source)
		SELECT gen_random_uuid(), (SELECT id FROM users ORDER BY created_at LIMIT 1), now(), now(), 1, 'Лид ' || i, 'ООО Старое',
			'+7903' || lpad(i::text, 7, '0'), 'web_site'
		FROM generate_series(1, $1::int) i`, n)
	if err == nil { // they came from a form
		_, err = db.pool.Exec(ctx, `INSERT INTO webform_submissions (form, submission_key, entity, record_id, created, received_at)
			SELECT 'old', 'tranid:' || id, 'lead', id, true, created_at FROM leads`)
	}
	if err == nil {
		_, err = db.pool.Exec(ctx, "ANALYZE")
	}
	return err
}
