package telephony_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

const secret = "s3cret-generic"

func signed(body string, ts int64, sig string) core.WebhookRequest {
	h := http.Header{}
	h.Set(telephony.HeaderTimestamp, fmt.Sprint(ts))
	if sig == "" {
		sig = telephony.Sign(secret, ts, []byte(body))
	}
	h.Set(telephony.HeaderSignature, sig)
	return core.WebhookRequest{Method: "POST", Header: h, Body: []byte(body)}
}

func TestGenericWebhook(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	in := inbox.New(st.Pool())
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	g, err := telephony.NewGeneric(telephony.Config{Secret: secret, Now: func() time.Time { return now },
		Policy: core.CallPolicy{CreateLeads: true, CallbackAfter: 30 * time.Minute}}, in, st)
	require.NoError(t, err)
	ctx := context.Background()
	rows := func() int {
		var n int
		require.NoError(t, st.Pool().QueryRow(ctx, "SELECT count(*) FROM inbox").Scan(&n))
		return n
	}

	missed := `{"event_id":"ev-1","call_id":"c-77","direction":"in","from":"8 (912) 000-11-22","to":"+74951112233","extension":"101",` +
		`"started_at":"2026-11-27T11:58:00Z","ended_at":"2026-11-27T11:58:30Z","duration":0,"disposition":"missed","final":true}`
	ts := now.Unix()
	for _, bad := range []struct {
		name   string
		req    core.WebhookRequest
		status int
	}{
		{"tampered body", signed(missed, ts, telephony.Sign(secret, ts, []byte(missed+" "))), 401},
		{"wrong secret", signed(missed, ts, telephony.Sign("guess", ts, []byte(missed))), 401},
		{"no signature", core.WebhookRequest{Method: "POST", Header: http.Header{}, Body: []byte(missed)}, 401},
		{"replayed an hour later", signed(missed, ts-3600, ""), 401},
		{"not JSON", signed(`<xml/>`, ts, ""), 400},
		{"no call id", signed(`{"event_id":"x","direction":"in"}`, ts, ""), 400},
		{"bad direction", signed(`{"call_id":"x","direction":"up"}`, ts, ""), 400},
		{"GET", core.WebhookRequest{Method: "GET", Header: http.Header{}}, 405},
	} {
		resp := g.Handle(ctx, bad.req)
		require.Equal(t, bad.status, resp.Status, "%s: %s", bad.name, resp.Body)
		require.Contains(t, string(resp.Body), `"error"`, bad.name)
	}
	require.Zero(t, rows(), "nothing refused is stored")

	resp := g.Handle(ctx, signed(missed, ts, ""))
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.JSONEq(t, `{"status":"accepted"}`, string(resp.Body))
	resp = g.Handle(ctx, signed(missed, ts+5, "")) // the PBX retries
	require.Equal(t, 200, resp.Status)
	require.JSONEq(t, `{"status":"duplicate"}`, string(resp.Body))
	require.Equal(t, 1, rows())

	w := in.NewWorker(inbox.WorkerConfig{Source: g.Source()}, g.Process)
	n, err := w.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	s, err := in.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), s.Done)

	var lead, callLead, disposition string
	require.NoError(t, st.Pool().QueryRow(ctx, "SELECT id::text FROM leads WHERE phone = '+79120001122' AND source = 'incoming_call'").Scan(&lead))
	require.NoError(t, st.Pool().QueryRow(ctx, "SELECT lead_id::text, disposition FROM calls WHERE provider = 'generic' AND provider_call_id = 'c-77'").
		Scan(&callLead, &disposition))
	require.Equal(t, lead, callLead)
	require.Equal(t, "missed", disposition)
	var tasks int
	require.NoError(t, st.Pool().QueryRow(ctx, "SELECT count(*) FROM activities WHERE kind = 'task' AND lead_id = $1", lead).Scan(&tasks))
	require.Equal(t, 1, tasks, "a missed call from a new number: one lead, one call, one call-back task")
	var source string
	require.NoError(t, st.Pool().QueryRow(ctx, "SELECT source FROM outbox WHERE entity = 'call'").Scan(&source))
	require.Equal(t, "telephony", source, "the call's change event says where it came from")
}
