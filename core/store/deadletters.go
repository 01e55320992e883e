package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// DeadLetter is a change event the stream refused for good, or one that
// waits behind such an event of its record (HeldBehind).
type DeadLetter struct {
	Seq            int64
	ID             string
	Type           string
	EntityID       string
	EntityVersion  int64
	OccurredAt     time.Time
	Size           int
	Reason         string
	HeldBehind     string
	Attempts       int
	FailedAt       time.Time
	RetryRequested bool
}

// DeadLetters lists the relay's dead letters, oldest first, at most limit.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, id::text, type, entity_id::text, entity_version, occurred_at,
		octet_length(data::text), reason, coalesce(held_behind::text, ''), attempts, failed_at, retry_requested_at IS NOT NULL
		FROM outbox_dead_letters ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		if err := rows.Scan(&d.Seq, &d.ID, &d.Type, &d.EntityID, &d.EntityVersion, &d.OccurredAt, &d.Size, &d.Reason,
			&d.HeldBehind, &d.Attempts, &d.FailedAt, &d.RetryRequested); err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		out = append(out, d)
	}
	return out, wrap("list dead letters", rows.Err())
}

// RetryDeadLetters asks the relay to publish again the dead letters of the
// records of the given event ids (every dead letter when ids is empty),
// and wakes it. A record's dead letters go again together and in order.
// It returns how many dead letters were marked.
func (s *Store) RetryDeadLetters(ctx context.Context, ids []string) (int64, error) {
	for _, id := range ids {
		if _, err := uuid.Parse(id); err != nil {
			return 0, core.Errorf(core.EINVALID, "dead letter %q: not an event id", id)
		}
	}
	if ids == nil {
		ids = []string{}
	}
	tag, err := s.pool.Exec(ctx, `UPDATE outbox_dead_letters SET retry_requested_at = now()
		WHERE cardinality($1::uuid[]) = 0 OR (entity, entity_id) IN (SELECT entity, entity_id FROM outbox_dead_letters WHERE id = ANY($1::uuid[]))`, ids)
	if err != nil {
		return 0, fmt.Errorf("retry dead letters: %w", err)
	}
	if tag.RowsAffected() == 0 && len(ids) > 0 {
		return 0, core.Errorf(core.ENOTFOUND, "no dead letter with id %v", ids)
	}
	s.notify.poke()
	return tag.RowsAffected(), nil
}

// RecordVersion returns a record as it was at version (from its change
// events, or the dead letters): what a reference event's data_ref serves.
// ENOTFOUND when that version is not kept (pruned by retention).
func (s *Store) RecordVersion(ctx context.Context, entity, id string, version int64) (json.RawMessage, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "%s not found", entity)
	}
	var data []byte
	err := s.db(ctx).QueryRow(ctx, `SELECT data FROM (
			SELECT seq, data FROM outbox WHERE entity_id = $1 AND entity_version = $3 AND entity = $2
			UNION ALL
			SELECT seq, data FROM outbox_dead_letters WHERE entity_id = $1 AND entity_version = $3 AND entity = $2
		) v ORDER BY seq DESC LIMIT 1`, id, entity, version).Scan(&data)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, core.Errorf(core.ENOTFOUND, "version %d of %s %s is not kept (the change stream's retention pruned it)", version, entity, id)
		}
		return nil, fmt.Errorf("read %s version: %w", entity, err)
	}
	return data, nil
}
