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
	"github.com/jackc/pgx/v5/pgconn"
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

	// Group commit of Receive: deliveries arriving together are stored by
	// one statement and one commit (see Receive).
	rmu     sync.Mutex
	pending []*receipt
	leaders int // flushes running
}

// receipt is one Receive waiting for its delivery to be stored.
type receipt struct {
	d     Delivery
	id    int64
	isNew bool
	err   error
	// done gets true when the outcome is in, false when the receipt is
	// to lead the next flush.
	done chan bool
}

// maxLeaders bounds the flushes of one inbox running at once: one, like
// PostgreSQL's own group commit — while it runs, the next batch gathers
// (two at once made batches half as big and cost a fifth of the intake's
// throughput in per-statement work); maxFlush bounds one flush.
const (
	maxLeaders = 1
	maxFlush   = 1000
)

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
// again. It returns once the delivery is committed; deliveries received
// together are stored together (one statement, one commit: the PBX's
// answer waits for one WAL flush shared by all of them). Workers of this
// process are woken at once.
func (in *Inbox) Receive(ctx context.Context, d Delivery) (id int64, isNew bool, err error) {
	if d.Source == "" || d.DedupeKey == "" || len(d.Source) > MaxKey || len(d.DedupeKey) > MaxKey || len(d.Kind) > MaxKey {
		return 0, false, ErrInvalid
	}
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	r := &receipt{d: d, done: make(chan bool, 1)}
	in.rmu.Lock()
	lead := in.leaders < maxLeaders
	if lead {
		in.leaders++
	} else {
		in.pending = append(in.pending, r)
	}
	in.rmu.Unlock()
	// A queued receipt is waited for even when ctx ends: it may be handed
	// the lead, and the flush it is in is bounded by flushTimeout.
	if lead || !<-r.done {
		in.lead(ctx, r)
		<-r.done
	}
	return r.id, r.isNew, r.err
}

// flushTimeout bounds one flush.
const flushTimeout = 30 * time.Second

// lead stores own and what is pending, then hands the lead to the first
// receipt that arrived meanwhile (taken out of the queue: its caller
// flushes next), or gives it up.
func (in *Inbox) lead(ctx context.Context, own *receipt) {
	in.rmu.Lock()
	n := min(len(in.pending), maxFlush-1)
	batch := append([]*receipt{own}, in.pending[:n]...)
	in.pending = in.pending[n:]
	in.rmu.Unlock()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	func() {
		defer func() {
			// flush tells the receipts their outcome last: a panic before
			// that must not leave them, and the queue behind, waiting.
			if p := recover(); p != nil {
				for _, r := range batch {
					r.err = fmt.Errorf("inbox: storing failed: %v", p)
					r.done <- true
				}
			}
		}()
		in.flush(fctx, batch)
	}()
	cancel()
	in.rmu.Lock()
	if len(in.pending) > 0 {
		next := in.pending[0]
		in.pending = in.pending[1:]
		in.rmu.Unlock()
		next.done <- false
		return
	}
	in.leaders--
	in.rmu.Unlock()
}

// flush stores a batch of deliveries with one statement and tells each
// receipt its outcome. Within the batch a repeated key is stored once (its
// repeats are not new). A batch the database refuses for its data is
// stored one by one, so only the delivery at fault fails.
func (in *Inbox) flush(ctx context.Context, batch []*receipt) {
	type key struct{ source, dedupe string }
	first := map[key]*receipt{}
	var uniq []*receipt
	for _, r := range batch {
		k := key{r.d.Source, r.d.DedupeKey}
		if _, ok := first[k]; !ok {
			first[k] = r
			uniq = append(uniq, r)
		}
	}
	if err := in.store(ctx, uniq); err != nil {
		var pg *pgconn.PgError
		if len(uniq) > 1 && errors.As(err, &pg) && (pg.Code[:2] == "22" || pg.Code[:2] == "23") {
			// A delivery the database refuses (bad text, a constraint):
			// one by one, to fail only that one.
			for _, r := range uniq {
				r.err = in.store(ctx, []*receipt{r})
			}
		} else { // the database is out of reach: every delivery fails, the PBX retries
			for _, r := range uniq {
				r.err = err
			}
		}
	}
	woke := false
	for _, r := range batch {
		if f := first[key{r.d.Source, r.d.DedupeKey}]; f != r {
			r.id, r.err = f.id, f.err
		}
		woke = woke || r.isNew
	}
	if woke {
		in.notify()
	}
	for _, r := range batch {
		r.done <- true
	}
}

// store inserts deliveries of distinct keys with one statement, in key
// order (flushes storing the same keys at once then wait for each other
// rather than deadlock), and sets each one's id and whether it is new;
// repeats of stored deliveries are looked up.
func (in *Inbox) store(ctx context.Context, rs []*receipt) error {
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i].d, rs[j].d
		return a.Source < b.Source || a.Source == b.Source && a.DedupeKey < b.DedupeKey
	})
	cols := make([][]string, 4)
	bodies := make([][]byte, len(rs))
	at := make(map[[2]string]*receipt, len(rs))
	for i, r := range rs {
		r.id, r.isNew = 0, false // a batch that failed may have set them
		for c, v := range []string{r.d.Source, r.d.DedupeKey, r.d.Kind, r.d.ContentType} {
			cols[c] = append(cols[c], v)
		}
		if bodies[i] = r.d.Body; bodies[i] == nil {
			bodies[i] = []byte{}
		}
		at[[2]string{r.d.Source, r.d.DedupeKey}] = r
	}
	found := 0
	scan := func(rows pgx.Rows, err error, isNew bool) error {
		var id int64
		var k [2]string
		if err == nil {
			_, err = pgx.ForEachRow(rows, []any{&id, &k[0], &k[1]}, func() error {
				if r := at[k]; r != nil && r.id == 0 {
					r.id, r.isNew = id, isNew
					found++
				}
				return nil
			})
		}
		if err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
		return nil
	}
	rows, err := in.pool.Query(ctx, `INSERT INTO inbox (source, dedupe_key, kind, content_type, body)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[])
		ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id, source, dedupe_key`, cols[0], cols[1], cols[2], cols[3], bodies)
	if err := scan(rows, err, true); err != nil {
		return err
	}
	if found < len(rs) {
		rows, err := in.pool.Query(ctx, `SELECT id, source, dedupe_key FROM inbox
			WHERE (source, dedupe_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, cols[0], cols[1])
		if err := scan(rows, err, false); err != nil {
			return err
		}
	}
	if found < len(rs) {
		return errors.New("inbox: a delivery was neither stored nor found")
	}
	return nil
}

// Stats are what an operator looks at.
type Stats struct {
	Pending, Done, Failed int64
	OldestPending         *time.Time
}

// exactDone is the inbox size below which Stats counts the processed
// deliveries exactly; above it the count is PostgreSQL's estimate.
const exactDone = 1_000_000

// Stats counts deliveries by status. Pending and failed ones are counted
// exactly through their partial indexes; processed ones, kept thirty days
// (tens of millions of rows on a busy PBX, which a count would read in
// full at every metrics scrape), are counted exactly only while the inbox
// is under a million rows, else estimated from the table's statistics.
func (in *Inbox) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := in.pool.QueryRow(ctx, `WITH c AS (SELECT (SELECT count(*) FROM inbox WHERE status = 'pending') AS pending,
			(SELECT count(*) FROM inbox WHERE status = 'failed') AS failed,
			(SELECT min(received_at) FROM inbox WHERE status = 'pending') AS oldest,
			(SELECT reltuples FROM pg_class WHERE oid = 'inbox'::regclass) AS rows)
		SELECT pending, failed, oldest, CASE WHEN rows < $1 THEN (SELECT count(*) FROM inbox WHERE status = 'done')
			ELSE greatest(rows::bigint - pending - failed, 0) END FROM c`, exactDone).
		Scan(&s.Pending, &s.Failed, &s.OldestPending, &s.Done)
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

// BatchHandler processes a claimed batch at once (the events of many calls
// in one transaction); errs[i] is the outcome of ds[i], as a Handler's.
type BatchHandler func(ctx context.Context, ds []Delivery) (errs []error)

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
	in    *Inbox
	cfg   WorkerConfig
	batch BatchHandler
}

// NewWorker returns a worker for cfg.Source that hands deliveries to h one
// at a time.
func (in *Inbox) NewWorker(cfg WorkerConfig, h Handler) *Worker {
	return in.NewBatchWorker(cfg, func(ctx context.Context, ds []Delivery) []error {
		errs := make([]error, len(ds))
		for i, d := range ds {
			if errs[i] = ctx.Err(); errs[i] == nil {
				errs[i] = safely(func() error { return h(ctx, d) })
			}
		}
		return errs
	})
}

// NewBatchWorker returns a worker that hands each claimed batch to h
// whole, in the order received: the events of many calls cost a few
// statements instead of a dozen each.
func (in *Inbox) NewBatchWorker(cfg WorkerConfig, h BatchHandler) *Worker {
	cfg.setDefaults()
	return &Worker{in: in, cfg: cfg, batch: h}
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
	errs := w.handle(ctx, batch)
	// Successes are marked done together (a crash before that processes
	// them again: handlers are idempotent); when shutting down, what did
	// not succeed is given back now rather than when its lease expires.
	var done, back []int64
	for i, d := range batch {
		switch {
		case errs[i] == nil:
			done = append(done, d.ID)
		case ctx.Err() != nil:
			back = append(back, d.ID)
		default:
			if err := w.record(ctx, d, errs[i]); err != nil {
				return 0, err
			}
		}
	}
	bg := context.WithoutCancel(ctx)
	if len(done) > 0 {
		if _, err := w.in.pool.Exec(bg, `UPDATE inbox SET status = 'done', attempts = attempts + 1,
			processed_at = now(), last_error = '' WHERE id = ANY($1)`, done); err != nil {
			return 0, err
		}
	}
	if len(back) > 0 {
		_, _ = w.in.pool.Exec(bg, `UPDATE inbox SET next_attempt_at = now() WHERE id = ANY($1) AND status = 'pending'`, back)
	}
	return len(batch) - len(back), nil
}

// handle runs the batch handler. A panic (one hostile payload must not
// stop the worker nor fail the others) runs the batch again delivery by
// delivery, so that only the one at fault fails, for good.
func (w *Worker) handle(ctx context.Context, batch []Delivery) []error {
	var errs []error
	err := safely(func() error { errs = w.batch(ctx, batch); return nil })
	switch {
	case err != nil && len(batch) > 1:
		errs = make([]error, len(batch))
		for i := range batch {
			errs[i] = w.handle(ctx, batch[i:i+1])[0]
		}
		return errs
	case err == nil && len(errs) == len(batch):
		return errs
	case err == nil:
		err = fmt.Errorf("inbox: the handler returned %d outcomes for %d deliveries", len(errs), len(batch))
	}
	errs = make([]error, len(batch))
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// safely runs fn, turning a panic into a permanent failure.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Permanent(fmt.Errorf("panic: %v", p))
		}
	}()
	return fn()
}

// record stores a failed try.
func (w *Worker) record(ctx context.Context, d Delivery, herr error) error {
	attempts := d.Attempts + 1
	status := "pending"
	wait := w.cfg.Backoff << min(attempts-1, 20)
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
	// In chunks: an hour of a busy PBX's deliveries is millions of rows,
	// which one statement would delete in one long transaction.
	var total int64
	for {
		tag, err := in.pool.Exec(ctx, `DELETE FROM inbox WHERE id IN (SELECT id FROM inbox
			WHERE status = 'done' AND processed_at < now() - make_interval(secs => $1) LIMIT $2)`, keep.Seconds(), pruneChunk)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneChunk {
			return total, nil
		}
	}
}

// pruneChunk is how many deliveries one pruning statement deletes.
const pruneChunk = 10_000
