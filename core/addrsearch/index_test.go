package addrsearch_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/addrsearch"
)

// world is a few places of three regions: a federal city, a region with a
// town, and a region with a city and a village both named after others.
func world() *addrsearch.Index {
	objs := []addrsearch.Object{
		{Region: 77, ID: 1, GUID: "0c5b2444-70a0-4932-980c-b4dc0d3f02b5", Level: 1, Name: "Москва", Type: "г", Path: []int64{1}, Houses: 400000, KLADR: "7700000000000"},
		{Region: 77, ID: 2, GUID: "g2", Level: 8, Name: "Тверская", Type: "ул", Path: []int64{1, 2}, Houses: 80, KLADR: "77000000000287700"},
		{Region: 77, ID: 3, GUID: "g3", Level: 8, Name: "Тверской", Type: "б-р", Path: []int64{1, 3}, Houses: 40},
		{Region: 77, ID: 4, GUID: "g4", Level: 8, Name: "1-я Парковая", Type: "ул", Path: []int64{1, 4}, Houses: 30},
		{Region: 77, ID: 5, GUID: "g5", Level: 8, Name: "Алёшкинский", Type: "проезд", Path: []int64{1, 5}, Houses: 10},
		{Region: 50, ID: 10, GUID: "g10", Level: 1, Name: "Московская", Type: "обл", Path: []int64{10}, Houses: 900000},
		{Region: 50, ID: 11, GUID: "g11", Level: 5, Name: "Подольск", Type: "г", Path: []int64{10, 11}, Houses: 20000},
		{Region: 50, ID: 12, GUID: "g12", Level: 8, Name: "Московская", Type: "ул", Path: []int64{10, 11, 12}, Houses: 60},
		{Region: 69, ID: 20, GUID: "g20", Level: 1, Name: "Тверская", Type: "обл", Path: []int64{20}, Houses: 300000},
		{Region: 69, ID: 21, GUID: "g21", Level: 5, Name: "Тверь", Type: "г", Path: []int64{20, 21}, Houses: 50000},
		{Region: 69, ID: 22, GUID: "g22", Level: 8, Name: "Московская", Type: "ул", Path: []int64{20, 21, 22}, Houses: 70},
		{Region: 69, ID: 23, GUID: "g23", Level: 6, Name: "Москва", Type: "д", Path: []int64{20, 23}, Houses: 12},
	}
	return addrsearch.Build(objs, []addrsearch.TypeName{{Level: 8, Short: "ул.", Full: "Улица"}, {Level: 1, Short: "г.", Full: "Город"},
		{Level: 1, Short: "обл.", Full: "Область"}, {Level: 5, Short: "г.", Full: "Город"}})
}

func names(ms []addrsearch.Match) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Object.ID
	}
	return out
}

func TestSearch(t *testing.T) {
	t.Parallel()
	ix := world()
	search := func(q string, opt addrsearch.Options) []int64 {
		return names(ix.Search(core.ParseAddressQuery(q), opt))
	}
	// Prefixes of every word in any order; the object's own word typed
	// last ranks it first.
	require.Equal(t, int64(2), search("моск твер", addrsearch.Options{})[0])
	require.Equal(t, int64(22), search("твер моск", addrsearch.Options{})[0])
	require.Contains(t, search("твер моск", addrsearch.Options{}), int64(2))
	// A city before a village of the same name; a street names no city.
	require.Equal(t, []int64{1, 23}, search("москва", addrsearch.Options{To: core.AddressLevelSettlement})[:2])
	// ё as е, a number in a name, a Latin layout, type words.
	require.Equal(t, []int64{5}, search("алешк", addrsearch.Options{}))
	require.Equal(t, []int64{4}, search("1-я парк", addrsearch.Options{}))
	require.Equal(t, int64(1), search("vjcrdf", addrsearch.Options{})[0])
	require.Equal(t, int64(3), search("твер б-р", addrsearch.Options{})[0], "the type typed ranks the boulevard first")
	require.Equal(t, int64(2), search("ул твер", addrsearch.Options{})[0])
	require.Empty(t, search("тверская ленина", addrsearch.Options{}), "every word must match")
	// Within a place; boosted; bounded to levels.
	require.Equal(t, []int64{12}, search("московская", addrsearch.Options{Within: []int64{11}}))
	require.Equal(t, int64(22), search("московская", addrsearch.Options{Boost: []int64{21}, From: core.AddressLevelStreet})[0])
	for _, id := range search("моск", addrsearch.Options{To: core.AddressLevelCity, Limit: 20}) {
		require.Contains(t, []int64{1, 10}, id)
	}
	require.Len(t, search("м", addrsearch.Options{Limit: 3}), 3)
}

func TestAddressOfAnObject(t *testing.T) {
	t.Parallel()
	ix := world()
	o, ok := ix.ByGUID("G2")
	require.True(t, ok)
	a := ix.Address(o)
	require.Equal(t, "г Москва, ул Тверская", a.Value())
	require.Equal(t, "Москва", a.City.Name, "a federal city is its own city")
	require.Equal(t, "улица", a.Street.TypeFull)
	require.Equal(t, "город", a.Region.TypeFull)
	require.Equal(t, core.AddressLevelStreet, a.FIASLevel)
	require.Equal(t, "77000000000287700", a.KLADRID)
	o, ok = ix.ByKLADR("7700000000000")
	require.True(t, ok)
	require.Equal(t, int64(1), o.ID)
	o, _ = ix.ByID(22)
	require.Equal(t, "Тверская обл, г Тверь, ул Московская", ix.Address(o).Value())
}
