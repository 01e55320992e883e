package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
)

func TestReportsThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	check := openAPIChecker(t, b)
	for _, body := range []string{`{"last_name":"А","company":"X","source":"cold_call"}`, `{"last_name":"Б","company":"X","source":"cold_call"}`,
		`{"last_name":"В","company":"X","source":"partner"}`} {
		check("POST", "/api/v1/leads", b.writer, body, 201)
	}
	// The standard reports, by slug.
	data := check("GET", "/api/v1/reports/standard", b.reader, "", 200)
	require.Contains(t, string(data), `"slug":"unpaid-invoices"`)
	check("GET", "/api/v1/reports/leads-by-source", b.reader, "", 200)
	data = check("GET", "/api/v1/reports/leads-by-source/run", b.reader, "", 200)
	var res struct {
		Rows   [][]any        `json:"rows"`
		Totals map[string]any `json:"totals"`
	}
	require.NoError(t, json.Unmarshal(data, &res))
	require.Equal(t, [][]any{{"cold_call", float64(2)}, {"partner", float64(1)}}, res.Rows)
	require.Equal(t, map[string]any{"count": float64(3)}, res.Totals)

	// A stored definition: created, found by slug, run in every format.
	data = check("POST", "/api/v1/reports", b.writer, `{"name":"Обращения по источникам и статусам","slug":"leads-mine","entity":"lead",
		"group_by":[{"field":"source"}],"aggregates":[{"fn":"count"}],"chart":{"type":"pie"},
		"filters":{"op":"and","conditions":[{"field":"created_at","operator":"period","value":"this_year"}]}}`, 201)
	id := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
	check("GET", "/api/v1/reports/leads-mine", b.reader, "", 200)
	check("GET", "/api/v1/reports?q=статус", b.reader, "", 200)
	check("PATCH", "/api/v1/reports/"+id, b.writer, `{"description":"для отдела продаж"}`, 200)
	check("GET", "/api/v1/reports/"+id+"/run?format=csv&sep=semicolon", b.reader, "", 200)
	x := check("GET", "/api/v1/reports/"+id+"/run?format=xlsx", b.reader, "", 200)
	f, err := excelize.OpenReader(bytes.NewReader(x))
	require.NoError(t, err)
	require.Equal(t, []string{"Отчёт", "Диаграмма"}, f.GetSheetList())
	require.NoError(t, f.Close())
	p := check("GET", "/api/v1/reports/"+id+"/run?format=pdf", b.reader, "", 200)
	require.True(t, bytes.HasPrefix(p, []byte("%PDF")))
	img := check("GET", "/api/v1/reports/"+id+"/run?format=png&width=400&height=300", b.reader, "", 200)
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	require.NoError(t, err)
	require.Equal(t, [2]int{400, 300}, [2]int{cfg.Width, cfg.Height})
	svg := b.do(t, "GET", "/api/v1/reports/"+id+"/run?format=svg", b.reader, "") // the validator has no SVG decoder
	require.Equal(t, 200, svg.status)
	require.Equal(t, "image/svg+xml", svg.header.Get("Content-Type"))
	require.True(t, strings.Contains(string(svg.body), "Холодный звонок"), "labels, in Cyrillic")

	// Bad input is a 422 that names the problem; nothing is stored.
	data = check("POST", "/api/v1/reports", b.writer, `{"name":"x","entity":"lead","columns":["last_name; DROP TABLE leads"]}`, 422)
	require.Contains(t, string(data), `"columns[0]"`)
	data = check("POST", "/api/v1/reports", b.writer, `{"name":"x","slug":"lead-status","entity":"lead","columns":["id"]}`, 422)
	require.Contains(t, string(data), `"reserved"`)
	data = check("GET", "/api/v1/reports/leads-by-source/run?format=doc", b.reader, "", 422)
	require.Contains(t, string(data), `"format"`)
	data = check("GET", "/api/v1/reports/leads-by-source/run?"+url.Values{"owner; --": {"x"}}.Encode(), b.reader, "", 422)
	require.Contains(t, string(data), "unknown_parameter")
	check("GET", "/api/v1/reports/leads-by-source/run?owner=not-an-id", b.reader, "", 422)
	check("GET", "/api/v1/reports/leads-by-source/run?from=27.11.2026", b.reader, "", 422)
	check("GET", "/api/v1/reports/open-quotes/run?format=png", b.reader, "", 422) // no chart
	check("GET", "/api/v1/reports/no-such-report/run", b.reader, "", 404)
	// Schedules: stored with their next run; a run now without SMTP is
	// recorded as failed, saying why.
	data = check("POST", "/api/v1/report-schedules", b.writer, `{"name":"Каждый понедельник","report":"leads-mine","frequency":"weekly",
		"weekday":1,"at":"09:00","format":"pdf","recipients":["boss@example.ru"]}`, 201)
	require.Contains(t, string(data), `"next_run_at":"20`)
	sid := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
	check("GET", "/api/v1/report-schedules?q=понедельник", b.reader, "", 200)
	check("POST", "/api/v1/report-schedules", b.writer, `{"name":"x","report":"leads-mine","frequency":"weekly","recipients":["a@b.ru"]}`, 422)
	check("POST", "/api/v1/report-schedules", b.writer, `{"name":"x","report":"leads-mine","recipients":["not an address"]}`, 422)
	data = check("POST", "/api/v1/report-schedules/"+sid+"/run", b.writer, "", 200)
	require.Contains(t, string(data), `"status":"failed"`)
	require.Contains(t, string(data), "smtp.host")
	data = check("GET", "/api/v1/report-schedules/"+sid+"/runs", b.reader, "", 200)
	require.Contains(t, string(data), `"rows":2`)
	data = check("PATCH", "/api/v1/report-schedules/"+sid, b.writer, `{"active":false}`, 200)
	require.Contains(t, string(data), `"next_run_at":null`)
	check("DELETE", "/api/v1/report-schedules/"+sid, b.writer, "", 204)
	check("DELETE", "/api/v1/reports/"+id, b.writer, "", 204)
	check("GET", "/api/v1/reports/leads-mine", b.reader, "", 404)
}

// TestReportFields: the catalog answers what definitions may name, and
// every field and link it lists runs — as a column, a filter and a
// group of the entity's own and through each link.
func TestReportFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	check := openAPIChecker(t, b)
	data := check("GET", "/api/v1/reports/fields", b.reader, "", 200)
	var cat struct {
		Items []core.ReportEntityInfo `json:"items"`
	}
	require.NoError(t, json.Unmarshal(data, &cat))
	byName := map[string]core.ReportEntityInfo{}
	for _, e := range cat.Items {
		byName[e.Name] = e
	}
	for _, want := range []string{"lead", "contact", "account", "deal", "activity", "quote", "sales_order", "invoice", "payment",
		"product", "call", "user"} {
		require.Contains(t, byName, want)
	}
	var stage *core.ReportFieldInfo
	for i, f := range byName["deal"].Fields {
		if f.Key == "stage" {
			stage = &byName["deal"].Fields[i]
		}
	}
	require.NotNil(t, stage)
	require.Equal(t, "text", stage.Type)
	require.Equal(t, "Переговоры/ознакомление", stage.Labels["negotiation_review"])
	require.Contains(t, byName["invoice"].Links, core.ReportLinkInfo{Name: "account", Entity: "account", Label: "Контрагент"})

	ctx := context.Background()
	reps := b.store.Reports()
	for _, e := range cat.Items {
		for _, f := range e.Fields {
			def := core.ReportDefinition{Entity: e.Name, Columns: []string{f.Key},
				Filters: &core.ReportFilter{Op: "and", Conditions: []core.ReportCondition{{Field: f.Key, Operator: "empty"}}}}
			_, err := reps.Run(ctx, &core.Report{Name: "x", ReportDefinition: def}, core.ReportRun{Limit: 1})
			require.NoError(t, err, "%s.%s as a column and a filter", e.Name, f.Key)
			def = core.ReportDefinition{Entity: e.Name, GroupBy: []core.ReportGroup{{Field: f.Key}}, Aggregates: []core.ReportAggregate{{Fn: "count"}}}
			_, err = reps.Run(ctx, &core.Report{Name: "x", ReportDefinition: def}, core.ReportRun{Limit: 1})
			require.NoError(t, err, "%s.%s as a group", e.Name, f.Key)
		}
		for _, l := range e.Links {
			target := byName[l.Entity]
			require.NotEmpty(t, target.Fields, "%s links to %s, which the catalog lists", e.Name, l.Entity)
			def := core.ReportDefinition{Entity: e.Name, Related: []string{l.Name}, Columns: []string{l.Name + "." + target.Fields[0].Key}}
			_, err := reps.Run(ctx, &core.Report{Name: "x", ReportDefinition: def}, core.ReportRun{Limit: 1})
			require.NoError(t, err, "%s → %s", e.Name, l.Name)
		}
	}
}

// TestDealFunnelChart: the standard funnel's chart draws how many got at
// least this far, as GET /funnel counts it (skipped stages reached, a
// deal moved back keeps its furthest stage, won all the way, lost as far
// as it got): no share above 100 %, bands narrowing downward, Excel's
// bars of the same figures; a run that finds nothing is still an image.
func TestDealFunnelChart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	router := openAPIRouter(t)
	var funnel core.Funnel
	var want []float64 // the funnel's reached amounts, stage by stage

	if !t.Run("DealsReachTheirStagesForwardBackAndClosed", func(t *testing.T) {
		check := router.checker(t, b)
		deal := func(amount string, stages ...string) {
			data := check("POST", "/api/v1/deals", b.writer, `{"name":"Сделка","amount":"`+amount+`"}`, 201)
			id := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
			for _, st := range stages {
				check("PATCH", "/api/v1/deals/"+id, b.writer, `{"stage":"`+st+`"}`, 200)
			}
		}
		deal("100000")                                                             // stays in prospecting
		deal("200000", "qualification", "needs_analysis")                          // in needs_analysis
		deal("300000", "qualification", "closed_won")                              // won: all the way
		deal("400000", "qualification", "needs_analysis", "closed_lost")           // lost after needs_analysis
		deal("1500000", "proposal_price_quote")                                    // skipped to the proposal
		deal("600000", "value_proposition", "qualification")                       // moved back
		deal("700000", "perception_analysis", "negotiation_review", "closed_lost") // lost late
	}) {
		return
	}

	if !t.Run("TheReportRowsAreTheFunnelsReachedAmountsStageByStage", func(t *testing.T) {
		check := router.checker(t, b)
		require.NoError(t, json.Unmarshal(check("GET", "/api/v1/funnel", b.reader, "", 200), &funnel))
		var res core.ReportResult
		require.NoError(t, json.Unmarshal(check("GET", "/api/v1/reports/deal-pipeline/run", b.reader, "", 200), &res))
		require.Equal(t, []string{"sum_reached_amount"}, res.Chart.Aggregates)
		col := slices.Index(res.Aggregates, "sum_reached_amount") + 1
		for i, st := range funnel.Stages {
			require.Equal(t, st.Code, res.Rows[i][0], "every stage some deal got to, in order")
			require.Equal(t, st.Reached.Amount.StringFixed(2), res.Rows[i][col], st.Code)
			want = append(want, st.Reached.Amount.InexactFloat64())
		}
		require.Len(t, res.Rows, len(funnel.Stages))
	}) {
		return
	}

	t.Run("TheSVGShowsSharesOfTheFirstStageInBandsNarrowingDownward", func(t *testing.T) {
		svg := b.do(t, "GET", "/api/v1/reports/deal-pipeline/run?format=svg", b.reader, "")
		require.Equal(t, 200, svg.status)
		require.Equal(t, "image/svg+xml", svg.header.Get("Content-Type"))
		texts, bands := funnelSVG(t, svg.body)
		var shares []int
		for _, s := range texts {
			if m := regexp.MustCompile(`\((\d+)%\)$`).FindStringSubmatch(s); m != nil {
				n, err := strconv.Atoi(m[1])
				require.NoError(t, err)
				shares = append(shares, n)
			}
		}
		require.Len(t, shares, len(want)-1, "each stage but the first shows its share of the first: %q", texts)
		for i, n := range shares {
			require.LessOrEqual(t, n, 100, texts)
			require.Equal(t, int(math.Round(100*want[i+1]/want[0])), n, funnel.Stages[i+1].Code)
		}
		require.Len(t, bands, len(want))
		for i := 1; i < len(bands); i++ {
			require.Less(t, bands[i][1], bands[i-1][1], "stage %d below stage %d", i, i-1)
			require.LessOrEqual(t, bands[i][0], bands[i-1][0], "stage %d no wider than stage %d", i, i-1)
			require.InDelta(t, want[i]/want[0], bands[i][0]/bands[0][0], 0.01, "as wide as its share")
		}
	})

	t.Run("ThePNGHasTheAskedSize", func(t *testing.T) {
		check := router.checker(t, b)
		img := check("GET", "/api/v1/reports/deal-pipeline/run?format=png&width=900&height=500", b.reader, "", 200)
		cfg, err := png.DecodeConfig(bytes.NewReader(img))
		require.NoError(t, err)
		require.Equal(t, [2]int{900, 500}, [2]int{cfg.Width, cfg.Height})
		lookAt(t, "deal-pipeline.png", img)
	})

	t.Run("ExcelsBarsShowTheSameFigures", func(t *testing.T) {
		check := router.checker(t, b)
		x := check("GET", "/api/v1/reports/deal-pipeline/run?format=xlsx", b.reader, "", 200)
		f, err := excelize.OpenReader(bytes.NewReader(x))
		require.NoError(t, err)
		defer f.Close()
		rows, err := f.GetRows("Диаграмма")
		require.NoError(t, err)
		require.Len(t, rows, len(want)+1)
		for i, w := range want {
			require.Equal(t, strconv.FormatFloat(w, 'f', -1, 64), rows[i+1][1], "Excel's bars: the same figures")
		}
	})

	t.Run("NothingFound", func(t *testing.T) { // a dashboard embedding the chart gets an image saying so
		check := router.checker(t, b)
		nobody := "/api/v1/reports/deal-pipeline/run?owner=0190a5c0-0000-7000-8000-000000000000"
		var empty core.ReportResult
		require.NoError(t, json.Unmarshal(check("GET", nobody, b.reader, "", 200), &empty))
		require.Empty(t, empty.Rows)
		svg := b.do(t, "GET", nobody+"&format=svg", b.reader, "")
		require.Equal(t, 200, svg.status, string(svg.body))
		require.Equal(t, "image/svg+xml", svg.header.Get("Content-Type"))
		texts, bands := funnelSVG(t, svg.body)
		require.Equal(t, []string{"Воронка сделок", "Нет данных"}, texts)
		require.Empty(t, bands)
		img := check("GET", nobody+"&format=png&width=640&height=360", b.reader, "", 200)
		cfg, err := png.DecodeConfig(bytes.NewReader(img))
		require.NoError(t, err)
		require.Equal(t, [2]int{640, 360}, [2]int{cfg.Width, cfg.Height})
		lookAt(t, "deal-pipeline-empty.png", img)
	})
}

// funnelSVG reads a funnel chart's SVG: its texts, and its bands top to
// bottom as [width, top] (the coloured rectangles centred where the first
// is: not the white background, the grey necks or the legend's swatch).
func funnelSVG(t *testing.T, data []byte) ([]string, [][2]float64) {
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
	var bands [][2]float64
	centre := math.NaN()
	num := regexp.MustCompile(`[ML]([-\d.e]+),([-\d.e]+)`)
	for _, p := range doc.G.Paths {
		pts := num.FindAllStringSubmatch(p.D, -1)
		if p.Style == "fill:#FFFFFF" || p.Style == "fill:#D5DBE3" || len(pts) != 4 {
			continue
		}
		left, right, top := math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, m := range pts {
			x, err := strconv.ParseFloat(m[1], 64)
			require.NoError(t, err)
			y, err := strconv.ParseFloat(m[2], 64)
			require.NoError(t, err)
			left, right, top = min(left, x), max(right, x), max(top, y)
		}
		if math.IsNaN(centre) {
			centre = (left + right) / 2
		}
		if math.Abs((left+right)/2-centre) < 0.5 {
			bands = append(bands, [2]float64{right - left, top})
		}
	}
	return doc.G.Texts, bands
}

// lookAt writes an image to $CHART_DIR, to look at it.
func lookAt(t *testing.T, name string, data []byte) {
	if dir := os.Getenv("CHART_DIR"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
	}
}
