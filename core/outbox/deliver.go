package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crmhub/crmhub/core"
)

// ErrRejected marks a publish error as permanent: the stream will not take
// the event as it is, however often it is sent (the broker's
// MESSAGE_TOO_LARGE or INVALID_RECORD). Publishers wrap such errors with it.
var ErrRejected = errors.New("refused by the stream")

// Failures is the error a Publisher returns when only some events were
// accepted: one entry per event given, in order, nil where the event was
// accepted. Any other error from Publish means none may be counted as sent.
type Failures []error

func (f Failures) Error() string {
	n := 0
	first := error(nil)
	for _, err := range f {
		if err != nil {
			if n++; first == nil {
				first = err
			}
		}
	}
	return fmt.Sprintf("%d of %d event(s) not accepted: %v", n, len(f), first)
}

// outcome is what became of one event of a delivery.
type outcome struct {
	err       error // nil: accepted
	permanent bool
}

// results spreads Publish's error over the events it was given.
func results(n int, err error) []outcome {
	out := make([]outcome, n)
	if err == nil {
		return out
	}
	var f Failures
	if !errors.As(err, &f) || len(f) != n {
		for i := range out {
			out[i] = outcome{err: err, permanent: errors.Is(err, ErrRejected)}
		}
		return out
	}
	for i, e := range f {
		out[i] = outcome{err: e, permanent: e != nil && errors.Is(e, ErrRejected)}
	}
	return out
}

// recordKey names a record across entities.
func recordKey(e *core.Event) string { return e.Entity + "/" + e.EntityID }

// deliver publishes a batch until every event in it is either accepted or
// set aside as a dead letter, so that one event the stream refuses never
// stops the events behind it, and an accepted event is not sent again
// because another one failed. Per record the order holds: after a failure,
// a record's later events in the batch are sent again after it (a
// consumer may see a version twice, never an older one last), and the
// events of a record with a dead letter wait behind it as dead letters
// themselves.
func (r *Relay) deliver(ctx context.Context, events []core.Event, seqs []int64) error {
	pending, pseqs, err := r.holdBlocked(ctx, events, seqs)
	if err != nil || len(pending) == 0 {
		return err
	}
	for {
		err := r.pub.Publish(ctx, pending)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res := results(len(pending), err)
		redo, rseqs, permanent := again(pending, pseqs, res)
		if permanent {
			// Which of them the stream refuses, and which only shared a
			// refused request with one: each on its own.
			var ierr error
			if redo, rseqs, ierr = r.isolate(ctx, redo, rseqs); ierr != nil {
				return ierr
			}
			if len(redo) == 0 {
				return nil
			}
		}
		r.cfg.Logger.Warn("relay_publish_failed", "events", len(pending), "again", len(redo), "error", err)
		pending, pseqs = redo, rseqs
		if !sleep(ctx, r.cfg.RetryBackoff) {
			return ctx.Err()
		}
	}
}

// again returns the events to send again after a publish: every failed
// one and, per record, the record's events after its first failure;
// permanent tells whether any failure was a refusal.
func again(events []core.Event, seqs []int64, res []outcome) (redo []core.Event, rseqs []int64, permanent bool) {
	failed := map[string]bool{}
	for i := range events {
		k := recordKey(&events[i])
		if res[i].err != nil {
			failed[k] = true
			permanent = permanent || res[i].permanent
		}
		if failed[k] {
			redo, rseqs = append(redo, events[i]), append(rseqs, seqs[i])
		}
	}
	return redo, rseqs, permanent
}

// isolate publishes events one at a time, in order: one the stream refuses
// on its own becomes a dead letter and holds its record's later events
// behind it; one that fails for a passing reason is returned to be sent
// again, with its record's later events.
func (r *Relay) isolate(ctx context.Context, events []core.Event, seqs []int64) ([]core.Event, []int64, error) {
	var redo []core.Event
	var rseqs []int64
	waiting := map[string]bool{} // records with an event to send again
	for i := range events {
		e := &events[i]
		k := recordKey(e)
		if r.blocked[k] != "" {
			if err := r.deadLetter(ctx, e, seqs[i], "waits behind dead letter "+r.blocked[k], r.blocked[k]); err != nil {
				return nil, nil, err
			}
			continue
		}
		if waiting[k] {
			redo, rseqs = append(redo, *e), append(rseqs, seqs[i])
			continue
		}
		res := results(1, r.pub.Publish(ctx, events[i:i+1]))[0]
		switch {
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case res.err == nil:
		case res.permanent:
			if err := r.deadLetter(ctx, e, seqs[i], res.err.Error(), ""); err != nil {
				return nil, nil, err
			}
			r.blocked[k] = e.ID
		default:
			waiting[k] = true
			redo, rseqs = append(redo, *e), append(rseqs, seqs[i])
		}
	}
	return redo, rseqs, nil
}

// holdBlocked sets aside the events of records that have a dead letter
// and returns the others.
func (r *Relay) holdBlocked(ctx context.Context, events []core.Event, seqs []int64) ([]core.Event, []int64, error) {
	if len(r.blocked) == 0 {
		return events, seqs, nil
	}
	out, oseqs := events[:0:0], seqs[:0:0]
	for i := range events {
		if behind := r.blocked[recordKey(&events[i])]; behind != "" {
			if err := r.deadLetter(ctx, &events[i], seqs[i], "waits behind dead letter "+behind, behind); err != nil {
				return nil, nil, err
			}
			continue
		}
		out, oseqs = append(out, events[i]), append(oseqs, seqs[i])
	}
	return out, oseqs, nil
}

const deadLetterSQL = `INSERT INTO outbox_dead_letters (seq, id, type, entity, entity_id, entity_version, occurred_at,
	source, actor, correlation_id, data, changed, reason, held_behind)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	ON CONFLICT (seq) DO UPDATE SET reason = excluded.reason, held_behind = excluded.held_behind,
		attempts = outbox_dead_letters.attempts + 1, failed_at = now(), retry_requested_at = NULL`

// deadLetter sets an event aside with the reason it was not published.
func (r *Relay) deadLetter(ctx context.Context, e *core.Event, seq int64, reason, behind string) error {
	var held *string
	if behind != "" {
		held = &behind
	}
	reason = truncateReason(reason)
	if _, err := r.pool.Exec(ctx, deadLetterSQL, seq, e.ID, e.Type, e.Entity, e.EntityID, e.EntityVersion, e.OccurredAt,
		e.Source, e.Actor, e.CorrelationID, []byte(e.Data), e.Changed, reason, held); err != nil {
		return fmt.Errorf("set event %s aside: %w", e.ID, err)
	}
	r.cfg.Logger.Error("relay_dead_letter", "event", e.ID, "type", e.Type, "entity_id", e.EntityID,
		"version", e.EntityVersion, "size", len(e.Data), "reason", reason)
	if r.cfg.OnDeadLetter != nil {
		r.cfg.OnDeadLetter(e, behind != "")
	}
	return nil
}

// truncateReason keeps a refusal's reason printable and short.
func truncateReason(s string) string {
	if len(s) > 1000 {
		s = s[:1000]
	}
	return strings.ToValidUTF8(s, "?")
}
