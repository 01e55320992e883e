package telephony_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func newVATS(t *testing.T) (*telephony.VATS, *inbox.Inbox, *store.Store) {
	t.Helper()
	st := storetest.NewStore(t)
	in := inbox.New(st.Pool())
	v, err := telephony.NewVATS(telephony.Config{Secret: "test-crm-token",
		Policy: core.CallPolicy{CreateLeads: true, CallbackAfter: time.Hour}}, in, st, st)
	require.NoError(t, err)
	return v, in, st
}

// vatsFixture reads a fixture; the ones from gravitel's tests carry
// crm_token=1, which is replaced by the test's token unless keep is set.
func vatsFixture(t *testing.T, name string, keep bool) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/universal-vats", name+".urlencoded"))
	require.NoError(t, err)
	s := strings.TrimSpace(string(b))
	if !keep {
		s = strings.Replace(s, "crm_token=1", "crm_token=test-crm-token", 1)
	}
	return []byte(s)
}

func postVATS(v *telephony.VATS, body []byte) core.WebhookResponse {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.Handle(context.Background(), core.WebhookRequest{Method: "POST", Header: h, Body: body})
}

func TestVATSFixtures(t *testing.T) {
	t.Parallel()
	v, in, st := newVATS(t)
	ctx := context.Background()

	for _, name := range []string{"contact", "event-cancelled", "history-out-busy"} {
		resp := postVATS(v, vatsFixture(t, name, true))
		require.Equal(t, 401, resp.Status, "%s with another CRM's token", name)
		require.JSONEq(t, `{"error":"Invalid token"}`, string(resp.Body))
	}
	// An unknown number: the PBX routes the call as it would.
	resp := postVATS(v, vatsFixture(t, "contact", false))
	require.Equal(t, 200, resp.Status)
	require.JSONEq(t, `{}`, string(resp.Body))

	// One inbound call as the PBX reports it: ringing, answered, the
	// history, a rating; each twice, in a shuffled order.
	for _, name := range []string{"history-in-success", "event-incoming", "rating", "event-accepted", "event-incoming", "history-in-success", "event-cancelled"} {
		resp := postVATS(v, vatsFixture(t, name, false))
		require.Equal(t, 200, resp.Status, "%s: %s", name, resp.Body)
	}
	n, err := in.NewWorker(inbox.WorkerConfig{Source: v.Source()}, v.Process).RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, n, "history, incoming, rating, accepted, cancelled: repeats stored once")

	var from, to, disposition, ext, login, recording string
	var duration int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT from_number, to_number, disposition, answered_extension, pbx_user, recording_url, duration
		FROM calls WHERE provider = 'vats' AND provider_call_id = '28187487-edcf-4d23-9f95-c8591fbd9936'`).
		Scan(&from, &to, &disposition, &ext, &login, &recording, &duration))
	require.Equal(t, []any{"+74951234567", "+74997001122", "answered", "510", "admin", "https://example.megapbx.ru/records/28187487.mp3", 50},
		[]any{from, to, disposition, ext, login, recording, duration})

	// Now the caller is a lead: the PBX's lookup names them and, with the
	// owner's login learned from calls, the responsible employee.
	_, err = st.Pool().Exec(ctx, `UPDATE calls SET pbx_user = 'ivanov'`)
	require.NoError(t, err)
	resp = postVATS(v, []byte("cmd=contact&phone=84951234567&callid=next&crm_token=test-crm-token"))
	require.Equal(t, 200, resp.Status)
	require.JSONEq(t, `{"contact_name":"+74951234567 · Не указана","responsible":"ivanov"}`, string(resp.Body))

	resp = postVATS(v, []byte("cmd=history&callid=x&start=yesterday&crm_token=test-crm-token"))
	require.Equal(t, 400, resp.Status, "a malformed command is refused, not queued")
}

func TestVATSMissedCall(t *testing.T) {
	t.Parallel()
	v, in, st := newVATS(t)
	ctx := context.Background()
	require.Equal(t, 200, postVATS(v, vatsFixture(t, "history-in-missed", false)).Status)
	_, err := in.NewWorker(inbox.WorkerConfig{Source: v.Source()}, v.Process).RunOnce(ctx)
	require.NoError(t, err)
	var leads, calls, tasks int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM leads WHERE phone = '+79031234567'),
		(SELECT count(*) FROM calls WHERE disposition = 'missed' AND lead_id IS NOT NULL),
		(SELECT count(*) FROM activities WHERE kind = 'task')`).Scan(&leads, &calls, &tasks))
	require.Equal(t, []int{1, 1, 1}, []int{leads, calls, tasks}, "a missed call from a new number: one lead, one call, one call back")
}
