package kafka_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// TestSaramaConsumerGroups: sarama (the client of the CloudEvents Go SDK
// and many Go services) reads the change stream in a consumer group at
// the protocol versions services set, the CloudEvents SDK makes an event
// of what it reads, and a new session of the group resumes after the
// committed offset. sarama 2.4+ speaks
// OffsetFetch v6+, whose null metadata it cannot decode before v1.46:
// the embedded broker sends "" as Apache Kafka does. go.mod pins sarama
// at v1.45.2, the version the CloudEvents Go SDK's sarama binding
// (protocol/kafka_sarama v2.16.2) requires.
func TestSaramaConsumerGroups(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	b.startRelay(t)
	for _, version := range []sarama.KafkaVersion{sarama.V2_1_0_0, sarama.V2_8_0_0, sarama.V3_6_0_0} {
		t.Run(version.String(), func(t *testing.T) {
			ctx := apiCtx()
			name := "Сарама " + version.String()
			first, err := b.st.Leads().Create(ctx, core.Patch{"last_name": fmt.Appendf(nil, "%q", name), "company": []byte(`"ООО Сарама"`)})
			require.NoError(t, err)
			group := "sarama-" + version.String()
			m := saramaRead(t, b.broker.Addr(), group, version, func(h map[string]string) bool { return h["ce_subject"] == first.ID })
			// The CloudEvents Go SDK reads it as an event (binary mode).
			ev, err := binding.ToEvent(t.Context(), kafka_sarama.NewMessageFromConsumerMessage(m))
			require.NoError(t, err)
			require.NoError(t, ev.Validate())
			require.Equal(t, "crm.lead.created", ev.Type())
			require.Equal(t, "/crmhub/api", ev.Source())
			require.Equal(t, first.ID, ev.Subject())
			require.Equal(t, "application/json", ev.DataContentType())
			require.Equal(t, "req-7", ev.Extensions()["correlationid"])
			var data map[string]any
			require.NoError(t, ev.DataAs(&data))
			require.Equal(t, name, data["last_name"])

			second, err := b.st.Leads().Create(ctx, core.Patch{"last_name": fmt.Appendf(nil, "%q", name+" 2"), "company": []byte(`"ООО Сарама"`)})
			require.NoError(t, err)
			// want runs in a goroutine per claimed partition.
			var again atomic.Bool
			saramaRead(t, b.broker.Addr(), group, version, func(h map[string]string) bool {
				if h["ce_subject"] == first.ID {
					again.Store(true)
				}
				return h["ce_subject"] == second.ID
			})
			require.False(t, again.Load(), "the group resumes after its committed offset")
		})
	}
}

// saramaRead joins group on crm.lead, marks and commits every message up
// to the first whose headers satisfy want, and returns it.
func saramaRead(t *testing.T, addr, group string, version sarama.KafkaVersion, want func(map[string]string) bool) *sarama.ConsumerMessage {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = version
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Return.Errors = true
	g, err := sarama.NewConsumerGroup([]string{addr}, group, cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, g.Close()) }()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	h := &saramaHandler{want: want, found: make(chan *sarama.ConsumerMessage, 1), cancel: cancel}
	errs := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{"crm.lead"}, h); err != nil && ctx.Err() == nil {
				errs <- err
				return
			}
		}
	}()
	select {
	case found := <-h.found:
		return found
	case err := <-errs:
		t.Fatalf("sarama %s: %v", version, err)
	case err := <-g.Errors():
		t.Fatalf("sarama %s: %v", version, err)
	case <-ctx.Done():
		t.Fatalf("sarama %s: no matching message in 60 s", version)
	}
	return nil
}

type saramaHandler struct {
	want   func(map[string]string) bool
	found  chan *sarama.ConsumerMessage
	cancel context.CancelFunc
}

func (*saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		headers := map[string]string{}
		for _, rh := range m.Headers {
			headers[string(rh.Key)] = string(rh.Value)
		}
		sess.MarkMessage(m, "")
		if h.want(headers) {
			sess.Commit()
			select {
			case h.found <- m:
			default:
			}
			h.cancel()
			return nil
		}
	}
	return nil
}

// kafkajs is the Node.js client, pinned; its package is installed by the
// test (npm; `make deps` installs Node).
const kafkajs = "kafkajs@2.2.4"

// TestKafkajsConsumerGroup: kafkajs, which reads only gzip of the
// compressed codecs without a codec package, reads the change stream as
// the relay writes it by default, in a consumer group.
func TestKafkajsConsumerGroup(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	b.startRelay(t)
	ctx := apiCtx()
	var ids []string
	for _, name := range []string{"Кафкаджеев", "Нодов"} {
		l, err := b.st.Leads().Create(ctx, core.Patch{"last_name": fmt.Appendf(nil, "%q", name), "company": []byte(`"ООО Нода"`)})
		require.NoError(t, err)
		ids = append(ids, l.ID)
	}
	dir := t.TempDir()
	script, err := os.ReadFile("testdata/kafkajs-consume.js")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "consume.js"), script, 0o600))
	install := exec.CommandContext(t.Context(), "npm", "install", "--no-audit", "--no-fund", "--silent", kafkajs)
	install.Dir = dir
	out, err := install.CombinedOutput()
	require.NoError(t, err, "npm install %s (make deps installs Node and npm): %s", kafkajs, out)

	rctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	run := exec.CommandContext(rctx, "node", "consume.js", b.broker.Addr(), "crm.lead", "kafkajs-interop", "2")
	run.Dir = dir
	var stderr strings.Builder
	run.Stderr = &stderr
	out, err = run.Output()
	require.NoError(t, err, "kafkajs: %s", stderr.String())
	var got []struct {
		Key     string            `json:"key"`
		Headers map[string]string `json:"headers"`
		Value   map[string]any    `json:"value"`
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	require.Len(t, got, 2)
	names := map[string]string{}
	for _, m := range got {
		require.Equal(t, "crm.lead.created", m.Headers["ce_type"])
		require.Equal(t, m.Key, m.Headers["ce_subject"])
		names[m.Key], _ = m.Value["last_name"].(string)
	}
	require.Equal(t, map[string]string{ids[0]: "Кафкаджеев", ids[1]: "Нодов"}, names)
}
