package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmhub/crmhub/core"
)

var _ core.LoginFailures = (*Store)(nil)

// UpdateLoginFailures implements core.LoginFailures: the keys' rows are
// made if missing and locked in key order, so concurrent attempts on the
// same keys (from any replica) queue rather than count the same state.
func (s *Store) UpdateLoginFailures(ctx context.Context, keys []string, fn func([]core.LoginFailure) []core.LoginFailure) error {
	sorted := slices.Compact(slices.Sorted(slices.Values(keys)))
	var err error
	for range 3 {
		err = s.inTx(ctx, func(tx pgx.Tx) error { return updateLoginFailures(ctx, tx, keys, sorted, fn) })
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "40P01" {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("update login failures: %w", err)
	}
	return nil
}

func updateLoginFailures(ctx context.Context, tx pgx.Tx, keys, sorted []string, fn func([]core.LoginFailure) []core.LoginFailure) error {
	if _, err := tx.Exec(ctx, `INSERT INTO login_failures (key, count, last_at)
		SELECT k, 0, 'epoch' FROM unnest($1::text[]) k ORDER BY k ON CONFLICT (key) DO NOTHING`, sorted); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT key, count, last_at FROM login_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE`, sorted)
	if err != nil {
		return err
	}
	stored := map[string]core.LoginFailure{}
	for rows.Next() {
		var k string
		var r core.LoginFailure
		if err := rows.Scan(&k, &r.Count, &r.Last); err != nil {
			rows.Close()
			return err
		}
		if r.Count > 0 {
			stored[k] = r
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	recs := make([]core.LoginFailure, len(keys))
	for i, k := range keys {
		recs[i] = stored[k]
	}
	out := fn(recs)
	counts, lasts := make([]int32, len(keys)), make([]time.Time, len(keys))
	for i, r := range out {
		counts[i], lasts[i] = int32(max(r.Count, 0)), r.Last
		if r.Count <= 0 {
			lasts[i] = time.Unix(0, 0)
		}
	}
	_, err = tx.Exec(ctx, `WITH v (key, count, last_at) AS (SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[])),
		gone AS (DELETE FROM login_failures f USING v WHERE f.key = v.key AND v.count = 0)
		UPDATE login_failures f SET count = v.count, last_at = v.last_at FROM v WHERE f.key = v.key AND v.count > 0`,
		keys, counts, lasts)
	return err
}

// PruneLoginFailures implements core.LoginFailures.
func (s *Store) PruneLoginFailures(ctx context.Context, prefix string, before time.Time) (int64, error) {
	tag, err := s.db(ctx).Exec(ctx, `DELETE FROM login_failures WHERE starts_with(key, $1) AND last_at < $2`, prefix, before)
	if err != nil {
		return 0, fmt.Errorf("prune login failures: %w", err)
	}
	return tag.RowsAffected(), nil
}
