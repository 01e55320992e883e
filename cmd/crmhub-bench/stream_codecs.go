package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/outbox"
)

// codecs drains n events through the relay once per producer codec and
// reports events a second and the bytes written to the broker against
// the batches' uncompressed size (kafka.compression chooses the codec;
// consumers must read it).
func codecs(ctx context.Context, pool *pgxpool.Pool, addr string, n, batch int) error {
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		var written batchBytes
		pub, err := kafka.NewPublisher(kafka.Config{Brokers: []string{addr}, TopicPrefix: "codec_" + codec, Partitions: 6,
			Compression: codec, Hooks: []kgo.Hook{&written}})
		if err != nil {
			return err
		}
		if err := pub.EnsureTopics(ctx, core.EntityLead); err != nil {
			pub.Close()
			return err
		}
		if err := copyOutbox(ctx, pool, syntheticEvents(n)); err != nil {
			pub.Close()
			return err
		}
		pending, took, _, err := drain(ctx, pool, pub, batch)
		pub.Close()
		if err != nil {
			return fmt.Errorf("codec %s: %w", codec, err)
		}
		wire, raw := written.wire.Load(), written.raw.Load()
		fmt.Printf("codec %-7s relay %8.0f events/s; %6.1f MB written of %6.1f MB (%3.0f%%)\n",
			codec, float64(pending)/took.Seconds(), float64(wire)/1e6, float64(raw)/1e6, 100*float64(wire)/float64(max(raw, 1)))
	}
	return nil
}

// batchBytes counts the produced batches' bytes on the wire and before
// compression.
type batchBytes struct{ wire, raw atomic.Int64 }

// OnProduceBatchWritten implements kgo.HookProduceBatchWritten.
func (b *batchBytes) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	b.wire.Add(int64(m.CompressedBytes))
	b.raw.Add(int64(m.UncompressedBytes))
}

// drain runs a relay over pub until the outbox's pending events are all
// published or dead-lettered, and says how many there were, how long it
// took and how many were dead letters.
func drain(ctx context.Context, pool *pgxpool.Pool, pub *kafka.Publisher, batch int) (pending int64, took time.Duration, dead int64, err error) {
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM outbox_pending").Scan(&pending); err != nil {
		return 0, 0, 0, err
	}
	var published, deadLetters atomic.Int64
	drained := make(chan struct{})
	var once sync.Once
	check := func() {
		if published.Load()+deadLetters.Load() >= pending {
			once.Do(func() { close(drained) })
		}
	}
	relay := outbox.NewRelay(outbox.RelayConfig{PollInterval: 100 * time.Millisecond, BatchSize: batch,
		RetryBackoff: time.Second,
		OnPublished:  func(evs []core.Event) { published.Add(int64(len(evs))); check() },
		OnDeadLetter: func(*core.Event, bool) { deadLetters.Add(1); check() }}, pool, pub)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	done := make(chan struct{})
	go func() { _ = relay.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case <-drained:
	case <-time.After(5 * time.Minute):
		return pending, 0, 0, fmt.Errorf("the backlog was not drained in 5 minutes (%d published)", published.Load())
	}
	return pending, time.Since(start), deadLetters.Load(), nil
}
