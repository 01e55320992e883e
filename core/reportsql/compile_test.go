package reportsql_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/reportsql"
)

var now = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

func compile(t *testing.T, d core.ReportDefinition, run core.ReportRun, loc *time.Location) *reportsql.Plan {
	t.Helper()
	return reportsql.Compile(reportsql.NewRegistry(), &d, run, reportsql.Options{Now: now, Loc: loc, MaxRows: 100})
}

func value(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestCompileDetail: a detail report joins its link, binds today's date
// once for the field that needs it and the filter's text with its LIKE
// wildcards escaped, sorts stably and asks for one row past the run's
// limit.
func TestCompileDetail(t *testing.T) {
	t.Parallel()
	p := compile(t, core.ReportDefinition{Entity: "invoice", Related: []string{"account"},
		Columns: []string{"number", "account.name", "overdue_days"},
		Filters: &core.ReportFilter{Op: "and", Conditions: []core.ReportCondition{
			{Field: "subject", Operator: "contains", Value: value(t, "50%_off")}}},
		Sort: []string{"-date"}}, core.ReportRun{Limit: 10}, time.UTC)
	require.Empty(t, p.Errors())
	require.True(t, p.HasDetail())
	require.False(t, p.HasSummary())
	require.Equal(t, "SELECT t0.number, t1.name, (greatest(0, ($1::date - coalesce(t0.due_date, t0.date)))::bigint)::bigint "+
		"FROM invoices t0 LEFT JOIN accounts t1 ON t1.id = t0.account_id "+
		"WHERE t0.deleted_at IS NULL AND ((t0.subject ILIKE $2)) ORDER BY t0.date DESC NULLS LAST, t0.id LIMIT 11", p.DetailSQL())
	require.Equal(t, []any{"2026-11-27", `%50\%\_off%`}, p.Args())

	res := p.NewResult(&core.Report{Name: "Счета", ReportDefinition: core.ReportDefinition{Entity: "invoice"}}, now)
	require.Equal(t, []core.ReportColumn{
		{Key: "number", Label: "Номер", Type: "text"},
		{Key: "account.name", Label: "Контрагент: Название", Type: "text"},
		{Key: "overdue_days", Label: "Дней просрочки", Type: "integer"},
	}, res.Columns)
}

// TestCompileSummary: a grouped report truncates times to the month in
// the report's time zone, bounds the run's dates as that zone's
// midnights, turns a list parameter into bound ids, pre-aggregates the
// finest groups and orders the groups under each parent by its subtotal.
func TestCompileSummary(t *testing.T) {
	t.Parallel()
	msk, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	anna, boris := "0190a0a0-0000-7000-8000-000000000001", "0190a0a0-0000-7000-8000-000000000002"
	p := compile(t, core.ReportDefinition{Entity: "deal", DateField: "closed_at",
		GroupBy:    []core.ReportGroup{{Field: "closed_at", DatePart: "month"}, {Field: "source"}},
		Aggregates: []core.ReportAggregate{{Fn: "count"}, {Fn: "avg", Field: "amount"}}, Sort: []string{"-count"},
		Parameters: []core.ReportParameter{{Name: "owner", Field: "owner_id", Operator: "in"}}},
		core.ReportRun{From: &from, To: &to, Parameters: map[string]string{"owner": anna + "," + boris}}, msk)
	require.Empty(t, p.Errors())
	require.False(t, p.HasDetail())
	require.True(t, p.HasSummary())
	require.Equal(t, "SELECT GROUPING(g1, g2), (s.g1)::text, s.g2, (coalesce(sum(s.p1), 0)::bigint)::bigint, "+
		"round(sum(s.p2) / nullif(sum(s.c2), 0), 2)::text "+
		"FROM (SELECT g1, g2, count(*) AS p1, sum(a2) AS p2, count(a2) AS c2 "+
		"FROM (SELECT date_trunc('month', t0.closed_at AT TIME ZONE $1)::date AS g1, t0.source AS g2, t0.amount AS a2 "+
		"FROM deals t0 WHERE t0.deleted_at IS NULL AND t0.closed_at >= $2::timestamptz AND t0.closed_at < $3::timestamptz "+
		"AND (t0.owner_id IN ($4::uuid, $5::uuid))) r GROUP BY g1, g2) s GROUP BY ROLLUP (g1, g2) "+
		"ORDER BY GROUPING(g1), max(CASE WHEN GROUPING(g2) = 1 THEN coalesce(sum(s.p1), 0)::bigint END) "+
		"OVER (PARTITION BY g1, GROUPING(g1)) DESC NULLS LAST, g1 ASC NULLS LAST, "+
		"GROUPING(g2), coalesce(sum(s.p1), 0)::bigint DESC NULLS LAST, g2 ASC NULLS LAST LIMIT 101", p.SummarySQL())
	require.Equal(t, []any{"Europe/Moscow", time.Date(2026, 1, 1, 0, 0, 0, 0, msk), time.Date(2026, 4, 1, 0, 0, 0, 0, msk), anna, boris},
		p.Args())

	res := p.NewResult(&core.Report{Name: "Сделки"}, now)
	require.Equal(t, map[string]string{"from": "2026-01-01", "to": "2026-03-31", "owner": anna + "," + boris}, res.Parameters)
	require.Equal(t, []string{"closed_at:month", "source"}, res.Groups)
	require.Equal(t, []string{"count", "avg_amount"}, res.Aggregates)
	require.Equal(t, []string{"closed_at:month", "source", "count", "avg_amount"}, columnKeys(res.Columns))
	require.Equal(t, "Среднее: Сумма", res.Columns[3].Label)
	require.Equal(t, "Партнер", res.Columns[1].Labels["partner"]) // the lead sources picklist
}

// TestCompileTotalOnly: aggregates without a grouping are one total row.
func TestCompileTotalOnly(t *testing.T) {
	t.Parallel()
	p := compile(t, core.ReportDefinition{Entity: "lead", Aggregates: []core.ReportAggregate{{Fn: "count"}}}, core.ReportRun{}, nil)
	require.Empty(t, p.Errors())
	require.Equal(t, "SELECT 0, (coalesce(sum(s.p1), 0)::bigint)::bigint FROM (SELECT count(*) AS p1 "+
		"FROM (SELECT 1 AS one FROM leads t0 WHERE t0.deleted_at IS NULL) r) s LIMIT 101", p.SummarySQL())
	require.Empty(t, p.Args())
}

// TestCompileErrors: what a definition or a run names wrong comes back
// as field errors, naming where.
func TestCompileErrors(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		d    core.ReportDefinition
		run  core.ReportRun
		want []core.FieldError
	}{
		{"UnknownEntity", core.ReportDefinition{Entity: "planet", Columns: []string{"name"}}, core.ReportRun{},
			[]core.FieldError{{Field: "entity", Code: "unknown_entity"}}},
		{"UnknownFieldAndLink", core.ReportDefinition{Entity: "deal", Related: []string{"pipeline"}, Columns: []string{"name", "colour", "account.name"}},
			core.ReportRun{}, []core.FieldError{{Field: "related[0]", Code: "unknown_link"}, {Field: "columns[1]", Code: "unknown_field"},
				{Field: "columns[2]", Code: "unknown_link"}}},
		{"SumOfText", core.ReportDefinition{Entity: "deal", GroupBy: []core.ReportGroup{{Field: "stage"}},
			Aggregates: []core.ReportAggregate{{Fn: "sum", Field: "name"}}}, core.ReportRun{},
			[]core.FieldError{{Field: "aggregates[0].field", Code: "invalid"}}},
		{"TextOperatorOnAmount", core.ReportDefinition{Entity: "deal", Columns: []string{"name"},
			Filters: &core.ReportFilter{Op: "and", Conditions: []core.ReportCondition{{Field: "amount", Operator: "contains", Value: value(t, "1")}}}},
			core.ReportRun{}, []core.FieldError{{Field: "filters.conditions[0].operator", Code: "invalid_operator"}}},
		{"BadValues", core.ReportDefinition{Entity: "deal", Columns: []string{"name"},
			Filters: &core.ReportFilter{Op: "and", Conditions: []core.ReportCondition{
				{Field: "amount", Operator: "greater", Value: value(t, "много")},
				{Field: "close_date", Operator: "period", Value: value(t, "someday")},
				{Field: "owner_id", Operator: "in", Value: value(t, []string{"anna"})}}}},
			core.ReportRun{}, []core.FieldError{{Field: "filters.conditions[0].value", Code: "invalid"},
				{Field: "filters.conditions[1].value", Code: "unknown_preset"}, {Field: "filters.conditions[2].value[0]", Code: "invalid"}}},
		{"UnknownSortOfSummary", core.ReportDefinition{Entity: "deal", GroupBy: []core.ReportGroup{{Field: "stage"}}, Sort: []string{"-amount"}},
			core.ReportRun{}, []core.FieldError{{Field: "sort[0]", Code: "unknown_sort"}}},
		{"ChartOfAnotherAggregate", core.ReportDefinition{Entity: "deal", GroupBy: []core.ReportGroup{{Field: "stage"}},
			Chart: &core.ReportChart{Type: "bar", Aggregates: []string{"sum_amount"}}},
			core.ReportRun{}, []core.FieldError{{Field: "chart.aggregates[0]", Code: "unknown_aggregate"}}},
		{"RangeWithoutDateField", core.ReportDefinition{Entity: "deal", Columns: []string{"name"}}, core.ReportRun{From: &from},
			[]core.FieldError{{Field: "from", Code: "no_date_field"}}},
		{"UnknownParameter", core.ReportDefinition{Entity: "deal", Columns: []string{"name"},
			Parameters: []core.ReportParameter{{Name: "owner", Field: "boss_id", Operator: "equals"}}},
			core.ReportRun{Parameters: map[string]string{"stage": "won"}},
			[]core.FieldError{{Field: "stage", Code: "unknown_parameter"}, {Field: "parameters[0].field", Code: "unknown_field"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got []core.FieldError
			for _, fe := range compile(t, c.d, c.run, nil).Errors() {
				require.NotEmpty(t, fe.Message, fe.Field)
				got = append(got, core.FieldError{Field: fe.Field, Code: fe.Code})
			}
			require.Equal(t, c.want, got)
		})
	}
}

func TestEscapeLike(t *testing.T) {
	t.Parallel()
	require.Equal(t, `100\% \_ \\ done`, reportsql.EscapeLike(`100% _ \ done`))
}

func columnKeys(cols []core.ReportColumn) []string {
	keys := make([]string, len(cols))
	for i, c := range cols {
		keys[i] = c.Key
	}
	return keys
}
