package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/crmhub/crmhub/core"
)

// CommandConfig configures the inbound command consumer.
type CommandConfig struct {
	Brokers []string
	Group   string // default "crmhub-commands"
	Topic   string // default "crm.commands"
	DLQ     string // default Topic + ".dlq"
	// MaxAttempts bounds tries of a command failing transiently before it
	// goes to the dead-letter topic. Default 5.
	MaxAttempts int
	// RetryBackoff is the first wait between tries (doubling). Default 200 ms.
	RetryBackoff time.Duration
	// OnApplied and OnDeadLetter, when set, count commands (metrics).
	OnApplied    func(n int)
	OnDeadLetter func()
	// OnLag, when set, reports after each fetched batch of a partition how
	// many messages the broker holds beyond it (its high watermark minus
	// the next offset to apply): the consumer lag.
	OnLag    func(topic string, partition int32, lag int64)
	Security Security
	Logger   *slog.Logger
}

func (c *CommandConfig) setDefaults() {
	if c.Group == "" {
		c.Group = "crmhub-commands"
	}
	if c.Topic == "" {
		c.Topic = "crm.commands"
	}
	if c.DLQ == "" {
		c.DLQ = c.Topic + ".dlq"
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// maxCommandAttempts bounds MaxAttempts.
const maxCommandAttempts = 100

// Validate checks the settings as an operator gave them, before
// NewCommandConsumer fills defaults; its message names the key relative
// to the consumer's settings (group, max_attempts).
func (c CommandConfig) Validate() error {
	switch {
	case c.Group == "":
		return errors.New("group: must not be empty")
	case c.MaxAttempts < 1 || c.MaxAttempts > maxCommandAttempts:
		return fmt.Errorf("max_attempts: must be 1 to 100, got %d", c.MaxAttempts)
	}
	return nil
}

// CommandConsumer applies commands from other systems exactly once in
// effect: each in one PostgreSQL transaction with the record of its id and
// the next offset to read, which the consumer resumes from (the group's
// Kafka offsets are not used). Partitions are processed concurrently, each
// in order; a message that cannot be applied goes to the dead-letter topic
// with the error in its headers and never blocks its partition.
type CommandConsumer struct {
	cfg CommandConfig
	svc core.CommandService
	cl  *kgo.Client
}

// NewCommandConsumer connects the consumer; Run consumes.
func NewCommandConsumer(cfg CommandConfig, svc core.CommandService) (*CommandConsumer, error) {
	cfg.setDefaults()
	c := &CommandConsumer{cfg: cfg, svc: svc}
	opts, err := commonOpts(cfg.Brokers, "crmhub-commands", cfg.Security)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.OnPartitionsAssigned(c.resume),
		kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(kgo.AllISRAcks()), // dead letters
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafka commands: %w", err)
	}
	c.cl = cl
	return c, nil
}

// resume starts assigned partitions where PostgreSQL says.
func (c *CommandConsumer) resume(ctx context.Context, cl *kgo.Client, assigned map[string][]int32) {
	offsets, err := c.svc.StreamOffsets(ctx, c.cfg.Group, c.cfg.Topic)
	if err != nil {
		c.cfg.Logger.Error("commands_offsets", "error", err)
		return
	}
	set := map[int32]kgo.EpochOffset{}
	for _, p := range assigned[c.cfg.Topic] {
		if o, ok := offsets[p]; ok {
			set[p] = kgo.EpochOffset{Epoch: -1, Offset: o}
		}
	}
	if len(set) > 0 {
		cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: set})
	}
}

// Run consumes until ctx ends.
func (c *CommandConsumer) Run(ctx context.Context) error {
	defer c.cl.Close()
	for {
		fs := c.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(topic string, p int32, err error) {
			c.cfg.Logger.Warn("commands_fetch", "topic", topic, "partition", p, "error", err)
		})
		var wg sync.WaitGroup
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.partition(ctx, p.Records)
				if c.cfg.OnLag != nil && len(p.Records) > 0 && ctx.Err() == nil {
					next := p.Records[len(p.Records)-1].Offset + 1
					c.cfg.OnLag(p.Topic, p.Partition, max(p.HighWatermark-next, 0))
				}
			}()
		})
		wg.Wait()
	}
}

// maxBatch bounds the commands of one transaction: each has a savepoint,
// and PostgreSQL tracks only so many subtransactions cheaply.
const maxBatch = 500

// partition applies a partition's records in order: runs of well-formed
// commands in one transaction each; a record that fails (or is malformed)
// goes through handle, with its retries and dead letter, alone.
func (c *CommandConsumer) partition(ctx context.Context, recs []*kgo.Record) {
	for len(recs) > 0 && ctx.Err() == nil {
		var cmds []core.Command
		var pos []core.StreamPosition
		for _, r := range recs[:min(len(recs), maxBatch)] {
			var cmd core.Command
			if json.Unmarshal(r.Value, &cmd) != nil {
				break
			}
			cmds = append(cmds, cmd)
			pos = append(pos, core.StreamPosition{Group: c.cfg.Group, Topic: r.Topic, Partition: r.Partition, Offset: r.Offset})
		}
		n := 0
		if len(cmds) > 0 {
			var err error
			n, err = c.svc.ApplyCommands(ctx, cmds, pos)
			if c.cfg.OnApplied != nil && n > 0 {
				c.cfg.OnApplied(n)
			}
			if err == nil && n == len(cmds) {
				recs = recs[n:]
				continue
			}
		}
		if n < len(recs) {
			c.handle(ctx, recs[n]) // the one that failed, or a malformed one
			n++
		}
		recs = recs[n:]
	}
}

// handle applies one message, retrying transient failures, and sets it
// aside in the dead-letter topic when it cannot be applied.
func (c *CommandConsumer) handle(ctx context.Context, r *kgo.Record) {
	pos := core.StreamPosition{Group: c.cfg.Group, Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
	var cmd core.Command
	if err := json.Unmarshal(r.Value, &cmd); err != nil {
		c.deadLetter(ctx, r, pos, "", "malformed", "not a command: "+err.Error())
		return
	}
	wait := c.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		_, err := c.svc.ApplyCommand(ctx, cmd, pos)
		if err == nil {
			if c.cfg.OnApplied != nil {
				c.cfg.OnApplied(1)
			}
			return
		}
		code := core.ErrorCode(err)
		if code != core.EINTERNAL || attempt >= c.cfg.MaxAttempts || ctx.Err() != nil {
			if ctx.Err() != nil {
				return // shutting down: read again next time
			}
			c.deadLetter(ctx, r, pos, cmd.ID, code, core.ErrorMessage(err)+detail(err))
			return
		}
		c.cfg.Logger.Warn("command_retry", "id", cmd.ID, "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func detail(err error) string {
	if f := core.ErrorFields(err); len(f) > 0 {
		return fmt.Sprintf(" (%s: %s)", f[0].Field, f[0].Message)
	}
	return ""
}

// deadLetter produces the message to the dead-letter topic with the reason
// in its headers, then records its position as done. Until the dead-letter
// copy is acknowledged, it keeps trying: nothing is dropped.
func (c *CommandConsumer) deadLetter(ctx context.Context, r *kgo.Record, pos core.StreamPosition, id, code, reason string) {
	dl := &kgo.Record{Topic: c.cfg.DLQ, Key: r.Key, Value: r.Value, Headers: append(append([]kgo.RecordHeader{}, r.Headers...),
		kgo.RecordHeader{Key: "crmhub_error", Value: []byte(reason)},
		kgo.RecordHeader{Key: "crmhub_error_code", Value: []byte(code)},
		kgo.RecordHeader{Key: "crmhub_command_id", Value: []byte(id)},
		kgo.RecordHeader{Key: "crmhub_source_topic", Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: "crmhub_source_partition", Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: "crmhub_source_offset", Value: []byte(strconv.FormatInt(r.Offset, 10))},
	)}
	for ctx.Err() == nil {
		err := c.cl.ProduceSync(ctx, dl).FirstErr()
		if err == nil {
			err = c.svc.SkipCommand(ctx, pos, id, reason)
		}
		if err == nil {
			c.cfg.Logger.Warn("command_dead_letter", "id", id, "code", code, "reason", reason)
			if c.cfg.OnDeadLetter != nil {
				c.cfg.OnDeadLetter()
			}
			return
		}
		if errors.Is(err, context.Canceled) {
			return
		}
		c.cfg.Logger.Error("command_dead_letter_failed", "error", err)
		time.Sleep(c.cfg.RetryBackoff)
	}
}
