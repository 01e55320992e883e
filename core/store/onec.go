package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// oneCJobRetention is how long the 1C exchange log keeps a job.
const oneCJobRetention = 90 * 24 * time.Hour

// SaveOneCJob records a 1C exchange job's summary (data, JSON) in the
// exchange log; a finished job also prunes the jobs older than 90 days.
func (s *Store) SaveOneCJob(ctx context.Context, id, file, status string, started time.Time, finished *time.Time, data []byte) error {
	db := s.db(ctx)
	if _, err := db.Exec(ctx, `INSERT INTO onec_jobs (id, file, status, data, started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, data = EXCLUDED.data, finished_at = EXCLUDED.finished_at`,
		id, file, status, data, started, finished); err != nil {
		return wrap("save 1c job", err)
	}
	if finished == nil {
		return nil
	}
	_, err := db.Exec(ctx, `DELETE FROM onec_jobs WHERE started_at < $1`, s.now().Add(-oneCJobRetention))
	return wrap("save 1c job", err)
}

// OneCJob returns a job's summary as it was saved. Errors: ENOTFOUND.
func (s *Store) OneCJob(ctx context.Context, id string) ([]byte, error) {
	var data []byte
	err := s.db(ctx).QueryRow(ctx, `SELECT data FROM onec_jobs WHERE id = $1`, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "1C job not found")
	}
	return data, wrap("1c job", err)
}

// OneCJobs returns the newest jobs of the exchange log, at most limit.
func (s *Store) OneCJobs(ctx context.Context, limit int) ([][]byte, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT data FROM onec_jobs ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, wrap("1c jobs", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	return out, wrap("1c jobs", err)
}
