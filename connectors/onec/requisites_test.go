package onec_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

func TestRequisitesMapValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		m    onec.RequisitesMap
		want string // "" = valid
	}{
		{"Valid", onec.RequisitesMap{"product": {"Материал": "custom.material", "property:Цвет": "custom.color"},
			"account": {"ОКВЭД": "custom.okved"}}, ""},
		{"Empty", onec.RequisitesMap{}, ""},
		{"UnknownKind", onec.RequisitesMap{"deal": {"Сумма": "custom.sum"}}, `requisites_map.deal: must be product or account`},
		{"NotCustom", onec.RequisitesMap{"product": {"Материал": "material"}}, `requisites_map.product."Материал": target "material" must be custom.<key>`},
		{"BadKey", onec.RequisitesMap{"product": {"Материал": "custom.Material-1"}}, `must be custom.<key>`},
		{"BlankName", onec.RequisitesMap{"product": {"property: ": "custom.color"}}, `a 1C name must not be blank`},
		{"AccountProperty", onec.RequisitesMap{"account": {"property:Отрасль": "custom.segment"}}, `only goods have properties`},
		{"TargetTwice", onec.RequisitesMap{"product": {"Материал": "custom.material", "Состав": "custom.material"}},
			`requisites_map.product."Состав": custom.material is already the target of "Материал"`},
		{"NameTwice", onec.RequisitesMap{"product": {"Материал": "custom.material", "материал": "custom.stuff"}},
			`names the same 1C value as`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// lockedBuffer is a log sink the exchange's goroutines may share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func defineField(t *testing.T, st *store.Store, entity, def string) {
	t.Helper()
	p, err := core.DecodePatch([]byte(def))
	require.NoError(t, err)
	_, err = st.CreateCustomField(context.Background(), entity, p)
	require.NoError(t, err)
}

// custom reads a record's custom values as text, by key.
func custom(t *testing.T, st *store.Store, table, onecID string) map[string]string {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT k, v FROM `+table+` g, jsonb_each_text(g.custom) AS e(k, v)
		WHERE g.external_ids->>'onec' = $1`, onecID)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		require.NoError(t, rows.Scan(&k, &v))
		out[k] = v
	}
	require.NoError(t, rows.Err())
	return out
}

const (
	matGood  = "bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1" // Материал сталь, 12 in a pack
	manyGood = "5edfbda4-19c0-11e7-80c2-0cc47ab29cd1" // Материал хлопок, «много» in a pack
)

// TestCatalogRequisites: a catalog's goods bring their mapped requisites
// and properties into the products' custom fields; a value a field
// refuses is the good's problem, an unmapped requisite changes nothing,
// and a map key that is no live field is logged once per run.
func TestCatalogRequisites(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	defineField(t, st, core.EntityProduct, `{"key": "material", "label": {"ru": "Материал"}, "type": "text"}`)
	defineField(t, st, core.EntityProduct, `{"key": "pack", "label": {"ru": "В упаковке"}, "type": "integer"}`)
	defineField(t, st, core.EntityProduct, `{"key": "country", "label": {"ru": "Страна"}, "type": "text"}`)
	defineField(t, st, core.EntityProduct, `{"key": "weight", "label": {"ru": "Вес"}, "type": "decimal", "scale": 2}`)
	var logs lockedBuffer
	cat, err := onec.NewCatalog(onec.CatalogDeps{Products: st.Products(), Services: st.Services(), Groups: st.ProductGroups(),
		PriceBooks: st.PriceBooks(), Items: st, Tx: st, Fields: st}, onec.Config{Requisites: onec.RequisitesMap{
		core.EntityProduct: {
			"Материал":                     "custom.material",
			"Количество в упаковке":        "custom.pack",
			"property:Страна производства": "custom.country",
			"property:габарит_вес":         "custom.weight",
			"Нет такого":                   "custom.gone",
		}}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	doc, err := os.ReadFile("testdata/requisites_import.xml")
	require.NoError(t, err)
	problem := "Товар " + manyGood + ": custom.pack: must be a whole number, e.g. 12 or 1 234"

	t.Run("Import", func(t *testing.T) {
		require.Equal(t, summary{Processed: 2, Created: 2, Errors: []string{problem}}, runCatalog(t, cat, "import.xml", string(doc)))
		require.Equal(t, map[string]string{"material": "сталь", "pack": "12", "country": "КОРЕЯ, РЕСПУБЛИКА", "weight": "1.40"},
			custom(t, st, "products", matGood), "requisites and properties (a Справочник's by its text, 1,4 as a number)")
		require.Equal(t, map[string]string{"material": "хлопок", "country": "КОРЕЯ, РЕСПУБЛИКА", "weight": "1.40"},
			custom(t, st, "products", manyGood), "the good is applied without the value its field refuses")
	})
	t.Run("UnmappedRequisite", func(t *testing.T) {
		// Код is not mapped: it stays an attribute, as before, and no field takes it.
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM products WHERE external_ids->>'onec' = '`+matGood+`'
			AND attributes->>'Код' = '00-00001234' AND NOT custom::text LIKE '%00-00001234%'`))
	})
	t.Run("MissingFieldLoggedOncePerRun", func(t *testing.T) {
		require.Equal(t, 1, strings.Count(logs.String(), "onec_requisite_unmapped"), logs.String())
		require.Contains(t, logs.String(), "target=custom.gone")
	})
	t.Run("Repeat", func(t *testing.T) {
		// The unchanged good is skipped; the one with a problem is applied
		// again, its problem reported again.
		require.Equal(t, summary{Processed: 2, Updated: 1, Skipped: 1, Errors: []string{problem}}, runCatalog(t, cat, "import.xml", string(doc)))
		require.Equal(t, 2, strings.Count(logs.String(), "onec_requisite_unmapped"))
	})
}

// TestCounterpartyRequisitesRoundTrip: a buyer's ОКВЭД from 1C lands in
// its account's custom field and goes back out on orders.xml, with the
// lines' products' mapped fields; a value its field refuses is the
// document's problem.
func TestCounterpartyRequisitesRoundTrip(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	defineField(t, st, core.EntityAccount, `{"key": "okved", "label": {"ru": "ОКВЭД"}, "type": "text"}`)
	defineField(t, st, core.EntityAccount, `{"key": "staff", "label": {"ru": "Численность"}, "type": "integer"}`)
	defineField(t, st, core.EntityProduct, `{"key": "material", "label": {"ru": "Материал"}, "type": "text"}`)
	x := newExchange(t, st, func(c *onec.Config) {
		c.Requisites = onec.RequisitesMap{
			core.EntityAccount: {"ОКВЭД": "custom.okved", "Численность": "custom.staff"},
			core.EntityProduct: {"Материал": "custom.material"},
		}
	})
	file, err := os.ReadFile("testdata/requisites_orders.xml")
	require.NoError(t, err)
	upload := func(t *testing.T, data []byte) onec.JobStatus {
		t.Helper()
		c := loginAs(t, x, "sale", "2.08")
		require.Equal(t, "success", c.do("POST", "type=sale&mode=file&filename=orders.xml", data)[0])
		lines := c.do("GET", "type=sale&mode=import&filename=orders.xml", nil)
		require.Equal(t, "success", lines[0], lines)
		jobs, err := x.Jobs(ctx, 1)
		require.NoError(t, err)
		return jobs[0]
	}
	account := func(t *testing.T) *core.Account {
		t.Helper()
		page, err := st.Accounts().List(ctx, core.AccountFilter{INN: "7707083893", ListParams: core.ListParams{Limit: 2, Sort: core.Sort{Field: "created_at"}}})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		return &page.Items[0]
	}

	t.Run("Import", func(t *testing.T) {
		job := upload(t, file)
		require.Equal(t, []string{"Документ 24c82d03-7149-11eb-80c0-7085c2ddb497 (13838): Контрагент: " +
			"custom.staff: must be a whole number, e.g. 12 or 1 234"}, job.Errors)
		acc := account(t)
		require.Equal(t, "ООО «Ромашка»", acc.Name)
		require.Equal(t, core.CustomValues{"okved": "62.01"}, acc.Custom, "Код клиента is not mapped; «много» is refused")
	})

	var acc *core.Account
	t.Run("Export", func(t *testing.T) {
		acc = account(t)
		prod, err := st.Products().Create(ctx, core.Patch{"name": []byte(`"Коврик"`), "unit": []byte(`"шт"`),
			"external_ids": []byte(`{"onec":"` + matGood + `"}`), "custom": []byte(`{"material": "сталь"}`)})
		require.NoError(t, err)
		_, err = st.SalesOrders().Create(ctx, core.Patch{"account_id": []byte(`"` + acc.ID + `"`),
			"lines": []byte(`[{"product_id":"` + prod.ID + `","quantity":"2","price":"1500"}]`)})
		require.NoError(t, err)

		c := loginAs(t, x, "sale", "2.08")
		docs := decodeOrders(t, c.raw("type=sale&mode=query").Body)
		require.Len(t, docs, 1)
		require.Equal(t, []commerceml.Requisite{{Name: "ОКВЭД", Value: "62.01"}}, docs[0].Counterparties[0].Requisites,
			"a field without a value is not written")
		require.Equal(t, []commerceml.Requisite{{Name: "ВидНоменклатуры", Value: "Товар"}, {Name: "ТипНоменклатуры", Value: "Товар"},
			{Name: "Материал", Value: "сталь"}}, docs[0].Lines[0].Requisites)
	})
	t.Run("ChangedIn1C", func(t *testing.T) {
		changed := bytes.Replace(file, []byte("<Значение>62.01</Значение>"), []byte("<Значение>62.02</Значение>"), 1)
		upload(t, changed)
		got := account(t)
		require.Equal(t, "62.02", got.Custom["okved"], "a found buyer takes 1C's value")
		require.Equal(t, acc.Version+1, got.Version)

		upload(t, changed)
		require.Equal(t, got.Version, account(t).Version, "the same value again writes nothing")
	})
}
