package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// Do implements core.Idempotency. The key row is inserted first, inside the
// request's transaction: a concurrent request with the same key blocks on
// it until this one commits (then replays) or rolls back (then runs).
func (s *Store) Do(ctx context.Context, req core.IdempotentRequest,
	fn func(ctx context.Context) (core.StoredResponse, bool, error)) (core.StoredResponse, bool, error) {
	var resp core.StoredResponse
	replayed := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (owner, key, fingerprint, expires_at)
			VALUES ($1, $2, $3, now() + $4::interval)
			ON CONFLICT (owner, key) DO UPDATE
				SET fingerprint = excluded.fingerprint, status = 0, content_type = '', location = '', body = '',
				    created_at = now(), expires_at = excluded.expires_at
				WHERE idempotency_keys.expires_at < now()`,
			req.Owner, req.Key, req.Fingerprint, fmt.Sprintf("%d seconds", int(core.IdempotencyTTL.Seconds())))
		if err != nil {
			return fmt.Errorf("idempotency key: %w", err)
		}
		if tag.RowsAffected() == 0 {
			replayed = true
			return s.replay(ctx, tx, req, &resp)
		}
		r, keep, err := fn(withTx(ctx, tx))
		if err != nil {
			return err
		}
		if !keep {
			resp = r
			return errDiscard
		}
		resp = r
		_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET status = $3, content_type = $4, location = $5, body = $6
			WHERE owner = $1 AND key = $2`, req.Owner, req.Key, r.Status, r.ContentType, r.Location, r.Body)
		return wrap("save idempotent response", err)
	})
	if err == errDiscard {
		return resp, false, nil
	}
	return resp, replayed, err
}

// errDiscard rolls back a request whose response is not to be remembered.
var errDiscard = fmt.Errorf("discard")

func (s *Store) replay(ctx context.Context, tx pgx.Tx, req core.IdempotentRequest, resp *core.StoredResponse) error {
	var fp []byte
	err := tx.QueryRow(ctx, `SELECT fingerprint, status, content_type, location, body FROM idempotency_keys
		WHERE owner = $1 AND key = $2`, req.Owner, req.Key).
		Scan(&fp, &resp.Status, &resp.ContentType, &resp.Location, &resp.Body)
	if err != nil {
		return fmt.Errorf("idempotency replay: %w", err)
	}
	if !bytes.Equal(fp, req.Fingerprint) {
		return core.Errorf(core.ECONFLICT, "this Idempotency-Key was used for a different request")
	}
	return nil
}

// PruneIdempotencyKeys deletes expired keys and returns how many.
func (s *Store) PruneIdempotencyKeys(ctx context.Context) (int64, error) {
	tag, err := s.db(ctx).Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at < now()`)
	return tag.RowsAffected(), wrap("prune idempotency keys", err)
}

// OutboxBacklog returns the number of events not yet published.
func (s *Store) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	err := s.db(ctx).QueryRow(ctx, `SELECT count(*) FROM outbox_pending`).Scan(&n)
	return n, wrap("outbox backlog", err)
}
