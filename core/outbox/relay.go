package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmhub/crmhub/core"
)

// Publisher delivers events to the stream. Publish returns only when every
// event is durably accepted (or with an error, when none may be counted as
// sent); events of one record must keep their order.
type Publisher interface {
	Publish(ctx context.Context, events []core.Event) error
}

// RelayConfig configures the relay.
type RelayConfig struct {
	// BatchSize is the most events published at once. Default 1000.
	BatchSize int
	// PollInterval is how often the outbox is checked without a wake-up
	// (LISTEN/NOTIFY is the fast path). Default 1 s.
	PollInterval time.Duration
	// Retention is how long published events are kept (record history is
	// read from them). Zero keeps them forever.
	Retention time.Duration
	// RetryBackoff bounds the wait between failed publishes. Default 5 s.
	RetryBackoff time.Duration
	// OnPublished, when set, is told of every batch published and marked
	// (metrics).
	OnPublished func(events []core.Event)
	Logger      *slog.Logger
}

func (c *RelayConfig) setDefaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// relayLockKey makes one hub instance the relay at a time.
const relayLockKey = 0x63726d6875620010

// Relay drains the outbox to a Publisher in outbox order, marking what was
// published. It is at-least-once: a crash between publishing and marking
// sends those events again, with the same ids.
type Relay struct {
	cfg  RelayConfig
	pool *pgxpool.Pool
	pub  Publisher
}

// NewRelay returns a relay; Run starts it.
func NewRelay(cfg RelayConfig, pool *pgxpool.Pool, pub Publisher) *Relay {
	cfg.setDefaults()
	return &Relay{cfg: cfg, pool: pool, pub: pub}
}

// Run relays until ctx ends. Several hub instances may run it: the one
// holding the advisory lock relays, the others wait to take over.
func (r *Relay) Run(ctx context.Context) error {
	log := r.cfg.Logger
	for {
		err := r.lead(ctx)
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("relay_restart", "error", err)
		if !sleep(ctx, r.cfg.RetryBackoff) {
			return nil
		}
	}
}

// lead takes the relay lock on a connection of its own (taken out of the
// pool: it LISTENs, and the lock lives as long as its session) and relays
// while it holds it. Closing the connection ends both.
func (r *Relay) lead(ctx context.Context) error {
	pc, err := r.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(relayLockKey)).Scan(&got); err != nil {
			return err
		}
		if got {
			break
		}
		if !sleep(ctx, r.cfg.PollInterval) {
			return ctx.Err()
		}
	}
	if _, err := conn.Exec(ctx, "LISTEN crmhub_outbox"); err != nil {
		return err
	}
	r.cfg.Logger.Info("relay_leading")
	lastPrune := time.Time{}
	for {
		n, err := r.relayBatch(ctx, conn)
		if err != nil {
			r.cfg.Logger.Warn("relay_publish_failed", "error", err)
			if !sleep(ctx, r.cfg.RetryBackoff) {
				return ctx.Err()
			}
			continue
		}
		if r.cfg.Retention > 0 && time.Since(lastPrune) > time.Minute {
			if err := r.prune(ctx); err != nil {
				r.cfg.Logger.Warn("relay_prune_failed", "error", err)
			}
			lastPrune = time.Now()
		}
		if n == r.cfg.BatchSize {
			continue // a backlog: no waiting
		}
		wctx, cancel := context.WithTimeout(ctx, r.cfg.PollInterval)
		_, err = conn.WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("wait for outbox: %w", err)
		}
	}
}

// relayBatch publishes the oldest unpublished events and marks them.
func (r *Relay) relayBatch(ctx context.Context, conn *pgx.Conn) (int, error) {
	rows, err := conn.Query(ctx, `SELECT seq, id::text, type, entity, entity_id::text, entity_version, occurred_at, source,
		actor, correlation_id, data, coalesce(changed, '{}') FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1`, r.cfg.BatchSize)
	if err != nil {
		return 0, err
	}
	var seqs []int64
	var events []core.Event
	for rows.Next() {
		var seq int64
		var e core.Event
		var data []byte
		if err := rows.Scan(&seq, &e.ID, &e.Type, &e.Entity, &e.EntityID, &e.EntityVersion, &e.OccurredAt, &e.Source,
			&e.Actor, &e.CorrelationID, &data, &e.Changed); err != nil {
			rows.Close()
			return 0, err
		}
		e.Data, e.OccurredAt = data, e.OccurredAt.UTC()
		seqs, events = append(seqs, seq), append(events, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(events) == 0 {
		return 0, err
	}
	if err := r.pub.Publish(ctx, events); err != nil {
		return 0, err
	}
	if _, err := conn.Exec(ctx, `UPDATE outbox SET published_at = now() WHERE seq = ANY($1)`, seqs); err != nil {
		return 0, fmt.Errorf("mark published: %w", err)
	}
	if r.cfg.OnPublished != nil {
		r.cfg.OnPublished(events)
	}
	return len(events), nil
}

// prune deletes events published longer ago than the retention, in chunks.
func (r *Relay) prune(ctx context.Context) error {
	for {
		tag, err := r.pool.Exec(ctx, `DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox
			WHERE published_at < now() - $1::interval ORDER BY seq LIMIT 10000)`, fmt.Sprintf("%d seconds", int(r.cfg.Retention.Seconds())))
		if err != nil || tag.RowsAffected() < 10000 {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
