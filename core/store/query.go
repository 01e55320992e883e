package store

import (
	"strconv"
	"strings"
)

// query collects the conditions and arguments of a filtered SELECT.
type query struct {
	conds []string
	args  []any
}

func (q *query) where(cond string) { q.conds = append(q.conds, cond) }

// arg adds a bound argument and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func placeholders(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i))
	}
	return b.String()
}

// escapeLike escapes LIKE's wildcards in user text.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// anyEqual matches v against any of the columns.
func (q *query) anyEqual(v string, cols ...string) {
	p := q.arg(v)
	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = c + " = " + p
	}
	q.where("(" + strings.Join(conds, " OR ") + ")")
}

// anyLike matches text (case-insensitively, as a substring) against any
// of the columns.
func (q *query) anyLike(text string, cols ...string) {
	p := q.arg("%" + escapeLike(text) + "%")
	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = c + " ILIKE " + p
	}
	q.where("(" + strings.Join(conds, " OR ") + ")")
}
