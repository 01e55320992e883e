package api_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/ed807"
)

const sg = "/suggestions/api/4_1/rs"

// loadBanks loads a real BIK directory into the bundle's store.
func loadBanks(t *testing.T, b *bundle) {
	t.Helper()
	f, err := os.Open("../exchange/ed807/testdata/20220819_ED807_full.xml")
	require.NoError(t, err)
	defer f.Close()
	d, err := ed807.NewDecoder(f)
	require.NoError(t, err)
	require.NoError(t, d.Root())
	date, err := core.ParseDate(d.EDDate)
	require.NoError(t, err)
	_, err = b.store.ReplaceBanks(context.Background(), core.BankImport{Date: date}, d.NextBank)
	require.NoError(t, err)
}

func suggestKey(t *testing.T, b *bundle) string {
	t.Helper()
	_, secret, err := b.store.CreateAPIKey(context.Background(), "widget", []core.Scope{core.ScopeSuggest}, "")
	require.NoError(t, err)
	return secret
}

func suggestionsOf(t *testing.T, r reply) []map[string]any {
	t.Helper()
	require.Equal(t, 200, r.status, string(r.body))
	var out []map[string]any
	for _, s := range r.json(t)["suggestions"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

func TestBankSuggestions(t *testing.T) {
	t.Parallel()
	b := setupConfig(t, func(c *api.Config) { c.SuggestionOrigins = []string{"http://shop.example"} })
	loadBanks(t, b)
	key := suggestKey(t, b)
	check := openAPIRouter(t).checker(t, b)
	token := []string{"Authorization", "Token " + key}

	// As the widget asks: a POST with DaData's body and its Token scheme.
	body := check("POST", sg+"/suggest/bank", "", `{"query":"сбер москва","count":5}`, 200, token...)
	r := reply{status: 200, body: body}
	got := suggestionsOf(t, r)
	require.NotEmpty(t, got)
	first := got[0]
	require.Equal(t, "ПАО СБЕРБАНК", first["value"])
	data := first["data"].(map[string]any)
	require.Equal(t, "044525225", data["bic"])
	require.Equal(t, "30101810400000000225", data["correspondent_account"])
	require.Equal(t, "SABRRUMM", data["swift"])
	require.Equal(t, "г. Москва", data["payment_city"])
	require.Equal(t, map[string]any{"payment": "ПАО СБЕРБАНК", "full": nil, "short": nil}, data["name"])
	require.Equal(t, "BANK", data["opf"].(map[string]any)["type"])
	require.Equal(t, "ACTIVE", data["state"].(map[string]any)["status"])
	require.Nil(t, data["inn"], "the BIK directory has no ИНН")
	require.Equal(t, "117997, г Москва, ул Вавилова, 19", data["address"].(map[string]any)["unrestricted_value"])

	// A GET, a БИК's first digits, a filter and findById.
	got = suggestionsOf(t, b.do(t, "GET", sg+"/suggest/bank?query=04452522&count=3", key, ""))
	require.Len(t, got, 3)
	got = suggestionsOf(t, b.do(t, "POST", sg+"/suggest/bank", key, `{"query":"уфк","type":["TREASURY"],"status":"ACTIVE","count":2}`))
	require.Len(t, got, 2)
	for _, s := range got {
		require.Equal(t, "TREASURY", s["data"].(map[string]any)["opf"].(map[string]any)["type"])
		require.NotEmpty(t, s["data"].(map[string]any)["treasury_accounts"])
	}
	body = check("POST", sg+"/findById/bank", "", `{"query":"044525225"}`, 200, token...)
	got = suggestionsOf(t, reply{status: 200, body: body})
	require.Len(t, got, 1)
	require.Equal(t, "044525225", got[0]["data"].(map[string]any)["bic"])
	require.Empty(t, suggestionsOf(t, b.do(t, "POST", sg+"/findById/bank", key, `{"query":"000000000"}`)))
	check("GET", sg+"/status/bank", "", "", 200, token...)

	// Bad requests are DaData-shaped refusals, not 500s.
	requireProblem(t, b.do(t, "POST", sg+"/suggest/bank", key, `{"query":"сбер","count":21}`), 422, "invalid", "count:out_of_range")
	requireProblem(t, b.do(t, "POST", sg+"/suggest/bank", key, `{"query":"сбер","status":["OPEN"]}`), 422, "invalid", "status:invalid_choice")
	requireProblem(t, b.do(t, "POST", sg+"/suggest/bank", key, `{"query":`), 422, "invalid", ":invalid_json")
	requireProblem(t, b.do(t, "POST", sg+"/suggest/bank", "", `{"query":"сбер"}`), 401, "unauthorized")
	r = b.do(t, "POST", sg+"/suggest/bank", "", `{"query":"сбер"}`, "Authorization", "Basic Zm9vOmJhcg==")
	requireProblem(t, r, 401, "unauthorized")

	// A suggest key is for lookups only: not the CRM's API, nor its accounts;
	// and the Token scheme is the lookups' only.
	requireProblem(t, b.do(t, "GET", "/api/v1/leads", key, ""), 403, "forbidden")
	requireProblem(t, b.do(t, "POST", sg+"/suggest/party", key, `{"query":"сбер"}`), 403, "forbidden")
	requireProblem(t, b.do(t, "GET", "/api/v1/leads", "", "", "Authorization", "Token "+b.admin), 401, "unauthorized")
}

func TestSuggestionsCORS(t *testing.T) {
	t.Parallel()
	b := setupConfig(t, func(c *api.Config) { c.SuggestionOrigins = []string{"http://shop.example/"} })
	key := suggestKey(t, b)

	r := b.do(t, "OPTIONS", sg+"/suggest/bank", "", "", "Origin", "http://shop.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type,x-version")
	require.Equal(t, 204, r.status, string(r.body))
	require.Equal(t, "http://shop.example", r.header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, r.header.Get("Access-Control-Allow-Headers"), "Authorization")
	require.Contains(t, r.header.Get("Access-Control-Allow-Headers"), "X-Version")
	require.Contains(t, r.header.Get("Vary"), "Origin")

	r = b.do(t, "OPTIONS", sg+"/suggest/bank", "", "", "Origin", "http://evil.example", "Access-Control-Request-Method", "POST")
	require.Equal(t, 403, r.status)
	require.Empty(t, r.header.Get("Access-Control-Allow-Origin"))

	// The answers, refusals included, carry the header the browser needs to
	// read them.
	r = b.do(t, "GET", sg+"/suggest/bank?query=x", "", "", "Origin", "http://shop.example", "Authorization", "Token "+key)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "http://shop.example", r.header.Get("Access-Control-Allow-Origin"))
	r = b.do(t, "GET", sg+"/suggest/bank?query=x", "", "", "Origin", "http://shop.example")
	require.Equal(t, 401, r.status)
	require.Equal(t, "http://shop.example", r.header.Get("Access-Control-Allow-Origin"))
	r = b.do(t, "GET", sg+"/suggest/bank?query=x", "", "", "Origin", "http://evil.example", "Authorization", "Token "+key)
	require.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
	// The rest of the API is no lookup: no CORS there.
	r = b.do(t, "GET", "/api/v1/leads", b.admin, "", "Origin", "http://shop.example")
	require.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
}

func TestPartySuggestionsFollowVisibility(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	check := openAPIRouter(t).checker(t, b)
	sber := c.create(t, c.m1, "/api/v1/accounts", `{"name":"Сбербанк","legal_form":"ПАО","inn":"7707083893","kpp":"773601001",
		"ogrn":"1027700132195","legal_address":{"postcode":"117312","city":"г. Москва","street":"ул. Вавилова","house":"д. 19"}}`)
	c.create(t, c.m2, "/api/v1/accounts", `{"name":"ООО Яндекс","legal_form":"ООО","inn":"7736207543","kpp":"770401001","ogrn":"1027700229193"}`)
	c.create(t, c.m1, "/api/v1/accounts", `{"name":"Иванов Иван Иванович","legal_form":"ИП","inn":"500100732259"}`)

	body := check("POST", sg+"/suggest/party", "", `{"query":"сбер"}`, 200, "Authorization", "Token "+c.m1.key)
	got := suggestionsOf(t, reply{status: 200, body: body})
	require.Len(t, got, 1)
	require.Equal(t, "ПАО Сбербанк", got[0]["value"])
	data := got[0]["data"].(map[string]any)
	require.Equal(t, sber, data["hid"])
	require.Equal(t, "7707083893", data["inn"])
	require.Equal(t, "773601001", data["kpp"])
	require.Equal(t, "1027700132195", data["ogrn"])
	require.Equal(t, "LEGAL", data["type"])
	require.Equal(t, "ПАО Сбербанк", data["name"].(map[string]any)["short_with_opf"])
	require.Equal(t, "117312, г. Москва, ул. Вавилова, д. 19", data["address"].(map[string]any)["value"])

	// By ИНН, ОГРН, ИНН with КПП; a type filter.
	for _, q := range []string{`{"query":"7707083893"}`, `{"query":"1027700132195"}`, `{"query":"7707083893","kpp":"773601001"}`} {
		body = check("POST", sg+"/findById/party", "", q, 200, "Authorization", "Token "+c.m1.key)
		got = suggestionsOf(t, reply{status: 200, body: body})
		require.Len(t, got, 1, q)
		require.Equal(t, sber, got[0]["data"].(map[string]any)["hid"])
	}
	require.Empty(t, suggestionsOf(t, b.do(t, "POST", sg+"/findById/party", c.m1.key, `{"query":"7707083893","kpp":"770101001"}`)))
	got = suggestionsOf(t, b.do(t, "GET", sg+"/suggest/party?query=иванов", c.m1.key, ""))
	require.Len(t, got, 1)
	require.Equal(t, "INDIVIDUAL", got[0]["data"].(map[string]any)["type"])
	require.Equal(t, "ИП Иванов Иван Иванович", got[0]["value"])
	require.Empty(t, suggestionsOf(t, b.do(t, "POST", sg+"/suggest/party", c.m1.key, `{"query":"иванов","type":"LEGAL"}`)))

	// Another manager's companies are not suggested to m1, nor m1's to m2;
	// the head of m1's department sees m1's.
	require.Empty(t, suggestionsOf(t, b.do(t, "POST", sg+"/suggest/party", c.m1.key, `{"query":"яндекс"}`)))
	require.Empty(t, suggestionsOf(t, b.do(t, "POST", sg+"/findById/party", c.m2.key, `{"query":"7707083893"}`)))
	require.Len(t, suggestionsOf(t, b.do(t, "POST", sg+"/findById/party", c.headA.key, `{"query":"7707083893"}`)), 1)
	require.Len(t, suggestionsOf(t, b.do(t, "POST", sg+"/suggest/party", c.m2.key, `{"query":"7736"}`)), 1, "an ИНН's first digits")
	require.Empty(t, suggestionsOf(t, b.do(t, "POST", sg+"/findById/party", c.m1.key, `{"query":"123"}`)))
	requireProblem(t, b.do(t, "POST", sg+"/suggest/party", c.m1.key, `{"query":"x","type":"STATE"}`), 422, "invalid", "type:invalid_choice")
}
