package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/fiasimport"
	"github.com/crmhub/crmhub/core/addrsearch"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/gar"
)

// withAddresses serves address lookups from the real region 99 (Байконур)
// loaded into the bundle's store.
func withAddresses(t *testing.T) func(*store.Store, *api.Deps) {
	return withRegister(t, fiasimport.Options{})
}

// withRegister is withAddresses loaded with opt.
func withRegister(t *testing.T, opt fiasimport.Options) func(*store.Store, *api.Deps) {
	return func(st *store.Store, d *api.Deps) {
		src, err := gar.Open("../exchange/gar/testdata/node-ru-nalog-fias-gar/gar_xml.zip", gar.Options{})
		require.NoError(t, err)
		defer src.Close()
		opt.Today = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
		_, err = fiasimport.Import(context.Background(), st, src, opt)
		require.NoError(t, err)
		d.Addresses = addrsearch.NewService(st, nil)
	}
}

func TestAddressSuggestions(t *testing.T) {
	t.Parallel()
	b := setup(t, withAddresses(t))
	key := suggestKey(t, b)
	check := openAPIRouter(t).checker(t, b)
	token := []string{"Authorization", "Token " + key}
	suggest := func(body string) []map[string]any {
		t.Helper()
		return suggestionsOf(t, reply{status: 200, body: check("POST", sg+"/suggest/address", "", body, 200, token...)})
	}
	values := func(ss []map[string]any) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = s["value"].(string)
		}
		return out
	}

	// Prefixes of the words, a house by the beginning of its number.
	got := suggest(`{"query":"байк горь 5"}`)
	require.NotEmpty(t, got)
	require.Equal(t, "г Байконур, ул Горького, д 5а", got[0]["value"])
	d := got[0]["data"].(map[string]any)
	require.Equal(t, "Байконур", d["region"])
	require.Equal(t, "г Байконур", d["region_with_type"])
	require.Equal(t, "Байконур", d["city"], "a federal city is its own city")
	require.Equal(t, "Горького", d["street"])
	require.Equal(t, "ул", d["street_type"])
	require.Equal(t, "улица", d["street_type_full"])
	require.Equal(t, "f9ee987b-a012-4d24-ba46-0cc2f6ae2640", d["street_fias_id"])
	require.Equal(t, "99000000000000900", d["street_kladr_id"])
	require.Equal(t, "5а", d["house"])
	require.Equal(t, "д", d["house_type"])
	require.Equal(t, "дом", d["house_type_full"])
	require.Equal(t, "8", d["fias_level"])
	require.Equal(t, d["house_fias_id"], d["fias_id"])
	require.Regexp(t, `^\d{6}$`, d["postal_code"])
	require.Equal(t, d["postal_code"].(string)+", г Байконур, ул Горького, д 5а", got[0]["unrestricted_value"])
	require.Nil(t, d["geo_lat"])

	// The street alone; any word order; a Latin layout; a planning
	// structure with a number in its name; the type typed.
	require.Equal(t, "г Байконур, ул Горького", suggest(`{"query":"горь"}`)[0]["value"])
	require.Equal(t, "г Байконур, ул Горького", suggest(`{"query":"горького байконур"}`)[0]["value"])
	require.Equal(t, "г Байконур, ул Горького", suggest(`{"query":"ujhmrjuj"}`)[0]["value"])
	require.Equal(t, "г Байконур, мкр 6-й, зд 35а", suggest(`{"query":"мкр 6-й 35а"}`)[0]["value"])
	require.Equal(t, "г Байконур, пр-кт Академика Королева", suggest(`{"query":"пр-кт акад"}`)[0]["value"])
	require.Equal(t, "г Байконур, ул 8 Марта, д 1", suggest(`{"query":"8 марта 1"}`)[0]["value"])
	require.Empty(t, suggest(`{"query":"горького тверская"}`), "every word must match")

	// Bounds, locations, the value restricted, count.
	for _, v := range values(suggest(`{"query":"гор 5","to_bound":{"value":"street"}}`)) {
		require.NotContains(t, v, "д ")
	}
	require.Equal(t, "ул Горького, д 5а", suggest(`{"query":"гор 5","locations":[{"kladr_id":"99"}],"restrict_value":true}`)[0]["value"])
	require.Empty(t, suggest(`{"query":"гор 5","locations":[{"kladr_id":"77"}]}`))
	require.Len(t, suggest(`{"query":"м","count":3}`), 3)
	require.Len(t, suggestionsOf(t, b.do(t, "GET", sg+"/suggest/address?query=%D0%B3%D0%BE%D1%80%D1%8C&count=1", key, "")), 1)

	// findById by the house's and the street's ФИАС id and by a КЛАДР code.
	house := d["house_fias_id"].(string)
	found := suggestionsOf(t, reply{status: 200, body: check("POST", sg+"/findById/address", "", `{"query":"`+house+`"}`, 200, token...)})
	require.Equal(t, []string{"г Байконур, ул Горького, д 5а"}, values(found))
	found = suggestionsOf(t, b.do(t, "POST", sg+"/findById/address", key, `{"query":"f9ee987b-a012-4d24-ba46-0cc2f6ae2640"}`))
	require.Equal(t, []string{"г Байконур, ул Горького"}, values(found))
	found = suggestionsOf(t, b.do(t, "POST", sg+"/findById/address", key, `{"query":"99000000000000900"}`))
	require.Equal(t, []string{"г Байконур, ул Горького"}, values(found))
	require.Empty(t, suggestionsOf(t, b.do(t, "POST", sg+"/findById/address", key, `{"query":"00000000-0000-0000-0000-000000000000"}`)))

	// Refusals.
	requireProblem(t, b.do(t, "POST", sg+"/suggest/address", key, `{"query":"гор","from_bound":{"value":"planet"}}`), 422, "invalid", "from_bound.value:invalid_choice")
	requireProblem(t, b.do(t, "POST", sg+"/suggest/address", key, `{"query":"гор","count":50}`), 422, "invalid", "count:out_of_range")
	require.Equal(t, 200, b.do(t, "GET", sg+"/status/address", key, "").status)
}

// TestStructuredAccountAddress: an account's address given a ФИАС id is
// filled from the register and prints as documents write it.
func TestStructuredAccountAddress(t *testing.T) {
	t.Parallel()
	b := setup(t, withAddresses(t))
	house := suggestionsOf(t, b.do(t, "POST", sg+"/suggest/address", b.reader, `{"query":"байк горь 5а"}`))[0]["data"].(map[string]any)
	guid := house["house_fias_id"].(string)
	r := b.do(t, "POST", "/api/v1/accounts", b.writer, `{"name":"ООО Байконур-Сервис","legal_address":{"fias_id":"`+guid+`","flat":"5","line":"старый адрес"}}`)
	require.Equal(t, 201, r.status, string(r.body))
	acc := r.json(t)
	la := acc["legal_address"].(map[string]any)
	require.Equal(t, "Байконур", la["region"])
	require.Equal(t, "г", la["region_type"])
	require.Equal(t, "Байконур", la["city"])
	require.Equal(t, "Горького", la["street"])
	require.Equal(t, "ул", la["street_type"])
	require.Equal(t, "5а", la["house"])
	require.Equal(t, "д", la["house_type"])
	require.Equal(t, "5", la["flat"])
	require.Equal(t, "", la["line"], "the parts replace the free text")
	require.Equal(t, guid, la["fias_id"])
	require.EqualValues(t, 8, la["fias_level"])
	require.Equal(t, "99000000000000900", la["kladr_id"])
	require.Equal(t, house["postal_code"], la["postcode"])

	// The invoice prints it as documents do: the federal city once.
	id := acc["id"].(string)
	r = b.do(t, "POST", "/api/v1/invoices", b.writer, `{"account_id":"`+id+`","lines":[{"name":"Работы","price":"100","vat_rate":"22"}]}`)
	require.Equal(t, 201, r.status, string(r.body))
	pdf := b.do(t, "GET", "/api/v1/invoices/"+r.json(t)["id"].(string)+"/pdf", b.reader, "")
	require.Equal(t, 200, pdf.status)
	text, _ := figures(t, pdf.body)
	require.Contains(t, strings.Join(strings.Fields(text), " "), house["postal_code"].(string)+", г. Байконур, ул. Горького, д. 5а, кв. 5")

	// A ФИАС id the register does not have is refused, naming the field.
	r = b.do(t, "PATCH", "/api/v1/accounts/"+id, b.writer, `{"actual_address":{"fias_id":"00000000-0000-4000-8000-000000000000"}}`)
	requireProblem(t, r, 422, "invalid", "actual_address.fias_id:not_found")
	r = b.do(t, "PATCH", "/api/v1/accounts/"+id, b.writer, `{"actual_address":{"fias_id":"Горького 5"}}`)
	requireProblem(t, r, 422, "invalid", "actual_address.fias_id:invalid_fias_id")
}

func TestNormalizeAddress(t *testing.T) {
	t.Parallel()
	b := setup(t, withAddresses(t))
	check := openAPIRouter(t).checker(t, b)
	var got map[string]any
	require.NoError(t, json.Unmarshal(check("POST", "/api/v1/addresses/normalize", b.reader, `{"text":"г. Байконур, ул. Горького, д. 5а, кв. 12"}`, 200), &got))
	require.EqualValues(t, 1, got["confidence"])
	a := got["address"].(map[string]any)
	require.Equal(t, "Горького", a["street"])
	require.Equal(t, "5а", a["house"])
	require.Equal(t, "12", a["flat"])
	require.NotEmpty(t, a["fias_id"])
	require.Contains(t, got["printed"], "г. Байконур, ул. Горького, д. 5а, кв. 12")

	require.NoError(t, json.Unmarshal(check("POST", "/api/v1/addresses/normalize", b.reader, `{"text":"Байконур, Горького 999"}`, 200), &got))
	require.EqualValues(t, 0.5, got["confidence"], "the street, not the house")
	require.Equal(t, "г Байконур, ул Горького", got["value"])
	require.NoError(t, json.Unmarshal(check("POST", "/api/v1/addresses/normalize", b.reader, `{"text":"Тверская 7"}`, 200), &got))
	require.EqualValues(t, 0, got["confidence"])
	require.Nil(t, got["address"])
	requireProblem(t, b.do(t, "POST", "/api/v1/addresses/normalize", b.reader, `{"text":""}`), 422, "invalid", "text:required")
}

// TestStructuredLeadConverts: a lead's address given a ФИАС id is filled
// from the register, and its conversion gives the account the structured
// address, the flat included.
func TestStructuredLeadConverts(t *testing.T) {
	t.Parallel()
	b := setup(t, withAddresses(t))
	house := suggestionsOf(t, b.do(t, "POST", sg+"/suggest/address", b.reader, `{"query":"байк горь 5а"}`))[0]["data"].(map[string]any)
	guid := house["house_fias_id"].(string)
	r := b.do(t, "POST", "/api/v1/leads", b.writer, `{"last_name":"Иванов","company":"ООО Космодром","address":{"fias_id":"`+guid+`","flat":"12"}}`)
	require.Equal(t, 201, r.status, string(r.body))
	lead := r.json(t)
	a := lead["address"].(map[string]any)
	require.Equal(t, "ул. Горького, д. 5а, кв. 12", a["street"])
	require.Equal(t, "г. Байконур", a["city"])
	require.Equal(t, "г. Байконур", a["state"])
	require.Equal(t, "Россия", a["country"])
	require.Equal(t, house["postal_code"], a["postcode"])
	require.EqualValues(t, 8, a["fias_level"])

	r = b.do(t, "POST", "/api/v1/leads/"+lead["id"].(string)+"/convert", b.writer, `{}`)
	require.Equal(t, 201, r.status, string(r.body))
	acc := b.do(t, "GET", "/api/v1/accounts/"+r.json(t)["account"].(map[string]any)["id"].(string), b.reader, "").json(t)
	aa := acc["actual_address"].(map[string]any)
	require.Equal(t, "Горького", aa["street"])
	require.Equal(t, "5а", aa["house"])
	require.Equal(t, "12", aa["flat"])
	require.Equal(t, guid, aa["fias_id"])

	c := b.do(t, "POST", "/api/v1/contacts", b.writer, `{"last_name":"Петров","address":{"fias_id":"f9ee987b-a012-4d24-ba46-0cc2f6ae2640"}}`)
	require.Equal(t, 201, c.status, string(c.body))
	require.Equal(t, "ул. Горького", c.json(t)["address"].(map[string]any)["street"], "a street: no house")
}

// TestRetiredFIASID: after a delta merged house 23 into a new house, its
// old ФИАС id finds the new house (findById) and an account given it
// stores the new house's id and parts.
func TestRetiredFIASID(t *testing.T) {
	t.Parallel()
	b := setup(t, withAddresses(t), func(st *store.Store, _ *api.Deps) {
		src, err := gar.Open("../connectors/fiasimport/testdata/merge", gar.Options{})
		require.NoError(t, err)
		defer src.Close()
		_, err = fiasimport.Import(context.Background(), st, src, fiasimport.Options{Delta: true})
		require.NoError(t, err)
	})
	const retired, merged = "e359c967-e73c-4f1d-88ac-4218c69288ad", "1d3c5e7a-0000-4000-8000-000000000023"
	found := suggestionsOf(t, b.do(t, "POST", sg+"/findById/address", b.reader, `{"query":"`+retired+`"}`))
	require.Len(t, found, 1)
	require.Equal(t, "г Байконур, ул Горького, д 23 к 1", found[0]["value"])
	require.Equal(t, merged, found[0]["data"].(map[string]any)["fias_id"])

	r := b.do(t, "POST", "/api/v1/accounts", b.writer, `{"name":"ООО Старый адрес","legal_address":{"fias_id":"`+retired+`"}}`)
	require.Equal(t, 201, r.status, string(r.body))
	la := r.json(t)["legal_address"].(map[string]any)
	require.Equal(t, merged, la["fias_id"], "the successor's id is stored")
	require.Equal(t, "23", la["house"])
	require.Equal(t, "1", la["block"])
}

// TestRegisterFlats: with the register's premises loaded, a flat typed
// after its house is the register's (its id, its type), findById finds
// it, and a record given its id keeps it; a flat the register has not
// stays as typed.
func TestRegisterFlats(t *testing.T) {
	t.Parallel()
	b := setup(t, withRegister(t, fiasimport.Options{Apartments: true}))
	const flat = "497202af-0ce7-4ca7-a73d-124546396d82"
	got := suggestionsOf(t, b.do(t, "POST", sg+"/suggest/address", b.reader, `{"query":"байк 6-й мкр 7б кв 1"}`))
	require.NotEmpty(t, got)
	d := got[0]["data"].(map[string]any)
	require.Equal(t, "г Байконур, мкр 6-й, д 7б, помещ 1", got[0]["value"])
	require.Equal(t, flat, d["flat_fias_id"])
	require.Equal(t, flat, d["fias_id"])
	require.Equal(t, "9", d["fias_level"])
	require.Equal(t, "помещ", d["flat_type"])
	require.Equal(t, "помещение", d["flat_type_full"])

	got = suggestionsOf(t, b.do(t, "POST", sg+"/suggest/address", b.reader, `{"query":"байк 6-й мкр 7б кв 2"}`))
	require.NotEmpty(t, got)
	d = got[0]["data"].(map[string]any)
	require.Equal(t, "2", d["flat"])
	require.Nil(t, d["flat_fias_id"], "not in the register")
	require.Equal(t, "8", d["fias_level"])

	la := foundAndKept(t, b, flat, "г Байконур, мкр 6-й, д 7б, помещ 1")
	require.Equal(t, "7б", la["house"])
	require.Equal(t, "помещ. 1", la["flat"])
	require.Equal(t, flat, la["fias_id"])
	require.EqualValues(t, 9, la["fias_level"])
}

// TestRegisterSteads: with the register's land plots loaded, «уч 19»
// after its street is the register's plot (its id, level 75, its ОКТМО),
// findById finds it, and a record given its id prints it where a house
// goes.
func TestRegisterSteads(t *testing.T) {
	t.Parallel()
	b := setup(t, withRegister(t, fiasimport.Options{Steads: true}))
	const stead = "9f982be6-7ed2-4bef-b378-154c4c2cad3f"
	check := openAPIRouter(t).checker(t, b)
	got := suggestionsOf(t, reply{status: 200, body: check("POST", sg+"/suggest/address", b.reader, `{"query":"байк песч уч 19"}`, 200)})
	require.NotEmpty(t, got)
	require.Equal(t, "г Байконур, ул Песчаная, уч 19", got[0]["value"])
	d := got[0]["data"].(map[string]any)
	require.Equal(t, stead, d["stead_fias_id"])
	require.Equal(t, stead, d["fias_id"])
	require.Equal(t, "75", d["fias_level"])
	require.Equal(t, "уч", d["stead_type"])
	require.Equal(t, "19", d["stead"])
	require.Equal(t, "55000000", d["oktmo"])
	require.Nil(t, d["house"])

	la := foundAndKept(t, b, stead, "г Байконур, ул Песчаная, уч 19")
	require.Equal(t, "19", la["house"])
	require.Equal(t, "уч", la["house_type"])
	require.Equal(t, stead, la["fias_id"])
	require.EqualValues(t, 75, la["fias_level"])
	require.Equal(t, "55000000", la["oktmo"])
}

// foundAndKept checks that findById finds the register's id as value, and
// returns the legal address of an account created with the id.
func foundAndKept(t *testing.T, b *bundle, id, value string) map[string]any {
	t.Helper()
	found := suggestionsOf(t, b.do(t, "POST", sg+"/findById/address", b.reader, `{"query":"`+id+`"}`))
	require.Len(t, found, 1)
	require.Equal(t, value, found[0]["value"])
	r := b.do(t, "POST", "/api/v1/accounts", b.writer, `{"name":"ООО Адрес `+id[:8]+`","legal_address":{"fias_id":"`+id+`"}}`)
	require.Equal(t, 201, r.status, string(r.body))
	return r.json(t)["legal_address"].(map[string]any)
}
