package reportout_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"image"
	imgpng "image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/reportout"
)

// summary is a two-level summary: months, then directions.
func summary() *core.ReportResult {
	return &core.ReportResult{Name: "Платежи по месяцам", Entity: "payment", RanAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		Parameters: map[string]string{"from": "2026-01-01"},
		Columns: []core.ReportColumn{{Key: "date:month", Label: "Дата", Type: "date", DatePart: "month"},
			{Key: "direction", Label: "Направление", Type: "text", Labels: map[string]string{"incoming": "Приход", "outgoing": "Расход"}},
			{Key: "count", Label: "Количество", Type: "integer"},
			{Key: "sum_amount", Label: "Сумма: Сумма", Type: "money"}},
		Groups: []string{"date:month", "direction"}, Aggregates: []string{"count", "sum_amount"},
		Rows: [][]any{{"2026-10-01", "incoming", int64(2), "1500.00"}, {"2026-10-01", "outgoing", int64(1), "300.00"},
			{"2026-11-01", "incoming", int64(3), "12345.67"}},
		Subtotals: []core.ReportSubtotal{
			{Level: 1, Keys: []any{"2026-10-01"}, Values: map[string]any{"count": int64(3), "sum_amount": "1800.00"}, AfterRow: 2},
			{Level: 1, Keys: []any{"2026-11-01"}, Values: map[string]any{"count": int64(3), "sum_amount": "12345.67"}, AfterRow: 3}},
		Totals: map[string]any{"count": int64(6), "sum_amount": "14145.67"},
		Chart:  &core.ReportChart{Type: "bar", Aggregates: []string{"sum_amount"}}}
}

// detail is a detail report grouped by aging bucket.
func detail() *core.ReportResult {
	return &core.ReportResult{Name: "Неоплаченные счета", Entity: "invoice", RanAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		Columns: []core.ReportColumn{{Key: "number", Label: "Номер", Type: "text"}, {Key: "due_date", Label: "Срок", Type: "date"},
			{Key: "balance", Label: "Остаток", Type: "money"}},
		Groups: []string{"aging_bucket"}, Aggregates: []string{"count", "sum_balance"},
		Rows: [][]any{{"СЧ-1", "2026-11-17", "2440.00"}, {"СЧ-2", "2026-10-13", "2000.00"}},
		Subtotals: []core.ReportSubtotal{
			{Level: 1, Keys: []any{"0–30"}, Values: map[string]any{"count": int64(1), "sum_balance": "2440.00"}, AfterRow: 1},
			{Level: 1, Keys: []any{"31–60"}, Values: map[string]any{"count": int64(1), "sum_balance": "2000.00"}, AfterRow: 2}},
		Totals: map[string]any{"count": int64(2), "sum_balance": "4440.00"},
		Chart:  &core.ReportChart{Type: "pie"}}
}

func TestLines(t *testing.T) {
	lines := reportout.Lines(summary())
	var kinds []string
	for _, l := range lines {
		kinds = append(kinds, l.Kind)
	}
	require.Equal(t, []string{"row", "row", "subtotal", "row", "subtotal", "total"}, kinds)
	require.Equal(t, []any{"2026-10-01", "Итого", int64(3), "1800.00"}, lines[2].Cells, "keys, then the label, then the aggregates")
	require.Equal(t, []any{"Всего", nil, int64(6), "14145.67"}, lines[5].Cells)

	lines = reportout.Lines(detail())
	require.Equal(t, []any{"Итого: 0–30 (количество: 1)", nil, "2440.00"}, lines[1].Cells, "a sum goes under its field's column")
	require.Equal(t, []any{"Всего (количество: 2)", nil, "4440.00"}, lines[4].Cells)
}

func TestText(t *testing.T) {
	col := core.ReportColumn{Type: "money"}
	require.Equal(t, "12 345,67", reportout.Text(col, "12345.67", time.UTC))
	require.Equal(t, "ноябрь 2026", reportout.Text(core.ReportColumn{Type: "date", DatePart: "month"}, "2026-11-01", time.UTC))
	require.Equal(t, "4 кв. 2026", reportout.Text(core.ReportColumn{Type: "date", DatePart: "quarter"}, "2026-10-01", time.UTC))
	require.Equal(t, "27.11.2026", reportout.Text(core.ReportColumn{Type: "date"}, "2026-11-27", time.UTC))
	require.Equal(t, "27.11.2026 12:00", reportout.Text(core.ReportColumn{Type: "datetime"}, "2026-11-27T09:00:00Z",
		time.FixedZone("MSK", 3*3600)))
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, reportout.WriteCSV(&b, summary(), ';'))
	require.True(t, bytes.HasPrefix(b.Bytes(), []byte("\ufeff")), "UTF-8 with a BOM")
	r := csv.NewReader(bytes.NewReader(b.Bytes()[3:]))
	r.Comma = ';'
	recs, err := r.ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"Дата", "Направление", "Количество", "Сумма: Сумма"}, recs[0])
	require.Equal(t, []string{"ноябрь 2026", "Приход", "3", "12345,67"}, recs[4], "for Russian Excel")
	require.Equal(t, []string{"Всего", "", "6", "14145,67"}, recs[6])
	b.Reset()
	require.NoError(t, reportout.WriteCSV(&b, summary(), ','))
	recs, err = csv.NewReader(bytes.NewReader(b.Bytes()[3:])).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"2026-11-01", "incoming", "3", "12345.67"}, recs[4], "as the API gives them")
	require.Error(t, reportout.WriteCSV(io.Discard, summary(), '\t'))
}

func TestXLSX(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, reportout.WriteXLSX(&b, summary(), time.UTC))
	f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{reportout.SheetReport, reportout.SheetChart}, f.GetSheetList())
	title, _ := f.GetCellValue(reportout.SheetReport, "A1")
	require.Equal(t, "Платежи по месяцам", title)
	head, _ := f.GetCellValue(reportout.SheetReport, "D4")
	require.Equal(t, "Сумма: Сумма", head)
	// Amounts are numbers, dates dates; subtotal rows are bold.
	raw, _ := f.GetCellValue(reportout.SheetReport, "D7", excelize.Options{RawCellValue: true})
	require.Equal(t, "1800", raw, "a number, not text")
	shown, _ := f.GetCellValue(reportout.SheetReport, "D7")
	require.Equal(t, "1,800.00", shown, "formatted as an amount")
	style, _ := f.GetCellStyle(reportout.SheetReport, "D7")
	s, err := f.GetStyle(style)
	require.NoError(t, err)
	require.True(t, s.Font != nil && s.Font.Bold, "a subtotal row is bold")
	month, _ := f.GetCellValue(reportout.SheetReport, "A5")
	require.Equal(t, "October 2026", month, "a month group shows as a month")
	panes, err := f.GetPanes(reportout.SheetReport)
	require.NoError(t, err)
	require.True(t, panes.Freeze)
	require.Equal(t, 4, panes.YSplit, "frozen under the header")
	// The chart is a native chart part over the chart sheet's data.
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	require.NoError(t, err)
	names := map[string]bool{}
	for _, zf := range zr.File {
		names[zf.Name] = true
	}
	require.True(t, names["xl/charts/chart1.xml"], "a chart part")
	sheet1 := readZip(t, zr, "xl/worksheets/sheet1.xml")
	require.Contains(t, sheet1, `<autoFilter ref="$A$4:$D$10"`)
	cat, _ := f.GetCellValue(reportout.SheetChart, "A3")
	require.Equal(t, "ноябрь 2026", cat)

	// LibreOffice opens it: converted to PDF, its text has the title and total.
	if _, err := exec.LookPath("soffice"); err != nil {
		t.Fatal("soffice is missing: make deps installs libreoffice-calc-nogui")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.xlsx")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o600))
	cmd := exec.Command("soffice", "--headless", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--convert-to", "pdf", "--outdir", dir, path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	text, err := exec.Command("pdftotext", "-layout", filepath.Join(dir, "report.pdf"), "-").Output()
	require.NoError(t, err)
	require.Contains(t, string(text), "Платежи по месяцам")
	require.Contains(t, string(text), "14,145.67")
}

func readZip(t *testing.T, zr *zip.Reader, name string) string {
	for _, zf := range zr.File {
		if zf.Name == name {
			rc, err := zf.Open()
			require.NoError(t, err)
			defer rc.Close()
			b, err := io.ReadAll(rc)
			require.NoError(t, err)
			return string(b)
		}
	}
	t.Fatalf("%s is not in the workbook", name)
	return ""
}

func TestChartImages(t *testing.T) {
	for _, res := range []*core.ReportResult{summary(), detail()} {
		for _, typ := range []string{"bar", "horizontal_bar", "line", "pie", "funnel"} {
			d := reportout.ChartOf(res, time.UTC)
			require.NotNil(t, d)
			var png bytes.Buffer
			require.NoError(t, reportout.WriteChart(&png, d, typ, "png", 640, 360), typ)
			img, err := imgpng.Decode(bytes.NewReader(png.Bytes()))
			require.NoError(t, err, typ)
			require.Equal(t, image.Rect(0, 0, 640, 360), img.Bounds(), typ)
			var svg bytes.Buffer
			require.NoError(t, reportout.WriteChart(&svg, d, typ, "svg", 0, 0), typ)
			require.Contains(t, svg.String(), "<svg", typ)
			if typ == "funnel" && res.Entity == "payment" { // stages are labelled with their share of the first
				require.Contains(t, svg.String(), "ноябрь 2026 — 12 345,67 (686%)")
			}
			if os.Getenv("CHART_DIR") != "" { // to look at them
				require.NoError(t, os.WriteFile(filepath.Join(os.Getenv("CHART_DIR"), res.Entity+"-"+typ+".png"), png.Bytes(), 0o600))
			}
		}
	}
	d := reportout.ChartOf(summary(), time.UTC)
	require.Equal(t, []string{"октябрь 2026", "ноябрь 2026"}, d.Categories, "two-level groups chart their first level")
	require.Equal(t, []reportout.ChartSeries{{Name: "Сумма: Сумма", Values: []float64{1800, 12345.67}}}, d.Series)
	require.Error(t, reportout.WriteChart(io.Discard, d, "bar", "gif", 0, 0))
	require.Error(t, reportout.WriteChart(io.Discard, &reportout.ChartData{}, "bar", "png", 0, 0))
}

func TestPDF(t *testing.T) {
	for _, res := range []*core.ReportResult{summary(), detail()} {
		var b bytes.Buffer
		require.NoError(t, reportout.WritePDF(&b, res, time.UTC))
		dir := t.TempDir()
		path := filepath.Join(dir, "r.pdf")
		require.NoError(t, os.WriteFile(path, b.Bytes(), 0o600))
		text, err := exec.Command("pdftotext", "-layout", path, "-").Output()
		require.NoError(t, err)
		require.Contains(t, string(text), res.Name)
		images, err := exec.Command("pdfimages", "-list", path).Output()
		require.NoError(t, err)
		require.Regexp(t, `image +900 +500`, string(images), "the chart is in it")
		if os.Getenv("CHART_DIR") != "" {
			require.NoError(t, os.WriteFile(filepath.Join(os.Getenv("CHART_DIR"), res.Entity+".pdf"), b.Bytes(), 0o600))
		}
		switch res.Entity {
		case "payment":
			require.Contains(t, string(text), "ноябрь 2026")
			require.Contains(t, string(text), "14 145,67", "the total, formatted")
		case "invoice":
			require.Contains(t, string(text), "Итого: 31–60 (количество: 1)")
			require.Contains(t, string(text), "4 440,00")
		}
	}
}
