package reportout

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"

	"github.com/shopspring/decimal"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/crmhub/crmhub/core"
)

// Chart image sizes, in pixels.
const (
	ChartWidth  = 900
	ChartHeight = 500
	chartDPI    = 96
)

var palette = []color.Color{
	color.RGBA{R: 0x2f, G: 0x6f, B: 0xb5, A: 0xff}, color.RGBA{R: 0xe0, G: 0x7b, B: 0x28, A: 0xff},
	color.RGBA{R: 0x3a, G: 0x9e, B: 0x5b, A: 0xff}, color.RGBA{R: 0xc0, G: 0x39, B: 0x2b, A: 0xff},
	color.RGBA{R: 0x8e, G: 0x5e, B: 0xa2, A: 0xff}, color.RGBA{R: 0x16, G: 0xa0, B: 0x85, A: 0xff},
	color.RGBA{R: 0xd4, G: 0xac, B: 0x0d, A: 0xff}, color.RGBA{R: 0x7f, G: 0x8c, B: 0x8d, A: 0xff},
}

// NoData is what the chart of a report that found nothing says.
const NoData = "Нет данных"

// WriteChart draws a chart (bar, horizontal_bar, line, pie, funnel) as
// SVG or PNG of width × height pixels (0: the defaults), with the
// Liberation fonts gonum/plot embeds (Cyrillic included). A pie or funnel
// with nothing above zero says NoData.
func WriteChart(w io.Writer, d *ChartData, typ, format string, width, height int) error {
	if d == nil || len(d.Categories) == 0 || len(d.Series) == 0 {
		return fmt.Errorf("reportout: nothing to chart")
	}
	p, err := chartPlot(d, typ)
	if err != nil {
		return err
	}
	return writePlot(w, p, format, width, height)
}

// WriteEmptyChart draws the chart of a report that found nothing: its
// title over NoData, as SVG or PNG of width × height pixels (0: the
// defaults), so that a dashboard embedding the image says so.
func WriteEmptyChart(w io.Writer, title, format string, width, height int) error {
	p := newPlot(title)
	p.HideAxes()
	p.Add(noData{})
	return writePlot(w, p, format, width, height)
}

func writePlot(w io.Writer, p *plot.Plot, format string, width, height int) error {
	if width <= 0 {
		width = ChartWidth
	}
	if height <= 0 {
		height = ChartHeight
	}
	wd := vg.Length(width) * vg.Inch / chartDPI
	ht := vg.Length(height) * vg.Inch / chartDPI
	var err error
	switch format {
	case "svg":
		c := vgsvg.NewWith(vgsvg.UseWH(wd, ht))
		p.Draw(draw.New(c))
		_, err = c.WriteTo(w)
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(wd, ht), vgimg.UseDPI(chartDPI))
		p.Draw(draw.New(c))
		_, err = vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	default:
		err = fmt.Errorf("reportout: chart format %q: use svg or png", format)
	}
	return err
}

// sans is Liberation Sans (gonum/plot's default is the serif).
func sans(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// newPlot is a plot with a chart's title and fonts.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(15)
	p.Title.Padding = vg.Points(8)
	p.X.Tick.Label.Font, p.Y.Tick.Label.Font = sans(10), sans(10)
	p.Legend.TextStyle.Font = sans(11)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(60)
	return p
}

// noData says NoData in the middle of a chart.
type noData struct{}

func (noData) Plot(c draw.Canvas, _ *plot.Plot) { writeNoData(c) }

func writeNoData(c draw.Canvas) {
	sty := draw.TextStyle{Color: color.Gray{Y: 0x70}, Font: sans(20), Handler: plot.DefaultTextHandler,
		XAlign: draw.XCenter, YAlign: draw.YCenter}
	c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: (c.Min.Y + c.Max.Y) / 2}, NoData)
}

func chartPlot(d *ChartData, typ string) (*plot.Plot, error) {
	p := newPlot(d.Title)
	switch typ {
	case "pie":
		p.HideAxes()
		pie := &pieChart{values: d.Series[0].Values, labels: d.Categories}
		p.Add(pie)
		for i, c := range d.Categories {
			p.Legend.Add(c, swatch{palette[i%len(palette)]})
		}
		p.Legend.XOffs = 0
		return p, nil
	case "funnel":
		p.HideAxes()
		p.Add(&funnelChart{values: d.Series[0].Values, labels: d.Categories})
		p.Legend.Add(d.Series[0].Name, swatch{palette[0]})
		p.Legend.XOffs = 0
		p.Legend.Top = false // under the last stage's label, clear of the first's
		return p, nil
	case "line":
		p.NominalX(d.Categories...)
		for i, s := range d.Series {
			pts := make(plotter.XYs, len(s.Values))
			for j, v := range s.Values {
				pts[j] = plotter.XY{X: float64(j), Y: v}
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			l.Color = palette[i%len(palette)]
			l.Width = vg.Points(2)
			p.Add(l)
			p.Legend.Add(s.Name, l)
		}
		p.X.Min, p.X.Max, p.Y.Min = -0.5, float64(len(d.Categories))-0.5, math.Min(0, p.Y.Min)
		p.Add(plotter.NewGrid())
		return p, nil
	}
	horizontal := typ == "horizontal_bar"
	if horizontal { // the first category on top
		d = reversed(d)
	}
	n := float64(len(d.Series))
	barWidth := vg.Points(math.Max(6, math.Min(40, 480/(n*float64(len(d.Categories))))))
	for i, s := range d.Series {
		bars, err := plotter.NewBarChart(plotter.Values(s.Values), barWidth)
		if err != nil {
			return nil, err
		}
		bars.Color = palette[i%len(palette)]
		bars.LineStyle.Width = 0
		bars.Horizontal = horizontal
		bars.Offset = vg.Length(float64(i)-(n-1)/2) * barWidth
		p.Add(bars)
		p.Legend.Add(s.Name, bars)
	}
	pad := float64(len(d.Categories)) - 0.5
	if horizontal {
		p.NominalY(d.Categories...)
		p.X.Min, p.Y.Min, p.Y.Max = 0, -0.5, pad+0.6 // room for the legend
		p.X.Max *= 1.05
	} else {
		p.NominalX(d.Categories...)
		p.Y.Min, p.X.Min, p.X.Max = 0, -0.5, pad
		p.Y.Max *= 1.12 // room for the legend
	}
	p.Add(plotter.NewGrid())
	return p, nil
}

func reversed(d *ChartData) *ChartData {
	r := &ChartData{Title: d.Title}
	for i := len(d.Categories) - 1; i >= 0; i-- {
		r.Categories = append(r.Categories, d.Categories[i])
	}
	for _, s := range d.Series {
		rs := ChartSeries{Name: s.Name}
		for i := len(s.Values) - 1; i >= 0; i-- {
			rs.Values = append(rs.Values, s.Values[i])
		}
		r.Series = append(r.Series, rs)
	}
	return r
}

// swatch is a legend entry of a colour.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y},
		{X: c.Min.X, Y: c.Max.Y}})
}

// pieChart draws a pie (gonum/plot has none): a slice per category with
// its share in percent.
type pieChart struct {
	values []float64
	labels []string
}

func (pc *pieChart) Plot(c draw.Canvas, _ *plot.Plot) {
	total := 0.0
	for _, v := range pc.values {
		total += math.Max(0, v)
	}
	if total == 0 {
		writeNoData(c)
		return
	}
	cx, cy := (c.Min.X+c.Max.X)/2, (c.Min.Y+c.Max.Y)/2
	r := vg.Length(math.Min(float64(c.Max.X-c.Min.X), float64(c.Max.Y-c.Min.Y))) * 0.42
	angle := math.Pi / 2
	sty := draw.TextStyle{Color: color.White, Font: sans(12), Handler: plot.DefaultTextHandler,
		XAlign: draw.XCenter, YAlign: draw.YCenter}
	for i, v := range pc.values {
		if v <= 0 {
			continue
		}
		sweep := 2 * math.Pi * v / total
		var path vg.Path
		path.Move(vg.Point{X: cx, Y: cy})
		path.Arc(vg.Point{X: cx, Y: cy}, r, angle, -sweep)
		path.Close()
		c.SetColor(palette[i%len(palette)])
		c.Fill(path)
		mid := angle - sweep/2
		if sweep > 0.25 {
			at := vg.Point{X: cx + r*0.65*vg.Length(math.Cos(mid)), Y: cy + r*0.65*vg.Length(math.Sin(mid))}
			c.FillText(sty, at, fmt.Sprintf("%.0f%%", 100*v/total))
		}
		angle -= sweep
	}
}

// funnelChart draws a sales funnel (gonum/plot has none): a stage per
// category, top to bottom, each a band as wide as its value against the
// widest, joined to the next by a trapezoid; the stage, its value and its
// share of the first stage are written on the left, in a column as wide
// as they need (up to half the chart; a longer text gets a smaller font).
// Drawn from how many got at least this far, the bands narrow downward and
// no share passes 100 %.
type funnelChart struct {
	values []float64
	labels []string
}

func (fc *funnelChart) Plot(c draw.Canvas, _ *plot.Plot) {
	top := 0.0
	for _, v := range fc.values {
		top = math.Max(top, v)
	}
	n := len(fc.values)
	if top <= 0 || n == 0 {
		writeNoData(c)
		return
	}
	sty := draw.TextStyle{Color: color.Black, Font: sans(11), Handler: plot.DefaultTextHandler,
		XAlign: draw.XRight, YAlign: draw.YCenter}
	texts := make([]string, n)
	widest := vg.Length(0)
	for i, v := range fc.values {
		texts[i] = fmt.Sprintf("%s — %s", fc.labels[i], compact(v))
		if i > 0 && fc.values[0] > 0 {
			texts[i] += fmt.Sprintf(" (%.0f%%)", 100*v/fc.values[0])
		}
		widest = max(widest, sty.Width(texts[i]))
	}
	gap := vg.Points(8)
	chartW := c.Max.X - c.Min.X
	labelW := min(max(widest+2*gap, chartW*0.2), chartW*0.5)
	left, right := c.Min.X+labelW, c.Max.X
	cx := (left + right) / 2
	full := (right - left) * 0.96
	step := (c.Max.Y - c.Min.Y) / vg.Length(n)
	band, neck := step*0.62, step*0.38
	half := func(v float64) vg.Length { return full * vg.Length(math.Max(0, v)/top) / 2 }
	for i, v := range fc.values {
		y := c.Max.Y - step*vg.Length(i) // the band's top
		w := half(v)
		c.SetColor(palette[i%len(palette)])
		c.FillPolygon(palette[i%len(palette)], []vg.Point{{X: cx - w, Y: y}, {X: cx + w, Y: y},
			{X: cx + w, Y: y - band}, {X: cx - w, Y: y - band}})
		if i+1 < n { // the neck narrows to the next stage
			nw := half(fc.values[i+1])
			c.FillPolygon(color.RGBA{R: 0xd5, G: 0xdb, B: 0xe3, A: 0xff}, []vg.Point{{X: cx - w, Y: y - band},
				{X: cx + w, Y: y - band}, {X: cx + nw, Y: y - band - neck}, {X: cx - nw, Y: y - band - neck}})
		}
		ts := sty
		if room, need := labelW-2*gap, sty.Width(texts[i]); need > room {
			ts.Font.Size = max(vg.Points(7), sty.Font.Size*room/need)
		}
		c.FillText(ts, vg.Point{X: left - gap, Y: y - band/2}, texts[i])
	}
}

// compact writes a value as documents do («1 234 567,89»), without
// kopecks when there are none (counts).
func compact(v float64) string {
	return strings.TrimSuffix(core.FormatAmount(decimal.NewFromFloat(v).Round(2)), ",00")
}
