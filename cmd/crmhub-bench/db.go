package main

import (
	"context"
	"fmt"
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
	cfg.Dir = filepath.Join(dir, "pg")
	cfg.Logger = slog.New(slog.DiscardHandler)
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

// seedCalls gives each seeded lead (seedLeads) an earlier incoming call,
// logged as an activity, and fresh statistics: the call and activity
// tables hold data when a telephony benchmark starts, as in a CRM in use
// (empty tables' statistics make PostgreSQL plan scans that a minute of
// growth turns slow, a cost no CRM in use pays).
func (db *benchDB) seedCalls(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, `
		WITH l AS (SELECT id, owner_id, phone, row_number() OVER (ORDER BY id) n FROM leads),
		a AS (INSERT INTO activities (id, kind, subject, status, start_at, end_at, lead_id, owner_id, created_at, updated_at, version)
			SELECT gen_random_uuid(), 'call', 'Входящий звонок ' || phone, 'held', now() - interval '30 days', now() - interval '30 days',
				id, owner_id, now() - interval '30 days', now() - interval '30 days', 1 FROM l
			RETURNING id, lead_id)
		INSERT INTO calls (id, provider, provider_call_id, direction, from_number, client_number, started_at, ended_at, duration,
			disposition, final, lead_id, activity_id, owner_id, created_at, updated_at, version)
		SELECT gen_random_uuid(), 'zadarma', 'seed_' || l.n, 'in', l.phone, l.phone, now() - interval '30 days',
			now() - interval '30 days', 60, 'answered', true, l.id, a.id, l.owner_id, now() - interval '30 days',
			now() - interval '30 days', 1
		FROM l JOIN a ON a.lead_id = l.id`)
	if err == nil {
		_, err = db.pool.Exec(ctx, "ANALYZE")
	}
	return err
}

// printStatements prints the n statements PostgreSQL spent most time
// executing (the cluster must preload pg_stat_statements).
func (db *benchDB) printStatements(ctx context.Context, n int) error {
	if _, err := db.pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, `SELECT calls, total_exec_time, mean_exec_time, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1`, n)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Printf("%9s %9s %8s  statement (by total execution time)\n", "calls", "total ms", "mean ms")
	for rows.Next() {
		var calls int64
		var total, mean float64
		var q string
		if err := rows.Scan(&calls, &total, &mean, &q); err != nil {
			return err
		}
		fmt.Printf("%9d %9.0f %8.3f  %s\n", calls, total, mean, q)
	}
	return rows.Err()
}
