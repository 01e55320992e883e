package telephony_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store/storetest"
)

const zadarmaFixtures = "testdata/zadarma"

// zadarmaSignatures reads the fixture folder's SIGNATURES.txt: file name →
// the Signature header computed with the dummy secret.
func zadarmaSignatures(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(zadarmaFixtures, "SIGNATURES.txt"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	file := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(line, ".urlencoded") {
			file = line
		} else if sig, ok := strings.CutPrefix(line, "Signature: "); ok && file != "" {
			out[file] = sig
		}
	}
	require.NoError(t, sc.Err())
	require.Len(t, out, 8)
	return out
}

func TestZadarmaFixtures(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	in := inbox.New(st.Pool())
	msk := time.FixedZone("MSK", 3*3600)
	fixturesSent := func() time.Time { return time.Date(2024, 1, 29, 14, 0, 0, 0, msk) } // the fixtures' calls are recent
	z, err := telephony.NewZadarma(telephony.Config{Secret: "test-zadarma-secret", Now: fixturesSent, Claims: st,
		Policy: core.CallPolicy{CreateLeads: true, CallbackAfter: time.Hour}}, msk, in, st)
	require.NoError(t, err)
	ctx := context.Background()

	t.Run("TheURLCheckAnswersTheEchoExactly", func(t *testing.T) {
		resp := z.Handle(ctx, core.WebhookRequest{Method: "GET", Query: url.Values{"zd_echo": {"d41d8cd98f00b204"}}})
		require.Equal(t, 200, resp.Status)
		require.Equal(t, "text/plain", resp.ContentType)
		require.Equal(t, "d41d8cd98f00b204", string(resp.Body), "the URL check answers the echo exactly")
	})

	if !t.Run("EachSignedFixtureIsAcceptedOnceAndRefusedTamperedOrUnsigned", func(t *testing.T) {
		sigs := zadarmaSignatures(t)
		deliver := func(file, sig string, body []byte) core.WebhookResponse {
			h := http.Header{}
			h.Set("Signature", sig)
			return z.Handle(ctx, core.WebhookRequest{Method: "POST", Header: h, Body: body})
		}
		for file, sig := range sigs {
			t.Run(file, func(t *testing.T) {
				body, err := os.ReadFile(filepath.Join(zadarmaFixtures, file))
				require.NoError(t, err)
				body = []byte(strings.TrimSpace(string(body)))
				form, err := url.ParseQuery(string(body))
				require.NoError(t, err)
				computed, ok := telephony.ZadarmaSignature("test-zadarma-secret", form)
				require.True(t, ok)
				require.Equal(t, sig, computed, "%s: the signature recipe", file)

				// A signed field changed: the call's start, or the recording id.
				tampered := strings.Replace(string(body), "call_start=2024", "call_start=2025", 1)
				tampered = strings.Replace(tampered, "call_id_with_rec=1706524805", "call_id_with_rec=1706524806", 1)
				require.NotEqual(t, string(body), tampered)
				require.Equal(t, 401, deliver(file, sig, []byte(tampered)).Status, "%s tampered", file)
				require.Equal(t, 401, deliver(file, "", body).Status, "%s unsigned", file)
				resp := deliver(file, sig, body)
				require.Equal(t, 200, resp.Status, "%s: %s", file, resp.Body)
				require.JSONEq(t, `{"status":"accepted"}`, string(resp.Body), file)
				require.JSONEq(t, `{"status":"duplicate"}`, string(deliver(file, sig, body).Body), "%s delivered again", file)
			})
		}
	}) {
		return
	}

	if !t.Run("TheWorkerProcessesEveryFixture", func(t *testing.T) {
		w := in.NewWorker(inbox.WorkerConfig{Source: z.Source(), BatchSize: 100}, z.Process)
		n, err := w.RunOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, 8, n)
		s, err := in.Stats(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(8), s.Done, "every fixture processed")
	}) {
		return
	}

	t.Run("TheCallsAreRecordedWithTheirDirectionNumbersAndLeads", func(t *testing.T) {
		type row struct {
			direction, from, to, ext, disposition string
			duration                              int
			final, lead                           bool
		}
		got := map[string]row{}
		rows, err := st.Pool().Query(ctx, `SELECT provider_call_id, direction, from_number, to_number, extension, disposition, duration,
		final, lead_id IS NOT NULL FROM calls`)
		require.NoError(t, err)
		for rows.Next() {
			var id string
			var r row
			require.NoError(t, rows.Scan(&id, &r.direction, &r.from, &r.to, &r.ext, &r.disposition, &r.duration, &r.final, &r.lead))
			got[id] = r
		}
		require.NoError(t, rows.Err())
		require.Equal(t, map[string]row{
			"in_6b1c9e3f0a2d4e5f8a9b0c1d2e3f4a5b":         {"in", "+79161234567", "+74951112233", "100", "answered", 125, true, true},
			"in_0f0e0d0c0b0a09080706050403020100":         {"in", "+79031234567", "+74951112233", "", "missed", 0, true, true},
			"out_811eb5c055f9d2edd102338454dbaa24ccde158": {"out", "100", "+79001010100", "100", "answered", 45, true, false},
		}, got)
	})

	t.Run("CallStartIsTheAccountsLocalTime", func(t *testing.T) {
		var started time.Time
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT started_at FROM calls WHERE provider_call_id = 'in_6b1c9e3f0a2d4e5f8a9b0c1d2e3f4a5b'`).Scan(&started))
		require.True(t, started.Equal(time.Date(2024, 1, 29, 10, 40, 5, 0, time.UTC)), "call_start is account-local time: %s", started)
	})

	t.Run("TheMissedCallWantsACallBack", func(t *testing.T) {
		var tasks int
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM activities WHERE kind = 'task' AND subject = 'Перезвонить +79031234567'`).Scan(&tasks))
		require.Equal(t, 1, tasks, "the missed call wants a call back")
	})
}
