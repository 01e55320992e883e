package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// secret marks every text of the records the administrator makes below:
// no answer to a user who may see nothing may carry it.
const secret = "СЕКРЕТ7731"

// TestNoRouteShowsAnotherUsersRecord enumerates every route of the
// OpenAPI document, with its path parameters set to the administrator's
// records, and calls each — GET, and the writes with an empty JSON body —
// as a user whose role sees nothing: none may answer with a server error
// or with anything of those records. A route added without going through
// the access mechanism fails here.
func TestNoRouteShowsAnotherUsersRecord(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	nobody := c.user(t, "Никто", c.role(t, "Никто", "00000000-0000-7000-8000-000000000001", `{}`, `{}`))
	admin := c.admin()
	mk := func(path, body string) string {
		t.Helper()
		r := b.do(t, "POST", path, admin, body)
		require.Equal(t, 201, r.status, "%s: %s", path, r.body)
		return r.json(t)["id"].(string)
	}
	ids := map[string]string{}
	ids["leads"] = mk("/api/v1/leads", `{"last_name":"`+secret+`","company":"`+secret+`","phone":"+79001112233","email":"secret@example.ru"}`)
	ids["accounts"] = mk("/api/v1/accounts", `{"name":"`+secret+`","inn":"7707083893","kpp":"773601001","phone":"+79001112234"}`)
	ids["contacts"] = mk("/api/v1/contacts", `{"last_name":"`+secret+`","account_id":"`+ids["accounts"]+`","phone":"+79001112235"}`)
	ids["deals"] = mk("/api/v1/deals", `{"name":"`+secret+`","account_id":"`+ids["accounts"]+`","amount":"777000"}`)
	ids["activities"] = mk("/api/v1/activities", `{"kind":"task","subject":"`+secret+`","start_at":"2026-12-10T10:00:00Z","due_at":"2026-12-11T10:00:00Z"}`)
	service := mk("/api/v1/services", `{"name":"Услуга","unit":"усл","vat_rate":"22","price":"1000"}`)
	ids["quotes"] = mk("/api/v1/quotes", `{"subject":"`+secret+`","account_id":"`+ids["accounts"]+`","date":"2026-11-20","lines":[{"service_id":"`+service+`","quantity":"1"}]}`)
	r := b.do(t, "POST", "/api/v1/quotes/"+ids["quotes"]+"/invoice", admin, `{"date":"2026-11-21"}`)
	require.Equal(t, 201, r.status, string(r.body))
	ids["invoices"] = r.json(t)["id"].(string)
	r = b.do(t, "POST", "/api/v1/invoices/"+ids["invoices"]+"/payments", admin, `{"amount":"100","date":"2026-11-22","method":"cash","reference":"`+secret+`"}`)
	require.Equal(t, 201, r.status, string(r.body))
	ids["payments"] = r.json(t)["id"].(string)
	r = b.do(t, "POST", "/api/v1/invoices/"+ids["invoices"]+"/act", admin, `{"date":"2026-11-25"}`)
	require.Equal(t, 201, r.status, string(r.body))
	ids["acts"] = r.json(t)["id"].(string)
	ids["sales-orders"] = mk("/api/v1/sales-orders", `{"subject":"`+secret+`","account_id":"`+ids["accounts"]+`","date":"2026-11-20","lines":[{"service_id":"`+service+`","quantity":"1"}]}`)
	ids["purchase-orders"] = mk("/api/v1/purchase-orders", `{"subject":"`+secret+`","account_id":"`+ids["accounts"]+`","date":"2026-11-20","lines":[{"service_id":"`+service+`","quantity":"1"}]}`)
	ids["reports"] = mk("/api/v1/reports", `{"name":"`+secret+`","entity":"lead","columns":["company","last_name"]}`)
	ids["report-schedules"] = mk("/api/v1/report-schedules", `{"name":"`+secret+`","report":"`+ids["reports"]+`","frequency":"weekly","weekday":1,"recipients":["boss@example.ru"]}`)
	r = b.do(t, "POST", "/api/v1/accounts/"+ids["accounts"]+"/shares", admin, fmt.Sprintf(`{"user_id":%q,"access":"read"}`, c.m1.id))
	require.Equal(t, 201, r.status, string(r.body))
	share := r.json(t)["id"].(string)
	var every []string
	for _, id := range ids {
		every = append(every, id)
	}

	doc, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(doc, &spec))
	param := regexp.MustCompile(`\{(\w+)\}`)
	// The query a route needs to find anything (a search finds the
	// records by their text, the duplicates by their keys).
	queries := map[string]string{
		"/api/v1/search":     "?q=" + secret,
		"/api/v1/duplicates": "?phone=%2B79001112233&phone=%2B79001112234&email=secret@example.ru&inn=7707083893",
	}
	calls := 0
	for path, ops := range spec.Paths {
		if strings.HasPrefix(path, "/calendar/") || !strings.HasPrefix(path, "/api/v1/") {
			continue // a calendar feed is read with its user's secret token, not a key; the rest are no API of records
		}
		collection := strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/")[0]
		url := param.ReplaceAllStringFunc(path, func(p string) string {
			switch p {
			case "{id}":
				if id, ok := ids[collection]; ok {
					return id
				}
				return ids["leads"]
			case "{share_id}":
				return share
			}
			return "x"
		})
		url += queries[path]
		for method := range ops {
			method = strings.ToUpper(method)
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, method) {
				continue
			}
			body := ""
			if method != "GET" && method != "DELETE" {
				body = "{}"
			}
			calls++
			r := b.do(t, method, url, nobody.key, body)
			where := method + " " + url
			// (503: a part this test hub does not run, such as e-mail.)
			require.True(t, r.status < 500 || r.status == 503, "%s: %d %s", where, r.status, r.body)
			require.NotContains(t, string(r.body), secret, "%s answers with another user's record", where)
			require.NotContains(t, string(r.body), "777000", "%s sums another user's deal", where)
			text := string(r.body)
			for _, id := range every {
				if !strings.Contains(url, id) { // a problem names the path it answers
					require.NotContains(t, text, id, "%s names another user's record", where)
				}
			}
			if method == "GET" && r.status == 200 && strings.Contains(url, "/"+ids[collection]) && param.MatchString(path) &&
				!strings.HasSuffix(path, "/shares") {
				t.Errorf("%s: a user who sees nothing read another user's record (200)", where)
			}
		}
	}
	require.Greater(t, calls, 200, "every route was called")

	// Every standard report, in every format, as the user who sees nothing.
	r = b.do(t, "GET", "/api/v1/reports/standard", admin, "")
	require.Equal(t, 200, r.status, string(r.body))
	for _, it := range r.json(t)["items"].([]any) {
		slug := it.(map[string]any)["slug"].(string)
		for _, format := range []string{"json", "csv"} {
			r := b.do(t, "GET", "/api/v1/reports/"+slug+"/run?format="+format, nobody.key, "")
			require.Less(t, r.status, 500, "%s: %s", slug, r.body)
			require.NotContains(t, string(r.body), secret, "standard report %s", slug)
			require.NotContains(t, string(r.body), "777000", "standard report %s sums another user's deal", slug)
		}
	}

	// The administrator's records are all still there: the user who may do
	// nothing changed nothing.
	for coll, id := range ids {
		r := b.do(t, "GET", "/api/v1/"+coll+"/"+id, admin, "")
		require.Equal(t, 200, r.status, "%s %s: %s", coll, id, r.body)
	}
}
