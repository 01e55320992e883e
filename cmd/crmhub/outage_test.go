package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core/pgembed"
)

// write is what one lead creation got.
type write struct {
	status     int
	retryAfter string
	id         string
	detail     string // what went wrong otherwise
}

// writeLoop creates leads from a few clients until stop, recording every
// answer.
type writeLoop struct {
	mu     sync.Mutex
	writes []write
	stop   chan struct{}
	wg     sync.WaitGroup
}

func startWriteLoop(c client, workers int) *writeLoop {
	l := &writeLoop{stop: make(chan struct{})}
	hc := &http.Client{Timeout: time.Minute}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", c.base+"/api/v1/leads", strings.NewReader(fmt.Sprintf(`{"last_name":"Outage%d_%d","company":"Loop"}`, w, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+c.key)
				resp, err := hc.Do(req)
				if err != nil {
					l.record(write{status: -1, detail: err.Error()})
					continue
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				wr := write{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
				if wr.status == 201 {
					var lead struct{ ID string }
					_ = json.Unmarshal(data, &lead)
					wr.id = lead.ID
				} else if wr.status != 503 {
					wr.detail = string(data)
				}
				l.record(wr)
			}
		}()
	}
	return l
}

func (l *writeLoop) record(w write) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, w)
}

// count returns how many writes so far got status.
func (l *writeLoop) count(status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, w := range l.writes {
		if w.status == status {
			n++
		}
	}
	return n
}

func (l *writeLoop) end() []write {
	close(l.stop)
	l.wg.Wait()
	return l.writes
}

// TestDatabaseOutage kills the embedded PostgreSQL with SIGKILL during a
// loop of writes through the API. While it is down (its data folder is
// closed meanwhile, so that the outage lasts until the test has seen it)
// the writes get 503 with Retry-After, never 500, and /readyz says not
// ready; then the hub restarts it by itself, writes succeed again, and
// every acknowledged write is in the database.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := testEnv(dir)
	env["CRMHUB_DATABASE_EMBEDDED_PORT"] = "5447"
	env["CRMHUB_LOG_LEVEL"] = "info" // pg_restarted is an info line
	h := serveInProcess(t, env)
	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	require.NoError(t, err)
	c := client{base: "http://" + h.addr, key: strings.TrimSpace(string(key))}

	loop := startWriteLoop(c, 4)
	require.Eventually(t, func() bool { return loop.count(201) >= 50 }, time.Minute, 10*time.Millisecond)

	data := filepath.Join(dir, "pg", "data")
	pid, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	require.NoError(t, err)
	pgPid, err := strconv.Atoi(strings.SplitN(string(pid), "\n", 2)[0])
	require.NoError(t, err)
	// The postmaster and every backend, then the folder: a backend still
	// running after the folder closed would fail its query on a file it
	// can no longer open (a 500, not an outage). The hub waits half a
	// second before its first restart, which fails until it is given back.
	killCluster(t, pgPid)
	require.NoError(t, os.Chmod(data, 0o000))

	require.Eventually(t, func() bool { return loop.count(503) >= 20 }, time.Minute, 10*time.Millisecond, "writes are refused meanwhile")
	require.Eventually(t, func() bool {
		status, hdr, body := c.do(t, "GET", "/readyz", "")
		return status == 503 && hdr.Get("Retry-After") == "5" &&
			strings.Contains(string(body), "not ready: the embedded PostgreSQL is down and being restarted")
	}, time.Minute, 10*time.Millisecond, "not ready while it is down")

	require.NoError(t, os.Chmod(data, 0o700))
	require.Eventually(t, func() bool { s, _, _ := c.do(t, "GET", "/readyz", ""); return s == 200 }, 2*time.Minute, 20*time.Millisecond,
		"the hub restarts its PostgreSQL by itself")
	acked := loop.count(201)
	require.Eventually(t, func() bool { return loop.count(201) >= acked+50 }, time.Minute, 10*time.Millisecond, "writes succeed again")
	writes := loop.end()

	var ids []string
	outage := 0
	for _, w := range writes {
		switch w.status {
		case 201:
			ids = append(ids, w.id)
		case 503:
			outage++
			require.Equal(t, "5", w.retryAfter, "a 503 says when to retry")
		default:
			var why []string // the hub's own account of it
			for _, line := range strings.Split(h.errs.String(), "\n") {
				if strings.Contains(line, "internal_error") {
					why = append(why, line)
				}
			}
			t.Fatalf("a write got %d: %s\n%s", w.status, w.detail, strings.Join(why, "\n"))
		}
	}
	t.Logf("%d writes acknowledged, %d refused with 503 during the outage", len(ids), outage)

	_, _, metrics := c.do(t, "GET", "/metrics", "")
	require.Contains(t, string(metrics), "crmhub_db_embedded_restarts_total 1")
	require.Contains(t, string(metrics), "crmhub_db_embedded_up 1")
	require.Contains(t, h.errs.String(), "pg_exited")
	require.Contains(t, h.errs.String(), "pg_restarted")

	url, err := pgembed.Attach(filepath.Join(dir, "pg"), 5447, "")
	require.NoError(t, err)
	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var missing int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM unnest($1::uuid[]) a(id)
		WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = a.id)`, ids).Scan(&missing))
	require.Zero(t, missing, "every acknowledged write is in the database")
}

// killCluster kills a postmaster and all its children with SIGKILL. Each
// backend leads its own process group, so a signal to the postmaster's
// group would miss them: it is stopped first, so that it forks no more,
// and its children are found by their parent pid.
func killCluster(t *testing.T, postmaster int) {
	t.Helper()
	require.NoError(t, syscall.Kill(postmaster, syscall.SIGSTOP))
	procs, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid …: comm may hold spaces, so count from its ")".
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(postmaster) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	require.NoError(t, syscall.Kill(postmaster, syscall.SIGKILL))
}
