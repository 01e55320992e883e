package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmhub/crmhub/core"
)

var _ core.ReportService = reports{}

// Report run limits (SetReportLimits).
type reportLimits struct {
	maxRows int
	timeout time.Duration
	loc     *time.Location
}

// SetReportLimits sets the most rows a report returns, how long its
// statements may run and the time zone its dates are in.
func (s *Store) SetReportLimits(maxRows int, timeout time.Duration, loc *time.Location) {
	s.reportLimits = reportLimits{maxRows: maxRows, timeout: timeout, loc: loc}
}

func (s *Store) limits() reportLimits {
	l := s.reportLimits
	if l.maxRows <= 0 {
		l.maxRows = 100_000
	}
	if l.timeout <= 0 {
		l.timeout = 30 * time.Second
	}
	if l.loc == nil {
		l.loc = time.UTC
	}
	return l
}

func sortStrings(s []string) { sort.Strings(s) }

func (s *Store) newReportTable() *table[core.Report, *core.Report] {
	return (&table[core.Report, *core.Report]{
		entity: core.EntityReport, name: "reports", schema: core.ReportSchema,
		columns: []string{"name", "slug", "description", "definition"},
		values: func(r *core.Report) []any {
			return []any{r.Name, r.Slug, r.Description, r.ReportDefinition}
		},
		targets:  func(r *core.Report) []any { return []any{&r.Name, &r.Slug, &r.Description, &r.ReportDefinition} },
		validate: (*core.Report).Validate,
		prepare: func(ctx context.Context, db dbtx, _, r *core.Report) error {
			// The fields, links and operators it names must exist.
			c := s.compile(&r.ReportDefinition, core.ReportRun{}, time.Now())
			if len(c.c.errs) > 0 {
				return core.Invalid(c.c.errs)
			}
			if r.Slug != "" && (core.StandardReport(r.Slug) != nil || r.Slug == "standard") {
				return core.Invalid([]core.FieldError{{Field: "slug", Code: "reserved", Message: "is the slug of a standard report"}})
			}
			if r.Slug != "" {
				var taken bool
				if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reports WHERE slug = $1 AND id <> $2::uuid AND deleted_at IS NULL)`,
					r.Slug, nullUUID(r.ID)).Scan(&taken); err != nil {
					return err
				}
				if taken {
					return core.Invalid([]core.FieldError{{Field: "slug", Code: "taken", Message: "another report has this slug"}})
				}
			}
			return nil
		},
		sorts: commonSorts(map[string]func(*core.Report) string{"name": func(r *core.Report) string { return r.Name }}),
	}).init()
}

func nullUUID(id string) string {
	if id == "" {
		return uuid.Nil.String()
	}
	return id
}

type reports struct {
	repo[core.Report, *core.Report]
}

// Reports returns the report definitions and their runner.
func (s *Store) Reports() core.ReportService {
	return reports{repo[core.Report, *core.Report]{s: s, t: s.tables.report}}
}

func (r reports) List(ctx context.Context, f core.ListParams) (core.Page[core.Report], error) {
	q := &query{}
	if f.Query != "" {
		q.anyLike(f.Query, "name", "slug")
	}
	return r.t.list(ctx, r.s, q, f)
}

// Find returns a standard report by slug, or a stored one by id or slug.
func (r reports) Find(ctx context.Context, idOrSlug string) (*core.Report, error) {
	if std := core.StandardReport(idOrSlug); std != nil {
		return std, nil
	}
	if uuid.Validate(idOrSlug) == nil {
		return r.Get(ctx, idOrSlug)
	}
	var id string
	err := r.s.db(ctx).QueryRow(ctx, `SELECT id::text FROM reports WHERE slug = $1 AND deleted_at IS NULL`, idOrSlug).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "report not found")
	}
	if err != nil {
		return nil, err
	}
	return r.Get(ctx, id)
}

// plan is a compiled report.
type plan struct {
	c       *compiler
	cols    []rRef
	groups  []planGroup
	aggs    []planAgg
	where   string
	detail  string // ORDER BY of the detail query
	summary string // ORDER BY of the summary query
	limit   int
	params  map[string]string
	rowKeys [][]any // a detail report's rows' group values
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

var fnLabels = map[string]string{"count": "Количество", "sum": "Сумма", "avg": "Среднее", "min": "Минимум", "max": "Максимум"}

// compile checks a definition against the registry and builds its plan;
// the plan's compiler holds the errors.
func (s *Store) compile(d *core.ReportDefinition, run core.ReportRun, now time.Time) *plan {
	lim := s.limits()
	c := newCompiler(s.reportReg, d, now, lim.loc)
	p := &plan{c: c, params: map[string]string{}, limit: lim.maxRows}
	if run.Limit > 0 && run.Limit < p.limit {
		p.limit = run.Limit
	}
	for _, fe := range run.Check() {
		c.bad(fe.Field, fe.Code, fe.Message)
	}
	if c.base == nil {
		return p
	}
	for i, key := range d.Columns {
		if r, ok := c.ref(key, fmt.Sprintf("columns[%d]", i)); ok {
			p.cols = append(p.cols, r)
		}
	}
	for i, g := range d.GroupBy {
		w := fmt.Sprintf("group_by[%d]", i)
		r, ok := c.ref(g.Field, w+".field")
		if !ok {
			continue
		}
		expr, ok := c.groupExpr(r, g.DatePart, w+".date_part")
		if !ok {
			continue
		}
		pg := planGroup{ref: r, expr: expr, part: g.DatePart, key: g.Field, typ: r.typ}
		if g.DatePart != "" {
			pg.key, pg.typ = g.Field+":"+g.DatePart, rDate
		}
		p.groups = append(p.groups, pg)
	}
	for i, a := range d.Aggregates {
		pa := planAgg{a: a, key: a.Key(), typ: rInteger}
		if a.Field != "" {
			r, ok := c.ref(a.Field, fmt.Sprintf("aggregates[%d].field", i))
			if !ok {
				continue
			}
			numeric := r.typ == rInteger || r.typ == rNumber || r.typ == rMoney
			if (a.Fn == "sum" || a.Fn == "avg") && !numeric {
				c.bad(fmt.Sprintf("aggregates[%d].field", i), "invalid", a.Fn+" needs a number or an amount")
				continue
			}
			if (a.Fn == "min" || a.Fn == "max") && r.typ == rBoolean {
				c.bad(fmt.Sprintf("aggregates[%d].field", i), "invalid", a.Fn+" of a yes/no field")
				continue
			}
			pa.ref, pa.typ = &r, aggType(a.Fn, r.typ)
		}
		p.aggs = append(p.aggs, pa)
	}
	if len(p.groups) > 0 && len(p.aggs) == 0 {
		p.aggs = []planAgg{{a: core.ReportAggregate{Fn: "count"}, key: "count", typ: rInteger}}
	}
	// WHERE: live records, the filters, the run's range and parameters.
	var where []string
	if c.base.live != "" {
		where = append(where, fmt.Sprintf(c.base.live, "t0"))
	}
	if f := c.filter(d.Filters, "filters"); f != "" {
		where = append(where, "("+f+")")
	}
	if run.From != nil || run.To != nil {
		if d.DateField == "" {
			c.bad("from", "no_date_field", "this report has no date_field to bound")
		} else if r, ok := c.ref(d.DateField, "date_field"); ok {
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
			} else {
				where = append(where, c.rangeSQL(r, from, to))
			}
		}
	} else if d.DateField != "" {
		c.ref(d.DateField, "date_field")
	}
	declared := map[string]core.ReportParameter{}
	for _, prm := range d.Parameters {
		declared[prm.Name] = prm
	}
	names := slices.Sorted(maps.Keys(run.Parameters))
	for _, n := range names {
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
	for i, prm := range d.Parameters { // a declared parameter names a real field even when the run leaves it out
		if _, given := run.Parameters[prm.Name]; !given {
			c.ref(prm.Field, fmt.Sprintf("parameters[%d].field", i))
		}
	}
	p.where = strings.Join(where, " AND ")
	p.order(d.Sort)
	if d.Chart != nil {
		for i, k := range d.Chart.Aggregates {
			found := false
			for _, a := range p.aggs {
				found = found || a.key == k
			}
			if !found {
				c.bad(fmt.Sprintf("chart.aggregates[%d]", i), "unknown_aggregate", fmt.Sprintf("%q is not an aggregate of this report", k))
			}
		}
	}
	return p
}

// summarySort is a sort key of a grouped report: a group's level, or an
// aggregate (agg over the summary's pre-aggregated rows, win over the
// detail's rows as a window).
type summarySort struct {
	group    int // -1 for an aggregate
	agg, win string
	dir      string
}

// order compiles the sort keys for both queries.
func (p *plan) order(keys []string) {
	c := p.c
	var detail []string
	var sorts []summarySort
	for i, k := range keys {
		w := fmt.Sprintf("sort[%d]", i)
		dir := " ASC NULLS LAST"
		if strings.HasPrefix(k, "-") {
			k, dir = k[1:], " DESC NULLS LAST"
		}
		// A grouped report sorts its groups by a group or an aggregate (a
		// field that is aggregated sorts them by its first aggregate, and
		// a detail's rows by its value).
		byGroup := false
		if len(p.groups) > 0 {
			found, aggKey := false, false
			for gi, g := range p.groups {
				if g.key == k || g.ref.key == k {
					sorts, found, byGroup = append(sorts, summarySort{group: gi, dir: dir}), true, true
					break
				}
			}
			for ai, a := range p.aggs {
				if !found && (a.key == k || (a.ref != nil && a.ref.key == k)) {
					win := "count(*)"
					if a.ref != nil {
						win = fmt.Sprintf("%s(%s)", a.a.Fn, a.ref.expr)
					}
					sorts, found = append(sorts, summarySort{group: -1, agg: aggSQL(a, ai), win: win, dir: dir}), true
					aggKey = a.key == k
				}
			}
			if !found && len(p.cols) == 0 {
				c.bad(w, "unknown_sort", fmt.Sprintf("%q is not a group or an aggregate of this report", k))
				continue
			}
			if aggKey {
				continue // not a field: it orders the groups only
			}
		}
		if (len(p.cols) > 0 || len(p.groups) == 0) && !byGroup {
			if r, ok := c.ref(k, w); ok {
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

// detailLead keeps a detail's groups together, level by level, in the
// order the summary prints them: by the sort keys (an aggregate as a
// window over the group), then the group's own order.
func (p *plan) detailLead(sorts []summarySort) []string {
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
func (p *plan) summaryOrder(sorts []summarySort) string {
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

// Catalog implements core.ReportService: the registry as the compiler
// reads it, in name order, with picklist labels (a deal stage's from every
// pipeline).
func (r reports) Catalog(ctx context.Context) ([]core.ReportEntityInfo, error) {
	live := map[string]map[string]string{}
	out := make([]core.ReportEntityInfo, 0, len(r.s.reportReg))
	for _, name := range slices.Sorted(maps.Keys(r.s.reportReg)) {
		e := r.s.reportReg[name]
		info := core.ReportEntityInfo{Name: e.name, Label: e.label, Fields: []core.ReportFieldInfo{}, Links: []core.ReportLinkInfo{}}
		for _, key := range slices.Sorted(maps.Keys(e.fields)) {
			f := e.fields[key]
			fi := core.ReportFieldInfo{Key: key, Label: f.label, Type: f.typ, Labels: f.labels}
			if f.liveLabels != "" {
				labels, ok := live[f.liveLabels]
				if !ok {
					var err error
					if labels, err = readLabels(ctx, r.s.conn, f.liveLabels); err != nil {
						return nil, err
					}
					live[f.liveLabels] = labels
				}
				fi.Labels = make(map[string]string, len(f.labels)+len(labels))
				maps.Copy(fi.Labels, f.labels)
				maps.Copy(fi.Labels, labels)
			}
			info.Fields = append(info.Fields, fi)
		}
		for _, link := range slices.Sorted(maps.Keys(e.links)) {
			l := e.links[link]
			info.Links = append(info.Links, core.ReportLinkInfo{Name: link, Entity: l.target, Label: l.label})
		}
		out = append(out, info)
	}
	return out, nil
}

// Run runs a report within the statement timeout and row limit.
func (r reports) Run(ctx context.Context, rep *core.Report, run core.ReportRun) (*core.ReportResult, error) {
	s := r.s
	now := s.now()
	if errs := rep.ReportDefinition.Check(); len(errs) > 0 {
		return nil, core.Invalid(errs)
	}
	p := s.compile(&rep.ReportDefinition, run, now)
	if len(p.c.errs) > 0 {
		return nil, core.Invalid(p.c.errs)
	}
	res := &core.ReportResult{Slug: rep.Slug, Name: rep.Name, Entity: rep.Entity, Parameters: p.params, RanAt: now,
		Rows: [][]any{}, Subtotals: []core.ReportSubtotal{}, Totals: map[string]any{}, Groups: []string{}, Aggregates: []string{},
		Chart: rep.Chart}
	if rep.ID != "" && core.StandardReport(rep.Slug) == nil {
		res.ReportID = rep.ID
	}
	for _, g := range p.groups {
		res.Groups = append(res.Groups, g.key)
	}
	for _, a := range p.aggs {
		res.Aggregates = append(res.Aggregates, a.key)
	}
	lim := s.limits()
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('statement_timeout', $1, true)`,
			strconv.FormatInt(lim.timeout.Milliseconds(), 10)); err != nil {
			return err
		}
		if len(p.cols) > 0 {
			if err := p.runDetail(ctx, tx, res); err != nil {
				return err
			}
		}
		if len(p.groups) > 0 || len(p.aggs) > 0 {
			if err := p.runSummary(ctx, tx, res); err != nil {
				return err
			}
		}
		if len(p.cols) > 0 && len(p.groups) > 0 {
			p.place(res)
		}
		return p.liveLabels(ctx, tx, res)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "57014" {
		return nil, core.Errorf(core.EUNAVAILABLE, "the report ran longer than %s: narrow its filters or period", lim.timeout)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return res, nil
}

// liveLabels gives the result's columns the labels their fields read when
// a report runs (over the registry's; the registry's maps stay as they are).
func (p *plan) liveLabels(ctx context.Context, tx pgx.Tx, res *core.ReportResult) error {
	live := map[string]string{}
	for _, c := range p.cols {
		live[c.key] = c.live
	}
	for _, g := range p.groups {
		if g.part == "" {
			live[g.key] = g.ref.live
		}
	}
	read := map[string]map[string]string{} // by query: a field in two columns is read once
	for i := range res.Columns {
		col := &res.Columns[i]
		sql := live[col.Key]
		if sql == "" {
			continue
		}
		labels, ok := read[sql]
		if !ok {
			var err error
			if labels, err = readLabels(ctx, tx, sql); err != nil {
				return err
			}
			read[sql] = labels
		}
		merged := make(map[string]string, len(col.Labels)+len(labels))
		maps.Copy(merged, col.Labels)
		maps.Copy(merged, labels)
		col.Labels = merged
	}
	return nil
}

// readLabels runs a field's label query: (code, label) rows.
func readLabels(ctx context.Context, db dbtx, sql string) (map[string]string, error) {
	rows, err := db.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	labels := map[string]string{}
	for rows.Next() {
		var code, label string
		if err := rows.Scan(&code, &label); err != nil {
			return nil, err
		}
		if label != "" {
			labels[code] = label
		}
	}
	return labels, rows.Err()
}

func (p *plan) whereSQL() string {
	if p.where == "" {
		return ""
	}
	return " WHERE " + p.where
}

// runDetail reads the detail rows (grouped rows together).
func (p *plan) runDetail(ctx context.Context, tx pgx.Tx, res *core.ReportResult) error {
	sel := make([]string, len(p.cols), len(p.cols)+len(p.groups))
	for i, col := range p.cols {
		sel[i] = out(col.expr, col.typ)
		res.Columns = append(res.Columns, core.ReportColumn{Key: col.key, Label: col.label, Type: col.typ, Labels: col.labels})
	}
	for _, g := range p.groups { // each row's groups, to place the subtotals
		sel = append(sel, out(g.expr, g.typ))
	}
	sql := "SELECT " + strings.Join(sel, ", ") + " FROM " + p.c.from() + p.whereSQL() + " ORDER BY " + p.detail +
		" LIMIT " + strconv.Itoa(p.limit+1)
	rows, err := tx.Query(ctx, sql, p.c.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		if len(res.Rows) == p.limit {
			res.Truncated = true
			break
		}
		vals = normalize(vals)
		res.Rows = append(res.Rows, vals[:len(p.cols)])
		if len(p.groups) > 0 {
			p.rowKeys = append(p.rowKeys, vals[len(p.cols):])
		}
	}
	return rows.Err()
}

// place sets where each subtotal of a detail report goes: after the last
// row of its group.
func (p *plan) place(res *core.ReportResult) {
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

// runSummary reads the groups with ROLLUP: each group's aggregates, the
// subtotals of the outer levels and the grand total, in one pass. The rows
// are first aggregated into the finest groups (a hash aggregate the
// planner may run in parallel), and only those are rolled up: sorting a
// million rows for ROLLUP took most of a summary's time.
func (p *plan) runSummary(ctx context.Context, tx pgx.Tx, res *core.ReportResult) error {
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
		if a.ref != nil {
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
	grouping := "0"
	groupBy := ""
	order := ""
	if len(gcols) > 0 {
		grouping = "GROUPING(" + strings.Join(gcols, ", ") + ")"
		groupBy = " GROUP BY ROLLUP (" + strings.Join(gcols, ", ") + ")"
		order = " ORDER BY " + p.summary
	}
	sql := "SELECT " + grouping + ", " + strings.Join(outer, ", ") + " FROM (SELECT " + strings.Join(pre, ", ") +
		" FROM (SELECT " + strings.Join(inner, ", ") + " FROM " + p.c.from() + p.whereSQL() + ") r" + preGroup + ") s" +
		groupBy + order + " LIMIT " + strconv.Itoa(p.limit+1)
	rows, err := tx.Query(ctx, sql, p.c.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := len(p.groups)
	if len(p.cols) == 0 {
		for _, g := range p.groups {
			col := core.ReportColumn{Key: g.key, Label: g.ref.label, Type: g.typ, DatePart: g.part}
			if g.part == "" {
				col.Labels = g.ref.labels
			}
			res.Columns = append(res.Columns, col)
		}
		for _, a := range p.aggs {
			res.Columns = append(res.Columns, core.ReportColumn{Key: a.key, Label: aggLabel(a), Type: a.typ})
		}
	}
	within := p.withinLevels()
	count := 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		if count++; count > p.limit {
			res.Truncated = true
			break
		}
		vals = normalize(vals)
		g, _ := vals[0].(int64)
		level := groupLevel(g, n)
		keys, aggs := vals[1:1+n], vals[1+n:]
		values := make(map[string]any, len(aggs))
		for i, a := range p.aggs {
			if level <= within[i] { // rolled up over the groups it does not add up across
				continue
			}
			values[a.key] = aggs[i]
		}
		switch {
		case level == 0:
			res.Totals = values
		case level == n && len(p.cols) == 0:
			res.Rows = append(res.Rows, vals[1:])
		default:
			res.Subtotals = append(res.Subtotals, core.ReportSubtotal{Level: level, Keys: keys[:level], Values: values,
				AfterRow: len(res.Rows)})
		}
	}
	return rows.Err()
}

// withinLevels says, per aggregate, the grouping index of the field its
// sums add up within (rField.within), -1 for any: a subtotal or total
// that rolls that level up leaves the aggregate out.
func (p *plan) withinLevels() []int {
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

func aggLabel(a planAgg) string {
	if a.ref == nil {
		return fnLabels[a.a.Fn]
	}
	return fnLabels[a.a.Fn] + ": " + a.ref.label
}

// normalize turns the driver's values into JSON-friendly ones.
func normalize(vals []any) []any {
	for i, v := range vals {
		switch t := v.(type) {
		case int32:
			vals[i] = int64(t)
		case int16:
			vals[i] = int64(t)
		}
	}
	return vals
}
