package webforms_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store/storetest"
)

const restToken = "b3xmbw4srkk2pdd1" // Bitrix24's webhook codes look like this

// rest calls Bitrix24's REST shape: subPath is {user}/{token}/{method}.
func (r *rig) rest(t *testing.T, method, subPath, ct, body, query string) core.WebhookResponse {
	t.Helper()
	ep := r.h.Bitrix24REST()
	require.NotNil(t, ep)
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	q, err := url.ParseQuery(query)
	require.NoError(t, err)
	return ep.Handle(context.Background(), core.WebhookRequest{Method: method, SubPath: subPath, Header: h, Body: []byte(body),
		Query: q, RawQuery: query, RemoteIP: "203.0.113.9"})
}

// restResult reads a successful answer's result, and checks it has the
// time Bitrix24's answers carry.
func restResult(t *testing.T, resp core.WebhookResponse) string {
	t.Helper()
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.Equal(t, "application/json", resp.ContentType)
	var v struct {
		Result string `json:"result"`
		Time   struct {
			Start     float64 `json:"start"`
			DateStart string  `json:"date_start"`
		} `json:"time"`
	}
	require.NoError(t, json.Unmarshal(resp.Body, &v), string(resp.Body))
	require.NotZero(t, v.Time.Start)
	_, err := time.Parse(time.RFC3339, v.Time.DateStart)
	require.NoError(t, err)
	return v.Result
}

func restError(t *testing.T, resp core.WebhookResponse, status int, code string) {
	t.Helper()
	require.Equal(t, status, resp.Status, string(resp.Body))
	var v map[string]string
	require.NoError(t, json.Unmarshal(resp.Body, &v))
	require.Equal(t, code, v["error"], string(resp.Body))
	require.NotEmpty(t, v["error_description"])
}

// TestBitrix24REST: crm.lead.add called at Bitrix24's webhook URL, as its
// clients do (urlencoded fields[…], a JSON body, a GET's query), makes the
// lead the Bitrix24 form would and answers {"result": its id}; a retry
// makes no second lead; a wrong token or another method is refused as
// Bitrix24 refuses them.
func TestBitrix24REST(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "b24", Format: core.FormatBitrix24}},
		Bitrix24REST: []webforms.Bitrix24Hook{{User: "1", Token: restToken, Form: "b24"}}})
	add := "1/" + restToken + "/crm.lead.add.json"

	t.Run("URLEncodedFields", func(t *testing.T) {
		body := string(fixture(t, "bitrix24/crm.lead.add.urlencoded"))
		id := restResult(t, r.rest(t, "POST", add, urlencoded, body, ""))
		l, err := r.st.Leads().Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, "Иван", l.FirstName)
		require.Equal(t, "Петров", l.LastName)
		require.Equal(t, "+79161234567", l.Phone)
		require.Equal(t, "ivan@example.ru", l.Email)
		require.Equal(t, "Заявка с сайта: Иван Петров\nНужна консультация", l.Description)
		require.Equal(t, core.Marketing{UTMSource: "yandex", UTMMedium: "cpc", UTMCampaign: "brand_msk"}, l.Marketing)

		again := restResult(t, r.rest(t, "POST", add, urlencoded, body, ""))
		require.Equal(t, id, again, "a retry answers the lead it made")
		require.Equal(t, 1, r.count(t, "leads"))
		require.Equal(t, 1.0, r.outcome("b24", "repeat"))
	})
	t.Run("JSONBody", func(t *testing.T) {
		body := `{"fields":{"TITLE":"Заявка с сайта","NAME":"Пётр","SECOND_NAME":"Ильич","LAST_NAME":"Сидоров",` +
			`"COMPANY_TITLE":"ООО «Ромашка»","POST":"Директор","OPENED":true,"ASSIGNED_BY_ID":1,` +
			`"PHONE":[{"VALUE":"+7 916 000-00-02","VALUE_TYPE":"WORK"},{"VALUE":"+79160000003","VALUE_TYPE":"MOBILE"}],` +
			`"EMAIL":[{"VALUE":"petr@example.ru","VALUE_TYPE":"WORK"}],"UTM_SOURCE":"google","UTM_TERM":"диван"},` +
			`"params":{"REGISTER_SONET_EVENT":"Y"}}`
		id := restResult(t, r.rest(t, "POST", "1/"+restToken+"/crm.lead.add", "application/json", body, ""))
		l, err := r.st.Leads().Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, "Пётр", l.FirstName)
		require.Equal(t, "Сидоров", l.LastName)
		require.Equal(t, "ООО «Ромашка»", l.Company)
		require.Equal(t, "Директор", l.Title)
		require.Equal(t, "+79160000002", l.Phone)
		require.Equal(t, "+79160000003", l.Mobile)
		require.Equal(t, "petr@example.ru", l.Email)
		require.Equal(t, "Заявка с сайта\n\nSECOND_NAME: Ильич", l.Description, "a lead has no middle name: it is kept")
		require.Equal(t, core.Marketing{UTMSource: "google", UTMTerm: "диван"}, l.Marketing)
	})
	t.Run("QueryOfAGet", func(t *testing.T) {
		q := "fields%5BNAME%5D=%D0%90%D0%BD%D0%BD%D0%B0&fields%5BLAST_NAME%5D=%D0%9A%D0%BE%D0%B2%D0%B0%D0%BB%D1%91%D0%B2%D0%B0" +
			"&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B79160000004"
		id := restResult(t, r.rest(t, "GET", add, "", "", q))
		l, err := r.st.Leads().Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, "Анна", l.FirstName)
		require.Equal(t, "Ковалёва", l.LastName)
		require.Equal(t, "+79160000004", l.Phone)
	})
	t.Run("Refused", func(t *testing.T) {
		leads := r.count(t, "leads")
		body := "fields%5BNAME%5D=X&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B79160000009"
		restError(t, r.rest(t, "POST", "1/b3xmbw4srkk2pdd2/crm.lead.add.json", urlencoded, body, ""), 401, "INVALID_CREDENTIALS")
		restError(t, r.rest(t, "POST", "2/"+restToken+"/crm.lead.add.json", urlencoded, body, ""), 401, "INVALID_CREDENTIALS")
		restError(t, r.rest(t, "POST", "1/"+restToken+"/crm.deal.add.json", urlencoded, body, ""), 404, "ERROR_METHOD_NOT_FOUND")
		restError(t, r.rest(t, "POST", "1/"+restToken, urlencoded, body, ""), 404, "ERROR_METHOD_NOT_FOUND")
		restError(t, r.rest(t, "POST", add, "application/json", `{"fields":`, ""), 400, "BAD_REQUEST")
		require.Equal(t, leads, r.count(t, "leads"))
	})
}

// TestBitrix24RESTCapturedLaterIsTheSameLead: a call taken while the
// database is away waits in the inbox without its token and is captured
// from there as the Bitrix24 form reads it.
func TestBitrix24RESTCapturedLaterIsTheSameLead(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	svc := &failingCapture{WebFormService: st, down: true}
	r := newRigWith(t, st, svc, webforms.Config{Forms: []core.WebForm{{Slug: "b24", Format: core.FormatBitrix24}},
		Bitrix24REST: []webforms.Bitrix24Hook{{User: "1", Token: restToken, Form: "b24"}}})
	body := `{"fields":{"NAME":"Иван","LAST_NAME":"Петров","PHONE":[{"VALUE":"+79161234567"}],` +
		`"SOURCE_DESCRIPTION":"https://example.bitrix24.ru/rest/1/` + restToken + `/"},"auth":"` + restToken + `"}`
	resp := r.rest(t, "POST", "1/"+restToken+"/crm.lead.add.json", "application/json", body, "")
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.Contains(t, string(resp.Body), `"result":true`, "taken; its id is not known yet")
	require.Equal(t, 1, r.count(t, "inbox WHERE source = 'webform'"))
	var stored []byte
	require.NoError(t, st.Pool().QueryRow(context.Background(), "SELECT body FROM inbox").Scan(&stored))
	var env struct {
		Body []byte `json:"body"`
	}
	require.NoError(t, json.Unmarshal(stored, &env))
	require.Contains(t, string(env.Body), "fields%5BNAME%5D=", "the call waits as Bitrix24's fields")
	require.NotContains(t, string(env.Body), restToken, "nor does the token wait in the inbox")
	require.NotContains(t, string(stored), restToken)

	svc.down = false
	w := r.in.NewWorker(inbox.WorkerConfig{Source: webforms.Source}, r.h.Process)
	n, err := w.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	l := r.onlyLead(t)
	require.Equal(t, "Иван", l.FirstName)
	require.Equal(t, "Петров", l.LastName)
	require.Equal(t, "+79161234567", l.Phone)
	require.False(t, strings.Contains(l.Description, restToken))
}

func TestBitrix24HooksAreChecked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		hook []webforms.Bitrix24Hook
		want string
	}{
		{"User", []webforms.Bitrix24Hook{{User: "admin", Token: restToken, Form: "b24"}}, "bitrix24_rest[0].user:"},
		{"ShortToken", []webforms.Bitrix24Hook{{User: "1", Token: "abc", Form: "b24"}}, "bitrix24_rest[0].token:"},
		{"Form", []webforms.Bitrix24Hook{{User: "1", Token: restToken}}, "bitrix24_rest[0].form:"},
		{"Twice", []webforms.Bitrix24Hook{{User: "1", Token: restToken, Form: "b24"}, {User: "1", Token: restToken, Form: "x"}},
			"bitrix24_rest[1]: another hook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webforms.Config{Limits: webforms.Limits{MaxFileSize: 1, MaxTotalFiles: 1}, Bitrix24REST: tc.hook}.Validate()
			require.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("FormOfAnotherFormat", func(t *testing.T) {
		_, err := webforms.New(webforms.Config{Forms: []core.WebForm{{Slug: "plain"}},
			Bitrix24REST: []webforms.Bitrix24Hook{{User: "1", Token: restToken, Form: "plain"}}}, nil, nil)
		require.ErrorContains(t, err, "webforms.bitrix24_rest[0].form: plain is not of format bitrix24")
	})
	t.Run("NoHookNoEndpoint", func(t *testing.T) {
		h, err := webforms.New(webforms.Config{}, nil, nil)
		require.NoError(t, err)
		require.Nil(t, h.Bitrix24REST())
	})
}
