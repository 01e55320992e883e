package printform

import (
	"fmt"

	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/page"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	mcore "github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"github.com/crmhub/crmhub/core"
)

// The pieces the official forms (ТОРГ-12, УПД) are drawn with: labels,
// values written on a line with the line's caption under it, and boxes.

var (
	// note is a caption under a line: «(подпись)», «(прописью)».
	note = props.Text{Size: 5, Family: fontFamily, Top: 0.2, Bottom: 0.3, Align: align.Center}
	// onLine is a value written on a line, onLineC one centred on it.
	onLine  = props.Text{Size: 7, Family: fontFamily, Top: 0.5, Bottom: 0.6, Left: 0.5, Right: 0.5}
	onLineC = props.Text{Size: 7, Family: fontFamily, Top: 0.5, Bottom: 0.6, Align: align.Center}
	// labelR is a label that ends at the box to its right.
	labelR = props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5, Right: 0.8, Align: align.Right}
	// boxText is a code in the Коды column: left in its box, so that it
	// reads right after its label.
	boxText = props.Text{Size: 6, Family: fontFamily, Top: 0.5, Bottom: 0.5, Left: 0.8}

	// The tables' cells: framed, or on their left and bottom sides (and
	// right, for a row's last), with lines of the default width, which
	// spares setting and resetting it for every cell.
	gridCell = &props.Cell{BorderType: border.Full}
	gridLB   = &props.Cell{BorderType: border.Left | border.Bottom}
	gridLBR  = &props.Cell{BorderType: border.Left | border.Bottom | border.Right}
	// under is a line under a value.
	under = &props.Cell{BorderType: border.Bottom}
)

// boxOf is a cell framed on the given sides.
func boxOf(b border.Type) *props.Cell { return &props.Cell{BorderType: b} }

// cell is one column of a form's row: a label or a value; a value with a
// line is underlined and may have a caption under the line.
type cell struct {
	size    int
	text    string
	st      props.Text
	style   *props.Cell
	caption string
}

// label is plain text.
func label(size int, s string) cell { return cell{size: size, text: s, st: headS} }

// blank is an empty column.
func blank(size int) cell { return cell{size: size} }

// lined is a value on a line with its caption under it ("": none).
func lined(size int, s, caption string) cell {
	return cell{size: size, text: s, st: onLine, style: under, caption: caption}
}

// sign is a value centred on a line, as a signature's parts are.
func sign(size int, s, caption string) cell {
	return cell{size: size, text: s, st: onLineC, style: under, caption: caption}
}

// col is the cell as maroto's column.
func (c cell) col() mcore.Col {
	if c.text == "" {
		if c.style == nil {
			return col.New(c.size)
		}
		return col.New(c.size).WithStyle(c.style)
	}
	t := text.NewCol(c.size, c.text, c.st)
	if c.style != nil {
		t.WithStyle(c.style)
	}
	return t
}

// addLined prints cells as a row and, when some have captions, the
// captions in a row under their lines; an empty cell of size 0 is left
// out.
func addLined(m mcore.Maroto, cells ...cell) {
	var cols, captions []mcore.Col
	captioned := false
	for _, c := range cells {
		if c.size == 0 { // maroto would take it for the full width
			continue
		}
		cols = append(cols, c.col())
		if c.caption == "" {
			captions = append(captions, col.New(c.size))
			continue
		}
		captions, captioned = append(captions, text.NewCol(c.size, c.caption, note)), true
	}
	m.AddAutoRow(cols...)
	if captioned {
		m.AddAutoRow(captions...)
	}
}

// signature is a signature's parts on their lines: the position, the
// signature and the name (a position of "-" has no line, as the chief
// accountant's).
func signature(position, name string, sizes [3]int) []cell {
	var out []cell
	if position != "-" {
		out = append(out, sign(sizes[0], position, "(должность)"), blank(1))
	} else {
		out = append(out, blank(sizes[0]+1))
	}
	return append(out, sign(sizes[1], "", "(подпись)"), blank(1), sign(sizes[2], name, "(расшифровка подписи)"))
}

// countInWords is a count in words with its noun in the right form:
// «один порядковый номер», «две записи», «пять листов».
func countInWords(n int64, feminine bool, one, few, many string) string {
	return core.NumberInWords(n, feminine) + " " + core.Plural(n, one, few, many)
}

// onSheets is «на 1 листе», «на 3 листах»: the count of sheets a
// document is on, in the prepositional case.
func onSheets(n int) string {
	return fmt.Sprintf("на %d %s", n, core.Plural(int64(n), "листе", "листах", "листах"))
}

// nudge is the height (mm) of a row that ends a page. maroto fills the
// rest of a page with a row ending exactly on gofpdf's page-break line;
// when the rows' heights add up to a round figure, rounding can put that
// end a hair beyond the line, and gofpdf then breaks the page itself,
// printing the rest of the document off its rows (a 40-line УПД did).
// A row of a fraction of a nanometre makes maroto round its filler down,
// below the line.
const nudge = 3e-10

// newPage starts a new page.
func newPage(m mcore.Maroto) {
	m.AddRow(nudge)
	m.AddPages(page.New())
}

// endPages ends a form's last page.
func endPages(m mcore.Maroto) { m.AddRow(nudge) }
