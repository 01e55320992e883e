package store_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// TestDealPipelineReportIsTheFunnel: the standard funnel report's figures
// are the funnel's (GET /funnel), stage by stage, for deals that skipped
// stages, moved back, were won or lost (from the first stage or later) or
// had no amount, by owner and by pipeline — also once a pipeline's stages
// are reordered so that a deal's stage lies past its furthest one.
func TestDealPipelineReportIsTheFunnel(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	bob, err := s.Users().Create(ctx, patch(t, `{"name":"Боб"}`))
	require.NoError(t, err)
	tenders, err := s.Pipelines().Create(ctx, patch(t, `{"code":"tenders","name":"Тендеры","stages":[
		{"code":"announced","label_ru":"Объявлен","label_en":"Announced","probability":5,"kind":"open"},
		{"code":"bid","label_ru":"Заявка подана","label_en":"Bid","probability":30,"kind":"open"},
		{"code":"review","label_ru":"Рассмотрение","label_en":"Review","probability":60,"kind":"open"},
		{"code":"won","label_ru":"Выигран","label_en":"Won","probability":100,"kind":"won"},
		{"code":"lost","label_ru":"Проигран","label_en":"Lost","probability":0,"kind":"lost"}]}`))
	require.NoError(t, err)
	deal := func(pipeline, amount, owner string, stages ...string) {
		t.Helper()
		body := `{"name":"D"`
		if amount != "" {
			body += `,"amount":"` + amount + `"`
		}
		if owner != "" {
			body += `,"owner_id":"` + owner + `"`
		}
		if pipeline != "" {
			body += `,"pipeline_id":"` + pipeline + `"`
		}
		d, err := s.Deals().Create(ctx, patch(t, body+`}`))
		require.NoError(t, err)
		for _, st := range stages {
			_, err = s.Deals().Update(ctx, d.ID, 0, patch(t, `{"stage":"`+st+`"}`))
			require.NoError(t, err)
		}
	}
	deal("", "100", "")                                                   // stays in prospecting
	deal("", "200", "", "qualification", "needs_analysis")                // in needs_analysis
	deal("", "300", "", "qualification", "closed_won")                    // won: all the way
	deal("", "400", "", "qualification", "needs_analysis", "closed_lost") // lost after needs_analysis
	deal("", "500", bob.ID, "proposal_price_quote")                       // skipped to the proposal
	deal("", "600", bob.ID, "value_proposition", "qualification")         // moved back: reached value_proposition
	deal("", "", "", "closed_lost")                                       // lost in the first stage, no amount
	deal("", "700", bob.ID, "closed_won")                                 // won from the first stage: all the way
	deal(tenders.ID, "1000", "", "review", "bid")                         // reached review, back in bid
	deal(tenders.ID, "2000", bob.ID, "won")
	// Review before bid now: the first tender is in bid, past its furthest stage.
	_, err = s.Pipelines().Update(ctx, tenders.ID, 0, patch(t, `{"stages":[
		{"code":"announced","label_ru":"Объявлен","label_en":"Announced","probability":5,"kind":"open"},
		{"code":"review","label_ru":"Рассмотрение","label_en":"Review","probability":60,"kind":"open"},
		{"code":"bid","label_ru":"Заявка подана","label_en":"Bid","probability":30,"kind":"open"},
		{"code":"won","label_ru":"Выигран","label_en":"Won","probability":100,"kind":"won"},
		{"code":"lost","label_ru":"Проигран","label_en":"Lost","probability":0,"kind":"lost"}]}`))
	require.NoError(t, err)

	def, err := s.Funnel(ctx, core.FunnelFilter{})
	require.NoError(t, err)
	t.Run("DefaultPipeline", func(t *testing.T) {
		requireFunnelReport(t, s, core.FunnelFilter{}, map[string]string{"pipeline": def.PipelineID})
	})
	t.Run("Owner", func(t *testing.T) {
		requireFunnelReport(t, s, core.FunnelFilter{OwnerID: bob.ID}, map[string]string{"pipeline": def.PipelineID, "owner": bob.ID})
	})
	t.Run("ReorderedPipeline", func(t *testing.T) {
		f := requireFunnelReport(t, s, core.FunnelFilter{PipelineID: tenders.ID}, map[string]string{"pipeline": tenders.ID})
		require.EqualValues(t, 1, f.Stages[2].Current.Count, "the first tender is in bid")
		require.EqualValues(t, 1, f.Stages[2].Reached.Count, "only the won one got to bid")
	})
	t.Run("Subtotals", func(t *testing.T) { // reached figures add up over owners, not over stages
		run := func(groups ...string) *core.ReportResult {
			def := core.ReportDefinition{Entity: "deal_funnel", Filters: &core.ReportFilter{Op: "and", Conditions: []core.ReportCondition{
				{Field: "pipeline_id", Operator: "equals", Value: []byte(`"` + def.PipelineID + `"`)}}},
				Aggregates: []core.ReportAggregate{{Fn: "count", Field: "in_stage"}, {Fn: "count", Field: "reached"}}}
			for _, g := range groups {
				def.GroupBy = append(def.GroupBy, core.ReportGroup{Field: g})
			}
			res, err := s.Reports().Run(ctx, &core.Report{Name: "x", ReportDefinition: def}, core.ReportRun{})
			require.NoError(t, err)
			return res
		}
		res := run("stage", "owner_id")
		require.Equal(t, core.ReportSubtotal{Level: 1, Keys: []any{"prospecting"},
			Values: map[string]any{"count_in_stage": int64(1), "count_reached": int64(8)}, AfterRow: 2}, res.Subtotals[0])
		require.Equal(t, map[string]any{"count_in_stage": int64(4)}, res.Totals)
		res = run("owner_id", "stage")
		for _, st := range res.Subtotals {
			require.Equal(t, []string{"count_in_stage"}, slices.Collect(maps.Keys(st.Values)), "an owner's stages rolled up")
		}
		require.Equal(t, map[string]any{"count_in_stage": int64(4)}, res.Totals)
		require.Len(t, res.Subtotals, 2)
	})
	t.Run("Totals", func(t *testing.T) {
		res, err := s.Reports().Run(ctx, core.StandardReport("deal-pipeline"), core.ReportRun{})
		require.NoError(t, err)
		require.Equal(t, map[string]any{"count_in_stage": int64(5), "sum_in_stage_amount": "2400.00",
			"sum_in_stage_weighted_amount": "805.00"}, res.Totals, "the open deals; reached figures do not add up over stages")
	})
}

// requireFunnelReport runs the standard funnel report with params and
// requires its rows to be the funnel of f: a row per stage some deal is in
// or got to, in the pipeline's order, with the funnel's figures.
func requireFunnelReport(t *testing.T, s *store.Store, f core.FunnelFilter, params map[string]string) *core.Funnel {
	t.Helper()
	ctx := apiCtx()
	want, err := s.Funnel(ctx, f)
	require.NoError(t, err)
	res, err := s.Reports().Run(ctx, core.StandardReport("deal-pipeline"), core.ReportRun{Parameters: params})
	require.NoError(t, err)
	var rows [][]any
	for _, st := range want.Stages {
		if st.Current.Count == 0 && st.Reached.Count == 0 {
			continue
		}
		rows = append(rows, []any{st.Code, st.Current.Count, sumOf(st.Current), rowOf(res, st.Code, 3),
			st.Reached.Count, sumOf(st.Reached)})
	}
	require.NotEmpty(t, rows)
	require.Equal(t, rows, res.Rows)
	return want
}

// sumOf is a tally's amount as a report sums it: nothing (null) over no
// deals.
func sumOf(t core.Tally) any {
	if t.Count == 0 {
		return nil
	}
	return t.Amount.StringFixed(2)
}

// rowOf is a report row's cell i for stage code (nil when none): the
// weighted amount, which the funnel does not compute.
func rowOf(res *core.ReportResult, code string, i int) any {
	for _, r := range res.Rows {
		if r[0] == code {
			return r[i]
		}
	}
	return nil
}
