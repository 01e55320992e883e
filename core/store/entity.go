package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// recordPtr is a pointer to a record type that embeds core.Record.
type recordPtr[E any] interface {
	*E
	Base() *core.Record
}

// table maps one record type to its table: the generic create, read,
// update, delete and list that every kind shares. Tables have the common
// columns id, owner_id, created_at, updated_at, version and deleted_at
// (records are deleted softly: kept for history, hidden from every read).
type table[E any, P recordPtr[E]] struct {
	entity string // "lead": names events and errors
	name   string // "leads"
	// ownerless tables (users) have no owner_id column.
	ownerless bool
	schema    func() *core.Schema[E]
	// cols lists the kind's own columns, each with the field it holds: the
	// one list their names, values and scan targets come from, in order.
	cols func(P) []col
	// columns are the names of cols, set by init.
	columns []string
	// validate checks the whole record before every write.
	validate func(P) error
	// defaults, when set, fills a new record before its patch is applied.
	defaults func(P)
	// dupKeys, when set, gives a new record's duplicate keys, checked with
	// the write's duplicate policy.
	dupKeys func(P) core.DuplicateKeys
	// guard, when set, refuses an update before the record is validated:
	// for changes that no other field could make valid (an event turning
	// into a task), so that the client hears the real reason.
	guard func(old, rec P) error
	// prepare, when set, completes and checks a record against the database
	// before every write: defaults taken from other records, links that
	// must exist and not be deleted, transition rules. old is nil on create.
	prepare func(ctx context.Context, db dbtx, old, rec P) error
	// prepareWith is prepare for a kind whose rules depend on the write's
	// options (a deal's reopening); a kind sets at most one of the two.
	prepareWith func(ctx context.Context, db dbtx, old, rec P, o writeOpts) error
	// extra, when set, returns statements to run in the write's transaction
	// after the record's own, such as a stage-history row.
	extra func(ctx context.Context, old, rec P) []queuedStmt
	// sorts maps sort fields (columns, NOT NULL) to their cursor value.
	sorts map[string]func(P) string
	// customFields, when set, gives the kind's custom field definitions:
	// its records carry a custom column (see customize).
	customFields func(ctx context.Context, db dbtx) ([]core.CustomField, error)

	selectSQL, insertSQL, updateSQL string
}

// commonColumns are the columns of core.Record.
func (t *table[E, P]) commonColumns() []string {
	cols := []string{"id"}
	if !t.ownerless {
		cols = append(cols, "owner_id", "team_id")
	}
	cols = append(cols, "created_at", "updated_at", "version")
	if t.customFields != nil {
		cols = append(cols, "custom")
	}
	return cols
}

// customize gives t's records custom fields, defined for t's entity in s.
func customize[E any, P recordPtr[E]](s *Store, t *table[E, P]) {
	t.customFields = func(ctx context.Context, db dbtx) ([]core.CustomField, error) {
		return s.customFieldsFor(ctx, db, t.entity)
	}
	t.init()
	knows := t.schema().Knows
	s.kinds[t.entity] = customKind{ownerless: t.ownerless,
		builtin: func(name string) bool { return slices.Contains(recordMembers, name) || knows(name) }}
}

// col is one of a kind's own columns: its name and a pointer to the
// record's field it holds, which is both the value written and the scan
// target; or, for a column written otherwise than its field, a computed.
type col struct {
	name  string
	field any
}

// computed is the field of a col whose written value is not the field's
// own: derived from other fields, or normalized on the way in.
type computed struct {
	target any        // the scan target; nil when the column is never read back
	value  func() any // the value written
}

// derived is a column computed from other fields (an account's name_key):
// written from value, never read back into the record.
func derived(name string, value func() any) col { return col{name, computed{value: value}} }

// arg is the value written to c. A field is written dereferenced, as the
// value itself and not its pointer: pgx sends a nil map or slice as NULL
// but a pointer to one as a JSON null, so passing the pointer would change
// what a NULL column gets.
func (c col) arg() any {
	if f, ok := c.field.(computed); ok {
		return f.value()
	}
	return reflect.ValueOf(c.field).Elem().Interface()
}

// target is the scan target of c; nil, which pgx skips, for a derived
// column.
func (c col) target() any {
	if f, ok := c.field.(computed); ok {
		return f.target
	}
	return c.field
}

// values returns the values of rec's own columns, in order.
func (t *table[E, P]) values(rec P) []any {
	cols := t.cols(rec)
	out := make([]any, len(cols), len(cols)+5)
	for i, c := range cols {
		out[i] = c.arg()
	}
	return out
}

// targets returns the scan targets of rec's own columns, in order.
func (t *table[E, P]) targets(rec P) []any {
	cols := t.cols(rec)
	out := make([]any, len(cols), len(cols)+5)
	for i, c := range cols {
		out[i] = c.target()
	}
	return out
}

// init builds the table's SQL once.
func (t *table[E, P]) init() *table[E, P] {
	t.columns = nil
	for _, c := range t.cols(P(new(E))) {
		t.columns = append(t.columns, c.name)
	}
	common := t.commonColumns()
	cols := strings.Join(append(append([]string{}, t.columns...), common...), ", ")
	n := len(t.columns) + len(common)
	t.selectSQL = "SELECT " + cols + " FROM " + t.name
	t.insertSQL = "INSERT INTO " + t.name + " (" + cols + ") VALUES (" + placeholders(n) + ")"
	// $n+1 is the id, $n+2 the version the update is based on.
	t.updateSQL = fmt.Sprintf("UPDATE %s SET (%s) = (%s) WHERE id = $%d AND version = $%d AND deleted_at IS NULL",
		t.name, cols, placeholders(n), n+1, n+2)
	return t
}

func (t *table[E, P]) args(rec P) []any {
	b := rec.Base()
	args := append(t.values(rec), b.ID)
	if !t.ownerless {
		args = append(args, b.OwnerID, b.TeamID)
	}
	args = append(args, b.CreatedAt, b.UpdatedAt, b.Version)
	if t.customFields != nil {
		args = append(args, customArg(b.Custom))
	}
	return args
}

func (t *table[E, P]) scan(row pgx.Row) (P, error) {
	rec := P(new(E))
	b := rec.Base()
	targets := t.targets(rec)
	if t.ownerless {
		targets = append(targets, &b.ID, &b.CreatedAt, &b.UpdatedAt, &b.Version)
	} else {
		targets = append(targets, &b.ID, &b.OwnerID, &b.TeamID, &b.CreatedAt, &b.UpdatedAt, &b.Version)
	}
	if t.customFields != nil {
		targets = append(targets, &b.Custom)
	}
	if err := row.Scan(targets...); err != nil {
		return nil, err
	}
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return rec, nil
}

// apply applies patch to rec (a copy of old, nil on create) and validates;
// db reads the custom field definitions.
func (t *table[E, P]) apply(ctx context.Context, db dbtx, old, rec P, patch core.Patch) error {
	patch, errs, err := t.applyCustom(ctx, db, old, rec, patch)
	if err != nil {
		return err
	}
	if err := core.Invalid(append(errs, t.schema().Apply((*E)(rec), patch, "")...)); err != nil {
		return err
	}
	if old != nil && t.guard != nil {
		if err := t.guard(old, rec); err != nil {
			return err
		}
	}
	return t.validate(rec)
}

func (t *table[E, P]) prepareDB(ctx context.Context, db dbtx, old, rec P, o writeOpts) error {
	switch {
	case t.prepareWith != nil:
		return t.prepareWith(ctx, db, old, rec, o)
	case t.prepare != nil:
		return t.prepare(ctx, db, old, rec)
	}
	return nil
}

func (t *table[E, P]) extraStmts(ctx context.Context, old, rec P) []queuedStmt {
	if t.extra == nil {
		return nil
	}
	return t.extra(ctx, old, rec)
}

// writeOpts are the rules of one create or update beyond its kind's own:
// the zero value is a client's write, and a call site that needs more
// names it.
type writeOpts struct {
	// tx, when set, is the transaction the write runs in: store code that
	// composes writes passes its transaction here. Else the write runs in
	// the one the context carries (Atomically), else in one of its own.
	tx pgx.Tx
	// reopen lets a closed deal change, into an open stage (Reopen).
	reopen bool
	// skipDuplicates creates the record without the duplicate policy: for
	// a lead's conversion (a lead is never its own contact's duplicate)
	// and a form submission (its form's own policy has decided).
	skipDuplicates bool
	// extra, when set, returns statements a create runs in its
	// transaction, given the new record's id (a submission's row).
	extra func(id string) []queuedStmt
}

// db is the connection the write runs on.
func (o writeOpts) db(ctx context.Context, s *Store) dbtx {
	if o.tx == nil {
		return s.db(ctx)
	}
	return o.tx
}

// create stores a new record from patch, as a client's create does; fill,
// when given, sets what no client may (such as the lead a deal came from)
// before the checks.
func (t *table[E, P]) create(ctx context.Context, s *Store, patch core.Patch, fill ...func(P)) (*E, error) {
	return t.createWith(ctx, s, patch, writeOpts{}, fill...)
}

// createWith is create with the write's options o.
func (t *table[E, P]) createWith(ctx context.Context, s *Store, patch core.Patch, o writeOpts, fill ...func(P)) (*E, error) {
	db := o.db(ctx, s)
	acc := core.AccessFromContext(ctx)
	if acc != nil && acc.Level(t.entity, core.ActCreate) == core.LevelNone {
		return nil, core.Forbidden(t.entity, core.ActCreate)
	}
	if acc != nil {
		if err := acc.CheckPatch(t.entity, patch); err != nil {
			return nil, err
		}
	}
	rec := P(new(E))
	if t.defaults != nil {
		t.defaults(rec)
	}
	if err := t.apply(ctx, db, nil, rec, patch); err != nil {
		return nil, err
	}
	for _, f := range fill {
		f(rec)
	}

	if t.dupKeys != nil && !o.skipDuplicates {
		existing, err := s.checkDuplicates(ctx, db, t.entity, t.dupKeys(rec))
		if err != nil {
			return nil, err
		}
		if existing != "" { // the merge policy: the existing record stands for the new one
			rec, err := t.get(ctx, db, existing, "")
			return (*E)(rec), err
		}
	}
	if err := t.prepareDB(ctx, db, nil, rec, o); err != nil {
		return nil, err
	}
	if err := t.checkCustomLinks(ctx, db, nil, rec); err != nil {
		return nil, err
	}

	b := rec.Base()
	if b.OwnerID == "" && !t.ownerless {
		owner, err := s.defaultOwner(ctx, db)
		if err != nil {
			return nil, err
		}
		b.OwnerID = owner
	}
	if !t.ownerless {
		if err := mayOwn(ctx, t.entity, core.ActCreate, b.OwnerID, teamOf(b)); err != nil {
			return nil, err
		}
	}
	b.ID = uuid.Must(uuid.NewV7()).String()
	b.CreatedAt = s.now()
	b.UpdatedAt, b.Version = b.CreatedAt, 1
	extra := t.extraStmts(ctx, nil, rec)
	if o.extra != nil {
		extra = append(extra, o.extra(b.ID)...)
	}
	err := s.write(ctx, db, mutation{sql: t.insertSQL, args: t.args(rec), wantRows: 1,
		entity: t.entity, op: core.OpCreated, id: b.ID, version: 1, data: rec, extra: extra})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", t.entity, err)
	}
	return (*E)(rec), nil
}

func (t *table[E, P]) get(ctx context.Context, db dbtx, id, lock string) (P, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "%s not found", t.entity)
	}
	rec, err := t.scan(db.QueryRow(ctx, t.selectSQL+" WHERE id = $1 AND deleted_at IS NULL "+lock, id))
	if err != nil {
		return nil, translate(err, t.entity)
	}
	return rec, nil
}

// getFor is get for the context's user: a record they may not act on
// with act is not found.
func (t *table[E, P]) getFor(ctx context.Context, db dbtx, id string, act core.Action) (P, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "%s not found", t.entity)
	}
	q := &query{}
	where := "id = " + q.arg(id) + " AND deleted_at IS NULL"
	if c := visibleCond(q, core.AccessFromContext(ctx), t.entity, t.ownerless, act, ""); c != "" {
		where += " AND " + c
	}
	rec, err := t.scan(db.QueryRow(ctx, t.selectSQL+" WHERE "+where, q.args...))
	if err != nil {
		return nil, translate(err, t.entity)
	}
	return rec, nil
}

// authorize checks that the context's user may act on the record id and
// set the fields of patch (their role's field rules).
func (t *table[E, P]) authorize(ctx context.Context, s *Store, db dbtx, id string, act core.Action, patch core.Patch) error {
	acc := core.AccessFromContext(ctx)
	if acc == nil {
		return nil
	}
	if err := s.authorize(ctx, db, t.entity, t.name, t.ownerless, id, act); err != nil {
		return err
	}
	return acc.CheckPatch(t.entity, patch)
}

// get1 returns the first record matching a WHERE … clause.
func (t *table[E, P]) get1(ctx context.Context, db dbtx, where string, args ...any) (*E, error) {
	rec, err := t.scan(db.QueryRow(ctx, t.selectSQL+" "+where, args...))
	if err != nil {
		return nil, translate(err, t.entity)
	}
	return (*E)(rec), nil
}

// lockFor reads a record for a write and checks the expected version.
func (t *table[E, P]) lockFor(ctx context.Context, tx pgx.Tx, id string, ifVersion int64) (P, error) {
	rec, err := t.get(ctx, tx, id, "FOR UPDATE")
	if err != nil {
		return nil, err
	}
	if v := rec.Base().Version; ifVersion > 0 && v != ifVersion {
		return nil, core.Errorf(core.EPRECONDITION, "the %s is at version %d, not %d", t.entity, v, ifVersion)
	}
	return rec, nil
}

// update applies patch to the record id (at version ifVersion, unless
// 0), as a client's update does.
func (t *table[E, P]) update(ctx context.Context, s *Store, id string, ifVersion int64, patch core.Patch) (*E, error) {
	return t.updateWith(ctx, s, id, ifVersion, patch, writeOpts{})
}

// updateWith is update with the write's options o.
func (t *table[E, P]) updateWith(ctx context.Context, s *Store, id string, ifVersion int64, patch core.Patch, o writeOpts) (*E, error) {
	db := o.db(ctx, s)
	var out P
	err := s.inTxOn(ctx, db, func(tx pgx.Tx) error {
		old, err := t.lockFor(ctx, tx, id, ifVersion)
		if err != nil {
			return err
		}
		if err := t.authorize(ctx, s, tx, id, core.ActEdit, patch); err != nil {
			return err
		}
		rec := P(new(E))
		*rec = *old
		if err := t.apply(ctx, tx, old, rec, patch); err != nil {
			return err
		}
		if err := t.prepareDB(ctx, tx, old, rec, o); err != nil {
			return err
		}
		if err := t.checkCustomLinks(ctx, tx, old, rec); err != nil {
			return err
		}
		b := rec.Base()
		if b.OwnerID == "" {
			b.OwnerID = old.Base().OwnerID
		}
		if ob := old.Base(); !t.ownerless && (b.OwnerID != ob.OwnerID || teamOf(b) != teamOf(ob)) {
			if err := mayOwn(ctx, t.entity, core.ActEdit, b.OwnerID, teamOf(b)); err != nil {
				return err
			}
		}
		out = old // unless rec is written
		return t.rewrite(ctx, s, tx, old, rec, core.OpUpdated, func() { out = rec })
	})
	if err != nil {
		return nil, fmt.Errorf("update %s %s: %w", t.entity, id, err)
	}
	return (*E)(out), nil
}

// rewrite stores rec in place of old with a new version and its event;
// when nothing changed it writes and announces nothing. done runs when
// rec was written.
func (t *table[E, P]) rewrite(ctx context.Context, s *Store, tx pgx.Tx, old, rec P, op string, done func()) error {
	changed, err := core.ChangedFields(old, rec, "updated_at", "version")
	if err != nil || len(changed) == 0 {
		return err
	}
	b, prev := rec.Base(), old.Base().Version
	b.UpdatedAt, b.Version = s.now(), prev+1
	err = s.write(ctx, tx, mutation{sql: t.updateSQL, args: append(t.args(rec), b.ID, prev), wantRows: 1,
		entity: t.entity, op: op, id: b.ID, version: b.Version, data: rec, changed: changed,
		extra: t.extraStmts(ctx, old, rec)})
	if err == nil {
		done()
	}
	return err
}

func (t *table[E, P]) delete(ctx context.Context, s *Store, id string, ifVersion int64) error {
	return t.deleteWith(ctx, s, id, ifVersion, writeOpts{})
}

// deleteWith is delete in o's transaction, if any.
func (t *table[E, P]) deleteWith(ctx context.Context, s *Store, id string, ifVersion int64, o writeOpts) error {
	db := o.db(ctx, s)
	err := s.inTxOn(ctx, db, func(tx pgx.Tx) error {
		rec, err := t.lockFor(ctx, tx, id, ifVersion)
		if err != nil {
			return err
		}
		if err := t.authorize(ctx, s, tx, id, core.ActDelete, nil); err != nil {
			return err
		}
		b := rec.Base()
		prev := b.Version
		b.UpdatedAt, b.Version = s.now(), prev+1
		return s.write(ctx, tx, mutation{
			sql:  "UPDATE " + t.name + " SET deleted_at = $2, updated_at = $2, version = $3 WHERE id = $1 AND version = $4",
			args: []any{b.ID, b.UpdatedAt, b.Version, prev}, wantRows: 1,
			entity: t.entity, op: core.OpDeleted, id: b.ID, version: b.Version, data: rec})
	})
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", t.entity, id, err)
	}
	return nil
}

// list returns one page of the records matching q's conditions, adding the
// common parameters and the keyset condition of the cursor.
func (t *table[E, P]) list(ctx context.Context, s *Store, q *query, p core.ListParams) (core.Page[E], error) {
	page := core.Page[E]{Items: []E{}}
	sortValue, ok := t.sorts[p.Sort.Field]
	col := p.Sort.Field
	cast := "" // the cursor value's, for a custom field's number
	if key, custom := strings.CutPrefix(p.Sort.Field, "custom."); custom {
		var err error
		if col, cast, sortValue, err = t.customSort(ctx, s.db(ctx), key); err != nil {
			return page, err
		}
		ok = true
	}
	if !ok {
		return page, core.Errorf(core.EINVALID, "cannot sort %s by %q", t.name, p.Sort.Field)
	}
	q.where("deleted_at IS NULL")
	parts, all := visibleParts(q.arg, core.AccessFromContext(ctx), t.entity, t.ownerless, core.ListActionFromContext(ctx), "")
	if !all && len(parts) == 0 {
		q.where("FALSE")
	}
	if p.OwnerID != "" {
		q.where("owner_id = " + q.arg(p.OwnerID))
	}
	if !p.CreatedFrom.IsZero() {
		q.where("created_at >= " + q.arg(p.CreatedFrom))
	}
	if !p.CreatedTo.IsZero() {
		q.where("created_at < " + q.arg(p.CreatedTo))
	}
	if err := t.customConds(ctx, s.db(ctx), q, p.Custom); err != nil {
		return page, err
	}
	if err := t.customSearch(ctx, s.db(ctx), q); err != nil {
		return page, err
	}
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor, p.Sort)
		if err != nil {
			return page, err
		}
		var v any = c.Value
		if col == "created_at" || col == "updated_at" {
			tm, err := time.Parse(time.RFC3339Nano, c.Value)
			if err != nil {
				return page, badCursor()
			}
			v = tm
		}
		cmp := ">"
		if p.Sort.Desc {
			cmp = "<"
		}
		q.where(fmt.Sprintf("(%s, id) %s (%s%s, %s)", col, cmp, q.arg(v), cast, q.arg(c.ID)))
	}
	dir := "ASC"
	if p.Sort.Desc {
		dir = "DESC"
	}
	order := fmt.Sprintf(" ORDER BY %s %s, id %s LIMIT %d", col, dir, dir, p.Limit+1)
	where := strings.Join(q.conds, " AND ")
	sql := t.selectSQL + " WHERE " + where + order
	if len(parts) > 0 {
		// One branch per way of seeing a record, each leaving out the
		// records of the ones before it, each its own first page; the
		// page is the first of their union (visibleParts says why).
		branches := make([]string, len(parts))
		for k, part := range parts {
			cond := where
			for _, before := range parts[:k] {
				cond += " AND (" + before.cond + ") IS NOT TRUE"
			}
			switch {
			case part.owners != "" && ownerSorted(t.name, col):
				// Several owners: each one's first page from the
				// (owner_id, col, id) index, then the first of theirs,
				// whatever the statistics say.
				branches[k] = "(SELECT v.* FROM unnest(" + part.owners + "::uuid[]) AS o(uid) CROSS JOIN LATERAL (" +
					t.selectSQL + " WHERE " + cond + " AND owner_id = o.uid" + order + ") v" + order + ")"
			default:
				branches[k] = "(" + t.selectSQL + " WHERE " + cond + " AND " + part.cond + order + ")"
			}
		}
		sql = strings.Join(branches, " UNION ALL ") + order
	}
	rows, err := s.db(ctx).Query(ctx, sql, q.args...)
	if err != nil {
		return page, fmt.Errorf("list %s: %w", t.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := t.scan(rows)
		if err != nil {
			return page, fmt.Errorf("list %s: %w", t.name, err)
		}
		page.Items = append(page.Items, *rec)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list %s: %w", t.name, err)
	}
	if len(page.Items) > p.Limit {
		page.Items = page.Items[:p.Limit]
		last := P(&page.Items[p.Limit-1])
		page.NextCursor = encodeCursor(p.Sort, sortValue(last), last.Base().ID)
	}
	return page, nil
}

// timeSort and the common sorts every table offers.
func timeSort[E any, P recordPtr[E]](get func(*core.Record) time.Time) func(P) string {
	return func(rec P) string { return get(rec.Base()).Format(time.RFC3339Nano) }
}

func commonSorts[E any, P recordPtr[E]](extra map[string]func(P) string) map[string]func(P) string {
	m := map[string]func(P) string{
		"created_at": timeSort[E, P](func(r *core.Record) time.Time { return r.CreatedAt }),
		"updated_at": timeSort[E, P](func(r *core.Record) time.Time { return r.UpdatedAt }),
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// repo gives a kind its Create, Get, Update and Delete; a kind embeds it
// and adds List (and overrides what it does differently).
type repo[E any, P recordPtr[E]] struct {
	s *Store
	t *table[E, P]
}

// Create implements core.Repository.
func (r repo[E, P]) Create(ctx context.Context, p core.Patch) (*E, error) {
	return r.t.create(ctx, r.s, p)
}

// Get implements core.Repository: a record the context's user may not
// see is not found.
func (r repo[E, P]) Get(ctx context.Context, id string) (*E, error) {
	rec, err := r.t.getFor(ctx, r.s.db(ctx), id, core.ActView)
	return (*E)(rec), wrap("get "+r.t.entity, err)
}

// Update implements core.Repository.
func (r repo[E, P]) Update(ctx context.Context, id string, ifVersion int64, p core.Patch) (*E, error) {
	return r.t.update(ctx, r.s, id, ifVersion, p)
}

// Delete implements core.Repository.
func (r repo[E, P]) Delete(ctx context.Context, id string, ifVersion int64) error {
	return r.t.delete(ctx, r.s, id, ifVersion)
}
