package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/connectors/mailout"
	"github.com/crmhub/crmhub/connectors/mailscan"
	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/connectors/ratesfeed"
	"github.com/crmhub/crmhub/connectors/reportmail"
	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/addrsearch"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/printform"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// addressCheck is how often a replica checks whether a region of the
// address register was loaded again (by crmhub fias import on any host).
const addressCheck = 30 * time.Second

// connectors are the enabled webhook connectors and the inbox workers that
// process what they receive.
type connectors struct {
	hooks    []core.Webhook
	dialers  []core.Dialer
	forms    *webforms.Handler
	asterisk *telephony.Asterisk
	mail     *mailout.Mailer // nil without SMTP
	imports  *imports.Runner
	onec     *onec.Exchange // nil unless configured
	reports  *reportmail.Scheduler
	scan     *mailscan.Group
	workers  []*inbox.Worker
	rates    *ratesfeed.Feed // nil unless rates.url is set
	// addresses answer address lookups from the register (crmhub fias
	// import), their index rebuilt when a region is loaded again.
	addresses *addrsearch.Service
	wg        sync.WaitGroup
}

func newConnectors(cfg Config, getenv func(string) string, st *store.Store, printer *printform.Printer, reg prometheus.Registerer, log *slog.Logger) (*connectors, error) {
	c := &connectors{imports: imports.New(imports.Config{Workers: cfg.Imports.Workers,
		Limits: xlsx.Limits{MaxRows: cfg.Imports.MaxRows}, Fields: st, Logger: log}, st), addresses: addrsearch.NewService(st, log)}
	if cfg.Rates.URL != "" {
		var err error
		rcfg := cfg.ratesFeed()
		rcfg.Logger = log
		if c.rates, err = ratesfeed.New(rcfg, st); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		log.Info("connector_enabled", "connector", "rates")
	}
	boxes, err := cfg.mailboxes()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	metrics, err := mailscan.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	// Always running: mailboxes may be added through the admin API.
	if c.scan, err = mailscan.NewGroup(boxes, getenv, st, st, metrics, log); err != nil {
		return nil, under("mailscan", err)
	}
	for _, b := range boxes {
		log.Info("connector_enabled", "connector", "mailscan", "mailbox", b.Name, "host", b.Host)
	}
	refused, err := newRefusals(reg)
	if err != nil {
		return nil, err
	}
	if o := cfg.OneC; o.User != "" {
		// The throttle's records are in the database: every replica sees
		// the same failures.
		th, err := core.NewLoginThrottle(o.Throttle.core("onec"), st)
		if err != nil {
			return nil, fmt.Errorf("config: onec.throttle: %w", err)
		}
		ocfg := o.exchange()
		ocfg.WorkDir = filepath.Join(cfg.DataDir, "onec")
		ocfg.Throttle = th
		ocfg.OnLoginRefused = refused.login("onec")
		ocfg.Jobs = st
		ocfg.Logger = log
		x, err := onec.New(ocfg,
			onec.CatalogDeps{Products: st.Products(), Services: st.Services(), Groups: st.ProductGroups(), PriceBooks: st.PriceBooks(), Items: st, Tx: st,
				Fields: st},
			saleDeps(st))
		if err != nil {
			return nil, err
		}
		c.onec = x
		log.Info("connector_enabled", "connector", "onec", "path", o.Path)
	}
	if cfg.SMTP.Host != "" {
		mcfg := cfg.mailer()
		mcfg.Logger = log
		mcfg.Registry = reg
		m, err := mailout.New(mcfg,
			mailout.Deps{Printer: printer, Emails: st.Emails(), Templates: st, Attachments: st, Contacts: st.Contacts(),
				Accounts: st.Accounts(), Org: cfg.Organization})
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		c.mail = m
		log.Info("connector_enabled", "connector", "smtp", "host", cfg.SMTP.Host)
	}
	in := inbox.New(st.Pool())
	wcfg := cfg.WebForms.forms()
	wcfg.Registry = reg
	wcfg.Logger = log
	forms, err := webforms.New(wcfg, st, in)
	if err != nil {
		return nil, err
	}
	c.forms = forms
	for range workersPerSource {
		c.workers = append(c.workers, in.NewWorker(inbox.WorkerConfig{Source: webforms.Source, Logger: log}, forms.Process))
	}
	if err := c.addTelephony(cfg.Telephony, in, st, refused, reg, log); err != nil {
		return nil, err
	}
	// Scheduled reports always run: without SMTP a run fails saying so.
	c.reports = &reportmail.Scheduler{Schedules: st.ReportSchedules(), Reports: st.Reports(), Location: cfg.Reports.Location(),
		Log: log}
	if c.mail != nil {
		c.reports.Mailer = c.mail
	}
	return c, nil
}

// addTelephony adds the enabled PBX connectors: the webhooks, the AMI
// client and the VATS dialer, each webhook with its inbox workers.
func (c *connectors) addTelephony(t TelephonyConfig, in *inbox.Inbox, st *store.Store, refused *refusals,
	reg prometheus.Registerer, log *slog.Logger) error {
	if t.Generic.Secret != "" {
		g := t.Generic.connector()
		g.Logger = log
		h, err := telephony.NewGeneric(g, in, st)
		if err != nil {
			return err
		}
		c.add(h, h, in, log)
	}
	if t.Zadarma.Secret != "" {
		loc, err := t.Zadarma.location()
		if err != nil {
			return under("telephony.zadarma", err)
		}
		z := t.Zadarma.connector()
		z.Logger = log
		z.Claims = st
		z.OnRefused = refused.provider("zadarma")
		h, err := telephony.NewZadarma(z, loc, in, st)
		if err != nil {
			return err
		}
		c.add(h, h, in, log)
	}
	if t.Mango.APIKey != "" {
		m := t.Mango.connector()
		m.Logger = log
		h, err := telephony.NewMango(m, t.Mango.APIKey, in, st)
		if err != nil {
			return err
		}
		c.add(h, h, in, log)
	}
	if t.VATS.Token != "" {
		v := t.VATS.connector()
		v.Logger = log
		h, err := telephony.NewVATS(v, in, st, st)
		if err != nil {
			return err
		}
		c.add(h, h, in, log)
	}
	if as := t.Asterisk; as.Addr != "" && as.Secret != "" {
		if err := c.addAsterisk(as, in, st, reg, log); err != nil {
			return err
		}
	}
	if v := t.VATS; v.APIURL != "" && v.APIKey != "" {
		d := v.dialer()
		d.Logins = st
		c.dialers = append(c.dialers, d)
	}
	return nil
}

// addAsterisk adds the AMI client, its inbox workers and its metrics.
func (c *connectors) addAsterisk(as AsteriskConfig, in *inbox.Inbox, st *store.Store, reg prometheus.Registerer,
	log *slog.Logger) error {
	acfg, err := as.connector()
	if err != nil {
		return under("telephony.asterisk", err)
	}
	acfg.Logger = log
	a, err := telephony.NewAsterisk(acfg, in, st)
	if err != nil {
		return err
	}
	c.asterisk = a
	c.dialers = append(c.dialers, a)
	c.addWorkers(a, in, log)
	if reg != nil {
		if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crmhub_asterisk_connected",
			Help: "1 while the AMI session is logged in."}, func() float64 {
			if a.Status().Connected {
				return 1
			}
			return 0
		})); err != nil {
			return err
		}
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crmhub_asterisk_reconnects_total",
			Help: "AMI sessions lost (reconnected with backoff)."}, func() float64 { return float64(a.Status().Reconnects) })); err != nil {
			return err
		}
	}
	log.Info("connector_enabled", "connector", "telephony/asterisk", "addr", as.Addr)
	return nil
}

// workersPerSource process a form connector's deliveries side by side
// (each leases its own batch).
const workersPerSource = 4

// A telephony source is worked off by one batch worker per hub, claiming
// up to callBatch deliveries at once and applying all their calls in one
// transaction. On two cores (crmhub-bench -telephony) that made 2,160
// calls/s end to end; two such workers made 1,680 (their batches share
// calls: they wait for each other's locks and rerun after insert races,
// taking CPU from the intake), four of 100 1,390, one of 100 1,440 (it
// fell behind), one of 1,000 2,210 (twice the wait per batch). More hub
// instances add workers; a call's reports may then be applied in any
// order, which the call model allows.
const (
	callWorkers = 1
	callBatch   = 500
)

// callSource is a telephony connector's stored deliveries: each claimed
// batch applied at once, a few statements for all its calls.
type callSource interface {
	Source() string
	ProcessBatch(ctx context.Context, ds []inbox.Delivery) []error
}

func (c *connectors) add(h core.Webhook, cs callSource, in *inbox.Inbox, log *slog.Logger) {
	c.hooks = append(c.hooks, h)
	c.addWorkers(cs, in, log)
	log.Info("connector_enabled", "connector", h.Path(), "path", "/hooks/"+h.Path())
}

func (c *connectors) addWorkers(cs callSource, in *inbox.Inbox, log *slog.Logger) {
	for range callWorkers {
		c.workers = append(c.workers, in.NewBatchWorker(inbox.WorkerConfig{Source: cs.Source(), BatchSize: callBatch, Logger: log},
			cs.ProcessBatch))
	}
}

// mailer is the document mailer, nil (not a typed nil) without SMTP.
func (c *connectors) mailer() core.DocumentMailer {
	if c.mail == nil {
		return nil
	}
	return c.mail
}

// start runs the workers until ctx ends; wait waits for them.
func (c *connectors) start(ctx context.Context) {
	c.wg.Add(4)
	go func() {
		defer c.wg.Done()
		c.addresses.Run(ctx, addressCheck)
	}()
	go func() {
		defer c.wg.Done()
		c.scan.Run(ctx)
	}()
	go func() {
		defer c.wg.Done()
		_ = c.reports.Run(ctx)
	}()
	go func() {
		defer c.wg.Done()
		_ = c.imports.Run(ctx)
	}()
	if c.mail != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_ = c.mail.Run(ctx)
		}()
	}
	if c.rates != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_ = c.rates.Run(ctx)
		}()
	}
	if c.asterisk != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_ = c.asterisk.Run(ctx)
		}()
	}
	if c.onec != nil { // removes ended and left-over session folders
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_ = c.onec.Run(ctx)
		}()
	}
	for _, w := range c.workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_ = w.Run(ctx)
		}()
	}
}

func (c *connectors) wait() { c.wg.Wait() }

// onecHook is the 1C exchange endpoint, nil (not a typed nil) when off.
func (c *connectors) onecHook() core.Webhook {
	if c.onec == nil {
		return nil
	}
	return c.onec
}

// onecJob reads the 1C import jobs, nil when the exchange is off.
func (c *connectors) onecJob() func(context.Context, string) (any, error) {
	if c.onec == nil {
		return nil
	}
	return func(ctx context.Context, id string) (any, error) { return c.onec.Job(ctx, id) }
}

// onecJobs reads the 1C exchange log, nil when the exchange is off.
func (c *connectors) onecJobs() func(context.Context, int) (any, error) {
	if c.onec == nil {
		return nil
	}
	return func(ctx context.Context, limit int) (any, error) { return c.onec.Jobs(ctx, limit) }
}
