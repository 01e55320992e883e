package reportsql_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/reportsql"
)

// TestSummaryRows: a grouped report's rows are its groups, the ROLLUP's
// grand total its totals; past the limit the result is cut.
func TestSummaryRows(t *testing.T) {
	t.Parallel()
	d := core.ReportDefinition{Entity: "deal", GroupBy: []core.ReportGroup{{Field: "stage"}},
		Aggregates: []core.ReportAggregate{{Fn: "count"}, {Fn: "sum", Field: "amount"}}}
	rows := [][]any{{int64(0), "prospecting", int64(2), "4000.00"}, {int64(0), "closed_won", int64(1), "5000.00"},
		{int64(1), nil, int64(3), "9000.00"}}

	t.Run("AllRows", func(t *testing.T) {
		t.Parallel()
		p := compile(t, d, core.ReportRun{}, nil)
		res := p.NewResult(&core.Report{}, now)
		for _, r := range rows {
			require.True(t, p.AddSummaryRow(res, r))
		}
		require.Equal(t, [][]any{{"prospecting", int64(2), "4000.00"}, {"closed_won", int64(1), "5000.00"}}, res.Rows)
		require.Equal(t, map[string]any{"count": int64(3), "sum_amount": "9000.00"}, res.Totals)
		require.Empty(t, res.Subtotals)
		require.False(t, res.Truncated)
		require.Equal(t, []core.ReportColumn{
			{Key: "stage", Label: "Этап", Type: "text", Labels: core.MergeReportLabels(nil, labelsOf(core.DefaultStagePicklist()))},
			{Key: "count", Label: "Количество", Type: "integer"},
			{Key: "sum_amount", Label: "Сумма: Сумма", Type: "money"},
		}, res.Columns)
	})

	t.Run("CutAtTheLimit", func(t *testing.T) {
		t.Parallel()
		p := compile(t, d, core.ReportRun{Limit: 2}, nil)
		res := p.NewResult(&core.Report{}, now)
		require.True(t, p.AddSummaryRow(res, rows[0]))
		require.True(t, p.AddSummaryRow(res, rows[1]))
		require.False(t, p.AddSummaryRow(res, rows[2]))
		require.True(t, res.Truncated)
		require.Len(t, res.Rows, 2)
	})
}

// TestSummaryLeavesOutWhatDoesNotAddUp: the funnel's reached amounts add
// up within a stage only, so the grand total over stages leaves them out.
func TestSummaryLeavesOutWhatDoesNotAddUp(t *testing.T) {
	t.Parallel()
	p := compile(t, core.ReportDefinition{Entity: "deal_funnel", GroupBy: []core.ReportGroup{{Field: "stage"}},
		Aggregates: []core.ReportAggregate{{Fn: "count", Field: "in_stage"}, {Fn: "sum", Field: "reached_amount"}}}, core.ReportRun{}, nil)
	require.Empty(t, p.Errors())
	res := p.NewResult(&core.Report{}, now)
	p.AddSummaryRow(res, []any{int64(0), "prospecting", int64(1), "3000.00"})
	p.AddSummaryRow(res, []any{int64(0), "qualification", int64(1), "2000.00"})
	p.AddSummaryRow(res, []any{int64(1), nil, int64(2), "5000.00"})
	require.Equal(t, [][]any{{"prospecting", int64(1), "3000.00"}, {"qualification", int64(1), "2000.00"}}, res.Rows)
	require.Equal(t, map[string]any{"count_in_stage": int64(2)}, res.Totals)
}

// TestDetailSubtotals: a grouped detail report's subtotals follow the
// last row of their group; one whose group's rows were cut goes last.
func TestDetailSubtotals(t *testing.T) {
	t.Parallel()
	p := compile(t, core.ReportDefinition{Entity: "deal", Columns: []string{"name"}, GroupBy: []core.ReportGroup{{Field: "stage"}},
		Aggregates: []core.ReportAggregate{{Fn: "sum", Field: "amount"}}}, core.ReportRun{Limit: 3}, nil)
	require.Empty(t, p.Errors())
	require.True(t, p.HasDetail())
	require.True(t, p.HasSummary())
	require.Equal(t, "SELECT t0.name, t0.stage FROM deals t0 WHERE t0.deleted_at IS NULL ORDER BY "+
		"(SELECT o FROM pipelines p, jsonb_array_elements(p.stages) WITH ORDINALITY s(v, o)\n\t\t\t\tWHERE p.id = t0.pipeline_id "+
		"AND v->>'code' = t0.stage LIMIT 1) ASC NULLS LAST, t0.stage ASC NULLS LAST, t0.id LIMIT 4", p.DetailSQL())
	res := p.NewResult(&core.Report{}, now)
	require.Equal(t, []string{"name"}, columnKeys(res.Columns))

	for _, r := range [][]any{{"А", "prospecting"}, {"Б", "closed_won"}, {"В", "closed_won"}} {
		require.True(t, p.AddDetailRow(res, r))
	}
	require.False(t, p.AddDetailRow(res, []any{"Г", "closed_lost"}))
	require.True(t, res.Truncated)
	for _, r := range [][]any{{int64(0), "prospecting", "4000.00"}, {int64(0), "closed_lost", "2000.00"},
		{int64(1), nil, "6000.00"}} {
		require.True(t, p.AddSummaryRow(res, r))
	}
	p.PlaceSubtotals(res)
	require.Equal(t, [][]any{{"А"}, {"Б"}, {"В"}}, res.Rows)
	require.Equal(t, []core.ReportSubtotal{
		{Level: 1, Keys: []any{"prospecting"}, Values: map[string]any{"sum_amount": "4000.00"}, AfterRow: 1},
		{Level: 1, Keys: []any{"closed_lost"}, Values: map[string]any{"sum_amount": "2000.00"}, AfterRow: 3},
	}, res.Subtotals)
	require.Equal(t, map[string]any{"sum_amount": "6000.00"}, res.Totals)
}

// TestLiveLabels: a column whose field reads its labels when the report
// runs gets them over the registry's, each query read once; the registry
// keeps its own.
func TestLiveLabels(t *testing.T) {
	t.Parallel()
	d := core.ReportDefinition{Entity: "deal", Columns: []string{"stage", "name", "stage"}}

	t.Run("Merged", func(t *testing.T) {
		t.Parallel()
		p := compile(t, d, core.ReportRun{}, nil)
		res := p.NewResult(&core.Report{}, now)
		reads := 0
		require.NoError(t, p.LiveLabels(res, func(query string) (map[string]string, error) {
			reads++
			require.Contains(t, query, "FROM pipelines")
			return map[string]string{"prospecting": "Поиск", "tender": "Тендер"}, nil
		}))
		require.Equal(t, 1, reads)
		for _, i := range []int{0, 2} {
			require.Equal(t, "Поиск", res.Columns[i].Labels["prospecting"])
			require.Equal(t, "Тендер", res.Columns[i].Labels["tender"])
			require.Equal(t, "Закрыта удачно", res.Columns[i].Labels["closed_won"])
		}
		require.Empty(t, res.Columns[1].Labels)
		again := compile(t, d, core.ReportRun{}, nil).NewResult(&core.Report{}, now)
		require.Equal(t, "Переговоры", again.Columns[0].Labels["prospecting"])
		require.NotContains(t, again.Columns[0].Labels, "tender")
	})

	t.Run("ReadFails", func(t *testing.T) {
		t.Parallel()
		p := compile(t, d, core.ReportRun{}, nil)
		failed := errors.New("connection lost")
		err := p.LiveLabels(p.NewResult(&core.Report{}, now), func(string) (map[string]string, error) { return nil, failed })
		require.ErrorIs(t, err, failed)
	})
}

// TestCatalog: the registry in name order, a live-labelled field's labels
// read once for every field that shares the query.
func TestCatalog(t *testing.T) {
	t.Parallel()
	reads := 0
	info, err := reportsql.NewRegistry().Catalog(func(string) (map[string]string, error) {
		reads++
		return map[string]string{"tender": "Тендер"}, nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, reads)
	var names []string
	for _, e := range info {
		names = append(names, e.Name)
	}
	require.Equal(t, []string{"account", "activity", "call", "contact", "deal", "deal_funnel", "invoice", "invoice_line",
		"lead", "payment", "product", "quote", "sales_order", "service", "user"}, names)
	deal := info[4]
	require.Equal(t, "Сделка", deal.Label)
	for _, f := range deal.Fields {
		if f.Key == "stage" {
			require.Equal(t, "Тендер", f.Labels["tender"])
			require.Equal(t, "Переговоры", f.Labels["prospecting"])
		}
	}
	require.Contains(t, deal.Links, core.ReportLinkInfo{Name: "owner", Entity: "user", Label: "Ответственный"})

	failed := errors.New("connection lost")
	_, err = reportsql.NewRegistry().Catalog(func(string) (map[string]string, error) { return nil, failed })
	require.ErrorIs(t, err, failed)
}

func labelsOf(p *core.Picklist) map[string]string {
	m := map[string]string{}
	for _, c := range p.Choices {
		m[c.Code] = c.RU
	}
	return m
}
