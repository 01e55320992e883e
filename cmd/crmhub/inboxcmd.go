package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store"
)

func (m *Main) inbox(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(m.Stderr, "Usage: crmhub inbox status\n       crmhub inbox failed [--source S]\n       crmhub inbox retry [--source S]")
		if len(args) == 0 {
			return usagef("inbox needs a subcommand")
		}
		return nil
	}
	fs, cfgPath := m.flags("inbox "+args[0], "inbox status|failed|retry [--source telephony:mango]")
	source := fs.String("source", "", "only deliveries of this source, e.g. telephony:zadarma")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "status", "failed", "retry":
	default:
		return usagef("unknown inbox subcommand %q: use status, failed or retry", args[0])
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		in := inbox.New(st.Pool())
		switch args[0] {
		case "status":
			s, err := in.Stats(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "pending %d, done %d, failed %d", s.Pending, s.Done, s.Failed)
			if s.OldestPending != nil {
				fmt.Fprintf(m.Stdout, ", oldest pending received %s ago", time.Since(*s.OldestPending).Round(time.Second))
			}
			fmt.Fprintln(m.Stdout)
		case "failed":
			fails, err := in.Failed(ctx, *source, 100)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSOURCE\tKEY\tRECEIVED\tATTEMPTS\tERROR")
			for _, f := range fails {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\n", f.ID, f.Source, f.DedupeKey, f.ReceivedAt.UTC().Format(time.RFC3339), f.Attempts, f.Error)
			}
			return w.Flush()
		case "retry":
			n, err := in.Retry(ctx, *source)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "queued %d failed deliveries again; a running serve processes them within its poll interval\n", n)
		}
		return nil
	})
}
