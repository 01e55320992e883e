package printform

import (
	"bytes"
	"testing"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/orientation"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/johnfercher/maroto/v2/pkg/repository"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/font/gofont/goregular"
)

// TestNewPageKeepsTheFillerOnItsPage: 32 rows of 5.71 mm, a page break
// and a row make two pages (with maroto v2.3.3's own AddPages, gofpdf
// breaks the first page once more under its filler row: three).
func TestNewPageKeepsTheFillerOnItsPage(t *testing.T) {
	t.Parallel()
	fonts, err := repository.New().AddUTF8FontFromBytes(fontFamily, fontstyle.Normal, bytes.Clone(goregular.TTF)).Load()
	require.NoError(t, err)
	m := maroto.New(config.NewBuilder().WithCustomFonts(fonts).WithDefaultFont(&props.Font{Family: fontFamily, Size: 9}).
		WithOrientation(orientation.Horizontal).WithMaxGridSize(grid).WithLeftMargin(10).WithTopMargin(7).Build())
	for range 32 {
		m.AddRow(5.71, text.NewCol(grid, "x", tiny))
	}
	newPage(m)
	m.AddRow(5.71, text.NewCol(grid, "y", tiny))
	endPages(m)
	doc, err := m.Generate()
	require.NoError(t, err)
	require.Equal(t, 2, bytes.Count(doc.GetBytes(), []byte("/Type /Page\n")))
}

func TestFitterAgreesWithMaroto(t *testing.T) {
	t.Parallel()
	fonts, err := repository.New().AddUTF8FontFromBytes(fontFamily, fontstyle.Normal, bytes.Clone(goregular.TTF)).Load()
	require.NoError(t, err)
	m := maroto.New(config.NewBuilder().WithCustomFonts(fonts).WithDefaultFont(&props.Font{Family: fontFamily, Size: 9}).
		WithOrientation(orientation.Horizontal).WithMaxGridSize(grid).WithLeftMargin(10).WithRightMargin(10).Build())
	f := newFitter(m)
	require.NotNil(t, f)
	sample := []rune("Диван «Уют» Шкаф-купе ЖЮЩ 1 234 567,89 mmm WWW ююю щщщ — ффф ")
	for _, st := range []props.Text{tinyR, totalS} {
		for _, size := range []int{1, 2, 3, 8} {
			for n := 1; n <= len(sample); n++ {
				s := string(sample[:n])
				// The row's height, cached by maroto when it laid the row out.
				h := m.AddAutoRow(text.NewCol(size, s, st)).GetHeight(nil, nil)
				if f.oneLine(s, size, st) {
					require.Equal(t, h, lineHeight(st), "%q in %d columns", s, size)
				}
			}
		}
	}
	require.True(t, f.oneLine("1 234 567,89", 3, tinyR))
	require.False(t, f.oneLine(string(sample), 8, tinyR))
}
