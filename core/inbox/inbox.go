// Package inbox keeps raw webhook deliveries (PBX events, form posts) in
// PostgreSQL before anything else happens to them, and works them off in the
// background: a connector answers the provider as soon as the delivery is
// stored, so a slow or failing CRM step never loses an event or delays the
// provider, and a provider's retry of the same delivery is recognised and
// stored once.
//
// Processing is at least once: a handler that succeeded may run again if the
// hub dies before the delivery is marked done, so handlers must be
// idempotent (calls dedupe on the provider's call id, forms on the
// submission id).
package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Delivery is one raw delivery from a provider.
type Delivery struct {
	ID          int64
	Source      string // e.g. "telephony:mango", "webform:contact"
	DedupeKey   string // the provider's id for this delivery (plus its event kind)
	Kind        string // e.g. "events/summary"
	ContentType string
	Body        []byte
	ReceivedAt  time.Time
	Attempts    int // tries before this one
}

// MaxKey bounds Source, DedupeKey and Kind.
const MaxKey = 300

// Inbox stores deliveries.
type Inbox struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	wake chan struct{} // closed (and replaced) to wake every waiting worker
}

// New returns the inbox kept in pool's database.
func New(pool *pgxpool.Pool) *Inbox {
	return &Inbox{pool: pool, wake: make(chan struct{})}
}

// notify wakes the workers of this process (of every source: each checks
// its own).
func (in *Inbox) notify() {
	in.mu.Lock()
	close(in.wake)
	in.wake = make(chan struct{})
	in.mu.Unlock()
}

func (in *Inbox) woken() <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.wake
}

// ErrInvalid is returned for a delivery without source or dedupe key, or
// with one longer than MaxKey.
var ErrInvalid = errors.New("inbox: source and dedupe key must be 1 to 300 characters")

// Receive stores a delivery and reports whether it is new: a delivery with
// the source and dedupe key of a stored one is a repeat and is not stored
// again. Workers of this process are woken at once.
func (in *Inbox) Receive(ctx context.Context, d Delivery) (id int64, isNew bool, err error) {
	if d.Source == "" || d.DedupeKey == "" || len(d.Source) > MaxKey || len(d.DedupeKey) > MaxKey || len(d.Kind) > MaxKey {
		return 0, false, ErrInvalid
	}
	err = in.pool.QueryRow(ctx, `INSERT INTO inbox (source, dedupe_key, kind, content_type, body)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id`,
		d.Source, d.DedupeKey, d.Kind, d.ContentType, d.Body).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = in.pool.QueryRow(ctx, `SELECT id FROM inbox WHERE source = $1 AND dedupe_key = $2`, d.Source, d.DedupeKey).Scan(&id)
		return id, false, err
	}
	if err != nil {
		return 0, false, fmt.Errorf("inbox: %w", err)
	}
	in.notify()
	return id, true, nil
}

// Stats are what an operator looks at.
type Stats struct {
	Pending, Done, Failed int64
	OldestPending         *time.Time
}

// Stats counts deliveries by status.
func (in *Inbox) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := in.pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'done'),
		count(*) FILTER (WHERE status = 'failed'), min(received_at) FILTER (WHERE status = 'pending')
		FROM inbox`).Scan(&s.Pending, &s.Done, &s.Failed, &s.OldestPending)
	return s, err
}

// Failure is a delivery that could not be processed.
type Failure struct {
	Delivery
	Error string
}

// Failed lists the failed deliveries of source ("" for all), newest first.
func (in *Inbox) Failed(ctx context.Context, source string, limit int) ([]Failure, error) {
	rows, err := in.pool.Query(ctx, `SELECT id, source, dedupe_key, kind, content_type, body, received_at, attempts, last_error
		FROM inbox WHERE status = 'failed' AND ($1 = '' OR source = $1) ORDER BY id DESC LIMIT $2`, source, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Failure, error) {
		var f Failure
		err := r.Scan(&f.ID, &f.Source, &f.DedupeKey, &f.Kind, &f.ContentType, &f.Body, &f.ReceivedAt, &f.Attempts, &f.Error)
		return f, err
	})
}

// Retry puts the failed deliveries of source ("" for all) back in the
// queue with their attempts reset; it returns how many.
func (in *Inbox) Retry(ctx context.Context, source string) (int64, error) {
	tag, err := in.pool.Exec(ctx, `UPDATE inbox SET status = 'pending', attempts = 0, next_attempt_at = now()
		WHERE status = 'failed' AND ($1 = '' OR source = $1)`, source)
	if err != nil {
		return 0, err
	}
	in.notify()
	return tag.RowsAffected(), nil
}

// Handler processes one delivery. An error marked Permanent fails the
// delivery at once; any other error is retried with backoff.
type Handler func(ctx context.Context, d Delivery) error

// GroupHandler processes deliveries that belong together (the events of
// one call) at once; its error is each delivery's outcome.
type GroupHandler func(ctx context.Context, ds []Delivery) error

// permanent wraps an error that retrying cannot mend.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying (a malformed payload).
func Permanent(err error) error { return permanent{err} }

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Source is the source whose deliveries the worker processes.
	Source string
	// BatchSize is the most deliveries claimed at once. Default 100.
	BatchSize int
	// PollInterval is how often the inbox is checked without a wake-up
	// (other instances' deliveries, retries that came due). Default 1 s.
	PollInterval time.Duration
	// MaxAttempts bounds tries before a delivery is failed. Default 8.
	MaxAttempts int
	// Backoff is the wait after the first failed try, doubling up to an
	// hour. Default 5 s.
	Backoff time.Duration
	// Lease is how long a claimed delivery is kept from other workers
	// while it is processed. Default 5 minutes.
	Lease  time.Duration
	Logger *slog.Logger
}

func (c *WorkerConfig) setDefaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.Backoff <= 0 {
		c.Backoff = 5 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Worker processes a source's deliveries in the order received. Several
// workers (in several hub instances) may run: each delivery is leased to
// one of them at a time (FOR UPDATE SKIP LOCKED, then a lease).
type Worker struct {
	in      *Inbox
	cfg     WorkerConfig
	handler Handler
	// groupKey and group, when set, hand the deliveries of a claimed batch
	// that share a key to group together ("" keeps one alone).
	groupKey func(Delivery) string
	group    GroupHandler
}

// NewWorker returns a worker for cfg.Source.
func (in *Inbox) NewWorker(cfg WorkerConfig, h Handler) *Worker {
	cfg.setDefaults()
	return &Worker{in: in, cfg: cfg, handler: h}
}

// NewGroupWorker returns a worker that hands the deliveries of each claimed
// batch that share key(d) to h together, in the order received: several
// events of one call cost one write instead of one each.
func (in *Inbox) NewGroupWorker(cfg WorkerConfig, key func(Delivery) string, h GroupHandler) *Worker {
	cfg.setDefaults()
	return &Worker{in: in, cfg: cfg, groupKey: key, group: h,
		handler: func(ctx context.Context, d Delivery) error { return h(ctx, []Delivery{d}) }}
}

// Run processes deliveries until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.PollInterval)
	defer t.Stop()
	for {
		wake := w.in.woken() // taken before looking, so a delivery stored meanwhile is not missed
		n, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.cfg.Logger.Warn("inbox_worker", "source", w.cfg.Source, "error", err)
		}
		if n == w.cfg.BatchSize {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-t.C:
		}
	}
}

// RunOnce claims the due deliveries (at most a batch), processes them and
// records each outcome; it returns how many it claimed. Claiming leases
// the deliveries (their next attempt moves Lease ahead) and commits at
// once, so no connection or lock is held while handlers run (they need
// connections of their own); a worker that dies mid-batch leaves its
// leases to expire, and another worker takes the deliveries up again.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	rows, err := w.in.pool.Query(ctx, `UPDATE inbox SET next_attempt_at = now() + make_interval(secs => $3)
		WHERE id IN (SELECT id FROM inbox WHERE status = 'pending' AND next_attempt_at <= now() AND source = $1
			ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id, source, dedupe_key, kind, content_type, body, received_at, attempts`,
		w.cfg.Source, w.cfg.BatchSize, w.cfg.Lease.Seconds())
	if err != nil {
		return 0, err
	}
	batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := r.Scan(&d.ID, &d.Source, &d.DedupeKey, &d.Kind, &d.ContentType, &d.Body, &d.ReceivedAt, &d.Attempts)
		return d, err
	})
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	sort.Slice(batch, func(i, j int) bool { return batch[i].ID < batch[j].ID }) // in the order received
	// Successes are marked done together at the end (a crash before that
	// processes them again: handlers are idempotent).
	var done []int64
	defer func() {
		if len(done) > 0 {
			_, _ = w.in.pool.Exec(context.WithoutCancel(ctx), `UPDATE inbox SET status = 'done', attempts = attempts + 1,
				processed_at = now(), last_error = '' WHERE id = ANY($1)`, done)
		}
	}()
	for i, group := range w.groups(batch) {
		herr := w.handle(ctx, group)
		if ctx.Err() != nil {
			// Shutting down: give the rest back now rather than when
			// their leases expire.
			var ids []int64
			for _, g := range w.groups(batch)[i:] {
				for _, d := range g {
					ids = append(ids, d.ID)
				}
			}
			_, _ = w.in.pool.Exec(context.WithoutCancel(ctx), `UPDATE inbox SET next_attempt_at = now() WHERE id = ANY($1) AND status = 'pending'`, ids)
			return len(batch) - len(ids), nil
		}
		for _, d := range group {
			derr := herr
			if herr != nil && len(group) > 1 {
				derr = w.handle(ctx, []Delivery{d}) // the group failed: find the ones at fault
			}
			if derr == nil {
				done = append(done, d.ID)
				continue
			}
			if err := w.record(ctx, d, derr); err != nil {
				return 0, err
			}
		}
	}
	return len(batch), nil
}

// groups splits a batch into the groups handled together, in the order of
// their first delivery.
func (w *Worker) groups(batch []Delivery) [][]Delivery {
	out := make([][]Delivery, 0, len(batch))
	at := map[string]int{}
	for _, d := range batch {
		k := ""
		if w.groupKey != nil {
			k = w.groupKey(d)
		}
		if i, ok := at[k]; ok && k != "" {
			out[i] = append(out[i], d)
			continue
		}
		at[k] = len(out)
		out = append(out, []Delivery{d})
	}
	return out
}

// handle runs the handler, turning a panic into a permanent failure: one
// hostile payload must not stop the worker.
func (w *Worker) handle(ctx context.Context, ds []Delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Permanent(fmt.Errorf("panic: %v", p))
		}
	}()
	if len(ds) > 1 {
		return w.group(ctx, ds)
	}
	return w.handler(ctx, ds[0])
}

// record stores a failed try.
func (w *Worker) record(ctx context.Context, d Delivery, herr error) error {
	attempts := d.Attempts + 1
	status, wait := "pending", w.cfg.Backoff<<min(attempts-1, 20)
	if wait > time.Hour || wait <= 0 {
		wait = time.Hour
	}
	var p permanent
	if errors.As(herr, &p) || attempts >= w.cfg.MaxAttempts {
		status = "failed"
	}
	w.cfg.Logger.Warn("inbox_delivery_failed", "source", d.Source, "id", d.ID, "dedupe_key", d.DedupeKey,
		"attempt", attempts, "status", status, "error", herr)
	msg := strings.ToValidUTF8(herr.Error(), "?") // it may quote a hostile payload
	if r := []rune(msg); len(r) > 1000 {
		msg = string(r[:1000])
	}
	_, err := w.in.pool.Exec(ctx, `UPDATE inbox SET status = $2, attempts = $3, last_error = $4,
		next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1`, d.ID, status, attempts, msg, wait.Seconds())
	return err
}

// Prune deletes deliveries processed longer than keep ago (failed and
// pending ones stay until an operator or a worker deals with them); it
// returns how many.
func (in *Inbox) Prune(ctx context.Context, keep time.Duration) (int64, error) {
	tag, err := in.pool.Exec(ctx, `DELETE FROM inbox WHERE status = 'done' AND processed_at < now() - make_interval(secs => $1)`,
		keep.Seconds())
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
