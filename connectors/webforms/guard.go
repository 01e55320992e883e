package webforms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is the per-IP limit on submissions.
type RateLimit struct {
	PerMinute float64 // 0 turns the limit off
	Burst     int
	// MaxIPs bounds the memory: when more addresses are tracked, the idle
	// ones are forgotten (default 100,000).
	MaxIPs int
}

// ipLimiter keeps a token bucket per client address.
type ipLimiter struct {
	cfg RateLimit
	mu  sync.Mutex
	ips map[string]*ipBucket
}

type ipBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(cfg RateLimit) *ipLimiter {
	if cfg.Burst <= 0 {
		cfg.Burst = 5
	}
	if cfg.MaxIPs <= 0 {
		cfg.MaxIPs = 100_000
	}
	return &ipLimiter{cfg: cfg, ips: map[string]*ipBucket{}}
}

// allow takes a token of ip's bucket; when there is none it says how long
// until there is.
func (l *ipLimiter) allow(ip string, now time.Time) (bool, time.Duration) {
	if l == nil || l.cfg.PerMinute <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.ips[ip]
	if !ok {
		if len(l.ips) >= l.cfg.MaxIPs {
			l.forget(now)
		}
		b = &ipBucket{lim: rate.NewLimiter(rate.Limit(l.cfg.PerMinute/60), l.cfg.Burst)}
		l.ips[ip] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// forget drops buckets idle long enough to be full again, or all of them
// if that frees nothing (a flood of new addresses).
func (l *ipLimiter) forget(now time.Time) {
	full := time.Duration(float64(l.cfg.Burst) / (l.cfg.PerMinute / 60) * float64(time.Second))
	for ip, b := range l.ips {
		if now.Sub(b.seen) > full {
			delete(l.ips, ip)
		}
	}
	if len(l.ips) >= l.cfg.MaxIPs {
		clear(l.ips)
	}
}

// Captcha verifies captcha tokens with the provider's server-side check
// (Yandex SmartCaptcha, reCAPTCHA, hCaptcha, Turnstile: they share the
// shape: POST secret and token, JSON with status "ok" or success true).
type Captcha struct {
	VerifyURL string
	Secret    string
	// Fields are the inputs that may carry the token (the providers'
	// defaults when empty).
	Fields  []string
	Timeout time.Duration // default 5 s
	Client  *http.Client
}

var defaultCaptchaFields = []string{"smart-token", "g-recaptcha-response", "h-captcha-response", "cf-turnstile-response", "captcha"}

// errCaptchaUnavailable: the verifier could not be asked (503, retry).
var errCaptchaUnavailable = errors.New("the captcha could not be verified; try again")

func (c *Captcha) token(f *form) string {
	fields := c.Fields
	if len(fields) == 0 {
		fields = defaultCaptchaFields
	}
	for _, n := range fields {
		if v := strings.TrimSpace(f.get(n)); v != "" {
			return v
		}
	}
	return ""
}

// verify asks the provider whether token is good for ip.
func (c *Captcha) verify(ctx context.Context, token, ip string) (bool, error) {
	if token == "" {
		return false, nil
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	form := url.Values{"secret": {c.Secret}, "token": {token}, "response": {token}, "ip": {ip}, "remoteip": {ip}}
	req, err := http.NewRequestWithContext(ctx, "POST", c.VerifyURL, strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("%w: %v", errCaptchaUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode >= 500 {
		return false, fmt.Errorf("%w: status %d", errCaptchaUnavailable, resp.StatusCode)
	}
	var r struct {
		Status  string `json:"status"`
		Success *bool  `json:"success"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return false, fmt.Errorf("%w: unreadable answer", errCaptchaUnavailable)
	}
	return r.Status == "ok" || (r.Success != nil && *r.Success), nil
}
