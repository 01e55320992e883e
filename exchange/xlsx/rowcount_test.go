package xlsx_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// workbook writes rows through excelize (shared strings, as Excel does).
func workbook(t *testing.T, rows [][]any, merges ...string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		if len(r) == 0 {
			continue
		}
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(t, err)
		require.NoError(t, f.SetSheetRow("Sheet1", cell, &r))
	}
	for _, m := range merges {
		from, to, _ := strings.Cut(m, ":")
		require.NoError(t, f.MergeCell("Sheet1", from, to))
	}
	var b bytes.Buffer
	_, err := f.WriteTo(&b)
	require.NoError(t, err)
	return b.Bytes()
}

// handmade zips a workbook of one sheet with the given XML, as other
// programs write them (prefixes, inline strings, no row numbers, …).
func handmade(t *testing.T, sheet, sst string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range map[string]string{
		"xl/workbook.xml": `<?xml version="1.0"?><x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
			`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><x:sheets>` +
			`<x:sheet name="Лист1" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Target="worksheets/data.xml" Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="strings.xml"/>` +
			`</Relationships>`,
		"xl/worksheets/data.xml": sheet,
		"xl/strings.xml":         sst,
	} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestCountRows(t *testing.T) {
	t.Parallel()
	title := []any{"Клиенты на 27.11.2026"}
	header := []any{"Фамилия", "Компания", "E-mail"}
	person := func(i int) []any {
		return []any{fmt.Sprintf("Клиент %d", i), "ООО", fmt.Sprintf("c%d@firm.ru", i)}
	}
	rows := [][]any{title, {}, header}
	for i := range 5 {
		rows = append(rows, person(i), []any{}) // blank rows do not count
	}
	rows = append(rows, []any{" ", "\u00a0"}) // nor do rows of spaces

	t.Run("BelowTheHeader", func(t *testing.T) {
		t.Parallel()
		rc, err := xlsx.CountRows(workbook(t, rows), core.EntityLead, "", xlsx.Limits{MaxRows: 5})
		require.NoError(t, err)
		require.Equal(t, xlsx.RowCount{HeaderRow: 3, Rows: 5}, rc, "the title and the header are not data rows")
	})
	t.Run("OneRowTooMany", func(t *testing.T) {
		t.Parallel()
		_, err := xlsx.CountRows(workbook(t, rows), core.EntityLead, "", xlsx.Limits{MaxRows: 4})
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
		require.Equal(t, "the sheet has more than 4 rows below its header: row 12 is one too many (split the file into parts of at most 4 rows)",
			core.ErrorMessage(err), "it names the limit and the fifth data row")
		require.Equal(t, "too_many_rows", core.ErrorFields(err)[0].Code)
	})
	t.Run("MergedCellsFillRows", func(t *testing.T) {
		t.Parallel()
		book := workbook(t, [][]any{header, person(1), {}, {}, {}, person(2)}, "C2:C5")
		rc, err := xlsx.CountRows(book, core.EntityLead, "", xlsx.Limits{})
		require.NoError(t, err)
		require.Equal(t, 5, rc.Rows, "the import copies C2 down to rows 3–5")
		_, err = xlsx.CountRows(book, core.EntityLead, "", xlsx.Limits{MaxRows: 4})
		require.ErrorContains(t, err, "row 6 is one too many")
	})
	t.Run("BlankSharedStrings", func(t *testing.T) {
		t.Parallel()
		sheet := `<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>` +
			`<row r="2"><c r="A2" t="s"><v>2</v></c></row><row r="3"><c r="A3" t="s"><v>3</v></c></row></sheetData></worksheet>`
		sst := `<sst><si><t>Фамилия</t></si><si><r><t>Ком</t></r><r><t>пания</t></r><rPh><t>x</t></rPh></si><si><t xml:space="preserve">  </t></si>` +
			`<si><t>Иванов</t></si></sst>`
		rc, err := xlsx.CountRows(handmade(t, sheet, sst), core.EntityLead, "", xlsx.Limits{})
		require.NoError(t, err)
		require.Equal(t, xlsx.RowCount{HeaderRow: 1, Rows: 1}, rc, "the header's rich text is read, a row of a blank string is blank")
	})
	t.Run("OtherWriters", func(t *testing.T) {
		t.Parallel()
		// A prefix, inline strings, rows and cells without numbers, CDATA,
		// a '>' in an attribute and a comment holding rows.
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>`)
		b.WriteString(`<x:row><x:c t="inlineStr"><x:is><x:t>Фамилия</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t><![CDATA[E-mail]]></x:t></x:is></x:c></x:row>`)
		b.WriteString(`<!-- <x:row><x:c><x:v>1</x:v></x:c></x:row> -->`)
		for i := range 7 {
			fmt.Fprintf(&b, `<x:row spans="1:2" x14ac:note="a>b"><x:c/><x:c t="inlineStr"><x:is><x:t>c%d@firm.ru</x:t></x:is></x:c></x:row>`, i)
		}
		b.WriteString(`<x:row><x:c><x:v></x:v></x:c><x:c t="inlineStr"><x:is><x:t>&#160;</x:t></x:is></x:c></x:row>`)
		b.WriteString(`</x:sheetData></x:worksheet>`)
		rc, err := xlsx.CountRows(handmade(t, b.String(), ""), core.EntityLead, "Лист1", xlsx.Limits{})
		require.NoError(t, err)
		require.Equal(t, xlsx.RowCount{HeaderRow: 1, Rows: 7}, rc)
		_, err = xlsx.CountRows(handmade(t, b.String(), ""), core.EntityLead, "", xlsx.Limits{MaxRows: 6})
		require.ErrorContains(t, err, "row 8 is one too many")
	})
	t.Run("BeyondTheLastRow", func(t *testing.T) {
		t.Parallel()
		sheet := `<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>Фамилия</t></is></c></row>` +
			`<row r="2000000"><c><v>1</v></c></row></sheetData></worksheet>`
		_, err := xlsx.CountRows(handmade(t, sheet, ""), core.EntityLead, "", xlsx.Limits{})
		require.ErrorContains(t, err, "a row numbered 2000000")
	})
	t.Run("NotAWorkbook", func(t *testing.T) {
		t.Parallel()
		rc, err := xlsx.CountRows([]byte("Фамилия;E-mail\n"), core.EntityLead, "", xlsx.Limits{MaxRows: 1})
		require.NoError(t, err, "Open tells what the file is")
		require.Zero(t, rc)
	})
}

// TestCountRowsAgreesWithTheReader checks the scan against what reading
// the cells finds, on a sheet of every kind of cell.
func TestCountRowsAgreesWithTheReader(t *testing.T) {
	t.Parallel()
	rows := [][]any{{"Список"}, {"Фамилия", "Телефон", "Создано", "Не звонить", "Сумма"}}
	for i := range 300 {
		switch i % 7 {
		case 0:
			rows = append(rows, []any{})
		case 1:
			rows = append(rows, []any{nil, nil, nil, true})
		case 2:
			rows = append(rows, []any{"", "", "", "", 12.5})
		case 3:
			rows = append(rows, []any{"   "})
		default:
			rows = append(rows, []any{fmt.Sprintf("Клиент %d", i), 79160000000 + i})
		}
	}
	file := workbook(t, rows)
	rc, err := xlsx.CountRows(file, core.EntityLead, "", xlsx.Limits{})
	require.NoError(t, err)

	book, err := xlsx.Open(bytes.NewReader(file), xlsx.Limits{})
	require.NoError(t, err)
	defer book.Close()
	header := 0
	data := 0
	require.NoError(t, book.Rows("", func(r xlsx.Row, wide bool) error {
		switch {
		case header == 0 && xlsx.FindHeader(core.EntityLead, r.Cells):
			header = r.Number
		case header > 0 && strings.TrimSpace(strings.Join(r.Cells, "")) != "":
			data++
		}
		return nil
	}))
	require.Equal(t, xlsx.RowCount{HeaderRow: header, Rows: data}, rc)
}
