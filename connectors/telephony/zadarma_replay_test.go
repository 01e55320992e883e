package telephony_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// zadarmaForm is a notification's fields, key value key value…
func zadarmaForm(kv ...string) url.Values {
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// with is a copy of f with some fields changed (unsigned ones keep the
// captured signature valid).
func with(f url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	for k, v := range zadarmaForm(kv...) {
		out[k] = v
	}
	return out
}

func TestZadarmaRefusesForgedNotifications(t *testing.T) {
	st := storetest.NewStore(t)
	in := inbox.New(st.Pool())
	msk := time.FixedZone("MSK", 3*3600)
	const secret = "test-zadarma-secret"
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 12, 10, 0, 0, msk)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var logs bytes.Buffer
	refused := map[string]int{}
	replica := func() *telephony.Zadarma {
		z, err := telephony.NewZadarma(telephony.Config{Secret: secret, Now: clock, Claims: st,
			Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
			OnRefused: func(reason string) { mu.Lock(); refused[reason]++; mu.Unlock() },
			Policy:    core.CallPolicy{CreateLeads: true}}, msk, in, st)
		require.NoError(t, err)
		return z
	}
	a, b := replica(), replica() // two hubs on one database
	deliver := func(z *telephony.Zadarma, signedAs, form url.Values) core.WebhookResponse {
		sig, ok := telephony.ZadarmaSignature(secret, signedAs)
		require.True(t, ok)
		return z.Handle(context.Background(), core.WebhookRequest{Method: "POST", Header: http.Header{"Signature": {sig}},
			Body: []byte(form.Encode()), RemoteIP: "203.0.113.9"})
	}
	send := func(z *telephony.Zadarma, form url.Values) core.WebhookResponse { return deliver(z, form, form) }
	status := func(resp core.WebhookResponse) int { return resp.Status }

	start := zadarmaForm("event", "NOTIFY_START", "call_start", "2026-12-01 12:00:00", "pbx_call_id", "in_genuine",
		"caller_id", "79161234567", "called_did", "74951112233")
	end := with(start, "event", "NOTIFY_END", "internal", "100", "duration", "300", "disposition", "answered",
		"status_code", "16", "is_recorded", "0")

	t.Run("TheGenuineCallIsAccepted", func(t *testing.T) {
		require.JSONEq(t, `{"status":"accepted"}`, string(send(a, start).Body))
		require.JSONEq(t, `{"status":"accepted"}`, string(send(b, end).Body))
		require.JSONEq(t, `{"status":"duplicate"}`, string(send(a, end).Body), "a retry is still a retry")
	})

	t.Run("ACapturedNotificationUnderAnotherCallIDIsAReplay", func(t *testing.T) {
		for _, id := range []string{"in_forged_1", "in_forged_2", "in_forged_3"} {
			resp := send(b, with(end, "pbx_call_id", id))
			require.Equal(t, http.StatusConflict, resp.Status, "%s: %s", id, resp.Body)
			require.JSONEq(t, `{"error":"call_start and the numbers it signs belong to another call"}`, string(resp.Body))
		}
		require.Equal(t, http.StatusConflict, status(send(a, with(start, "pbx_call_id", "in_forged_4"))))
		require.Equal(t, http.StatusConflict, status(send(a, with(start, "event", "NOTIFY_INTERNAL", "pbx_call_id", "in_forged_5",
			"internal", "101"))), "another event of the same kind, signed alike")
	})

	t.Run("AnEndedCallCannotEndAgainWithOtherFigures", func(t *testing.T) {
		for _, f := range []url.Values{with(end, "duration", "301"), with(end, "disposition", "busy"),
			with(end, "internal", "101", "duration", "600")} {
			resp := send(a, f)
			require.Equal(t, http.StatusConflict, resp.Status, "%v: %s", f, resp.Body)
			require.JSONEq(t, `{"error":"the call already ended with other figures"}`, string(resp.Body))
		}
	})

	t.Run("ADurationLongerThanTheTimeSinceTheStartIsRefused", func(t *testing.T) {
		ringing := zadarmaForm("event", "NOTIFY_START", "call_start", "2026-12-01 12:09:00", "pbx_call_id", "in_second",
			"caller_id", "79031112233", "called_did", "74951112233")
		require.Equal(t, http.StatusOK, status(send(a, ringing)))
		// Its START, captured, turned into an END of an hour before it could end.
		resp := send(b, with(ringing, "event", "NOTIFY_END", "duration", "3600", "disposition", "answered"))
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		require.JSONEq(t, `{"error":"duration 3600 s is longer than the 60 s since call_start"}`, string(resp.Body))
	})

	t.Run("StartTimesOutsideTheWindowAreRefused", func(t *testing.T) {
		ahead := with(start, "call_start", "2026-12-01 13:10:00", "pbx_call_id", "in_ahead")
		resp := send(a, ahead)
		require.Equal(t, http.StatusForbidden, resp.Status)
		require.Contains(t, string(resp.Body), "1h0m0s ahead of the hub's clock: is telephony.zadarma.timezone the account's time zone?")
		mu.Lock()
		now = now.Add(24 * time.Hour)
		mu.Unlock()
		resp = send(a, end)
		require.Equal(t, http.StatusForbidden, resp.Status, "a day later the captured END is stale")
		require.JSONEq(t, `{"error":"call_start is 24h10m0s old: notifications are accepted for 24h0m0s"}`, string(resp.Body))
	})

	t.Run("OnlyTheGenuineCallsAreRecorded", func(t *testing.T) {
		_, err := in.NewBatchWorker(inbox.WorkerConfig{Source: a.Source(), BatchSize: 100}, a.ProcessBatch).RunOnce(context.Background())
		require.NoError(t, err)
		var ids []string
		rows, err := st.Pool().Query(context.Background(), `SELECT provider_call_id || ' ' || duration || ' ' || disposition FROM calls ORDER BY 1`)
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			ids = append(ids, s)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []string{"in_genuine 300 answered", "in_second 0 "}, ids)
	})

	t.Run("RefusalsAreLoggedWithoutSecretsAndCounted", func(t *testing.T) {
		out := logs.String()
		require.Contains(t, out, `msg=telephony_refused provider=zadarma event=NOTIFY_END pbx_call_id=in_forged_1 status=409 reason=replayed`)
		require.Contains(t, out, "ip=203.0.113.9")
		sig, _ := telephony.ZadarmaSignature(secret, end)
		require.NotContains(t, out, sig)
		require.NotContains(t, out, secret)
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, map[string]int{"replayed": 5, "ended": 3, "duration": 1, "future": 1, "stale": 1}, refused)
	})
}
