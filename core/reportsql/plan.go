// Package reportsql compiles report definitions into SQL: a definition,
// the run's range and parameters and the registry of what reports may
// name go in; the SQL of the detail and summary queries, their bind
// arguments and the field errors come out. It also shapes the rows those
// queries return into a core.ReportResult.
//
// It is pure: no database, no driver. The store runs the queries (read
// only, within its statement timeout) and the label queries a plan or the
// catalog asks for.
package reportsql

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
)

// Options are what a compile takes from its caller besides the
// definition: the clock and the time zone of the report's dates, and the
// row limit.
type Options struct {
	// Now is the moment the report runs at: today's date and the period
	// presets follow from it.
	Now time.Time
	// Loc is the time zone of the report's dates; nil is UTC.
	Loc *time.Location
	// MaxRows is the most rows a run returns (a run may ask for fewer).
	MaxRows int
	// Access, when set, keeps a user's report to what they may see: the
	// condition on the records of entity at the row prefix ("t0.") that
	// the user reaches ("" none, adding its arguments with arg), and the
	// fields of entity hidden from them. The primary entity's rows are
	// filtered by it; a linked record beyond it joins as empty.
	Access *Access
}

// Access is what the compiler needs of a user's access (core.Access as
// the store applies it).
type Access struct {
	Visible func(entity, row string, arg func(any) string) string
	Hidden  func(entity string) []string
}

// Plan is a compiled report. Its Errors say what the definition or the
// run names wrong; without errors, its queries are ready to run. A plan
// serves one run: shaping the rows keeps state.
type Plan struct {
	c       *compiler
	cols    []rRef
	groups  []planGroup
	aggs    []planAgg
	within  []int // per aggregate, see withinLevels
	where   string
	detail  string // ORDER BY of the detail query
	summary string // ORDER BY of the summary query
	limit   int
	params  map[string]string
	rowKeys [][]any // a detail report's rows' group values
	fetched int     // summary rows read
}

type planGroup struct {
	ref  rRef
	expr string
	part string
	key  string
	typ  string
}

func (g planGroup) ordered() bool { return g.ref.order != "" && g.part == "" }

// sortSQL is what the summary sorts the group by.
func (g planGroup) sortSQL(i int) string {
	if g.ordered() {
		return fmt.Sprintf("min(s.o%d)", i+1)
	}
	return fmt.Sprintf("g%d", i+1)
}

type planAgg struct {
	a   core.ReportAggregate
	ref *rRef
	key string
	typ string
}

// Compile checks a definition and a run against the registry and builds
// their plan; the plan's Errors hold what is wrong.
func Compile(reg Registry, d *core.ReportDefinition, run core.ReportRun, o Options) *Plan {
	if o.Loc == nil {
		o.Loc = time.UTC
	}
	c := newCompiler(reg, d, o.Now, o.Loc, o.Access)
	p := &Plan{c: c, params: map[string]string{}, limit: o.MaxRows}
	if run.Limit > 0 && run.Limit < p.limit {
		p.limit = run.Limit
	}
	for _, fe := range run.Check() {
		c.bad(fe.Field, fe.Code, fe.Message)
	}
	if c.base == nil {
		return p
	}
	p.columns(d.Columns)
	p.groupBy(d.GroupBy)
	p.aggregates(d.Aggregates)
	p.where = strings.Join(p.conditions(d, run), " AND ")
	p.order(d.Sort)
	p.checkChart(d.Chart)
	p.within = p.withinLevels()
	return p
}

// Errors returns what the definition or the run names wrong (nil when
// the plan is ready to run).
func (p *Plan) Errors() []core.FieldError { return p.c.errs }

// Args returns the bind arguments of both queries.
func (p *Plan) Args() []any { return p.c.args }

// HasDetail reports whether the report has detail rows (columns): run
// DetailSQL.
func (p *Plan) HasDetail() bool { return len(p.cols) > 0 }

// HasSummary reports whether the report groups or aggregates: run
// SummarySQL.
func (p *Plan) HasSummary() bool { return len(p.groups) > 0 || len(p.aggs) > 0 }

// columns resolves the detail columns.
func (p *Plan) columns(keys []string) {
	for i, key := range keys {
		if r, ok := p.c.ref(key, fmt.Sprintf("columns[%d]", i)); ok {
			p.cols = append(p.cols, r)
		}
	}
}

// groupBy resolves the grouping levels, a date truncated to its part.
func (p *Plan) groupBy(groups []core.ReportGroup) {
	for i, g := range groups {
		w := fmt.Sprintf("group_by[%d]", i)
		r, ok := p.c.ref(g.Field, w+".field")
		if !ok {
			continue
		}
		expr, ok := p.c.groupExpr(r, g.DatePart, w+".date_part")
		if !ok {
			continue
		}
		pg := planGroup{ref: r, expr: expr, part: g.DatePart, key: g.Field, typ: r.typ}
		if g.DatePart != "" {
			pg.key = g.Field + ":" + g.DatePart
			pg.typ = rDate
		}
		p.groups = append(p.groups, pg)
	}
}

// aggregates resolves the aggregates, checking each function fits its
// field; a grouping without any counts its rows.
func (p *Plan) aggregates(aggs []core.ReportAggregate) {
	for i, a := range aggs {
		pa := planAgg{a: a, key: a.Key(), typ: rInteger}
		if a.Field != "" {
			w := fmt.Sprintf("aggregates[%d].field", i)
			r, ok := p.c.ref(a.Field, w)
			if !ok {
				continue
			}
			numeric := r.typ == rInteger || r.typ == rNumber || r.typ == rMoney
			if (a.Fn == "sum" || a.Fn == "avg") && !numeric {
				p.c.bad(w, "invalid", a.Fn+" needs a number or an amount")
				continue
			}
			if (a.Fn == "min" || a.Fn == "max") && r.typ == rBoolean {
				p.c.bad(w, "invalid", a.Fn+" of a yes/no field")
				continue
			}
			pa.ref = &r
			pa.typ = aggType(a.Fn, r.typ)
		}
		p.aggs = append(p.aggs, pa)
	}
	if len(p.groups) > 0 && len(p.aggs) == 0 {
		p.aggs = []planAgg{{a: core.ReportAggregate{Fn: "count"}, key: "count", typ: rInteger}}
	}
}

// conditions are the WHERE clause's: live records, the filters, the run's
// range and parameters.
func (p *Plan) conditions(d *core.ReportDefinition, run core.ReportRun) []string {
	c := p.c
	var where []string
	if c.base.live != "" {
		where = append(where, fmt.Sprintf(c.base.live, "t0"))
	}
	if v := c.visible(c.base, "t0"); v != "" {
		where = append(where, v)
	}
	if f := c.filter(d.Filters, "filters"); f != "" {
		where = append(where, "("+f+")")
	}
	if sql := p.dateRange(d, run); sql != "" {
		where = append(where, sql)
	}
	return append(where, p.parameters(d, run)...)
}

// dateRange bounds the definition's date field by the run's from and to
// (dates, both inclusive); without them it only checks the field.
func (p *Plan) dateRange(d *core.ReportDefinition, run core.ReportRun) string {
	c := p.c
	if run.From == nil && run.To == nil {
		if d.DateField != "" {
			c.ref(d.DateField, "date_field")
		}
		return ""
	}
	if d.DateField == "" {
		c.bad("from", "no_date_field", "this report has no date_field to bound")
		return ""
	}
	r, ok := c.ref(d.DateField, "date_field")
	if !ok {
		return ""
	}
	from, to := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if run.From != nil {
		from = *run.From
		p.params["from"] = from.Format("2006-01-02")
	}
	if run.To != nil {
		to = run.To.AddDate(0, 0, 1)
		p.params["to"] = run.To.Format("2006-01-02")
	}
	if r.typ != rDate && r.typ != rDatetime {
		c.bad("date_field", "invalid", "must be a date or a time")
		return ""
	}
	return c.rangeSQL(r, from, to)
}

// parameters are the conditions of the run's parameters, in name order
// (a list operator's value is comma-separated); a declared parameter
// must name a real field even when the run leaves it out.
func (p *Plan) parameters(d *core.ReportDefinition, run core.ReportRun) []string {
	c := p.c
	declared := map[string]core.ReportParameter{}
	for _, prm := range d.Parameters {
		declared[prm.Name] = prm
	}
	var where []string
	for _, n := range slices.Sorted(maps.Keys(run.Parameters)) {
		v := run.Parameters[n]
		prm, ok := declared[n]
		if !ok {
			c.bad(n, "unknown_parameter", "is not a parameter of this report")
			continue
		}
		var raw json.RawMessage
		if prm.Operator == "in" || prm.Operator == "not_in" || prm.Operator == "between" {
			raw, _ = json.Marshal(strings.Split(v, ","))
		} else {
			raw, _ = json.Marshal(v)
		}
		if sql := c.condition(prm.Field, prm.Operator, raw, n); sql != "" {
			where = append(where, "("+sql+")")
		}
		p.params[n] = v
	}
	for i, prm := range d.Parameters {
		if _, given := run.Parameters[prm.Name]; !given {
			c.ref(prm.Field, fmt.Sprintf("parameters[%d].field", i))
		}
	}
	return where
}

// checkChart checks the chart draws aggregates of the report.
func (p *Plan) checkChart(chart *core.ReportChart) {
	if chart == nil {
		return
	}
	for i, k := range chart.Aggregates {
		found := false
		for _, a := range p.aggs {
			found = found || a.key == k
		}
		if !found {
			p.c.bad(fmt.Sprintf("chart.aggregates[%d]", i), "unknown_aggregate", fmt.Sprintf("%q is not an aggregate of this report", k))
		}
	}
}

// withinLevels says, per aggregate, the grouping index of the field its
// sums add up within (rField.within), -1 for any: a subtotal or total
// that rolls that level up leaves the aggregate out.
func (p *Plan) withinLevels() []int {
	out := make([]int, len(p.aggs))
	for i, a := range p.aggs {
		out[i] = -1
		if a.ref == nil || a.ref.within == "" {
			continue
		}
		for gi, g := range p.groups {
			if g.part == "" && g.ref.key == a.ref.within {
				out[i] = gi
				break
			}
		}
	}
	return out
}

// aggType is the type of an aggregate's result.
func aggType(fn, typ string) string {
	switch fn {
	case "count":
		return rInteger
	case "avg":
		if typ == rMoney {
			return rMoney
		}
		return rNumber
	case "sum":
		if typ == rInteger {
			return rNumber
		}
	}
	return typ
}
