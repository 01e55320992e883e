package imports_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/benchtest"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// contactsBook writes n rows of 10 columns, streaming; with orgs, an 11th
// column, «Организация», names one of orgs accounts.
func contactsBook(b *testing.B, n int, orgs ...int) string {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	header := []any{"Фамилия", "Имя", "Отчество", "Должность", "Отдел", "Телефон", "Мобильный", "E-mail", "Город", "Не звонить"}
	if len(orgs) > 0 {
		header = append(header, "Организация")
	}
	_ = sw.SetRow("A1", header)
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		row := []any{fmt.Sprintf("Фамилия%d", i), "Иван", "Петрович", "Менеджер", "Продажи",
			fmt.Sprintf("8 (495) %03d-%02d-%02d", i/10000%1000, i/100%100, i%100), fmt.Sprintf("+7 9%02d %07d", i%100, i),
			fmt.Sprintf("c%d@firm%d.ru", i, i%1000), "Москва", "нет"}
		if len(orgs) > 0 {
			row = append(row, fmt.Sprintf("ООО «Фирма %d»", i%orgs[0]))
		}
		_ = sw.SetRow(cell, row)
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "contacts.xlsx")
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkImport100k imports a 100,000-row, 10-column contacts workbook
// (one op is the whole file) into the test database (fsync off).
func BenchmarkImport100k(b *testing.B) { benchmarkImport(b, 100_000, 0) }

// BenchmarkImport100kAccounts is BenchmarkImport100k with an «Организация»
// column naming 5,000 accounts, created by the import (create_accounts).
func BenchmarkImport100kAccounts(b *testing.B) { benchmarkImport(b, 100_000, 5_000) }

func benchmarkImport(b *testing.B, n, orgs int) {
	st := storetest.NewStore(b)
	var path string
	if orgs > 0 {
		path = contactsBook(b, n, orgs)
	} else {
		path = contactsBook(b, n)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "bench", Source: "excel"})
	for b.Loop() {
		b.StopTimer()
		_, _ = st.Pool().Exec(ctx, `TRUNCATE contacts, accounts CASCADE`)
		im, err := st.CreateImport(ctx, core.ImportOptions{Entity: core.EntityContact, OnDuplicate: core.ImportCreate,
			CreateAccounts: orgs > 0}, "c.xlsx", data)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := imports.New(imports.Config{}, st).RunJob(ctx, im.ID, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		im, _ = st.GetImport(ctx, im.ID)
		if im.Created != int64(n) || im.AccountsCreated != int64(orgs) {
			b.Fatalf("created %d of %d and %d accounts of %d: %s", im.Created, n, im.AccountsCreated, orgs, im.Error)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	benchtest.PeakRSS(b)
}

func benchmarkExport(b *testing.B, n int) {
	c := core.Contact{FirstName: "Иван", MiddleName: "Петрович", Title: "Менеджер", Phone: "+74951234567", Email: "c@firm.ru",
		Address: core.Address{City: "Москва", Street: "ул. Ленина, 1"}}
	c.CreatedAt, c.UpdatedAt = time.Now(), time.Now()
	for b.Loop() {
		w, err := xlsx.NewWriter(core.EntityContact, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			c.LastName = "Фамилия" + strconv.Itoa(i)
			if err := w.Write(&c); err != nil {
				b.Fatal(err)
			}
		}
		f, err := os.Create(filepath.Join(b.TempDir(), "out.xlsx"))
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Close(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	benchtest.PeakRSS(b)
}

// BenchmarkExport100k and BenchmarkExport1M write contacts (24 columns)
// through the streaming writer; run each alone to read its peak RSS.
func BenchmarkExport100k(b *testing.B) { benchmarkExport(b, 100_000) }

// BenchmarkExport1M is BenchmarkExport100k with a million rows.
func BenchmarkExport1M(b *testing.B) { benchmarkExport(b, 1_000_000) }
