// Package kafka connects crmhub to Kafka with franz-go: the publisher the
// outbox relay sends change events through (topic per entity, key = record
// id, CloudEvents 1.0 binary-mode headers), and an embedded Kafka-protocol
// broker (kfake) for when no brokers are configured.
package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/outbox"
)

// Config configures the connection to the brokers.
type Config struct {
	Brokers     []string
	TopicPrefix string // default "crm"
	ClientID    string // default "crmhub"
	// Partitions of the topics crmhub creates. Default 6.
	Partitions int32
	// ProduceTimeout bounds one publish; the relay retries after it.
	// Default 30 s.
	ProduceTimeout time.Duration
	// Linger lets records gather into batches. Default 5 ms.
	Linger time.Duration
	// Compression of produced batches: none (default), gzip, snappy,
	// lz4, zstd. Consumers must read the codec: kafkajs reads only gzip
	// without a codec package, so the default is none, which every
	// client reads.
	Compression string
	// AutoCreateTopics lets producing create missing topics.
	AutoCreateTopics bool
	// StateTopics adds a compacted "<prefix>.<entity>.state" topic per
	// entity holding each record's latest state under its id (a tombstone
	// once it is deleted or merged away), for consumers that want the
	// current table rather than the history of changes.
	StateTopics bool
	// MaxEventBytes bounds one change event's message (value, key and
	// headers); a larger record is published as a reference event (see
	// Publisher.record). Keep it below the brokers' max.message.bytes.
	// Default 900 KiB.
	MaxEventBytes int
	Security      Security
	Logger        *slog.Logger
	// Hooks are franz-go hooks on the producer's client (metrics; the
	// bench counts the bytes each codec writes).
	Hooks []kgo.Hook
}

// DefaultMaxEventBytes is the default bound of a change event's message,
// below Kafka's default max.message.bytes (1 MB).
const DefaultMaxEventBytes = 900 << 10

func (c *Config) setDefaults() {
	if c.TopicPrefix == "" {
		c.TopicPrefix = "crm"
	}
	if c.ClientID == "" {
		c.ClientID = "crmhub"
	}
	if c.Partitions <= 0 {
		c.Partitions = 6
	}
	if c.ProduceTimeout <= 0 {
		c.ProduceTimeout = 30 * time.Second
	}
	if c.Linger <= 0 {
		c.Linger = 5 * time.Millisecond
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = DefaultMaxEventBytes
	}

	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Bounds Validate keeps the settings within.
const (
	maxPartitions    = 1000
	minMaxEventBytes = 4 << 10
	maxMaxEventBytes = 100 << 20
	maxLinger        = time.Second
)

// Validate checks the settings as an operator gave them, before
// NewPublisher fills defaults (a zero is refused, not replaced). Its
// message names the key it is about relative to the publisher's settings
// (partitions, sasl.mechanism), for the caller to prefix with where they
// are; NewPublisher itself refuses only what it cannot run without.
func (c Config) Validate() error {
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("brokers: must be host:port[,host:port…], got %q", b)
		}
	}
	if !core.ValidCode(c.TopicPrefix) {
		return fmt.Errorf("topic_prefix: must be 1 to 50 of a-z, 0-9, _, got %q", c.TopicPrefix)
	}
	switch {
	case c.Partitions < 1 || c.Partitions > maxPartitions:
		return fmt.Errorf("partitions: must be 1 to 1000, got %d", c.Partitions)
	case !ValidMechanism(c.Security.SASLMechanism):
		return fmt.Errorf("sasl.mechanism: must be empty, PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q", c.Security.SASLMechanism)
	case c.Security.SASLMechanism != "" && c.Security.User == "":
		return errors.New("sasl.user: is required with a SASL mechanism")
	case !validCompression(c.Compression):
		return fmt.Errorf("compression: must be none, gzip, snappy, lz4 or zstd, got %q", c.Compression)
	case c.MaxEventBytes < minMaxEventBytes || c.MaxEventBytes > maxMaxEventBytes:
		return fmt.Errorf("max_event_bytes: must be 4096 to 104857600 (below the brokers' max.message.bytes), got %d", c.MaxEventBytes)
	case c.Linger < 0 || c.Linger > maxLinger:
		return fmt.Errorf("linger: must be between 0 and 1s, got %s", c.Linger)
	}
	return nil
}

// validCompression reports whether c names a codec (an empty name is
// none for NewPublisher, not a valid setting).
func validCompression(c string) bool {
	switch c {
	case "none", "gzip", "snappy", "lz4", "zstd":
		return true
	}
	return false
}

// Publisher produces change events with an idempotent producer and
// acks=all, so that retries neither duplicate nor reorder a partition.
type Publisher struct {
	cfg Config
	cl  *kgo.Client
}

// NewPublisher connects to the brokers (lazily: it does not fail when they
// are down; publishing waits for them).
func NewPublisher(cfg Config) (*Publisher, error) {
	cfg.setDefaults()
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka: no brokers")
	}
	opts, err := commonOpts(cfg.Brokers, cfg.ClientID, cfg.Security)
	if err != nil {
		return nil, err
	}
	codec, err := compression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(cfg.Linger),
		kgo.RecordDeliveryTimeout(cfg.ProduceTimeout),
		kgo.ProducerBatchCompression(codec),
		// A batch takes the largest event the bound lets through.
		kgo.ProducerBatchMaxBytes(int32(max(cfg.MaxEventBytes+64<<10, 1000012))),
	)
	if len(cfg.Hooks) > 0 {
		opts = append(opts, kgo.WithHooks(cfg.Hooks...))
	}
	if cfg.AutoCreateTopics {
		opts = append(opts, kgo.AllowAutoTopicCreation())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return &Publisher{cfg: cfg, cl: cl}, nil
}

// Topic is the topic of an entity's events, e.g. "crm.lead".
func (p *Publisher) Topic(entity string) string { return p.cfg.TopicPrefix + "." + entity }

// StateTopic is the compacted topic of an entity's latest states, e.g.
// "crm.lead.state".
func (p *Publisher) StateTopic(entity string) string { return p.Topic(entity) + ".state" }

// EnsureTopics creates the entities' topics that do not exist yet (and
// their compacted state topics when configured).
func (p *Publisher) EnsureTopics(ctx context.Context, entities ...string) error {
	topics := make([]string, len(entities))
	for i, e := range entities {
		topics[i] = p.Topic(e)
	}
	if err := p.CreateTopics(ctx, topics...); err != nil {
		return err
	}
	if !p.cfg.StateTopics {
		return nil
	}
	for i, e := range entities {
		topics[i] = p.StateTopic(e)
	}
	compact := "compact"
	return p.createTopics(ctx, map[string]*string{"cleanup.policy": &compact}, topics)
}

// CreateTopics creates topics (full names, with the configured partitions
// and the brokers' default settings) that do not exist yet.
func (p *Publisher) CreateTopics(ctx context.Context, topics ...string) error {
	return p.createTopics(ctx, nil, topics)
}

func (p *Publisher) createTopics(ctx context.Context, configs map[string]*string, topics []string) error {
	res, err := kadm.NewClient(p.cl).CreateTopics(ctx, p.cfg.Partitions, -1, configs, topics...)
	if err != nil {
		return fmt.Errorf("kafka: create topics: %w", err)
	}
	for _, r := range res {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("kafka: create topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// Publish implements outbox.Publisher: it returns when every event is
// acknowledged by all in-sync replicas, or with outbox.Failures naming the
// events that were not, those the brokers refuse for good wrapped with
// outbox.ErrRejected.
func (p *Publisher) Publish(ctx context.Context, events []core.Event) error {
	per := 1
	if p.cfg.StateTopics {
		per = 2
	}
	recs := make([]*kgo.Record, 0, per*len(events))
	for i := range events {
		r := p.record(&events[i])
		recs = append(recs, r)
		if p.cfg.StateTopics {
			recs = append(recs, p.stateRecord(&events[i], r))
		}
	}
	res := p.cl.ProduceSync(ctx, recs...)
	if res.FirstErr() == nil {
		return nil
	}
	index := make(map[*kgo.Record]int, len(recs)) // results come in the order acknowledged
	for i, r := range recs {
		index[r] = i / per
	}
	failures := make(outbox.Failures, len(events))
	for _, r := range res {
		if i := index[r.Record]; r.Err != nil && failures[i] == nil {
			failures[i] = classify(r.Err)
		}
	}
	return failures
}

// classify wraps a record's produce error, marking the refusals that
// sending again cannot cure.
func classify(err error) error {
	for _, permanent := range []error{kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord,
		kerr.CorruptMessage, kerr.InvalidTopicException} {
		if errors.Is(err, permanent) {
			return fmt.Errorf("kafka: produce: %w: %w", outbox.ErrRejected, err)
		}
	}
	return fmt.Errorf("kafka: produce: %w", err)
}

// record renders an event as a Kafka record in the CloudEvents 1.0 Kafka
// protocol binding, binary mode: attributes in ce_ headers, the record
// after the change as the JSON value.
func (p *Publisher) record(e *core.Event) *kgo.Record {
	h := []kgo.RecordHeader{
		{Key: "ce_specversion", Value: []byte("1.0")},
		{Key: "ce_id", Value: []byte(e.ID)},
		{Key: "ce_type", Value: []byte("crm." + e.Type)},
		{Key: "ce_source", Value: []byte("/crmhub/" + e.Source)},
		{Key: "ce_time", Value: []byte(e.OccurredAt.UTC().Format(time.RFC3339Nano))},
		{Key: "ce_subject", Value: []byte(e.EntityID)},
		{Key: "content-type", Value: []byte("application/json")},
		{Key: "ce_entityversion", Value: []byte(strconv.FormatInt(e.EntityVersion, 10))},
		{Key: "ce_correlationid", Value: []byte(e.CorrelationID)},
		{Key: "ce_actor", Value: []byte(e.Actor)},
	}
	if len(e.Changed) > 0 {
		h = append(h, kgo.RecordHeader{Key: "ce_changed", Value: []byte(strings.Join(e.Changed, ","))})
	}
	r := &kgo.Record{Topic: p.Topic(e.Entity), Key: []byte(e.EntityID), Value: e.Data, Headers: h}
	if size(r) > p.cfg.MaxEventBytes {
		// Too large for one message: a reference event keeps the change in
		// its place in the stream, the record is read from the API.
		r.Value, _ = json.Marshal(e.Ref())
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: "ce_truncated", Value: []byte("true")})
	}
	return r
}

// size is what a record weighs against a message bound.
func size(r *kgo.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// stateRecord is the change's record in the entity's state topic: the same
// key, headers and value, or no value (a tombstone, which compaction
// eventually removes with the key) when the record is gone.
func (p *Publisher) stateRecord(e *core.Event, r *kgo.Record) *kgo.Record {
	s := &kgo.Record{Topic: p.StateTopic(e.Entity), Key: r.Key, Value: r.Value, Headers: r.Headers}
	if op := e.Type[strings.LastIndexByte(e.Type, '.')+1:]; op == core.OpDeleted || op == core.OpMerged {
		s.Value = nil
	}
	return s
}

// Close flushes and disconnects.
func (p *Publisher) Close() { p.cl.Close() }

// EndOffsets returns the next offset to be written per partition of a
// topic (for consumer lag).
func EndOffsets(ctx context.Context, brokers []string, sec Security, topic string) (map[int32]int64, error) {
	opts, err := commonOpts(brokers, "crmhub-status", sec)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	res.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[o.Partition] = o.Offset
		}
	})
	return out, nil
}
