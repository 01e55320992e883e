package imports_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// fullSheet writes a workbook whose sheet has a header and 1,048,575 leads
// (every row Excel allows), the way Excel does: shared strings for the
// repeated names, numbers for the phones. It writes the XML itself, as a
// stream, so that the benchmark's peak memory is the refusal's.
func fullSheet(b *testing.B) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, write func(w io.Writer)) {
		w, err := zw.Create(name)
		if err != nil {
			b.Fatal(err)
		}
		write(w)
	}
	text := func(s string) func(w io.Writer) { return func(w io.Writer) { _, _ = io.WriteString(w, s) } }
	put("[Content_Types].xml", text(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>`+
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`+
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`+
		`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`))
	put("_rels/.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	put("xl/workbook.xml", text(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" `+
		`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Лиды" sheetId="1" r:id="rId1"/></sheets></workbook>`))
	put("xl/_rels/workbook.xml.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`+
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`))
	const names, companies = 1000, 100
	put("xl/sharedStrings.xml", func(w io.Writer) {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+
			`<si><t>Фамилия</t></si><si><t>Телефон</t></si><si><t>Компания</t></si>`)
		for i := range names {
			fmt.Fprintf(w, `<si><t>Фамилия%d</t></si>`, i)
		}
		for i := range companies {
			fmt.Fprintf(w, `<si><t>ООО «Фирма %d»</t></si>`, i)
		}
		_, _ = io.WriteString(w, `</sst>`)
	})
	put("xl/worksheets/sheet1.xml", func(w io.Writer) {
		bw := bufio.NewWriter(w)
		fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+
			`<dimension ref="A1:C%d"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>`, xlsx.TotalRows)
		for r := 2; r <= xlsx.TotalRows; r++ {
			fmt.Fprintf(bw, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c><c r="B%d"><v>%d</v></c><c r="C%d" t="s"><v>%d</v></c></row>`,
				r, r, 3+r%names, r, 79160000000+r, r, 3+names+r%companies)
		}
		_, _ = bw.WriteString(`</sheetData></worksheet>`)
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
	})
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkRejectFullSheet refuses a sheet of 1,048,575 data rows (all
// Excel allows) with the default limit of 1,000,000: Check is the count the
// API runs before queueing (the 422), Job a whole job (claimed, counted,
// failed, nothing written).
func BenchmarkRejectFullSheet(b *testing.B) {
	file := fullSheet(b)
	b.Logf("the workbook is %.1f MB", float64(len(file))/(1<<20))
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := xlsx.CountRows(file, core.EntityLead, "", xlsx.Limits{})
			if !strings.Contains(core.ErrorMessage(err), "row 1000002 is one too many") {
				b.Fatal(err)
			}
		}
		benchtest.PeakRSS(b)
	})
	b.Run("Job", func(b *testing.B) {
		st := storetest.NewStore(b)
		ctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "bench", Source: "excel"})
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			im, err := st.CreateImport(ctx, core.ImportOptions{Entity: core.EntityLead, OnDuplicate: core.ImportCreate}, "full.xlsx", file)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := imports.New(imports.Config{}, st).RunJob(ctx, im.ID, nil); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if im, _ = st.GetImport(ctx, im.ID); im.Status != "failed" || im.RowsDone != 0 {
				b.Fatalf("%s after %d rows: %s", im.Status, im.RowsDone, im.Error)
			}
			b.StartTimer()
		}
		benchtest.PeakRSS(b)
	})
}
