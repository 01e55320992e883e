package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
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
	// BatchSize is the most events read and published at once. Default 5000.
	BatchSize int
	// PollInterval is how often the outbox is checked without a wake-up
	// (LISTEN/NOTIFY is the fast path). Default 1 s.
	PollInterval time.Duration
	// Retention is how long published events are kept (record history is
	// read from them). Zero keeps them forever.
	Retention time.Duration
	// PruneEvery is how often the relay prunes. Default 1 minute.
	PruneEvery time.Duration
	// RetryBackoff bounds the wait between failed publishes. Default 5 s.
	RetryBackoff time.Duration
	// OnPublished, when set, is told of every batch published and saved
	// (metrics).
	OnPublished func(events []core.Event)
	// OnDeadLetter, when set, is told of every event set aside (held: it
	// waits behind an older dead letter of its record).
	OnDeadLetter func(e *core.Event, held bool)
	Logger       *slog.Logger
}

func (c *RelayConfig) setDefaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 5000
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 5 * time.Second
	}
	if c.PruneEvery <= 0 {
		c.PruneEvery = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// maxRelayBatch bounds BatchSize.
const maxRelayBatch = 100_000

// Validate checks the settings as an operator gave them, before NewRelay
// fills defaults (a zero batch size is refused, not replaced); its message
// names the key relative to the relay's settings (batch_size,
// poll_interval, retention), for the caller to prefix with where they are.
func (c RelayConfig) Validate() error {
	switch {
	case c.BatchSize < 1 || c.BatchSize > maxRelayBatch:
		return fmt.Errorf("batch_size: must be 1 to 100000, got %d", c.BatchSize)
	case c.PollInterval < time.Millisecond:
		return fmt.Errorf("poll_interval: must be at least 1ms, got %s", c.PollInterval)
	case c.Retention < 0:
		return fmt.Errorf("retention: must be 0 (keep forever) or positive, got %s", c.Retention)
	}
	return nil
}

// relayLockKey makes one hub instance the relay at a time.
const relayLockKey = 0x63726d6875620010

// Relay drains the outbox to a Publisher in outbox order and keeps its
// position (outbox_relay). It is at-least-once: a crash between publishing
// and saving the position sends those events again, with the same ids.
type Relay struct {
	cfg  RelayConfig
	pool *pgxpool.Pool
	pub  Publisher
	// blocked are the records with a dead letter ("entity/id" → the id of
	// the event their later events wait behind). Only the publishing
	// goroutine uses it while a batch is in flight, only the relay loop
	// otherwise.
	blocked map[string]string
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
	var pos position
	if err := pos.load(ctx, conn); err != nil {
		return fmt.Errorf("read the relay's position: %w", err)
	}
	if err := r.loadBlocked(ctx, conn); err != nil {
		return fmt.Errorf("read the relay's dead letters: %w", err)
	}
	r.cfg.Logger.Info("relay_leading", "cursor", pos.cursor, "gaps", len(pos.gaps), "blocked_records", len(r.blocked))
	return r.relay(ctx, conn, pos)
}

// batch is a read of the outbox: its events in order, the position after
// them, and whether more were left.
type batch struct {
	events []core.Event
	seqs   []int64 // the events' outbox positions
	pos    position
	more   bool
	retry  bool // dead letters were asked to be published again
}

// publishing is a batch on its way to the stream.
type publishing struct {
	batch
	done chan error
}

// relay publishes batch after batch from saved (the position in the
// database), reading the next batch while the previous one is published:
// the outbox read and the broker's acknowledgement overlap. A position is
// saved only after its batch was acknowledged (with the next read, in its
// round trip), so a crash or a failed publish repeats events, never skips
// them.
func (r *Relay) relay(ctx context.Context, conn *pgx.Conn, saved position) error {
	cur := saved           // the position after the last batch read
	var flying *publishing // the batch being published
	var unsaved *batch     // acknowledged, its position not yet saved
	lastPrune := time.Time{}
	wait := func() error { // for the batch in flight
		if flying == nil {
			return nil
		}
		err := <-flying.done
		if err == nil {
			unsaved = &flying.batch
		}
		flying = nil
		return err
	}
	defer func() { _ = wait() }()
	for {
		b, err := r.read(ctx, conn, cur, unsaved)
		if err != nil {
			return err
		}
		if unsaved != nil {
			saved = unsaved.pos
			r.published(unsaved)
			unsaved = nil
		}
		if err := wait(); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.cfg.Logger.Warn("relay_publish_failed", "error", err)
			cur = saved // read again from the last acknowledged position
			if !sleep(ctx, r.cfg.RetryBackoff) {
				return ctx.Err()
			}
			continue
		}
		if b.retry { // nothing is in flight: the dead letters go first
			if err := r.retryDeadLetters(ctx); err != nil {
				return err
			}
		}
		if r.cfg.Retention > 0 && time.Since(lastPrune) > r.cfg.PruneEvery {
			if err := r.prune(ctx); err != nil {
				r.cfg.Logger.Warn("relay_prune_failed", "error", err)
			}
			lastPrune = time.Now()
		}
		if len(b.events) > 0 {
			flying = &publishing{batch: b, done: make(chan error, 1)}
			go func(p *publishing) { p.done <- r.deliver(ctx, p.events, p.seqs) }(flying)
			cur = b.pos
			continue // read on while it is published
		}
		if !b.pos.same(&cur) { // only gaps given up: save with what was acknowledged
			acked := &batch{pos: b.pos}
			if unsaved != nil {
				acked.events = unsaved.events
			}
			cur, unsaved = b.pos, acked
		}
		if unsaved != nil { // idle: save now
			if err := unsaved.pos.save(ctx, conn, len(unsaved.events) > 0); err != nil {
				return fmt.Errorf("move the relay's position: %w", err)
			}
			saved = unsaved.pos
			r.published(unsaved)
			unsaved = nil
		}
		if b.more {
			continue
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

func (r *Relay) published(b *batch) {
	if r.cfg.OnPublished != nil && len(b.events) > 0 {
		r.cfg.OnPublished(b.events)
	}
}

// position is how far the relay got: every event at or below cursor was
// published, except those in gaps (positions whose events were not visible
// when the relay read past them: their transactions were running, or rolled
// back). A gap's horizon is the next transaction id when it was seen: once no
// transaction older than that runs, a missing event never comes
// (migration 035).
type position struct {
	cursor int64
	gaps   []gap
}

type gap struct{ from, to, horizon int64 }

// load reads the relay's position (the previous leader's, after a
// hand-over).
func (p *position) load(ctx context.Context, conn *pgx.Conn) error {
	var from, to, horizons []int64
	if err := conn.QueryRow(ctx, `SELECT cursor, gap_from, gap_to, horizons FROM outbox_relay`).Scan(&p.cursor, &from, &to, &horizons); err != nil {
		return err
	}
	p.gaps = p.gaps[:0]
	for i := range from {
		p.gaps = append(p.gaps, gap{from[i], to[i], horizons[i]})
	}
	return nil
}

func (p *position) save(ctx context.Context, conn *pgx.Conn, published bool) error {
	b := &pgx.Batch{}
	p.queueSave(b, published)
	return conn.SendBatch(ctx, b).Close()
}

func (p *position) queueSave(b *pgx.Batch, published bool) {
	from, to, horizons := make([]int64, len(p.gaps)), make([]int64, len(p.gaps)), make([]int64, len(p.gaps))
	for i, g := range p.gaps {
		from[i], to[i], horizons[i] = g.from, g.to, g.horizon
	}
	b.Queue(`UPDATE outbox_relay SET cursor = $1, gap_from = $2, gap_to = $3, horizons = $4,
		published_at = CASE WHEN $5 THEN now() ELSE published_at END`, p.cursor, from, to, horizons, published)
}

const eventColumns = `o.seq, o.id::text, o.type, o.entity, o.entity_id::text, o.entity_version, o.occurred_at, o.source,
	o.actor, o.correlation_id, o.data, coalesce(o.changed, '{}')`

// read reads the batch after cur, and saves save's position (an
// acknowledged batch's) when given. The reads share one snapshot and the whole
// exchange one round trip: the oldest running transaction, the events that
// have committed into gaps since, and the events after the cursor.
func (r *Relay) read(ctx context.Context, conn *pgx.Conn, cur position, save *batch) (batch, error) {
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	// A new gap's horizon is the next transaction id to be assigned, read
	// after the snapshot: every transaction that may own a position the
	// snapshot does not see already had an id below it (crmhub_outbox_next
	// takes one before the position). The snapshot's xmax is not that
	// bound: it is one past the latest *completed* transaction, and a
	// running transaction with a higher id is in neither xmax nor the
	// running list, so gaps it owned were given up while it still ran and
	// its events were never published. age() counts from the next id
	// (GetStableLatestTransactionId), so xmax + age(xmax) + 1 is it, in
	// 64 bits.
	b.Queue(`SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint
		+ age(((pg_snapshot_xmax(s)::text::bigint % 4294967296)::text)::xid) + 1 FROM pg_current_snapshot() s`)
	if len(cur.gaps) > 0 { // each gap a range scan of the primary key
		from, to := make([]int64, len(cur.gaps)), make([]int64, len(cur.gaps))
		for i, g := range cur.gaps {
			from[i], to[i] = g.from, g.to
		}
		b.Queue(`SELECT o.* FROM unnest($1::bigint[], $2::bigint[]) g(lo, hi),
			LATERAL (SELECT `+eventColumns+` FROM outbox o WHERE o.seq BETWEEN g.lo AND g.hi ORDER BY o.seq LIMIT $3) o
			ORDER BY 1 LIMIT $3`, from, to, r.cfg.BatchSize)
	}
	b.Queue(`SELECT `+eventColumns+` FROM outbox o WHERE o.seq > $1 ORDER BY o.seq LIMIT $2`, cur.cursor, r.cfg.BatchSize)
	b.Queue(`SELECT EXISTS (SELECT 1 FROM outbox_dead_letters WHERE retry_requested_at IS NOT NULL)`)
	b.Queue(`COMMIT`)
	if save != nil { // after the read's transaction, in a transaction of its own
		save.pos.queueSave(b, len(save.events) > 0)
	}
	br := conn.SendBatch(ctx, b)
	var xmin, horizon int64
	var late, next []row
	_, err := br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&xmin, &horizon)
	}
	if err == nil && len(cur.gaps) > 0 {
		late, err = scanEvents(br)
	}
	if err == nil {
		next, err = scanEvents(br)
	}
	var retry bool
	if err == nil {
		err = br.QueryRow().Scan(&retry)
	}
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil && save != nil {
		if _, err = br.Exec(); err != nil {
			err = fmt.Errorf("move the relay's position: %w", err)
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return batch{}, err
	}
	lateFull := len(late) == r.cfg.BatchSize
	out := batch{pos: cur.advance(late, lateFull, next, xmin, horizon), more: lateFull || len(next) == r.cfg.BatchSize, retry: retry}
	rows := append(late, next...)
	sort.Slice(rows, func(i, j int) bool { return rows[i].seq < rows[j].seq })
	out.events, out.seqs = make([]core.Event, len(rows)), make([]int64, len(rows))
	for i, e := range rows {
		out.events[i], out.seqs[i] = e.ev, e.seq
	}
	return out, nil
}

type row struct {
	seq int64
	ev  core.Event
}

func scanEvents(br pgx.BatchResults) ([]row, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var x row
		var data []byte
		e := &x.ev
		if err := rows.Scan(&x.seq, &e.ID, &e.Type, &e.Entity, &e.EntityID, &e.EntityVersion, &e.OccurredAt, &e.Source,
			&e.Actor, &e.CorrelationID, &data, &e.Changed); err != nil {
			return nil, err
		}
		e.Data = data
		e.OccurredAt = e.OccurredAt.UTC()
		out = append(out, x)
	}
	return out, rows.Err()
}

// advance returns the position after publishing late (events committed
// into gaps, in order; lateFull when more may be left there) and next (the
// events after the cursor, in order), read in a snapshot whose oldest
// running transaction is xmin, when horizon was the next transaction id
// to be assigned. Found events leave
// their gaps; a gap no running transaction can fill any more is given up
// (unless late was cut short); positions skipped between the cursor and
// next's last event become gaps.
func (p *position) advance(late []row, lateFull bool, next []row, xmin, horizon int64) position {
	np := position{cursor: p.cursor}
	i := 0
	for _, g := range p.gaps {
		lo := g.from
		for ; i < len(late) && late[i].seq <= g.to; i++ {
			if s := late[i].seq; s >= lo {
				if s > lo {
					np.gaps = append(np.gaps, gap{lo, s - 1, g.horizon})
				}
				lo = s + 1
			}
		}
		if lo <= g.to {
			np.gaps = append(np.gaps, gap{lo, g.to, g.horizon})
		}
	}
	if !lateFull {
		kept := np.gaps[:0]
		for _, g := range np.gaps {
			if g.horizon > xmin {
				kept = append(kept, g)
			}
		}
		np.gaps = kept
	}
	for _, x := range next {
		if x.seq > np.cursor+1 {
			np.gaps = append(np.gaps, gap{np.cursor + 1, x.seq - 1, horizon})
		}
		np.cursor = x.seq
	}
	return np
}

func (p *position) same(o *position) bool {
	return p.cursor == o.cursor && slices.Equal(p.gaps, o.gaps)
}

// prune deletes published events older than the retention, in chunks.
func (r *Relay) prune(ctx context.Context) error {
	for {
		tag, err := r.pool.Exec(ctx, `DELETE FROM outbox WHERE seq IN (SELECT o.seq FROM outbox o, outbox_relay r
			WHERE o.seq <= r.cursor AND NOT EXISTS (SELECT 1 FROM unnest(r.gap_from, r.gap_to) g(lo, hi) WHERE o.seq BETWEEN g.lo AND g.hi)
			AND o.occurred_at < now() - $1::interval ORDER BY o.seq LIMIT 10000)`,
			fmt.Sprintf("%d seconds", int(r.cfg.Retention.Seconds())))
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
