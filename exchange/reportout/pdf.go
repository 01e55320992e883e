package reportout

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/image"
	"github.com/johnfercher/maroto/v2/pkg/components/page"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/extension"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/orientation"
	mcore "github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/johnfercher/maroto/v2/pkg/repository"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/crmhub/crmhub/core"
)

// PDFMaxLines bounds a PDF's table: a longer report is cut with a note
// (Excel or CSV carry all of it).
const PDFMaxLines = 5000

const pdfFont = "go"

// WritePDF lays a result out as a PDF: the title, when it was made and
// its parameters, the chart (for a charted report), then the table with
// the header repeated on each page, subtotal and total lines in bold.
func WritePDF(w *bytes.Buffer, res *core.ReportResult, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	// Each render gets its own copy of the fonts (gofpdf writes into the
	// bytes it is given).
	fonts, err := repository.New().
		AddUTF8FontFromBytes(pdfFont, fontstyle.Normal, bytes.Clone(goregular.TTF)).
		AddUTF8FontFromBytes(pdfFont, fontstyle.Bold, bytes.Clone(gobold.TTF)).
		Load()
	if err != nil {
		return err
	}
	// Column widths on a grid: text wider than numbers.
	sizes := make([]int, len(res.Columns))
	grid := 0
	for i, c := range res.Columns {
		sizes[i] = 2
		if c.Type == "text" {
			sizes[i] = 3
		}
		grid += sizes[i]
	}
	if grid == 0 {
		grid = 12
	}
	b := config.NewBuilder().WithCustomFonts(fonts).WithDefaultFont(&props.Font{Family: pdfFont, Size: 8}).
		WithMaxGridSize(grid).WithLeftMargin(10).WithRightMargin(10).WithTopMargin(10).WithTitle(res.Name, true).
		WithCreationDate(res.RanAt).
		WithPageNumber(props.PageNumber{Pattern: "Страница {current} из {total}", Place: props.RightBottom, Family: pdfFont, Size: 7})
	if len(res.Columns) > 6 {
		b = b.WithOrientation(orientation.Horizontal)
	}
	m := maroto.New(b.Build())
	title := props.Text{Family: pdfFont, Size: 14, Style: fontstyle.Bold, Bottom: 2}
	small := props.Text{Family: pdfFont, Size: 8, Color: &props.Color{Red: 90, Green: 90, Blue: 90}}
	m.AddAutoRow(text.NewCol(grid, res.Name, title))
	info := "Сформирован " + res.RanAt.In(loc).Format("02.01.2006 15:04")
	for _, k := range sortedKeys(res.Parameters) {
		info += fmt.Sprintf("; %s: %s", k, res.Parameters[k])
	}
	m.AddAutoRow(text.NewCol(grid, info, small))
	m.AddRow(3)
	if d := ChartOf(res, loc); d != nil && len(d.Categories) > 0 {
		var png bytes.Buffer
		if err := WriteChart(&png, d, res.Chart.Type, "png", ChartWidth, ChartHeight); err != nil {
			return err
		}
		m.AddRows(image.NewFromBytesRow(80, png.Bytes(), extension.Png, props.Rect{Center: true, Percent: 100}))
		m.AddRow(4)
	}
	cell := &props.Cell{BorderType: border.Full, BorderThickness: 0.1, BorderColor: &props.Color{Red: 150, Green: 150, Blue: 150}}
	boldCell := &props.Cell{BorderType: border.Full, BorderThickness: 0.1, BorderColor: cell.BorderColor,
		BackgroundColor: &props.Color{Red: 240, Green: 240, Blue: 240}}
	header := func() {
		cols := make([]mcore.Col, len(res.Columns))
		for i, c := range res.Columns {
			cols[i] = text.NewCol(sizes[i], c.Label, props.Text{Family: pdfFont, Size: 8, Style: fontstyle.Bold, Top: 1, Bottom: 1,
				Left: 1, Right: 1, Align: align.Center}).WithStyle(boldCell)
		}
		m.AddAutoRow(cols...)
	}
	header()
	lines := Lines(res)
	cut := false
	if len(lines) > PDFMaxLines {
		lines, cut = lines[:PDFMaxLines], true
	}
	for _, l := range lines {
		if !m.FitlnCurrentPage(6) {
			m.AddPages(page.New())
			header()
		}
		cols := make([]mcore.Col, len(res.Columns))
		for i, c := range res.Columns {
			p := props.Text{Family: pdfFont, Size: 8, Top: 1, Bottom: 1, Left: 1, Right: 1}
			st := cell
			if l.Kind != LineRow {
				p.Style = fontstyle.Bold
				st = boldCell
			}
			if c.Type == "money" || c.Type == "number" || c.Type == "integer" {
				p.Align = align.Right
			}
			var v any
			if i < len(l.Cells) {
				v = l.Cells[i]
			}
			s, _ := v.(string)
			if l.Kind == LineRow || !isLabel(s) {
				s = Text(c, v, loc)
			}
			cols[i] = text.NewCol(sizes[i], s, p).WithStyle(st)
		}
		m.AddAutoRow(cols...)
	}
	if cut || res.Truncated {
		m.AddAutoRow(text.NewCol(grid, "Показаны первые строки отчёта; весь отчёт — в Excel или CSV.", small))
	}
	doc, err := m.Generate()
	if err != nil {
		return fmt.Errorf("reportout: %w", err)
	}
	_, err = w.Write(doc.GetBytes())
	return err
}

// isLabel tells a subtotal's label («Итого: …», «Всего») from a value.
func isLabel(s string) bool {
	return strings.HasPrefix(s, "Итого") || strings.HasPrefix(s, "Всего")
}
