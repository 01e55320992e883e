package onec_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/benchtest"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// catalogFile writes an import.xml of n goods as 1C does.
func catalogFile(b *testing.B, n int) string {
	path := b.TempDir() + "/import.xml"
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fmt.Fprint(f, "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация xmlns=\"urn:1C.ru:commerceml_2\" ВерсияСхемы=\"2.07\">"+
		"<Классификатор><Ид>cls</Ид><Наименование>К</Наименование><Группы><Группа><Ид>g1</Ид><Наименование>Мебель</Наименование></Группа></Группы></Классификатор>"+
		"<Каталог СодержитТолькоИзменения=\"false\"><Ид>cat</Ид><Наименование>Каталог</Наименование><Товары>\n")
	for i := range n {
		fmt.Fprintf(f, `<Товар><Ид>%08d-0000-0000-0000-000000000000</Ид><Артикул>A-%d</Артикул><Наименование>Товар %d</Наименование>`+
			`<БазоваяЕдиница Код="796">шт</БазоваяЕдиница><Группы><Ид>g1</Ид></Группы><Описание>Описание %d</Описание>`+
			`<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>22</Ставка></СтавкаНалога></СтавкиНалогов>`+
			`<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Товар>`+"\n", i, i, i, i)
	}
	fmt.Fprint(f, "</Товары></Каталог></КоммерческаяИнформация>\n")
	return path
}

// BenchmarkCatalogImport applies a catalog of CATALOG_GOODS goods
// (default 10,000) twice: a first import (all created) and a repeat (all
// unchanged); one op is both. The test database runs with fsync off.
func BenchmarkCatalogImport(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("CATALOG_GOODS")); err == nil && v > 0 {
		n = v
	}
	path := catalogFile(b, n)
	st := storetest.NewStore(b)
	ctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "bench", Source: "onec"})
	cat, err := onec.NewCatalog(onec.CatalogDeps{Products: st.Products(), Services: st.Services(), Groups: st.ProductGroups(),
		PriceBooks: st.PriceBooks(), Items: st, Tx: st}, onec.Config{})
	if err != nil {
		b.Fatal(err)
	}
	apply := func() onec.JobStatus {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		return cat.Run(ctx, "import.xml", io.Reader(f), nil)
	}
	for b.Loop() {
		b.StopTimer()
		_, _ = st.Pool().Exec(ctx, `TRUNCATE products, onec_items CASCADE`)
		b.StartTimer()
		first := apply()
		if first.Created != int64(n) {
			b.Fatalf("first import: %+v", first)
		}
		repeat := apply()
		if repeat.Skipped != int64(n) || repeat.Created != 0 {
			b.Fatalf("repeat import: %+v", repeat)
		}
		b.ReportMetric(first.FinishedAt.Sub(first.StartedAt).Seconds(), "first-s")
		b.ReportMetric(repeat.FinishedAt.Sub(repeat.StartedAt).Seconds(), "repeat-s")
	}
	benchtest.PeakRSS(b)
}

// BenchmarkOrdersExport writes 10,000 sales orders (3 lines each, 100
// customers) as the mode=query answer; one op is the whole export.
func BenchmarkOrdersExport(b *testing.B) {
	st := storetest.NewStore(b)
	ctx := context.Background()
	var accs []string
	for i := range 100 {
		a, err := st.Accounts().Create(ctx, core.Patch{"name": []byte(fmt.Sprintf(`"ООО Клиент %d"`, i))})
		if err != nil {
			b.Fatal(err)
		}
		accs = append(accs, a.ID)
	}
	p, err := st.Products().Create(ctx, core.Patch{"name": []byte(`"Диван"`), "vat_rate": []byte(`"22"`),
		"external_ids": []byte(`{"onec":"bd72d913-55bc-11d9-848a-00112f43529a"}`)})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10_000 {
		if _, err := st.SalesOrders().Create(ctx, core.Patch{"account_id": []byte(`"` + accs[i%100] + `"`),
			"lines": []byte(`[{"product_id":"` + p.ID + `","quantity":"2","price":"30000"},{"name":"Сборка","price":"1500","quantity":"1"},` +
				`{"name":"Доставка","price":"500"}]`)}); err != nil {
			b.Fatal(err)
		}
	}
	deps := onec.SaleDeps{SalesOrders: st.SalesOrders(), Accounts: st.Accounts(), Products: st.Products(), Services: st.Services(),
		Payments: st.Payments(), Exports: st}
	for b.Loop() {
		sent, err := onec.ExportOrders(ctx, deps, io.Discard, onec.ExportOptions{Encoding: "windows-1251", All: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(sent[core.EntitySalesOrder]) != 10_000 {
			b.Fatalf("%d orders", len(sent))
		}
	}
}

// offersFile writes an offers.xml of n offers (one price type, stock).
func offersFile(b *testing.B, n int) string {
	path := b.TempDir() + "/offers.xml"
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fmt.Fprint(f, "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.07\"><ПакетПредложений СодержитТолькоИзменения=\"false\">"+
		"<Ид>cat#</Ид><ТипыЦен><ТипЦены><Ид>pt</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения>\n")
	for i := range n {
		fmt.Fprintf(f, `<Предложение><Ид>%08d-0000-0000-0000-000000000000</Ид><Цены><Цена><ИдТипаЦены>pt</ИдТипаЦены>`+
			`<ЦенаЗаЕдиницу>%d.50</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены><Количество>%d</Количество></Предложение>`+"\n", i, 100+i%1000, i%50)
	}
	fmt.Fprint(f, "</Предложения></ПакетПредложений></КоммерческаяИнформация>\n")
	return path
}

// BenchmarkOffersImport applies an offers.xml of CATALOG_GOODS offers
// (default 10,000) to a catalog imported before; one op is the file.
func BenchmarkOffersImport(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("CATALOG_GOODS")); err == nil && v > 0 {
		n = v
	}
	st := storetest.NewStore(b)
	ctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "bench", Source: "onec"})
	cat, err := onec.NewCatalog(onec.CatalogDeps{Products: st.Products(), Services: st.Services(), Groups: st.ProductGroups(),
		PriceBooks: st.PriceBooks(), Items: st, Tx: st}, onec.Config{})
	if err != nil {
		b.Fatal(err)
	}
	run := func(path string) onec.JobStatus {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		return cat.Run(ctx, path, f, nil)
	}
	if st := run(catalogFile(b, n)); st.Created != int64(n) {
		b.Fatalf("catalog: %+v", st)
	}
	offers := offersFile(b, n)
	for b.Loop() {
		if st := run(offers); st.Updated != int64(n) {
			b.Fatalf("offers: %+v", st)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "offers/s")
}
