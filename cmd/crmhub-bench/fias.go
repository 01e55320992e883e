package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmhub/crmhub/core/pgembed"
	"github.com/crmhub/crmhub/exchange/gar"
)

// fiasBench measures `crmhub fias import` of synthetic regions of the
// given sizes (houses; address objects a fifteenth of them) into a durable
// embedded cluster: houses and records a second, the importer's peak
// resident memory (its rusage maxrss), and the served tables' and
// indexes' size per million houses.
func fiasBench(ctx context.Context, hub string, sizes []int, clients int, duration time.Duration) error {
	fmt.Printf("crmhub-bench -fias: crmhub fias import of synthetic regions (real ГАР format) into a durable embedded PostgreSQL\n")
	fmt.Printf("%-10s %-9s %-9s %-10s %-12s %-12s %-10s %-12s %-12s\n", "houses", "objects", "generate", "import",
		"houses/s", "records/s", "peak RSS", "tables/1M", "indexes/1M")
	for _, houses := range sizes {
		if err := fiasSize(ctx, hub, houses, clients, duration); err != nil {
			return err
		}
	}
	return nil
}

// fiasSize measures one size on a brand-new install: a fresh cluster, the
// import, then the suggestions of a hub started on it.
func fiasSize(ctx context.Context, hub string, houses, clients int, duration time.Duration) error {
	db, err := newBenchDB(ctx, "fias", pgembed.Config{Durable: true})
	if err != nil {
		return err
	}
	defer db.close()
	if err := fiasOnce(ctx, db, hub, houses); err != nil {
		return err
	}
	return suggestBench(ctx, db, hub, clients, duration)
}

func fiasOnce(ctx context.Context, db *benchDB, hub string, houses int) error {
	dir, err := os.MkdirTemp("", "crmhub-bench-gar-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	spec := gar.SynthSpec{Region: "50", Houses: houses, Objects: max(houses/15, 100), Seed: 1}
	start := time.Now()
	if err := gar.Synthesize(dir, spec); err != nil {
		return fmt.Errorf("synthesize: %w", err)
	}
	generated := time.Since(start)

	cmd := exec.CommandContext(ctx, hub, "fias", "import", dir)
	cmd.Env = append(os.Environ(), "CRMHUB_DATABASE_URL="+db.pool.Config().ConnString(), "CRMHUB_LOG_LEVEL=warn")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start = time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("crmhub fias import: %w", err)
	}
	// The importer's own high-water mark, read while it runs: the
	// rusage of a child started by vfork counts this process's memory
	// too (the generator's), which grows with the region.
	peakc := make(chan int64, 1)
	go func() { peakc <- watchPeak(cmd.Process.Pid) }()
	err = cmd.Wait()
	took := time.Since(start)
	peak := <-peakc
	if err != nil {
		return fmt.Errorf("crmhub fias import: %w\n%s", err, out.String())
	}
	records := int64(0)
	for _, line := range strings.Split(out.String(), "\n") {
		if _, rest, ok := strings.Cut(line, ": "); ok && strings.HasPrefix(line, "imported ") {
			records, _ = strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
		}
	}
	var tables, indexes int64
	err = db.pool.QueryRow(ctx, `SELECT coalesce(sum(pg_table_size(c.oid)), 0), coalesce(sum(pg_indexes_size(c.oid)), 0)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent IN ('fias_houses'::regclass, 'fias_addr_objects'::regclass)`).Scan(&tables, &indexes)
	if err != nil {
		return err
	}
	perMillion := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)/(float64(houses)/1e6)) }
	fmt.Printf("%-10d %-9d %-9s %-10s %-12.0f %-12.0f %-10s %-12s %-12s\n", houses, spec.Objects,
		generated.Round(100*time.Millisecond), took.Round(100*time.Millisecond), float64(houses)/took.Seconds(),
		float64(records)/took.Seconds(), fmt.Sprintf("%d MiB", peak>>10), perMillion(tables), perMillion(indexes))
	size, _ := dirSize(dir)
	fmt.Printf("           (the region's files: %.1f GiB)\n", float64(size)/(1<<30))
	return nil
}

// watchPeak polls a process's VmHWM (KiB) until it is gone and returns the
// last value read.
func watchPeak(pid int) int64 {
	var peak int64
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return peak
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
					peak = max(peak, n)
				}
			}
		}
		if strings.Contains(string(b), "State:\tZ") {
			return peak
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// suggestBench measures POST /suggestions/api/4_1/rs/suggest/address on a
// real crmhub serve over the loaded register: the first answer of a
// just-started hub (it builds its index then), the first thousand, and
// then clients concurrent clients for duration: QPS, p50, p99. Queries are
// prefixes of 1 to 4 words of real streets and their cities, as people
// type them («моск твер», «моск твер 7», «г моск ул твер 7»).
func suggestBench(ctx context.Context, db *benchDB, hub string, clients int, duration time.Duration) error {
	queries, err := suggestQueries(ctx, db)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "crmhub-bench-suggest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	h, err := startHub(ctx, hub, filepath.Join(dir, "hub"), "CRMHUB_DATABASE_URL="+db.pool.Config().ConnString(),
		"CRMHUB_HTTP_ACCESS_LOG=false", "CRMHUB_LOG_LEVEL=warn")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer h.stop()
	key, err := createKey(ctx, h, "suggest")
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	// timed sends a lookup with the key and times it to its last byte.
	timed := func(method, path string, body []byte) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, method, h.base+"/suggestions/api/4_1/rs"+path, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+key)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("%s: status %d", path, resp.StatusCode)
		}
		return time.Since(t0), err
	}
	ask := func(q string) (time.Duration, error) {
		body, _ := json.Marshal(map[string]any{"query": q, "count": 10})
		return timed("POST", "/suggest/address", body)
	}

	// A brand-new hub: its first answer waits for the index.
	first, err := ask(queries[0])
	if err != nil {
		return err
	}
	var cold []time.Duration
	for i := range 1000 {
		d, err := ask(queries[i%len(queries)])
		if err != nil {
			return err
		}
		cold = append(cold, d)
	}
	pc := percentiles(cold)
	fmt.Printf("suggest/address on a real crmhub serve (started %s before its first answer):\n", time.Since(start).Round(100*time.Millisecond))
	fmt.Printf("  first answer %s (the index built then); the next 1,000 one at a time: p50 %s, p99 %s\n",
		first.Round(time.Millisecond), pc(0.50).Round(10*time.Microsecond), pc(0.99).Round(10*time.Microsecond))

	lookups, failures := underLoad(clients, duration, func(i int) (time.Duration, error) { return ask(queries[i%len(queries)]) })
	p := percentiles(lookups)
	fmt.Printf("  %d clients for %s: %.0f answers/s, p50 %s, p99 %s, failures %d (targets: p50 ≤ 5 ms, p99 ≤ 25 ms)\n",
		clients, duration, float64(len(lookups))/duration.Seconds(), p(0.50).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond), failures)

	// The ceiling on this machine: the same clients asking the widget's
	// status check, which authenticates and answers a few bytes.
	ceiling, _ := underLoad(clients, duration, func(int) (time.Duration, error) { return timed("GET", "/status/address", nil) })
	pc = percentiles(ceiling)
	fmt.Printf("  ceiling, the same clients on status/address (auth, a few bytes): %.0f answers/s, p50 %s, p99 %s\n",
		float64(len(ceiling))/duration.Seconds(), pc(0.50).Round(10*time.Microsecond), pc(0.99).Round(10*time.Microsecond))
	return nil
}

// underLoad runs ask from clients goroutines for duration and returns the
// latencies of the answers and how many failed.
func underLoad(clients int, duration time.Duration, ask func(i int) (time.Duration, error)) ([]time.Duration, int) {
	var mu sync.Mutex
	var all []time.Duration
	var failures int
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			fails := 0
			for i := c; time.Now().Before(deadline); i += clients {
				d, err := ask(i)
				if err != nil {
					fails++
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			all, failures = append(all, mine...), failures+fails
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, failures
}

// suggestQueries makes queries from random streets with houses: 1 to 4
// words, as typed part way.
func suggestQueries(ctx context.Context, db *benchDB) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT s.name, c.name, coalesce((SELECT house_num FROM fias_houses h WHERE h.parent_id = s.object_id LIMIT 1), '1')
		FROM fias_addr_objects s JOIN fias_addr_objects c ON c.object_id = s.path[array_length(s.path, 1) - 1]
		WHERE s.level = 8 AND s.houses > 0 ORDER BY random() LIMIT 4000`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	prefix := func(s string, n int) string {
		w := strings.Fields(strings.ToLower(s))
		r := []rune(w[len(w)-1])
		return string(r[:min(n, len(r))])
	}
	for i := 0; rows.Next(); i++ {
		var street, city, house string
		if err := rows.Scan(&street, &city, &house); err != nil {
			return nil, err
		}
		switch i % 4 {
		case 0:
			out = append(out, prefix(street, 4))
		case 1:
			out = append(out, prefix(city, 4)+" "+prefix(street, 4))
		case 2:
			out = append(out, prefix(city, 5)+" "+prefix(street, 5)+" "+house)
		default:
			out = append(out, "г "+prefix(city, 4)+" ул "+prefix(street, 3)+" "+house)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no streets with houses to ask for")
	}
	return out, rows.Err()
}

// createKey makes an API key of the scope through the admin API.
func createKey(ctx context.Context, h *runningHub, scope string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", h.base+"/api/v1/apikeys",
		strings.NewReader(`{"name":"bench `+scope+`","scopes":["`+scope+`"]}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.key)
	var out struct{ Key string }
	return out.Key, doJSON(req, http.StatusCreated, &out)
}
