package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// poster sends urlencoded POSTs to target over one keep-alive pool and
// times them; an answer other than 200 is an error.
func poster(ctx context.Context, target string, conns int) func(body string, header ...string) (time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	return func(body string, header ...string) (time.Duration, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body) // read to the end, or the connection is not reused
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(t0), nil
	}
}

// loadResult is what a closed-loop load left: every request's latency,
// the failures and how long it ran.
type loadResult struct {
	latencies []time.Duration
	failures  int64
	elapsed   time.Duration
}

// runLoad runs senders goroutines for duration, each calling turn(sender,
// i) in a loop; turn reports every request it made through record.
func runLoad(senders int, duration time.Duration, turn func(sender, i int, record func(time.Duration, error))) loadResult {
	var (
		mu       sync.Mutex
		res      loadResult
		failures atomic.Int64
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(duration)
	start := time.Now()
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			record := func(d time.Duration, err error) {
				if err != nil {
					failures.Add(1)
					return
				}
				mine = append(mine, d)
			}
			for i := 0; time.Now().Before(deadline); i++ {
				turn(s, i, record)
			}
			mu.Lock()
			res.latencies = append(res.latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.failures = failures.Load()
	return res
}
