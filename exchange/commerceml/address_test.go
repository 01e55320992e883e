package commerceml_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

// TestAddressFields: a structured address goes to 1C in its parts, and
// comes back from the export as it went.
func TestAddressFields(t *testing.T) {
	t.Parallel()
	a := core.PostalAddress{Postcode: "125009", Region: "Москва", RegionType: "г", City: "Москва", CityType: "г",
		Street: "Тверская", StreetType: "ул", House: "7", HouseType: "д", Flat: "5", FIASID: "0c5b2444-70a0-4932-980c-b4dc0d3f02b5"}
	fields := commerceml.AddressFields(a)
	require.Equal(t, []commerceml.AddressField{{Type: "Почтовый индекс", Value: "125009"}, {Type: "Страна", Value: "РОССИЯ"},
		{Type: "Регион", Value: "Москва г"}, {Type: "Город", Value: "Москва г"}, {Type: "Улица", Value: "Тверская ул"},
		{Type: "Дом", Value: "7"}, {Type: "Квартира", Value: "5"}}, fields)
	require.Nil(t, commerceml.AddressFields(core.PostalAddress{Line: "Москва, Тверская 7"}), "free text has no parts")

	var buf bytes.Buffer
	enc, err := commerceml.NewEncoder(&buf, "UTF-8")
	require.NoError(t, err)
	require.NoError(t, enc.Begin("2026-12-03"))
	doc := &commerceml.Document{ID: "1", Number: "З-1", Date: "2026-12-03", Operation: "Заказ товара", Role: "Продавец", Currency: "RUB", Rate: "1", Sum: "0"}
	doc.Counterparties = []commerceml.Counterparty{{Party: commerceml.Party{ID: "c1", Name: "ООО Ромашка"}, Role: "Покупатель",
		Address: a.String(), AddressFields: fields}}
	require.NoError(t, enc.Document(doc))
	require.NoError(t, enc.End())
	xml := buf.String()
	require.Contains(t, xml, "<АдресРегистрации><Представление>125009, г. Москва, ул. Тверская, д. 7, кв. 5</Представление>"+
		"<АдресноеПоле><Тип>Почтовый индекс</Тип><Значение>125009</Значение></АдресноеПоле>")
	require.Contains(t, xml, "<АдресноеПоле><Тип>Улица</Тип><Значение>Тверская ул</Значение></АдресноеПоле>")

	it, err := decodeAll(t, strings.NewReader(xml))
	require.NoError(t, err)
	require.Len(t, it.documents, 1)
	require.Equal(t, fields, it.documents[0].Counterparties[0].AddressFields)
}
