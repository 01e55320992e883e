package onec_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// checkauth is one login as 1C makes it, from ip.
func checkauth(x *onec.Exchange, user, pass, ip string) core.WebhookResponse {
	h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
	return x.Handle(context.Background(), core.WebhookRequest{Method: "GET", Query: url.Values{"type": {"catalog"}, "mode": {"checkauth"}},
		Header: h, RemoteIP: ip})
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCheckauthThrottlesPasswordGuessing(t *testing.T) {
	st := storetest.NewStore(t)
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	th, err := core.NewLoginThrottle(core.ThrottleConfig{Scope: "onec", Now: clock}, st)
	require.NoError(t, err)
	var logs syncBuffer
	refused := map[string]int{}
	x := newExchange(t, st, func(c *onec.Config) {
		c.Throttle = th
		c.Now = clock
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.OnLoginRefused = func(reason string) { mu.Lock(); refused[reason]++; mu.Unlock() }
	})

	t.Run("TwoHundredWrongPasswordsGetFiveChecks", func(t *testing.T) {
		checked := 0
		held := 0
		for i := range 200 {
			resp := checkauth(x, "1c", "guess"+string(rune('a'+i%26)), "203.0.113.7")
			switch resp.Status {
			case http.StatusOK:
				require.Equal(t, "failure\nwrong login or password", string(resp.Body))
				checked++
			case http.StatusTooManyRequests:
				require.Equal(t, "1", resp.Header.Get("Retry-After"))
				require.True(t, strings.HasPrefix(string(resp.Body), "failure\n"), "1C shows the line after failure")
				held++
			default:
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
		}
		require.Equal(t, []int{5, 195}, []int{checked, held})
	})

	t.Run("WhileLockedEvenTheRightPasswordWaits", func(t *testing.T) {
		resp := checkauth(x, "1c", "s3cret", "198.51.100.1") // from anywhere
		require.Equal(t, http.StatusTooManyRequests, resp.Status)
		require.Equal(t, "1", resp.Header.Get("Retry-After"))
	})

	t.Run("TheWaitDoublesWithEachFailure", func(t *testing.T) {
		advance(time.Second)
		require.Equal(t, http.StatusOK, checkauth(x, "1c", "guess", "203.0.113.7").Status)
		resp := checkauth(x, "1c", "guess", "203.0.113.7")
		require.Equal(t, http.StatusTooManyRequests, resp.Status)
		require.Equal(t, "2", resp.Header.Get("Retry-After"))
	})

	t.Run("TheRightPasswordAfterTheWaitResetsTheUser", func(t *testing.T) {
		advance(2 * time.Second)
		resp := checkauth(x, "1c", "s3cret", "198.51.100.1")
		require.Equal(t, http.StatusOK, resp.Status)
		require.True(t, strings.HasPrefix(string(resp.Body), "success\nCRMHUB_1C\n"), string(resp.Body))
		for range 5 {
			require.Equal(t, http.StatusOK, checkauth(x, "1c", "typo", "198.51.100.1").Status, "five free failures again")
		}
	})

	t.Run("AnAddressTryingManyUsersIsHeldBack", func(t *testing.T) {
		for i := range 20 {
			require.Equal(t, http.StatusOK, checkauth(x, "user"+string(rune('a'+i)), "x", "192.0.2.50").Status)
		}
		require.Equal(t, http.StatusTooManyRequests, checkauth(x, "someone", "x", "192.0.2.50").Status)
	})

	t.Run("RefusalsAreLoggedWithoutThePasswordAndCounted", func(t *testing.T) {
		out := logs.String()
		require.Contains(t, out, "msg=onec_login_failed user=1c ip=203.0.113.7 failures=5 next_wait=1s")
		require.Contains(t, out, "msg=onec_login_throttled")
		require.NotContains(t, out, "guess")
		require.NotContains(t, out, "s3cret")
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, map[string]int{"wrong_password": 5 + 1 + 5 + 20, "throttled": 195 + 1 + 1 + 1}, refused)
	})
}

// TestCheckauthThrottleOnTheRealClock is the attack as it was measured
// (200 wrong passwords as fast as they go, then the right one).
func TestCheckauthThrottleOnTheRealClock(t *testing.T) {
	st := storetest.NewStore(t)
	th, err := core.NewLoginThrottle(core.ThrottleConfig{Scope: "onec"}, st) // as serve wires it: in the database
	require.NoError(t, err)
	x := newExchange(t, st, func(c *onec.Config) { c.Throttle = th })
	start := time.Now()
	checked := 0
	for range 200 {
		if checkauth(x, "1c", "wrong", "203.0.113.8").Status == http.StatusOK {
			checked++
		}
	}
	elapsed := time.Since(start)
	resp := checkauth(x, "1c", "s3cret", "203.0.113.8")
	t.Logf("200 wrong passwords in %s: %d checked, the rest 429; then the right one: %d", elapsed.Round(time.Millisecond), checked, resp.Status)
	require.LessOrEqual(t, checked, 6, "5 free, at most one more if the loop took over a second")
	require.Equal(t, http.StatusTooManyRequests, resp.Status)
}
