package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/api/wire"
	"github.com/crmhub/crmhub/connectors/objectstore"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/pgembed"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/printform"
)

func (m *Main) serve(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("serve", "serve [--config file]")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments")
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, m.Stderr)
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Close()

	db, err := openDatabase(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer db.close(ctx, log)
	st := store.New(db.pool, log)
	defer st.Close()
	configureStore(st, cfg)
	if cfg.Attachments.Store == core.StorageS3 {
		blobs, err := objectstore.New(ctx, cfg.Attachments.S3.objectStore(), log)
		if err != nil {
			return fmt.Errorf("attachments: %w", err)
		}
		st.SetAttachments(cfg.Attachments.MaxSize, blobs)
	}
	if err := m.prepare(ctx, cfg, st, log); err != nil {
		return err
	}
	sm := newStreamMetrics()
	strm, err := startStream(ctx, cfg, st, sm, log)
	if err != nil {
		return err
	}
	defer strm.stop()
	return m.runServer(ctx, cfg, st, db.srv, strm, sm, log)
}

// configureStore gives the store the configured rules, for serve and for
// every command that writes through it.
func configureStore(st *store.Store, cfg Config) {
	st.SetConversionMapping(cfg.Conversion)
	st.SetDuplicatePolicy(cfg.Duplicates)
	st.SetNumbering(cfg.Documents.Numbering)
	st.SetPaidOnFullPayment(cfg.Documents.PaidOnFullPayment)
	st.SetOrganization(cfg.Organization)
	st.SetClosingRules(core.ClosingRules{ShippingClosedBy: cfg.Documents.ShippingClosedBy, ShippingLineName: cfg.Documents.ShippingLineName})
	st.SetReportLimits(cfg.Reports.MaxRows, cfg.Reports.StatementTimeout, cfg.Reports.Location())
	st.SetAttachments(cfg.Attachments.MaxSize, nil)
}

// prepare migrates (when configured) and bootstraps the first administrator
// and, on the very first start, an admin API key.
func (m *Main) prepare(ctx context.Context, cfg Config, st *store.Store, log *slog.Logger) error {
	if cfg.Database.MigrateOnStart {
		if _, err := store.Migrate(ctx, st.Pool(), log); err != nil {
			return err
		}
	} else if ok, err := store.MigrationsCurrent(ctx, st.Pool()); err != nil || !ok {
		return fmt.Errorf("the database schema is not current and database.migrate_on_start is false: run 'crmhub migrate up' (%v)", err)
	}
	if n, err := st.RecomputeDrafts(ctx); err != nil {
		return fmt.Errorf("recompute draft documents: %w", err)
	} else if n > 0 {
		log.Info("draft_documents_recomputed", "count", n)
	}
	if _, _, err := st.EnsureAdmin(ctx, "Administrator"); err != nil {
		return err
	}
	pls := make([]core.Pipeline, len(cfg.Pipelines))
	for i, p := range cfg.Pipelines {
		pls[i] = p.pipeline()
	}
	if n, err := st.Pipelines().Ensure(core.NewContextWithActor(ctx, core.Actor{ID: "config", Source: "config"}), pls); err != nil {
		return err
	} else if n > 0 {
		log.Info("pipelines_created", "count", n)
	}
	n, err := st.CountAPIKeys(ctx)
	if err != nil || n > 0 {
		return err
	}
	_, secret, err := st.CreateAPIKey(ctx, "bootstrap admin", []core.Scope{core.ScopeAdmin}, "")
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.DataDir, "admin.key")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(m.Stdout, "\nFirst start: created an admin API key. It is shown only now and saved in %s (mode 0600):\n\n    %s\n\n", path, secret)
	return nil
}

// runServer serves the API until ctx ends; pg is the embedded cluster, nil
// with database.url.
func (m *Main) runServer(ctx context.Context, cfg Config, st *store.Store, pg *pgembed.Server, strm *stream, sm *streamMetrics, log *slog.Logger) error {
	reg, err := newRegistry(st.Pool(), st.OutboxBacklog, sm)
	if err != nil {
		return err
	}
	if pg != nil {
		for _, c := range embeddedMetrics(pg) {
			if err := reg.Register(c); err != nil {
				return err
			}
		}
	}
	printer, err := newPrinter(st, cfg)
	if err != nil {
		return err
	}
	conns, err := newConnectors(cfg, m.Getenv, st, printer, reg, log)
	if err != nil {
		return err
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	defer conns.wait()
	defer stopWorkers()
	conns.start(wctx)
	accessOut := newFlushWriter(m.Stderr, 200*time.Millisecond)
	defer accessOut.Close()
	deps := serveDeps(cfg, st, pg, conns, printer)
	if err := authDeps(ctx, cfg.Auth, st, &deps, log); err != nil {
		return err
	}
	srv, err := api.New(api.Config{BodyLimit: cfg.HTTP.BodyLimit, FormBodyLimit: cfg.WebForms.MaxBody, ImportMaxRows: cfg.Imports.MaxRows,
		AttachmentMaxSize: cfg.Attachments.MaxSize, ReadTimeout: cfg.HTTP.ReadTimeout,
		WriteTimeout: cfg.HTTP.WriteTimeout, AccessLog: cfg.HTTP.AccessLog, Logger: log,
		AccessLogger: newLogger(cfg.Log, accessOut), Registry: reg, MetricsToken: cfg.Metrics.Token,
		SeparateMetrics: cfg.Metrics.Addr != "", Pprof: cfg.Metrics.Pprof, RequireIfMatch: cfg.API.RequireIfMatch, Auth: cfg.Auth.api(),
		SuggestionOrigins: cfg.Suggestions.AllowedOrigins},
		deps)
	if err != nil {
		return err
	}
	if cfg.Metrics.Addr != "" {
		ms, err := startMetrics(cfg.Metrics.Addr, srv.MetricsHandler(), log)
		if err != nil {
			return err
		}
		defer ms.stop(cfg.HTTP.ShutdownTimeout, log)
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	log.Info("http_listening", "addr", ln.Addr().String(), "data_dir", cfg.DataDir)
	fmt.Fprintf(m.Stdout, "crmhub is serving on http://%s (API under /api/v1, OpenAPI at /openapi.json); changes stream to Kafka at %s (topics %s.<entity>); Ctrl-C stops it.\n",
		ln.Addr(), strm.brokerAddr(cfg), cfg.Kafka.TopicPrefix)
	if m.OnListen != nil {
		m.OnListen(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go janitor(ctx, st, deps.LoginThrottle, cfg.Auth.AuditRetention, log)

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting_down", "timeout", cfg.HTTP.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("http_shutdown", "error", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		log.Error("http_serve", "error", err)
	}
	return nil
}

// serveDeps completes the store's API dependencies with the configured
// connectors, the printer, the organization and readiness.
func serveDeps(cfg Config, st *store.Store, pg *pgembed.Server, conns *connectors, printer *printform.Printer) api.Deps {
	d := wire.APIDeps(st)
	d.Ready = readiness(st, pg)
	d.Organization = &cfg.Organization
	d.Printer = printer

	d.Webhooks = conns.hooks
	d.Dialers = conns.dialers
	d.Forms = conns.forms
	d.ConfigForms = conns.forms.ConfigForms
	d.Bitrix24 = conns.forms.Bitrix24REST()
	d.Mailer = conns.mailer()
	d.MailScanner = conns.scan
	d.ImportQueued = conns.imports.Wake

	d.OneC = conns.onecHook()
	d.OneCPath = cfg.OneC.Path
	d.OneCLimit = int(cfg.OneC.FileLimit)
	d.OneCJob = conns.onecJob()
	d.OneCJobs = conns.onecJobs()

	d.Addresses = conns.addresses
	d.ReportLocation = cfg.Reports.Location()
	d.ReportRunner = conns.reports
	return d
}

// readiness reports whether the hub can serve: its embedded PostgreSQL up
// (pg nil with database.url), the database reachable, migrations current.
func readiness(st *store.Store, pg *pgembed.Server) func(context.Context) error {
	return func(ctx context.Context) error {
		if pg != nil && !pg.Up() {
			return &core.Error{Code: core.EUNAVAILABLE, Message: "the embedded PostgreSQL is down and being restarted", RetryAfter: store.RetryAfter}
		}
		if err := st.Pool().Ping(ctx); err != nil {
			return fmt.Errorf("%w: %w", &core.Error{Code: core.EUNAVAILABLE, Message: "the database is not reachable", RetryAfter: store.RetryAfter}, err)
		}
		ok, err := store.MigrationsCurrent(ctx, st.Pool())
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("migrations pending")
		}
		return nil
	}
}

// inboxRetention is how long processed webhook deliveries are kept (to
// look into what a provider sent) before they are pruned.
const inboxRetention = 30 * 24 * time.Hour

// janitor prunes expired idempotency keys, old processed webhook
// deliveries, expired call claims, ended sessions, forgotten sign-in
// failures, audit entries older than auditRetention, the values of
// custom fields and the files deleted 30 days ago until ctx ends.
func janitor(ctx context.Context, st *store.Store, th *core.LoginThrottle, auditRetention time.Duration, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.PruneIdempotencyKeys(ctx); err != nil {
				log.Warn("idempotency_prune", "error", err)
			} else if n > 0 {
				log.Info("idempotency_pruned", "keys", n)
			}
			if n, err := inbox.New(st.Pool()).Prune(ctx, inboxRetention); err != nil {
				log.Warn("inbox_prune", "error", err)
			} else if n > 0 {
				log.Info("inbox_pruned", "deliveries", n)
			}
			if n, err := st.PruneCallClaims(ctx, time.Now()); err != nil {
				log.Warn("call_claims_prune", "error", err)
			} else if n > 0 {
				log.Info("call_claims_pruned", "claims", n)
			}
			if n, err := st.PurgeCustomFields(ctx); err != nil {
				log.Warn("custom_fields_purge", "error", err)
			} else if n > 0 {
				log.Info("custom_fields_purged", "fields", n)
			}
			if n, err := st.PurgeAttachments(ctx); err != nil {
				log.Warn("attachments_purge", "error", err)
			} else if n > 0 {
				log.Info("attachments_purged", "files", n)
			}
			pruneAuth(ctx, st, th, auditRetention, log)
		}
	}
}
