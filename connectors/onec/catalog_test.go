package onec_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// smallCatalog holds a product, a service, a good without Ид and a
// duplicate of the product.
const smallCatalog = `<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08"><Каталог СодержитТолькоИзменения="true"><Ид>cat</Ид><Наименование>Каталог</Наименование><Товары>
<Товар><Ид>good-1</Ид><Артикул>K-1</Артикул><Наименование>Коврик</Наименование><БазоваяЕдиница Код="796">шт</БазоваяЕдиница></Товар>
<Товар><Ид>service-1</Ид><Наименование>Доставка</Наименование>
<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Услуга</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Товар>
<Товар><Наименование>Без Ид</Наименование></Товар>
</Товары></Каталог></КоммерческаяИнформация>`

// smallOffers prices both goods, one with a price that is not a number,
// and an unknown good.
const smallOffers = `<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08"><ПакетПредложений СодержитТолькоИзменения="true"><Ид>cat#</Ид>
<ТипыЦен><ТипЦены><Ид>pt-1</Ид><Наименование>Розничная</Наименование><Валюта>руб</Валюта></ТипЦены></ТипыЦен>
<Предложения>
<Предложение><Ид>good-1</Ид><Цены><Цена><ИдТипаЦены>pt-1</ИдТипаЦены><ЦенаЗаЕдиницу>1 500,50</ЦенаЗаЕдиницу></Цена></Цены><Количество>4</Количество></Предложение>
<Предложение><Ид>good-1</Ид><Цены><Цена><ИдТипаЦены>pt-1</ИдТипаЦены><ЦенаЗаЕдиницу>1500,50</ЦенаЗаЕдиницу></Цена></Цены><Количество>7</Количество></Предложение>
<Предложение><Ид>service-1</Ид><Цены><Цена><ИдТипаЦены>pt-1</ИдТипаЦены><ЦенаЗаЕдиницу>300</ЦенаЗаЕдиницу></Цена></Цены></Предложение>
<Предложение><Ид>good-1#red</Ид><Цены/></Предложение>
<Предложение><Ид>no-such-good</Ид><Цены/></Предложение>
<Предложение><Ид>service-1</Ид><Цены><Цена><ИдТипаЦены>other</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена></Цены></Предложение>
</Предложения></ПакетПредложений></КоммерческаяИнформация>`

// summary is what a job counts.
type summary struct {
	Processed, Created, Updated, Skipped, Deactivated int64
	Errors                                            []string
}

func summarize(st onec.JobStatus) summary {
	return summary{st.Processed, st.Created, st.Updated, st.Skipped, st.Deactivated, st.Errors}
}

func runCatalog(t *testing.T, c *onec.Catalog, name, doc string) summary {
	t.Helper()
	ctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "test", Source: "onec"})
	st := c.Run(ctx, name, bytes.NewReader([]byte(doc)), nil)
	require.Equal(t, "done", st.Status, st.Error)
	return summarize(st)
}

func price(t *testing.T, st *store.Store, table, onecID string) string {
	t.Helper()
	var p string
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT pr.price::text FROM prices pr JOIN `+table+` g
		ON g.id = coalesce(pr.product_id, pr.service_id) WHERE g.external_ids->>'onec' = $1`, onecID).Scan(&p))
	return p
}

// TestCatalogWithoutItemIndex: a catalog applied without the exchange's
// item index (the CLI's import from disk may run so) finds each good by
// its Ид, creates and updates one at a time, and applies offers at once.
func TestCatalogWithoutItemIndex(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	cat, err := onec.NewCatalog(onec.CatalogDeps{Products: st.Products(), Services: st.Services(), Groups: st.ProductGroups(),
		PriceBooks: st.PriceBooks()}, onec.Config{})
	require.NoError(t, err)

	t.Run("Goods", func(t *testing.T) {
		require.Equal(t, summary{Processed: 3, Created: 2, Errors: []string{"Товар : no Ид"}}, runCatalog(t, cat, "import.xml", smallCatalog))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM products WHERE external_ids->>'onec' = 'good-1' AND unit_code = '796'`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM services WHERE external_ids->>'onec' = 'service-1'`))
	})

	t.Run("GoodsAgain", func(t *testing.T) { // no digests to tell they did not change
		require.Equal(t, summary{Processed: 3, Updated: 2, Errors: []string{"Товар : no Ид"}}, runCatalog(t, cat, "import.xml", smallCatalog))
	})

	t.Run("Offers", func(t *testing.T) {
		require.Equal(t, summary{Processed: 6, Updated: 2, Skipped: 2, Errors: []string{
			`Предложение good-1: price "1 500,50" is not a number`, "Предложение no-such-good: no good with this Ид (import.xml first)"}},
			runCatalog(t, cat, "offers.xml", smallOffers))
		require.Equal(t, "1500.50", price(t, st, "products", "good-1"))
		require.Equal(t, "300.00", price(t, st, "services", "service-1"))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM products WHERE external_ids->>'onec' = 'good-1' AND stock_quantity = 7`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM price_books WHERE name = 'Розничная' AND currency = 'RUB'`))
	})
}

// TestCatalogOfferBatch: with the item index, offers are applied in
// batches; a bad price refuses its offer only, a characteristic's offer
// makes its variant, and a full catalog deactivates the goods it did not
// list.
func TestCatalogOfferBatch(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	cat, err := onec.NewCatalog(onec.CatalogDeps{Products: st.Products(), Services: st.Services(), Groups: st.ProductGroups(),
		PriceBooks: st.PriceBooks(), Items: st, Tx: st}, onec.Config{})
	require.NoError(t, err)

	t.Run("Goods", func(t *testing.T) {
		require.Equal(t, summary{Processed: 3, Created: 2, Errors: []string{"Товар : no Ид"}}, runCatalog(t, cat, "import.xml", smallCatalog))
	})

	t.Run("Offers", func(t *testing.T) {
		require.Equal(t, summary{Processed: 6, Updated: 2, Skipped: 2, Errors: []string{ // good-1#red is a variant of good-1
			`Предложение good-1: price "1 500,50" is not an amount`, "Предложение no-such-good: no good with this Ид (import.xml first)"}},
			runCatalog(t, cat, "offers.xml", smallOffers))
		require.Equal(t, "1500.50", price(t, st, "products", "good-1"))
		require.Equal(t, "300.00", price(t, st, "services", "service-1"))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM products WHERE external_ids->>'onec' = 'good-1' AND stock_quantity = 7`))
	})

	t.Run("FullCatalog", func(t *testing.T) {
		imp, err := os.ReadFile("testdata/import0_1.xml")
		require.NoError(t, err)
		got := runCatalog(t, cat, "import0_1.xml", string(imp))
		require.EqualValues(t, 36, got.Created)
		require.EqualValues(t, 2, got.Deactivated, "the product the full catalog does not list, and its variant")
		require.Equal(t, 2, count(t, st, `SELECT count(*) FROM products WHERE external_ids->>'onec' LIKE 'good-1%' AND NOT active`))
		// The goods' <СтавкаНалога><Ставка>20</Ставка>: stored as given.
		require.Positive(t, count(t, st, `SELECT count(*) FROM products WHERE vat_rate = '20'`))
		require.Zero(t, count(t, st, `SELECT count(*) FROM products WHERE vat_rate = '' AND external_ids ? 'onec' AND active`))
	})

	t.Run("VATRates", func(t *testing.T) {
		good := func(id, rate string) string {
			return `<Товар><Ид>` + id + `</Ид><Наименование>Товар ` + id + `</Наименование>` +
				`<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>` + rate + `</Ставка></СтавкаНалога></СтавкиНалогов></Товар>`
		}
		doc := `<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация ВерсияСхемы="2.10"><Каталог СодержитТолькоИзменения="true">` +
			`<Ид>vat</Ид><Наименование>Ставки</Наименование><Товары>` + good("vat-22", "22") + good("vat-none", "Без НДС") +
			good("vat-10", "10%") + good("vat-18", "18") + `</Товары></Каталог></КоммерческаяИнформация>`
		require.Empty(t, runCatalog(t, cat, "import.xml", doc).Errors)
		for id, want := range map[string]string{"vat-22": "22", "vat-none": "none", "vat-10": "10", "vat-18": ""} {
			var got string
			require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT vat_rate FROM products WHERE external_ids->>'onec' = $1`, id).Scan(&got))
			require.Equal(t, want, got, id)
		}
	})
}
