package core

import (
	"encoding/json"
	"sync"
)

// The standard reports, shipped with stable slugs: one is read and run by
// its slug in place of an id, so a slug never changes.

func cond(field, op string, value any) ReportCondition {
	c := ReportCondition{Field: field, Operator: op}
	if value != nil {
		c.Value, _ = json.Marshal(value)
	}
	return c
}

func and(conds ...ReportCondition) *ReportFilter { return &ReportFilter{Op: "and", Conditions: conds} }

var standardReports = sync.OnceValue(func() []Report {
	std := func(slug, name, desc string, d ReportDefinition) Report {
		return Report{Slug: slug, Name: name, Description: desc, ReportDefinition: d}
	}
	count := ReportAggregate{Fn: "count"}
	sum := func(f string) ReportAggregate { return ReportAggregate{Fn: "sum", Field: f} }
	return []Report{
		std("leads-by-source", "Обращения по источникам", "Leads grouped by source.", ReportDefinition{
			Entity: "lead", DateField: "created_at", GroupBy: []ReportGroup{{Field: "source"}},
			Aggregates: []ReportAggregate{count}, Sort: []string{"-count"},
			Parameters: []ReportParameter{{Name: "owner", Field: "owner_id", Operator: "equals"}},
			Chart:      &ReportChart{Type: "pie"}}),
		std("lead-status", "Обращения по статусам", "Leads grouped by status.", ReportDefinition{
			Entity: "lead", DateField: "created_at", GroupBy: []ReportGroup{{Field: "status"}},
			Aggregates: []ReportAggregate{count}, Sort: []string{"-count"},
			Parameters: []ReportParameter{{Name: "owner", Field: "owner_id", Operator: "equals"}},
			Chart:      &ReportChart{Type: "bar"}}),
		std("deal-pipeline", "Воронка сделок", "Open stages in pipeline order: the open deals in each now (count, amount, "+
			"amount weighted by probability) and the deals that got at least that far (count, amount: won deals went all the way, "+
			"lost ones as far as they got), as GET /funnel counts them; the funnel chart draws the amount that got that far.",
			ReportDefinition{Entity: "deal_funnel", DateField: "close_date",
				GroupBy: []ReportGroup{{Field: "stage"}},
				Aggregates: []ReportAggregate{{Fn: "count", Field: "in_stage"}, sum("in_stage_amount"), sum("in_stage_weighted_amount"),
					{Fn: "count", Field: "reached"}, sum("reached_amount")},
				Parameters: []ReportParameter{{Name: "owner", Field: "owner_id", Operator: "equals"},
					{Name: "pipeline", Field: "pipeline_id", Operator: "equals"}},
				Chart: &ReportChart{Type: "funnel", Aggregates: []string{"sum_reached_amount"}}}),
		std("closed-deals", "Закрытые сделки", "Won and lost deals by the month they closed.", ReportDefinition{
			Entity: "deal", DateField: "closed_at", Filters: and(cond("stage_kind", "in", []string{"won", "lost"})),
			GroupBy:    []ReportGroup{{Field: "closed_at", DatePart: "month"}, {Field: "stage_kind"}},
			Aggregates: []ReportAggregate{count, sum("amount")},
			Parameters: []ReportParameter{{Name: "owner", Field: "owner_id", Operator: "equals"}},
			Chart:      &ReportChart{Type: "bar", Aggregates: []string{"sum_amount"}}}),
		std("activities", "Активности за этот и прошлый месяц", "Activities changed this month or last, by owner and status.",
			ReportDefinition{Entity: "activity", Related: []string{"owner"}, DateField: "updated_at",
				Filters: &ReportFilter{Op: "or", Conditions: []ReportCondition{
					cond("updated_at", "period", "this_month"), cond("updated_at", "period", "last_month")}},
				GroupBy:    []ReportGroup{{Field: "updated_at", DatePart: "month"}, {Field: "owner.name"}, {Field: "status"}},
				Aggregates: []ReportAggregate{count},
				Parameters: []ReportParameter{{Name: "kind", Field: "kind", Operator: "equals"}}}),
		std("open-quotes", "Открытые предложения", "Quotes not accepted or rejected.", ReportDefinition{
			Entity: "quote", Related: []string{"account"}, DateField: "date",
			Columns:    []string{"number", "date", "subject", "account.name", "status", "valid_until", "grand_total"},
			Filters:    and(cond("status", "not_in", []string{"accepted", "rejected"})),
			Aggregates: []ReportAggregate{count, sum("grand_total")}, Sort: []string{"date", "number"}}),
		std("invoices", "Счета", "Every invoice with its amounts, payments and balance.", ReportDefinition{
			Entity: "invoice", Related: []string{"account"}, DateField: "date",
			Columns:    []string{"number", "date", "account.name", "status", "due_date", "grand_total", "amount_paid", "balance"},
			Aggregates: []ReportAggregate{count, sum("grand_total"), sum("amount_paid"), sum("balance")},
			Parameters: []ReportParameter{{Name: "status", Field: "status", Operator: "in"}},
			Sort:       []string{"date", "number"}}),
		std("unpaid-invoices", "Неоплаченные счета", "Issued invoices with a balance, by days past due (0–30, 31–60, 61–90, 90+).",
			ReportDefinition{Entity: "invoice", Related: []string{"account"}, DateField: "date",
				Columns: []string{"number", "date", "due_date", "account.name", "grand_total", "balance", "overdue_days"},
				Filters: and(cond("balance", "greater", 0),
					cond("status", "not_in", []string{"cancelled", "autocreated", "created", "paid"})),
				GroupBy:    []ReportGroup{{Field: "aging_bucket"}},
				Aggregates: []ReportAggregate{count, sum("balance")},
				Sort:       []string{"-overdue_days"},
				Chart:      &ReportChart{Type: "bar", Aggregates: []string{"sum_balance"}}}),
		std("payments-by-month", "Платежи по месяцам", "Executed payments in and out, by month.", ReportDefinition{
			Entity: "payment", DateField: "date", Filters: and(cond("status", "equals", "executed")),
			GroupBy:    []ReportGroup{{Field: "date", DatePart: "month"}, {Field: "direction"}},
			Aggregates: []ReportAggregate{count, sum("amount")},
			Chart:      &ReportChart{Type: "line", Aggregates: []string{"sum_amount"}}}),
		std("sales-by-product", "Продажи по товарам", "Invoiced quantity and amounts per product or service (cancelled and draft invoices left out).",
			ReportDefinition{Entity: "invoice_line", Related: []string{"invoice"}, DateField: "invoice.date",
				Filters:    and(cond("invoice.status", "not_in", []string{"cancelled", "autocreated", "created"})),
				GroupBy:    []ReportGroup{{Field: "name"}},
				Aggregates: []ReportAggregate{sum("quantity"), sum("net_amount"), sum("total_amount")},
				Sort:       []string{"-sum_total_amount"},
				Chart:      &ReportChart{Type: "horizontal_bar", Aggregates: []string{"sum_total_amount"}}}),
		std("sales-by-owner", "Продажи по менеджерам", "Issued invoices per owner: count, invoiced and paid.", ReportDefinition{
			Entity: "invoice", Related: []string{"owner"}, DateField: "date",
			Filters:    and(cond("status", "not_in", []string{"cancelled", "autocreated", "created"})),
			GroupBy:    []ReportGroup{{Field: "owner.name"}},
			Aggregates: []ReportAggregate{count, sum("grand_total"), sum("amount_paid")},
			Sort:       []string{"-sum_grand_total"},
			Chart:      &ReportChart{Type: "bar", Aggregates: []string{"sum_grand_total", "sum_amount_paid"}}}),
	}
})

// StandardReports are the reports crmhub ships.
func StandardReports() []Report { return standardReports() }

// StandardReport returns the standard report of slug, nil if none.
func StandardReport(slug string) *Report {
	for _, r := range standardReports() {
		if r.Slug == slug {
			r := r
			return &r
		}
	}
	return nil
}
