package reportsql

import (
	"fmt"
	"strings"
)

// summarySort is a sort key of a grouped report: a group's level, or an
// aggregate (agg over the summary's pre-aggregated rows, win over the
// detail's rows as a window).
type summarySort struct {
	group    int // -1 for an aggregate
	agg, win string
	dir      string
}

// order compiles the sort keys for both queries.
func (p *Plan) order(keys []string) {
	var detail []string
	var sorts []summarySort
	for i, k := range keys {
		w := fmt.Sprintf("sort[%d]", i)
		dir := " ASC NULLS LAST"
		if strings.HasPrefix(k, "-") {
			k, dir = k[1:], " DESC NULLS LAST"
		}
		byGroup := false
		if len(p.groups) > 0 {
			var found, aggKey bool
			sorts, found, byGroup, aggKey = p.groupSort(sorts, k, dir)
			if !found && len(p.cols) == 0 {
				p.c.bad(w, "unknown_sort", fmt.Sprintf("%q is not a group or an aggregate of this report", k))
				continue
			}
			if aggKey {
				continue // not a field: it orders the groups only
			}
		}
		if (len(p.cols) > 0 || len(p.groups) == 0) && !byGroup {
			if r, ok := p.c.ref(k, w); ok {
				detail = append(detail, r.expr+dir)
			}
		}
	}
	detail = append(p.detailLead(sorts), detail...)
	if p.c.base != nil { // a stable order for equal keys
		detail = append(detail, fmt.Sprintf(p.c.base.fields["id"].expr, "t0"))
	}
	p.detail = strings.Join(detail, ", ")
	p.summary = p.summaryOrder(sorts)
}

// groupSort adds what a grouped report sorts its groups by for key k: a
// group (byGroup), or an aggregate (a field that is aggregated sorts them
// by its first aggregate, and a detail's rows by its value; aggKey when k
// names the aggregate itself, not a field).
func (p *Plan) groupSort(sorts []summarySort, k, dir string) (_ []summarySort, found, byGroup, aggKey bool) {
	for gi, g := range p.groups {
		if g.key == k || g.ref.key == k {
			return append(sorts, summarySort{group: gi, dir: dir}), true, true, false
		}
	}
	for ai, a := range p.aggs {
		if a.key == k || (a.ref != nil && a.ref.key == k) {
			win := "count(*)"
			if a.ref != nil {
				win = fmt.Sprintf("%s(%s)", a.a.Fn, a.ref.expr)
			}
			return append(sorts, summarySort{group: -1, agg: aggSQL(a, ai), win: win, dir: dir}), true, false, a.key == k
		}
	}
	return sorts, false, false, false
}

// detailLead keeps a detail's groups together, level by level, in the
// order the summary prints them: by the sort keys (an aggregate as a
// window over the group), then the group's own order.
func (p *Plan) detailLead(sorts []summarySort) []string {
	var lead, partition []string
	for l, g := range p.groups {
		partition = append(partition, g.expr)
		for _, s := range sorts {
			switch {
			case s.group == l:
				if g.ordered() {
					lead = append(lead, g.ref.order+s.dir)
				}
				lead = append(lead, g.expr+s.dir)
			case s.group < 0:
				lead = append(lead, fmt.Sprintf("%s OVER (PARTITION BY %s)%s", s.win, strings.Join(partition, ", "), s.dir))
			}
		}
		if g.ordered() {
			lead = append(lead, g.ref.order+" ASC NULLS LAST")
		}
		lead = append(lead, g.expr+" ASC NULLS LAST")
	}
	return lead
}

// summaryOrder orders the ROLLUP's rows as a report prints them: level by
// level, the groups under one parent sorted by the sort keys (an aggregate
// as it is at that level: a parent by its subtotal, not by its biggest
// child), each group's rows before its subtotal, the grand total last.
func (p *Plan) summaryOrder(sorts []summarySort) string {
	n := len(p.groups)
	gcols := make([]string, n)
	for i := range gcols {
		gcols[i] = fmt.Sprintf("g%d", i+1)
	}
	var out []string
	for l := range n {
		out = append(out, fmt.Sprintf("GROUPING(g%d)", l+1)) // a group's rows before its subtotal
		for _, s := range sorts {
			switch {
			case s.group == l:
				out = append(out, p.groups[l].sortSQL(l)+s.dir)
			case s.group >= 0:
			case l == n-1:
				out = append(out, s.agg+s.dir)
			default: // the value on this level's subtotal row, for all its rows
				prefix := strings.Join(gcols[:l+1], ", ")
				rest := strings.Join(gcols[l+1:], ", ")
				out = append(out, fmt.Sprintf("max(CASE WHEN GROUPING(%s) = %d THEN %s END) OVER (PARTITION BY %s, GROUPING(%s))%s",
					rest, 1<<(n-l-1)-1, s.agg, prefix, prefix, s.dir))
			}
		}
		out = append(out, p.groups[l].sortSQL(l)+" ASC NULLS LAST")
	}
	return strings.Join(out, ", ")
}
