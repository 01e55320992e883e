package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClaimCall binds a provider's claim (what one of its notifications
// signed) to value (the call it belongs to) until expires, unless the
// claim is bound already and not expired at now; it returns the value the
// claim is bound to. Concurrent claims of one key agree on one value.
// Outside a transaction the insert shares a commit with concurrent writes
// (the store's group commit): a claim is made for every notification.
func (s *Store) ClaimCall(ctx context.Context, provider, claim, value string, now, expires time.Time) (string, error) {
	stmt := queuedStmt{`INSERT INTO call_claims AS c (provider, claim, value, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (provider, claim) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
			WHERE c.expires_at <= $5`, []any{provider, claim, value, expires, now}}
	db := s.db(ctx)
	var err error
	var n int64
	if _, inTx := db.(pgx.Tx); inTx {
		tag, e := db.Exec(ctx, stmt.sql, stmt.args...)
		n, err = tag.RowsAffected(), e
	} else if tags, e := s.batch.exec(ctx, []queuedStmt{stmt}); e == nil {
		n = tags[0].RowsAffected()
	} else {
		err = e
	}
	if err != nil {
		return "", fmt.Errorf("claim call %s: %w", provider, err)
	}
	if n == 1 {
		return value, nil // bound now
	}
	// Bound and current: the insert waited for the binding to commit.
	var bound string
	if err := db.QueryRow(ctx, `SELECT value FROM call_claims WHERE provider = $1 AND claim = $2`, provider, claim).Scan(&bound); err != nil {
		return "", fmt.Errorf("claim call %s: %w", provider, err)
	}
	return bound, nil
}

// PruneCallClaims deletes the claims expired before before and says how
// many.
func (s *Store) PruneCallClaims(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.db(ctx).Exec(ctx, `DELETE FROM call_claims WHERE expires_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune call claims: %w", err)
	}
	return tag.RowsAffected(), nil
}
