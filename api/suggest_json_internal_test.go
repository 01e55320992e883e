package api

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// TestAddressAnswerBytes: the address answers written by hand are the
// bytes encoding/json writes of DaData's shape (addressSuggestion), for a
// full address, a sparse one and strings that need escaping.
func TestAddressAnswerBytes(t *testing.T) {
	t.Parallel()
	full := core.RegisterAddress{PostalCode: "125009",
		Region:       core.AddressPart{Name: "Москва", Type: "г", TypeFull: "город", FIASID: "0c5b2444-70a0-4932-980c-b4dc0d3f02b5", KLADRID: "7700000000000"},
		Area:         core.AddressPart{Name: "Тверской", Type: "р-н", TypeFull: "район"},
		City:         core.AddressPart{Name: "Москва", Type: "г", TypeFull: "город"},
		CityDistrict: core.AddressPart{Name: "Центральный", Type: "округ"},
		Settlement:   core.AddressPart{Name: "Южный", Type: "п"},
		Street:       core.AddressPart{Name: "Тверская", Type: "ул", TypeFull: "улица", FIASID: "fe7eea4a-875a-4235-aa61-81c2a37a0440"},
		House:        core.AddressPart{Name: "7", Type: "д", TypeFull: "дом", FIASID: "2d1f4a6c-0000-4000-8000-000000000007"},
		Block:        core.AddressPart{Name: "1", Type: "к", TypeFull: "корпус"},
		Flat:         core.AddressPart{Name: "5", Type: "кв", TypeFull: "квартира", FIASID: "2d1f4a6c-0000-4000-8000-000000000005"},
		Stead:        core.AddressPart{Name: "19", Type: "уч", TypeFull: "участок", FIASID: "2d1f4a6c-0000-4000-8000-000000000019"},
		FIASID:       "2d1f4a6c-0000-4000-8000-000000000005", FIASLevel: 9, KLADRID: "77000000000287700",
		OKATO: "45286585000", OKTMO: "45382000", TaxOffice: "7710", Cadastral: "77:01:0001", FlatCadastral: "77:01:0001:5",
		SteadCadastral: "77:01:0001:19"}
	sparse := core.RegisterAddress{Region: core.AddressPart{Name: "Татарстан", Type: "Респ"}, FIASLevel: 1}
	odd := core.RegisterAddress{Street: core.AddressPart{Name: "\"Кавычки\" <&> \\ \t\n\b\f\x01 \u2028\u2029 \xff конец", Type: "ул"}}
	for _, tc := range []struct {
		a    core.RegisterAddress
		from int
	}{{full, 0}, {full, core.AddressLevelStreet}, {sparse, 0}, {odd, 0}} {
		var w jsonWriter
		w.addressSuggestion(tc.a, tc.from)
		want, err := json.Marshal(addressSuggestion(tc.a, tc.from))
		require.NoError(t, err)
		require.Equal(t, string(want), string(w.b))
	}
}
