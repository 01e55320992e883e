package printform

import (
	"math"

	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	mcore "github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// fitter tells whether a text takes one line of its column, from the
// fonts' advance widths as gofpdf reads them (thousandths of an em,
// rounded). A long table's rows of one-line cells are then added at their
// known height: maroto would otherwise measure every cell, and each
// measurement also writes a font switch into the page.
type fitter struct {
	fonts  [2]*sfnt.Font // regular, bold
	buf    sfnt.Buffer
	widths [2]map[rune]int
	usable float64 // the page's width inside the margins, mm
	grid   int
}

// newFitter reads the fonts' metrics for m's page (nil: the fonts do not
// parse; every row is then measured by maroto).
func newFitter(m mcore.Maroto) *fitter {
	cfg := m.GetCurrentConfig()
	f := &fitter{usable: cfg.Dimensions.Width - cfg.Margins.Left - cfg.Margins.Right, grid: cfg.MaxGridSize,
		widths: [2]map[rune]int{{}, {}}}
	for i, b := range [][]byte{goregular.TTF, gobold.TTF} {
		p, err := sfnt.Parse(b)
		if err != nil {
			return nil
		}
		f.fonts[i] = p
	}
	return f
}

// width is a rune's advance in thousandths of an em; a rune the font
// lacks counts as a full em.
func (f *fitter) width(style int, r rune) int {
	if w, ok := f.widths[style][r]; ok {
		return w
	}
	w := 1000
	fnt := f.fonts[style]
	upem := fnt.UnitsPerEm()
	if i, err := fnt.GlyphIndex(&f.buf, r); err == nil && i != 0 {
		if adv, err := fnt.GlyphAdvance(&f.buf, i, fixed.I(int(upem)), font.HintingNone); err == nil {
			w = int(math.Round(1000 * float64(adv) / 64 / float64(upem)))
		}
	}
	f.widths[style][r] = w
	return w
}

// oneLine tells whether s fits on one line of a column size wide in the
// style st (a margin of a tenth of a millimetre spares rounding).
func (f *fitter) oneLine(s string, size int, st props.Text) bool {
	style := 0
	if st.Style == fontstyle.Bold {
		style = 1
	}
	w := 0
	for _, r := range s {
		w += f.width(style, r)
	}
	avail := f.usable*float64(size)/float64(f.grid) - st.Left - st.Right
	return float64(w)*st.Size/1000*25.4/72 <= avail-0.1
}

// lineHeight is the height of a one-line cell in the style st, computed
// as maroto does, to the last bit.
func lineHeight(st props.Text) float64 {
	fontHeight := st.Size / (72.0 / 25.4)
	return float64(1)*fontHeight + float64(0)*st.VerticalPadding + st.Top + st.Bottom
}

// textCell is a table cell's text, its column's size and style.
type textCell struct {
	text string
	size int
	st   props.Text
}

// addRow adds a table row of cols whose texts are cells: one line high
// when every text fits on one line (known: its height h), else measured
// by maroto.
func (f *fitter) addRow(m mcore.Maroto, cols []mcore.Col, cells []textCell) (h float64, known bool) {
	if f == nil {
		m.AddAutoRow(cols...)
		return 0, false
	}
	for _, c := range cells {
		if !f.oneLine(c.text, c.size, c.st) {
			m.AddAutoRow(cols...)
			return 0, false
		}
		h = max(h, lineHeight(c.st))
	}
	m.AddRow(h, cols...)
	return h, true
}

// room is the height left on a page for a long table: asked of maroto
// when unknown (FitlnCurrentPage sums the heights of all the page's rows,
// and a table asking before each of its rows made that quadratic), then
// less the rows of known height.
type room struct {
	m     mcore.Maroto
	left  float64
	known bool
}

// fits tells whether h mm fit on the page.
func (r *room) fits(h float64) bool {
	if !r.known {
		// The height left, to a quarter of a millimetre and rounded down.
		lo, hi := 0.0, r.m.GetCurrentConfig().Dimensions.Height
		for hi-lo > 0.25 {
			if mid := (lo + hi) / 2; r.m.FitlnCurrentPage(mid) {
				lo = mid
			} else {
				hi = mid
			}
		}
		r.left, r.known = lo, true
	}
	return h < r.left
}

// take counts a row of h mm added to the page.
func (r *room) take(h float64) { r.left -= h }

// lost forgets the height left (after a row of unknown height, or on a
// new page).
func (r *room) lost() { r.known = false }
