package webhooks_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevent "github.com/cloudevents/sdk-go/v2/event"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/webhooks"
	"github.com/crmhub/crmhub/core"
)

// received is a request as a receiver got it.
type received struct {
	method string
	header http.Header
	body   []byte
}

// receiver is an HTTP server on loopback that records every request and
// answers with its handler.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newReceiver(t *testing.T, answer http.HandlerFunc) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{method: r.Method, header: r.Header.Clone(), body: body})
		rc.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// answer is a handler that writes status (and headers) with body.
func answer(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func newSender(t *testing.T, cfg webhooks.Config) *webhooks.Sender {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := webhooks.NewSender(cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// loopbackSender may reach the test receivers: http on loopback.
func loopbackSender(t *testing.T) *webhooks.Sender {
	return newSender(t, webhooks.Config{AllowHTTP: true, AllowPrivateNetworks: true, Timeout: 5 * time.Second})
}

func sampleEvent() core.Event {
	return core.Event{
		ID: "0190b3c2-7a6e-7c3a-9f00-5b1d2c3e4f50", Type: "deal.updated", Entity: "deal",
		EntityID: "0190b3c2-0000-7000-8000-000000000042", EntityVersion: 3,
		OccurredAt: time.Date(2026, 12, 1, 9, 30, 0, 123456789, time.FixedZone("MSK", 3*3600)),
		Source:     "api", Actor: "key-1", CorrelationID: "req-7",
		Data:    []byte(`{"id":"0190b3c2-0000-7000-8000-000000000042","name":"Поставка <A&B>","stage":"negotiation"}`),
		Changed: []string{"stage", "amount"},
	}
}

func newSecret(t *testing.T) string {
	t.Helper()
	s, err := core.NewWebhookSecret()
	require.NoError(t, err)
	return s
}

// delivery is the sample event's delivery to url, signed with secrets.
func delivery(t *testing.T, url string, secrets ...string) webhooks.Delivery {
	t.Helper()
	e := sampleEvent()
	body, err := webhooks.Body(e)
	require.NoError(t, err)
	return webhooks.Delivery{URL: url, Secrets: secrets, ID: e.ID, Body: body}
}

// verify checks a request's signature with the Standard Webhooks library.
func verify(t *testing.T, r received, secret string) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	return wh.Verify(r.body, r.header)
}
func TestWebhookSenderDelivers(t *testing.T) {
	t.Parallel()

	t.Run("OneSecret", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, answer(http.StatusOK, "принято"))
		secret := newSecret(t)
		d := delivery(t, rc.URL+"/hooks/crm?tenant=7", secret)
		res := loopbackSender(t).Send(t.Context(), d)
		require.Equal(t, webhooks.Delivered, res.Outcome, "%v", res.Err)
		require.NoError(t, res.Err)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "принято", string(res.Body))
		require.Positive(t, res.Latency)

		reqs := rc.requests()
		require.Len(t, reqs, 1)
		r := reqs[0]
		require.NoError(t, verify(t, r, secret))
		require.Equal(t, http.MethodPost, r.method)
		require.Equal(t, d.Body, r.body)
		require.Equal(t, d.ID, r.header.Get("webhook-id"))
		ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
		require.NoError(t, err)
		require.InDelta(t, time.Now().Unix(), ts, 5)
		require.Regexp(t, `^v1,[A-Za-z0-9+/]{43}=$`, r.header.Get("webhook-signature"))
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		require.Equal(t, "crmhub-webhooks", r.header.Get("User-Agent"))

		var ev cloudevent.Event
		require.NoError(t, ev.UnmarshalJSON(r.body))
		require.NoError(t, ev.Validate())
		require.Equal(t, "crm.deal.updated", ev.Type())
	})

	t.Run("TwoSecretsDuringRotation", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, answer(http.StatusNoContent, ""))
		current, previous := newSecret(t), newSecret(t)
		res := loopbackSender(t).Send(t.Context(), delivery(t, rc.URL, current, previous))
		require.Equal(t, webhooks.Delivered, res.Outcome, "%v", res.Err)
		require.Equal(t, http.StatusNoContent, res.Status)

		r := rc.requests()[0]
		require.Len(t, strings.Split(r.header.Get("webhook-signature"), " "), 2)
		require.NoError(t, verify(t, r, current), "a receiver with the new secret")
		require.NoError(t, verify(t, r, previous), "a receiver still on the old secret")
		require.ErrorIs(t, verify(t, r, newSecret(t)), standardwebhooks.ErrNoMatchingSignature)
	})
}

// TestWebhookSenderDeliveryOptions: what a subscription adds to the
// delivery, and a response too long to keep.
func TestWebhookSenderDeliveryOptions(t *testing.T) {
	t.Parallel()

	t.Run("ExtraHeaders", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, answer(http.StatusAccepted, ""))
		secret := newSecret(t)
		d := delivery(t, rc.URL, secret)
		d.Headers = map[string]string{"Authorization": "Bearer t0ken", "X-Tenant": "42"}
		res := newSender(t, webhooks.Config{AllowHTTP: true, AllowPrivateNetworks: true, UserAgent: "crmhub/1.2"}).Send(t.Context(), d)
		require.Equal(t, webhooks.Delivered, res.Outcome, "%v", res.Err)

		r := rc.requests()[0]
		require.Equal(t, "Bearer t0ken", r.header.Get("Authorization"))
		require.Equal(t, "42", r.header.Get("X-Tenant"))
		require.Equal(t, "crmhub/1.2", r.header.Get("User-Agent"))
		require.NoError(t, verify(t, r, secret))
	})

	t.Run("GivenTimestamp", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, answer(http.StatusOK, ""))
		secret := newSecret(t)
		d := delivery(t, rc.URL, secret)
		d.Timestamp = time.Now().Add(-time.Minute)
		require.Equal(t, webhooks.Delivered, loopbackSender(t).Send(t.Context(), d).Outcome)

		r := rc.requests()[0]
		require.Equal(t, strconv.FormatInt(d.Timestamp.Unix(), 10), r.header.Get("webhook-timestamp"))
		require.NoError(t, verify(t, r, secret))
	})

	t.Run("LargeResponseKeepsOneKiB", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, answer(http.StatusOK, strings.Repeat("x", 2<<20)))
		secret := newSecret(t)
		start := time.Now()
		res := loopbackSender(t).Send(t.Context(), delivery(t, rc.URL, secret))
		require.Equal(t, webhooks.Delivered, res.Outcome, "%v", res.Err)
		require.Len(t, res.Body, 1024)
		require.NoError(t, verify(t, rc.requests()[0], secret))
		require.Less(t, time.Since(start), 3*time.Second, "returns without reading 2 MB to its end")
	})
}

func TestWebhookSenderRetries(t *testing.T) {
	t.Parallel()
	soon := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	for _, c := range []struct {
		name       string
		answer     http.HandlerFunc
		status     int
		retryAfter func(time.Duration) bool
	}{
		{"InternalServerError", answer(500, "boom"), 500, zero},
		{"BadGateway", answer(502, ""), 502, zero},
		{"RequestTimeout", answer(408, ""), 408, zero},
		{"TooManyRequests", answer(429, "", "Retry-After", "7"), 429, equals(7 * time.Second)},
		{"TooManyRequestsCapped", answer(429, "", "Retry-After", "86400"), 429, equals(time.Hour)},
		{"TooManyRequestsHuge", answer(429, "", "Retry-After", "99999999999999999999999"), 429, equals(time.Hour)},
		{"TooManyRequestsGarbage", answer(429, "", "Retry-After", "soon"), 429, zero},
		{"ServiceUnavailableDate", answer(503, "", "Retry-After", soon), 503, between(80*time.Second, 91*time.Second)},
		{"ServiceUnavailablePastDate", answer(503, "", "Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"), 503, zero},
		{"InternalServerErrorIgnoresRetryAfter", answer(500, "", "Retry-After", "7"), 500, zero},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, c.answer)
			secret := newSecret(t)
			res := loopbackSender(t).Send(t.Context(), delivery(t, rc.URL, secret))
			require.Equal(t, webhooks.Retry, res.Outcome)
			require.Equal(t, c.status, res.Status)
			require.True(t, c.retryAfter(res.RetryAfter), "retry after %s", res.RetryAfter)
			require.ErrorContains(t, res.Err, strconv.Itoa(c.status))
			require.Len(t, rc.requests(), 1)
			require.NoError(t, verify(t, rc.requests()[0], secret))
		})
	}
}

// TestWebhookSenderRetriesWithoutResponse: no answer in time, nothing
// listening, the caller giving up are all worth another attempt.
func TestWebhookSenderRetriesWithoutResponse(t *testing.T) {
	t.Parallel()

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		})
		s := newSender(t, webhooks.Config{AllowHTTP: true, AllowPrivateNetworks: true, Timeout: 200 * time.Millisecond})
		start := time.Now()
		res := s.Send(t.Context(), delivery(t, rc.URL, newSecret(t)))
		require.Less(t, time.Since(start), 5*time.Second, "bounded by the timeout, not the receiver")
		require.Equal(t, webhooks.Retry, res.Outcome)
		require.Zero(t, res.Status)
		require.ErrorIs(t, res.Err, context.DeadlineExceeded)
		require.ErrorContains(t, res.Err, "no response within 200ms")
	})

	t.Run("ClosedPort", func(t *testing.T) {
		t.Parallel()
		res := loopbackSender(t).Send(t.Context(), delivery(t, "http://"+closedPort(t)+"/hooks", newSecret(t)))
		require.Equal(t, webhooks.Retry, res.Outcome)
		require.Zero(t, res.Status)
		require.ErrorContains(t, res.Err, "refused")
	})

	t.Run("CallerCanceled", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, answer(http.StatusOK, ""))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		res := loopbackSender(t).Send(ctx, delivery(t, rc.URL, newSecret(t)))
		require.Equal(t, webhooks.Retry, res.Outcome)
		require.ErrorIs(t, res.Err, context.Canceled)
	})
}

func zero(d time.Duration) bool { return d == 0 }

func equals(want time.Duration) func(time.Duration) bool {
	return func(d time.Duration) bool { return d == want }
}

func between(lo, hi time.Duration) func(time.Duration) bool {
	return func(d time.Duration) bool { return d >= lo && d <= hi }
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestWebhookSenderFails(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 404, 410, 422} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, answer(status, `{"error":"no"}`))
			secret := newSecret(t)
			res := loopbackSender(t).Send(t.Context(), delivery(t, rc.URL, secret))
			require.Equal(t, webhooks.Failed, res.Outcome)
			require.Equal(t, status, res.Status)
			require.Equal(t, `{"error":"no"}`, string(res.Body))
			require.ErrorContains(t, res.Err, strconv.Itoa(status))
			require.NoError(t, verify(t, rc.requests()[0], secret))
		})
	}

	for _, status := range []int{301, 302, 307, 308} {
		t.Run("Redirect"+strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			target := newReceiver(t, answer(http.StatusOK, ""))
			rc := newReceiver(t, answer(status, "", "Location", target.URL+"/elsewhere?token=s3cret"))
			secret := newSecret(t)
			res := loopbackSender(t).Send(t.Context(), delivery(t, rc.URL, secret))
			require.Equal(t, webhooks.Failed, res.Outcome)
			require.Equal(t, status, res.Status)
			require.ErrorContains(t, res.Err, "redirects are not followed")
			require.ErrorContains(t, res.Err, target.URL+"/elsewhere")
			require.NotContains(t, res.Err.Error(), "s3cret")
			require.Zero(t, len(target.requests()), "the Location is not requested")
			require.NoError(t, verify(t, rc.requests()[0], secret))
		})
	}
}

// TestWebhookSenderRefusesDeliveries: a delivery that is wrong as given
// fails at once, sending nothing.
func TestWebhookSenderRefusesDeliveries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, answer(http.StatusOK, ""))
	secret := newSecret(t)
	open := webhooks.Config{AllowHTTP: true, AllowPrivateNetworks: true}
	for _, c := range []struct {
		name   string
		sender webhooks.Config
		edit   func(*webhooks.Delivery)
		want   string
	}{
		{"HTTPNotAllowed", webhooks.Config{AllowPrivateNetworks: true}, func(*webhooks.Delivery) {}, "must use https"},
		{"NoSecret", open, func(d *webhooks.Delivery) { d.Secrets = nil }, "no secret"},
		{"BadSecret", open, func(d *webhooks.Delivery) { d.Secrets = []string{secret, "whsec_not-base64!"} }, "secret 2"},
		{"NoID", open, func(d *webhooks.Delivery) { d.ID = "" }, "id"},
		{"ReservedHeader", open, func(d *webhooks.Delivery) { d.Headers = map[string]string{"Content-Type": "text/plain"} }, "the sender sets it"},
		{"HeaderInjection", open, func(d *webhooks.Delivery) { d.Headers = map[string]string{"X-A": "1\r\nHost: evil"} }, "control characters"},
		{"UserInfo", open, func(d *webhooks.Delivery) { d.URL = strings.Replace(d.URL, "//", "//user:s3cret@", 1) }, "user name or password"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := delivery(t, rc.URL, secret)
			c.edit(&d)
			res := newSender(t, c.sender).Send(t.Context(), d)
			require.Equal(t, webhooks.Failed, res.Outcome)
			require.Zero(t, res.Status)
			require.ErrorContains(t, res.Err, c.want)
			require.NotContains(t, res.Err.Error(), strings.TrimPrefix(secret, "whsec_"))
			require.NotContains(t, res.Err.Error(), "s3cret")
		})
	}
	require.Zero(t, len(rc.requests()), "nothing was sent")
}

// TestWebhookSenderRefusesPrivateNetworks: without AllowPrivateNetworks
// no request reaches an address on loopback, a private network, a
// link-local one or the metadata service, however the URL names it.
func TestWebhookSenderRedactsURL(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, answer(http.StatusInternalServerError, ""))
	s := loopbackSender(t)
	for _, url := range []string{rc.URL + "/hooks?token=s3cret", "http://" + closedPort(t) + "/hooks?token=s3cret"} {
		res := s.Send(t.Context(), delivery(t, url, newSecret(t)))
		require.Equal(t, webhooks.Retry, res.Outcome)
		require.ErrorContains(t, res.Err, "/hooks")
		require.NotContains(t, res.Err.Error(), "s3cret")
	}
}

func TestWebhookSenderConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		cfg  webhooks.Config
		want string
	}{
		{"Defaults", webhooks.Config{}, ""},
		{"Timeout", webhooks.Config{Timeout: 30 * time.Second, UserAgent: "crmhub/1.0"}, ""},
		{"NegativeTimeout", webhooks.Config{Timeout: -time.Second}, "timeout:"},
		{"LongTimeout", webhooks.Config{Timeout: time.Hour}, "timeout:"},
		{"UserAgentNewline", webhooks.Config{UserAgent: "a\nb"}, "user_agent:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.cfg.Validate()
			_, newErr := webhooks.NewSender(c.cfg)
			if c.want == "" {
				require.NoError(t, err)
				require.NoError(t, newErr)
				return
			}
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, newErr, c.want)
		})
	}
}

func TestWebhookOutcomeString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "delivered", webhooks.Delivered.String())
	require.Equal(t, "retry", webhooks.Retry.String())
	require.Equal(t, "failed", webhooks.Failed.String())
	require.Equal(t, "outcome(0)", webhooks.Outcome(0).String())
}
