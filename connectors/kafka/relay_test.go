package kafka_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/outbox"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type bundle struct {
	st     *store.Store
	broker *kafka.Embedded
	pub    *kafka.Publisher
}

// setup starts a broker on a free loopback port, a store, and the relay.
func setup(t *testing.T, dataDir string) *bundle {
	t.Helper()
	b := &bundle{st: storetest.NewStore(t)}
	var err error
	b.broker, err = kafka.StartEmbedded(kafka.EmbeddedConfig{Addr: "127.0.0.1:0", DataDir: dataDir})
	require.NoError(t, err)
	t.Cleanup(func() { b.broker.Close() })
	b.pub, err = kafka.NewPublisher(kafka.Config{Brokers: []string{b.broker.Addr()}, Partitions: 3, ProduceTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(b.pub.Close)
	require.NoError(t, b.pub.EnsureTopics(context.Background(), core.EntityLead, core.EntityUser, core.EntityPipeline))
	return b
}

func (b *bundle) startRelay(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	relay := outbox.NewRelay(outbox.RelayConfig{PollInterval: 200 * time.Millisecond, RetryBackoff: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}, b.st.Pool(), b.pub)
	done := make(chan struct{})
	go func() { _ = relay.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func apiCtx() context.Context {
	return core.NewContextWithCorrelationID(core.NewContextWithActor(context.Background(), core.Actor{ID: "key-1", Source: "api"}), "req-7")
}

func headers(m kafkago.Message) map[string]string {
	out := map[string]string{}
	for _, h := range m.Headers {
		out[h.Key] = string(h.Value)
	}
	return out
}

// read consumes n messages of topic with kafka-go in a consumer group.
func read(t *testing.T, addr, topic string, n int) []kafkago.Message {
	t.Helper()
	return consume(t, addr, topic, "test-"+topic, n, false)
}

// readUnique consumes until it has seen n distinct events (by ce_id), as a
// consumer of an at-least-once stream does; it returns each event once, in
// the order first seen.
func readUnique(t *testing.T, addr, topic string, n int) []kafkago.Message {
	t.Helper()
	return consume(t, addr, topic, "unique-"+topic, n, true)
}

func consume(t *testing.T, addr, topic, group string, n int, unique bool) []kafkago.Message {
	t.Helper()
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: topic, GroupID: group,
		StartOffset: kafkago.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	seen := map[string]bool{}
	var out []kafkago.Message
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		require.NoError(t, err, "after %d of %d messages", len(out), n)
		if unique {
			id := headers(m)["ce_id"]
			if seen[id] {
				continue
			}
			seen[id] = true
		}
		out = append(out, m)
	}
	return out
}

func TestRelayPublishesCloudEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	b.startRelay(t)
	ctx := apiCtx()
	l, err := b.st.Leads().Create(ctx, core.Patch{"last_name": []byte(`"Иванов"`), "company": []byte(`"ООО Ромашка"`)})
	require.NoError(t, err)
	_, err = b.st.Leads().Update(ctx, l.ID, 0, core.Patch{"status": []byte(`"hot"`)})
	require.NoError(t, err)

	msgs := read(t, b.broker.Addr(), "crm.lead", 2)
	for i, m := range msgs {
		require.Equal(t, l.ID, string(m.Key), "the key keeps one record's events on one partition")
		h := headers(m)
		require.Equal(t, "1.0", h["ce_specversion"])
		require.Equal(t, []string{"crm.lead.created", "crm.lead.updated"}[i], h["ce_type"])
		require.Equal(t, "/crmhub/api", h["ce_source"])
		require.Equal(t, l.ID, h["ce_subject"])
		require.Equal(t, "application/json", h["content-type"])
		require.Equal(t, fmt.Sprint(i+1), h["ce_entityversion"])
		require.Equal(t, "req-7", h["ce_correlationid"])
		require.NotEmpty(t, h["ce_id"])
		_, err := time.Parse(time.RFC3339Nano, h["ce_time"])
		require.NoError(t, err)
		var data map[string]any
		require.NoError(t, json.Unmarshal(m.Value, &data))
		require.Equal(t, "Иванов", data["last_name"])
	}
	require.Equal(t, "status", headers(msgs[1])["ce_changed"])
	var pending int
	require.Eventually(t, func() bool {
		_ = b.st.Pool().QueryRow(ctx, "SELECT count(*) FROM outbox_pending").Scan(&pending)
		return pending == 0
	}, 10*time.Second, 50*time.Millisecond, "everything is marked published")

	// kcat (librdkafka) reads the same topic.
	out, err := exec.Command("kcat", "-b", b.broker.Addr(), "-C", "-t", "crm.lead", "-o", "beginning", "-e", "-q",
		"-f", "%k %h\n").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), l.ID+" ")
	require.Contains(t, string(out), "ce_type=crm.lead.updated")
}

// TestBrokerOutage writes while the broker is down: nothing fails, and
// once it is back every event arrives, in order per record, without gaps.
func TestBrokerOutage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := setup(t, dir)
	addr := b.broker.Addr()
	b.broker.Close() // down before the relay ever publishes
	b.startRelay(t)

	ctx := apiCtx()
	const leads, updates = 2000, 4 // 10,000 writes while the broker is down
	var wg sync.WaitGroup
	ids := make([]string, leads)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < leads; i += 8 {
				l, err := b.st.Leads().Create(ctx, core.Patch{"last_name": []byte(fmt.Sprintf(`"L%d"`, i)), "company": []byte(`"C"`)})
				require.NoError(t, err, "writes do not depend on the broker")
				for u := range updates {
					_, err := b.st.Leads().Update(ctx, l.ID, 0, core.Patch{"title": []byte(fmt.Sprintf(`"v%d"`, u))})
					require.NoError(t, err)
				}
				ids[i] = l.ID
			}
		}()
	}
	wg.Wait()
	total := leads * (1 + updates)

	// The broker comes back on the same address with its data.
	back, err := kafka.StartEmbedded(kafka.EmbeddedConfig{Addr: addr, DataDir: dir})
	require.NoError(t, err)
	t.Cleanup(back.Close)

	// At-least-once: a publish that timed out as the broker came back may
	// have been written too; a redelivery carries the same ce_id.
	msgs := readUnique(t, addr, "crm.lead", total)
	next := map[string]int{}
	for _, m := range msgs {
		h := headers(m)
		key := string(m.Key)
		next[key]++
		require.Equal(t, fmt.Sprint(next[key]), h["ce_entityversion"], "record %s: versions in order, no gap", key)
	}
	require.Equal(t, leads, len(next), "every lead's events arrived")
	for _, id := range ids {
		require.Equal(t, 1+updates, next[id], "lead %s", id)
	}
}

// crashingPublisher publishes, then kills its relay before the batch can be
// marked: the crash the relay must survive.
type crashingPublisher struct {
	outbox.Publisher
	kill func()
	once sync.Once
}

func (p *crashingPublisher) Publish(ctx context.Context, events []core.Event) error {
	err := p.Publisher.Publish(ctx, events)
	p.once.Do(p.kill)
	return err
}

// TestRelayKilledMidBatch: the events of the batch in flight are published
// again by the next relay, with the same ce_id, so a consumer that dedupes
// by ce_id sees every event exactly once.
func TestRelayKilledMidBatch(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := apiCtx()
	for i := range 50 {
		_, err := b.st.Leads().Create(ctx, core.Patch{"last_name": []byte(fmt.Sprintf(`"K%d"`, i)), "company": []byte(`"C"`)})
		require.NoError(t, err)
	}
	rctx, kill := context.WithCancel(context.Background())
	first := outbox.NewRelay(outbox.RelayConfig{PollInterval: 100 * time.Millisecond}, b.st.Pool(),
		&crashingPublisher{Publisher: b.pub, kill: kill})
	require.NoError(t, first.Run(rctx)) // published the batch, died before marking it
	var unmarked int
	require.NoError(t, b.st.Pool().QueryRow(ctx, "SELECT count(*) FROM outbox_pending WHERE entity = 'lead'").Scan(&unmarked))
	require.Equal(t, 50, unmarked)

	b.startRelay(t) // the next relay resumes
	msgs := read(t, b.broker.Addr(), "crm.lead", 100)
	ids := map[string]int{}
	for _, m := range msgs {
		ids[headers(m)["ce_id"]]++
	}
	require.Len(t, ids, 50, "every event, once after deduplication")
	for id, n := range ids {
		require.Equal(t, 2, n, "event %s: published, and again after the crash", id)
	}
}

// TestRelayHandOver runs two relays: one leads, and when it stops the other
// takes over with nothing lost and per-record order kept.
func TestRelayHandOver(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := apiCtx()
	run := func() (context.CancelFunc, chan struct{}) {
		c, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		r := outbox.NewRelay(outbox.RelayConfig{PollInterval: 50 * time.Millisecond, RetryBackoff: 50 * time.Millisecond}, b.st.Pool(), b.pub)
		go func() { _ = r.Run(c); close(done) }()
		return cancel, done
	}
	stopA, doneA := run()
	stopB, doneB := run()
	defer func() { stopB(); <-doneB }()

	l, err := b.st.Leads().Create(ctx, core.Patch{"last_name": []byte(`"H"`), "company": []byte(`"C"`)})
	require.NoError(t, err)
	for i := range 200 {
		if i == 100 {
			stopA() // the leader goes away mid-stream (whichever it was, B carries on)
			<-doneA
		}
		_, err := b.st.Leads().Update(ctx, l.ID, 0, core.Patch{"title": []byte(fmt.Sprintf(`"v%d"`, i))})
		require.NoError(t, err)
	}
	msgs := readUnique(t, b.broker.Addr(), "crm.lead", 201)
	next := 0
	for _, m := range msgs {
		h := headers(m)
		next++
		require.Equal(t, fmt.Sprint(next), h["ce_entityversion"], "versions in order across the hand-over")
	}
	require.Equal(t, 201, next)
}

func TestStateTopics(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	var err error
	b.pub, err = kafka.NewPublisher(kafka.Config{Brokers: []string{b.broker.Addr()}, Partitions: 3, StateTopics: true})
	require.NoError(t, err)
	t.Cleanup(b.pub.Close)
	ctx := context.Background()
	require.NoError(t, b.pub.EnsureTopics(ctx, core.EntityLead, core.EntityUser, core.EntityPipeline))

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.broker.Addr()))
	require.NoError(t, err)
	defer cl.Close()
	cfgs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, "crm.lead.state", "crm.lead")
	require.NoError(t, err)
	policy := map[string]string{}
	for _, rc := range cfgs {
		require.NoError(t, rc.Err)
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && c.Value != nil {
				policy[rc.Name] = *c.Value
			}
		}
	}
	require.Equal(t, "compact", policy["crm.lead.state"])
	require.NotEqual(t, "compact", policy["crm.lead"], "the change topic keeps history")

	b.startRelay(t)
	actx := apiCtx()
	a, err := b.st.Leads().Create(actx, core.Patch{"last_name": []byte(`"Живой"`), "company": []byte(`"A"`)})
	require.NoError(t, err)
	_, err = b.st.Leads().Update(actx, a.ID, 0, core.Patch{"status": []byte(`"hot"`)})
	require.NoError(t, err)
	gone, err := b.st.Leads().Create(actx, core.Patch{"last_name": []byte(`"Удалённый"`), "company": []byte(`"B"`)})
	require.NoError(t, err)
	require.NoError(t, b.st.Leads().Delete(actx, gone.ID, 0))

	latest := map[string][]byte{}
	for _, m := range readUnique(t, b.broker.Addr(), "crm.lead.state", 4) {
		latest[string(m.Key)] = m.Value
		require.NotEmpty(t, headers(m)["ce_id"])
	}
	require.Len(t, latest, 2)
	var state map[string]any
	require.NoError(t, json.Unmarshal(latest[a.ID], &state))
	require.Equal(t, "hot", state["status"], "the last state of a record is its latest")
	require.Nil(t, latest[gone.ID], "a deleted record ends with a tombstone")
	require.Len(t, readUnique(t, b.broker.Addr(), "crm.lead", 4), 4, "the change topic gets every change too")
}

// TestRelayGaps: an event whose transaction commits after later events were
// published (its position became a gap) is still published, once; a
// position taken by a transaction that rolls back is given up; and a
// transaction whose first write is the event (as stream resync's are)
// cannot be skipped.
func TestRelayGaps(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	b.startRelay(t)
	ctx := apiCtx()
	pool := b.st.Pool()
	event := func(name string) core.Event {
		return outbox.NewEvent(ctx, core.EntityLead, "snapshot", uuid.NewString(), 1, []byte(`{"last_name":"`+name+`"}`), nil, time.Now())
	}
	slow, err := pool.Begin(ctx) // takes a position first, commits last
	require.NoError(t, err)
	sql, args := outbox.Insert(event("slow"))
	_, err = slow.Exec(ctx, sql, args...)
	require.NoError(t, err)
	undone, err := pool.Begin(ctx) // takes a position, then rolls back
	require.NoError(t, err)
	sql, args = outbox.Insert(event("undone"))
	_, err = undone.Exec(ctx, sql, args...)
	require.NoError(t, err)
	for i := range 3 {
		_, err := b.st.Leads().Create(ctx, core.Patch{"last_name": []byte(fmt.Sprintf(`"G%d"`, i)), "company": []byte(`"C"`)})
		require.NoError(t, err)
	}
	first := read(t, b.broker.Addr(), "crm.lead", 3)
	gaps := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT cardinality(gap_from) FROM outbox_relay`).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool { return gaps() == 1 }, 10*time.Second, 20*time.Millisecond,
		"the relay read past two running transactions' positions (one range)")

	require.NoError(t, undone.Rollback(ctx))
	require.NoError(t, slow.Commit(ctx))
	_, err = pool.Exec(ctx, `SELECT pg_notify('crmhub_outbox', '')`)
	require.NoError(t, err)
	second := read(t, b.broker.Addr(), "crm.lead", 1) // the same group reads on
	require.Contains(t, string(second[0].Value), "slow", "the late event arrives")
	require.Equal(t, "crm.lead.snapshot", headers(second[0])["ce_type"])
	for _, m := range first {
		require.NotContains(t, string(m.Value), "slow")
	}
	require.Eventually(t, func() bool { return gaps() == 0 }, 10*time.Second, 20*time.Millisecond,
		"the rolled-back position is given up once no older transaction runs")
	var pending int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM outbox_pending").Scan(&pending))
	require.Zero(t, pending)
	all := readUnique(t, b.broker.Addr(), "crm.lead", 4)
	for _, m := range all {
		require.NotContains(t, string(m.Value), "undone")
	}
}

type failingPublisher struct{}

func (failingPublisher) Publish(context.Context, []core.Event) error {
	return errors.New("broker away")
}

// TestRelayPrunes: events older than the retention are deleted once
// published, never before; newer ones stay (record history reads them).
func TestRelayPrunes(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := apiCtx()
	pool := b.st.Pool()
	for i := range 3 {
		sql, args := outbox.Insert(outbox.NewEvent(ctx, core.EntityLead, "updated", uuid.NewString(), int64(i+1),
			[]byte(`{"old":true}`), nil, time.Now().Add(-2*time.Hour)))
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	for i := range 2 {
		_, err := b.st.Leads().Create(ctx, core.Patch{"last_name": []byte(fmt.Sprintf(`"P%d"`, i)), "company": []byte(`"C"`)})
		require.NoError(t, err)
	}
	count := func(where string) int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE entity = 'lead' AND "+where).Scan(&n))
		return n
	}
	cfg := outbox.RelayConfig{Retention: time.Hour, PruneEvery: 20 * time.Millisecond, PollInterval: 50 * time.Millisecond,
		RetryBackoff: 20 * time.Millisecond}
	run := func(pub outbox.Publisher) (stop func()) {
		rctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = outbox.NewRelay(cfg, pool, pub).Run(rctx); close(done) }()
		return func() { cancel(); <-done }
	}
	stop := run(failingPublisher{})
	time.Sleep(300 * time.Millisecond) // a dozen prune intervals while nothing can be published
	stop()
	require.Equal(t, 3, count(`data->>'old' = 'true'`), "old events are kept until they are published")

	stop = run(b.pub)
	defer stop()
	read(t, b.broker.Addr(), "crm.lead", 5)
	require.Eventually(t, func() bool { return count(`data->>'old' = 'true'`) == 0 }, 10*time.Second, 20*time.Millisecond,
		"published events older than the retention are pruned")
	require.Equal(t, 2, count(`type = 'lead.created'`), "newer events stay")
}
