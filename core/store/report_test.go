package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestStandardReportsCompile(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	for _, rep := range core.StandardReports() {
		res, err := st.Reports().Run(ctx, &rep, core.ReportRun{})
		require.NoError(t, err, rep.Slug)
		require.NotNil(t, res.Totals, rep.Slug)
	}
}

// reportData seeds a small CRM whose reports are computed by hand below.
type reportData struct {
	anna, boris string
	today       time.Time
	month       string // the first day of this month
}

func fields(t *testing.T, m map[string]any) core.Patch {
	t.Helper()
	p := core.Patch{}
	for k, v := range m {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		p[k] = b
	}
	return p
}

func seedReports(t *testing.T, st *store.Store) reportData {
	ctx := context.Background()
	loc := time.UTC
	st.SetReportLimits(0, 0, loc)
	now := time.Now().In(loc)
	d := reportData{today: now, month: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).Format("2006-01-02")}
	user := func(name, email string) string {
		u, err := st.Users().Create(ctx, fields(t, map[string]any{"name": name, "email": email}))
		require.NoError(t, err)
		return u.ID
	}
	d.anna, d.boris = user("Анна", "anna@example.ru"), user("Борис", "boris@example.ru")
	// Leads: cold_call ×3 (Анна 2), partner ×2, no source ×1.
	for i, l := range []struct{ source, status, owner string }{
		{"cold_call", "hot", d.anna}, {"cold_call", "cold", d.anna}, {"cold_call", "cold", d.boris},
		{"partner", "hot", d.boris}, {"partner", "cold", d.anna}, {"", "", d.boris},
	} {
		_, err := st.Leads().Create(ctx, fields(t, map[string]any{"last_name": fmt.Sprint("Лид ", i), "company": "ООО", "source": l.source,
			"status": l.status, "owner_id": l.owner}))
		require.NoError(t, err)
	}
	// Deals: two prospecting (10 %), one in negotiation (80 %), one won, one lost.
	for i, dl := range []struct {
		stage  string
		amount string
	}{{"prospecting", "1000"}, {"prospecting", "3000"}, {"negotiation_review", "10000"}, {"closed_won", "5000"},
		{"closed_lost", "2000"}} {
		_, err := st.Deals().Create(ctx, fields(t, map[string]any{"name": fmt.Sprint("Сделка ", i), "stage": dl.stage,
			"amount": dl.amount, "owner_id": d.anna}))
		require.NoError(t, err)
	}
	// Activities: Анна's tasks not started and completed, Борис's not started.
	for _, a := range []struct{ status, owner string }{{"not_started", d.anna}, {"completed", d.anna}, {"not_started", d.boris}} {
		_, err := st.Activities().Create(ctx, fields(t, map[string]any{"kind": "task", "subject": "Позвонить", "status": a.status,
			"owner_id": a.owner, "start_at": now.Format(time.RFC3339), "due_at": now.Add(24 * time.Hour).Format(time.RFC3339)}))
		require.NoError(t, err)
	}
	// Catalog: a table (1,000 + 22 %) and assembly (500 + 22 %).
	table, err := st.Products().Create(ctx, fields(t, map[string]any{"name": "Стол", "vat_rate": "22", "price": "1000"}))
	require.NoError(t, err)
	work, err := st.Services().Create(ctx, fields(t, map[string]any{"name": "Монтаж", "vat_rate": "22", "price": "500"}))
	require.NoError(t, err)
	line := func(kind, id string, qty int) map[string]any {
		return map[string]any{kind: id, "quantity": fmt.Sprint(qty)}
	}
	// Quotes: created and delivered are open; accepted is not.
	for _, status := range []string{"created", "accepted", "delivered"} {
		_, err := st.Quotes().Create(ctx, fields(t, map[string]any{"status": status, "date": d.month, "owner_id": d.anna,
			"lines": []any{line("product_id", table.ID, 1)}}))
		require.NoError(t, err)
	}
	day := func(days int) string { return now.AddDate(0, 0, days).Format("2006-01-02") }
	invoice := func(owner, status, due string, lines ...map[string]any) *core.Invoice {
		inv, err := st.Invoices().Create(ctx, fields(t, map[string]any{"owner_id": owner, "status": status, "date": day(-120),
			"due_date": due, "lines": lines}))
		require.NoError(t, err)
		return inv
	}
	pay := func(inv *core.Invoice, amount string) {
		_, err := st.Payments().Create(ctx, fields(t, map[string]any{"direction": "incoming", "invoice_id": inv.ID, "amount": amount,
			"date": day(0), "method": "bank_transfer"}))
		require.NoError(t, err)
	}
	invoice(d.anna, "sent", day(-10), line("product_id", table.ID, 2))                                       // 2,440, 10 days late
	i2 := invoice(d.anna, "sent", day(-45), line("product_id", table.ID, 1), line("service_id", work.ID, 2)) // 2,440, 45 days
	pay(i2, "440")                                                                                           // balance 2,000
	invoice(d.boris, "sent", day(-100), line("service_id", work.ID, 1))                                      // 610, 100 days
	i4 := invoice(d.boris, "sent", day(-5), line("product_id", table.ID, 1))                                 // 1,220, paid
	pay(i4, "1220")
	invoice(d.anna, "cancelled", day(-50), line("product_id", table.ID, 5)) // 6,100, cancelled
	invoice(d.anna, "created", day(-50), line("product_id", table.ID, 1))   // 1,220, a draft
	// An outgoing payment in January.
	_, err = st.Payments().Create(ctx, fields(t, map[string]any{"direction": "outgoing", "amount": "300", "date": "2026-01-15",
		"method": "cash"}))
	require.NoError(t, err)
	return d
}

func runStd(t *testing.T, st *store.Store, slug string, run core.ReportRun) *core.ReportResult {
	t.Helper()
	res, err := st.Reports().Run(context.Background(), core.StandardReport(slug), run)
	require.NoError(t, err, slug)
	return res
}

func sub(level int, keys []any, values map[string]any, after int) core.ReportSubtotal {
	return core.ReportSubtotal{Level: level, Keys: keys, Values: values, AfterRow: after}
}

func TestStandardReports(t *testing.T) {
	st := storetest.NewStore(t)
	d := seedReports(t, st)
	m := d.month

	res := runStd(t, st, "leads-by-source", core.ReportRun{})
	require.Equal(t, [][]any{{"cold_call", int64(3)}, {"partner", int64(2)}, {"", int64(1)}}, res.Rows)
	require.Equal(t, map[string]any{"count": int64(6)}, res.Totals)
	require.Len(t, res.Columns, 2)
	require.Equal(t, [3]string{"source", "Источник", "text"}, [3]string{res.Columns[0].Key, res.Columns[0].Label, res.Columns[0].Type})
	require.Equal(t, "Холодный звонок", res.Columns[0].Labels["cold_call"], "codes come with their labels")
	require.Equal(t, core.ReportColumn{Key: "count", Label: "Количество", Type: "integer"}, res.Columns[1])
	res = runStd(t, st, "leads-by-source", core.ReportRun{Parameters: map[string]string{"owner": d.anna}})
	require.Equal(t, [][]any{{"cold_call", int64(2)}, {"partner", int64(1)}}, res.Rows)
	require.Equal(t, map[string]string{"owner": d.anna}, res.Parameters)

	res = runStd(t, st, "lead-status", core.ReportRun{})
	require.Equal(t, [][]any{{"cold", int64(3)}, {"hot", int64(2)}, {"", int64(1)}}, res.Rows)

	// Open stages in pipeline order: the open deals in each now, with
	// weighted amounts (none summed where there are none), and the deals
	// that got that far — the won one all the way, the lost one (closed at
	// once) nowhere.
	res = runStd(t, st, "deal-pipeline", core.ReportRun{})
	require.Equal(t, []string{"count_in_stage", "sum_in_stage_amount", "sum_in_stage_weighted_amount", "count_reached",
		"sum_reached_amount"}, res.Aggregates)
	require.Equal(t, [][]any{{"prospecting", int64(2), "4000.00", "400.00", int64(4), "19000.00"},
		{"qualification", int64(0), nil, nil, int64(2), "15000.00"},
		{"needs_analysis", int64(0), nil, nil, int64(2), "15000.00"},
		{"value_proposition", int64(0), nil, nil, int64(2), "15000.00"},
		{"id_decision_makers", int64(0), nil, nil, int64(2), "15000.00"},
		{"perception_analysis", int64(0), nil, nil, int64(2), "15000.00"},
		{"proposal_price_quote", int64(0), nil, nil, int64(2), "15000.00"},
		{"negotiation_review", int64(1), "10000.00", "8000.00", int64(2), "15000.00"}}, res.Rows)
	require.Equal(t, map[string]any{"count_in_stage": int64(3), "sum_in_stage_amount": "14000.00", "sum_in_stage_weighted_amount": "8400.00"},
		res.Totals, "reached figures do not add up over stages")

	res = runStd(t, st, "closed-deals", core.ReportRun{})
	require.Equal(t, [][]any{{m, "lost", int64(1), "2000.00"}, {m, "won", int64(1), "5000.00"}}, res.Rows)
	require.Equal(t, []core.ReportSubtotal{sub(1, []any{m}, map[string]any{"count": int64(2), "sum_amount": "7000.00"}, 2)}, res.Subtotals)
	require.Equal(t, map[string]any{"count": int64(2), "sum_amount": "7000.00"}, res.Totals)

	res = runStd(t, st, "activities", core.ReportRun{})
	require.Equal(t, [][]any{{m, "Анна", "completed", int64(1)}, {m, "Анна", "not_started", int64(1)},
		{m, "Борис", "not_started", int64(1)}}, res.Rows)
	require.Equal(t, []core.ReportSubtotal{ // each after its group's rows, as a report prints them
		sub(2, []any{m, "Анна"}, map[string]any{"count": int64(2)}, 2),
		sub(2, []any{m, "Борис"}, map[string]any{"count": int64(1)}, 3),
		sub(1, []any{m}, map[string]any{"count": int64(3)}, 3),
	}, res.Subtotals)

	res = runStd(t, st, "open-quotes", core.ReportRun{})
	require.Len(t, res.Rows, 2)
	require.Equal(t, "created", res.Rows[0][4])
	require.Equal(t, "delivered", res.Rows[1][4])
	require.Equal(t, map[string]any{"count": int64(2), "sum_grand_total": "2440.00"}, res.Totals)

	res = runStd(t, st, "invoices", core.ReportRun{})
	require.Len(t, res.Rows, 6)
	require.Equal(t, map[string]any{"count": int64(6), "sum_grand_total": "14030.00", "sum_amount_paid": "1660.00",
		"sum_balance": "12370.00"}, res.Totals)
	res = runStd(t, st, "invoices", core.ReportRun{Parameters: map[string]string{"status": "cancelled,created"}})
	require.Equal(t, map[string]any{"count": int64(2), "sum_grand_total": "7320.00", "sum_amount_paid": "0.00",
		"sum_balance": "7320.00"}, res.Totals)

	// Aging: 10 days late, 45 days (part paid), 100 days; paid, cancelled
	// and draft invoices left out.
	res = runStd(t, st, "unpaid-invoices", core.ReportRun{})
	require.Len(t, res.Rows, 3)
	require.Equal(t, []any{"2440.00", "2440.00", int64(10)}, res.Rows[0][4:])
	require.Equal(t, []any{"2440.00", "2000.00", int64(45)}, res.Rows[1][4:])
	require.Equal(t, []any{"610.00", "610.00", int64(100)}, res.Rows[2][4:])
	require.Equal(t, []core.ReportSubtotal{
		sub(1, []any{"0–30"}, map[string]any{"count": int64(1), "sum_balance": "2440.00"}, 1),
		sub(1, []any{"31–60"}, map[string]any{"count": int64(1), "sum_balance": "2000.00"}, 2),
		sub(1, []any{"90+"}, map[string]any{"count": int64(1), "sum_balance": "610.00"}, 3),
	}, res.Subtotals)
	require.Equal(t, map[string]any{"count": int64(3), "sum_balance": "5050.00"}, res.Totals)

	res = runStd(t, st, "payments-by-month", core.ReportRun{})
	require.Equal(t, [][]any{{"2026-01-01", "outgoing", int64(1), "300.00"}, {m, "incoming", int64(2), "1660.00"}}, res.Rows)
	require.Equal(t, map[string]any{"count": int64(3), "sum_amount": "1960.00"}, res.Totals)
	res = runStd(t, st, "payments-by-month", core.ReportRun{From: ptr(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))})
	require.Equal(t, [][]any{{m, "incoming", int64(2), "1660.00"}}, res.Rows, "from bounds the date field")

	res = runStd(t, st, "sales-by-product", core.ReportRun{})
	require.Equal(t, [][]any{{"Стол", "4", "4000.00", "4880.00"}, {"Монтаж", "3", "1500.00", "1830.00"}}, res.Rows)
	require.Equal(t, map[string]any{"sum_quantity": "7", "sum_net_amount": "5500.00", "sum_total_amount": "6710.00"}, res.Totals)

	res = runStd(t, st, "sales-by-owner", core.ReportRun{})
	require.Equal(t, [][]any{{"Анна", int64(2), "4880.00", "440.00"}, {"Борис", int64(2), "1830.00", "1220.00"}}, res.Rows)
	require.Equal(t, map[string]any{"count": int64(4), "sum_grand_total": "6710.00", "sum_amount_paid": "1660.00"}, res.Totals)
}

// TestReportAggregates checks count of a field, avg, min and max per group,
// in subtotals and in the grand total, against plain SQL over the same rows
// (the summary aggregates the finest groups first, then rolls them up).
func TestReportAggregates(t *testing.T) {
	st := storetest.NewStore(t)
	seedReports(t, st)
	ctx := context.Background()
	rep := &core.Report{Name: "Счета", ReportDefinition: core.ReportDefinition{Entity: "invoice", Related: []string{"owner"},
		GroupBy: []core.ReportGroup{{Field: "owner.name"}, {Field: "status"}},
		Aggregates: []core.ReportAggregate{{Fn: "count"}, {Fn: "count", Field: "due_date"}, {Fn: "avg", Field: "grand_total"},
			{Fn: "min", Field: "grand_total"}, {Fn: "max", Field: "date"}, {Fn: "sum", Field: "balance"}}}}
	res, err := st.Reports().Run(ctx, rep, core.ReportRun{})
	require.NoError(t, err)
	const q = `SELECT %s, count(*), count(i.due_date), to_char(round(avg(i.grand_total), 2), 'FM999999990.00'),
		to_char(min(i.grand_total), 'FM999999990.00'), max(i.date)::text, to_char(sum(i.balance), 'FM999999990.00')
		FROM invoices i LEFT JOIN users u ON u.id = i.owner_id WHERE i.deleted_at IS NULL %s`
	want := func(cols, group string) [][]any {
		rows, err := st.Pool().Query(ctx, fmt.Sprintf(q, cols, group))
		require.NoError(t, err)
		var out [][]any
		for rows.Next() {
			v, err := rows.Values()
			require.NoError(t, err)
			out = append(out, v)
		}
		require.NoError(t, rows.Err())
		return out
	}
	got := func(keys []any, vals map[string]any) []any {
		return append(keys, vals["count"], vals["count_due_date"], vals["avg_grand_total"], vals["min_grand_total"],
			vals["max_date"], vals["sum_balance"])
	}
	require.Equal(t, want("u.name, i.status", "GROUP BY 1, 2 ORDER BY 1, 2"), res.Rows)
	var subs [][]any
	for _, s := range res.Subtotals {
		subs = append(subs, got(s.Keys, s.Values))
	}
	require.Equal(t, want("u.name", "GROUP BY 1 ORDER BY 1"), subs)
	total := want("'total'", "")[0][1:]
	require.Equal(t, total, got(nil, res.Totals))
	require.Equal(t, int64(6), total[0], "the seed's six invoices")
}

// TestReportSortByAggregate: sorting a two-level summary by an aggregate
// orders the owners by their subtotals and each owner's statuses by their
// own sums, every subtotal after its rows.
func TestReportSortByAggregate(t *testing.T) {
	st := storetest.NewStore(t)
	seedReports(t, st)
	ctx := context.Background()
	rep := &core.Report{Name: "Счета", ReportDefinition: core.ReportDefinition{Entity: "invoice", Related: []string{"owner"},
		GroupBy:    []core.ReportGroup{{Field: "owner.name"}, {Field: "status"}},
		Aggregates: []core.ReportAggregate{{Fn: "sum", Field: "grand_total"}}, Sort: []string{"-sum_grand_total"}}}
	res, err := st.Reports().Run(ctx, rep, core.ReportRun{})
	require.NoError(t, err)
	num := func(v any) decimal.Decimal { return decimal.RequireFromString(v.(string)) }
	require.Len(t, res.Subtotals, 2, "two owners")
	a, b := res.Subtotals[0], res.Subtotals[1]
	require.True(t, num(a.Values["sum_grand_total"]).GreaterThanOrEqual(num(b.Values["sum_grand_total"])),
		"owners by their subtotals, descending: %v then %v", a.Values, b.Values)
	require.NotEqual(t, a.Keys[0], b.Keys[0])
	start := 0
	for _, sub := range res.Subtotals {
		rows := res.Rows[start:sub.AfterRow]
		require.NotEmpty(t, rows)
		total := decimal.Zero
		for i, r := range rows {
			require.Equal(t, sub.Keys[0], r[0], "the owner's rows come together, before the subtotal")
			if i > 0 {
				require.True(t, num(rows[i-1][2]).GreaterThanOrEqual(num(r[2])), "statuses by their sums, descending")
			}
			total = total.Add(num(r[2]))
		}
		require.True(t, total.Equal(num(sub.Values["sum_grand_total"])), "the subtotal is its rows' sum")
		start = sub.AfterRow
	}
	require.Equal(t, len(res.Rows), start)
}

// TestReportDetailSortedByAggregate: a detail report's groups follow an
// aggregate sort too, each subtotal right after its own rows.
func TestReportDetailSortedByAggregate(t *testing.T) {
	st := storetest.NewStore(t)
	seedReports(t, st)
	for _, c := range []struct {
		sort  string
		order []any
	}{{"count", []any{"Борис", "Анна"}}, {"-count", []any{"Анна", "Борис"}}, {"-owner.name", []any{"Борис", "Анна"}}} {
		rep := &core.Report{Name: "Счета", ReportDefinition: core.ReportDefinition{Entity: "invoice", Related: []string{"owner"},
			Columns: []string{"number", "owner.name"}, GroupBy: []core.ReportGroup{{Field: "owner.name"}},
			Aggregates: []core.ReportAggregate{{Fn: "count"}}, Sort: []string{c.sort}}}
		res, err := st.Reports().Run(context.Background(), rep, core.ReportRun{})
		require.NoError(t, err, c.sort)
		require.Len(t, res.Subtotals, 2)
		start := 0
		for i, sub := range res.Subtotals {
			require.Equal(t, c.order[i], sub.Keys[0], c.sort)
			require.Equal(t, sub.Values["count"], int64(sub.AfterRow-start), "%s: the subtotal follows its own rows", c.sort)
			for _, r := range res.Rows[start:sub.AfterRow] {
				require.Equal(t, sub.Keys[0], r[1], c.sort)
			}
			start = sub.AfterRow
		}
	}
}

// TestReportOverNoRows: a summary over no rows counts 0 (not null) and
// sums to null, grouped or not.
func TestReportOverNoRows(t *testing.T) {
	st := storetest.NewStore(t)
	st.SetReportLimits(0, 0, time.UTC)
	res := runStd(t, st, "leads-by-source", core.ReportRun{})
	require.Empty(t, res.Rows)
	require.Equal(t, map[string]any{"count": int64(0)}, res.Totals)
	res, err := st.Reports().Run(context.Background(), &core.Report{Name: "Пусто", ReportDefinition: core.ReportDefinition{
		Entity: "invoice", Aggregates: []core.ReportAggregate{{Fn: "count"}, {Fn: "count", Field: "due_date"}, {Fn: "sum", Field: "balance"}}}},
		core.ReportRun{})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"count": int64(0), "count_due_date": int64(0), "sum_balance": nil}, res.Totals)
}

// TestReportStageLabels: a deal stage is named by its pipeline, whichever
// pipeline it is, in a summary and in a detail report.
func TestReportStageLabels(t *testing.T) {
	st := storetest.NewStore(t)
	seedReports(t, st)
	ctx := context.Background()
	tenders, err := st.Pipelines().Create(ctx, fields(t, map[string]any{"code": "tenders", "name": "Тендеры", "stages": []map[string]any{
		{"code": "announced", "label_ru": "Объявлен", "label_en": "Announced", "probability": 5, "kind": "open"},
		{"code": "won", "label_ru": "Выигран", "label_en": "Won", "probability": 100, "kind": "won"},
		{"code": "lost", "label_ru": "Проигран", "label_en": "Lost", "probability": 0, "kind": "lost"}}}))
	require.NoError(t, err)
	_, err = st.Deals().Create(ctx, fields(t, map[string]any{"name": "Тендер", "pipeline_id": tenders.ID, "amount": "100"}))
	require.NoError(t, err)
	for _, def := range []core.ReportDefinition{
		{Entity: "deal", GroupBy: []core.ReportGroup{{Field: "stage"}}, Aggregates: []core.ReportAggregate{{Fn: "count"}}},
		{Entity: "deal", Columns: []string{"name", "stage"}},
	} {
		res, err := st.Reports().Run(ctx, &core.Report{Name: "Этапы", ReportDefinition: def}, core.ReportRun{})
		require.NoError(t, err)
		var labels map[string]string
		for _, c := range res.Columns {
			if c.Key == "stage" {
				labels = c.Labels
			}
		}
		require.Equal(t, "Объявлен", labels["announced"], "the custom pipeline's stage")
		require.Equal(t, "Переговоры/ознакомление", labels["negotiation_review"], "the default pipeline's stages too")
	}
}

func ptr[T any](v T) *T { return &v }

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	require.Equal(t, core.EINVALID, core.ErrorCode(err), err)
	out := map[string]string{}
	for _, f := range core.ErrorFields(err) {
		out[f.Field] = f.Code
	}
	return out
}

func TestReportInjection(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	seedReports(t, st)
	reps := st.Reports()
	run := func(def string) (*core.ReportResult, error) {
		var d core.ReportDefinition
		require.NoError(t, json.Unmarshal([]byte(def), &d), def)
		return reps.Run(ctx, &core.Report{Name: "x", ReportDefinition: d}, core.ReportRun{})
	}
	// Names that are not in the registry are refused, naming where.
	for def, want := range map[string]map[string]string{
		`{"entity":"lead; DROP TABLE leads","columns":["id"]}`:                             {"entity": "unknown_entity"},
		`{"entity":"lead","columns":["last_name; DROP TABLE leads; --"]}`:                  {"columns[0]": "unknown_field"},
		`{"entity":"lead","columns":["(SELECT password FROM users)"]}`:                     {"columns[0]": "unknown_field"},
		`{"entity":"lead","related":["owner) --"],"columns":["id"]}`:                       {"related[0]": "unknown_link"},
		`{"entity":"lead","columns":["account.name"]}`:                                     {"columns[0]": "unknown_link"},
		`{"entity":"lead","columns":["id"],"sort":["-last_name DESC; DELETE FROM leads"]}`: {"sort[0]": "unknown_field"},
		`{"entity":"lead","group_by":[{"field":"source"}],"sort":["count(*)"]}`:            {"sort[0]": "unknown_sort"},
		`{"entity":"lead","group_by":[{"field":"source","date_part":"month'); --"}]}`:      {"group_by[0].date_part": "invalid_choice"},
		`{"entity":"lead","aggregates":[{"fn":"pg_sleep","field":"employees"}]}`:           {"aggregates[0].fn": "invalid_choice"},
		`{"entity":"lead","aggregates":[{"fn":"sum","field":"last_name"}]}`:                {"aggregates[0].field": "invalid"},
		`{"entity":"lead","group_by":[{"field":"source","date_part":"month"}]}`:            {"group_by[0].date_part": "invalid"},
		`{"entity":"lead","columns":["id"],"filters":{"op":"and","conditions":[{"field":"status","operator":"= 'x' OR 1=1 --","value":"x"}]}}`: {
			"filters.conditions[0].operator": "unknown_operator"},
		`{"entity":"lead","columns":["id"],"filters":{"op":"or; --","conditions":[]}}`: {"filters.op": "invalid_choice"},
		`{"entity":"lead","columns":["id"],"filters":{"op":"and","conditions":[{"field":"employees","operator":"greater","value":"1; DROP TABLE leads"}]}}`: {
			"filters.conditions[0].value": "invalid"},
		`{"entity":"lead","columns":["id"],"filters":{"op":"and","conditions":[{"field":"created_at","operator":"period","value":"forever"}]}}`: {
			"filters.conditions[0].value": "unknown_preset"},
		`{"entity":"lead","columns":["id"],"filters":{"op":"and","conditions":[{"field":"employees","operator":"contains","value":"1"}]}}`: {
			"filters.conditions[0].operator": "invalid_operator"},
		`{"entity":"lead","group_by":[{"field":"source"}],"chart":{"type":"bar","aggregates":["sum_x"]}}`: {"chart.aggregates[0]": "unknown_aggregate"},
		`{"entity":"lead","columns":["id"],"chart":{"type":"3d"}}`:                                        {"chart.type": "invalid_choice", "chart": "needs_group"},
	} {
		_, err := run(def)
		require.Equal(t, want, fieldsOf(t, err), def)
	}
	// Values are bind parameters: classic payloads match nothing and harm
	// nothing; LIKE wildcards in a value are taken literally.
	for _, payload := range []string{`' OR '1'='1`, `'; DROP TABLE leads; --`, `x') OR 1=1 --`, `%`, `_`, `\`} {
		for _, op := range []string{"equals", "contains", "starts_with", "ends_with"} {
			res, err := run(fmt.Sprintf(`{"entity":"lead","columns":["last_name"],"filters":{"op":"and","conditions":[{"field":"last_name","operator":%q,"value":%q}]}}`,
				op, payload))
			require.NoError(t, err)
			require.Empty(t, res.Rows, "%s %s", op, payload)
		}
		res, err := run(fmt.Sprintf(`{"entity":"lead","columns":["last_name"],"filters":{"op":"and","conditions":[{"field":"source","operator":"in","value":[%q,"partner"]}]}}`,
			payload))
		require.NoError(t, err)
		require.Len(t, res.Rows, 2)
	}
	var leads int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM leads`).Scan(&leads))
	require.Equal(t, 6, leads, "nothing was dropped or deleted")
}

func TestReportDefinitions(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	d := seedReports(t, st)
	reps := st.Reports()
	// A definition naming an unknown field is a 422 naming it; nothing stored.
	_, err := reps.Create(ctx, fields(t, map[string]any{"name": "Плохой", "entity": "deal", "columns": []string{"name", "amout"}}))
	require.Equal(t, map[string]string{"columns[1]": "unknown_field"}, fieldsOf(t, err))
	_, err = reps.Create(ctx, fields(t, map[string]any{"name": "Занят", "slug": "leads-by-source", "entity": "lead", "columns": []string{"id"}}))
	require.Equal(t, map[string]string{"slug": "reserved"}, fieldsOf(t, err))
	_, err = reps.Create(ctx, fields(t, map[string]any{"name": "Форма", "entity": "lead", "columns": "id"}))
	require.Equal(t, map[string]string{"columns": "invalid_type"}, fieldsOf(t, err))

	// A report of payments with the invoice's account, two links deep.
	rep, err := reps.Create(ctx, fields(t, map[string]any{"name": "Оплаты по контрагентам", "slug": "pay-accounts", "entity": "payment",
		"related": []string{"invoice", "invoice.owner"}, "columns": []string{"amount", "invoice.number", "invoice.owner.name"},
		"filters":    map[string]any{"op": "and", "conditions": []any{map[string]any{"field": "direction", "operator": "equals", "value": "incoming"}}},
		"aggregates": []any{map[string]any{"fn": "sum", "field": "amount"}}, "sort": []string{"-amount"}}))
	require.NoError(t, err)
	found, err := reps.Find(ctx, "pay-accounts")
	require.NoError(t, err)
	require.Equal(t, rep.ID, found.ID)
	res, err := reps.Run(ctx, found, core.ReportRun{})
	require.NoError(t, err)
	require.Equal(t, [][]any{{"1220.00", res.Rows[0][1], "Борис"}, {"440.00", res.Rows[1][1], "Анна"}}, res.Rows)
	require.Equal(t, map[string]any{"sum_amount": "1660.00"}, res.Totals)
	require.Equal(t, "Счёт → Ответственный: Имя", res.Columns[2].Label)
	require.Equal(t, rep.ID, res.ReportID)
	// A third link is one too many.
	_, err = reps.Update(ctx, rep.ID, 0, fields(t, map[string]any{"related": []string{"invoice", "invoice.owner", "account"}}))
	require.Equal(t, map[string]string{"related": "too_many"}, fieldsOf(t, err))
	// Changes are events, like every entity's.
	var events int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox WHERE entity = 'report'`).Scan(&events))
	require.Equal(t, 1, events)
	// The row limit cuts and says so.
	res, err = reps.Run(ctx, core.StandardReport("invoices"), core.ReportRun{Limit: 2})
	require.NoError(t, err)
	require.Len(t, res.Rows, 2)
	require.True(t, res.Truncated)
	// The statement timeout stops a report and says how to help it (here
	// it waits for a lock another transaction holds).
	lock, err := st.Pool().Begin(ctx)
	require.NoError(t, err)
	defer lock.Rollback(ctx)
	_, err = lock.Exec(ctx, `LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	st.SetReportLimits(0, 200*time.Millisecond, time.UTC)
	_, err = reps.Run(ctx, core.StandardReport("unpaid-invoices"), core.ReportRun{})
	require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err), err)
	require.Contains(t, core.ErrorMessage(err), "narrow")
	require.NotEmpty(t, d.anna)
}
