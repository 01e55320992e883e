package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/outbox"
	"github.com/crmhub/crmhub/core/store"
)

// stream is the running change stream: the embedded broker (if any), the
// publisher, the relay and the inbound command consumer.
type stream struct {
	broker *kafka.Embedded
	pub    *kafka.Publisher
	done   chan struct{}
	cancel context.CancelFunc
}

// startStream starts the embedded broker when no brokers are configured,
// connects the publisher, creates the topics and runs the relay.
func startStream(ctx context.Context, cfg Config, st *store.Store, sm *streamMetrics, log *slog.Logger) (*stream, error) {
	s := &stream{done: make(chan struct{})}
	pc := cfg.Kafka.publisher()
	pc.Logger = log
	if len(pc.Brokers) == 0 {
		b, err := kafka.StartEmbedded(kafka.EmbeddedConfig{Addr: cfg.Kafka.Embedded.Addr,
			DataDir: filepath.Join(cfg.DataDir, "kafka"), SyncWrites: cfg.Kafka.Embedded.SyncWrites})
		if err != nil {
			return nil, err
		}
		s.broker = b
		log.Info("kafka_embedded", "addr", b.Addr())
		// The embedded broker listens in plaintext without SASL.
		pc.Brokers = []string{b.Addr()}
		pc.Security = kafka.Security{}
	} else {
		sec, err := cfg.Kafka.security()
		if err != nil {
			return nil, err
		}
		pc.Security = sec
	}
	pub, err := kafka.NewPublisher(pc)
	if err != nil {
		s.stop()
		return nil, err
	}
	s.pub = pub
	commands := pub.Topic("commands")
	if err := errors.Join(pub.EnsureTopics(ctx, core.StreamedEntities()...), pub.CreateTopics(ctx, commands, commands+".dlq")); err != nil {
		// Not fatal: the relay retries publishing until the brokers answer.
		log.Warn("kafka_topics", "error", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	var runs []func(context.Context) error
	if cfg.Kafka.Relay.Enabled {
		rc := cfg.Kafka.relay()
		rc.OnPublished = sm.onPublished
		rc.OnDeadLetter = sm.onDeadLetter
		rc.Logger = log
		runs = append(runs, outbox.NewRelay(rc, st.Pool(), pub).Run)
	}
	if cfg.Kafka.Commands.Enabled {
		ccfg := cfg.Kafka.commands()
		ccfg.Brokers = pc.Brokers
		ccfg.Topic = commands
		ccfg.Security = pc.Security
		ccfg.Logger = log
		ccfg.OnApplied = func(n int) { sm.applied.Add(float64(n)) }
		ccfg.OnDeadLetter = sm.deadLetters.Inc
		ccfg.OnLag = sm.onLag
		cc, err := kafka.NewCommandConsumer(ccfg, st)
		if err != nil {
			cancel()
			s.stop()
			return nil, err
		}
		runs = append(runs, cc.Run)
	}
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(rctx); err != nil {
				log.Error("stream", "error", err)
			}
		}()
	}
	go func() { wg.Wait(); close(s.done) }()
	return s, nil
}

// brokerAddr is where clients reach the stream.
func (s *stream) brokerAddr(cfg Config) string {
	if s.broker != nil {
		return s.broker.Addr()
	}
	return cfg.Kafka.Brokers
}

// stop stops the relay, then the publisher, then the embedded broker.
func (s *stream) stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	if s.pub != nil {
		s.pub.Close()
	}
	if s.broker != nil {
		s.broker.Close()
	}
}
