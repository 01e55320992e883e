// Package webhooks sends crmhub's change events to HTTP receivers as
// signed webhooks (issue 21): the body is the event's CloudEvent in
// structured JSON mode (Body), signed as the Standard Webhooks
// specification says (webhook-id, webhook-timestamp, webhook-signature),
// so receivers verify it with an off-the-shelf library. The Sender makes
// one attempt and classifies its result (Delivered, Retry, Failed); the
// dispatcher that reads the outbox, keeps the order per record and
// schedules retries (core.WebhookBackoff) calls it.
//
// A Sender refuses, unless configured otherwise, to connect to loopback,
// private, link-local, metadata and other non-public addresses, judged on
// the address each connection is made to (not on the URL's name), follows
// no redirects, uses no proxy, and reads at most 64 KiB of a response.
package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/crmhub/crmhub/core"
)

// Config configures a Sender.
type Config struct {
	// Timeout bounds one attempt: resolving, connecting, sending and
	// reading the response (what of it is read). Default 10 s.
	Timeout time.Duration
	// AllowHTTP lets deliveries go to http:// URLs (tests, receivers on
	// the same host or network); otherwise only https.
	AllowHTTP bool
	// AllowPrivateNetworks lets deliveries connect to loopback, private,
	// link-local and other non-public addresses: for on-premise receivers
	// and tests. Off, a subscription cannot reach the hub's own network.
	AllowPrivateNetworks bool
	// UserAgent is the User-Agent of deliveries. Default "crmhub-webhooks".
	UserAgent string
	// Resolver resolves receivers' names; nil is the system's. Whatever
	// it answers, the address connected to is checked.
	Resolver *net.Resolver
	Logger   *slog.Logger
}

// Limits of an attempt.
const (
	DefaultTimeout  = 10 * time.Second
	maxTimeout      = 5 * time.Minute
	maxResponseKept = 1 << 10  // the response body Result keeps
	maxResponseRead = 64 << 10 // the response body read (to reuse the connection)
	maxRetryAfter   = time.Hour
)

func (c *Config) setDefaults() {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = "crmhub-webhooks"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate checks the settings as an operator gave them (a zero Timeout
// or UserAgent stands for the default); its message names the key
// relative to the webhook settings (timeout, user_agent).
func (c Config) Validate() error {
	if c.Timeout < 0 || c.Timeout > maxTimeout {
		return fmt.Errorf("timeout: must be between 0 (the default, 10s) and 5m, got %s", c.Timeout)
	}
	if len(c.UserAgent) > 256 || strings.ContainsFunc(c.UserAgent, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return errors.New("user_agent: must be at most 256 bytes without control characters")
	}
	return nil
}

// Sender delivers webhooks; it is safe for concurrent use, and keeps
// connections to receivers open for the next deliveries.
type Sender struct {
	cfg    Config
	client *http.Client
}

// NewSender returns a Sender with cfg's settings.
func NewSender(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	cfg.setDefaults()
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second, Resolver: cfg.Resolver}
	if !cfg.AllowPrivateNetworks {
		dialer.Control = control
	}
	transport := &http.Transport{
		Proxy:               nil, // a proxy would connect where the guard cannot see
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: cfg.Timeout,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	client := &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Sender{cfg: cfg, client: client}, nil
}

// Close closes the connections kept open; the Sender may still be used.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// Delivery is one attempt to deliver an event to a subscription.
type Delivery struct {
	URL string
	// Secrets sign the delivery, the current one first: two during a
	// rotation, one signature each, so the receiver accepts the delivery
	// with either. Each is in the Standard Webhooks form (whsec_…).
	Secrets []string
	// ID is the webhook-id: the event's id, the same on every attempt,
	// for the receiver to drop repeats.
	ID string
	// Timestamp is when the attempt is signed; zero is now. Receivers
	// refuse one more than a few minutes off, so it is the attempt's
	// time, not the event's.
	Timestamp time.Time
	Body      []byte
	// Headers are the subscription's extra headers
	// (core.ValidateExtraHeaders).
	Headers map[string]string
}

// Outcome is what an attempt came to.
type Outcome int

// The outcomes; the zero Outcome is none (not a delivery).
const (
	// Delivered: the receiver answered 2xx.
	Delivered Outcome = iota + 1
	// Retry: the attempt may succeed later (no connection, a timeout,
	// 408, 429, 5xx); Result.RetryAfter may say when.
	Retry
	// Failed: sending again will not help (another 3xx or 4xx, a refused
	// address, an invalid delivery).
	Failed
)

// String returns the outcome's name: "delivered", "retry" or "failed".
func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Failed:
		return "failed"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Result is what an attempt came to and what the receiver answered.
type Result struct {
	Outcome Outcome
	// Status is the response's status code, 0 when there was no response.
	Status int
	// Body is the first 1 KiB of the response's body (as bytes: it may
	// end inside a UTF-8 sequence).
	Body    []byte
	Latency time.Duration
	// RetryAfter is the receiver's Retry-After of a 429 or 503, at most
	// 1 h; 0 when it sent none.
	RetryAfter time.Duration
	// Err says why the attempt did not deliver; nil when it did. It
	// never holds a secret or the URL's query.
	Err error
}

// Send makes one attempt to deliver d, bounded by the configured Timeout
// and by ctx. A 410 Gone is Failed like another 4xx; Result.Status lets
// the caller disable the subscription on it, as Standard Webhooks
// suggests. A refused address is Failed, not Retry: it is where the URL
// points, not a passing fault, and retrying for a day would only send the
// same refusal to the delivery log; when the name is moved to a public
// address, the next event is delivered, and this one by a manual retry.
func (s *Sender) Send(ctx context.Context, d Delivery) Result {
	start := time.Now()
	res := s.send(ctx, d)
	res.Latency = time.Since(start)

	if s.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		s.cfg.Logger.DebugContext(ctx, "webhook_attempt", "url", safeURL(d.URL), "webhook_id", d.ID,
			"outcome", res.Outcome.String(), "status", res.Status, "latency", res.Latency, "error", res.Err)
	}
	return res
}

func (s *Sender) send(ctx context.Context, d Delivery) Result {
	req, err := s.request(d)
	if err != nil {
		return Result{Outcome: Failed, Err: fmt.Errorf("webhooks: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	resp, err := s.client.Do(req.WithContext(ctx))
	if err != nil {
		return transportResult(ctx, safeURL(d.URL), s.cfg.Timeout, err)
	}
	body := readBody(resp.Body)
	_ = resp.Body.Close()
	res := classify(resp, time.Now())
	res.Body = body
	if res.Outcome != Delivered {
		res.Err = statusError(safeURL(d.URL), resp)
	}
	return res
}

// request builds the signed POST of d, or says why d cannot be sent.
func (s *Sender) request(d Delivery) (*http.Request, error) {
	if err := core.ValidateWebhookURL(d.URL, s.cfg.AllowHTTP); err != nil {
		return nil, errors.New(core.ErrorMessage(err))
	}
	if err := core.ValidateExtraHeaders(d.Headers); err != nil {
		return nil, errors.New(core.ErrorMessage(err))
	}
	if d.ID == "" || strings.ContainsAny(d.ID, " \r\n\t") {
		return nil, errors.New("the delivery's id is empty or holds white space")
	}
	ts := d.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	signature, err := sign(d.Secrets, d.ID, ts, d.Body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return nil, fmt.Errorf("POST %s: not a valid request URL", safeURL(d.URL))
	}
	for name, value := range d.Headers {
		req.Header.Set(name, value)
	}
	req.Header.Set(standardwebhooks.HeaderWebhookID, d.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, signature)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	return req, nil
}

// sign returns the webhook-signature of a delivery: "v1,<signature>" per
// secret, space-separated, made by the Standard Webhooks library.
func sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", errors.New("the delivery has no secret to sign it with")
	}
	sigs := make([]string, len(secrets))
	for i, secret := range secrets {
		if !core.ValidWebhookSecret(secret) {
			return "", fmt.Errorf("secret %d of the delivery is not a Standard Webhooks secret (whsec_ and base64)", i+1)
		}
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return "", fmt.Errorf("secret %d of the delivery: not usable", i+1)
		}
		if sigs[i], err = wh.Sign(id, ts, body); err != nil {
			return "", fmt.Errorf("sign with secret %d: %w", i+1, err)
		}
	}
	return strings.Join(sigs, " "), nil
}

// safeURL is a URL as errors and logs may show it: without its query
// (which may hold a token), fragment, user name or password.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an invalid URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return u.Redacted()
}
