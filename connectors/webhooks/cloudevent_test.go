package webhooks_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	cloudevent "github.com/cloudevents/sdk-go/v2/event"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/connectors/webhooks"
	"github.com/crmhub/crmhub/core"
)

// parse reads a body with the CloudEvents Go SDK and validates it.
func parse(t *testing.T, body []byte) cloudevent.Event {
	t.Helper()
	var ev cloudevent.Event
	require.NoError(t, ev.UnmarshalJSON(body))
	require.NoError(t, ev.Validate())
	return ev
}

func TestWebhookBody(t *testing.T) {
	t.Parallel()

	t.Run("CloudEventAttributes", func(t *testing.T) {
		t.Parallel()
		e := sampleEvent()
		body, err := webhooks.Body(e)
		require.NoError(t, err)
		ev := parse(t, body)
		require.Equal(t, "1.0", ev.SpecVersion())
		require.Equal(t, e.ID, ev.ID())
		require.Equal(t, "crm.deal.updated", ev.Type())
		require.Equal(t, "/crmhub/api", ev.Source())
		require.Equal(t, e.EntityID, ev.Subject())
		require.Equal(t, "application/json", ev.DataContentType())
		require.True(t, e.OccurredAt.Equal(ev.Time()))
		require.Equal(t, map[string]any{
			"entityversion": "3", "correlationid": "req-7", "actor": "key-1", "changed": "stage,amount",
		}, ev.Extensions())
		require.JSONEq(t, string(e.Data), string(ev.Data()))
	})

	t.Run("StructuredJSON", func(t *testing.T) {
		t.Parallel()
		body, err := webhooks.Body(sampleEvent())
		require.NoError(t, err)
		var raw map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(body, &raw))
		require.Equal(t, `"2026-12-01T06:30:00.123456789Z"`, string(raw["time"]), "RFC 3339 in UTC")
		require.Equal(t, byte('{'), raw["data"][0], "data is the record as JSON, not a string")
		require.Contains(t, string(body), `"Поставка <A&B>"`, "the record as is, not HTML-escaped")
		require.Equal(t, `"3"`, string(raw["entityversion"]), "extension values are strings")
	})

	t.Run("EmptyAttributesLeftOut", func(t *testing.T) {
		t.Parallel()
		e := sampleEvent()
		e.CorrelationID, e.Actor, e.Changed = "", "", nil
		body, err := webhooks.Body(e)
		require.NoError(t, err)
		ev := parse(t, body)
		require.Equal(t, map[string]any{"entityversion": "3"}, ev.Extensions())
		for _, name := range []string{"correlationid", "actor", "changed"} {
			require.NotContains(t, string(body), `"`+name+`"`)
		}
	})

	t.Run("NoData", func(t *testing.T) {
		t.Parallel()
		e := sampleEvent()
		e.Data = nil
		body, err := webhooks.Body(e)
		require.NoError(t, err)
		require.Empty(t, parse(t, body).Data())
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		e := sampleEvent()
		e.Data = []byte(`{"broken"`)
		_, err := webhooks.Body(e)
		require.ErrorContains(t, err, "not JSON")
		e = sampleEvent()
		e.ID = ""
		_, err = webhooks.Body(e)
		require.ErrorContains(t, err, "needs an id")
	})
}

// TestWebhookBodyMatchesKafka: the webhook body carries the attributes
// and data the Kafka relay publishes for the same event (its non-empty
// ce_* headers, content-type as datacontenttype, the record as the value).
func TestWebhookBodyMatchesKafka(t *testing.T) {
	t.Parallel()
	e := sampleEvent()
	headers, value := publishedToKafka(t, e)

	body, err := webhooks.Body(e)
	require.NoError(t, err)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &raw))
	fromBody := map[string]string{}
	for name, v := range raw {
		if name == "data" {
			continue
		}
		var s string
		require.NoError(t, json.Unmarshal(v, &s), "attribute %s is a string", name)
		fromBody[name] = s
	}

	fromKafka := map[string]string{}
	for k, v := range headers {
		if name, ok := strings.CutPrefix(k, "ce_"); ok && v != "" {
			fromKafka[name] = v
		}
	}
	fromKafka["datacontenttype"] = headers["content-type"]
	require.Equal(t, fromKafka, fromBody)
	require.JSONEq(t, string(value), string(raw["data"]))
}

// publishedToKafka publishes e through the Kafka relay's publisher to an
// embedded broker and returns the record's headers and value.
func publishedToKafka(t *testing.T, e core.Event) (map[string]string, []byte) {
	t.Helper()
	broker, err := kafka.StartEmbedded(kafka.EmbeddedConfig{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(broker.Close)
	pub, err := kafka.NewPublisher(kafka.Config{Brokers: []string{broker.Addr()}, Partitions: 1, AutoCreateTopics: true})
	require.NoError(t, err)
	t.Cleanup(pub.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, pub.EnsureTopics(ctx, e.Entity))
	require.NoError(t, pub.Publish(ctx, []core.Event{e}))

	cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr()), kgo.ConsumeTopics(pub.Topic(e.Entity)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "no record in 30 s")
		for _, r := range fs.Records() {
			h := map[string]string{}
			for _, rh := range r.Headers {
				h[rh.Key] = string(rh.Value)
			}
			return h, r.Value
		}
	}
}
