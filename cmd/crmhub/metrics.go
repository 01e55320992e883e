package main

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/pgembed"
)

// streamMetrics count what the change stream does.
type streamMetrics struct {
	published   *prometheus.CounterVec
	latency     prometheus.Histogram
	applied     prometheus.Counter
	deadLetters prometheus.Counter
	lag         *prometheus.GaugeVec
	// relayDead counts change events set aside by the relay.
	relayDead *prometheus.CounterVec
}

func newStreamMetrics() *streamMetrics {
	return &streamMetrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhub_relay_published_total",
			Help: "Events published to Kafka, by entity."}, []string{"entity"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "crmhub_relay_latency_seconds",
			Help:    "From a change to its event acknowledged by Kafka.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
		applied: prometheus.NewCounter(prometheus.CounterOpts{Name: "crmhub_commands_applied_total",
			Help: "Inbound commands applied (repeats included, as no-ops)."}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{Name: "crmhub_commands_dead_letter_total",
			Help: "Inbound commands sent to the dead-letter topic."}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "crmhub_commands_consumer_lag",
			Help: "Inbound messages on the broker not yet applied, by topic and partition (as of the last fetch)."},
			[]string{"topic", "partition"}),
		relayDead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhub_relay_dead_letters_total",
			Help: "Change events the stream refused for good and the relay set aside (held=true: a later event of such a record, waiting behind it; see crmhub stream dead-letters)."},
			[]string{"entity", "held"}),
	}
}

func (m *streamMetrics) onDeadLetter(e *core.Event, held bool) {
	m.relayDead.WithLabelValues(e.Entity, strconv.FormatBool(held)).Inc()
}

func (m *streamMetrics) onLag(topic string, partition int32, lag int64) {
	m.lag.WithLabelValues(topic, strconv.Itoa(int(partition))).Set(float64(lag))
}

func (m *streamMetrics) onPublished(events []core.Event) {
	now := time.Now()
	for i := range events {
		m.published.WithLabelValues(events[i].Entity).Inc()
		m.latency.Observe(now.Sub(events[i].OccurredAt).Seconds())
	}
}

// newRegistry returns the registry served at /metrics with the Go runtime,
// process, database pool, outbox and stream metrics.
func newRegistry(pool *pgxpool.Pool, backlog func(context.Context) (int64, error), sm *streamMetrics) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		sm.published, sm.latency, sm.applied, sm.deadLetters, sm.lag, sm.relayDead,
		&inboxCollector{in: inbox.New(pool)},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&poolCollector{pool: pool},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crmhub_outbox_backlog", Help: "Outbox events not yet published.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			n, err := backlog(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

var inboxDeliveries = prometheus.NewDesc("crmhub_inbox_deliveries", "Webhook deliveries in the inbox, by status (failed ones need an operator: crmhub inbox).", []string{"status"}, nil)

// inboxCollector reports the inbox's counts at scrape time.
type inboxCollector struct{ in *inbox.Inbox }

func (c *inboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- inboxDeliveries }

func (c *inboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s, err := c.in.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(inboxDeliveries, err)
		return
	}
	for status, n := range map[string]int64{"pending": s.Pending, "done": s.Done, "failed": s.Failed} {
		ch <- prometheus.MustNewConstMetric(inboxDeliveries, prometheus.GaugeValue, float64(n), status)
	}
}

// embeddedMetrics report the embedded PostgreSQL's supervision: whether
// it runs and how often it died and was restarted.
func embeddedMetrics(pg *pgembed.Server) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crmhub_db_embedded_restarts_total",
			Help: "Times the embedded PostgreSQL died and the hub restarted it."}, func() float64 { return float64(pg.Restarts()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crmhub_db_embedded_up",
			Help: "1 while the embedded PostgreSQL runs, 0 while the hub restarts it."}, func() float64 {
			if pg.Up() {
				return 1
			}
			return 0
		}),
	}
}

var (
	poolConns = prometheus.NewDesc("crmhub_db_pool_connections", "Database pool connections by state.", []string{"state"}, nil)
	poolMax   = prometheus.NewDesc("crmhub_db_pool_max_connections", "Database pool size limit.", nil, nil)
	poolWaits = prometheus.NewDesc("crmhub_db_pool_acquire_waits_total", "Acquires that had to wait for a connection.", nil, nil)
	poolWait  = prometheus.NewDesc("crmhub_db_pool_acquire_wait_seconds_total", "Time spent waiting for connections.", nil, nil)
)

// poolCollector reports pgxpool statistics at scrape time.
type poolCollector struct{ pool *pgxpool.Pool }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolConns
	ch <- poolMax
	ch <- poolWaits
	ch <- poolWait
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
}

// refusals count what the hub refused on the way in: password logins (by
// login and reason: wrong_password, throttled) and PBX notifications (by
// provider and reason: signature, malformed, stale, future, duration,
// replayed, ended).
type refusals struct {
	logins    *prometheus.CounterVec
	telephony *prometheus.CounterVec
}

func newRefusals(reg prometheus.Registerer) (*refusals, error) {
	r := &refusals{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhub_login_failures_total",
			Help: "Password logins refused, by login (onec) and reason (wrong_password, throttled)."}, []string{"login", "reason"}),
		telephony: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhub_telephony_refused_total",
			Help: "PBX notifications refused, by provider and reason (signature, malformed, stale, future, duration, replayed, ended)."},
			[]string{"provider", "reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{r.logins, r.telephony} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// login counts the refusals of one login.
func (r *refusals) login(name string) func(reason string) {
	return func(reason string) { r.logins.WithLabelValues(name, reason).Inc() }
}

// provider counts the refusals of one PBX provider.
func (r *refusals) provider(name string) func(reason string) {
	return func(reason string) { r.telephony.WithLabelValues(name, reason).Inc() }
}
