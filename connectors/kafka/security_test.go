package kafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/core"
)

// TestSASL publishes to a broker that requires SASL, with each mechanism,
// and checks that a wrong password is refused.
func TestSASL(t *testing.T) {
	t.Parallel()
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			good := kafka.Security{SASLMechanism: mech, User: "crmhub", Password: "s3cret"}
			broker, err := kafka.StartEmbedded(kafka.EmbeddedConfig{Addr: "127.0.0.1:0", SASL: good})
			require.NoError(t, err)
			defer broker.Close()
			ev := []core.Event{{ID: "e1", Type: "lead.created", Entity: "lead", EntityID: "l1", EntityVersion: 1,
				OccurredAt: time.Now(), Source: "api", Data: []byte(`{}`)}}

			pub, err := kafka.NewPublisher(kafka.Config{Brokers: []string{broker.Addr()}, Security: good, AutoCreateTopics: true,
				Compression: "zstd", ProduceTimeout: 5 * time.Second})
			require.NoError(t, err)
			defer pub.Close()
			require.NoError(t, pub.Publish(context.Background(), ev))

			bad := good
			bad.Password = "wrong"
			pub2, err := kafka.NewPublisher(kafka.Config{Brokers: []string{broker.Addr()}, Security: bad, AutoCreateTopics: true,
				ProduceTimeout: 2 * time.Second})
			require.NoError(t, err)
			defer pub2.Close()
			require.Error(t, pub2.Publish(context.Background(), ev), "a wrong password is refused")
		})
	}
	_, err := kafka.NewPublisher(kafka.Config{Brokers: []string{"127.0.0.1:1"}, Compression: "brotli"})
	require.ErrorContains(t, err, "unknown compression")
	require.False(t, kafka.ValidMechanism("GSSAPI"))
}
