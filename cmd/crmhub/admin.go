package main

import (
	"context"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

// withStore opens the database (attaching to a running serve's embedded
// cluster) for a CLI command, logging to stderr at warn level. Unless the
// command is migrate, the schema must be current.
func (m *Main) withStore(ctx context.Context, cfgPath string, fn func(st *store.Store) error) error {
	return m.openStore(ctx, cfgPath, true, fn)
}

func (m *Main) openStore(ctx context.Context, cfgPath string, needSchema bool, fn func(st *store.Store) error) error {
	cfg, err := m.loadConfig(cfgPath)
	if err != nil {
		return err
	}
	lc := cfg.Log
	if lc.Level == "info" || lc.Level == "debug" {
		lc.Level = "warn"
	}
	log := newLogger(lc, m.Stderr)
	db, err := openDatabase(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer db.close(ctx, log)
	if needSchema {
		if ok, err := store.MigrationsCurrent(ctx, db.pool); err != nil || !ok {
			return fmt.Errorf("the database schema is not current: run 'crmhub migrate up' (or start 'crmhub serve') first")
		}
	}
	st := store.New(db.pool, log)
	defer st.Close()
	configureStore(st, cfg)
	return fn(st)
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("migrate", "migrate up|status [--config file]")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "up" && fs.Arg(0) != "status") {
		fs.Usage()
		return usagef("migrate needs one of: up, status")
	}
	return m.openStore(ctx, *cfgPath, false, func(st *store.Store) error {
		if fs.Arg(0) == "up" {
			done, err := store.Migrate(ctx, st.Pool(), slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "applied %d migration(s) %v\n", len(done), done)
			n, err := st.RecomputeDrafts(ctx)
			if n > 0 {
				fmt.Fprintf(m.Stdout, "recomputed %d draft document(s) by the spread rule\n", n)
			}
			return err
		}
		list, err := store.MigrationsStatus(ctx, st.Pool())
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tNAME\tAPPLIED\tNOTE")
		for _, s := range list {
			applied, note := "pending", ""
			if s.AppliedAt != nil {
				applied = s.AppliedAt.UTC().Format(time.RFC3339)
			}
			if s.Modified {
				note = "MODIFIED after it was applied"
			}
			fmt.Fprintf(w, "%03d\t%s\t%s\t%s\n", s.Version, s.Name, applied, note)
		}
		return w.Flush()
	})
}

func (m *Main) apikey(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "apikey", "Usage: crmhub apikey create --name NAME [--scopes suggest|read,write,admin] [--user ID]\n       crmhub apikey list\n       crmhub apikey revoke ID", args,
		subcommand{"create", m.apikeyCreate},
		subcommand{"list", m.apikeyList},
		subcommand{"revoke", m.apikeyRevoke})
}

func (m *Main) apikeyCreate(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("apikey create", "apikey create --name NAME [--scopes suggest|read,write,admin] [--user ID]")
	name := fs.String("name", "", "a name that says who uses the key (required)")
	scopes := fs.String("scopes", "read", "comma-separated scopes: read, write, admin")
	user := fs.String("user", "", "the user the key acts as (default: the first administrator)")
	if err := parse(fs, args); err != nil {
		return err
	}
	sc, err := core.ParseScopes(*scopes)
	if err != nil {
		return usageError{err}
	}
	if *name == "" {
		return usagef("--name is required")
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		k, secret, err := st.CreateAPIKey(ctx, *name, sc, *user)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "created API key %s (%s) with scopes %v; the key is shown only now:\n", k.ID, k.Name, k.Scopes)
		fmt.Fprintln(m.Stdout, secret)
		return nil
	})
}

func (m *Main) apikeyList(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("apikey list", "apikey list")
	if err := parse(fs, args); err != nil {
		return err
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		keys, err := st.APIKeys(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tPREFIX\tSCOPES\tCREATED\tLAST USED\tREVOKED")
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%s\t%s…\t%v\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.Scopes,
				k.CreatedAt.UTC().Format(time.RFC3339), timeOrDash(k.LastUsedAt), timeOrDash(k.RevokedAt))
		}
		return w.Flush()
	})
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func (m *Main) apikeyRevoke(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("apikey revoke", "apikey revoke ID")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("apikey revoke needs the key's ID")
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		if err := st.RevokeAPIKey(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, "revoked", fs.Arg(0))
		return nil
	})
}

func (m *Main) config(_ context.Context, args []string) error {
	if len(args) == 0 || args[0] != "show" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(m.Stderr, "Usage: crmhub config show [--config file]")
			return nil
		}
		return usagef("config needs the subcommand: show")
	}
	fs, cfgPath := m.flags("config show", "config show [--config file]")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(m.Stdout)
	enc.SetIndent(2)
	if err := enc.Encode(cfg.Redacted()); err != nil {
		return err
	}
	return enc.Close()
}
