package telephony_test

import (
	"context"
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

// mangoPath is the path Mango posts a fixture to, from its file name.
func mangoPath(file string) string {
	name := strings.TrimSuffix(file, ".urlencoded")
	for _, kind := range []string{"call", "summary", "recording", "dtmf"} {
		if strings.HasPrefix(name, "events-"+kind) {
			return "events/" + kind
		}
	}
	panic(file)
}

func mangoFixture(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/mango", file))
	require.NoError(t, err)
	return []byte(strings.TrimSpace(string(b)))
}

func newMango(t *testing.T) (*telephony.Mango, *inbox.Inbox, *store.Store) {
	t.Helper()
	st := storetest.NewStore(t)
	in := inbox.New(st.Pool())
	m, err := telephony.NewMango(telephony.Config{Secret: "test-vpbx-api-salt",
		Policy: core.CallPolicy{CreateLeads: true, CallbackAfter: time.Hour}}, "test-vpbx-api-key", in, st)
	require.NoError(t, err)
	return m, in, st
}

func postMango(m *telephony.Mango, file string, body []byte) core.WebhookResponse {
	return m.Handle(context.Background(), core.WebhookRequest{Method: "POST", SubPath: mangoPath(file), Body: body})
}

func TestMangoFixtures(t *testing.T) {
	t.Parallel()
	m, in, _ := newMango(t)
	ctx := context.Background()
	files, err := filepath.Glob("testdata/mango/events-*.urlencoded")
	require.NoError(t, err)
	require.Len(t, files, 9)
	for _, f := range files {
		file := filepath.Base(f)
		if file == "events-summary-missed.urlencoded" {
			// The spec's two summary examples share an entry_id, and Mango
			// sends one summary per call: the second is a repeat here
			// (TestMangoSummaries takes each on its own).
			continue
		}
		body := mangoFixture(t, file)
		tampered := []byte(strings.Replace(string(body), "entry_id", "entry_iD", 1))
		require.Equal(t, 401, postMango(m, file, tampered).Status, "%s tampered", file)
		wrongKey := []byte(strings.Replace(string(body), "vpbx_api_key=test-vpbx-api-key", "vpbx_api_key=other", 1))
		require.Equal(t, 401, postMango(m, file, wrongKey).Status, "%s with another product's key", file)
		resp := postMango(m, file, body)
		require.Equal(t, 200, resp.Status, "%s: %s", file, resp.Body)
		require.JSONEq(t, `{"status":"accepted"}`, string(resp.Body), file)
		require.JSONEq(t, `{"status":"duplicate"}`, string(postMango(m, file, body).Body), "%s again", file)
	}
	n, err := in.NewWorker(inbox.WorkerConfig{Source: m.Source()}, m.Process).RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 8, n)
	s, err := in.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, inbox.Stats{Done: 8}, inbox.Stats{Pending: s.Pending, Done: s.Done, Failed: s.Failed}, "every fixture processed")
}

func TestMangoSummaries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, from, disposition, ext string
		duration                     int
		lead                         bool
	}{
		{"events-summary-answered.urlencoded", "7800123635242", "answered", "123", 10, false}, // 13 digits: not a phone, so no lead
		{"events-summary-missed.urlencoded", "+79197212620", "missed", "", 0, true},
	} {
		m, in, st := newMango(t)
		ctx := context.Background()
		require.Equal(t, 200, postMango(m, tc.file, mangoFixture(t, tc.file)).Status)
		_, err := in.NewWorker(inbox.WorkerConfig{Source: m.Source()}, m.Process).RunOnce(ctx)
		require.NoError(t, err)
		var from, disposition, ext string
		var duration int
		var final, lead bool
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT from_number, disposition, answered_extension, duration, final, lead_id IS NOT NULL
			FROM calls WHERE provider = 'mango' AND provider_call_id = '232wc3e3w3s222'`).Scan(&from, &disposition, &ext, &duration, &final, &lead))
		require.Equal(t, []any{tc.from, tc.disposition, tc.ext, tc.duration, true, tc.lead},
			[]any{from, disposition, ext, duration, final, lead}, tc.file)
		var tasks int
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM activities WHERE kind = 'task'`).Scan(&tasks))
		require.Equal(t, map[bool]int{true: 1, false: 0}[tc.disposition == "missed"], tasks, "%s: a call back only for the missed call", tc.file)
	}
}
