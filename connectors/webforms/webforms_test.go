package webforms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type rig struct {
	st  *store.Store
	h   *webforms.Handler
	reg *prometheus.Registry
	in  *inbox.Inbox
}

func newRig(t *testing.T, cfg webforms.Config) *rig {
	t.Helper()
	st := storetest.NewStore(t)
	return newRigWith(t, st, st, cfg)
}

func newRigWith(t *testing.T, st *store.Store, svc core.WebFormService, cfg webforms.Config) *rig {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registry = reg
	in := inbox.New(st.Pool())
	h, err := webforms.New(cfg, svc, in)
	require.NoError(t, err)
	return &rig{st: st, h: h, reg: reg, in: in}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return bytes.TrimSpace(b)
}

// post submits a body to /forms/{slug}; headers come in pairs.
func (r *rig) post(t *testing.T, slug, ct string, body []byte, headers ...string) core.WebhookResponse {
	t.Helper()
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return r.h.Handle(context.Background(), core.WebhookRequest{Method: "POST", SubPath: slug, Header: h, Body: body,
		RemoteIP: "203.0.113.9", Query: url.Values{}})
}

func (r *rig) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	require.NoError(t, r.st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func (r *rig) onlyLead(t *testing.T) *core.Lead {
	t.Helper()
	var id string
	require.NoError(t, r.st.Pool().QueryRow(context.Background(), "SELECT id::text FROM leads").Scan(&id))
	l, err := r.st.Leads().Get(context.Background(), id)
	require.NoError(t, err)
	return l
}

// outcome reads crmhub_webform_submissions_total{form, outcome}.
func (r *rig) outcome(form, outcome string) float64 {
	mfs, _ := r.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "crmhub_webform_submissions_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["form"] == form && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

const urlencoded = "application/x-www-form-urlencoded"

func TestPlainHTMLForm(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "contact", Honeypot: "website",
		TimingField: "form_ts", MinFillSeconds: 3}}})
	resp := r.post(t, "contact", urlencoded, fixture(t, "plain-html/contact-form.urlencoded"), "Referer", "https://example.ru/landing")
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.JSONEq(t, `{"status":"ok"}`, string(resp.Body))

	l := r.onlyLead(t)
	require.Equal(t, "Иван", l.FirstName)
	require.Equal(t, "Петров", l.LastName)
	require.Equal(t, "+79161234567", l.Phone)
	require.Equal(t, "ivan@example.ru", l.Email)
	require.Equal(t, "Не указана", l.Company)
	require.Equal(t, "web_site", l.Source)
	require.Contains(t, l.Description, "Перезвоните")
	require.Contains(t, l.Description, "consent: on", "an input nobody mapped is kept")
	require.Equal(t, core.Marketing{UTMSource: "yandex", UTMMedium: "cpc", UTMCampaign: "brand_msk",
		ClickID: "1234567890123456789", Referrer: "https://yandex.ru/",
		LandingPage: "https://example.ru/landing?utm_source=yandex&utm_medium=cpc"}, l.Marketing)

	// A double click: the same body again changes nothing.
	resp = r.post(t, "contact", urlencoded, fixture(t, "plain-html/contact-form.urlencoded"))
	require.Equal(t, 200, resp.Status)
	require.Equal(t, 1, r.count(t, "leads"))
	require.Equal(t, 1.0, r.outcome("contact", "repeat"))
	var events int
	require.NoError(t, r.st.Pool().QueryRow(context.Background(),
		"SELECT count(*) FROM outbox WHERE entity = 'lead' AND entity_id = $1", l.ID).Scan(&events))
	require.Equal(t, 1, events, "the lead carries its change event")
}

func TestMultipartFormAttachesTheFile(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "contact", Honeypot: "website"}}})
	raw := fixture(t, "plain-html/contact-form.multipart.txt")
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	require.True(t, ok)
	ct := strings.TrimSpace(strings.TrimPrefix(string(head), "Content-Type:"))
	resp := r.post(t, "contact", ct, body)
	require.Equal(t, 200, resp.Status, string(resp.Body))

	l := r.onlyLead(t)
	require.Equal(t, "+79161234567", l.Phone)
	files, err := r.st.Attachments(context.Background(), core.EntityLead, l.ID, false)
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Equal(t, "tz.txt", files[0].FileName)
	require.Equal(t, "text/plain", files[0].ContentType)
	a, data, err := r.st.AttachmentContent(context.Background(), files[0].ID)
	require.NoError(t, err)
	require.Equal(t, "Техническое задание", string(data))
	require.Equal(t, int64(len(data)), a.Size)
	var events int
	require.NoError(t, r.st.Pool().QueryRow(context.Background(),
		"SELECT count(*) FROM outbox WHERE entity = 'attachment' AND entity_id = $1", a.ID).Scan(&events))
	require.Equal(t, 1, events)
}

func TestFilesOverTheLimitAreRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "contact"}}, Limits: webforms.Limits{MaxFileSize: 10}})
	body := "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nИван\r\n--B\r\n" +
		"Content-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n\r\n0123456789ABCDEF\r\n--B--\r\n"
	resp := r.post(t, "contact", "multipart/form-data; boundary=B", []byte(body))
	require.Equal(t, 413, resp.Status, string(resp.Body))
	require.Equal(t, "application/problem+json", resp.ContentType)
	require.Equal(t, 0, r.count(t, "leads"))
}

func TestTilda(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "tilda", Format: core.FormatTilda},
		{Slug: "tilda-key", Format: core.FormatTilda, APIKey: "test-tilda-key"}}})

	resp := r.post(t, "tilda", urlencoded, fixture(t, "tilda/test.urlencoded"))
	require.Equal(t, 200, resp.Status)
	require.Equal(t, "ok", string(resp.Body))
	require.Equal(t, 0, r.count(t, "leads"), "the connection test creates nothing")

	body := fixture(t, "tilda/lead.urlencoded")
	for range 3 { // the submission and Tilda's two retries
		resp = r.post(t, "tilda", urlencoded, body)
		require.Equal(t, 200, resp.Status, string(resp.Body))
		require.Equal(t, "ok", string(resp.Body))
	}
	// The same tranid with another body (a retry after an edit) is a repeat too.
	resp = r.post(t, "tilda", urlencoded, append(append([]byte{}, body...), "&extra=1"...))
	require.Equal(t, 200, resp.Status)
	require.Equal(t, 1, r.count(t, "leads"), "a Tilda retry makes one lead")
	l := r.onlyLead(t)
	require.Equal(t, "Петров", l.LastName)
	require.Equal(t, "+79161234567", l.Phone)
	require.Equal(t, "Перезвоните после 18:00", l.Description)
	require.Equal(t, core.Marketing{UTMSource: "yandex", UTMMedium: "cpc", UTMCampaign: "brand_msk", UTMContent: "ad_17",
		UTMTerm: "купить диван"}, l.Marketing)
	require.Equal(t, 3.0, r.outcome("tilda", "repeat"))

	// The API key in the body: right, missing, wrong.
	keyed := fixture(t, "tilda/lead-api-key-in-body.urlencoded")
	resp = r.post(t, "tilda-key", urlencoded, bytes.Replace(keyed, []byte("test-tilda-key"), []byte("test-tilda-kez"), 1))
	require.Equal(t, 401, resp.Status)
	resp = r.post(t, "tilda-key", urlencoded, fixture(t, "tilda/lead.urlencoded"))
	require.Equal(t, 401, resp.Status)
	require.Equal(t, 1, r.count(t, "leads"), "an unauthenticated post writes nothing")
	resp = r.post(t, "tilda-key", urlencoded, keyed)
	require.Equal(t, 200, resp.Status, string(resp.Body))
	// …or in a header, as the newer JSON channel sends it.
	resp = r.post(t, "tilda-key", "application/json", fixture(t, "tilda/marketplace-integration.json"), "X-Api-Key", "test-tilda-key")
	require.Equal(t, 200, resp.Status, string(resp.Body))
	// Both are the same person as the first lead: its owner gets tasks.
	require.Equal(t, 1, r.count(t, "leads"))
	require.Equal(t, 2, r.count(t, "webform_submissions WHERE form = 'tilda-key' AND NOT created"))
	require.Equal(t, 2, r.count(t, "activities WHERE kind = 'task' AND lead_id IS NOT NULL"))
}

func TestContactForm7(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "cf7", Format: core.FormatCF7, APIKey: "cf7-secret-123",
		APIKeyName: "X-Crmhub-Token"}}})
	body := fixture(t, "cf7-to-webhook/submission.json")
	resp := r.post(t, "cf7", "application/json", body)
	require.Equal(t, 401, resp.Status)
	resp = r.post(t, "cf7", "application/json", body, "X-Crmhub-Token", "cf7-secret-123")
	require.Equal(t, 200, resp.Status, string(resp.Body))
	l := r.onlyLead(t)
	require.Equal(t, "Иван", l.FirstName)
	require.Equal(t, "Петров", l.LastName)
	require.Equal(t, "+79161234567", l.Phone)
	require.Equal(t, "ivan@example.ru", l.Email)
	require.Equal(t, "Заявка\nНужна консультация", l.Description)
	require.Equal(t, core.Marketing{UTMSource: "google", UTMMedium: "cpc",
		LandingPage: "https://shop.example.ru/contacts/?utm_source=google"}, l.Marketing)
}

func TestVtigerCapture(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "vt", Format: core.FormatVtiger,
		PublicID: "0b6d70228937303c28f8d526dab8ef97", Required: []string{"last_name", "email"}}}})
	body := fixture(t, "vtiger/webform-capture.urlencoded")
	// Posted to /modules/Webforms/capture.php: the form is found by publicid.
	resp := r.post(t, "", urlencoded, body)
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.JSONEq(t, string(fixture(t, "vtiger/capture-response-ok.json")), string(resp.Body))
	l := r.onlyLead(t)
	require.Equal(t, "Иван", l.FirstName)
	require.Equal(t, "Петров", l.LastName)
	require.Equal(t, "ООО Ромашка", l.Company)
	require.Equal(t, "+79161234567", l.Phone)
	require.Equal(t, "Нужна консультация\n\ncf_1001: yandex", l.Description)

	resp = r.post(t, "", urlencoded, bytes.Replace(body, []byte("publicid=0b6d"), []byte("publicid=ffff"), 1))
	require.Equal(t, 404, resp.Status)
	require.JSONEq(t, string(fixture(t, "vtiger/capture-response-error.json")), string(resp.Body))

	resp = r.post(t, "vt", urlencoded, bytes.Replace(body, []byte("email=ivan"), []byte("x=ivan"), 1))
	require.Equal(t, 422, resp.Status)
	require.JSONEq(t, `{"success":false,"error":{"message":"Required fields not filled (email: is required)"}}`, string(resp.Body))
	require.Equal(t, 1, r.count(t, "leads"))
}

func TestBitrix24(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "b24", Format: core.FormatBitrix24},
		{Slug: "b24-events", Format: core.FormatBitrix24, APIKey: "test-app-token"}}})
	resp := r.post(t, "b24", urlencoded, fixture(t, "bitrix24/crm.lead.add.urlencoded"))
	require.Equal(t, 200, resp.Status, string(resp.Body))
	l := r.onlyLead(t)
	require.JSONEq(t, `{"result":"`+l.ID+`"}`, string(resp.Body))
	require.Equal(t, "Иван", l.FirstName)
	require.Equal(t, "Петров", l.LastName)
	require.Equal(t, "+79161234567", l.Phone)
	require.Equal(t, "ivan@example.ru", l.Email)
	require.Equal(t, "Заявка с сайта: Иван Петров\nНужна консультация", l.Description)
	require.Equal(t, core.Marketing{UTMSource: "yandex", UTMMedium: "cpc", UTMCampaign: "brand_msk"}, l.Marketing)

	ev := fixture(t, "bitrix24/outgoing-event-ONCRMLEADADD.urlencoded")
	resp = r.post(t, "b24-events", urlencoded, ev)
	require.Equal(t, 200, resp.Status, string(resp.Body))
	resp = r.post(t, "b24-events", urlencoded, bytes.Replace(ev, []byte("test-app-token"), []byte("forged-token"), 1))
	require.Equal(t, 401, resp.Status)
	require.Contains(t, string(resp.Body), `"error_description"`)
	require.Equal(t, 1, r.count(t, "leads"), "an event names a portal record: nothing to create")
	require.Equal(t, 1.0, r.outcome("b24-events", "event"))
}

func TestDuplicatePolicies(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "attach"}, {Slug: "create", Duplicates: core.FormDupCreate}}})
	resp := r.post(t, "attach", urlencoded, []byte("name=Иван+Петров&phone=8+916+123-45-67&message=Первая"))
	require.Equal(t, 200, resp.Status, string(resp.Body))
	first := r.onlyLead(t)

	// The same person again, another question: a task on the lead, no new lead.
	resp = r.post(t, "attach", urlencoded, []byte("name=Иван&phone=%2B7+916+1234567&message=Вторая"))
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.Equal(t, 1, r.count(t, "leads"))
	var subject, descr, owner string
	require.NoError(t, r.st.Pool().QueryRow(context.Background(),
		`SELECT subject, description, owner_id::text FROM activities WHERE lead_id = $1 AND kind = 'task'`, first.ID).
		Scan(&subject, &descr, &owner))
	require.Equal(t, "Заявка с сайта: attach", subject)
	require.Contains(t, descr, "Вторая")
	require.Equal(t, first.OwnerID, owner)
	require.Equal(t, 1.0, r.outcome("attach", "attached"))

	resp = r.post(t, "create", urlencoded, []byte("name=Иван&phone=%2B79161234567&message=Третья"))
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.Equal(t, 2, r.count(t, "leads"), "the create policy makes a new lead anyway")
}

func TestDealTargetAndRoundRobin(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "test", Source: "api"})
	var ids []string
	for _, n := range []string{"Анна", "Борис"} {
		u, err := st.Users().Create(ctx, core.Patch{"name": json.RawMessage(`"` + n + `"`), "active": json.RawMessage("true")})
		require.NoError(t, err)
		ids = append(ids, u.ID)
	}
	r := newRigWith(t, st, st, webforms.Config{Forms: []core.WebForm{{Slug: "order", Target: core.FormTargetDeal,
		RoundRobin: ids, Fields: map[string]string{"sum": "amount"}}}})
	for i, phone := range []string{"+79160000001", "+79160000002", "+79160000003"} {
		resp := r.post(t, "order", urlencoded, []byte("name=Клиент+"+string(rune('А'+i))+"&phone="+url.QueryEscape(phone)+"&sum=1500.50"))
		require.Equal(t, 200, resp.Status, string(resp.Body))
	}
	rows, err := st.Pool().Query(context.Background(), `SELECT d.owner_id::text, d.amount::text, c.phone, c.owner_id::text
		FROM deals d JOIN contacts c ON c.id = d.contact_id ORDER BY d.created_at`)
	require.NoError(t, err)
	var owners []string
	for rows.Next() {
		var owner, amount, phone, cowner string
		require.NoError(t, rows.Scan(&owner, &amount, &phone, &cowner))
		require.Equal(t, "1500.50", amount)
		require.Equal(t, owner, cowner, "the deal and its contact share the owner")
		owners = append(owners, owner)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{ids[0], ids[1], ids[0]}, owners, "owners take turns")
}

func TestSpamGuards(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	r := newRig(t, webforms.Config{Now: func() time.Time { return now },
		RateLimit: webforms.RateLimit{PerMinute: 60, Burst: 3},
		Forms:     []core.WebForm{{Slug: "c", Honeypot: "website", TimingField: "form_ts", MinFillSeconds: 3}}})
	ts := func(d time.Duration) string { return "&form_ts=" + strconv.FormatInt(now.Add(-d).Unix(), 10) }

	resp := r.post(t, "c", urlencoded, []byte("name=Bot&phone=%2B79160000009&website=http://spam.example"+ts(time.Minute)))
	require.Equal(t, 200, resp.Status, "a bot is not told")
	resp = r.post(t, "c", urlencoded, []byte("name=Bot&phone=%2B79160000009&website="+ts(time.Second)))
	require.Equal(t, 200, resp.Status)
	resp = r.post(t, "c", urlencoded, []byte("name=Bot&phone=%2B79160000009&website="))
	require.Equal(t, 200, resp.Status, "no render time: a script")
	require.Equal(t, 0, r.count(t, "leads"))
	require.Equal(t, 3.0, r.outcome("c", "spam"))

	// The burst is spent: the next one from that address waits.
	resp = r.post(t, "c", urlencoded, []byte("name=Иван&phone=%2B79160000001&website="+ts(time.Minute)))
	require.Equal(t, 429, resp.Status)
	require.Equal(t, "2", resp.Header.Get("Retry-After"))
	require.Equal(t, 1.0, r.outcome("c", "rate_limited"))
	now = now.Add(2 * time.Second)
	resp = r.post(t, "c", urlencoded, []byte("name=Иван&phone=%2B79160000001&website="+ts(time.Minute)))
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.Equal(t, 1, r.count(t, "leads"))
}

func TestCaptchaHook(t *testing.T) {
	t.Parallel()
	var got url.Values
	verifier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		require.NoError(t, req.ParseForm())
		got = req.PostForm
		if req.PostForm.Get("token") == "good-token" && req.PostForm.Get("secret") == "server-key" {
			_, _ = w.Write([]byte(`{"status":"ok","message":""}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"failed","message":"Token invalid or expired."}`))
	}))
	defer verifier.Close()
	r := newRig(t, webforms.Config{Captcha: &webforms.Captcha{VerifyURL: verifier.URL, Secret: "server-key"},
		Forms: []core.WebForm{{Slug: "c", Captcha: true}}})
	resp := r.post(t, "c", urlencoded, []byte("name=Иван&phone=%2B79160000001&smart-token=bad-token"))
	require.Equal(t, 403, resp.Status)
	resp = r.post(t, "c", urlencoded, []byte("name=Иван&phone=%2B79160000001"))
	require.Equal(t, 403, resp.Status, "no token at all")
	require.Equal(t, 0, r.count(t, "leads"))
	resp = r.post(t, "c", urlencoded, []byte("name=Иван&phone=%2B79160000001&smart-token=good-token"))
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.Equal(t, "203.0.113.9", got.Get("ip"))
	l := r.onlyLead(t)
	require.NotContains(t, l.Description, "good-token", "the token is not CRM data")
	require.Equal(t, 2.0, r.outcome("c", "captcha_failed"))

	verifier.Close()
	resp = r.post(t, "c", urlencoded, []byte("name=Пётр&phone=%2B79160000002&smart-token=good-token"))
	require.Equal(t, 503, resp.Status, "the verifier is down: try again, nothing accepted")
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
}

func TestErrorsAndRedirects(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{
		{Slug: "json", Required: []string{"phone"}},
		{Slug: "classic", Required: []string{"phone"}, RedirectURL: "https://example.ru/thanks?from=form"},
		{Slug: "off", Disabled: true}}})

	resp := r.post(t, "json", urlencoded, []byte("name=Иван&phone=12"))
	require.Equal(t, 422, resp.Status)
	require.Equal(t, "application/problem+json", resp.ContentType)
	var p struct {
		Status int               `json:"status"`
		Errors []core.FieldError `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(resp.Body, &p))
	require.Equal(t, 422, p.Status)
	require.Equal(t, "phone", p.Errors[0].Field)

	resp = r.post(t, "classic", urlencoded, []byte("name=Иван"), "Accept", "text/html,application/xhtml+xml")
	require.Equal(t, 303, resp.Status)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "form", loc.Query().Get("from"))
	require.Equal(t, "Required fields not filled (phone: is required)", loc.Query().Get("error"))

	resp = r.post(t, "classic", urlencoded, []byte("name=Иван&phone=%2B79160000001"), "Accept", "text/html")
	require.Equal(t, 303, resp.Status)
	require.Equal(t, "https://example.ru/thanks?from=form&success=ok", resp.Header.Get("Location"))

	resp = r.post(t, "json", "text/xml", []byte("<lead/>"))
	require.Equal(t, 415, resp.Status)
	resp = r.post(t, "json", "application/json", []byte(`{"name": "Иван", `))
	require.Equal(t, 400, resp.Status)
	resp = r.post(t, "off", urlencoded, []byte("name=Иван"))
	require.Equal(t, 404, resp.Status)
	resp = r.post(t, "nope", urlencoded, []byte("name=Иван"))
	require.Equal(t, 404, resp.Status)
	resp = r.h.Handle(context.Background(), core.WebhookRequest{Method: "GET", SubPath: "json", Header: http.Header{}})
	require.Equal(t, 405, resp.Status)
	require.Equal(t, 1, r.count(t, "leads"))
}

func TestCORS(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "c", AllowedOrigins: []string{"https://example.ru"}}}})
	h := http.Header{}
	h.Set("Origin", "https://example.ru")
	resp := r.h.Handle(context.Background(), core.WebhookRequest{Method: "OPTIONS", SubPath: "c", Header: h})
	require.Equal(t, 204, resp.Status)
	require.Equal(t, "https://example.ru", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "POST")

	resp = r.post(t, "c", "application/json", []byte(`{"name":"Иван","phone":"+79160000001"}`), "Origin", "https://example.ru")
	require.Equal(t, 200, resp.Status, string(resp.Body))
	require.Equal(t, "https://example.ru", resp.Header.Get("Access-Control-Allow-Origin"))
	resp = r.post(t, "c", "application/json", []byte(`{"name":"Пётр","phone":"+79160000002"}`), "Origin", "https://evil.example")
	require.Equal(t, 403, resp.Status)
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, 1, r.count(t, "leads"))
}

// failingCapture fails captures while down, as a database restart would.
type failingCapture struct {
	core.WebFormService
	down bool
}

func (f *failingCapture) CaptureForm(ctx context.Context, s core.FormSubmission) (*core.FormResult, error) {
	if f.down {
		return nil, errors.New("conn closed")
	}
	return f.WebFormService.CaptureForm(ctx, s)
}

func TestFailedCaptureIsQueuedNotLost(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	svc := &failingCapture{WebFormService: st, down: true}
	r := newRigWith(t, st, svc, webforms.Config{Forms: []core.WebForm{{Slug: "c"}}})
	resp := r.post(t, "c", urlencoded, []byte("name=Иван&phone=%2B79160000001"), "Referer", "https://example.ru/a")
	require.Equal(t, 200, resp.Status, "accepted: it is stored")
	resp = r.post(t, "c", urlencoded, []byte("name=Иван&phone=%2B79160000001"))
	require.Equal(t, 200, resp.Status)
	require.Equal(t, 0, r.count(t, "leads"))
	require.Equal(t, 1, r.count(t, "inbox WHERE source = 'webform'"), "stored once")

	w := r.in.NewWorker(inbox.WorkerConfig{Source: webforms.Source}, r.h.Process)
	n, err := w.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 0, r.count(t, "leads"), "still down: retried later")
	svc.down = false
	require.NoError(t, r.st.Pool().QueryRow(context.Background(), "UPDATE inbox SET next_attempt_at = now() RETURNING 1").Scan(new(int)))
	n, err = w.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	l := r.onlyLead(t)
	require.Equal(t, "https://example.ru/a", l.Marketing.LandingPage)
	// The client's retry after the capture: one lead still.
	resp = r.post(t, "c", urlencoded, []byte("name=Иван&phone=%2B79160000001"))
	require.Equal(t, 200, resp.Status)
	require.Equal(t, 1, r.count(t, "leads"))
}

// TestNoSecretReachesARecord: a form's API key posted in the body — in
// the key's own field, as Bitrix24's auth[application_token], inside any
// other input — authenticates the post but reaches neither the lead nor
// its change event, for every kind of form; Bitrix24's auth envelope stays
// out too, and so does a Bitrix24 REST hook's token, wherever the call
// repeats it.
func TestNoSecretReachesARecord(t *testing.T) {
	t.Parallel()
	const secret = "S3cret-form-key-2026"
	const hookSecret = "Rest-hook-S3cret-2026"
	var forms []core.WebForm
	kinds := []string{core.FormatAuto, core.FormatTilda, core.FormatCF7, core.FormatVtiger, core.FormatBitrix24}
	for _, k := range kinds {
		forms = append(forms, core.WebForm{Slug: "f-" + k, Format: k, APIKey: secret, APIKeyName: "api_key"})
	}
	r := newRig(t, webforms.Config{Forms: forms,
		Bitrix24REST: []webforms.Bitrix24Hook{{User: "7", Token: hookSecret, Form: "f-" + core.FormatBitrix24}}})
	for i, k := range kinds {
		body := url.Values{"name": {"Иван Петров"}, "phone": {fmt.Sprintf("+7916123456%d", i)}, "comments": {"Перезвоните"},
			"api_key": {secret}, "auth[application_token]": {secret}, "auth[domain]": {"portal.bitrix24.ru"},
			"note": {"ключ " + secret + " внутри"}}
		if k == core.FormatBitrix24 {
			body = url.Values{"fields[NAME]": {"Иван"}, "fields[LAST_NAME]": {"Петров"}, "fields[COMMENTS]": {"Перезвоните"},
				"fields[PHONE][0][VALUE]": {fmt.Sprintf("+7916123456%d", i)}, "auth[application_token]": {secret},
				"auth[domain]": {"portal.bitrix24.ru"}, "note": {"ключ " + secret + " внутри"}}
		}
		resp := r.post(t, "f-"+k, urlencoded, []byte(body.Encode()))
		require.Equal(t, 200, resp.Status, "%s: %s", k, resp.Body)
	}
	call := url.Values{"fields[NAME]": {"Иван"}, "fields[LAST_NAME]": {"Петров"}, "fields[COMMENTS]": {"Перезвоните"},
		"fields[PHONE][0][VALUE]": {"+79161234599"}, "auth": {hookSecret}, "access_token": {hookSecret},
		"fields[SOURCE_DESCRIPTION]": {"https://portal.bitrix24.ru/rest/7/" + hookSecret + "/"}}
	resp := r.rest(t, "POST", "7/"+hookSecret+"/crm.lead.add.json", urlencoded, call.Encode(), "")
	require.Equal(t, 200, resp.Status, string(resp.Body))
	kinds = append(kinds, "bitrix24 rest")
	require.Equal(t, len(kinds), r.count(t, "leads"))
	require.Zero(t, r.count(t, "leads l WHERE l::text LIKE '%"+hookSecret+"%'"), "the hook's token in a lead")
	require.Zero(t, r.count(t, "outbox o WHERE o::text LIKE '%"+hookSecret+"%'"), "the hook's token in a change event")
	require.Zero(t, r.count(t, "webform_submissions w WHERE w::text LIKE '%"+hookSecret+"%'"), "the hook's token in a submission")
	require.Zero(t, r.count(t, "leads l WHERE l::text LIKE '%"+secret+"%'"), "the key in a lead")
	require.Zero(t, r.count(t, "leads l WHERE l::text LIKE '%portal.bitrix24.ru%'"), "Bitrix24's auth envelope in a lead")
	require.Zero(t, r.count(t, "outbox o WHERE o::text LIKE '%"+secret+"%'"), "the key in a change event")
	require.Equal(t, len(kinds), r.count(t, "leads WHERE description LIKE 'Перезвоните%'"), "the message kept")
}
