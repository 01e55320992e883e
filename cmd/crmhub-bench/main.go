// Command crmhub-bench measures the hub against the database's own ceiling
// on the same machine in the same run: pgbench with a one-row INSERT per
// transaction at N clients, then POST /api/v1/leads on a real `crmhub serve`
// at N concurrent HTTP clients over loopback. It prints both, their ratio,
// and the latency percentiles. Both use a durable (fsync on) embedded
// cluster with the hub's defaults.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core/pgembed"
)

type result struct {
	name     string
	rate     float64
	p50, p99 time.Duration
	n        int
}

func main() {
	hub := flag.String("hub", "bin/crmhub", "the crmhub binary to measure")
	clients := flag.Int("clients", 32, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "measured time of each test")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured load before each test")
	accessLog := flag.Bool("access-log", true, "keep the hub's access log on (its default)")
	client := flag.String("client", "auto", "HTTP load generator: wrk, go, or auto (wrk when on PATH)")
	crm := flag.Bool("crm", false, "instead: load a large CRM with COPY and time lists, searches and the funnel")
	contacts := flag.Int("contacts", 1_000_000, "with -crm: contacts to load")
	deals := flag.Int("deals", 200_000, "with -crm: deals to load")
	iterations := flag.Int("iterations", 200, "with -crm: runs of each query")
	hold := flag.Duration("hold", 0, "with -crm: keep the database up this long afterwards, to look at plans")
	streamMode := flag.Bool("stream", false, "instead: relay throughput against franz-go's, and end-to-end latency")
	backlog := flag.Int("backlog", 200_000, "with -stream: outbox events to drain")
	rate := flag.Int("rate", 1000, "with -stream: writes a second for the latency test")
	relayBatch := flag.Int("relay-batch", 5000, "with -stream: the relay's batch size")
	telephonyMode := flag.Bool("telephony", false, "instead: replay PBX notifications on loopback, calls/s end to end and response p99")
	workers := flag.Int("workers", 1, "with -telephony: inbox workers (the hub runs 1)")
	batchSize := flag.Int("batch", 500, "with -telephony: deliveries an inbox worker claims at once (the hub's: 500)")
	callRate := flag.Int("call-rate", 0, "with -telephony: start calls at this pace (calls/s) and time each call's end to its final record; 0: as fast as the senders go")
	statements := flag.Int("statements", 0, "with -telephony: print the N statements PostgreSQL spent most time on (pg_stat_statements)")
	formsMode := flag.Bool("forms", false, "instead: post form submissions on loopback, submissions/s end to end and response p99")
	uploadMode := flag.Bool("upload", false, "instead: stream a file to a real crmhub serve and back, its peak memory against the file's size")
	uploadSize := flag.Int64("upload-size", 25<<20, "with -upload: the file's size in bytes")
	uploadRuns := flag.Int("upload-runs", 3, "with -upload: uploads to measure")
	fiasMode := flag.Bool("fias", false, "instead: crmhub fias import of synthetic regions, houses/s and peak memory")
	fiasHouses := flag.String("fias-houses", "1000000,3000000", "with -fias: the regions' sizes in houses, comma-separated")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the benchmark process (in-process tests) to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "crmhub-bench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	// Interrupted or timed out, the benchmark still stops the clusters it
	// started and removes their folders (deferred cleanups run).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *formsMode {
		// Go senders by default: they count exactly what they sent.
		if *client == "auto" {
			*client = "go"
		}
		if err := formsBench(ctx, *client, *clients, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "crmhub-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *telephonyMode {
		if err := telephonyBench(ctx, *clients, *workers, *batchSize, *callRate, *statements, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "crmhub-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *streamMode {
		if err := streamBench(ctx, *backlog, *rate, *relayBatch, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "crmhub-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *fiasMode {
		var sizes []int
		for _, f := range strings.Split(*fiasHouses, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				fmt.Fprintln(os.Stderr, "crmhub-bench: -fias-houses: not a list of sizes:", *fiasHouses)
				os.Exit(2)
			}
			sizes = append(sizes, n)
		}
		if err := fiasBench(ctx, *hub, sizes, *clients, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "crmhub-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *uploadMode {
		if err := uploadBench(ctx, *hub, *uploadSize, *uploadRuns); err != nil {
			fmt.Fprintln(os.Stderr, "crmhub-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *crm {
		if err := crmData(ctx, *contacts, *deals, *iterations, *hold); err != nil {
			fmt.Fprintln(os.Stderr, "crmhub-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *client == "auto" {
		*client = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			*client = "wrk"
		}
	}
	if err := run(ctx, *hub, *client, *clients, *duration, *warmup, *accessLog); err != nil {
		fmt.Fprintln(os.Stderr, "crmhub-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, hub, client string, clients int, duration, warmup time.Duration, accessLog bool) error {
	dir, err := os.MkdirTemp("", "crmhub-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	fmt.Printf("crmhub-bench: %d clients, %s measured after %s warm-up, durable PostgreSQL (fsync on), HTTP load by %s\n",
		clients, duration, warmup, client)
	pg, err := pgbench(ctx, filepath.Join(dir, "pgbench"), clients, duration, warmup)
	if err != nil {
		return fmt.Errorf("pgbench: %w", err)
	}
	report(pg)
	h, err := loadHub(ctx, hub, client, filepath.Join(dir, "hub"), clients, duration, warmup, accessLog)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	report(h)
	ratio := h.rate / pg.rate
	verdict := "MET"
	if ratio < 0.5 || h.p99 >= 50*time.Millisecond {
		verdict = "NOT MET"
	}
	fmt.Printf("ratio: the hub sustains %.0f%% of the pgbench rate; p99 %s (target: >= 50%% and p99 < 50ms: %s)\n",
		ratio*100, h.p99.Round(10*time.Microsecond), verdict)
	return nil
}

func report(r result) {
	fmt.Printf("%-46s %9.0f /s   p50 %8s   p99 %8s   (%d requests)\n", r.name, r.rate,
		r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.n)
}

const benchTable = `CREATE TABLE bench_leads (id uuid PRIMARY KEY, last_name text NOT NULL, company text NOT NULL,
	phone text NOT NULL, email text NOT NULL, status text NOT NULL, source text NOT NULL,
	created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, version bigint NOT NULL)`

const benchInsert = `INSERT INTO bench_leads VALUES (gen_random_uuid(), 'Петров', 'ООО Ромашка', '+79123456789',
	'ivan@romashka.ru', 'hot', 'web_site', now(), now(), 1);
`

// pgbench runs a one-row INSERT per transaction against a fresh durable
// embedded cluster and reads latencies from its per-transaction log.
func pgbench(ctx context.Context, dir string, clients int, duration, warmup time.Duration) (result, error) {
	srv, err := pgembed.Start(ctx, pgembed.Config{Dir: dir, Port: 5499, Durable: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return result{}, err
	}
	defer srv.Stop(context.WithoutCancel(ctx))
	conn, err := pgx.Connect(ctx, srv.URL())
	if err != nil {
		return result{}, err
	}
	_, err = conn.Exec(ctx, benchTable)
	conn.Close(ctx)
	if err != nil {
		return result{}, err
	}
	bin, err := pgembed.FindBinaries()
	if err != nil {
		return result{}, err
	}
	script := filepath.Join(dir, "insert.sql")
	if err := os.WriteFile(script, []byte(benchInsert), 0o644); err != nil {
		return result{}, err
	}
	logDir := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return result{}, err
	}
	runOnce := func(d time.Duration, log bool) ([]byte, error) {
		args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2",
			"-T", strconv.Itoa(int(d.Seconds())), "-f", script}
		if log {
			args = append(args, "-l", "--log-prefix", filepath.Join(logDir, "txn"))
		}
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "pgbench"), append(args, srv.URL())...)
		return cmd.CombinedOutput()
	}
	if warmup >= time.Second {
		if out, err := runOnce(warmup, false); err != nil {
			return result{}, fmt.Errorf("%w: %s", err, out)
		}
	}
	out, err := runOnce(duration, true)
	if err != nil {
		return result{}, fmt.Errorf("%w: %s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("no tps in pgbench output: %s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	lat, err := pgbenchLatencies(logDir)
	if err != nil {
		return result{}, err
	}
	r := result{name: fmt.Sprintf("pgbench one-row INSERT, %d clients", clients), rate: tps, n: len(lat)}
	r.p50, r.p99 = percentile(lat, 50), percentile(lat, 99)
	return r, nil
}

// pgbenchLatencies reads the third field (latency in µs) of every line of
// pgbench's transaction logs.
func pgbenchLatencies(dir string) ([]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(dir, "txn*"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no pgbench logs in %s", dir)
	}
	var out []time.Duration
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err == nil {
				out = append(out, time.Duration(us)*time.Microsecond)
			}
		}
		fh.Close()
	}
	return out, nil
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(float64(len(d)-1) * p / 100)
	return d[i]
}

// loadHub starts `crmhub serve` on a fresh data dir and drives it.
func loadHub(ctx context.Context, hub, client, dir string, clients int, duration, warmup time.Duration, accessLog bool) (result, error) {
	h, err := startHub(ctx, hub, dir, "CRMHUB_HTTP_ACCESS_LOG="+strconv.FormatBool(accessLog))
	if err != nil {
		return result{}, err
	}
	defer h.stop()
	base := h.base
	if client == "wrk" {
		return wrkLoad(ctx, base, h.key, dir, clients, duration, warmup)
	}
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, DisableCompression: true}
	httpc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	post := func(w, i int) (time.Duration, error) {
		body := fmt.Sprintf(`{"last_name":"Петров %d-%d","company":"ООО Ромашка","phone":"8 (912) %03d-%02d-%02d","email":"u%d.%d@romashka.ru","status":"hot","source":"web_site"}`,
			w, i, w, i%100, (i/100)%100, w, i)
		req, _ := http.NewRequest("POST", base+"/api/v1/leads", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+h.key)
		start := time.Now()
		resp, err := httpc.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(start), nil
	}
	phase := func(d time.Duration, record bool) ([]time.Duration, time.Duration, error) {
		var mu sync.Mutex
		var all []time.Duration
		var firstErr error
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(d)
		for w := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for i := 0; time.Now().Before(deadline); i++ {
					lat, err := post(w, i+int(start.UnixNano()%1_000_000))
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
					if record {
						mine = append(mine, lat)
					}
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return all, time.Since(start), firstErr
	}
	if _, _, err := phase(warmup, false); err != nil {
		return result{}, err
	}
	lat, elapsed, err := phase(duration, true)
	if err != nil {
		return result{}, err
	}
	r := result{name: fmt.Sprintf("crmhub POST /api/v1/leads, %d clients", clients),
		rate: float64(len(lat)) / elapsed.Seconds(), n: len(lat)}
	r.p50, r.p99 = percentile(lat, 50), percentile(lat, 99)
	return r, nil
}

// runningHub is a `crmhub serve` started by startHub.
type runningHub struct {
	base, key string // its URL and admin API key
	pid       int
	stop      func()
}

// startHub runs `crmhub serve` on a fresh embedded database in dir, with
// env added to its environment, until stop.
func startHub(ctx context.Context, hub, dir string, env ...string) (*runningHub, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "hub.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, hub, "serve")
	cmd.Env = append(append(os.Environ(), "CRMHUB_DATA_DIR="+dir, "CRMHUB_HTTP_ADDR=127.0.0.1:0",
		"CRMHUB_DATABASE_EMBEDDED_PORT=5498"), env...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		logf.Close()
		return nil, err
	}
	h := &runningHub{pid: cmd.Process.Pid, stop: func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	}}
	if h.base, err = waitServing(stdout); err != nil {
		h.stop()
		log, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("%w; its log ends:\n%s", err, log[max(len(log)-2000, 0):])
	}
	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	if err != nil {
		h.stop()
		return nil, err
	}
	h.key = strings.TrimSpace(string(key))
	return h, nil
}

func waitServing(r io.Reader) (string, error) {
	re := regexp.MustCompile(`serving on (http://\S+) `)
	sc := bufio.NewScanner(r)
	found := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found) // the hub exited
	}()
	select {
	case base, ok := <-found:
		if !ok {
			return "", fmt.Errorf("the hub exited before serving")
		}
		return base, nil
	case <-time.After(120 * time.Second):
		return "", fmt.Errorf("the hub did not start")
	}
}
