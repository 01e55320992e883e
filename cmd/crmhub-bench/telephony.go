package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/api/wire"
	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/pgembed"
	"github.com/crmhub/crmhub/core/store"
)

// telephonyBench replays Zadarma notifications (start, ringing, answer,
// end of each call, signed as Zadarma signs them) from senders concurrent
// HTTP clients on loopback for duration, half from numbers the CRM knows,
// then waits until every delivery is processed and checks that each call
// made one call row and each new number one lead.
func telephonyBench(ctx context.Context, senders, workers, batch, callRate, statements int, duration time.Duration) error {
	cfg := pgembed.Config{Port: 5497, Durable: true}
	if statements > 0 {
		cfg.Settings = map[string]string{"shared_preload_libraries": "pg_stat_statements"}
	}
	db, err := newBenchDB(ctx, "telbench", cfg)
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
	const known = 500
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
	if err := db.seedCalls(ctx); err != nil {
		return err
	}
	const secret = "bench-zadarma-secret"
	in := inbox.New(db.pool)
	z, err := telephony.NewZadarma(telephony.Config{Secret: secret, Logger: log, Claims: st,
		Policy: core.CallPolicy{CreateLeads: true, CallbackAfter: 30 * time.Minute}}, time.FixedZone("MSK", 3*3600), in, st)
	if err != nil {
		return err
	}
	addr, stopServer, err := serveBench(ctx, st, func(d *api.Deps) { d.Webhooks = []core.Webhook{z} })
	if err != nil {
		return err
	}
	defer stopServer()
	wctx, stopWorkers := context.WithCancel(ctx)
	var wwg sync.WaitGroup
	for range workers {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			_ = in.NewBatchWorker(inbox.WorkerConfig{Source: z.Source(), BatchSize: batch, PollInterval: 50 * time.Millisecond}, z.ProcessBatch).Run(wctx)
		}()
	}
	defer func() { stopWorkers(); wwg.Wait() }()
	fmt.Printf("crmhub-bench -telephony: %d senders replaying Zadarma notifications for %s, %d inbox workers claiming %d, durable PostgreSQL\n",
		senders, duration, workers, batch)

	send := poster(ctx, "http://"+addr+"/hooks/telephony/zadarma", senders)
	var calls, newCalls atomic.Int64
	// With a call rate, call n starts at n/rate seconds (an open loop: a
	// ticker drops ticks while every sender is busy) and each call's end is
	// timed to its call record becoming final: the capacity at which a
	// call still lands in the CRM within a second.
	var endsMu sync.Mutex
	ends := map[string]time.Time{}
	start := time.Now()
	load := runLoad(senders, duration, func(s, i int, record func(time.Duration, error)) {
		n := calls.Add(1)
		if callRate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(n) * time.Second / time.Duration(callRate))))
		}
		caller := fmt.Sprintf("7915%07d", n%known) // a contact's number
		if n%2 == 0 {
			caller = fmt.Sprintf("79%09d", n) // a new number
			newCalls.Add(1)
		}
		cs := time.Now().In(time.FixedZone("MSK", 3*3600)).Format("2006-01-02 15:04:05")
		id := fmt.Sprintf("in_bench_%d_%d", s, i)
		// A caller rings one company number once a second at most: the
		// signed caller+number+start names one call (a contact calling
		// twice in a second would be refused as a replay).
		did := fmt.Sprintf("7495%07d", n%10_000_000)
		base := url.Values{"call_start": {cs}, "pbx_call_id": {id}, "caller_id": {caller}, "called_did": {did}}
		with := func(kv ...string) url.Values {
			f := url.Values{}
			for k, v := range base {
				f[k] = v
			}
			for j := 0; j < len(kv); j += 2 {
				f.Set(kv[j], kv[j+1])
			}
			return f
		}
		events := []url.Values{with("event", "NOTIFY_START"), with("event", "NOTIFY_INTERNAL", "internal", "100")}
		disposition, talk := "no answer", "0"
		if n%3 != 0 {
			events = append(events, with("event", "NOTIFY_ANSWER", "destination", "100"))
			disposition, talk = "answered", "42"
		}
		events = append(events, with("event", "NOTIFY_END", "internal", "100", "duration", talk, "disposition", disposition))
		for _, ev := range events {
			sig, _ := telephony.ZadarmaSignature(secret, ev)
			record(send(ev.Encode(), "Signature", sig))
		}
		endsMu.Lock()
		ends[id] = time.Now()
		endsMu.Unlock()
	})
	latencies := load.latencies
	sent := load.elapsed
	// Waiting reads the inbox's queue index (counting the whole inbox ten
	// times a second took a tenth of PostgreSQL's time from what is
	// measured); failures are counted once at the end.
	for {
		var pending bool
		if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM inbox WHERE status = 'pending')`).Scan(&pending); err != nil {
			return err
		}
		if !pending {
			break
		}
		if time.Since(start) > duration+5*time.Minute {
			return fmt.Errorf("deliveries still pending after %s", time.Since(start).Round(time.Second))
		}
		time.Sleep(100 * time.Millisecond)
	}
	processed := time.Since(start)
	if s, err := in.Stats(ctx); err != nil || s.Failed > 0 {
		return fmt.Errorf("%d deliveries failed (%v)", s.Failed, err)
	}
	pct := percentiles(latencies)
	var rows, leads, dupCalls int64
	if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM calls) - `+fmt.Sprint(seededLeads)+`, (SELECT count(*) FROM leads) - `+fmt.Sprint(seededLeads)+`,
		(SELECT count(*) FROM (SELECT provider_call_id FROM calls GROUP BY 1 HAVING count(*) > 1) d)`).Scan(&rows, &leads, &dupCalls); err != nil {
		return err
	}
	total := calls.Load()
	rate := float64(total) / processed.Seconds()
	verdict := "met"
	switch {
	case callRate > 0:
		verdict = "not measured: the pace set the rate"
	case rate < 2000 || pct(0.99) >= 50*time.Millisecond:
		verdict = "NOT MET"
	}
	fmt.Printf("requests: %d in %s (%.0f/s), %d failed; response p50 %s p99 %s\n", len(latencies), sent.Round(time.Millisecond),
		float64(len(latencies))/sent.Seconds(), load.failures, pct(0.5).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	fmt.Printf("calls: %d processed end to end in %s = %.0f calls/s (target >= 2,000 calls/s and p99 < 50ms: %s)\n",
		total, processed.Round(time.Millisecond), rate, verdict)
	if callRate > 0 {
		if err := callLatency(ctx, db, ends, float64(total)/sent.Seconds()); err != nil {
			return err
		}
	}
	if statements > 0 {
		if err := db.printStatements(ctx, statements); err != nil {
			return err
		}
	}
	check := "ok"
	if rows != total || leads != newCalls.Load() || dupCalls != 0 {
		check = "MISMATCH"
	}
	fmt.Printf("count check: %d call rows for %d calls, %d leads for %d calls from new numbers, %d doubled: %s\n",
		rows, total, leads, newCalls.Load(), dupCalls, check)
	if check != "ok" {
		return fmt.Errorf("count check failed")
	}
	return nil
}

// serveBench serves the API of st on a loopback port, with what set adds
// to its dependencies; stop shuts it down.
func serveBench(ctx context.Context, st *store.Store, set func(*api.Deps)) (addr string, stop func(), err error) {
	deps := wire.APIDeps(st)
	deps.Ready = func(context.Context) error { return nil }
	set(&deps)
	srv, err := api.New(api.Config{Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()}, deps)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { _ = srv.Shutdown(context.WithoutCancel(ctx)) }, nil
}

// percentiles sorts latencies and returns their percentile function.
// callLatency prints how long after its last notification was answered
// each call's record became final (its activity, lead or task written).
func callLatency(ctx context.Context, db *benchDB, ends map[string]time.Time, offered float64) error {
	rows, err := db.pool.Query(ctx, `SELECT provider_call_id, updated_at FROM calls WHERE final`)
	if err != nil {
		return err
	}
	var lat []time.Duration
	within := 0
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return err
		}
		if end, ok := ends[id]; ok {
			d := max(at.Sub(end), 0)
			lat = append(lat, d)
			if d <= time.Second {
				within++
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	pct := percentiles(lat)
	fmt.Printf("paced at %.0f calls/s: call end -> final call record p50 %s p99 %s, %.1f%% within 1 s (%d calls)\n", offered,
		pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), 100*float64(within)/float64(max(len(lat), 1)), len(lat))
	return nil
}

func percentiles(latencies []time.Duration) func(p float64) time.Duration {
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	return func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[int(float64(len(latencies)-1)*p)]
	}
}
