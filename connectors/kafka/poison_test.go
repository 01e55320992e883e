package kafka_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/outbox"
)

// noise is n characters that do not compress: a record this large stays
// this large on the wire.
func noise(t *testing.T, n int) string {
	b := make([]byte, n/2)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// relayWith runs a relay over pub and counts what it sets aside.
func (b *bundle) relayWith(t *testing.T, pub outbox.Publisher, dead *int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	relay := outbox.NewRelay(outbox.RelayConfig{PollInterval: 100 * time.Millisecond, RetryBackoff: 100 * time.Millisecond,
		OnDeadLetter: func(*core.Event, bool) { *dead++ },
		Logger:       slog.New(slog.NewTextHandler(testWriter{t}, nil))}, b.st.Pool(), pub)
	done := make(chan struct{})
	go func() { _ = relay.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func setTopicMaxBytes(t *testing.T, addr, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	require.NoError(t, err)
	defer cl.Close()
	v := fmt.Sprint(n)
	res, err := kadm.NewClient(cl).AlterTopicConfigs(context.Background(),
		[]kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &v}}, topic)
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}
}

// TestOversizedRecordIsStreamedAsReference: a record larger than the event
// bound goes out as a reference event in its place, and the events behind
// it follow, each once.
func TestOversizedRecordIsStreamedAsReference(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	pub, err := kafka.NewPublisher(kafka.Config{Brokers: []string{b.broker.Addr()}, Partitions: 3, MaxEventBytes: 8 << 10})
	require.NoError(t, err)
	t.Cleanup(pub.Close)
	dead := 0
	b.relayWith(t, pub, &dead)
	ctx := apiCtx()
	big, err := b.st.Leads().Create(ctx, core.Patch{"company": []byte(`"ООО Тест"`), "last_name": []byte(`"Большой"`), "description": []byte(`"` + noise(t, 20_000) + `"`)})
	require.NoError(t, err)
	var small []string
	for i := range 3 {
		l, err := b.st.Leads().Create(ctx, core.Patch{"company": []byte(`"ООО Тест"`), "last_name": []byte(fmt.Sprintf(`"Малый %d"`, i))})
		require.NoError(t, err)
		small = append(small, l.ID)
	}

	msgs := consume(t, b.broker.Addr(), "crm.lead", "ref", 4, false)
	var bigMsg kafkago.Message
	seen := map[string]int{}
	for _, m := range msgs {
		if string(m.Key) == big.ID {
			bigMsg = m
			continue
		}
		seen[string(m.Key)]++
		require.Empty(t, headers(m)["ce_truncated"])
	}
	for _, id := range small {
		require.Equal(t, 1, seen[id], "each event behind the large one once")
	}
	h := headers(bigMsg)
	require.Equal(t, "true", h["ce_truncated"])
	require.Equal(t, "crm.lead.created", h["ce_type"])
	require.Less(t, len(bigMsg.Value), 1000)
	var ref core.EventRef
	require.NoError(t, json.Unmarshal(bigMsg.Value, &ref))
	require.Equal(t, core.EventRef{ID: big.ID, Entity: "lead", Version: 1, Changed: []string{}, Size: ref.Size,
		DataRef: "/api/v1/leads/" + big.ID + "?version=1"}, ref)
	require.Greater(t, ref.Size, 20_000)
	// The reference's version is kept where data_ref reads it.
	data, err := b.st.RecordVersion(ctx, "lead", big.ID, 1)
	require.NoError(t, err)
	var back core.Lead
	require.NoError(t, json.Unmarshal(data, &back))
	require.Equal(t, "Большой", back.LastName)
	require.Len(t, back.Description, 20_000)
	require.Zero(t, dead)
}

// TestRefusedEventIsSetAsideAndTheStreamGoesOn: an event the broker
// refuses for good (its topic takes smaller messages than the event bound)
// is a dead letter; the events of other records behind it are published
// once each; the record's later events wait behind it; a retry once the
// broker takes it publishes them in order.
func TestRefusedEventIsSetAsideAndTheStreamGoesOn(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	setTopicMaxBytes(t, b.broker.Addr(), "crm.lead", 16<<10)
	dead := 0
	b.relayWith(t, b.pub, &dead)
	ctx := apiCtx()

	poison, err := b.st.Leads().Create(ctx, core.Patch{"company": []byte(`"ООО Тест"`), "last_name": []byte(`"Отравленный"`), "description": []byte(`"` + noise(t, 30_000) + `"`)})
	require.NoError(t, err)
	var small []string
	for i := range 20 {
		l, err := b.st.Leads().Create(ctx, core.Patch{"company": []byte(`"ООО Тест"`), "last_name": []byte(fmt.Sprintf(`"Следующий %d"`, i)), "description": []byte(`"` + noise(t, 1000) + `"`)})
		require.NoError(t, err)
		small = append(small, l.ID)
	}
	msgs := consume(t, b.broker.Addr(), "crm.lead", "first", len(small), false)
	seen := map[string]int{}
	for _, m := range msgs {
		seen[string(m.Key)]++
	}
	for _, id := range small {
		require.Equal(t, 1, seen[id], "each event behind the refused one once")
	}
	require.Zero(t, seen[poison.ID])
	require.Eventually(t, func() bool { return count(t, b, `SELECT count(*) FROM outbox_pending`) == 0 }, 20*time.Second, 50*time.Millisecond,
		"the relay's position moved past the refused event")

	// A later version of the refused record waits behind it.
	_, err = b.st.Leads().Update(ctx, poison.ID, 0, core.Patch{"description": []byte(`"short now"`)})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return count(t, b, `SELECT count(*) FROM outbox_dead_letters WHERE held_behind IS NOT NULL`) == 1
	}, 20*time.Second, 50*time.Millisecond)
	st, err := b.st.StreamStatus(ctx)
	require.NoError(t, err)
	require.Equal(t, [3]int64{0, 1, 1}, [3]int64{st.Backlog, st.RelayDeadLetters, st.RelayHeld})
	list, err := b.st.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, poison.ID, list[0].EntityID)
	require.Contains(t, list[0].Reason, "MESSAGE_TOO_LARGE")
	require.Equal(t, list[0].ID, list[1].HeldBehind)
	require.Equal(t, 2, dead)

	// Retried while the broker still refuses it: it stays, counted.
	_, err = b.st.RetryDeadLetters(ctx, []string{list[1].ID})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return count(t, b, `SELECT count(*) FROM outbox_dead_letters WHERE attempts = 2 AND retry_requested_at IS NULL`) == 1
	}, 20*time.Second, 50*time.Millisecond)

	// Once the topic takes it, a retry publishes both versions, in order.
	setTopicMaxBytes(t, b.broker.Addr(), "crm.lead", 1<<20)
	n, err := b.st.RetryDeadLetters(ctx, nil)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	all := consume(t, b.broker.Addr(), "crm.lead", "retried", len(small)+2, false)
	var versions []string
	for _, m := range all {
		if string(m.Key) == poison.ID {
			versions = append(versions, headers(m)["ce_entityversion"])
		}
	}
	require.Equal(t, []string{"1", "2"}, versions)
	require.Eventually(t, func() bool { return count(t, b, `SELECT count(*) FROM outbox_dead_letters`) == 0 }, 20*time.Second, 50*time.Millisecond)

	// And the record's next change flows straight through.
	_, err = b.st.Leads().Update(ctx, poison.ID, 0, core.Patch{"status": []byte(`"hot"`)})
	require.NoError(t, err)
	versions = nil
	for _, m := range consume(t, b.broker.Addr(), "crm.lead", "last", len(small)+3, false) {
		if string(m.Key) == poison.ID {
			versions = append(versions, headers(m)["ce_entityversion"])
		}
	}
	require.Equal(t, []string{"1", "2", "3"}, versions)
}
