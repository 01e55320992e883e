package commerceml_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/exchange/commerceml"
)

// decodeAll reads a document to its end and sorts what came out.
type items struct {
	info        *commerceml.Info
	classifiers []*commerceml.Classifier
	catalogs    []*commerceml.Catalog
	packages    []*commerceml.OfferPackage
	groups      []commerceml.Group
	properties  []*commerceml.Property
	goods       []*commerceml.Good
	priceTypes  []*commerceml.PriceType
	warehouses  []*commerceml.Warehouse
	offers      []*commerceml.Offer
	documents   []*commerceml.Document
}

func decodeAll(t *testing.T, r io.Reader) (items, error) {
	t.Helper()
	var it items
	d := commerceml.NewDecoder(r, commerceml.Limits{})
	for {
		v, err := d.Next()
		if err == io.EOF {
			return it, nil
		}
		if err != nil {
			return it, err
		}
		switch x := v.(type) {
		case *commerceml.Info:
			it.info = x
		case *commerceml.Classifier:
			it.classifiers = append(it.classifiers, x)
		case *commerceml.Catalog:
			it.catalogs = append(it.catalogs, x)
		case *commerceml.OfferPackage:
			it.packages = append(it.packages, x)
		case *commerceml.Group:
			it.groups = append(it.groups, x.Flatten()...)
		case *commerceml.Property:
			it.properties = append(it.properties, x)
		case *commerceml.Good:
			it.goods = append(it.goods, x)
		case *commerceml.PriceType:
			it.priceTypes = append(it.priceTypes, x)
		case *commerceml.Warehouse:
			it.warehouses = append(it.warehouses, x)
		case *commerceml.Offer:
			it.offers = append(it.offers, x)
		case *commerceml.Document:
			it.documents = append(it.documents, x)
		default:
			t.Fatalf("unexpected item %T", v)
		}
	}
}

func file(t *testing.T, path string) items {
	t.Helper()
	f, err := os.Open("testdata/" + path)
	require.NoError(t, err)
	defer f.Close()
	it, err := decodeAll(t, f)
	require.NoError(t, err, path)
	return it
}

// The counts are those testdata/SOURCES.md gives for each file.
func TestFixturesDecode(t *testing.T) {
	t.Run("TheCatalogueHasItsClassifierGroupPropertiesAndGoods", func(t *testing.T) {
		imp := file(t, "dobromyslov-commerceml-parser/import0_1.xml")
		require.Equal(t, "2.07", imp.info.Version)
		require.Len(t, imp.classifiers, 1)
		require.NotEmpty(t, imp.classifiers[0].Owner.INN)
		require.Len(t, imp.groups, 1)
		require.Len(t, imp.properties, 12)
		require.Len(t, imp.catalogs, 1)
		require.False(t, imp.catalogs[0].OnlyChanges)
		require.NotEmpty(t, imp.catalogs[0].ID)
		require.Len(t, imp.goods, 36)
		barcodes := 0
		for _, g := range imp.goods {
			require.NotEmpty(t, g.ID)
			require.NotEmpty(t, g.Name)
			require.NotEmpty(t, g.Unit.Code)
			require.NotEmpty(t, g.Requisite("ТипНоменклатуры"))
			require.Equal(t, imp.groups[0].ID, g.GroupIDs[0])
			if g.Barcode != "" {
				barcodes++
			}
		}
		require.Equal(t, 22, barcodes)
	})

	t.Run("TheOffersCarryPricesUnitsAndStocks", func(t *testing.T) {
		off := file(t, "dobromyslov-commerceml-parser/offers0_1.xml")
		require.Len(t, off.packages, 1)
		require.True(t, strings.HasSuffix(off.packages[0].ID, "#"))
		require.Len(t, off.priceTypes, 1)
		require.Equal(t, "true", off.priceTypes[0].Tax.Included)
		require.Len(t, off.warehouses, 3)
		require.Len(t, off.offers, 44)
		withStock := 0
		for _, o := range off.offers {
			require.NotEmpty(t, o.Prices)
			require.Equal(t, off.priceTypes[0].ID, o.Prices[0].PriceTypeID)
			require.Equal(t, "796", o.Unit.Code, "the trailing space is trimmed")
			if len(o.Stocks()) > 0 {
				withStock++
			}
		}
		require.Positive(t, withStock)
	})

	t.Run("APricesChangeCarriesPricesPerUnit", func(t *testing.T) {
		prices := file(t, "gillbeits-commerceml/prices___d66a6b51-ce9c-4e7a-8c7c-25079721107f.xml")
		require.Len(t, prices.offers, 978)
		require.True(t, prices.packages[0].OnlyChanges)
		require.NotEmpty(t, prices.offers[0].Prices[0].PerUnit)
	})

	t.Run("ARestsChangeCarriesStocks", func(t *testing.T) {
		rests := file(t, "gillbeits-commerceml/rests___1af6e7b8-a026-4690-9752-1c9d64cb914d.xml")
		require.Len(t, rests.offers, 978)
		require.NotEmpty(t, rests.offers[0].Stocks())
	})

	t.Run("BitrixOrdersInWindows1251HaveTheirLinesAndStatus", func(t *testing.T) {
		bitrix := file(t, "dobromyslov-commerceml-parser/bitrix-query-response-full.xml") // windows-1251
		require.Len(t, bitrix.documents, 2)
		require.Equal(t, []int{1, 7}, []int{len(bitrix.documents[0].Lines), len(bitrix.documents[1].Lines)})
		require.Equal(t, "Заказ товара", bitrix.documents[0].Operation)
		require.NotEmpty(t, bitrix.documents[0].Requisite("Статус заказа"))
	})

	t.Run("CaronoOrdersIn203MarkTheDeliveryLine", func(t *testing.T) {
		carono := file(t, "carono-php-commerceml/orders.xml") // windows-1251, 2.03
		require.Len(t, carono.documents, 1)
		require.Len(t, carono.documents[0].Lines, 2)
		require.True(t, carono.documents[0].Lines[0].Delivery() || carono.documents[0].Lines[1].Delivery())
		require.Equal(t, "[F] Доставлен", carono.documents[0].Requisite("Статус заказа"))
	})

	t.Run("DocumentsInUTF8WithoutABOMPriceTheirLines", func(t *testing.T) {
		docs := file(t, "argentcrusade-commerceml/documents-example.xml") // UTF-8 without a BOM
		require.Len(t, docs.documents, 2)
		chars := 0
		for _, d := range docs.documents {
			require.NotEmpty(t, d.Number1C)
			for _, l := range d.Lines {
				require.NotEmpty(t, l.Price(), "lines use Цена here")
				if strings.Contains(l.ID, "#") {
					chars++
				}
			}
		}
		require.Equal(t, 2, chars, "the characteristic line appears in both documents")
	})

	t.Run("OrdersIn208WithThe210NamespaceHaveTheirRequisites", func(t *testing.T) {
		dicr := file(t, "dicrtarasov-yii2-exchange1c/orders.xml") // 2.08 with the commerceml_210 namespace
		require.Len(t, dicr.documents, 1)
		require.Len(t, dicr.documents[0].Lines, 2)
		require.Equal(t, "Отправлен", dicr.documents[0].Requisite("Статус заказа"))
		require.Equal(t, "true", dicr.documents[0].Requisite("Оплачен"))
	})
}

func TestHostileDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"xxe":              `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><КоммерческаяИнформация>&e;</КоммерческаяИнформация>`,
		"billion laughs":   `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><КоммерческаяИнформация>&b;</КоммерческаяИнформация>`,
		"undefined entity": `<КоммерческаяИнформация>&e;</КоммерческаяИнформация>`,
		"deep":             "<КоммерческаяИнформация>" + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + "</КоммерческаяИнформация>",
		"truncated":        `<КоммерческаяИнформация><Каталог><Товары><Товар><Ид>1</Ид>`,
		"wrong root":       `<html><body>error</body></html>`,
		"koi8":             `<?xml version="1.0" encoding="koi8-r"?><КоммерческаяИнформация/>`,
	} {
		_, err := decodeAll(t, strings.NewReader(doc))
		var ce *commerceml.Error
		require.True(t, errors.As(err, &ce), "%s: %v", name, err)
	}
	// A huge element is refused, naming it and its line.
	big := "<КоммерческаяИнформация><Каталог><Товары>\n<Товар><Ид>1</Ид><Описание>" + strings.Repeat("x", 2<<20) +
		"</Описание></Товар></Товары></Каталог></КоммерческаяИнформация>"
	d := commerceml.NewDecoder(strings.NewReader(big), commerceml.Limits{MaxElement: 1 << 20})
	var err error
	for err == nil {
		_, err = d.Next()
	}
	var ce *commerceml.Error
	require.True(t, errors.As(err, &ce), "%v", err)
	require.Contains(t, ce.Error(), "Товар is larger than")
	require.Contains(t, ce.Path, "Каталог/Товары/Товар")
}

func TestOrdersRoundTrip(t *testing.T) {
	docs := []*commerceml.Document{{
		ID: "0190a5c0-0000-7000-8000-000000000001", Number: "З-2026-000001", Date: "2026-11-27", Time: "10:15:00",
		Operation: "Заказ товара", Role: "Продавец", Currency: "RUB", Rate: "1", Sum: "61000.00", Comment: "Позвонить до доставки",
		Counterparties: []commerceml.Counterparty{{Party: commerceml.Party{ID: "acc-1", Name: "ООО «Лютик»", OfficialName: "ООО «Лютик»",
			INN: "5001007322", KPP: "500101001"}, Role: "Покупатель", Address: "141400, г. Химки, ул. Ленина, д. 1"}},
		Lines: []commerceml.Line{
			{ID: "bd72d913-55bc-11d9-848a-00112f43529a#b02e2814", Name: "Диван «Уют»", Unit: commerceml.Unit{Code: "796", Name: "шт"},
				PricePerUnit: "30000.00", Quantity: "2", Sum: "60000.00",
				TaxRates:   []commerceml.TaxRate{{Name: "НДС", Rate: "22"}},
				Requisites: []commerceml.Requisite{{Name: "ВидНоменклатуры", Value: "Товар"}, {Name: "ТипНоменклатуры", Value: "Товар"}}},
			{ID: "ORDER_DELIVERY", Name: "Доставка", Unit: commerceml.Unit{Code: "796", Name: "шт"}, PricePerUnit: "1000.00", Quantity: "1",
				Sum: "1000.00", Requisites: []commerceml.Requisite{{Name: "ТипНоменклатуры", Value: "Услуга"}}},
		},
		Requisites: []commerceml.Requisite{{Name: "Статус заказа", Value: "Принят"}, {Name: "Заказ оплачен", Value: "false"}},
	}, {ID: "0190a5c0-0000-7000-8000-000000000002", Number: "З-2026-000002", Date: "2026-11-27", Operation: "Заказ товара",
		Role: "Продавец", Currency: "RUB", Rate: "1", Sum: "0"}}
	for _, enc := range []string{commerceml.Windows1251, commerceml.UTF8} {
		var b strings.Builder
		e, err := commerceml.NewEncoder(&b, enc)
		require.NoError(t, err)
		require.NoError(t, e.Begin("2026-11-27T10:20:00"))
		for _, d := range docs {
			require.NoError(t, e.Document(d))
		}
		require.NoError(t, e.End())
		require.True(t, strings.HasPrefix(b.String(), `<?xml version="1.0" encoding="`+enc+`"?>`))
		if enc == commerceml.Windows1251 {
			require.NotContains(t, b.String(), "Диван", "the bytes are windows-1251")
		}
		it, err := decodeAll(t, strings.NewReader(b.String()))
		require.NoError(t, err, enc)
		require.Equal(t, "2.08", it.info.Version)
		require.Len(t, it.documents, 2)
		got := it.documents[0]
		require.Equal(t, docs[0].Number, got.Number)
		require.Equal(t, docs[0].Sum, got.Sum)
		require.Equal(t, docs[0].Comment, got.Comment)
		require.Equal(t, "5001007322", got.Counterparties[0].INN)
		require.Equal(t, "500101001", got.Counterparties[0].KPP)
		require.Equal(t, docs[0].Counterparties[0].Address, got.Counterparties[0].Address)
		require.Len(t, got.Lines, 2)
		require.Equal(t, docs[0].Lines[0].ID, got.Lines[0].ID)
		require.Equal(t, "Диван «Уют»", got.Lines[0].Name)
		require.Equal(t, "796", got.Lines[0].Unit.Code)
		require.Equal(t, "30000.00", got.Lines[0].Price())
		require.Equal(t, "22", got.Lines[0].TaxRates[0].Rate)
		require.True(t, got.Lines[1].Delivery())
		require.Equal(t, "Принят", got.Requisite("Статус заказа"))
		require.Empty(t, it.documents[1].Lines)
	}
	// An empty answer is still a valid document.
	var b strings.Builder
	e, err := commerceml.NewEncoder(&b, commerceml.UTF8)
	require.NoError(t, err)
	require.NoError(t, e.Begin("2026-11-27T10:20:00"))
	require.NoError(t, e.End())
	it, err := decodeAll(t, strings.NewReader(b.String()))
	require.NoError(t, err)
	require.Empty(t, it.documents)
}
