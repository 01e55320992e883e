package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestParseAddressQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		q    string
		want core.AddressTerms
	}{
		{"моск твер 7", core.AddressTerms{Words: []string{"моск", "твер"}, House: "7"}},
		{"г. Москва, ул. Тверская, д. 7, кв. 5", core.AddressTerms{Words: []string{"москва", "тверская"}, TypeHints: []string{"г", "ул"}, House: "7", Flat: "5"}},
		{"vjcrdf", core.AddressTerms{Words: []string{"москва"}}},
		{"vjcrdf, ndthcrfz 7", core.AddressTerms{Words: []string{"москва", "тверская"}, House: "7"}},
		{"1-я Парковая 7А", core.AddressTerms{Words: []string{"1", "я", "парковая"}, House: "7а"}},
		{"ленина 10/2", core.AddressTerms{Words: []string{"ленина"}, House: "10/2"}},
		{"ленина 12к1", core.AddressTerms{Words: []string{"ленина"}, House: "12", Block: "1", BlockType: "к"}},
		{"ленина д 12 корп 3", core.AddressTerms{Words: []string{"ленина"}, House: "12", Block: "3", BlockType: "к"}},
		{"ленина 12 стр 2", core.AddressTerms{Words: []string{"ленина"}, House: "12", Block: "2", BlockType: "стр"}},
		{"Тверской р-н", core.AddressTerms{Words: []string{"тверской", "рн"}}},
		{"ул", core.AddressTerms{Words: []string{"ул"}}},
		{"Алёшкино", core.AddressTerms{Words: []string{"алешкино"}}},
		{"50 лет октября", core.AddressTerms{Words: []string{"50", "лет", "октября"}}},
		{"7", core.AddressTerms{Words: []string{"7"}}},
		{"468320, г Байконур, ул Горького, д 5а", core.AddressTerms{Words: []string{"байконур", "горького"}, TypeHints: []string{"г", "ул"}, House: "5а", PostalCode: "468320"}},
		{"гор 5", core.AddressTerms{Words: []string{"гор"}, House: "5"}},
		{"ул гор 5", core.AddressTerms{Words: []string{"гор"}, TypeHints: []string{"ул"}, House: "5"}},
		{"байконур уч 19", core.AddressTerms{Words: []string{"байконур"}, Stead: "19"}},
		{"ленина з/у 3а", core.AddressTerms{Words: []string{"ленина"}, Stead: "3а"}},
		{"уч 19", core.AddressTerms{Words: []string{"уч"}, House: "19"}}, // no place typed: «уч» begins a name
	} {
		require.Equal(t, tc.want, core.ParseAddressQuery(tc.q), tc.q)
	}
}

func TestRegisterAddressValue(t *testing.T) {
	t.Parallel()
	moscow := core.AddressPart{Name: "Москва", Type: "г"}
	a := core.RegisterAddress{PostalCode: "125009", Region: moscow, City: moscow, CityDistrict: core.AddressPart{Name: "Тверской", Type: "р-н"},
		Street: core.AddressPart{Name: "Тверская", Type: "ул"}, House: core.AddressPart{Name: "7", Type: "д"}}
	require.Equal(t, "г Москва, Тверской р-н, ул Тверская, д 7", a.Value())
	require.Equal(t, "125009, г Москва, Тверской р-н, ул Тверская, д 7", a.UnrestrictedValue())
	b := core.RegisterAddress{PostalCode: "142100", Region: core.AddressPart{Name: "Московская", Type: "обл"},
		Area: core.AddressPart{Name: "Подольск", Type: "г.о."}, City: core.AddressPart{Name: "Подольск", Type: "г"},
		Street: core.AddressPart{Name: "Кирова", Type: "ул"}, House: core.AddressPart{Name: "12", Type: "д"},
		Block: core.AddressPart{Name: "1", Type: "к"}, Flat: core.AddressPart{Name: "5", Type: "кв"}}
	require.Equal(t, "Московская обл, г Подольск, ул Кирова, д 12 к 1, кв 5", b.Value())
	require.Equal(t, "142100, Московская обл, г.о. Подольск, г Подольск, ул Кирова, д 12 к 1, кв 5", b.UnrestrictedValue())
	c := core.RegisterAddress{Region: core.AddressPart{Name: "Татарстан", Type: "Респ"}, Area: core.AddressPart{Name: "Лаишевский", Type: "р-н"},
		Settlement: core.AddressPart{Name: "Габишево", Type: "с"}}
	require.Equal(t, "Респ Татарстан, Лаишевский р-н, с Габишево", c.Value())
	require.Equal(t, "Тверской б-р", core.AddressPart{Name: "Тверской", Type: "б-р"}.WithType())
	require.Equal(t, "пер Сивцев Вражек", core.AddressPart{Name: "Сивцев Вражек", Type: "пер"}.WithType())
	require.Equal(t, "москва", core.FixKeyboardLayout("Vjcrdf"))
}

func TestRegisterAddressValueFrom(t *testing.T) {
	t.Parallel()
	moscow := core.AddressPart{Name: "Москва", Type: "г"}
	a := core.RegisterAddress{Region: moscow, City: moscow, Street: core.AddressPart{Name: "Тверская", Type: "ул"},
		House: core.AddressPart{Name: "7", Type: "д"}}
	require.Equal(t, "ул Тверская, д 7", a.ValueFrom(core.AddressLevelStreet))
	require.Equal(t, "г Москва, ул Тверская, д 7", a.ValueFrom(core.AddressLevelCity))
	require.Equal(t, "д 7", a.ValueFrom(core.AddressLevelHouse))
}

func TestPostalAddressPrints(t *testing.T) {
	t.Parallel()
	moscow := core.AddressPart{Name: "Москва", Type: "г"}
	ra := core.RegisterAddress{PostalCode: "125009", Region: moscow, City: moscow, Street: core.AddressPart{Name: "Тверская", Type: "ул"},
		House: core.AddressPart{Name: "7", Type: "д"}, FIASID: "0c5b2444-70a0-4932-980c-b4dc0d3f02b5", FIASLevel: core.AddressLevelHouse}
	p := ra.PostalAddress()
	p.Flat = "5"
	require.Equal(t, "125009, г. Москва, ул. Тверская, д. 7, кв. 5", p.String(), "a federal city once")
	region := core.PostalAddress{Postcode: "142100", Region: "Московская", RegionType: "обл", City: "Подольск", CityType: "г",
		Street: "Кирова", StreetType: "ул", House: "12", HouseType: "д", Block: "1", BlockType: "к"}
	require.Equal(t, "142100, Московская обл., г. Подольск, ул. Кирова, д. 12, корп. 1", region.String())
	tatar := core.PostalAddress{Region: "Татарстан", RegionType: "Респ", District: "Лаишевский", DistrictType: "р-н",
		Settlement: "Габишево", SettlementType: "с", Street: "Ленинский", StreetType: "пр-кт"}
	require.Equal(t, "Респ. Татарстан, Лаишевский р-н, с. Габишево, Ленинский пр-кт", tatar.String())
	// Parts given as 1C or an import gives them: a doubled federal city
	// prints once; free text prints as given.
	legacy := core.PostalAddress{Postcode: "125009", Region: "г. Москва", City: "Москва", Street: "ул. Тверская", House: "д. 7"}
	require.Equal(t, "125009, г. Москва, ул. Тверская, д. 7", legacy.String())
	require.Equal(t, "Москва, Тверская 7", core.PostalAddress{Line: "Москва, Тверская 7", City: "x"}.String())
}
