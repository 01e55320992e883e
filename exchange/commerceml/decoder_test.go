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

	prices := file(t, "gillbeits-commerceml/prices___d66a6b51-ce9c-4e7a-8c7c-25079721107f.xml")
	require.Len(t, prices.offers, 978)
	require.True(t, prices.packages[0].OnlyChanges)
	require.NotEmpty(t, prices.offers[0].Prices[0].PerUnit)
	rests := file(t, "gillbeits-commerceml/rests___1af6e7b8-a026-4690-9752-1c9d64cb914d.xml")
	require.Len(t, rests.offers, 978)
	require.NotEmpty(t, rests.offers[0].Stocks())

	bitrix := file(t, "dobromyslov-commerceml-parser/bitrix-query-response-full.xml") // windows-1251
	require.Len(t, bitrix.documents, 2)
	require.Equal(t, []int{1, 7}, []int{len(bitrix.documents[0].Lines), len(bitrix.documents[1].Lines)})
	require.Equal(t, "Заказ товара", bitrix.documents[0].Operation)
	require.NotEmpty(t, bitrix.documents[0].Requisite("Статус заказа"))

	carono := file(t, "carono-php-commerceml/orders.xml") // windows-1251, 2.03
	require.Len(t, carono.documents, 1)
	require.Len(t, carono.documents[0].Lines, 2)
	require.True(t, carono.documents[0].Lines[0].Delivery() || carono.documents[0].Lines[1].Delivery())
	require.Equal(t, "[F] Доставлен", carono.documents[0].Requisite("Статус заказа"))

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

	dicr := file(t, "dicrtarasov-yii2-exchange1c/orders.xml") // 2.08 with the commerceml_210 namespace
	require.Len(t, dicr.documents, 1)
	require.Len(t, dicr.documents[0].Lines, 2)
	require.Equal(t, "Отправлен", dicr.documents[0].Requisite("Статус заказа"))
	require.Equal(t, "true", dicr.documents[0].Requisite("Оплачен"))
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
