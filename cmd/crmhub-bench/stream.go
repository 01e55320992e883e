package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/outbox"
	"github.com/crmhub/crmhub/core/pgembed"
	"github.com/crmhub/crmhub/core/store"
)

// streamBench measures the relay against franz-go producing straight to
// the same embedded broker, and the end-to-end latency of a change.
func streamBench(ctx context.Context, backlog, rate, batch int, duration time.Duration) error {
	db, err := newBenchDB(ctx, "streambench", pgembed.Config{Port: 5496, Durable: true})
	if err != nil {
		return err
	}
	defer db.close()
	pool := db.pool
	dir := db.dir
	broker, err := kafka.StartEmbedded(kafka.EmbeddedConfig{Addr: "127.0.0.1:0", DataDir: filepath.Join(dir, "kafka")})
	if err != nil {
		return err
	}
	defer broker.Close()
	fmt.Printf("crmhub-bench -stream: embedded broker (kfake) with a data dir, durable PostgreSQL, %d-event backlog\n", backlog)

	// The same records, produced by franz-go straight to the broker.
	events := syntheticEvents(backlog)
	pub, err := kafka.NewPublisher(kafka.Config{Brokers: []string{broker.Addr()}, TopicPrefix: "ceiling", Partitions: 6})
	if err != nil {
		return err
	}
	if err := pub.EnsureTopics(ctx, core.EntityLead); err != nil {
		return err
	}
	start := time.Now()
	for i := 0; i < len(events); i += 1000 {
		if err := pub.Publish(ctx, events[i:min(i+1000, len(events))]); err != nil {
			return err
		}
	}
	ceiling := float64(len(events)) / time.Since(start).Seconds()
	pub.Close()

	// The relay draining the same events from the outbox.
	if err := copyOutbox(ctx, pool, events); err != nil {
		return err
	}
	pub, err = kafka.NewPublisher(kafka.Config{Brokers: []string{broker.Addr()}, Partitions: 6})
	if err != nil {
		return err
	}
	defer pub.Close()
	if err := pub.EnsureTopics(ctx, core.EntityLead, core.EntityUser); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Progress is counted by the relay's callback: polling the outbox
	// (a scan of the whole backlog) would take CPU from what is measured.
	var pending int64 // the backlog and whatever else the database holds (its first user's event)
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM outbox_pending").Scan(&pending); err != nil {
		return err
	}
	var published atomic.Int64
	drained := make(chan struct{})
	relay := outbox.NewRelay(outbox.RelayConfig{PollInterval: 100 * time.Millisecond, BatchSize: batch, OnPublished: func(evs []core.Event) {
		if now := published.Add(int64(len(evs))); now >= pending && now-int64(len(evs)) < pending {
			close(drained) // by the one call that crosses the backlog
		}
	}}, pool, pub)
	start = time.Now()
	relayDone := make(chan struct{})
	go func() { _ = relay.Run(rctx); close(relayDone) }()
	<-drained
	relayRate := float64(pending) / time.Since(start).Seconds()
	var left int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM outbox_pending").Scan(&left); err != nil {
		return err
	}
	if left != 0 {
		return fmt.Errorf("%d events published but the relay's position not saved", left)
	}
	verdict := "met"
	if relayRate < 0.5*ceiling || relayRate < 20_000 {
		verdict = "NOT MET"
	}
	fmt.Printf("%-46s %9.0f events/s\n%-46s %9.0f events/s  (%.0f%% of the ceiling; target >= 50%% and >= 20,000/s: %s)\n",
		"ceiling: franz-go straight to the broker", ceiling, "relay: outbox -> broker", relayRate, 100*relayRate/ceiling, verdict)

	if err := latency(ctx, pool, broker.Addr(), rate, duration); err != nil {
		return err
	}
	cancel() // the poison runs take the relay's lock
	<-relayDone
	if err := poison(ctx, pool, broker.Addr(), 100_000, batch, relayRate); err != nil {
		return err
	}
	if err := codecs(ctx, pool, broker.Addr(), 100_000, batch); err != nil {
		return err
	}
	return inbound(ctx, pool, broker.Addr(), 20_000)
}

// poison drains a backlog of n events with one poison event at its head,
// twice: a record over the event bound (streamed as a reference event),
// and one the broker refuses (its topic takes smaller messages than the
// bound: a dead letter). Reported: the time until the backlog behind it is
// published, against the clean drain's rate measured just before.
func poison(ctx context.Context, pool *pgxpool.Pool, addr string, n, batch int, cleanRate float64) error {
	raw := make([]byte, 800_000)
	_, _ = rand.Read(raw)
	noise := []byte(hex.EncodeToString(raw)) // does not compress: as large on the wire
	for _, c := range []struct {
		name, prefix string
		size         int // the poison record's description
		maxEvent     int // the event bound, 0: the default (900 KiB)
	}{
		{"reference event (1.5 MB record over the 900 KiB bound)", "poisonref", 1_500_000, 0},
		{"dead letter (1.5 MB record, bound raised to 4 MiB over the broker's 1 MB)", "poisondl", 1_500_000, 4 << 20},
	} {
		events := syntheticEvents(n)
		big := make([]byte, 0, c.size+100)
		for len(big) < c.size {
			big = append(big, noise[:min(len(noise), c.size-len(big))]...)
		}
		events[0].Data = []byte(fmt.Sprintf(`{"id":%q,"last_name":"Отравленный","description":"%s"}`, events[0].EntityID, big))
		pub, err := kafka.NewPublisher(kafka.Config{Brokers: []string{addr}, TopicPrefix: c.prefix, Partitions: 6, MaxEventBytes: c.maxEvent})
		if err != nil {
			return err
		}
		if err := pub.EnsureTopics(ctx, core.EntityLead); err != nil {
			pub.Close()
			return err
		}
		if err := copyOutbox(ctx, pool, events); err != nil {
			pub.Close()
			return err
		}
		pending, took, dead, err := drain(ctx, pool, pub, batch)
		pub.Close()
		if err != nil {
			return fmt.Errorf("poison: %s: %w", c.name, err)
		}
		fmt.Printf("poison: %-75s %d events drained in %v (%.0f events/s; clean drain %.0f events/s), %d dead letter(s)\n",
			c.name, pending, took.Round(time.Millisecond), float64(pending)/took.Seconds(), cleanRate, dead)
		if _, err := pool.Exec(ctx, "DELETE FROM outbox_dead_letters"); err != nil {
			return err
		}
	}
	return nil
}

// inbound measures commands applied per second: n lead.create commands
// waiting on the commands topic, then the consumer applies them.
func inbound(ctx context.Context, pool *pgxpool.Pool, addr string, n int) error {
	st := store.New(pool, slog.New(slog.DiscardHandler))
	defer st.Close()
	pub, err := kafka.NewPublisher(kafka.Config{Brokers: []string{addr}, Partitions: 6})
	if err != nil {
		return err
	}
	defer pub.Close()
	if err := pub.EnsureTopics(ctx, "commands", "commands.dlq"); err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	for i := 0; i < n; i += 1000 {
		recs := make([]*kgo.Record, 0, 1000)
		for j := i; j < min(i+1000, n); j++ {
			recs = append(recs, &kgo.Record{Topic: "crm.commands", Key: []byte(fmt.Sprint(j)), Value: []byte(fmt.Sprintf(
				`{"id":"bench-%d","type":"lead.create","source":"bench","payload":{"last_name":"Командный %d","company":"ООО Ромашка","phone":"+7912%07d"}}`, j, j, j))})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return err
		}
	}
	// Completion is counted by the consumer's callback, not by polling the
	// database, which would take CPU from what is measured.
	var applied atomic.Int64
	done := make(chan struct{})
	cc, err := kafka.NewCommandConsumer(kafka.CommandConfig{Brokers: []string{addr}, Group: "bench", OnApplied: func(k int) {
		if now := applied.Add(int64(k)); now >= int64(n) && now-int64(k) < int64(n) {
			close(done) // by the one call that crosses n
		}
	}}, st)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	go func() { _ = cc.Run(cctx) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("only %d of %d commands applied", applied.Load(), n)
	}
	var recorded int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM inbound_commands WHERE source = 'bench'").Scan(&recorded); err != nil {
		return err
	}
	if recorded != n {
		return fmt.Errorf("%d commands recorded, want %d", recorded, n)
	}
	rate := float64(n) / time.Since(start).Seconds()
	verdict := "met"
	if rate < 5000 {
		verdict = "NOT MET"
	}
	fmt.Printf("%-46s %9.0f commands/s  (%d lead.create on 6 partitions; target >= 5,000/s: %s)\n", "inbound: commands applied", rate, n, verdict)
	return nil
}

// latency writes leads at a steady rate and measures commit -> consumer.
func latency(ctx context.Context, pool *pgxpool.Pool, addr string, rate int, duration time.Duration) error {
	st := store.New(pool, slog.New(slog.DiscardHandler))
	defer st.Close()
	if _, _, err := st.EnsureAdmin(ctx, "Administrator"); err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("crm.lead"), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	// Wait until the consumer has its partitions and sits at their ends.
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	cl.PollFetches(pctx)
	pcancel()

	var mu sync.Mutex
	committed := map[string]time.Time{}
	received := map[string]time.Time{}
	var writers sync.WaitGroup
	var failed []error
	writing := true
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(duration + 10*time.Second)
		for time.Now().Before(deadline) {
			fctx, cancel := context.WithTimeout(ctx, time.Second)
			fs := cl.PollFetches(fctx)
			cancel()
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				mu.Lock()
				received[string(r.Key)] = now
				mu.Unlock()
			})
			mu.Lock()
			finished := !writing && len(received) >= len(committed)
			mu.Unlock()
			if finished {
				return
			}
		}
	}()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(duration)
	n := 0
	for time.Now().Before(end) {
		<-tick.C
		n++
		writers.Add(1)
		go func(i int) {
			defer writers.Done()
			l, err := st.Leads().Create(ctx, core.Patch{"last_name": []byte(fmt.Sprintf(`"L%d"`, i)), "company": []byte(`"C"`)})
			if err != nil {
				mu.Lock()
				failed = append(failed, err)
				mu.Unlock()
				return
			}
			mu.Lock()
			committed[l.ID] = time.Now() // the write has committed when Create returns
			mu.Unlock()
		}(n)
	}
	writers.Wait()
	mu.Lock()
	writing = false
	mu.Unlock()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d writes failed, first: %w", len(failed), n, failed[0])
	}
	var lat []time.Duration
	for id, at := range committed {
		if got, ok := received[id]; ok {
			lat = append(lat, max(got.Sub(at), 0)) // received before the writer noted its commit: ~0
			continue
		}
		var seq int64
		var pending bool
		_ = pool.QueryRow(ctx, `SELECT o.seq, EXISTS (SELECT 1 FROM outbox_pending p WHERE p.seq = o.seq) FROM outbox o
			WHERE o.entity_id = $1`, id).Scan(&seq, &pending)
		fmt.Printf("  not received: lead %s committed %s before the end of writing, outbox seq %d, still pending %v\n",
			id, end.Sub(at).Round(time.Millisecond), seq, pending)
	}
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	verdict := "met"
	if p99 > 250*time.Millisecond {
		verdict = "NOT MET"
	}
	fmt.Printf("%-46s p50 %8s  p99 %8s  (%d of %d received; target p99 <= 250ms: %s)\n",
		fmt.Sprintf("end to end, commit -> consumer, %d writes/s", rate), p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), len(lat), n, verdict)
	return nil
}

// syntheticEvents makes lead events with distinct ~700-byte values.
func syntheticEvents(n int) []core.Event {
	out := make([]core.Event, n)
	now := time.Now().UTC()
	for i := range out {
		id := uuid.Must(uuid.NewV7()).String()
		data := fmt.Sprintf(`{"id":%q,"last_name":"Петров %d","company":"ООО Ромашка %d","phone":"+7912%07d","email":"u%d@example.ru","status":"hot","source":"web_site","description":"%s"}`,
			id, i, i%1000, i, i, uuid.NewString()+uuid.NewString()+uuid.NewString())
		out[i] = core.Event{ID: uuid.Must(uuid.NewV7()).String(), Type: "lead.created", Entity: "lead", EntityID: id, EntityVersion: 1,
			OccurredAt: now, Source: "bench", Actor: "bench", Data: []byte(data)}
	}
	return out
}

func copyOutbox(ctx context.Context, pool *pgxpool.Pool, events []core.Event) error {
	i := 0
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"outbox"},
		[]string{"id", "type", "entity", "entity_id", "entity_version", "occurred_at", "source", "actor", "data"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(events) {
				return nil, nil
			}
			e := events[i]
			i++
			return []any{e.ID, e.Type, e.Entity, e.EntityID, e.EntityVersion, e.OccurredAt, e.Source, e.Actor, string(e.Data)}, nil
		}))
	return err
}
