package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/api/wire"
	"github.com/crmhub/crmhub/connectors/mailscan"
	"github.com/crmhub/crmhub/connectors/reportmail"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/addrsearch"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/printform"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type bundle struct {
	srv                   *api.Server
	store                 *store.Store
	admin, reader, writer string
}

// setup starts a server on a fresh database; tune, when given, completes
// its dependencies (a mailer, say).
func setup(t testing.TB, tune ...func(*store.Store, *api.Deps)) *bundle {
	t.Helper()
	return setupConfig(t, func(*api.Config) {}, tune...)
}

// setupConfig is setup with the server's config tuned by cfg.
func setupConfig(t testing.TB, cfg func(*api.Config), tune ...func(*store.Store, *api.Deps)) *bundle {
	t.Helper()
	st := storetest.NewStore(t)
	st.SetOrganization(core.Organization{Name: "ООО «Ромашка»", INN: "7707083893", KPP: "773601001"})
	deps := wire.APIDeps(st)
	deps.Ready = func(ctx context.Context) error { return st.Pool().Ping(ctx) }
	deps.Dialers = []core.Dialer{&recordingDialer{}}
	deps.Organization = &core.Organization{Name: "ООО «Ромашка»", INN: "7707083893", KPP: "773601001"}
	deps.Printer = &printform.Printer{Quotes: st.Quotes(), Invoices: st.Invoices(), Acts: st.Acts(), Accounts: st.Accounts(),
		Realizations: st.Realizations(), Products: st.Products(), SalesOrders: st.SalesOrders(), PurchaseOrders: st.PurchaseOrders(),
		Org: core.Organization{Name: "ООО «Ромашка»", INN: "7707083893", KPP: "773601001"}}
	deps.ReportRunner = &reportmail.Scheduler{Schedules: st.ReportSchedules(), Reports: st.Reports()}
	deps.OneCJob = func(context.Context, string) (any, error) {
		return nil, core.Errorf(core.ENOTFOUND, "1C job not found")
	}
	deps.OneCJobs = func(context.Context, int) (any, error) { return []any{}, nil }
	scan, err := mailscan.NewGroup(nil, nil, st, st, nil, nil) // not running: mailboxes are stored, not scanned
	require.NoError(t, err)
	deps.MailScanner = scan
	deps.Addresses = addrsearch.NewService(st, nil) // the register is empty unless a test loads it
	for _, f := range tune {
		f(st, &deps)
	}
	c := api.Config{BodyLimit: 64 << 10, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg(&c)
	srv, err := api.New(c, deps)
	require.NoError(t, err)
	b := &bundle{srv: srv, store: st}
	for _, k := range []struct {
		dst   *string
		scope core.Scope
	}{{&b.admin, core.ScopeAdmin}, {&b.reader, core.ScopeRead}, {&b.writer, core.ScopeWrite}} {
		_, secret, err := st.CreateAPIKey(context.Background(), string(k.scope), []core.Scope{k.scope}, "")
		require.NoError(t, err)
		*k.dst = secret
	}
	return b
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// do sends a request through the whole Fiber stack.
func (b *bundle) do(t *testing.T, method, path, key, body string, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.srv.App().Test(req, -1)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

func (b *bundle) outboxCount(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), "SELECT count(*) FROM outbox").Scan(&n))
	return n
}

func TestLeadCRUD(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "POST", "/api/v1/leads", b.writer,
		`{"first_name":"Иван","last_name":"Петров","company":"ООО «Ромашка»","phone":"8 (912) 345-67-89","email":"Ivan@Romashka.RU","status":"hot","source":"web_site","annual_revenue":"1500000.50","address":{"city":"Москва"}}`)
	require.Equal(t, 201, r.status, string(r.body))
	l := r.json(t)
	id := l["id"].(string)
	require.Equal(t, "/api/v1/leads/"+id, r.header.Get("Location"))
	require.Equal(t, `"1"`, r.header.Get("ETag"))
	require.Equal(t, "+79123456789", l["phone"])
	require.Equal(t, "ivan@romashka.ru", l["email"])
	require.Equal(t, "1500000.50", l["annual_revenue"])
	require.Equal(t, "Москва", l["address"].(map[string]any)["city"])
	require.NotEmpty(t, r.header.Get("X-Request-Id"))

	r = b.do(t, "GET", "/api/v1/leads/"+id, b.reader, "")
	require.Equal(t, 200, r.status)
	require.Equal(t, `"1"`, r.header.Get("ETag"))

	r = b.do(t, "PATCH", "/api/v1/leads/"+id, b.writer, `{"title":"Директор","email":null,"address":{"street":"Тверская, 1"}}`, "If-Match", `"1"`)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, `"2"`, r.header.Get("ETag"))
	l = r.json(t)
	require.Equal(t, "", l["email"], "null clears a field")
	require.Equal(t, "Москва", l["address"].(map[string]any)["city"], "a nested merge patch keeps other members")

	// The phone filter normalizes, so any format finds the record.
	for _, phone := range []string{"+79123456789", "89123456789", "8%20(912)%20345-67-89"} {
		r = b.do(t, "GET", "/api/v1/leads?phone="+phone, b.reader, "")
		require.Equal(t, 200, r.status, string(r.body))
		require.Len(t, r.json(t)["items"], 1, phone)
	}
	r = b.do(t, "GET", "/api/v1/leads?status=cold", b.reader, "")
	require.Len(t, r.json(t)["items"], 0)

	r = b.do(t, "DELETE", "/api/v1/leads/"+id, b.writer, "", "If-Match", `"2"`)
	require.Equal(t, 204, r.status, string(r.body))
	r = b.do(t, "GET", "/api/v1/leads/"+id, b.reader, "")
	require.Equal(t, 404, r.status)
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 5 {
		r := b.do(t, "POST", "/api/v1/leads", b.writer, `{"last_name":"L`+string(rune('a'+i))+`","company":"C"}`)
		require.Equal(t, 201, r.status)
	}
	var names []string
	path := "/api/v1/leads?limit=2&sort=last_name"
	for {
		r := b.do(t, "GET", path, b.reader, "")
		require.Equal(t, 200, r.status, string(r.body))
		page := r.json(t)
		for _, it := range page["items"].([]any) {
			names = append(names, it.(map[string]any)["last_name"].(string))
		}
		cur := page["next_cursor"].(string)
		if cur == "" {
			break
		}
		path = "/api/v1/leads?limit=2&sort=last_name&cursor=" + cur
	}
	require.Equal(t, []string{"La", "Lb", "Lc", "Ld", "Le"}, names)
}

func requireProblem(t *testing.T, r reply, status int, code string, fields ...string) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	p := r.json(t)
	require.Equal(t, "urn:crmhub:problem:"+code, p["type"])
	require.Equal(t, http.StatusText(status), p["title"])
	require.EqualValues(t, status, p["status"])
	require.NotEmpty(t, p["detail"])
	var got []string
	if errs, ok := p["errors"].([]any); ok {
		for _, e := range errs {
			em := e.(map[string]any)
			require.NotEmpty(t, em["message"])
			got = append(got, em["field"].(string)+":"+em["code"].(string))
		}
	}
	require.ElementsMatch(t, fields, got)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "POST", "/api/v1/leads", b.writer, `{"last_name":"A","company":"B"}`)
	require.Equal(t, 201, r.status)
	id := r.json(t)["id"].(string)
	before := b.outboxCount(t)

	long := strings.Repeat("я", 81)
	cases := []struct {
		name, method, path, body, ct string
		status                       int
		code                         string
		fields                       []string
	}{
		{"malformed JSON", "POST", "/api/v1/leads", `{"last_name":`, "", 422, "invalid", []string{":invalid_json"}},
		{"not an object", "POST", "/api/v1/leads", `[1,2]`, "", 422, "invalid", []string{":invalid_json"}},
		{"trailing data", "POST", "/api/v1/leads", `{"last_name":"A","company":"B"} {}`, "", 422, "invalid", []string{":invalid_json"}},
		{"unknown field", "POST", "/api/v1/leads", `{"last_name":"A","company":"B","lastname":"x"}`, "", 422, "invalid", []string{"lastname:unknown_field"}},
		{"read-only field", "POST", "/api/v1/leads", `{"last_name":"A","company":"B","version":7}`, "", 422, "invalid", []string{"version:read_only"}},
		{"wrong type", "POST", "/api/v1/leads", `{"last_name":5,"company":"B","employees":"many"}`, "", 422, "invalid", []string{"last_name:invalid_type", "employees:invalid_type"}},
		{"too long", "POST", "/api/v1/leads", `{"last_name":"` + long + `","company":"B"}`, "", 422, "invalid", []string{"last_name:too_long"}},
		{"invalid phone", "POST", "/api/v1/leads", `{"last_name":"A","company":"B","phone":"12"}`, "", 422, "invalid", []string{"phone:invalid_phone"}},
		{"invalid email", "POST", "/api/v1/leads", `{"last_name":"A","company":"B","email":"a@b"}`, "", 422, "invalid", []string{"email:invalid_email"}},
		{"unknown status", "POST", "/api/v1/leads", `{"last_name":"A","company":"B","status":"Hot"}`, "", 422, "invalid", []string{"status:invalid_choice"}},
		{"nested unknown", "POST", "/api/v1/leads", `{"last_name":"A","company":"B","address":{"town":"x"}}`, "", 422, "invalid", []string{"address.town:unknown_field"}},
		{"bad money", "POST", "/api/v1/leads", `{"last_name":"A","company":"B","annual_revenue":"1.234"}`, "", 422, "invalid", []string{"annual_revenue:invalid_decimal"}},
		{"required missing", "POST", "/api/v1/leads", `{"first_name":"A"}`, "", 422, "invalid", []string{"last_name:required", "company:required"}},
		{"required cleared", "PATCH", "/api/v1/leads/" + id, `{"company":null}`, "", 422, "invalid", []string{"company:required"}},
		{"unsupported media type", "POST", "/api/v1/leads", `last_name=A`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", nil},
		{"unknown route", "GET", "/nope", "", "", 404, "not_found", nil},
		{"unknown lead", "GET", "/api/v1/leads/0190a5c0-0000-7000-8000-000000000000", "", "", 404, "not_found", nil},
		{"malformed id", "GET", "/api/v1/leads/42", "", "", 404, "not_found", nil},
		{"method not allowed", "PUT", "/api/v1/leads", `{}`, "", 405, "method_not_allowed", nil},
		{"unknown filter", "GET", "/api/v1/leads?statuz=hot", "", "", 422, "invalid", []string{"statuz:unknown_parameter"}},
		{"limit too big", "GET", "/api/v1/leads?limit=501", "", "", 422, "invalid", []string{"limit:out_of_range"}},
		{"bad sort", "GET", "/api/v1/leads?sort=-phone", "", "", 422, "invalid", []string{"sort:invalid_choice"}},
		{"bad cursor", "GET", "/api/v1/leads?cursor=xyz", "", "", 422, "invalid", []string{"cursor:invalid_cursor"}},
		{"bad ИНН", "POST", "/api/v1/accounts", `{"name":"X","inn":"7707083894","kpp":"773601001"}`, "", 422, "invalid", []string{"inn:invalid_inn"}},
		{"bad account key", "POST", "/api/v1/accounts", `{"name":"X","bik":"044525225","settlement_account":"40702810938000012346"}`, "", 422, "invalid", []string{"settlement_account:invalid_check_digit"}},
		{"contact of a missing account", "POST", "/api/v1/contacts", `{"last_name":"X","account_id":"0190a5c0-0000-7000-8000-000000000000"}`, "", 422, "invalid", []string{"account_id:not_found"}},
		{"bad external id filter", "GET", "/api/v1/accounts?external_id=onec", "", "", 422, "invalid", []string{"external_id:invalid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.ct != "" {
				hdr = []string{"Content-Type", tc.ct}
			}
			r := b.do(t, tc.method, tc.path, b.admin, tc.body, hdr...)
			requireProblem(t, r, tc.status, tc.code, tc.fields...)
		})
	}
	require.Equal(t, before, b.outboxCount(t), "no bad request wrote anything")
}

func TestBodyLimitOverTCP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(func() { _ = b.srv.Shutdown(context.Background()) })
	before := b.outboxCount(t)
	post := func(size int) reply {
		body := `{"last_name":"A","company":"B","description":"` + strings.Repeat("x", size) + `"}`
		req, err := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/v1/leads", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+b.writer)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return reply{status: resp.StatusCode, header: resp.Header, body: data}
	}
	// Just over the limit: read and refused cleanly on a live connection.
	requireProblem(t, post(70<<10), 413, "body_too_large")
	require.Equal(t, 201, post(30000).status, "a valid body under the limit is accepted")

	// Far over it: refused on the declared length, having read no more than
	// the transport's first 8 KiB (bodies stream in).
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /api/v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", b.writer, 64<<20, strings.Repeat("x", 16<<10))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	requireProblem(t, reply{status: resp.StatusCode, header: resp.Header, body: data}, 413, "body_too_large")
	require.Equal(t, before+1, b.outboxCount(t), "only the valid request wrote")
}

func TestConcurrencyControl(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "POST", "/api/v1/leads", b.writer, `{"last_name":"A","company":"B"}`)
	id := r.json(t)["id"].(string)
	before := b.outboxCount(t)
	requireProblem(t, b.do(t, "PATCH", "/api/v1/leads/"+id, b.writer, `{"title":"x"}`, "If-Match", `"7"`), 412, "precondition_failed")
	requireProblem(t, b.do(t, "PATCH", "/api/v1/leads/"+id, b.writer, `{"title":"x"}`, "If-Match", `"abc"`), 412, "precondition_failed")
	requireProblem(t, b.do(t, "DELETE", "/api/v1/leads/"+id, b.writer, "", "If-Match", `"2"`), 412, "precondition_failed")
	require.Equal(t, before, b.outboxCount(t))
	r = b.do(t, "GET", "/api/v1/leads/"+id, b.reader, "")
	require.Equal(t, "", r.json(t)["title"], "a stale PATCH wrote nothing")
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "GET", "/api/v1/leads", "", "")
	requireProblem(t, r, 401, "unauthorized")
	require.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
	requireProblem(t, b.do(t, "GET", "/api/v1/leads", "crm_wrong", ""), 401, "unauthorized")
	requireProblem(t, b.do(t, "GET", "/api/v1/leads", "", "", "Authorization", "Basic eDp5"), 401, "unauthorized")
	requireProblem(t, b.do(t, "POST", "/api/v1/leads", b.reader, `{"last_name":"A","company":"B"}`), 403, "forbidden")
	requireProblem(t, b.do(t, "GET", "/api/v1/apikeys", b.writer, ""), 403, "forbidden")
	requireProblem(t, b.do(t, "POST", "/api/v1/users", b.writer, `{"name":"X"}`), 403, "forbidden")
	require.Equal(t, 200, b.do(t, "GET", "/api/v1/users", b.reader, "").status, "anyone may list the owners to choose from")
	require.Equal(t, 201, b.do(t, "POST", "/api/v1/users", b.admin, `{"name":"X"}`).status)

	r = b.do(t, "GET", "/api/v1/leads", "", "", "X-API-Key", b.reader)
	require.Equal(t, 200, r.status, "X-API-Key is accepted too")

	r = b.do(t, "POST", "/api/v1/apikeys", b.admin, `{"name":"robot","scopes":["read"]}`)
	require.Equal(t, 201, r.status, string(r.body))
	created := r.json(t)
	secret := created["key"].(string)
	require.Equal(t, 200, b.do(t, "GET", "/api/v1/leads", secret, "").status)
	r = b.do(t, "GET", "/api/v1/apikeys", b.admin, "")
	require.NotContains(t, string(r.body), secret, "listing never shows secrets")
	require.Equal(t, 204, b.do(t, "DELETE", "/api/v1/apikeys/"+created["id"].(string), b.admin, "").status)
	requireProblem(t, b.do(t, "GET", "/api/v1/leads", secret, ""), 401, "unauthorized")
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := `{"last_name":"Сидоров","company":"АО Вектор"}`
	r1 := b.do(t, "POST", "/api/v1/leads", b.writer, body, "Idempotency-Key", "order-42")
	require.Equal(t, 201, r1.status)
	require.Empty(t, r1.header.Get("Idempotent-Replayed"))
	r2 := b.do(t, "POST", "/api/v1/leads", b.writer, body, "Idempotency-Key", "order-42")
	require.Equal(t, 201, r2.status)
	require.Equal(t, "true", r2.header.Get("Idempotent-Replayed"))
	require.Equal(t, r1.body, r2.body)
	require.Equal(t, r1.header.Get("Location"), r2.header.Get("Location"))

	requireProblem(t, b.do(t, "POST", "/api/v1/leads", b.writer, `{"last_name":"Другой","company":"АО Вектор"}`, "Idempotency-Key", "order-42"), 409, "conflict")
	r := b.do(t, "GET", "/api/v1/leads", b.reader, "")
	require.Len(t, r.json(t)["items"], 1)

	// A failed request is not remembered: fixing the body with the same key works.
	requireProblem(t, b.do(t, "POST", "/api/v1/leads", b.writer, `{"last_name":"X"}`, "Idempotency-Key", "k2"), 422, "invalid", "company:required")
	require.Equal(t, 201, b.do(t, "POST", "/api/v1/leads", b.writer, `{"last_name":"X","company":"Y"}`, "Idempotency-Key", "k2").status)
}

func TestPanicIsA500WithoutDetails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.App().Get("/boom", func(*fiberCtx) error { panic("secret internal state") })
	r := b.do(t, "GET", "/boom", "", "")
	requireProblem(t, r, 500, "internal")
	require.NotContains(t, string(r.body), "secret")
	require.Equal(t, "internal error", r.json(t)["detail"])

	b.srv.App().Get("/fail", func(*fiberCtx) error { return errors.New("pq: password=hunter2") })
	r = b.do(t, "GET", "/fail", "", "")
	requireProblem(t, r, 500, "internal")
	require.NotContains(t, string(r.body), "hunter2")
}

func TestOperations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, 200, b.do(t, "GET", "/healthz", "", "").status)
	require.Equal(t, 200, b.do(t, "GET", "/readyz", "", "").status)
	b.do(t, "GET", "/api/v1/leads", b.reader, "")
	r := b.do(t, "GET", "/metrics", "", "")
	require.Equal(t, 200, r.status)
	require.Contains(t, string(r.body), `crmhub_http_request_duration_seconds_count{method="GET",route="/api/v1/leads",status="200"} 1`)
	r = b.do(t, "GET", "/api/v1/picklists", b.reader, "")
	require.Contains(t, string(r.body), "Горячий")
}

func TestDuplicatePoliciesOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "POST", "/api/v1/contacts", b.writer, `{"last_name":"Иванов","mobile":"+7 (912) 3456789"}`)
	require.Equal(t, 201, r.status)
	id := r.json(t)["id"].(string)

	b.store.SetDuplicatePolicy(core.DuplicatePolicy{Default: core.DupReject})
	r = b.do(t, "POST", "/api/v1/contacts", b.writer, `{"last_name":"Иванов","phone":"8 912 345-67-89"}`)
	requireProblem(t, r, 409, "conflict")
	dups := r.json(t)["duplicates"].([]any)
	require.Len(t, dups, 1)
	require.Equal(t, id, dups[0].(map[string]any)["id"])

	b.store.SetDuplicatePolicy(core.DuplicatePolicy{Default: core.DupMerge})
	r = b.do(t, "POST", "/api/v1/contacts", b.writer, `{"last_name":"Иванов","phone":"8 912 345-67-89"}`)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, id, r.header.Get("Duplicate-Of"))
	require.Equal(t, id, r.json(t)["id"])
}

// recordingDialer stands in for a PBX in tests of the dial handler's logic
// (the PBX clients have their own tests against real servers).
type recordingDialer struct {
	mu    sync.Mutex
	calls []string
}

func (d *recordingDialer) Provider() string { return "asterisk" }

func (d *recordingDialer) Dial(_ context.Context, u *core.User, number string) error {
	if len(u.PhoneExtensions) == 0 {
		return core.Invalid([]core.FieldError{{Field: "user_id", Code: "no_extension", Message: "the user has no phone extension"}})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, u.PhoneExtensions[0]+"→"+number)
	return nil
}
