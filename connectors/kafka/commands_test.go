package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/core"
)

func produce(t *testing.T, addr string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	require.NoError(t, err)
	defer cl.Close()
	for _, v := range values {
		require.NoError(t, cl.ProduceSync(context.Background(), &kgo.Record{Topic: "crm.commands", Value: []byte(v)}).FirstErr())
	}
}

// flaky fails its first calls with an error that is not a domain error
// (as a lost connection would), then applies for real.
type flaky struct {
	core.CommandService
	failures atomic.Int32
}

func (f *flaky) ApplyCommands(ctx context.Context, cmds []core.Command, pos []core.StreamPosition) (int, error) {
	for i, cmd := range cmds {
		if cmd.ID == "flaky" { // apply those before it, then fail on it
			n, err := f.CommandService.ApplyCommands(ctx, cmds[:i], pos[:i])
			if err != nil {
				return n, err
			}
			_, err = f.ApplyCommand(ctx, cmd, pos[i])
			return i, err
		}
	}
	return f.CommandService.ApplyCommands(ctx, cmds, pos)
}

func (f *flaky) ApplyCommand(ctx context.Context, cmd core.Command, pos core.StreamPosition) (bool, error) {
	if cmd.ID == "flaky" && f.failures.Add(-1) >= 0 {
		return false, errors.New("connection reset by peer")
	}
	return f.CommandService.ApplyCommand(ctx, cmd, pos)
}

func runConsumer(t *testing.T, b *bundle, svc core.CommandService) context.CancelFunc {
	t.Helper()
	return runConsumerWith(t, b, svc, kafka.CommandConfig{})
}

func runConsumerWith(t *testing.T, b *bundle, svc core.CommandService, cfg kafka.CommandConfig) context.CancelFunc {
	t.Helper()
	cfg.Brokers = []string{b.broker.Addr()}
	cfg.RetryBackoff = 20 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	c, err := kafka.NewCommandConsumer(cfg, svc)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func count(t *testing.T, b *bundle, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, b.st.Pool().QueryRow(context.Background(), sql).Scan(&n))
	return n
}

func TestInboundCommands(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	svc := &flaky{CommandService: b.st}
	svc.failures.Store(2)
	// A custom field travels in a command's fields like a built-in one.
	_, err := b.st.CreateCustomField(context.Background(), core.EntityAccount,
		core.PatchOf(map[string]any{"key": "okved", "label": map[string]string{"ru": "ОКВЭД"}, "type": "text"}))
	require.NoError(t, err)
	stop := runConsumer(t, b, svc)

	upsert := `{"id":"c1","type":"account.upsert","source":"onec","payload":{"external_id":"onec:A-1","fields":{"name":"ООО Ромашка","inn":"7707083893","kpp":"773601001"}}}`
	produce(t, b.broker.Addr(),
		upsert,
		upsert, // the same command delivered twice
		`{"id":"c2","type":"account.upsert","source":"onec","payload":{"external_id":"onec:A-1","fields":{"phone":"8 495 500-55-50","custom":{"okved":"62.01"}}}}`,
		`not json at all`,
		`{"id":"c3","type":"deal.stage","payload":{"deal_id":"0190a5c0-0000-7000-8000-000000000000","stage":"qualification"}}`,
		`{"id":"c4","type":"account.upsert","payload":{"external_id":"onec:A-2","fields":{"name":"X","inn":"7707083894"}}}`,
		`{"id":"flaky","type":"lead.create","source":"telephony","payload":{"last_name":"Звонивший","company":"?","phone":"+79123456789"}}`,
	)
	require.Eventually(t, func() bool {
		return count(t, b, "SELECT count(*) FROM inbound_commands") == 5 // c1, c2, flaky applied; c3, c4 dead-lettered; the malformed one has no id
	}, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		return count(t, b, `SELECT coalesce(max(next_offset), 0) FROM stream_offsets`) == 7
	}, 30*time.Second, 50*time.Millisecond, "every message's position is done, dead letters included")

	ctx := context.Background()
	p, err := b.st.Accounts().List(ctx, core.AccountFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "name"}, Limit: 10},
		ExternalID: [2]string{"onec", "A-1"}})
	require.NoError(t, err)
	require.Len(t, p.Items, 1, "one account, updated by c2")
	require.Equal(t, "+74955005550", p.Items[0].Phone)
	require.Equal(t, core.CustomValues{"okved": "62.01"}, p.Items[0].Custom)
	require.Equal(t, 2, count(t, b, "SELECT count(*) FROM outbox WHERE entity = 'account'"), "created and updated: the repeat changed nothing")
	require.Equal(t, 1, count(t, b, "SELECT count(*) FROM outbox WHERE entity = 'account' AND source = 'onec' AND type = 'account.created'"),
		"changes carry the command's source, so peers can drop their own echoes")
	require.Equal(t, 1, count(t, b, "SELECT count(*) FROM leads WHERE last_name = 'Звонивший'"), "a transient failure is retried")
	require.Equal(t, 1, count(t, b, "SELECT count(*) FROM outbox WHERE entity = 'lead' AND source = 'telephony'"))

	dl := read(t, b.broker.Addr(), "crm.commands.dlq", 3)
	reasons := map[string]string{}
	for _, m := range dl {
		h := headers(m)
		reasons[h["crmhub_command_id"]] = h["crmhub_error_code"]
		require.NotEmpty(t, h["crmhub_error"])
		require.Equal(t, "crm.commands", h["crmhub_source_topic"])
	}
	require.Equal(t, map[string]string{"": "malformed", "c3": "not_found", "c4": "invalid"}, reasons)
	status, err := b.st.StreamStatus(ctx)
	require.NoError(t, err)
	require.EqualValues(t, len(dl), status.DeadLetters, "stream status counts what the dead-letter topic holds, the malformed one too")

	// A restarted consumer resumes after what it applied: nothing twice.
	stop()
	produce(t, b.broker.Addr(), `{"id":"c5","type":"lead.create","payload":{"last_name":"Новый","company":"?"}}`)
	runConsumer(t, b, b.st)
	require.Eventually(t, func() bool { return count(t, b, "SELECT count(*) FROM inbound_commands") == 6 }, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, 2, count(t, b, "SELECT count(*) FROM outbox WHERE entity = 'account'"))
	require.Equal(t, 1, count(t, b, "SELECT count(*) FROM leads WHERE last_name = 'Новый'"))
}

func TestInboundConsumerLag(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	var msgs []string
	for i := range 50 {
		msgs = append(msgs, fmt.Sprintf(`{"id":"lag-%d","type":"lead.create","payload":{"last_name":"Лаг %d","company":"?"}}`, i, i))
	}
	produce(t, b.broker.Addr(), msgs...)

	var mu sync.Mutex
	lags := map[string]int64{}
	runConsumerWith(t, b, b.st, kafka.CommandConfig{OnLag: func(topic string, p int32, lag int64) {
		mu.Lock()
		defer mu.Unlock()
		lags[fmt.Sprintf("%s/%d", topic, p)] = lag
	}})
	require.Eventually(t, func() bool { return count(t, b, "SELECT count(*) FROM inbound_commands") == 50 }, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(lags) == 0 {
			return false
		}
		for k, lag := range lags {
			if k[:len("crm.commands/")] != "crm.commands/" || lag != 0 {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "everything fetched was applied: no lag left on any partition")
}
