package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/reportsql"
)

// query collects the conditions and arguments of a filtered SELECT.
type query struct {
	conds []string
	args  []any
	// like is where anyLike put its condition, its pattern and columns,
	// for searchable custom fields to join it (no pattern: none).
	like struct {
		at      int
		pattern string
		cols    []string
	}
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
	p := q.arg("%" + reportsql.EscapeLike(text) + "%")
	q.like.at = len(q.conds)
	q.like.pattern = p
	q.like.cols = cols
	q.where(likeCond(p, cols))
}

// alsoLike adds columns to the text match anyLike made, if it made one.
func (q *query) alsoLike(cols ...string) {
	if q.like.pattern == "" || len(cols) == 0 {
		return
	}
	q.like.cols = append(q.like.cols, cols...)
	q.conds[q.like.at] = likeCond(q.like.pattern, q.like.cols)
}

func likeCond(pattern string, cols []string) string {
	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = c + " ILIKE " + pattern
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// externalID matches records whose external ids hold system → id (uses
// the GIN index on external_ids).
func (q *query) externalID(sysID [2]string) {
	if sysID[0] == "" {
		return
	}
	b, _ := json.Marshal(map[string]string{sysID[0]: sysID[1]})
	q.where("external_ids @> " + q.arg(string(b)) + "::jsonb")
}

// mustExist checks that a link points at a live record of table that the
// context's user may see; a link to a missing or deleted record, or to
// one beyond the user's reach (existence does not leak), is an EINVALID
// naming the field.
func mustExist(ctx context.Context, db dbtx, table, field string, id *string) error {
	if id == nil {
		return nil
	}
	q := &query{}
	where := "id = " + q.arg(*id) + " AND deleted_at IS NULL"
	if entity, owned := tableEntities[table]; owned {
		if c := visibleCond(q, core.AccessFromContext(ctx), entity, false, core.ActView, ""); c != "" {
			where += " AND " + c
		}
	}
	var ok bool
	err := db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+" WHERE "+where+")", q.args...).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return core.Invalid([]core.FieldError{{Field: field, Code: "not_found", Message: "refers to a record that does not exist"}})
	}
	return nil
}

// jsonString renders s as a JSON string (for building patches).
func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
