package reportout

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
)

// Sheet names of a report workbook.
const (
	SheetReport = "Отчёт"
	SheetChart  = "Диаграмма"
)

type xlsxStyles struct {
	head, title  int
	cell, bold   map[string]int // by column type
	subtotalText int
}

// WriteXLSX writes a result as an Excel workbook: a title, the run's
// parameters, a formatted and frozen header with an autofilter, typed
// cells (numbers, amounts, dates), subtotal and total rows in bold; a
// charted report gets a second sheet with the chart's data and a native
// Excel chart drawn from it. Rows are streamed.
func WriteXLSX(w io.Writer, res *core.ReportResult, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetReport); err != nil {
		return err
	}
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(SheetReport)
	if err != nil {
		return err
	}
	ncol := len(res.Columns)
	widths := make([]float64, ncol)
	for i, c := range res.Columns {
		widths[i] = max(12, min(50, float64(utf8.RuneCountInString(c.Label))+2))
		if c.Type == "text" {
			widths[i] = max(widths[i], 24)
		}
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return err
		}
	}
	// Title and parameters above the table, frozen with the header.
	const headerRow = 4
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: "A" + strconv.Itoa(headerRow+1),
		ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: res.Name}}, excelize.RowOpts{Height: 22}); err != nil {
		return err
	}
	params := "Сформирован " + res.RanAt.In(loc).Format("02.01.2006 15:04")
	for _, k := range sortedKeys(res.Parameters) {
		params += fmt.Sprintf("; %s: %s", k, res.Parameters[k])
	}
	if res.Truncated {
		params += fmt.Sprintf("; показаны первые %d строк", len(res.Rows))
	}
	if err := sw.SetRow("A2", []any{params}); err != nil {
		return err
	}
	row := headerRow
	header := make([]any, ncol)
	for i, c := range res.Columns {
		header[i] = excelize.Cell{StyleID: st.head, Value: c.Label}
	}
	if err := sw.SetRow(cellName(1, row), header, excelize.RowOpts{Height: 30}); err != nil {
		return err
	}
	lines := Lines(res)
	for _, l := range lines {
		row++
		if row > excelize.TotalRows {
			return core.Errorf(core.EINVALID, "more than %d rows do not fit a sheet: narrow the report", excelize.TotalRows)
		}
		cells := make([]any, ncol)
		for i := 0; i < ncol && i < len(l.Cells); i++ {
			cells[i] = st.cellOf(res.Columns[i], l.Cells[i], l.Kind, loc)
		}
		if err := sw.SetRow(cellName(1, row), cells); err != nil {
			return err
		}
	}
	if ncol > 0 { // set on the sheet the stream writer flushes, so before Flush
		if err := f.AutoFilter(SheetReport, cellName(1, headerRow)+":"+cellName(ncol, max(row, headerRow+1)), nil); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if res.Chart != nil {
		if err := addChart(f, res, loc); err != nil {
			return err
		}
	}
	_, err = f.WriteTo(w)
	return err
}

func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func newStyles(f *excelize.File) (*xlsxStyles, error) {
	st := &xlsxStyles{cell: map[string]int{}, bold: map[string]int{}}
	var err error
	mk := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(s)
		return id
	}
	st.head = mk(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE6F0"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}})
	st.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	formats := map[string]string{"money": "#,##0.00", "number": "#,##0.###", "integer": "#,##0", "date": "dd.mm.yyyy",
		"datetime": "dd.mm.yyyy hh:mm", "text": "@"}
	for typ, format := range formats {
		fm := format
		st.cell[typ] = mk(&excelize.Style{CustomNumFmt: &fm})
		st.bold[typ] = mk(&excelize.Style{CustomNumFmt: &fm, Font: &excelize.Font{Bold: true},
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}}})
	}
	for _, part := range []string{"month", "year"} {
		fm := map[string]string{"month": "mmmm yyyy", "year": "yyyy"}[part]
		st.cell["date:"+part] = mk(&excelize.Style{CustomNumFmt: &fm})
		st.bold["date:"+part] = mk(&excelize.Style{CustomNumFmt: &fm, Font: &excelize.Font{Bold: true},
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F2F2F2"}}})
	}
	st.subtotalText = mk(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1,
		Color: []string{"F2F2F2"}}})
	return st, err
}

// cellOf types a value for Excel: amounts and numbers as numbers (Excel
// keeps doubles; the text of the API keeps the exact decimal), dates as
// dates, a quarter or week as its name.
func (st *xlsxStyles) cellOf(col core.ReportColumn, v any, kind string, loc *time.Location) any {
	styles := st.cell
	if kind != LineRow {
		styles = st.bold
	}
	styled := func(typ string, val any) any { return excelize.Cell{StyleID: styles[typ], Value: val} }
	switch x := v.(type) {
	case nil:
		if kind != LineRow {
			return excelize.Cell{StyleID: st.subtotalText}
		}
		return nil
	case int64:
		return styled("integer", x)
	case bool:
		return styled("text", Text(col, x, loc))
	case string:
		if l, ok := col.Labels[x]; ok {
			x = l
		}
		switch col.Type {
		case "money", "number":
			if d, err := decimal.NewFromString(x); err == nil {
				return styled(col.Type, d.InexactFloat64())
			}
		case "date":
			if t, err := time.Parse("2006-01-02", x); err == nil {
				switch col.DatePart {
				case "", "day":
					return styled("date", t)
				case "month", "year":
					return styled("date:"+col.DatePart, t)
				}
				return styled("text", Period(t, col.DatePart))
			}
		case "datetime":
			if t, err := time.Parse(time.RFC3339, x); err == nil {
				local := t.In(loc)
				return styled("datetime", time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(),
					local.Second(), 0, time.UTC))
			}
		}
		if kind != LineRow {
			return excelize.Cell{StyleID: st.subtotalText, Value: x}
		}
		return x
	}
	return v
}

// chartTypes maps report charts to Excel's (a funnel is drawn as
// horizontal bars, as Excel 2013 would, its first stage on top).
var chartTypes = map[string]excelize.ChartType{"bar": excelize.Col, "horizontal_bar": excelize.Bar, "line": excelize.Line,
	"pie": excelize.Pie, "funnel": excelize.Bar}

// ChartData is what a chart draws: a category per group of the first
// level (its subtotal when there are deeper levels) and a series per
// charted aggregate.
type ChartData struct {
	Title      string
	Categories []string
	Series     []ChartSeries
}

// ChartSeries is one aggregate's values.
type ChartSeries struct {
	Name   string
	Values []float64
}

// ChartOf extracts a charted result's data (nil without a chart).
func ChartOf(res *core.ReportResult, loc *time.Location) *ChartData {
	if res.Chart == nil || len(res.Groups) == 0 {
		return nil
	}
	aggs := res.Chart.Aggregates
	if len(aggs) == 0 {
		aggs = res.Aggregates
		if len(aggs) > 3 {
			aggs = aggs[:3]
		}
	}
	col := core.ReportColumn{Type: "text"}
	labels := map[string]string{}
	for _, c := range res.Columns {
		if c.Key == res.Groups[0] {
			col = c
		}
		labels[c.Key] = c.Label
	}
	d := &ChartData{Title: res.Name}
	var points []map[string]any
	var keys []any
	if len(res.Groups) == 1 && isSummary(res) {
		for _, r := range res.Rows {
			keys = append(keys, r[0])
			vals := map[string]any{}
			for i, a := range res.Aggregates {
				vals[a] = r[1+i]
			}
			points = append(points, vals)
		}
	} else {
		for _, s := range res.Subtotals {
			if s.Level == 1 {
				keys = append(keys, s.Keys[0])
				points = append(points, s.Values)
			}
		}
	}
	for _, k := range keys {
		name := Text(col, k, loc)
		if name == "" {
			name = "(пусто)"
		}
		d.Categories = append(d.Categories, name)
	}
	for _, a := range aggs {
		s := ChartSeries{Name: labels[a]}
		if s.Name == "" { // a detail report: the aggregate of a column
			s.Name = aggName(a)
			if _, field, ok := strings.Cut(a, "_"); ok && labels[field] != "" {
				s.Name += ": " + labels[field]
			}
		}
		for _, p := range points {
			s.Values = append(s.Values, number(p[a]))
		}
		d.Series = append(d.Series, s)
	}
	return d
}

func number(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case string:
		if d, err := decimal.NewFromString(x); err == nil {
			return d.InexactFloat64()
		}
	}
	return 0
}

// addChart writes the chart's data on its own sheet and a native chart
// over it.
func addChart(f *excelize.File, res *core.ReportResult, loc *time.Location) error {
	d := ChartOf(res, loc)
	if d == nil || len(d.Categories) == 0 {
		return nil
	}
	if _, err := f.NewSheet(SheetChart); err != nil {
		return err
	}
	header := []any{""}
	for _, s := range d.Series {
		header = append(header, s.Name)
	}
	if err := f.SetSheetRow(SheetChart, "A1", &header); err != nil {
		return err
	}
	for i, c := range d.Categories {
		row := []any{c}
		for _, s := range d.Series {
			row = append(row, s.Values[i])
		}
		if err := f.SetSheetRow(SheetChart, cellName(1, i+2), &row); err != nil {
			return err
		}
	}
	last := len(d.Categories) + 1
	sheet := "'" + SheetChart + "'"
	var series []excelize.ChartSeries
	for i := range d.Series {
		colName, _ := excelize.ColumnNumberToName(i + 2)
		series = append(series, excelize.ChartSeries{Name: fmt.Sprintf("%s!$%s$1", sheet, colName),
			Categories: fmt.Sprintf("%s!$A$2:$A$%d", sheet, last),
			Values:     fmt.Sprintf("%s!$%s$2:$%s$%d", sheet, colName, colName, last)})
	}
	if res.Chart.Type == "pie" {
		series = series[:1] // a pie shows one series
	}
	if err := f.SetColWidth(SheetChart, "A", "A", 30); err != nil {
		return err
	}
	return f.AddChart(SheetChart, cellName(len(d.Series)+3, 2), &excelize.Chart{
		Type: chartTypes[res.Chart.Type], Series: series,
		XAxis:     excelize.ChartAxis{ReverseOrder: res.Chart.Type == "funnel"}, // a funnel's first stage on top
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: strings.TrimSpace(d.Title)}}},
		Dimension: excelize.ChartDimension{Width: 720, Height: 400},
		Legend:    excelize.ChartLegend{Position: "bottom"},
	})
}
