package store

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// batcher coalesces independent inserts made outside any transaction into
// one pipelined implicit transaction: one round trip, one commit and one
// WAL flush for many requests (application-level group commit). Each write
// still commits together with its event, and its caller hears back only
// after the commit. When a combined batch fails, its writes are retried one
// by one, so that only the write at fault fails and it gets its own error.
type batcher struct {
	pool *pgxpool.Pool
	reqs chan *pendingWrite
	max  int
	wg   sync.WaitGroup
	stop chan struct{}
	once sync.Once
}

// pendingWrite is one caller's statements, run in order in one transaction.
type pendingWrite struct {
	ctx   context.Context
	stmts []queuedStmt
	done  chan writeResult // buffered: the worker never blocks on it
}

type queuedStmt struct {
	sql  string
	args []any
}

type writeResult struct {
	tags []pgconn.CommandTag
	err  error
}

// newBatcher starts workers goroutines that each take up to max writes.
func newBatcher(pool *pgxpool.Pool, workers, max int) *batcher {
	b := &batcher{pool: pool, reqs: make(chan *pendingWrite, workers*max), max: max, stop: make(chan struct{})}
	for range workers {
		b.wg.Add(1)
		go b.work()
	}
	return b
}

// close stops the workers after the writes already queued.
func (b *batcher) close() {
	b.once.Do(func() { close(b.stop) })
	b.wg.Wait()
}

// exec runs stmts in one transaction, possibly shared with other callers'.
func (b *batcher) exec(ctx context.Context, stmts []queuedStmt) ([]pgconn.CommandTag, error) {
	w := &pendingWrite{ctx: ctx, stmts: stmts, done: make(chan writeResult, 1)}
	select {
	case b.reqs <- w:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.stop:
		return execAlone(ctx, b.pool, w)
	}
	r := <-w.done // the write may already be committing: wait for its fate
	return r.tags, r.err
}

func (b *batcher) work() {
	defer b.wg.Done()
	group := make([]*pendingWrite, 0, b.max)
	for {
		var first *pendingWrite
		select {
		case first = <-b.reqs:
		case <-b.stop:
			b.drain()
			return
		}
		group = append(group[:0], first)
	fill:
		for len(group) < b.max {
			select {
			case w := <-b.reqs:
				group = append(group, w)
			default:
				break fill
			}
		}
		b.run(group)
	}
}

// drain finishes writes still queued at close.
func (b *batcher) drain() {
	for {
		select {
		case w := <-b.reqs:
			tags, err := execAlone(w.ctx, b.pool, w)
			w.done <- writeResult{tags, err}
		default:
			return
		}
	}
}

func (b *batcher) run(group []*pendingWrite) {
	live := group[:0:0]
	for _, w := range group {
		if err := w.ctx.Err(); err != nil {
			w.done <- writeResult{err: err} // gave up before anything was sent
			continue
		}
		live = append(live, w)
	}

	if len(live) == 0 {
		return
	}
	if len(live) == 1 {
		tags, err := execAlone(live[0].ctx, b.pool, live[0])
		live[0].done <- writeResult{tags, err}
		return
	}

	// The batch runs on its own context: once sent, no single caller's
	// cancellation may abort the others' writes.
	ctx := context.WithoutCancel(live[0].ctx)
	batch := &pgx.Batch{}
	for _, w := range live {
		for _, st := range w.stmts {
			batch.Queue(st.sql, st.args...)
		}
	}

	results := make([][]pgconn.CommandTag, len(live))
	br := b.pool.SendBatch(ctx, batch)
	var err error
	for i, w := range live {
		for range w.stmts {
			var tag pgconn.CommandTag
			if tag, err = br.Exec(); err != nil {
				break
			}
			results[i] = append(results[i], tag)
		}
		if err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}

	if err == nil {
		for i, w := range live {
			w.done <- writeResult{tags: results[i]}
		}
		return
	}

	// The implicit transaction rolled back as a whole: run each alone, at
	// once (they are independent; one after the other, one conflict made
	// every caller of the batch wait for all the others' round trips).
	var wg sync.WaitGroup
	for _, w := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tags, err := execAlone(ctx, b.pool, w)
			w.done <- writeResult{tags, err}
		}()
	}
	wg.Wait()
}

// execAlone runs one caller's statements as their own implicit transaction.
func execAlone(ctx context.Context, db dbtx, w *pendingWrite) ([]pgconn.CommandTag, error) {
	batch := &pgx.Batch{}
	for _, st := range w.stmts {
		batch.Queue(st.sql, st.args...)
	}
	br := db.SendBatch(ctx, batch)
	tags := make([]pgconn.CommandTag, 0, len(w.stmts))
	var err error
	for range w.stmts {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err != nil {
			break
		}
		tags = append(tags, tag)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tags, err
}
