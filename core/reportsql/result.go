package reportsql

import (
	"encoding/json"
	"math/bits"
	"time"

	"github.com/crmhub/crmhub/core"
)

// NewResult starts the result of running rep by the plan at ranAt: its
// names, parameters, typed columns, group and aggregate keys, and empty
// rows, subtotals and totals for the queries' rows to fill.
func (p *Plan) NewResult(rep *core.Report, ranAt time.Time) *core.ReportResult {
	res := &core.ReportResult{Slug: rep.Slug, Name: rep.Name, Entity: rep.Entity, Parameters: p.params, RanAt: ranAt,
		Rows: [][]any{}, Subtotals: []core.ReportSubtotal{}, Totals: map[string]any{}, Groups: []string{}, Aggregates: []string{},
		Chart: rep.Chart, Columns: p.resultColumns()}
	if rep.ID != "" && core.StandardReport(rep.Slug) == nil {
		res.ReportID = rep.ID
	}
	for _, g := range p.groups {
		res.Groups = append(res.Groups, g.key)
	}
	for _, a := range p.aggs {
		res.Aggregates = append(res.Aggregates, a.key)
	}
	return res
}

// resultColumns are a detail report's columns, or a summary's groups and
// aggregates.
func (p *Plan) resultColumns() []core.ReportColumn {
	var cols []core.ReportColumn
	if p.HasDetail() {
		for _, col := range p.cols {
			cols = append(cols, core.ReportColumn{Key: col.key, Label: col.label, Type: col.typ, Labels: col.labels})
		}
		return cols
	}
	for _, g := range p.groups {
		col := core.ReportColumn{Key: g.key, Label: g.ref.label, Type: g.typ, DatePart: g.part}
		if g.part == "" {
			col.Labels = g.ref.labels
		}
		cols = append(cols, col)
	}
	for _, a := range p.aggs {
		label := ""
		if a.ref != nil {
			label = a.ref.label
		}
		cols = append(cols, core.ReportColumn{Key: a.key, Label: a.a.Label(label), Type: a.typ})
	}
	return cols
}

// AddDetailRow adds a row DetailSQL returned, its values as the driver
// reads them with integers as int64. It returns false, marking the result
// truncated, once the result holds the most rows the plan allows: stop
// reading.
func (p *Plan) AddDetailRow(res *core.ReportResult, vals []any) bool {
	if len(res.Rows) == p.limit {
		res.Truncated = true
		return false
	}
	res.Rows = append(res.Rows, vals[:len(p.cols)])
	if len(p.groups) > 0 {
		p.rowKeys = append(p.rowKeys, vals[len(p.cols):])
	}
	return true
}

// AddSummaryRow adds a row SummarySQL returned (integers as int64): a
// group's row (of a summary without detail rows), a subtotal or the grand
// total, leaving out the aggregates that do not add up over the levels it
// rolls up. It returns false, marking the result truncated, once more rows
// came than the plan allows: stop reading.
func (p *Plan) AddSummaryRow(res *core.ReportResult, vals []any) bool {
	if p.fetched++; p.fetched > p.limit {
		res.Truncated = true
		return false
	}
	n := len(p.groups)
	g, _ := vals[0].(int64)
	level := groupLevel(g, n)
	keys, aggs := vals[1:1+n], vals[1+n:]
	values := make(map[string]any, len(aggs))
	for i, a := range p.aggs {
		if level <= p.within[i] { // rolled up over the groups it does not add up across
			continue
		}
		values[a.key] = aggs[i]
	}
	switch {
	case level == 0:
		res.Totals = values
	case level == n && !p.HasDetail():
		res.Rows = append(res.Rows, vals[1:])
	default:
		res.Subtotals = append(res.Subtotals, core.ReportSubtotal{Level: level, Keys: keys[:level], Values: values,
			AfterRow: len(res.Rows)})
	}
	return true
}

// groupLevel is how many grouping columns a ROLLUP row keeps, from
// GROUPING(g1, …, gn): a set bit is a level rolled up.
func groupLevel(grouping int64, n int) int { return n - bits.OnesCount64(uint64(grouping)) }

// PlaceSubtotals sets where each subtotal of a grouped detail report goes,
// once both queries' rows are in: after the last row of its group.
func (p *Plan) PlaceSubtotals(res *core.ReportResult) {
	if !p.HasDetail() || len(p.groups) == 0 {
		return
	}
	last := map[string]int{}
	for i, keys := range p.rowKeys {
		for l := 1; l <= len(keys); l++ {
			last[keyString(keys[:l])] = i + 1
		}
	}
	for i := range res.Subtotals {
		st := &res.Subtotals[i]
		if n, ok := last[keyString(st.Keys)]; ok {
			st.AfterRow = n
		} else {
			st.AfterRow = len(res.Rows)
		}
	}
}

func keyString(keys []any) string {
	b, _ := json.Marshal(keys)
	return string(b)
}

// LiveLabels gives the result's columns the labels their fields read when
// a report runs, over the registry's (whose maps stay as they are). read
// runs a label query, (code, label) rows; each query runs once.
func (p *Plan) LiveLabels(res *core.ReportResult, read func(query string) (map[string]string, error)) error {
	live := map[string]string{}
	for _, c := range p.cols {
		live[c.key] = c.live
	}
	for _, g := range p.groups {
		if g.part == "" {
			live[g.key] = g.ref.live
		}
	}
	labels := onceEach(read)
	for i := range res.Columns {
		col := &res.Columns[i]
		query := live[col.Key]
		if query == "" {
			continue
		}
		got, err := labels(query)
		if err != nil {
			return err
		}
		col.Labels = core.MergeReportLabels(col.Labels, got)
	}
	return nil
}

// onceEach runs each label query once: a field in two columns, or two
// fields labelled by one query, read it once.
func onceEach(read func(query string) (map[string]string, error)) func(string) (map[string]string, error) {
	seen := map[string]map[string]string{}
	return func(query string) (map[string]string, error) {
		if labels, ok := seen[query]; ok {
			return labels, nil
		}
		labels, err := read(query)
		if err != nil {
			return nil, err
		}
		seen[query] = labels
		return labels, nil
	}
}
