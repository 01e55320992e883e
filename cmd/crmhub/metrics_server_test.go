package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMetricsAndIfMatchConfig(t *testing.T) {
	t.Parallel()
	for env, key := range map[string]string{
		"CRMHUB_METRICS_TOKEN=short":                "metrics.token",
		"CRMHUB_METRICS_TOKEN=with spaces in it ok": "metrics.token",
		"CRMHUB_METRICS_ADDR=9090":                  "metrics.addr",
		"CRMHUB_METRICS_ADDR=example.ru:9090":       "metrics.addr",
		"CRMHUB_METRICS_ADDR=127.0.0.1:8080":        "metrics.addr",  // http.addr's
		"CRMHUB_METRICS_PPROF=true":                 "metrics.pprof", // never on http.addr
		"CRMHUB_API_REQUIRE_IF_MATCH=perhaps":       "api.require_if_match",
	} {
		k, v, _ := strings.Cut(env, "=")
		_, err := loadConfig("", envFunc(map[string]string{"CRMHUB_CONFIG": os.DevNull, k: v}))
		require.ErrorContains(t, err, key, env)
	}
	cfg, err := loadConfig("", envFunc(map[string]string{"CRMHUB_CONFIG": os.DevNull, "CRMHUB_METRICS_ADDR": "127.0.0.1:9090",
		"CRMHUB_METRICS_TOKEN": "s3cret-metrics-token", "CRMHUB_API_REQUIRE_IF_MATCH": "true"}))
	require.NoError(t, err)
	require.Equal(t, MetricsConfig{Addr: "127.0.0.1:9090", Token: "s3cret-metrics-token"}, cfg.Metrics)
	require.True(t, cfg.API.RequireIfMatch)

	code, out, _ := run(t, map[string]string{"CRMHUB_CONFIG": os.DevNull, "CRMHUB_METRICS_TOKEN": "s3cret-metrics-token"}, "config", "show")
	require.Equal(t, 0, code)
	require.NotContains(t, out, "s3cret-metrics-token")
	require.Contains(t, out, "token: REDACTED")
}

// TestServeMetricsApartAndRequireIfMatch: with metrics.addr and
// metrics.token the hub serves /metrics there to the token's bearer
// only, and not on the API's address; api.require_if_match reaches the
// API.
func TestServeMetricsApartAndRequireIfMatch(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := testEnv(dir)
	env["CRMHUB_DATABASE_EMBEDDED_PORT"] = "5447"
	env["CRMHUB_METRICS_ADDR"] = freeAddr(t)
	env["CRMHUB_METRICS_TOKEN"] = "s3cret-metrics-token"
	env["CRMHUB_API_REQUIRE_IF_MATCH"] = "true"
	env["CRMHUB_METRICS_PPROF"] = "true"
	h := serveInProcess(t, env)
	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	require.NoError(t, err)
	c := client{base: "http://" + h.addr, key: strings.TrimSpace(string(key))}

	status, _, _ := c.do(t, "GET", "/metrics", "")
	require.Equal(t, 404, status, "not on the API's address")
	var get func(path, auth string) int
	scrape := func(auth string) int { return get("/metrics", auth) }
	get = func(path, auth string) int {
		req, err := http.NewRequest("GET", "http://"+env["CRMHUB_METRICS_ADDR"]+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 200 && path == "/metrics" {
			require.Contains(t, string(body), "crmhub_http_request_duration_seconds")
		}
		if resp.StatusCode == 200 && path == "/debug/pprof/heap?debug=1" {
			require.Contains(t, string(body), "heap profile")
		}
		return resp.StatusCode
	}
	require.Equal(t, 401, scrape(""))
	require.Equal(t, 401, scrape("Bearer s3cret-metrics-tokeN"))
	require.Equal(t, 200, scrape("Bearer s3cret-metrics-token"))
	// metrics.pprof: Go's profiles there, behind the same token.
	require.Equal(t, 401, get("/debug/pprof/heap?debug=1", ""))
	require.Equal(t, 200, get("/debug/pprof/heap?debug=1", "Bearer s3cret-metrics-token"))
	status, _, _ = c.do(t, "GET", "/debug/pprof/heap", "")
	require.Equal(t, 404, status, "not on the API's address")

	status, _, body := c.do(t, "POST", "/api/v1/leads", `{"last_name":"Кузнецов","company":"ИП Кузнецов"}`)
	require.Equal(t, 201, status, string(body))
	id := strings.Split(strings.Split(string(body), `"id":"`)[1], `"`)[0]
	status, _, body = c.do(t, "PATCH", "/api/v1/leads/"+id, `{"status":"hot"}`)
	require.Equal(t, 428, status, string(body))
	status, _, _ = c.do(t, "PATCH", "/api/v1/leads/"+id, `{"status":"hot"}`, "If-Match", `"1"`)
	require.Equal(t, 200, status)
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestMetricsServerStops(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	m, err := startMetrics("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), log)
	require.NoError(t, err)
	resp, err := http.Get("http://" + m.addr + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	m.stop(5*time.Second, log)
	_, err = net.DialTimeout("tcp", m.addr, time.Second)
	require.Error(t, err, "closed")
	_, err = startMetrics("127.0.0.1:99999", nil, log)
	require.ErrorContains(t, err, "metrics.addr")
}
