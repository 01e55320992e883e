package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// wrkScript posts a distinct lead per request (identical bodies would not
// measure real work) and counts any answer but 201 as an error.
const wrkScript = `
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  thread_id = id
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CRMHUB_BENCH_KEY")
request = function()
  counter = counter + 1
  local body = string.format('{"last_name":"Петров %d-%d","company":"ООО Ромашка","phone":"8 (912) %03d-%02d-%02d","email":"u%d.%d@romashka.ru","status":"hot","source":"web_site"}',
    thread_id, counter, thread_id, counter % 100, math.floor(counter / 100) % 100, thread_id, counter)
  return wrk.format(nil, nil, nil, body)
end
`

// wrkLoad drives the hub with wrk (C, epoll) so that the load generator
// takes as little of the machine as pgbench's own client does.
func wrkLoad(ctx context.Context, base, key, dir string, clients int, duration, warmup time.Duration) (result, error) {
	script := filepath.Join(dir, "leads.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return result{}, err
	}
	runWrk := func(d time.Duration) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "wrk", "-t", "2", "-c", strconv.Itoa(clients), "-d", fmt.Sprintf("%ds", int(d.Seconds())),
			"--latency", "-s", script, base+"/api/v1/leads")
		cmd.Env = append(os.Environ(), "CRMHUB_BENCH_KEY="+key)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return out, fmt.Errorf("wrk: %w: %s", err, out)
		}
		if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindSubmatch(out); m != nil {
			return out, fmt.Errorf("wrk: %s requests were not answered 201: %s", m[1], out)
		}
		return out, nil
	}
	if warmup >= time.Second {
		if _, err := runWrk(warmup); err != nil {
			return result{}, err
		}
	}
	out, err := runWrk(duration)
	if err != nil {
		return result{}, err
	}
	rate := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out)
	total := regexp.MustCompile(`(\d+) requests in`).FindSubmatch(out)
	p50, err50 := wrkPercentile(out, "50")
	p99, err99 := wrkPercentile(out, "99")
	if rate == nil || total == nil || err50 != nil || err99 != nil {
		return result{}, fmt.Errorf("cannot read wrk output: %s", out)
	}
	r := result{name: fmt.Sprintf("crmhub POST /api/v1/leads, %d clients", clients), p50: p50, p99: p99}
	r.rate, _ = strconv.ParseFloat(string(rate[1]), 64)
	r.n, _ = strconv.Atoi(string(total[1]))
	return r, nil
}

// wrkPercentile reads a line such as "     99%   12.34ms" of --latency.
func wrkPercentile(out []byte, p string) (time.Duration, error) {
	m := regexp.MustCompile(`\s` + p + `%\s+([0-9.]+)(us|ms|s)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no %s%% line", p)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(m[2])]
	return time.Duration(v * float64(unit)), nil
}

// wrkFormsScript posts Tilda submissions: a new person each, but every
// third from a known contact (+7915…, n mod 500) and every tenth sent again
// with the same tranid (Tilda's retry). done() prints what was generated.
const wrkFormsScript = `
counter, sent, repeats, known = 0, 0, 0, 0
local thread_id = 0
local threads = {}
local last = nil
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  thread_id = id
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  sent = sent + 1
  if last ~= nil and counter % 10 == 0 then
    local body = last
    last = nil
    repeats = repeats + 1
    return wrk.format(nil, nil, nil, body)
  end
  counter = counter + 1
  local n = thread_id * 1000000 + counter
  local phone
  if counter % 3 == 0 then
    phone = string.format("%%2B7915%07d", n % 500)
    known = known + 1
  else
    phone = string.format("%%2B7926%07d", n)
  end
  local body = string.format("Name=%%D0%%9F%%D0%%BE%%D0%%BA%%D1%%83%%D0%%BF%%D0%%B0%%D1%%82%%D0%%B5%%D0%%BB%%D1%%8C+%d&Phone=%s&Email=buyer%d%%40example.ru&Comments=%%D0%%9F%%D0%%B5%%D1%%80%%D0%%B5%%D0%%B7%%D0%%B2%%D0%%BE%%D0%%BD%%D0%%B8%%D1%%82%%D0%%B5&utm_source=yandex&utm_medium=cpc&utm_campaign=brand_msk&tranid=4312345%%3A%d&formid=form512345678&website=",
    n, phone, n, n)
  last = body
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  local s, r, k = 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    r = r + t:get("repeats")
    k = k + t:get("known")
  end
  io.write(string.format("CRMHUB sent=%d repeats=%d known=%d\n", s, r, k))
end
`

// wrkForms is what a wrk run of wrkFormsScript reports.
type wrkForms struct {
	sent, repeats, known int64 // generated by the script (the last few may not have been answered)
	completed            int64
	p50, p99             time.Duration
}

func runWrkForms(ctx context.Context, target, dir string, clients int, duration time.Duration) (wrkForms, error) {
	script := filepath.Join(dir, "forms.lua")
	if err := os.WriteFile(script, []byte(wrkFormsScript), 0o644); err != nil {
		return wrkForms{}, err
	}
	out, err := exec.CommandContext(ctx, "wrk", "-t", "2", "-c", strconv.Itoa(clients), "-d",
		fmt.Sprintf("%ds", int(duration.Seconds())), "--latency", "-s", script, target).CombinedOutput()
	if err != nil {
		return wrkForms{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindSubmatch(out); m != nil {
		return wrkForms{}, fmt.Errorf("wrk: %s requests were not answered 200: %s", m[1], out)
	}
	var r wrkForms
	m := regexp.MustCompile(`CRMHUB sent=(\d+) repeats=(\d+) known=(\d+)`).FindSubmatch(out)
	total := regexp.MustCompile(`(\d+) requests in`).FindSubmatch(out)
	p50, err50 := wrkPercentile(out, "50")
	p99, err99 := wrkPercentile(out, "99")
	if m == nil || total == nil || err50 != nil || err99 != nil {
		return wrkForms{}, fmt.Errorf("cannot read wrk output: %s", out)
	}
	r.sent, _ = strconv.ParseInt(string(m[1]), 10, 64)
	r.repeats, _ = strconv.ParseInt(string(m[2]), 10, 64)
	r.known, _ = strconv.ParseInt(string(m[3]), 10, 64)
	r.completed, _ = strconv.ParseInt(string(total[1]), 10, 64)
	r.p50, r.p99 = p50, p99
	return r, nil
}
