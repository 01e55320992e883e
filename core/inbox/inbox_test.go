package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func status(t *testing.T, pool *pgxpool.Pool, id int64) (st string, attempts int, lastErr string) {
	t.Helper()
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT status, attempts, last_error FROM inbox WHERE id = $1`, id).
		Scan(&st, &attempts, &lastErr))
	return st, attempts, lastErr
}

func run(t *testing.T, w *inbox.Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestReceiveOnce(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	in := inbox.New(pool)
	ctx := context.Background()
	d := inbox.Delivery{Source: "telephony:mango", DedupeKey: "MTox:summary", Kind: "events/summary", Body: []byte(`{"entry_id":"MTox"}`)}
	id, isNew, err := in.Receive(ctx, d)
	require.NoError(t, err)
	require.True(t, isNew)
	id2, isNew, err := in.Receive(ctx, d)
	require.NoError(t, err)
	require.False(t, isNew, "a provider's retry is recognised")
	require.Equal(t, id, id2)
	d.Source = "telephony:zadarma"
	_, isNew, err = in.Receive(ctx, d)
	require.NoError(t, err)
	require.True(t, isNew, "keys are per source")
	s, err := in.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), s.Pending)
	require.NotNil(t, s.OldestPending)

	for _, bad := range []inbox.Delivery{{Source: "x"}, {DedupeKey: "x"}, {Source: "x", DedupeKey: string(make([]byte, 301))}} {
		_, _, err := in.Receive(ctx, bad)
		require.ErrorIs(t, err, inbox.ErrInvalid)
	}
}

// TestReceiveConcurrently: deliveries received at once are stored together
// (group commit); every key is stored once and reported new once, however
// its repeats fall within and across flushes, and a delivery the database
// refuses fails alone.
func TestReceiveConcurrently(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	in := inbox.New(pool)
	ctx := context.Background()
	const senders, each, keys = 48, 150, 2000
	var mu sync.Mutex
	ids := map[string]map[int64]bool{}
	news := map[string]int{}
	var refused atomic.Int64
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				k := fmt.Sprint((s*7919 + i*31) % keys)
				d := inbox.Delivery{Source: "telephony:zadarma", DedupeKey: k, Kind: "NOTIFY_START", Body: []byte(k)}
				if i%50 == 7 {
					d.DedupeKey = fmt.Sprintf("bad-%d-%d", s, i)
					d.Kind = "NUL\x00" // PostgreSQL's text cannot hold it
					_, _, err := in.Receive(ctx, d)
					if err != nil {
						refused.Add(1)
					}
					continue
				}
				id, isNew, err := in.Receive(ctx, d)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				if ids[k] == nil {
					ids[k] = map[int64]bool{}
				}
				ids[k][id] = true
				if isNew {
					news[k]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var stored int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM inbox`).Scan(&stored))
	require.Equal(t, len(ids), stored, "each key stored once, nothing refused stored")
	for k, set := range ids {
		require.Len(t, set, 1, "every receipt of %s has the stored id", k)
		require.Equal(t, 1, news[k], "%s reported new once", k)
	}
	require.Equal(t, int64(senders*each/50), refused.Load(), "each refused delivery failed, alone")
}

// TestReceiveWithoutDatabase: with the database out of reach every
// delivery received at once fails (the provider retries), and none is left
// waiting.
func TestReceiveWithoutDatabase(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	in := inbox.New(pool)
	pool.Close()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := in.Receive(context.Background(), inbox.Delivery{Source: "s", DedupeKey: fmt.Sprint(i)}); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int64(20), failed.Load())
}

// TestStatsAndPruneAtScale: pruning deletes in chunks, every expired
// processed delivery and nothing else; Stats counts exactly on a small
// inbox and, once the table's statistics say it is big, estimates the
// processed ones instead of reading them all (pending and failed stay
// exact).
func TestStatsAndPruneAtScale(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	in := inbox.New(pool)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `INSERT INTO inbox (source, dedupe_key, body, status, processed_at)
		SELECT 's', 'old-' || i, '', 'done', now() - interval '40 days' FROM generate_series(1, 25000) i;
		INSERT INTO inbox (source, dedupe_key, body, status, processed_at)
		SELECT 's', 'new-' || i, '', 'done', now() - interval '1 day' FROM generate_series(1, 300) i;
		INSERT INTO inbox (source, dedupe_key, body, status) VALUES ('s', 'p1', '', 'pending'), ('s', 'p2', '', 'pending'),
			('s', 'f1', '', 'failed')`)
	require.NoError(t, err)
	s, err := in.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, inbox.Stats{Pending: 2, Done: 25300, Failed: 1}, inbox.Stats{Pending: s.Pending, Done: s.Done, Failed: s.Failed})

	pruned, err := in.Prune(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(25000), pruned, "three chunks, to the last one")
	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM inbox`).Scan(&left))
	require.Equal(t, 303, left)

	// A big inbox: its statistics say two million rows (what ANALYZE
	// would say of thirty busy days).
	_, err = pool.Exec(ctx, `UPDATE pg_class SET reltuples = 2000000 WHERE oid = 'inbox'::regclass`)
	require.NoError(t, err)
	s, err = in.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, inbox.Stats{Pending: 2, Done: 2000000 - 3, Failed: 1}, inbox.Stats{Pending: s.Pending, Done: s.Done, Failed: s.Failed})
}

func TestWorkerRetriesAndFails(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	in := inbox.New(pool)
	ctx := context.Background()
	receive := func(key string) int64 {
		id, _, err := in.Receive(ctx, inbox.Delivery{Source: "webform:contact", DedupeKey: key, Body: []byte(key)})
		require.NoError(t, err)
		return id
	}
	ok, flaky, malformed, panics, broken := receive("ok"), receive("flaky"), receive("malformed"), receive("panics"), receive("broken")
	other, _, err := in.Receive(ctx, inbox.Delivery{Source: "webform:other", DedupeKey: "ok", Body: []byte("ok")})
	require.NoError(t, err)

	var mu sync.Mutex
	seen := map[string]int{}
	fixed := atomic.Bool{}
	w := in.NewWorker(inbox.WorkerConfig{Source: "webform:contact", PollInterval: 20 * time.Millisecond, Backoff: 10 * time.Millisecond, MaxAttempts: 3},
		func(ctx context.Context, d inbox.Delivery) error {
			mu.Lock()
			seen[string(d.Body)]++
			n := seen[string(d.Body)]
			mu.Unlock()
			switch string(d.Body) {
			case "flaky":
				if n == 1 {
					return errors.New("connection reset by peer")
				}
			case "malformed":
				return inbox.Permanent(fmt.Errorf("not a form post: \xff\xfe"))
			case "panics":
				panic("a handler's bug")
			case "broken":
				if !fixed.Load() {
					return errors.New("database is down")
				}
			}
			return nil
		})
	run(t, w)

	if !t.Run("TheWorkerSettlesEveryDeliveryWithinItsAttempts", func(t *testing.T) {
		require.Eventually(t, func() bool {
			st, _, _ := status(t, pool, broken)
			return st == "failed"
		}, 20*time.Second, 20*time.Millisecond)
	}) {
		return
	}

	t.Run("ASuccessIsDoneOnTheFirstAttempt", func(t *testing.T) {
		st, attempts, _ := status(t, pool, ok)
		require.Equal(t, "done", st)
		require.Equal(t, 1, attempts)
	})

	t.Run("ATransientFailureIsRetried", func(t *testing.T) {
		st, attempts, _ := status(t, pool, flaky)
		require.Equal(t, "done", st, "a transient failure is retried")
		require.Equal(t, 2, attempts)
	})

	t.Run("APermanentFailureIsNotRetried", func(t *testing.T) {
		st, attempts, msg := status(t, pool, malformed)
		require.Equal(t, "failed", st, "a permanent failure is not retried")
		require.Equal(t, 1, attempts)
		require.Contains(t, msg, "not a form post")
	})

	t.Run("APanickingHandlerFailsTheDeliveryNotTheWorker", func(t *testing.T) {
		st, _, msg := status(t, pool, panics)
		require.Equal(t, "failed", st, "a panicking handler fails the delivery, not the worker")
		require.Contains(t, msg, "panic")
	})

	t.Run("RetriesAreBoundedAndKeepTheLastError", func(t *testing.T) {
		_, attempts, msg := status(t, pool, broken)
		require.Equal(t, 3, attempts, "bounded retries")
		require.Equal(t, "database is down", msg)
	})

	t.Run("AWorkerTakesOnlyItsSource", func(t *testing.T) {
		st, _, _ := status(t, pool, other)
		require.Equal(t, "pending", st, "a worker takes only its source")
	})

	t.Run("FailedListsTheFailuresNewestFirst", func(t *testing.T) {
		failed, err := in.Failed(ctx, "webform:contact", 10)
		require.NoError(t, err)
		require.Len(t, failed, 3)
		require.Equal(t, "broken", failed[0].DedupeKey, "newest first")
	})

	t.Run("PruneRemovesOnlyOldProcessedDeliveries", func(t *testing.T) {
		pruned, err := in.Prune(ctx, time.Hour)
		require.NoError(t, err)
		require.Zero(t, pruned, "nothing processed an hour ago")
		_, err = pool.Exec(ctx, "UPDATE inbox SET processed_at = processed_at - interval '2 hours' WHERE id = $1", ok)
		require.NoError(t, err)
		pruned, err = in.Prune(ctx, time.Hour)
		require.NoError(t, err)
		require.Equal(t, int64(1), pruned, "only the old processed one: failed and pending ones stay")
	})

	t.Run("AnOperatorsRetryProcessesTheDeliveryOnceTheCauseIsMended", func(t *testing.T) {
		fixed.Store(true)
		n, err := in.Retry(ctx, "webform:contact")
		require.NoError(t, err)
		require.Equal(t, int64(3), n)
		require.Eventually(t, func() bool {
			st, _, _ := status(t, pool, broken)
			return st == "done"
		}, 10*time.Second, 20*time.Millisecond, "an operator's retry processes it once the cause is mended")
	})
}

func TestWorkersShareWithoutDoubling(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	in := inbox.New(pool)
	ctx := context.Background()
	const n = 300
	for i := range n {
		_, _, err := in.Receive(ctx, inbox.Delivery{Source: "telephony:vats", DedupeKey: fmt.Sprint("call-", i), Body: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
	}
	var mu sync.Mutex
	handled := map[string]int{}
	var total atomic.Int64
	h := func(ctx context.Context, d inbox.Delivery) error {
		mu.Lock()
		handled[d.DedupeKey]++
		mu.Unlock()
		total.Add(1)
		return nil
	}
	for range 3 { // three hub instances
		run(t, inbox.New(pool).NewWorker(inbox.WorkerConfig{Source: "telephony:vats", BatchSize: 7, PollInterval: 10 * time.Millisecond}, h))
	}
	require.Eventually(t, func() bool {
		s, err := in.Stats(ctx)
		return err == nil && s.Done == n
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, int64(n), total.Load())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, handled, n)
	for k, c := range handled {
		require.Equal(t, 1, c, "%s handled once", k)
	}
}

// TestHandlersNeedConnections runs more workers than the pool has
// connections, with handlers that use the pool (as every real one does):
// a worker must not hold a connection while its handler runs.
func TestHandlersNeedConnections(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(storetest.NewDatabase(t))
	require.NoError(t, err)
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	in := inbox.New(pool)
	ctx := context.Background()
	for i := range 40 {
		_, _, err := in.Receive(ctx, inbox.Delivery{Source: "webform:contact", DedupeKey: fmt.Sprint(i), Body: []byte("x")})
		require.NoError(t, err)
	}
	for range 3 {
		run(t, in.NewWorker(inbox.WorkerConfig{Source: "webform:contact", BatchSize: 5, PollInterval: 10 * time.Millisecond},
			func(ctx context.Context, d inbox.Delivery) error {
				_, err := pool.Exec(ctx, "SELECT pg_sleep(0.001)")
				return err
			}))
	}
	require.Eventually(t, func() bool {
		s, err := in.Stats(ctx)
		return err == nil && s.Done == 40
	}, 30*time.Second, 20*time.Millisecond)
}

// TestReceiveWakesWorkers: a stored delivery is processed at once, not at
// the next poll, by the workers of its source even when workers of other
// sources wait on the same inbox.
func TestReceiveWakesWorkers(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	in := inbox.New(pool)
	ctx := context.Background()
	var done atomic.Int64
	h := func(ctx context.Context, d inbox.Delivery) error { done.Add(1); return nil }
	for _, src := range []string{"telephony:mango", "telephony:zadarma", "webform:contact"} {
		run(t, in.NewWorker(inbox.WorkerConfig{Source: src, PollInterval: time.Hour}, h))
	}
	for i, src := range []string{"telephony:zadarma", "webform:contact", "telephony:mango"} {
		_, _, err := in.Receive(ctx, inbox.Delivery{Source: src, DedupeKey: fmt.Sprint(i), Body: []byte("x")})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return done.Load() == int64(i+1) }, 5*time.Second, 5*time.Millisecond, src)
	}
}

// TestBatchWorker: a claimed batch goes to the handler whole, in the order
// received, and each delivery gets its own outcome; a batch whose handler
// panics runs again delivery by delivery, so only the one at fault fails.
func TestBatchWorker(t *testing.T) {
	t.Parallel()
	pool := storetest.NewPool(t)
	in := inbox.New(pool)
	ctx := context.Background()
	ids := map[string]int64{}
	keys := []string{"a:1", "b:1", "a:2", "c:bad", "c:2", "p:panic", "a:3"}
	for _, k := range keys {
		id, _, err := in.Receive(ctx, inbox.Delivery{Source: "s", DedupeKey: k, Body: []byte(k)})
		require.NoError(t, err)
		ids[k] = id
	}
	var batches [][]string
	w := in.NewBatchWorker(inbox.WorkerConfig{Source: "s", Backoff: time.Hour}, func(_ context.Context, ds []inbox.Delivery) []error {
		var got []string
		errs := make([]error, len(ds))
		for i, d := range ds {
			got = append(got, d.DedupeKey)
			switch d.DedupeKey {
			case "c:bad":
				errs[i] = inbox.Permanent(errors.New("bad"))
			case "b:1":
				errs[i] = errors.New("try again")
			}
		}
		batches = append(batches, got)
		for _, d := range ds {
			if d.DedupeKey == "p:panic" {
				panic("hostile")
			}
		}
		return errs
	})
	n, err := w.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, len(keys), n)
	want := [][]string{keys}
	for _, k := range keys {
		want = append(want, []string{k})
	}
	require.Equal(t, want, batches, "the batch whole, in order; after the panic one by one")
	for k, id := range ids {
		st, attempts, lastErr := status(t, pool, id)
		switch k {
		case "c:bad", "p:panic":
			require.Equal(t, "failed", st, k)
		case "b:1":
			require.Equal(t, "pending", st, k)
			require.Equal(t, "try again", lastErr)
		default:
			require.Equal(t, "done", st, k)
		}
		require.Equal(t, 1, attempts, k)
	}
}
