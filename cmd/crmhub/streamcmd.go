package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

func (m *Main) stream(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "stream", "Usage: crmhub stream resync --entity KIND [--since TIME]\n       crmhub stream status\n"+
		"       crmhub stream dead-letters list [--limit N]\n       crmhub stream dead-letters retry [--all | EVENT_ID ...]", args,
		subcommand{"resync", m.streamResync},
		subcommand{"status", m.streamStatus},
		subcommand{"dead-letters", m.streamDeadLetters})
}

func (m *Main) streamDeadLetters(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "stream dead-letters", "Usage: crmhub stream dead-letters list [--limit N]\n"+
		"       crmhub stream dead-letters retry [--all | EVENT_ID ...]", args,
		subcommand{"list", m.deadLettersList},
		subcommand{"retry", m.deadLettersRetry})
}

func (m *Main) deadLettersList(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("stream dead-letters list", "stream dead-letters list [--limit N]")
	limit := fs.Int("limit", 100, "list at most this many, oldest first")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 100_000 {
		return usagef("--limit: want 1 to 100000, got %d", *limit)
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		list, err := st.DeadLetters(ctx, *limit)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(m.Stdout, "no dead letters: every change event was published")
			return nil
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "EVENT\tTYPE\tRECORD\tVERSION\tBYTES\tATTEMPTS\tFAILED AT\tREASON")
		for _, d := range list {
			reason := d.Reason
			if d.RetryRequested {
				reason = "(retry requested) " + reason
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", d.ID, d.Type, d.EntityID, d.EntityVersion, d.Size,
				d.Attempts, d.FailedAt.UTC().Format(time.RFC3339), reason)
		}
		return w.Flush()
	})
}

func (m *Main) deadLettersRetry(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("stream dead-letters retry", "stream dead-letters retry [--all | EVENT_ID ...]")
	all := fs.Bool("all", false, "retry every dead letter")
	if err := parse(fs, args); err != nil {
		return err
	}
	ids := fs.Args()
	if *all == (len(ids) > 0) {
		return usagef("name the dead letters' event ids, or --all")
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		n, err := st.RetryDeadLetters(ctx, ids)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(m.Stdout, "asked the relay to publish %d dead letter(s) again (a record's go together, in order); see crmhub stream status\n", n)
		return nil
	})
}

func (m *Main) streamResync(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("stream resync", "stream resync --entity KIND [--since TIME]")
	entity := fs.String("entity", "", "lead, account, contact, deal, activity, user, pipeline, call, product, service, "+
		"product_group, price_book, quote, sales_order, purchase_order, invoice, act, realization or payment (required)")
	since := fs.String("since", "", "only records changed since (RFC 3339 or YYYY-MM-DD)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *entity == "" {
		return usagef("--entity is required")
	}
	var from time.Time
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, *since); err != nil {
				return usagef("--since: want RFC 3339 or YYYY-MM-DD, got %q", *since)
			}
		}
		from = t
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		n, err := st.Resync(core.NewContextWithActor(ctx, core.Actor{ID: "cli", Source: "resync"}), *entity, from)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(m.Stdout, "queued %d %s snapshot(s) (type %s.snapshot) for the relay\n", n, *entity, *entity)
		return nil
	})
}

func (m *Main) streamStatus(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("stream status", "stream status")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		s, err := st.StreamStatus(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "backlog\t%d event(s) not yet published", s.Backlog)
		if s.OldestUnpublished != nil {
			fmt.Fprintf(w, ", oldest from %s (%s ago)", s.OldestUnpublished.UTC().Format(time.RFC3339), time.Since(*s.OldestUnpublished).Round(time.Second))
		}
		fmt.Fprintln(w)
		if s.LastPublished != nil {
			fmt.Fprintf(w, "last published\t%s at %s\n", s.LastPublishedType, s.LastPublished.UTC().Format(time.RFC3339))
		} else {
			fmt.Fprintln(w, "last published\tnothing yet")
		}
		fmt.Fprintf(w, "dead letters\t%d event(s) refused by the stream, %d waiting behind them (crmhub stream dead-letters list)\n",
			s.RelayDeadLetters, s.RelayHeld)
		fmt.Fprintf(w, "commands\t%d applied, %d in the dead-letter topic\n", s.Applied, s.DeadLetters)
		brokers := cfg.Kafka.brokers()
		sec, err := cfg.Kafka.security()
		if err != nil {
			return err
		}
		if len(brokers) == 0 {
			brokers, sec = []string{cfg.Kafka.Embedded.Addr}, kafka.Security{}
		}
		lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		topic := cfg.Kafka.TopicPrefix + ".commands"
		ends, lagErr := kafka.EndOffsets(lctx, brokers, sec, topic)
		keys := make([]string, 0, len(s.Offsets))
		for k := range s.Offsets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			lag := "lag unknown (brokers unreachable)"
			if lagErr == nil {
				var p int32
				_, _ = fmt.Sscanf(k[strings.LastIndexByte(k, '/')+1:], "%d", &p)
				lag = fmt.Sprintf("lag %d", ends[p]-s.Offsets[k])
			}
			fmt.Fprintf(w, "consumer\t%s next offset %d, %s\n", k, s.Offsets[k], lag)
		}
		return w.Flush()
	})
}
