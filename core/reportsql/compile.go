package reportsql

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

// A compiled report: SQL built only from the registry's expressions and
// fixed keywords, every value from the definition or the run a bind
// parameter (today's date in the report time zone too).

type rRef struct {
	key    string // as the definition names it: "account.name"
	expr   string // SQL
	typ    string
	label  string
	order  string // SQL its groups sort by, "" for expr
	labels map[string]string
	live   string // the field's liveLabels
	within string // the key of the field its sums add up within, "" for any
}

type compiler struct {
	reg   Registry
	base  *Entity
	loc   *time.Location
	now   time.Time
	args  []any
	joins []string
	alias map[string]string  // link path → alias ("" → t0)
	ents  map[string]*Entity // link path → entity
	errs  []core.FieldError
	today string // the parameter holding today's date, once bound
	// access, when set, is the user's (Options.Access).
	access *Access
}

// visible is the condition on entity e's rows at alias that keeps what
// the user reaches, "" for no condition.
func (c *compiler) visible(e *Entity, alias string) string {
	if c.access == nil || c.access.Visible == nil || e.rights == "" {
		return ""
	}
	return c.access.Visible(e.rights, fmt.Sprintf(e.row, alias)+".", c.arg)
}

// hidden reports whether a field of e is hidden from the user.
func (c *compiler) hidden(e *Entity, field string) bool {
	return c.access != nil && c.access.Hidden != nil && e.rights != "" && slices.Contains(c.access.Hidden(e.rights), field)
}

func (c *compiler) bad(field, code, msg string) {
	c.errs = append(c.errs, core.FieldError{Field: field, Code: code, Message: msg})
}

func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	return fmt.Sprintf("$%d", len(c.args))
}

func newCompiler(reg Registry, d *core.ReportDefinition, now time.Time, loc *time.Location, access *Access) *compiler {
	c := &compiler{reg: reg, loc: loc, now: now, alias: map[string]string{"": "t0"}, ents: map[string]*Entity{}, access: access}
	base, ok := reg[d.Entity]
	if !ok {
		c.bad("entity", "unknown_entity", fmt.Sprintf("%q is not a report entity (%s)", d.Entity, entityNames(reg)))
		return c
	}
	c.base = base
	c.ents[""] = base
	for i, path := range d.Related {
		c.join(path, fmt.Sprintf("related[%d]", i))
	}
	return c
}

func entityNames(reg Registry) string { return strings.Join(slices.Sorted(maps.Keys(reg)), ", ") }

// join follows a link path ("invoice.account"), joining what it needs.
func (c *compiler) join(path, where string) bool {
	if _, ok := c.alias[path]; ok {
		return true
	}
	parent, name := "", path
	if i := strings.LastIndex(path, "."); i >= 0 {
		parent, name = path[:i], path[i+1:]
		if !c.join(parent, where) {
			return false
		}
	}
	pe := c.ents[parent]
	l, ok := pe.links[name]
	if !ok {
		c.bad(where, "unknown_link", fmt.Sprintf("%q is not a link of %s", name, pe.name))
		return false
	}
	if len(c.joins) >= core.MaxReportRelated {
		c.bad(where, "too_many", fmt.Sprintf("at most %d related entities", core.MaxReportRelated))
		return false
	}
	target := c.reg[l.target]
	a := fmt.Sprintf("t%d", len(c.joins)+1)
	on := fmt.Sprintf("%s.id = %s", a, fmt.Sprintf(l.fk, c.alias[parent]))
	if v := c.visible(target, a); v != "" {
		on += " AND " + v // a linked record the user may not see joins as empty
	}
	c.joins = append(c.joins, fmt.Sprintf("LEFT JOIN %s ON %s", fmt.Sprintf(target.from, a), on))
	c.alias[path], c.ents[path] = a, target
	return true
}

// ref resolves "field" or "link.path.field" against the joined entities.
func (c *compiler) ref(key, where string) (rRef, bool) {
	if c.base == nil {
		return rRef{}, false
	}
	path, name := splitKey(key)
	e, ok := c.ents[path]
	if !ok {
		c.bad(where, "unknown_link", fmt.Sprintf("%q is not among related (%s)", path, strings.Join(c.paths(), ", ")))
		return rRef{}, false
	}
	f, ok := e.fields[name]
	if !ok || c.hidden(e, name) {
		c.bad(where, "unknown_field", fmt.Sprintf("%q is not a field of %s", name, e.name))
		return rRef{}, false
	}
	var links []string
	if path != "" {
		links = c.linkLabels(path)
	}
	label := core.ReportFieldLabel(links, f.label)
	today := ""
	if strings.Contains(f.expr, "%[2]s") { // bound once, when an expression needs it
		if c.today == "" {
			c.today = c.arg(c.now.In(c.loc).Format("2006-01-02")) + "::date"
		}
		today = c.today
	}
	r := rRef{key: key, expr: fmt.Sprintf(f.expr, c.alias[path], today), typ: f.typ, label: label, labels: f.labels, live: f.liveLabels}
	if f.within != "" {
		r.within = strings.TrimPrefix(path+"."+f.within, ".")
	}
	if f.order != "" {
		r.order = fmt.Sprintf(f.order, c.alias[path], today)
	}
	return r, true
}

func (c *compiler) paths() []string {
	var out []string
	for p := range c.alias {
		if p != "" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// linkLabels names each link of a path for people: "invoice.owner" is
// [Счёт, Ответственный].
func (c *compiler) linkLabels(path string) []string {
	parent, name := "", path
	if i := strings.LastIndex(path, "."); i >= 0 {
		parent, name = path[:i], path[i+1:]
	}
	var labels []string
	if parent != "" {
		labels = c.linkLabels(parent)
	}
	return append(labels, c.ents[parent].links[name].label)
}

func (c *compiler) from() string {
	s := fmt.Sprintf(c.base.from, "t0")
	for _, j := range c.joins {
		s += " " + j
	}
	return s
}

// filter compiles a condition group.
func (c *compiler) filter(f *core.ReportFilter, where string) string {
	if f == nil || len(f.Conditions) == 0 {
		return ""
	}
	var parts []string
	for i, cond := range f.Conditions {
		w := fmt.Sprintf("%s.conditions[%d]", where, i)
		var sql string
		if cond.Op != "" || len(cond.Conditions) > 0 {
			sql = c.filter(&core.ReportFilter{Op: cond.Op, Conditions: cond.Conditions}, w)
		} else {
			sql = c.condition(cond.Field, cond.Operator, cond.Value, w)
		}
		if sql != "" {
			parts = append(parts, "("+sql+")")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	join := " AND "
	if f.Op == "or" {
		join = " OR "
	}
	return strings.Join(parts, join)
}

// condition compiles one condition: the field from the registry, the
// operator from a fixed list, the value a bind parameter of the field's
// type.
func (c *compiler) condition(field, op string, raw json.RawMessage, where string) string {
	r, ok := c.ref(field, where+".field")
	if !ok {
		return ""
	}
	if !core.ValidReportOperator(op) {
		c.bad(where+".operator", "unknown_operator", fmt.Sprintf("%q is not an operator", op))
		return ""
	}
	vw := where + ".value"
	switch op {
	case "empty", "not_empty":
		return emptySQL(r, op)
	case "contains", "not_contains", "starts_with", "ends_with":
		if r.typ != rText {
			c.bad(where+".operator", "invalid_operator", op+" applies to text fields")
			return ""
		}
		return c.like(r, op, raw, vw)
	case "in", "not_in":
		return c.in(r, op, raw, vw)
	case "between":
		return c.between(r, raw, vw)
	case "period":
		return c.period(r, raw, vw)
	}
	return c.compare(r, op, raw, vw)
}

// emptySQL is "empty" or "not_empty": null, or for text also "".
func emptySQL(r rRef, op string) string {
	sql := r.expr + " IS NULL"
	if r.typ == rText {
		sql = "(" + r.expr + " IS NULL OR " + r.expr + " = '')"
	}
	if op == "not_empty" {
		sql = "NOT " + sql
	}
	return sql
}

// like matches text as a case-blind pattern whose wildcards are escaped.
func (c *compiler) like(r rRef, op string, raw json.RawMessage, where string) string {
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" {
		c.bad(where, "invalid", "must be non-empty text")
		return ""
	}
	pat := EscapeLike(s)
	switch op {
	case "contains", "not_contains":
		pat = "%" + pat + "%"
	case "starts_with":
		pat += "%"
	case "ends_with":
		pat = "%" + pat
	}
	sql := r.expr + " ILIKE " + c.arg(pat)
	if op == "not_contains" {
		sql = "(" + r.expr + " IS NULL OR NOT " + sql + ")"
	}
	return sql
}

// in is "in" or "not_in" a list of 1 to 1,000 values (not_in keeps nulls).
func (c *compiler) in(r rRef, op string, raw json.RawMessage, where string) string {
	var vals []json.RawMessage
	if json.Unmarshal(raw, &vals) != nil || len(vals) == 0 || len(vals) > 1000 {
		c.bad(where, "invalid", "must be a list of 1 to 1,000 values")
		return ""
	}
	ps := make([]string, 0, len(vals))
	for i, v := range vals {
		p, ok := c.value(r, v, fmt.Sprintf("%s[%d]", where, i))
		if !ok {
			return ""
		}
		ps = append(ps, p)
	}
	if op == "in" {
		return r.expr + " IN (" + strings.Join(ps, ", ") + ")"
	}
	return "(" + r.expr + " IS NULL OR " + r.expr + " NOT IN (" + strings.Join(ps, ", ") + "))"
}

// between is [from, to], both inclusive.
func (c *compiler) between(r rRef, raw json.RawMessage, where string) string {
	var vals []json.RawMessage
	if json.Unmarshal(raw, &vals) != nil || len(vals) != 2 {
		c.bad(where, "invalid", "must be [from, to]")
		return ""
	}
	lo, ok1 := c.value(r, vals[0], where+"[0]")
	hi, ok2 := c.value(r, vals[1], where+"[1]")
	if !ok1 || !ok2 {
		return ""
	}
	return r.expr + " BETWEEN " + lo + " AND " + hi
}

// compare is equals, not_equals (which keeps nulls), greater, less and
// their or-equal forms.
func (c *compiler) compare(r rRef, op string, raw json.RawMessage, where string) string {
	v, ok := c.value(r, raw, where)
	if !ok {
		return ""
	}
	if op == "not_equals" {
		return "(" + r.expr + " IS NULL OR " + r.expr + " <> " + v + ")"
	}
	cmp := map[string]string{"equals": "=", "greater": ">", "greater_or_equal": ">=", "less": "<", "less_or_equal": "<="}[op]
	return r.expr + " " + cmp + " " + v
}

// value binds one value as the field's type.
func (c *compiler) value(r rRef, raw json.RawMessage, where string) (string, bool) {
	var s string
	switch r.typ {
	case rText:
		if json.Unmarshal(raw, &s) != nil || len(s) > 1000 {
			c.bad(where, "invalid", "must be text of at most 1,000 characters")
			return "", false
		}
		return c.arg(s), true
	case rInteger, rNumber, rMoney:
		return c.number(raw, where)
	case rBoolean:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			c.bad(where, "invalid", "must be true or false")
			return "", false
		}
		return c.arg(b), true
	case rID:
		if json.Unmarshal(raw, &s) != nil || uuid.Validate(s) != nil {
			c.bad(where, "invalid", "must be an id")
			return "", false
		}
		return c.arg(s) + "::uuid", true
	case rDate, rDatetime:
		return c.date(r, raw, where)
	}
	c.bad(where, "invalid", "cannot be compared")
	return "", false
}

// number binds a number, given as a JSON number or a string, as a
// decimal.
func (c *compiler) number(raw json.RawMessage, where string) (string, bool) {
	var num json.Number
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) == nil {
		switch t := v.(type) {
		case json.Number:
			num = t
		case string:
			num = json.Number(t)
		}
	}
	d, err := decimal.NewFromString(string(num))
	if err != nil {
		c.bad(where, "invalid", "must be a number")
		return "", false
	}
	return c.arg(d.String()) + "::numeric", true
}

// date binds a date (a day in the report time zone) or an RFC 3339 time
// as the field's type.
func (c *compiler) date(r rRef, raw json.RawMessage, where string) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		c.bad(where, "invalid", "must be a date (2026-11-27) or a time (RFC 3339)")
		return "", false
	}
	if t, err := time.ParseInLocation("2006-01-02", s, c.loc); err == nil {
		if r.typ == rDate {
			return c.arg(s) + "::date", true
		}
		return c.arg(t) + "::timestamptz", true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if r.typ == rDate {
			return c.arg(t.In(c.loc).Format("2006-01-02")) + "::date", true
		}
		return c.arg(t) + "::timestamptz", true
	}
	c.bad(where, "invalid", "must be a date (2026-11-27) or a time (RFC 3339)")
	return "", false
}

// period bounds a date or time field by a preset or {"from", "to"}
// (dates, both inclusive).
func (c *compiler) period(r rRef, raw json.RawMessage, where string) string {
	if r.typ != rDate && r.typ != rDatetime {
		c.bad(where, "invalid_operator", "period applies to dates and times")
		return ""
	}
	var preset string
	var from, to time.Time
	if json.Unmarshal(raw, &preset) == nil {
		var ok bool
		if from, to, ok = core.Period(preset, c.now, c.loc); !ok {
			c.bad(where, "unknown_preset", fmt.Sprintf("%q is not a period (today, this_week, this_month, last_month, this_quarter, "+
				"last_quarter, this_year, …)", preset))
			return ""
		}
	} else {
		var rng struct{ From, To string }
		if json.Unmarshal(raw, &rng) != nil {
			c.bad(where, "invalid", `must be a period name or {"from": "2026-01-01", "to": "2026-03-31"}`)
			return ""
		}
		var err1, err2 error
		from, err1 = time.Parse("2006-01-02", rng.From)
		to, err2 = time.Parse("2006-01-02", rng.To)
		if err1 != nil || err2 != nil || to.Before(from) {
			c.bad(where, "invalid", "from and to must be dates, from not after to")
			return ""
		}
		to = to.AddDate(0, 0, 1)
	}
	return c.rangeSQL(r, from, to)
}

// rangeSQL is from <= field < to, dates taken in the report time zone.
func (c *compiler) rangeSQL(r rRef, from, to time.Time) string {
	if r.typ == rDate {
		return r.expr + " >= " + c.arg(from.Format("2006-01-02")) + "::date AND " + r.expr + " < " +
			c.arg(to.Format("2006-01-02")) + "::date"
	}
	f := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, c.loc)
	t := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, c.loc)
	return r.expr + " >= " + c.arg(f) + "::timestamptz AND " + r.expr + " < " + c.arg(t) + "::timestamptz"
}

// groupExpr is a grouping level's SQL: dates truncated to their part, in
// the report time zone for times.
func (c *compiler) groupExpr(r rRef, part string, where string) (string, bool) {
	if part == "" {
		return r.expr, true
	}
	switch r.typ {
	case rDate:
		return fmt.Sprintf("date_trunc('%s', %s)::date", part, r.expr), true
	case rDatetime:
		return fmt.Sprintf("date_trunc('%s', %s AT TIME ZONE %s)::date", part, r.expr, c.arg(c.loc.String())), true
	}
	c.bad(where, "invalid", "date_part applies to dates and times")
	return "", false
}
