package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// visibleCond returns the SQL condition that keeps, of entity's rows, the
// ones acc reaches with act, its arguments added to q; "" when nothing is
// restricted (the hub's own work, an all level, an ownerless kind such as
// the catalog, whose levels are all or none). alias, when not "", prefixes
// the columns ("l." for "l.owner_id").
//
// The reach is a list of owners and teams and the records shared with the
// user or their teams, each an index condition, so PostgreSQL combines
// them (a BitmapOr) instead of filtering every row:
//
//	owner_id = ANY($users) OR team_id = ANY($teams)
//	OR id = ANY(ARRAY(SELECT record_id FROM record_shares WHERE …))
//
// For edit and delete only edit shares count.
func visibleCond(q *query, acc *core.Access, entity string, ownerless bool, act core.Action, alias string) string {
	return visibleCondArgs(q.arg, acc, entity, ownerless, act, alias)
}

// visibleCondArgs is visibleCond adding its arguments with arg.
func visibleCondArgs(arg func(any) string, acc *core.Access, entity string, ownerless bool, act core.Action, alias string) string {
	parts, all := visibleParts(arg, acc, entity, ownerless, act, alias)
	switch {
	case all:
		return ""
	case len(parts) == 0:
		return "FALSE"
	}
	conds := make([]string, len(parts))
	for i, p := range parts {
		conds[i] = p.cond
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// visiblePart is one way of reaching records: its condition, and for the
// owners when there are several, the placeholder of their array.
type visiblePart struct {
	cond, owners string
}

// visibleParts returns visibleCond's alternatives one by one: by owner,
// by team, by share; all when nothing is restricted, none when nothing is
// visible. A list runs each as a branch of its own, in the list's order
// (see table.list): an OR would make PostgreSQL fetch and sort every row
// the user sees to return the first page, and an owner's rows come in
// order straight from the (owner_id, created_at, id) index. One owner is
// compared with = rather than ANY, which an index delivers in order.
func visibleParts(arg func(any) string, acc *core.Access, entity string, ownerless bool, act core.Action, alias string) (parts []visiblePart, all bool) {
	if acc == nil {
		return nil, true
	}
	level := acc.Level(entity, act)
	if level == core.LevelAll || (ownerless && level != core.LevelNone) {
		return nil, true
	}
	if level == core.LevelNone {
		return nil, false
	}
	r := acc.Reach(level)
	switch len(r.Users) {
	case 0:
	case 1:
		parts = append(parts, visiblePart{cond: alias + "owner_id = " + arg(r.Users[0]) + "::uuid"})
	default:
		users := arg(r.Users)
		parts = append(parts, visiblePart{cond: alias + "owner_id = ANY(" + users + "::uuid[])", owners: users})
	}
	teams := arg(nonNil(r.Teams))
	if len(r.Teams) > 0 {
		parts = append(parts, visiblePart{cond: alias + "team_id = ANY(" + teams + "::uuid[])"})
	}
	access := ""
	if act == core.ActEdit || act == core.ActDelete {
		access = " AND access = 'edit'"
	}
	parts = append(parts, visiblePart{cond: alias + "id = ANY(ARRAY(SELECT record_id FROM record_shares WHERE entity = " + arg(entity) +
		" AND (user_id = " + arg(acc.UserID) + "::uuid OR team_id = ANY(" + teams + "::uuid[]))" + access + "))"})
	return parts, false
}

// ownerSortedBy are the orders, besides created_at, in which an index
// (owner_id, column, id) of the table (migration 047) delivers an
// owner's records: table → columns.
var ownerSortedBy = map[string][]string{
	"contacts": {"last_name"}, "leads": {"last_name"}, "accounts": {"name"}, "deals": {"name"},
}

// ownerSorted says whether an index delivers an owner's records of table
// in col's order.
func ownerSorted(table, col string) bool {
	return col == "created_at" || slices.Contains(ownerSortedBy[table], col)
}

// authorize says whether the context's user may act on the record id of
// entity (in table): nil when they may; ENOTFOUND when it does not exist
// or they cannot see it (existence does not leak); EFORBIDDEN naming the
// right when they see it but lack act. The hub's own work may do
// anything to a record that exists.
func (s *Store) authorize(ctx context.Context, db dbtx, entity, table string, ownerless bool, id string, act core.Action) error {
	acc := core.AccessFromContext(ctx)
	if ownerless || core.RightsEntity(entity) == "" {
		if acc == nil {
			return nil
		}
		switch {
		case acc.Level(entity, act) != core.LevelNone:
			return nil
		case acc.Level(entity, core.ActView) == core.LevelNone:
			return core.Errorf(core.ENOTFOUND, "%s not found", entity)
		}
		return core.Forbidden(entity, act)
	}
	q := &query{}
	where := "id = " + q.arg(id)
	if !unerased[table] {
		where += " AND deleted_at IS NULL"
	}
	view, may := "TRUE", "TRUE"
	if c := visibleCond(q, acc, entity, false, core.ActView, ""); c != "" {
		view = c
	}
	if act == core.ActView {
		may = view
	} else if c := visibleCond(q, acc, entity, false, act, ""); c != "" {
		may = c
	}
	var seen, allowed bool
	err := db.QueryRow(ctx, "SELECT coalesce("+view+", FALSE), coalesce("+may+", FALSE) FROM "+table+" WHERE "+where,
		q.args...).Scan(&seen, &allowed)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || (err == nil && !seen && !allowed):
		return core.Errorf(core.ENOTFOUND, "%s not found", entity)
	case err != nil:
		return fmt.Errorf("check access to %s %s: %w", entity, id, err)
	case !allowed:
		return core.Forbidden(entity, act)
	}
	return nil
}

// unerased are the owned tables whose rows are never deleted (a call is a
// fact), so they have no deleted_at.
var unerased = map[string]bool{"calls": true}

// mayOwn refuses to give a record (on create, or by changing its owner or
// team) to an owner or a team beyond what act reaches for the user: a
// manager whose rights are own keeps what they make.
func mayOwn(ctx context.Context, entity string, act core.Action, owner, team string) error {
	acc := core.AccessFromContext(ctx)
	if acc == nil {
		return nil
	}
	r := acc.Reach(acc.Level(entity, act))
	if !r.Covers(owner, "") {
		return core.Errorf(core.EFORBIDDEN, "your role cannot give %s records to that owner: they are beyond your %s right", entity, act)
	}
	if team != "" && !r.All && !slices.Contains(r.Teams, team) {
		return core.Errorf(core.EFORBIDDEN, "your role cannot give %s records to a team you are not in", entity)
	}
	return nil
}

// teamOf is a record's team id, "" for none.
func teamOf(b *core.Record) string {
	if b.TeamID == nil {
		return ""
	}
	return *b.TeamID
}

// mayView says whether the context's user may see the record id of entity,
// deleted or not (its history outlives it): ENOTFOUND when not.
func (s *Store) mayView(ctx context.Context, entity, id string) error {
	acc := core.AccessFromContext(ctx)
	table, owned := ownedTables[entity]
	if acc == nil || !owned {
		return nil
	}
	q := &query{}
	where := "id = " + q.arg(id)
	cond := visibleCond(q, acc, entity, false, core.ActView, "")
	if cond == "" {
		return nil
	}
	var seen bool
	err := s.db(ctx).QueryRow(ctx, "SELECT coalesce("+cond+", FALSE) FROM "+table+" WHERE "+where, q.args...).Scan(&seen)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !seen) {
		return core.Errorf(core.ENOTFOUND, "%s not found", entity)
	}
	if err != nil {
		return fmt.Errorf("check access to %s %s: %w", entity, id, err)
	}
	return nil
}
