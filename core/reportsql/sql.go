package reportsql

import (
	"fmt"
	"strconv"
	"strings"
)

// DetailSQL is the query of the detail rows: the columns, then each row's
// group values (to place the subtotals), grouped rows together, one row
// past the limit (to tell a cut result).
func (p *Plan) DetailSQL() string {
	sel := make([]string, len(p.cols), len(p.cols)+len(p.groups))
	for i, col := range p.cols {
		sel[i] = out(col.expr, col.typ)
	}
	for _, g := range p.groups {
		sel = append(sel, out(g.expr, g.typ))
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + p.c.from() + p.whereSQL() + " ORDER BY " + p.detail +
		" LIMIT " + strconv.Itoa(p.limit+1)
}

// SummarySQL is the query of the groups with ROLLUP: GROUPING() first,
// then each group's values and aggregates, the subtotals of the outer
// levels and the grand total, in one pass, one row past the limit. The
// rows are first aggregated into the finest groups (a hash aggregate the
// planner may run in parallel), and only those are rolled up: sorting a
// million rows for ROLLUP took most of a summary's time.
func (p *Plan) SummarySQL() string {
	var inner, pre, outer, gcols []string
	for i, g := range p.groups {
		inner = append(inner, fmt.Sprintf("%s AS g%d", g.expr, i+1))
		pre = append(pre, fmt.Sprintf("g%d", i+1))
		if g.ordered() {
			inner = append(inner, fmt.Sprintf("%s AS o%d", g.ref.order, i+1))
			pre = append(pre, fmt.Sprintf("o%d", i+1))
		}
		gcols = append(gcols, fmt.Sprintf("g%d", i+1))
		outer = append(outer, out(fmt.Sprintf("s.g%d", i+1), g.typ))
	}
	keys := len(pre)
	for i, a := range p.aggs {
		if a.ref != nil { // a is a copy: the plan's aggregate keeps its field
			inner = append(inner, fmt.Sprintf("%s AS a%d", a.ref.expr, i+1))
			a.ref = &rRef{expr: fmt.Sprintf("a%d", i+1)}
		}
		pre = append(pre, preAggSQL(a, i))
		outer = append(outer, out(aggSQL(a, i), a.typ))
	}
	if len(inner) == 0 {
		inner = []string{"1 AS one"}
	}
	preGroup := ""
	if keys > 0 {
		preGroup = " GROUP BY " + strings.Join(pre[:keys], ", ")
	}
	grouping, groupBy, order := "0", "", ""
	if len(gcols) > 0 {
		grouping = "GROUPING(" + strings.Join(gcols, ", ") + ")"
		groupBy = " GROUP BY ROLLUP (" + strings.Join(gcols, ", ") + ")"
		order = " ORDER BY " + p.summary
	}
	return "SELECT " + grouping + ", " + strings.Join(outer, ", ") + " FROM (SELECT " + strings.Join(pre, ", ") +
		" FROM (SELECT " + strings.Join(inner, ", ") + " FROM " + p.c.from() + p.whereSQL() + ") r" + preGroup + ") s" +
		groupBy + order + " LIMIT " + strconv.Itoa(p.limit+1)
}

func (p *Plan) whereSQL() string {
	if p.where == "" {
		return ""
	}
	return " WHERE " + p.where
}

// aggSQL is an aggregate over the summary's pre-aggregated groups (see
// preAggSQL): counts add up, sums add up, min and max of the parts, and an
// average is the parts' sum over their count.
func aggSQL(a planAgg, i int) string {
	switch {
	case a.ref == nil || a.a.Fn == "count": // 0, not null, over no rows
		return fmt.Sprintf("coalesce(sum(s.p%d), 0)::bigint", i+1)
	case a.a.Fn == "avg":
		return fmt.Sprintf("sum(s.p%d) / nullif(sum(s.c%d), 0)", i+1, i+1)
	}
	return fmt.Sprintf("%s(s.p%d)", a.a.Fn, i+1)
}

// preAggSQL is an aggregate's part over the matching rows of one finest
// group.
func preAggSQL(a planAgg, i int) string {
	switch {
	case a.ref == nil:
		return fmt.Sprintf("count(*) AS p%d", i+1)
	case a.a.Fn == "avg":
		return fmt.Sprintf("sum(%s) AS p%d, count(%s) AS c%d", a.ref.expr, i+1, a.ref.expr, i+1)
	}
	return fmt.Sprintf("%s(%s) AS p%d", a.a.Fn, a.ref.expr, i+1)
}

// out is how a value leaves the database: money with two decimals and
// numbers as decimal strings, dates as text, times in UTC, ids as text.
func out(expr, typ string) string {
	switch typ {
	case rMoney:
		return "round(" + expr + ", 2)::text"
	case rNumber:
		return "trim_scale(" + expr + ")::text"
	case rInteger:
		return "(" + expr + ")::bigint"
	case rDate, rID:
		return "(" + expr + ")::text"
	case rDatetime:
		return `to_char((` + expr + `) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
	}
	return expr
}

// EscapeLike escapes LIKE's wildcards (and its escape character) in text
// matched literally.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
