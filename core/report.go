package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sync"
	"time"
)

// EntityReport names report definitions in events and errors.
const EntityReport = "report"

// Report limits: a definition is small, and so is what it may ask for.
const (
	MaxReportRelated    = 2
	MaxReportColumns    = 50
	MaxReportGroups     = 3
	MaxReportAggregates = 10
	MaxReportConditions = 50
	MaxReportSort       = 5
	MaxReportParameters = 10
)

// Report is a stored report definition («Отчёт»): what to select, from
// which entity and its links, grouped and summed how, charted how.
type Report struct {
	Record
	Name        string `json:"name"`
	Slug        string `json:"slug"` // stable name for scripts; "" for none
	Description string `json:"description"`
	ReportDefinition
}

// ReportDefinition is the query part of a report, as JSON:
//
//	{"entity": "invoice", "related": ["account"], "columns": ["number", "account.name"],
//	 "filters": {"op": "and", "conditions": [{"field": "status", "operator": "not_in", "value": ["cancelled"]}]},
//	 "date_field": "date", "group_by": [{"field": "date", "date_part": "month"}],
//	 "aggregates": [{"fn": "sum", "field": "grand_total"}], "sort": ["-grand_total"], "chart": {"type": "bar"}}
type ReportDefinition struct {
	// Entity is the primary entity (lead, contact, account, deal,
	// deal_funnel, activity, quote, sales_order, invoice, invoice_line,
	// payment, product, call). A deal_funnel row is a deal at an open stage
	// it is in now or got to, as the funnel counts it (FunnelStage).
	Entity string `json:"entity"`
	// Related are up to two links followed from the entity, as paths:
	// "account", "invoice.account", "owner".
	Related []string `json:"related"`
	// Columns are the detail columns: "last_name", "account.name".
	Columns []string `json:"columns"`
	// Filters select the rows; nil selects all.
	Filters *ReportFilter `json:"filters"`
	// DateField is the date the run's from/to parameters bound.
	DateField string `json:"date_field"`
	// Parameters are conditions the run fills from its query string.
	Parameters []ReportParameter `json:"parameters"`
	GroupBy    []ReportGroup     `json:"group_by"`
	Aggregates []ReportAggregate `json:"aggregates"`
	// Sort keys: a column, a group field or an aggregate ("sum_amount",
	// "count"), "-" first for descending.
	Sort  []string     `json:"sort"`
	Chart *ReportChart `json:"chart"`
}

// ReportFilter is a condition group: conditions (or nested groups) joined
// by op, "and" or "or".
type ReportFilter struct {
	Op         string            `json:"op"`
	Conditions []ReportCondition `json:"conditions"`
}

// ReportCondition is one condition, or a nested group when Op is set.
//
// Operators: equals, not_equals, contains, not_contains, starts_with,
// ends_with, in, not_in, between ([from, to]), greater, greater_or_equal,
// less, less_or_equal, empty, not_empty, and period for dates: a preset
// (today, yesterday, this_week, last_week, this_month, last_month,
// this_quarter, last_quarter, this_year, last_year, last_7_days,
// last_30_days) or {"from": "2026-01-01", "to": "2026-03-31"}.
type ReportCondition struct {
	Field    string          `json:"field,omitempty"`
	Operator string          `json:"operator,omitempty"`
	Value    json.RawMessage `json:"value,omitempty"`
	// A nested group.
	Op         string            `json:"op,omitempty"`
	Conditions []ReportCondition `json:"conditions,omitempty"`
}

// ReportParameter is a condition on Field with Operator whose value comes
// from the run's query parameter Name.
type ReportParameter struct {
	Name     string `json:"name"`
	Field    string `json:"field"`
	Operator string `json:"operator"`
}

// ReportGroup is a grouping level; dates group by DatePart (day, week,
// month, quarter, year).
type ReportGroup struct {
	Field    string `json:"field"`
	DatePart string `json:"date_part,omitempty"`
}

// ReportAggregate is count, sum, avg, min or max of a field (count needs
// none).
type ReportAggregate struct {
	Fn    string `json:"fn"`
	Field string `json:"field,omitempty"`
}

// Key names an aggregate in results and sort keys: "count", "sum_amount".
func (a ReportAggregate) Key() string {
	if a.Field == "" {
		return a.Fn
	}
	return a.Fn + "_" + a.Field
}

// ReportChart draws the first grouping level against up to three
// aggregates (all when none are named). A funnel draws the first of them,
// each group as a share of the first group: chart how many got at least
// this far (deal_funnel's count of reached or sum of reached_amount), not
// how many are there now, for the bands to narrow.
type ReportChart struct {
	Type       string   `json:"type"` // bar, horizontal_bar, line, pie, funnel
	Aggregates []string `json:"aggregates,omitempty"`
}

// Report vocabularies.
var (
	reportOperators = set("equals", "not_equals", "contains", "not_contains", "starts_with", "ends_with", "in", "not_in",
		"between", "greater", "greater_or_equal", "less", "less_or_equal", "empty", "not_empty", "period")
	reportDateParts = set("day", "week", "month", "quarter", "year")
	reportFns       = set("count", "sum", "avg", "min", "max")
	reportCharts    = set("bar", "horizontal_bar", "line", "pie", "funnel")
	slugPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// ValidReportOperator reports whether op is a condition operator.
func ValidReportOperator(op string) bool { return reportOperators[op] }

// ReportSchema returns the writable fields of a report.
func ReportSchema() *Schema[Report] { return reportSchema() }

var reportSchema = sync.OnceValue(func() *Schema[Report] {
	def := func(r *Report) *ReportDefinition { return &r.ReportDefinition }
	return NewSchema[Report]("id", "created_at", "updated_at", "version").
		Field("owner_id", ID(func(r *Report) *string { return &r.OwnerID })).
		Field("name", Text(200, false, func(r *Report) *string { return &r.Name })).
		Field("slug", Normalized("invalid_slug", "must be 1 to 63 of a-z, 0-9 and -", func(s string) (string, bool) {
			return s, s == "" || slugPattern.MatchString(s)
		}, func(r *Report) *string { return &r.Slug })).
		Field("description", Text(4000, true, func(r *Report) *string { return &r.Description })).
		Field("entity", Text(50, false, func(r *Report) *string { return &def(r).Entity })).
		Field("related", JSONValue(func(r *Report) *[]string { return &def(r).Related })).
		Field("columns", JSONValue(func(r *Report) *[]string { return &def(r).Columns })).
		Field("filters", JSONValue(func(r *Report) **ReportFilter { return &def(r).Filters })).
		Field("date_field", Text(100, false, func(r *Report) *string { return &def(r).DateField })).
		Field("parameters", JSONValue(func(r *Report) *[]ReportParameter { return &def(r).Parameters })).
		Field("group_by", JSONValue(func(r *Report) *[]ReportGroup { return &def(r).GroupBy })).
		Field("aggregates", JSONValue(func(r *Report) *[]ReportAggregate { return &def(r).Aggregates })).
		Field("sort", JSONValue(func(r *Report) *[]string { return &def(r).Sort })).
		Field("chart", JSONValue(func(r *Report) **ReportChart { return &def(r).Chart }))
})

// JSONValue sets a field from its JSON as is (unknown keys refused); null
// resets it.
func JSONValue[T, V any](field func(*T) *V) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		var v V
		if isNull(raw) {
			*field(rec) = v
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return fail(path, "invalid_type", "does not have the expected shape: "+jsonProblem(err))
		}
		if sub, code := JSONTextProblem(raw); code != "" {
			return []FieldError{TextFieldError(path+sub, code)}
		}
		*field(rec) = v
		return nil
	}
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s must be %s", te.Field, te.Type)
		}
		return fmt.Sprintf("must be %s", te.Type)
	}
	return err.Error()
}

// Validate checks a report's name and the shape of its definition (the
// fields it names are checked against the entity when it is stored).
func (r *Report) Validate() error {
	var errs []FieldError
	if r.Name == "" {
		errs = append(errs, FieldError{Field: "name", Code: "required", Message: "is required"})
	}
	errs = append(errs, r.ReportDefinition.Check()...)
	return Invalid(errs)
}

// Check returns what is wrong with a definition's shape: counts, the
// vocabularies of operators, date parts, functions and charts.
func (d *ReportDefinition) Check() []FieldError {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	if d.Entity == "" {
		bad("entity", "required", "is required")
	}
	if len(d.Related) > MaxReportRelated {
		bad("related", "too_many", fmt.Sprintf("at most %d related entities", MaxReportRelated))
	}
	if len(d.Columns) > MaxReportColumns {
		bad("columns", "too_many", fmt.Sprintf("at most %d columns", MaxReportColumns))
	}
	if len(d.GroupBy) > MaxReportGroups {
		bad("group_by", "too_many", fmt.Sprintf("at most %d grouping levels", MaxReportGroups))
	}
	if len(d.Aggregates) > MaxReportAggregates {
		bad("aggregates", "too_many", fmt.Sprintf("at most %d aggregates", MaxReportAggregates))
	}
	if len(d.Sort) > MaxReportSort {
		bad("sort", "too_many", fmt.Sprintf("at most %d sort keys", MaxReportSort))
	}
	if len(d.Parameters) > MaxReportParameters {
		bad("parameters", "too_many", fmt.Sprintf("at most %d parameters", MaxReportParameters))
	}
	if len(d.Columns) == 0 && len(d.GroupBy) == 0 && len(d.Aggregates) == 0 {
		bad("columns", "required", "a report needs columns, a grouping or aggregates")
	}
	for i, g := range d.GroupBy {
		if g.DatePart != "" && !reportDateParts[g.DatePart] {
			bad(fmt.Sprintf("group_by[%d].date_part", i), "invalid_choice", "must be day, week, month, quarter or year")
		}
	}
	for i, a := range d.Aggregates {
		f := fmt.Sprintf("aggregates[%d]", i)
		switch {
		case !reportFns[a.Fn]:
			bad(f+".fn", "invalid_choice", "must be count, sum, avg, min or max")
		case a.Fn != "count" && a.Field == "":
			bad(f+".field", "required", a.Fn+" needs a field")
		}
	}
	for i, p := range d.Parameters {
		f := fmt.Sprintf("parameters[%d]", i)
		if !slugPattern.MatchString(p.Name) || p.Name == "from" || p.Name == "to" || p.Name == "format" || p.Name == "limit" {
			bad(f+".name", "invalid", "must be 1 to 63 of a-z, 0-9 and -, not from, to, format or limit")
		}
		if !reportOperators[p.Operator] {
			bad(f+".operator", "unknown_operator", fmt.Sprintf("%q is not an operator", p.Operator))
		}
	}
	if d.Filters != nil {
		n := 0
		checkFilter(d.Filters.Op, d.Filters.Conditions, "filters", 0, &n, bad)
	}
	if c := d.Chart; c != nil {
		if !reportCharts[c.Type] {
			bad("chart.type", "invalid_choice", "must be bar, horizontal_bar, line, pie or funnel")
		}
		if len(d.GroupBy) == 0 {
			bad("chart", "needs_group", "a chart draws a grouping: set group_by")
		}
		if len(c.Aggregates) > 3 {
			bad("chart.aggregates", "too_many", "at most 3 aggregates")
		}
	}
	return errs
}

func checkFilter(op string, conds []ReportCondition, path string, depth int, n *int, bad func(field, code, msg string)) {
	if op != "and" && op != "or" {
		bad(path+".op", "invalid_choice", "must be and or or")
	}
	if depth > 3 {
		bad(path, "too_deep", "condition groups nest at most 3 deep")
		return
	}
	for i, c := range conds {
		f := fmt.Sprintf("%s.conditions[%d]", path, i)
		if *n++; *n > MaxReportConditions {
			bad(f, "too_many", fmt.Sprintf("at most %d conditions", MaxReportConditions))
			return
		}
		if c.Op != "" || len(c.Conditions) > 0 {
			checkFilter(c.Op, c.Conditions, f, depth+1, n, bad)
			continue
		}
		if c.Field == "" {
			bad(f+".field", "required", "is required")
		}
		if !reportOperators[c.Operator] {
			bad(f+".operator", "unknown_operator", fmt.Sprintf("%q is not an operator", c.Operator))
		}
		if sub, code := JSONTextProblem(c.Value); code != "" {
			fe := TextFieldError(f+".value"+sub, code)
			bad(fe.Field, fe.Code, fe.Message)
		}
	}
}

// Period resolves a date preset at now in loc: [from, to) as dates
// (to exclusive). Weeks start on Monday, quarters are calendar quarters.
func Period(preset string, now time.Time, loc *time.Location) (from, to time.Time, ok bool) {
	t := now.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	month := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	quarter := time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	switch preset {
	case "today":
		return day, day.AddDate(0, 0, 1), true
	case "yesterday":
		return day.AddDate(0, 0, -1), day, true
	case "this_week":
		return monday, monday.AddDate(0, 0, 7), true
	case "last_week":
		return monday.AddDate(0, 0, -7), monday, true
	case "this_month":
		return month, month.AddDate(0, 1, 0), true
	case "last_month":
		return month.AddDate(0, -1, 0), month, true
	case "this_quarter":
		return quarter, quarter.AddDate(0, 3, 0), true
	case "last_quarter":
		return quarter.AddDate(0, -3, 0), quarter, true
	case "this_year":
		return year, year.AddDate(1, 0, 0), true
	case "last_year":
		return year.AddDate(-1, 0, 0), year, true
	case "last_7_days":
		return day.AddDate(0, 0, -6), day.AddDate(0, 0, 1), true
	case "last_30_days":
		return day.AddDate(0, 0, -29), day.AddDate(0, 0, 1), true
	}
	return time.Time{}, time.Time{}, false
}

// ReportColumn describes a result column.
type ReportColumn struct {
	Key   string `json:"key"`   // "account.name", "sum_amount"
	Label string `json:"label"` // for people
	// Type: text, integer, number, money, date, datetime, boolean, id.
	Type string `json:"type"`
	// DatePart is a date group's period (day, week, month, quarter, year):
	// its value is the period's first day.
	DatePart string `json:"date_part,omitempty"`
	// Labels name a picklist column's codes for people.
	Labels map[string]string `json:"labels,omitempty"`
}

// ReportSubtotal is one group's aggregates at a grouping level (1 is the
// outermost): Keys holds the values of levels 1..Level. Subtotals are
// listed in print order; AfterRow says how many rows precede it (a
// subtotal follows its group's rows).
type ReportSubtotal struct {
	Level    int            `json:"level"`
	Keys     []any          `json:"keys"`
	Values   map[string]any `json:"values"`
	AfterRow int            `json:"after_row"`
}

// ReportResult is a report's run: typed columns, rows (detail rows, or
// one row per innermost group), subtotals per group level, totals.
type ReportResult struct {
	ReportID   string            `json:"report_id,omitempty"`
	Slug       string            `json:"slug,omitempty"`
	Name       string            `json:"name"`
	Entity     string            `json:"entity"`
	Parameters map[string]string `json:"parameters"`
	RanAt      time.Time         `json:"ran_at"`
	Columns    []ReportColumn    `json:"columns"`
	Rows       [][]any           `json:"rows"`
	Subtotals  []ReportSubtotal  `json:"subtotals"`
	Totals     map[string]any    `json:"totals"`
	// Groups and Aggregates are the keys of the group and aggregate
	// columns (a chart draws Groups[0] against Aggregates).
	Groups     []string     `json:"groups"`
	Aggregates []string     `json:"aggregates"`
	Chart      *ReportChart `json:"chart"`
	Truncated  bool         `json:"truncated"` // more rows than the row limit
}

// ReportRun asks for a run: the date range on the definition's date field
// (from inclusive, to inclusive, as dates) and its parameters.
type ReportRun struct {
	From, To   *time.Time
	Parameters map[string]string
	Limit      int // rows; 0: the configured limit
}

// Check returns what is wrong with the run's parameters as text (a NUL,
// a control character, invalid UTF-8), whatever brought them: a query,
// a schedule, the command line.
func (r ReportRun) Check() []FieldError {
	var errs []FieldError
	for _, name := range slices.Sorted(maps.Keys(r.Parameters)) {
		if code := TextProblem(name, false); code != "" {
			errs = append(errs, TextFieldError("parameters", code))
		} else if code := TextProblem(r.Parameters[name], false); code != "" {
			errs = append(errs, TextFieldError(name, code))
		}
	}
	return errs
}

// ReportEntityInfo is what a report may name of an entity: its fields
// and its links to others (for "related" and "link.field" keys).
type ReportEntityInfo struct {
	Name   string            `json:"name"`
	Label  string            `json:"label"`
	Fields []ReportFieldInfo `json:"fields"`
	Links  []ReportLinkInfo  `json:"links"`
}

// ReportFieldInfo is a field a report may show, filter, group and
// aggregate; Labels name a picklist field's codes.
type ReportFieldInfo struct {
	Key    string            `json:"key"`
	Label  string            `json:"label"`
	Type   string            `json:"type"` // text, integer, number, money, date, datetime, boolean, id
	Labels map[string]string `json:"labels,omitempty"`
}

// ReportLinkInfo is a link from an entity to another.
type ReportLinkInfo struct {
	Name   string `json:"name"`
	Entity string `json:"entity"`
	Label  string `json:"label"`
}

// ReportService keeps report definitions and runs them.
type ReportService interface {
	Repository[Report]
	// Catalog lists the entities a report may start from or link to, with
	// their fields and links, as the compiler accepts them.
	Catalog(ctx context.Context) ([]ReportEntityInfo, error)
	List(ctx context.Context, f ListParams) (Page[Report], error)
	// Find returns a stored report by id or slug, or a standard one by
	// its slug. Errors: ENOTFOUND.
	Find(ctx context.Context, idOrSlug string) (*Report, error)
	// Run runs a definition. Errors: EINVALID (naming the field, operator
	// or parameter), EUNAVAILABLE when the statement timeout cuts it.
	Run(ctx context.Context, r *Report, run ReportRun) (*ReportResult, error)
}
