package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.TimelineService = (*Store)(nil)

// Timeline implements core.TimelineService. Each source of items is one
// query, all sent together, that reads the newest limit+1 rows past the
// cursor from an index on (link, created_at, id) (migration 050); the
// rows are merged in Go (core.MergeTimeline), then the page's actors are
// named in one more query.
func (s *Store) Timeline(ctx context.Context, entity, id string, q core.TimelineQuery) (core.Page[core.TimelineItem], error) {
	page := core.Page[core.TimelineItem]{Items: []core.TimelineItem{}}
	if err := q.Validate(); err != nil {
		return page, err
	}
	t := &timeline{acc: core.AccessFromContext(ctx), q: q}
	if q.Cursor != "" {
		c, err := core.DecodeTimelineCursor(q.Cursor)
		if err != nil {
			return page, err
		}
		t.cursor = &c
	}

	db := s.db(ctx)
	if err := s.recordAccess(ctx, db, entity, id, core.ActView); err != nil {
		return page, err
	}
	leads, err := convertedLeads(ctx, db, t.acc, entity, id)
	if err != nil {
		return page, fmt.Errorf("timeline of %s %s: %w", entity, id, err)
	}

	t.build(entity, id, leads)
	sources, err := t.run(ctx, db)
	if err != nil {
		return page, fmt.Errorf("timeline of %s %s: %w", entity, id, err)
	}
	items, more := core.MergeTimeline(sources, q.PageSize())

	if err := finishTimeline(ctx, db, t.acc, items); err != nil {
		return page, fmt.Errorf("timeline of %s %s: %w", entity, id, err)
	}
	page.Items = items
	if more {
		page.NextCursor = core.EncodeTimelineCursor(items[len(items)-1])
	}
	return page, nil
}

// convertedLeads returns the live leads converted into the record that
// the caller may see: a deal's own lead, the lead whose contact it is,
// the leads whose account it is; none for other kinds.
func convertedLeads(ctx context.Context, db dbtx, acc *core.Access, entity, id string) ([]string, error) {
	q := &query{}
	var link string
	switch entity {
	case core.EntityDeal:
		link = "l.id = (SELECT d.lead_id FROM deals d WHERE d.id = " + q.arg(id) + "::uuid)"
	case core.EntityContact:
		link = "l.converted_contact_id = " + q.arg(id) + "::uuid"
	case core.EntityAccount:
		link = "l.converted_account_id = " + q.arg(id) + "::uuid"
	default:
		return nil, nil
	}

	where := link + " AND l.deleted_at IS NULL"
	switch c := visibleCond(q, acc, core.EntityLead, false, core.ActView, "l."); c {
	case "FALSE":
		return nil, nil
	case "":
	default:
		where += " AND " + c
	}
	rows, err := db.Query(ctx, "SELECT l.id::text FROM leads l WHERE "+where+" ORDER BY l.created_at, l.id", q.args...)
	if err != nil {
		return nil, fmt.Errorf("converted leads: %w", err)
	}
	leads, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return leads, wrap("converted leads", err)
}

// timeline builds and runs the source queries of one page.
type timeline struct {
	acc     *core.Access
	q       core.TimelineQuery
	cursor  *core.TimelineCursor
	sources []timelineSource
}

// timelineSource is one query of a page and how its rows become items.
type timelineSource struct {
	sql  string
	args []any
	scan func(row pgx.CollectableRow) (core.TimelineItem, error)
}

// timelineRecord is a record whose items a timeline shows: the requested
// one, or the leads converted into it (ids, one or more).
type timelineRecord struct {
	entity string
	ids    []string
}

// link is the condition that col names one of the records.
func (r timelineRecord) link(q *query, col string) string {
	if len(r.ids) == 1 {
		return col + " = " + q.arg(r.ids[0]) + "::uuid"
	}
	return col + " = ANY(" + q.arg(r.ids) + "::uuid[])"
}

// add appends a source: sel its columns (the record's id, the row's id
// and created_at first), from its FROM … WHERE, alias the table whose
// created_at and id order it; rows of an owned entity are kept to those
// the caller may see (none: no query at all).
func (t *timeline) add(q *query, sel, from, alias, entity string, scan func(pgx.CollectableRow) (core.TimelineItem, error)) {
	if entity != "" {
		switch c := visibleCond(q, t.acc, entity, false, core.ActView, alias); c {
		case "FALSE":
			return
		case "":
		default:
			from += " AND " + c
		}
	}
	t.sources = append(t.sources, timelineSource{sql: t.ordered(q, sel, from, alias, "created_at"), args: q.args, scan: scan})
}

// ordered is the statement of a source: sel from from, past the cursor,
// newest first by alias's at and id, the page's limit and one more row.
func (t *timeline) ordered(q *query, sel, from, alias, at string) string {
	at, id := alias+at, alias+"id"
	if t.cursor != nil {
		from += " AND (" + at + ", " + id + ") < (" + q.arg(t.cursor.At) + "::timestamptz, " + q.arg(t.cursor.ID) + "::uuid)"
	}
	return "SELECT " + sel + " FROM " + from + " ORDER BY " + at + " DESC, " + id + " DESC LIMIT " + strconv.Itoa(t.q.PageSize()+1)
}

// recordLinks are the columns that link activities, calls and e-mails to a
// record of each kind.
var recordLinks = map[string]string{core.EntityLead: "lead_id", core.EntityContact: "contact_id",
	core.EntityAccount: "account_id", core.EntityDeal: "deal_id"}

// build plans the page's sources: the record's own, then its converted
// leads' (their changes, notes, files, activities and calls), so that an
// item both yield is shown as the record's.
func (t *timeline) build(entity, id string, leads []string) {
	own := timelineRecord{entity: entity, ids: []string{id}}
	t.changes(own)
	t.notes(own)
	t.attachments(own)
	if col, ok := recordLinks[entity]; ok {
		t.activities(own, col)
	}
	switch entity {
	case core.EntityLead, core.EntityContact, core.EntityAccount:
		t.calls(own, "c."+recordLinks[entity], "calls c WHERE ")
	case core.EntityDeal:
		t.calls(own, "a.deal_id", "calls c JOIN activities a ON a.id = c.activity_id WHERE a.deleted_at IS NULL AND ")
	}
	t.emails(own)
	t.documents(own)
	t.payments(own)

	if len(leads) > 0 {
		lead := timelineRecord{entity: core.EntityLead, ids: leads}
		t.changes(lead)
		t.notes(lead)
		t.attachments(lead)
		t.activities(lead, "lead_id")
		t.calls(lead, "c.lead_id", "calls c WHERE ")
	}
}

// run sends the sources in one batch and returns their items, each
// source's newest first.
func (t *timeline) run(ctx context.Context, db dbtx) ([][]core.TimelineItem, error) {
	b := &pgx.Batch{}
	for _, src := range t.sources {
		b.Queue(src.sql, src.args...)
	}
	res := db.SendBatch(ctx, b)
	defer res.Close()

	out := make([][]core.TimelineItem, len(t.sources))
	for i, src := range t.sources {
		rows, err := res.Query()
		if err != nil {
			return nil, err
		}
		if out[i], err = pgx.CollectRows(rows, src.scan); err != nil {
			return nil, err
		}
	}
	return out, res.Close()
}

// scanItem reads the columns every source starts with (the record's id,
// the row's id and time) into it, and the rest into dest.
func scanItem(row pgx.CollectableRow, it *core.TimelineItem, dest ...any) error {
	if err := row.Scan(append([]any{&it.RecordID, &it.ID, &it.At}, dest...)...); err != nil {
		return err
	}
	it.At = it.At.UTC()
	return nil
}

// userActor is the actor of a row with a user (nil: the hub, named
// system); finishTimeline adds their name.
func userActor(id *string, system string) core.TimelineActor {
	if id == nil {
		return core.TimelineActor{Type: core.ActorSystem, Name: system}
	}
	return core.TimelineActor{Type: core.ActorUser, ID: *id}
}

// finishTimeline names the page's actors, the users behind API keys and
// sessions among them, and takes out of the items the fields the
// caller's role hides.
func finishTimeline(ctx context.Context, db dbtx, acc *core.Access, items []core.TimelineItem) error {
	refs := map[string][]string{}
	for _, it := range items {
		switch it.Actor.Type {
		case core.ActorUser, core.ActorByKey, core.ActorBySession:
			refs[it.Actor.Type] = append(refs[it.Actor.Type], it.Actor.ID)
		}
	}
	users, err := actorUsers(ctx, db, refs)
	if err != nil {
		return err
	}

	hidden := map[string][]string{}
	for i := range items {
		it := &items[i]
		if a, ok := users[it.Actor.Type+":"+it.Actor.ID]; ok {
			it.Actor = a
		} else if it.Actor.Type != core.ActorUser && it.Actor.Type != core.ActorSystem {
			it.Actor = core.TimelineActor{Type: core.ActorSystem, Name: it.Actor.Type + ":" + it.Actor.ID} // a key or session gone
		}
		if acc == nil {
			continue
		}
		e := it.SourceEntity()
		if _, ok := hidden[e]; !ok {
			hidden[e] = acc.HiddenFields(e)
		}
		if err := it.HideFields(hidden[e]); err != nil {
			return err
		}
	}
	return nil
}

// actorUsers returns the users refs name (by how: ActorUser, ActorByKey,
// ActorBySession → ids), each as an actor under "how:id".
func actorUsers(ctx context.Context, db dbtx, refs map[string][]string) (map[string]core.TimelineActor, error) {
	out := map[string]core.TimelineActor{}
	if len(refs) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, `SELECT $4 || ':' || k.id::text, u.id::text, u.name FROM api_keys k JOIN users u ON u.id = k.user_id
			WHERE k.id = ANY($1::uuid[])
		UNION ALL SELECT $5 || ':' || s.id::text, u.id::text, u.name FROM auth_sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id = ANY($2::uuid[])
		UNION ALL SELECT $6 || ':' || u.id::text, u.id::text, u.name FROM users u WHERE u.id = ANY($3::uuid[])`,
		nonNil(refs[core.ActorByKey]), nonNil(refs[core.ActorBySession]), nonNil(refs[core.ActorUser]),
		core.ActorByKey, core.ActorBySession, core.ActorUser)
	if err != nil {
		return nil, fmt.Errorf("timeline actors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		a := core.TimelineActor{Type: core.ActorUser}
		if err := rows.Scan(&ref, &a.ID, &a.Name); err != nil {
			return nil, fmt.Errorf("timeline actors: %w", err)
		}
		out[ref] = a
	}
	return out, wrap("timeline actors", rows.Err())
}
