package outbox

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// loadBlocked reads which records have dead letters (the previous
// leader's, after a hand-over or a restart).
func (r *Relay) loadBlocked(ctx context.Context, conn *pgx.Conn) error {
	r.blocked = map[string]string{}
	rows, err := conn.Query(ctx, `SELECT DISTINCT ON (entity, entity_id) entity, entity_id::text, id::text
		FROM outbox_dead_letters ORDER BY entity, entity_id, seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var entity, id, first string
		if err := rows.Scan(&entity, &id, &first); err != nil {
			return err
		}
		r.blocked[entity+"/"+id] = first
	}
	return rows.Err()
}

// retryDeadLetters publishes again, in order, the dead letters of every
// record one of whose dead letters was asked to be retried. A published one
// is deleted; the first one refused again stays (its attempts counted),
// with its record's later ones behind it. It runs while no batch is in
// flight, before the events read after the dead letters.
func (r *Relay) retryDeadLetters(ctx context.Context) error {
	rows, err := r.pool.Query(ctx, `SELECT seq, `+deadLetterColumns+` FROM outbox_dead_letters d
		WHERE (entity, entity_id) IN (SELECT entity, entity_id FROM outbox_dead_letters WHERE retry_requested_at IS NOT NULL)
		ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("read dead letters to retry: %w", err)
	}
	type letter struct {
		seq int64
		ev  core.Event
	}
	var order []string
	byRecord := map[string][]letter{}
	for rows.Next() {
		var l letter
		var data []byte
		e := &l.ev
		if err := rows.Scan(&l.seq, &e.ID, &e.Type, &e.Entity, &e.EntityID, &e.EntityVersion, &e.OccurredAt, &e.Source,
			&e.Actor, &e.CorrelationID, &data, &e.Changed); err != nil {
			rows.Close()
			return fmt.Errorf("read dead letters to retry: %w", err)
		}
		e.Data = data
		e.OccurredAt = e.OccurredAt.UTC()
		k := recordKey(e)
		if byRecord[k] == nil {
			order = append(order, k)
		}
		byRecord[k] = append(byRecord[k], l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read dead letters to retry: %w", err)
	}
	for _, k := range order {
		letters := byRecord[k]
		sent := 0
		var failure error
		for ; sent < len(letters); sent++ {
			if failure = r.pub.Publish(ctx, []core.Event{letters[sent].ev}); failure != nil {
				break
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		seqs := make([]int64, sent)
		for i := range seqs {
			seqs[i] = letters[i].seq
		}
		if _, err := r.pool.Exec(ctx, `DELETE FROM outbox_dead_letters WHERE seq = ANY($1)`, seqs); err != nil {
			return fmt.Errorf("drop published dead letters: %w", err)
		}
		if sent > 0 {
			published := make([]core.Event, sent)
			for i := range published {
				published[i] = letters[i].ev
			}
			r.published(&batch{events: published})
		}
		if failure == nil {
			delete(r.blocked, k)
			r.cfg.Logger.Info("relay_dead_letters_published", "record", k, "events", sent)
			continue
		}
		// The first one left leads; the rest wait behind it.
		first := letters[sent].ev.ID
		rest := make([]int64, 0, len(letters)-sent)
		for _, l := range letters[sent:] {
			rest = append(rest, l.seq)
		}
		if _, err := r.pool.Exec(ctx, `UPDATE outbox_dead_letters SET retry_requested_at = NULL,
			attempts = attempts + CASE WHEN seq = $2 THEN 1 ELSE 0 END,
			failed_at = CASE WHEN seq = $2 THEN now() ELSE failed_at END,
			reason = CASE WHEN seq = $2 THEN $3 ELSE 'waits behind dead letter ' || $4 END,
			held_behind = CASE WHEN seq = $2 THEN NULL ELSE $4::uuid END
			WHERE seq = ANY($1)`, rest, letters[sent].seq, truncateReason(failure.Error()), first); err != nil {
			return fmt.Errorf("keep dead letters: %w", err)
		}
		r.blocked[k] = first
		r.cfg.Logger.Warn("relay_dead_letter_retry_failed", "record", k, "published", sent, "event", first, "error", failure)
	}
	return nil
}

const deadLetterColumns = `id::text, type, entity, entity_id::text, entity_version, occurred_at, source,
	actor, correlation_id, data, coalesce(changed, '{}')`
