package reportout_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"image"
	imgpng "image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/reportout"
)

// pipeline is a deal funnel as the standard report «deal-pipeline» gives
// it: per stage the open deals in it now and the deals that got that far.
// In-stage amounts grow down the pipeline (the old chart's 1500 %); the
// reached ones cannot.
func pipeline() *core.ReportResult {
	return &core.ReportResult{Name: "Воронка сделок", Entity: "deal_funnel", RanAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		Columns: []core.ReportColumn{{Key: "stage", Label: "Этап", Type: "text",
			Labels: map[string]string{"prospecting": "Переговоры", "qualification": "Оценка", "proposal_price_quote": "Коммерческое предложение/цены"}},
			{Key: "count_in_stage", Label: "Количество: Сделки в этапе", Type: "integer"},
			{Key: "sum_in_stage_amount", Label: "Сумма: Сумма в этапе", Type: "money"},
			{Key: "count_reached", Label: "Количество: Дошли до этапа", Type: "integer"},
			{Key: "sum_reached_amount", Label: "Сумма: Сумма дошедших", Type: "money"}},
		Groups:     []string{"stage"},
		Aggregates: []string{"count_in_stage", "sum_in_stage_amount", "count_reached", "sum_reached_amount"},
		Rows: [][]any{{"prospecting", int64(1), "100.00", int64(8), "2800.00"},
			{"qualification", int64(1), "1500.00", int64(6), "2700.00"},
			{"proposal_price_quote", int64(2), "2400.00", int64(3), "1500.00"}},
		Subtotals: []core.ReportSubtotal{},
		Totals:    map[string]any{"count_in_stage": int64(4), "sum_in_stage_amount": "4000.00"},
		Chart:     &core.ReportChart{Type: "funnel", Aggregates: []string{"sum_reached_amount"}}}
}

func TestFunnelChart(t *testing.T) {
	res := pipeline()
	d := reportout.ChartOf(res, time.UTC)
	require.Equal(t, []string{"Переговоры", "Оценка", "Коммерческое предложение/цены"}, d.Categories)
	require.Equal(t, []reportout.ChartSeries{{Name: "Сумма: Сумма дошедших", Values: []float64{2800, 2700, 1500}}}, d.Series,
		"the amounts that got that far")

	t.Run("SVG", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, reportout.Render(&b, res, "svg", reportout.Options{}))
		svg := parseSVG(t, b.Bytes())
		require.Equal(t, []string{"Переговоры — 2 800", "Оценка — 2 700 (96%)", "Коммерческое предложение/цены — 1 500 (54%)"},
			svg.labels(" — "))
		requireShares(t, svg.texts)
		bands := svg.bands()
		require.Len(t, bands, 3)
		for i := 1; i < len(bands); i++ {
			require.Less(t, bands[i].top, bands[i-1].top, "stage %d below stage %d", i, i-1)
			require.LessOrEqual(t, bands[i].width(), bands[i-1].width(), "stage %d no wider than stage %d", i, i-1)
		}
		require.InDelta(t, 2700.0/2800, bands[1].width()/bands[0].width(), 0.01, "as wide as its share")
		require.InDelta(t, 1500.0/2800, bands[2].width()/bands[0].width(), 0.01)
	})
	t.Run("PNG", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, reportout.Render(&b, res, "png", reportout.Options{Width: 800, Height: 450}))
		img, err := imgpng.Decode(bytes.NewReader(b.Bytes()))
		require.NoError(t, err)
		require.Equal(t, image.Rect(0, 0, 800, 450), img.Bounds())
		lookAt(t, "funnel.png", b.Bytes())
	})
	t.Run("Excel", func(t *testing.T) { // bars, of the same figures, the first stage on top
		var b bytes.Buffer
		require.NoError(t, reportout.WriteXLSX(&b, res, time.UTC))
		f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
		require.NoError(t, err)
		defer f.Close()
		rows, err := f.GetRows(reportout.SheetChart)
		require.NoError(t, err)
		require.Equal(t, [][]string{{"", "Сумма: Сумма дошедших"}, {"Переговоры", "2800"}, {"Оценка", "2700"},
			{"Коммерческое предложение/цены", "1500"}}, rows)
		zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
		require.NoError(t, err)
		chart := readZip(t, zr, "xl/charts/chart1.xml")
		require.Contains(t, chart, `<barDir val="bar">`, "horizontal bars")
		require.Regexp(t, `<catAx>.*<orientation val="maxMin">.*</catAx>`, chart, "stages top down")
	})
}

// TestEmptyChart: a charted report that found nothing is still an image,
// saying so.
func TestEmptyChart(t *testing.T) {
	res := pipeline()
	res.Rows = [][]any{}
	res.Totals = map[string]any{"count_in_stage": int64(0), "sum_in_stage_amount": nil}

	var b bytes.Buffer
	require.NoError(t, reportout.Render(&b, res, "svg", reportout.Options{}))
	svg := parseSVG(t, b.Bytes())
	require.Equal(t, []string{"Воронка сделок", reportout.NoData}, svg.texts)
	require.Empty(t, svg.bands())

	b.Reset()
	require.NoError(t, reportout.Render(&b, res, "png", reportout.Options{Width: 640, Height: 360}))
	img, err := imgpng.Decode(bytes.NewReader(b.Bytes()))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 640, 360), img.Bounds())
	require.Greater(t, inked(img, image.Rect(240, 160, 400, 200)), 100, "the words in the middle")
	require.Zero(t, inked(img, image.Rect(0, 220, 640, 360)), "nothing else below them")
	lookAt(t, "empty.png", b.Bytes())

	res.Chart = nil
	require.Equal(t, core.EINVALID, core.ErrorCode(reportout.Render(&b, res, "png", reportout.Options{})), "no chart: no image")

	for _, typ := range []string{"pie", "funnel"} { // rows, all zero: nothing to draw either
		d := &reportout.ChartData{Title: "Нули", Categories: []string{"А", "Б"}, Series: []reportout.ChartSeries{{Name: "С", Values: []float64{0, 0}}}}
		b.Reset()
		require.NoError(t, reportout.WriteChart(&b, d, typ, "svg", 0, 0))
		require.Contains(t, parseSVG(t, b.Bytes()).texts, reportout.NoData, typ)
	}
}

// inked counts the pixels of r that are not white.
func inked(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
				n++
			}
		}
	}
	return n
}

// lookAt writes an image to $CHART_DIR, to look at it.
func lookAt(t *testing.T, name string, data []byte) {
	if dir := os.Getenv("CHART_DIR"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
	}
}

// requireShares requires every share a chart writes («(96%)») to be at
// most 100 %.
func requireShares(t *testing.T, texts []string) {
	t.Helper()
	n := 0
	for _, s := range texts {
		for _, m := range regexp.MustCompile(`\((\d+)%\)`).FindAllStringSubmatch(s, -1) {
			v, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			require.LessOrEqual(t, v, 100, s)
			n++
		}
	}
	require.Positive(t, n, "shares written: %q", texts)
}

// svgChart is what a chart's SVG draws: its texts and filled paths, in
// drawing order.
type svgChart struct {
	texts []string
	paths []svgPath
}

type svgPath struct {
	fill string
	pts  [][2]float64
}

// rect is a filled rectangle of a chart (y grows upwards).
type rect struct{ left, right, top, bottom float64 }

func (r rect) width() float64 { return r.right - r.left }

func parseSVG(t *testing.T, data []byte) svgChart {
	t.Helper()
	var doc struct {
		G struct {
			Paths []struct {
				D     string `xml:"d,attr"`
				Style string `xml:"style,attr"`
			} `xml:"path"`
			Texts []string `xml:"text"`
		} `xml:"g"`
	}
	require.NoError(t, xml.Unmarshal(data, &doc), "well-formed SVG")
	out := svgChart{texts: doc.G.Texts}
	num := regexp.MustCompile(`[ML]([-\d.e]+),([-\d.e]+)`)
	for _, p := range doc.G.Paths {
		sp := svgPath{fill: strings.TrimPrefix(p.Style, "fill:")}
		for _, m := range num.FindAllStringSubmatch(p.D, -1) {
			x, err1 := strconv.ParseFloat(m[1], 64)
			y, err2 := strconv.ParseFloat(m[2], 64)
			require.NoError(t, err1)
			require.NoError(t, err2)
			sp.pts = append(sp.pts, [2]float64{x, y})
		}
		out.paths = append(out.paths, sp)
	}
	return out
}

// labels are the texts holding sep (a funnel's stage labels).
func (s svgChart) labels(sep string) []string {
	var out []string
	for _, t := range s.texts {
		if strings.Contains(t, sep) {
			out = append(out, t)
		}
	}
	return out
}

// bands are a funnel's stages, top to bottom: the coloured rectangles
// centred where the first one is (the legend's swatch is not), the
// background and the grey necks between the bands left out.
func (s svgChart) bands() []rect {
	var out []rect
	centre := math.NaN()
	for _, p := range s.paths {
		if p.fill == "#FFFFFF" || p.fill == "#D5DBE3" || len(p.pts) != 4 {
			continue
		}
		xs := []float64{p.pts[0][0], p.pts[1][0], p.pts[2][0], p.pts[3][0]}
		ys := []float64{p.pts[0][1], p.pts[1][1], p.pts[2][1], p.pts[3][1]}
		r := rect{left: slices.Min(xs), right: slices.Max(xs), top: slices.Max(ys), bottom: slices.Min(ys)}
		c := (r.left + r.right) / 2
		if math.IsNaN(centre) {
			centre = c
		}
		if math.Abs(c-centre) < 0.5 {
			out = append(out, r)
		}
	}
	return out
}
