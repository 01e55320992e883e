package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/pgembed"
	"github.com/crmhub/crmhub/core/store"
)

// seededLeads are the leads the CRM has before a benchmark starts.
const seededLeads = 20_000

// formsBench posts Tilda-style form submissions from senders concurrent
// HTTP clients on loopback for duration: a third from people the CRM
// knows (their submission becomes a task on their record), the rest new
// (a lead each), and every tenth sent twice (Tilda's retry with the same
// tranid). A submission is captured before it is answered, so the rate
// is end to end; the count check then compares leads, tasks and
// submission rows with what was sent.
func formsBench(ctx context.Context, client string, senders int, duration time.Duration) error {
	db, err := newBenchDB(ctx, "formbench", pgembed.Config{Port: 5496, Durable: true})
	if err != nil {
		return err
	}
	defer db.close()
	log := slog.New(slog.DiscardHandler)
	st := store.New(db.pool, log)
	defer st.Close()
	if _, _, err := st.EnsureAdmin(ctx, "Administrator"); err != nil {
		return err
	}
	const known = 500 // contacts whose submissions become tasks
	actx := core.NewContextWithActor(ctx, core.Actor{ID: "bench", Source: "bench"})
	for i := range known {
		if _, err := st.Contacts().Create(actx, core.Patch{"last_name": []byte(fmt.Sprintf(`"Известный %d"`, i)),
			"mobile": []byte(fmt.Sprintf(`"+7915%07d"`, i))}); err != nil {
			return err
		}
	}
	if err := db.seedLeads(ctx, seededLeads); err != nil {
		return err
	}
	h, err := webforms.New(webforms.Config{Logger: log, Registry: prometheus.NewRegistry(),
		Forms: []core.WebForm{{Slug: "tilda", Format: core.FormatTilda, Honeypot: "website"}}}, st, inbox.New(db.pool))
	if err != nil {
		return err
	}
	addr, stopServer, err := serveBench(ctx, st, func(d *api.Deps) { d.Forms = h })
	if err != nil {
		return err
	}
	defer stopServer()
	target := "http://" + addr + "/forms/tilda"
	if client == "wrk" {
		return formsWithWrk(ctx, db, target, senders, duration)
	}
	fmt.Printf("crmhub-bench -forms: %d senders (Go) posting Tilda submissions for %s, durable PostgreSQL\n", senders, duration)
	send := poster(ctx, target, senders)
	var submissions, fromKnown atomic.Int64
	load := runLoad(senders, duration, func(_, _ int, record func(time.Duration, error)) {
		n := submissions.Add(1)
		phone := fmt.Sprintf("+7 (926) %03d-%02d-%02d", n/10000%1000, n/100%100, n%100)
		if n%3 == 0 {
			phone = fmt.Sprintf("+7915%07d", n%known)
			fromKnown.Add(1)
		}
		body := url.Values{"Name": {fmt.Sprintf("Покупатель %d", n)}, "Phone": {phone},
			"Email": {fmt.Sprintf("buyer%d@example.ru", n)}, "Comments": {"Перезвоните после 18:00"},
			"utm_source": {"yandex"}, "utm_medium": {"cpc"}, "utm_campaign": {"brand_msk"},
			"tranid": {fmt.Sprintf("4312345:%d", n)}, "formid": {"form512345678"}, "website": {""}}.Encode()
		record(send(body))
		if n%10 == 0 {
			record(send(body)) // Tilda retries
		}
	})
	latencies, failures, elapsed := load.latencies, load.failures, load.elapsed
	pct := percentiles(latencies)
	c, err := formCounts(ctx, db)
	if err != nil {
		return err
	}
	leads, tasks, rows := c.leads, c.tasks, c.rows
	total := submissions.Load()
	rate := float64(total) / elapsed.Seconds()
	verdict := "met"
	if rate < 2000 {
		verdict = "NOT MET"
	}
	fmt.Printf("requests: %d (retries included) in %s, %d failed; response p50 %s p99 %s\n", len(latencies),
		elapsed.Round(time.Millisecond), failures, pct(0.5).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	fmt.Printf("submissions: %d captured end to end = %.0f submissions/s (target >= 2,000/s: %s)\n", total, rate, verdict)
	check := "ok"
	if failures != 0 || rows != total || leads != total-fromKnown.Load() || tasks != fromKnown.Load() || c.doubled != 0 {
		check = "MISMATCH"
	}
	fmt.Printf("count check: %d submission rows for %d submissions, %d leads for %d new people, %d tasks for %d known: %s\n",
		rows, total, leads, total-fromKnown.Load(), tasks, fromKnown.Load(), check)
	if check != "ok" {
		return fmt.Errorf("count check failed")
	}
	return nil
}

// formTally is what a forms benchmark left in the CRM.
type formTally struct {
	leads, tasks, rows int64
	doubled            int64 // phones with more than one lead
}

func formCounts(ctx context.Context, db *benchDB) (formTally, error) {
	var c formTally
	err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM leads) - $1, (SELECT count(*) FROM activities WHERE kind = 'task'),
		(SELECT count(*) FROM webform_submissions WHERE form <> 'old'),
		(SELECT count(*) FROM (SELECT phone FROM leads GROUP BY phone HAVING count(*) > 1) d)`, seededLeads).
		Scan(&c.leads, &c.tasks, &c.rows, &c.doubled)
	return c, err
}

// formsWithWrk drives the forms with wrk (C, epoll), leaving the machine
// to the hub and PostgreSQL. The script's last requests may be cut off
// when wrk stops, so the captured count is checked to lie between what
// was answered and what was generated.
func formsWithWrk(ctx context.Context, db *benchDB, target string, clients int, duration time.Duration) error {
	fmt.Printf("crmhub-bench -forms: wrk with %d connections posting Tilda submissions for %s, durable PostgreSQL\n", clients, duration)
	start := time.Now()
	r, err := runWrkForms(ctx, target, db.dir, clients, duration)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	c, err := formCounts(ctx, db)
	if err != nil {
		return err
	}
	rate := float64(c.rows) / elapsed.Seconds()
	verdict := "met"
	if rate < 2000 {
		verdict = "NOT MET"
	}
	fmt.Printf("requests: %d answered (retries included) in %s; response p50 %s p99 %s\n", r.completed,
		elapsed.Round(time.Millisecond), r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond))
	fmt.Printf("submissions: %d captured end to end = %.0f submissions/s (target >= 2,000/s: %s)\n", c.rows, rate, verdict)
	check := "ok"
	lo, hi := r.completed-r.repeats-int64(clients), r.sent-r.repeats
	if c.rows < lo || c.rows > hi || c.leads+c.tasks != c.rows || c.tasks > r.known || c.doubled != 0 {
		check = "MISMATCH"
	}
	fmt.Printf("count check: %d submission rows (expected %d..%d), %d leads + %d tasks, %d phones with two leads: %s\n",
		c.rows, lo, hi, c.leads, c.tasks, c.doubled, check)
	if check != "ok" {
		return fmt.Errorf("count check failed")
	}
	return nil
}
