package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store"
)

// bitrixClient is the npm Bitrix24 REST client the hub is tested with,
// pinned (`make deps` installs Node and npm).
const bitrixClient = "@2bad/bitrix@2.5.1"

// bitrixToken is a Bitrix24 webhook code: 16 lower-case letters and
// digits, which the logs' generic secret detection does not catch.
const bitrixToken = "k32t88gf3azpmwv3"

// withBitrix24 serves Bitrix24's REST shape for the hook 1/bitrixToken,
// its leads captured by the bitrix24 form b24.
func withBitrix24(t testing.TB) func(*store.Store, *api.Deps) {
	return func(st *store.Store, d *api.Deps) {
		h, err := webforms.New(webforms.Config{Forms: []core.WebForm{{Slug: "b24", Format: core.FormatBitrix24}},
			Bitrix24REST: []webforms.Bitrix24Hook{{User: "1", Token: bitrixToken, Form: "b24"}}}, st, inbox.New(st.Pool()))
		require.NoError(t, err)
		d.Forms, d.ConfigForms, d.Bitrix24 = h, h.ConfigForms, h.Bitrix24REST()
	}
}

// bitrixScript adds a lead with the client as a site's integration does,
// and prints Bitrix24's answer (exit 3 and the error when refused).
const bitrixScript = `const { Bitrix } = require('@2bad/bitrix')
const [webhook, phone] = process.argv.slice(2)
Bitrix(webhook).leads.create({
  TITLE: 'Заявка с сайта', NAME: 'Иван', LAST_NAME: 'Петров', COMPANY_TITLE: 'ООО «Ромашка»', POST: 'Директор',
  PHONE: [{ VALUE: phone, VALUE_TYPE: 'WORK' }], EMAIL: [{ VALUE: 'ivan@example.ru', VALUE_TYPE: 'WORK' }],
  COMMENTS: 'Перезвоните после 18:00', SOURCE_ID: 'WEB', ASSIGNED_BY_ID: 1, OPENED: 'Y',
  UTM_SOURCE: 'yandex', UTM_MEDIUM: 'cpc', UTM_CAMPAIGN: 'brand_msk'
}, { REGISTER_SONET_EVENT: 'Y' })
  .then(answer => console.log(JSON.stringify(answer)))
  .catch(err => { console.error(String(err && err.message || err)); process.exit(3) })
`

// nodeTool runs name in dir and returns its standard output; a missing
// Node fails the test, saying how to get it.
func nodeTool(t *testing.T, dir, name string, args ...string) (stdout []byte, exit int) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is required for this test: run make deps (it installs nodejs and npm): %v", name, err)
	}
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s: %v\n%s", name, err, errOut.String())
	}
	if err != nil {
		t.Logf("%s %s: exit %d: %s", name, strings.Join(args, " "), ee.ExitCode(), errOut.String())
		return out.Bytes(), ee.ExitCode()
	}
	return out.Bytes(), 0
}

// TestBitrix24ClientAddsALead: a site's Bitrix24 integration, the npm
// client @2bad/bitrix pointed at the hub's /rest/1/<token>/, adds a lead
// with crm.lead.add (a GET, its fields in the query, as the client calls
// it) and gets {"result": the lead's id}; the lead has the Bitrix24
// fields mapped as the bitrix24 form maps them. The same call again makes
// no second lead; a wrong token is refused. The token is in no record,
// event, log line or metric.
func TestBitrix24ClientAddsALead(t *testing.T) {
	t.Parallel()
	var access lockedBuffer
	b := setupConfig(t, func(c *api.Config) {
		c.AccessLog = true
		c.AccessLogger = slog.New(slog.NewTextHandler(&access, nil))
		c.Logger = slog.New(slog.NewTextHandler(&access, nil))
	}, withBitrix24(t))
	origin := serveHub(t, b)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "add-lead.js"), []byte(bitrixScript), 0o600))
	_, exit := nodeTool(t, dir, "npm", "install", "--no-audit", "--no-fund", "--silent", bitrixClient)
	require.Zero(t, exit, "npm install %s", bitrixClient)

	add := func(t *testing.T, token string) (result string, exit int) {
		t.Helper()
		out, exit := nodeTool(t, dir, "node", "add-lead.js", origin+"/rest/1/"+token, "+7 916 123-45-67")
		if exit != 0 {
			return "", exit
		}
		var answer struct {
			Result string         `json:"result"`
			Time   map[string]any `json:"time"`
		}
		require.NoError(t, json.Unmarshal(out, &answer), "%s", out)
		require.NotEmpty(t, answer.Time["date_start"], "Bitrix24's answers say when they ran")
		return answer.Result, 0
	}

	t.Run("AddsTheLead", func(t *testing.T) {
		id, exit := add(t, bitrixToken)
		require.Zero(t, exit)
		l, err := b.store.Leads().Get(context.Background(), id)
		require.NoError(t, err, "the result is the lead's id")
		require.Equal(t, "Иван", l.FirstName)
		require.Equal(t, "Петров", l.LastName)
		require.Equal(t, "ООО «Ромашка»", l.Company)
		require.Equal(t, "Директор", l.Title)
		require.Equal(t, "+79161234567", l.Phone)
		require.Equal(t, "ivan@example.ru", l.Email)
		require.Equal(t, "Заявка с сайта\nПерезвоните после 18:00", l.Description)
		require.Equal(t, core.Marketing{UTMSource: "yandex", UTMMedium: "cpc", UTMCampaign: "brand_msk"}, l.Marketing)
		require.Equal(t, "web_site", l.Source)

		again, exit := add(t, bitrixToken)
		require.Zero(t, exit)
		require.Equal(t, id, again, "a retried call answers the lead it made")
	})
	t.Run("WrongTokenIsRefused", func(t *testing.T) {
		_, exit := add(t, "k32t88gf3azpmwv4")
		require.Equal(t, 3, exit, "the client rejects the call")
		r := b.do(t, "POST", "/rest/1/k32t88gf3azpmwv4/crm.lead.add.json", "", "fields%5BNAME%5D=X", "Content-Type", formURLEncoded)
		require.Equal(t, 401, r.status)
		require.JSONEq(t, `{"error":"INVALID_CREDENTIALS","error_description":"Invalid request credentials"}`, string(r.body))
	})
	var leads int
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), "SELECT count(*) FROM leads").Scan(&leads))
	require.Equal(t, 1, leads)

	t.Run("TokenIsNowhere", func(t *testing.T) {
		b.do(t, "POST", "/rest/1/"+bitrixToken, "", "x=1", "Content-Type", formURLEncoded) // no route: its path still has the token
		for _, table := range []string{"leads", "outbox", "inbox", "webform_submissions"} {
			var n int
			require.NoError(t, b.store.Pool().QueryRow(context.Background(),
				"SELECT count(*) FROM "+table+" t WHERE t::text LIKE '%"+bitrixToken+"%'").Scan(&n))
			require.Zero(t, n, table)
		}
		log := access.String()
		require.NotContains(t, log, bitrixToken)
		require.Contains(t, log, "method=GET path=/rest/1/REDACTED/crm.lead.add route=/rest/:user/:token/:method status=200")
		require.Contains(t, log, "path=/rest/1/REDACTED route=unmatched status=404")
		metrics := string(b.do(t, "GET", "/metrics", "", "").body)
		require.NotContains(t, metrics, bitrixToken)
		require.Contains(t, metrics, `crmhub_http_request_duration_seconds_count{method="GET",route="/rest/:user/:token/:method",status="200"} 2`)
		require.Contains(t, metrics, `crmhub_http_request_duration_seconds_count{method="POST",route="/rest/:user/:token/:method",status="401"} 1`)
	})
}

// TestBitrix24ResponsesMatchTheDocument: Bitrix24's REST shape is
// described as it is called (a query, urlencoded, JSON) and answered.
func TestBitrix24ResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	b := setup(t, withBitrix24(t))
	check := openAPIRouter(t).checker(t, b)
	add := "/rest/1/" + bitrixToken + "/crm.lead.add"

	check("GET", add+"?fields%5BNAME%5D=%D0%98%D0%B2%D0%B0%D0%BD&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B79160000001", "", "", 200)
	check("POST", add+".json", "", "fields%5BNAME%5D=%D0%9F%D1%91%D1%82%D1%80&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B79160000002", 200,
		"Content-Type", formURLEncoded)
	check("POST", add+".json", "", `{"fields":{"NAME":"Анна","PHONE":[{"VALUE":"+79160000003","VALUE_TYPE":"WORK"}]},"params":{"REGISTER_SONET_EVENT":"Y"}}`, 200)
	check("POST", "/rest/1/k32t88gf3azpmwv4/crm.lead.add.json", "", `{"fields":{"NAME":"X"}}`, 401)
	check("POST", add+".json", "", `{"fields":`, 400)
}
