package api_test

import (
	"context"
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
	return func(st *store.Store, d *api.Deps) {
		src, err := gar.Open("../exchange/gar/testdata/node-ru-nalog-fias-gar/gar_xml.zip", gar.Options{})
		require.NoError(t, err)
		defer src.Close()
		_, err = fiasimport.Import(context.Background(), st, src, fiasimport.Options{Today: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)})
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
