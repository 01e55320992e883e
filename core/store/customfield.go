package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// customRetention is how long a deleted field's values are kept for a
// restore.
const customRetention = 30 * 24 * time.Hour

// customTTL is how long a replica reuses the definitions it read: a change
// reaches this replica at once (the cache is dropped) and the others
// within customTTL.
const customTTL = 3 * time.Second

// customFieldCols are the columns scanCustomField reads.
const customFieldCols = "id::text, definition, position, created_at, updated_at, version"

// fieldCache keeps each entity's live definitions for customTTL.
type fieldCache struct {
	mu sync.Mutex
	m  map[string]cachedFields
}

type cachedFields struct {
	defs []core.CustomField
	at   time.Time
}

// customTables are the tables of the kinds that carry custom fields.
var customTables = map[string]string{
	core.EntityLead: "leads", core.EntityContact: "contacts", core.EntityAccount: "accounts", core.EntityDeal: "deals",
	core.EntityActivity: "activities", core.EntityProduct: "products", core.EntityService: "services",
	core.EntityQuote: "quotes", core.EntitySalesOrder: "sales_orders", core.EntityInvoice: "invoices",
	core.EntityAct: "acts", core.EntityRealization: "realizations", core.EntityPayment: "payments",
}

// linkEntities are the kinds a link field may point at.
func linkEntities() []string {
	out := make([]string, 0, len(ownedTables))
	for e := range ownedTables {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}

// customFieldsFor returns entity's live definitions, from the cache when
// fresh, else read through db (a write's transaction: one that waited for
// a connection of its own could wait for ever on a busy pool).
func (s *Store) customFieldsFor(ctx context.Context, db dbtx, entity string) ([]core.CustomField, error) {
	now := s.now()
	s.fields.mu.Lock()
	c, ok := s.fields.m[entity]
	s.fields.mu.Unlock()
	if ok && now.Sub(c.at) < customTTL {
		return c.defs, nil
	}
	defs, err := s.readCustomFields(ctx, db, entity)
	if err != nil {
		return nil, err
	}
	s.fields.mu.Lock()
	if s.fields.m == nil {
		s.fields.m = map[string]cachedFields{}
	}
	s.fields.m[entity] = cachedFields{defs: defs, at: now}
	s.fields.mu.Unlock()
	return defs, nil
}

func (s *Store) dropCustomFields(entity string) {
	s.fields.mu.Lock()
	delete(s.fields.m, entity)
	s.fields.mu.Unlock()
}

func (s *Store) readCustomFields(ctx context.Context, db dbtx, entity string) ([]core.CustomField, error) {
	rows, err := db.Query(ctx, `SELECT `+customFieldCols+` FROM custom_fields
		WHERE entity = $1 AND deleted_at IS NULL ORDER BY position, key`, entity)
	if err != nil {
		return nil, wrap("custom fields", err)
	}
	defs, err := pgx.CollectRows(rows, scanCustomField)
	return defs, wrap("custom fields", err)
}

func scanCustomField(row pgx.CollectableRow) (core.CustomField, error) {
	var (
		f       core.CustomField
		id      string
		def     []byte
		pos     int
		c, u    time.Time
		version int64
	)
	if err := row.Scan(&id, &def, &pos, &c, &u, &version); err != nil {
		return f, err
	}
	if err := json.Unmarshal(def, &f); err != nil {
		return f, fmt.Errorf("stored custom field %s: %w", id, err)
	}
	f.ID = id
	f.Position = pos
	f.CreatedAt = c.UTC()
	f.UpdatedAt = u.UTC()
	f.Version = version
	return f, nil
}

// checkCustomEntity refuses a kind without custom fields.
func checkCustomEntity(entity string) error {
	if _, ok := customTables[entity]; !ok {
		return core.Errorf(core.ENOTFOUND, "%s records have no custom fields", entity)
	}
	return nil
}

// CustomFields implements core.CustomFieldService.
func (s *Store) CustomFields(ctx context.Context, entity string) ([]core.CustomField, error) {
	if err := checkCustomEntity(entity); err != nil {
		return nil, err
	}
	defs, err := s.readCustomFields(ctx, s.db(ctx), entity)
	if defs == nil {
		defs = []core.CustomField{}
	}
	return defs, err
}

// AllCustomFields implements core.CustomFieldService.
func (s *Store) AllCustomFields(ctx context.Context) ([]core.CustomField, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT `+customFieldCols+` FROM custom_fields
		WHERE deleted_at IS NULL ORDER BY entity, position, key`)
	if err != nil {
		return nil, wrap("custom fields", err)
	}
	defs, err := pgx.CollectRows(rows, scanCustomField)
	return defs, wrap("custom fields", err)
}

// CustomField implements core.CustomFieldService.
func (s *Store) CustomField(ctx context.Context, entity, key string) (*core.CustomField, error) {
	if err := checkCustomEntity(entity); err != nil {
		return nil, err
	}
	f, err := s.customField(ctx, s.db(ctx), entity, key, "")
	return f, wrap("custom field", err)
}

func (s *Store) customField(ctx context.Context, db dbtx, entity, key, lock string) (*core.CustomField, error) {
	rows, err := db.Query(ctx, `SELECT `+customFieldCols+` FROM custom_fields
		WHERE entity = $1 AND key = $2 AND deleted_at IS NULL `+lock, entity, key)
	if err != nil {
		return nil, err
	}
	f, err := pgx.CollectExactlyOneRow(rows, scanCustomField)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "%s has no custom field %q", entity, key)
	}
	return &f, err
}

// customKind is what the store knows of a kind with custom fields, from
// its table (customize registers it).
type customKind struct {
	ownerless bool
	// builtin says whether a name is a built-in member of its records (a
	// key may not take it).
	builtin func(string) bool
}

// recordMembers are the members every record has, or may: no key takes
// them.
var recordMembers = []string{"id", "owner_id", "team_id", "created_at", "updated_at", "version", "deleted_at", "custom"}

// CreateCustomField implements core.CustomFieldService.
func (s *Store) CreateCustomField(ctx context.Context, entity string, p core.Patch) (*core.CustomField, error) {
	if err := checkCustomEntity(entity); err != nil {
		return nil, err
	}
	f := core.CustomField{Entity: entity}
	errs := core.CustomFieldSchema().Apply(&f, p, "")
	if len(errs) == 0 {
		errs = f.Validate(s.kinds[entity].builtin, linkEntities())
	}
	if err := core.Invalid(errs); err != nil {
		return nil, err
	}
	now := s.now()
	f.ID = uuid.Must(uuid.NewV7()).String()
	f.CreatedAt = now
	f.UpdatedAt = now
	f.Version = 1
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// One definition change of an entity at a time: the count and
		// the unique index below see each other.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('custom_fields:' || $1))`, entity); err != nil {
			return err
		}
		var n, maxPos int
		var deleted *time.Time
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE deleted_at IS NULL), coalesce(max(position), 0),
			max(deleted_at) FILTER (WHERE key = $2) FROM custom_fields WHERE entity = $1`, entity, f.Key).Scan(&n, &maxPos, &deleted); err != nil {
			return err
		}
		if n >= core.MaxCustomFields {
			return core.Errorf(core.ECONFLICT, "%s has %d custom fields, the most it may have", entity, core.MaxCustomFields)
		}
		if deleted != nil {
			return core.Errorf(core.ECONFLICT, "the field %q was deleted on %s: restore it (POST …/restore) or use another key until it is purged %s",
				f.Key, deleted.Format("02.01.2006"), deleted.Add(customRetention).Format("02.01.2006"))
		}
		if _, ok := p["position"]; !ok {
			f.Position = maxPos + 10
		}
		if f.Unique {
			if err := s.addUniqueIndex(ctx, tx, &f); err != nil {
				return err
			}
		}
		if err := s.syncIndexes(ctx, tx, &f, true); err != nil {
			return err
		}
		def, err := json.Marshal(definitionOf(f))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO custom_fields (id, entity, key, definition, position, created_at, updated_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $6, 1)`, f.ID, entity, f.Key, def, f.Position, now); err != nil {
			return translate(err, "custom field")
		}
		return s.emit(ctx, tx, core.EntityCustomField, core.OpCreated, f.ID, 1, f)
	})
	s.dropCustomFields(entity)
	if err != nil {
		return nil, wrap("create custom field", err)
	}
	return &f, nil
}

// definitionOf is what the definition column holds: the field without
// the members its own columns keep.
func definitionOf(f core.CustomField) core.CustomField {
	f.ID = ""
	f.Position = 0
	f.Version = 0
	f.CreatedAt = time.Time{}
	f.UpdatedAt = time.Time{}
	return f
}

// The indexes of a custom field. Its key is checked by core (latin
// letters, digits, _; at most 40), so it is safe to write into SQL, and
// the names stay within PostgreSQL's 63 bytes for every table.

// uniqueIndex names the index that makes a custom field unique.
func uniqueIndex(f *core.CustomField) string {
	return fmt.Sprintf("cf_%s_%s_uniq", customTables[f.Entity], f.Key)
}

// customIndexKey returns the key of the custom field whose unique index
// is name.
func customIndexKey(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "cf_")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutSuffix(rest, "_uniq")
	if !ok {
		return "", false
	}
	for _, table := range customTables {
		if key, ok := strings.CutPrefix(rest, table+"_"); ok {
			return key, true
		}
	}
	return "", false
}

// valueExpr is the expression filters compare and indexes hold: a number
// as a number; anything else as its text (a date's and a datetime's is in
// time order).
func valueExpr(f *core.CustomField) string {
	if f.Type.Numeric() {
		return numberExpr(f)
	}
	return fmt.Sprintf("(custom->>'%s')", f.Key)
}

// numberExpr is a number field's value as a number, NULL for a text that
// is none. An index build reads the old versions of rows a type change
// rewrote too (another transaction might still see them), so its
// expression must not fail on the values they held.
func numberExpr(f *core.CustomField) string {
	return fmt.Sprintf(`(CASE WHEN custom->>'%[1]s' ~ '^-?[0-9]+(\.[0-9]+)?$' THEN (custom->>'%[1]s')::numeric END)`, f.Key)
}

// eqIndex names the index a filter by the value of a filterable field
// reads.
func eqIndex(f *core.CustomField) string {
	return fmt.Sprintf("cf_%s_%s_eq", customTables[f.Entity], f.Key)
}

// eqOwnerIndex names the index a filter by the value reads within one
// owner's records (a manager's list, each of a head's subordinates).
func eqOwnerIndex(f *core.CustomField) string {
	return fmt.Sprintf("cf_%s_%s_eqo", customTables[f.Entity], f.Key)
}

// indexedEquality says whether a filter by the field's value reads its
// own indexes: a filterable field with one value per record. One leads
// with the value and follows with the lists' default order; one (for
// kinds with owners) leads with the owner, then the value and the order.
// A list of the newest records holding a value — everyone's, or one
// owner's after another as a manager's and a head's lists read — reads
// just its page whatever the statistics say: straight after a bulk load,
// or in a cached plan made for another value, as well as analyzed. A
// range reads the same indexes: all its records, or an owner's.
func indexedEquality(f *core.CustomField) bool {
	return f.Filterable && f.Type != core.FieldMultiPicklist && f.Type != core.FieldTextarea
}

// sortIndex names the index a list sorted by a sortable field reads.
func sortIndex(f *core.CustomField) string {
	return fmt.Sprintf("cf_%s_%s_sort", customTables[f.Entity], f.Key)
}

// sortExpr is what a list sorted by the field orders by: every record has
// a value in it, so that the cursor's (value, id) comparison holds. One
// without a value sorts first: below every number a field may hold
// (integers reach ±2^53), before every text.
func sortExpr(f *core.CustomField) string {
	if f.Type.Numeric() {
		return fmt.Sprintf("coalesce(%s, %s)", numberExpr(f), noNumber)
	}
	return fmt.Sprintf("coalesce(custom->>'%s', '')", f.Key)
}

// noNumber is the sort value of a record without a number.
const noNumber = "-10000000000000000"

// customSort returns how a list sorts by the custom field key: the
// expression, the cast of its cursor value, and the value of a record.
func (t *table[E, P]) customSort(ctx context.Context, db dbtx, key string) (string, string, func(P) string, error) {
	var defs []core.CustomField
	if t.customFields != nil {
		var err error
		if defs, err = t.customFields(ctx, db); err != nil {
			return "", "", nil, err
		}
	}
	i := slices.IndexFunc(defs, func(d core.CustomField) bool { return d.Key == key })
	if acc := core.AccessFromContext(ctx); i >= 0 && acc != nil && acc.Field(t.entity, "custom."+key) == core.FieldHidden {
		i = -1
	}
	if i < 0 || !defs[i].Sortable {
		return "", "", nil, core.Invalid([]core.FieldError{{Field: "sort", Code: "invalid_choice",
			Message: "custom." + key + " is not a sortable custom field of " + t.entity}})
	}
	d := defs[i]
	cast := ""
	if d.Type.Numeric() {
		cast = "::numeric"
	}
	value := func(rec P) string {
		switch v := rec.Base().Custom[key].(type) {
		case nil:
			if d.Type.Numeric() {
				return noNumber
			}
			return ""
		case string:
			return v
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
	}
	return sortExpr(&d), cast, value, nil
}

// addUniqueIndex makes the field's values unique among live records. A
// field is unique from its creation, and no record holds a value of a key
// before its field exists, so the index builds but after a type change
// that made two values one (reshape says so).
func (s *Store) addUniqueIndex(ctx context.Context, tx pgx.Tx, f *core.CustomField) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE UNIQUE INDEX %s ON %s ((custom->>'%s')) WHERE deleted_at IS NULL AND custom ? '%s'`,
		pgx.Identifier{uniqueIndex(f)}.Sanitize(), customTables[f.Entity], f.Key, f.Key))
	return err
}

// syncIndexes makes a field's indexes what its definition asks: the value
// indexes while it is filterable (indexedEquality; other fields filter
// through the table's GIN index on custom), a sort index while it is
// sortable. The build holds the table's writes for its time, once per
// definition change.
func (s *Store) syncIndexes(ctx context.Context, tx pgx.Tx, f *core.CustomField, live bool) error {
	table := customTables[f.Entity]
	indexes := []struct {
		name, def string
		want      bool
	}{
		{eqIndex(f), fmt.Sprintf("(%s, created_at, id) WHERE deleted_at IS NULL", valueExpr(f)), indexedEquality(f)},
		{eqOwnerIndex(f), fmt.Sprintf("(owner_id, %s, created_at, id) WHERE deleted_at IS NULL", valueExpr(f)),
			indexedEquality(f) && !s.kinds[f.Entity].ownerless},
		{sortIndex(f), fmt.Sprintf("(%s, id) WHERE deleted_at IS NULL", sortExpr(f)), f.Sortable},
	}
	for _, ix := range indexes {
		name := pgx.Identifier{ix.name}.Sanitize()
		sql := "DROP INDEX IF EXISTS " + name
		if live && ix.want {
			sql = fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s %s", name, table, ix.def)
		}
		if _, err := tx.Exec(ctx, sql); err != nil {
			return err
		}
	}
	return nil
}

// customConds adds a list's conditions on custom fields to q: a value or
// a range of a filterable field through its value indexes, a value of
// another through the table's GIN index (custom @> {key: value}).
func (t *table[E, P]) customConds(ctx context.Context, db dbtx, q *query, filters []core.CustomFilter) error {
	if len(filters) == 0 {
		return nil
	}
	var defs []core.CustomField
	if t.customFields != nil {
		var err error
		if defs, err = t.customFields(ctx, db); err != nil {
			return err
		}
	}
	var errs []core.FieldError
	for _, cf := range filters {
		i := slices.IndexFunc(defs, func(d core.CustomField) bool { return d.Key == cf.Key })
		if acc := core.AccessFromContext(ctx); acc != nil && acc.Field(t.entity, "custom."+cf.Key) == core.FieldHidden {
			i = -1 // a field the role hides filters nothing: it does not exist for them
		}
		if i < 0 {
			errs = append(errs, core.FieldError{Field: "custom." + cf.Key, Code: "unknown_parameter", Message: "no such custom field"})
			continue
		}
		ferrs := addCustomCond(q, &defs[i], cf)
		errs = append(errs, ferrs...)
	}
	return core.Invalid(errs)
}

// valueText is a stored value as custom->>'key' gives it.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// customSearch lets a list's text match (q) take the kind's searchable
// custom text fields too.
func (t *table[E, P]) customSearch(ctx context.Context, db dbtx, q *query) error {
	if q.like.pattern == "" || t.customFields == nil {
		return nil
	}
	defs, err := t.customFields(ctx, db)
	if err != nil {
		return err
	}
	acc := core.AccessFromContext(ctx)
	var cols []string
	for _, d := range defs {
		if !d.Searchable || (acc != nil && acc.Field(t.entity, "custom."+d.Key) == core.FieldHidden) {
			continue
		}
		cols = append(cols, fmt.Sprintf("(custom->>'%s')", d.Key))
	}
	q.alsoLike(cols...)
	return nil
}

func addCustomCond(q *query, d *core.CustomField, cf core.CustomFilter) []core.FieldError {
	var errs []core.FieldError
	if cf.Value != "" {
		var vals []any
		for _, v := range d.FilterValues(cf.Value) {
			val, ferrs := d.FilterValue(v)
			errs = append(errs, ferrs...)
			if len(ferrs) == 0 {
				vals = append(vals, val)
			}
		}
		switch {
		case len(vals) == 0:
		case indexedEquality(d) && len(vals) == 1:
			q.where(fmt.Sprintf("%s = %s%s", valueExpr(d), q.arg(valueText(vals[0])), numericCast(d)))
		case indexedEquality(d):
			texts := make([]string, len(vals))
			for i, v := range vals {
				texts[i] = valueText(v)
			}
			array := q.arg(texts) + "::text[]"
			if d.Type.Numeric() {
				array += "::numeric[]"
			}
			q.where(fmt.Sprintf("%s = ANY(%s)", valueExpr(d), array))
		default: // the table's GIN index serves every key
			alts := make([]string, len(vals))
			for i, v := range vals {
				alts[i] = "custom @> " + q.arg(map[string]any{d.Key: v}) + "::jsonb"
			}
			q.where("(" + strings.Join(alts, " OR ") + ")")
		}
	}
	if cf.From == "" && cf.To == "" {
		return errs
	}
	if !d.Filterable || !d.Type.Ranged() {
		return append(errs, core.FieldError{Field: "custom." + d.Key, Code: "not_filterable",
			Message: "only a filterable number, money, date or datetime field is filtered by range"})
	}
	for _, b := range []struct {
		text, op string
		upper    bool
	}{{cf.From, ">=", false}, {cf.To, "<=", true}} {
		if b.text == "" {
			continue
		}
		v, ferrs := d.FilterBound(b.text, b.upper)
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		q.where(fmt.Sprintf("%s %s %s%s", valueExpr(d), b.op, q.arg(v), numericCast(d)))
	}
	return errs
}

// numericCast is the cast of a bound value compared with a number field's.
func numericCast(d *core.CustomField) string {
	if d.Type.Numeric() {
		return "::numeric"
	}
	return ""
}

// UpdateCustomField implements core.CustomFieldService.
func (s *Store) UpdateCustomField(ctx context.Context, entity, key string, ifVersion int64, p core.Patch) (*core.CustomField, error) {
	if err := checkCustomEntity(entity); err != nil {
		return nil, err
	}
	var out *core.CustomField
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := s.customField(ctx, tx, entity, key, "FOR UPDATE")
		if err != nil {
			return err
		}
		if ifVersion != 0 && old.Version != ifVersion {
			return core.Errorf(core.EPRECONDITION, "the field changed since version %d (now %d)", ifVersion, old.Version)
		}
		f := *old
		f.Options = slices.Clone(old.Options)
		errs := core.CustomFieldSchema().Apply(&f, p, "")
		if len(errs) == 0 {
			errs = append(f.CheckUpdate(old), f.Validate(s.kinds[entity].builtin, linkEntities())...)
		}
		if err := core.Invalid(errs); err != nil {
			return err
		}
		changed, err := core.ChangedFields(old, &f, "updated_at", "version")
		if err != nil || len(changed) == 0 {
			out = old
			return err
		}
		f.UpdatedAt = s.now()
		f.Version = old.Version + 1
		if f.Reshapes(old) {
			if err := s.reshape(ctx, tx, old, &f); err != nil {
				return err
			}
		} else if f.Filterable != old.Filterable || f.Sortable != old.Sortable {
			if err := s.syncIndexes(ctx, tx, &f, true); err != nil {
				return err
			}
		}
		def, err := json.Marshal(definitionOf(f))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE custom_fields SET definition = $2, position = $3, updated_at = $4, version = $5 WHERE id = $1`,
			f.ID, def, f.Position, f.UpdatedAt, f.Version); err != nil {
			return err
		}
		out = &f
		return s.emitChanged(ctx, tx, core.EntityCustomField, core.OpUpdated, f.ID, f.Version, f, changed)
	})
	s.dropCustomFields(entity)
	return out, wrap("update custom field", err)
}

// reshapeBatch is how many records a type change converts at a time.
const reshapeBatch = 5000

// reshape converts every stored value of old to f (another type, scale or
// a shorter text) in tx: all of them or none. A value that does not
// convert makes it a 422 that counts them and shows a few; the records
// keep their versions (the field changed, not their data), and the field's
// event says what it became.
func (s *Store) reshape(ctx context.Context, tx pgx.Tx, old, f *core.CustomField) error {
	if err := s.dropIndexes(ctx, tx, old); err != nil {
		return err
	}
	table := customTables[f.Entity]
	var total, failed int
	var examples []string
	after := "00000000-0000-0000-0000-000000000000"
	for {
		rows, err := tx.Query(ctx, `SELECT id::text, custom->$1 FROM `+table+` WHERE custom ? $1 AND id > $2 ORDER BY id LIMIT $3`,
			f.Key, after, reshapeBatch)
		if err != nil {
			return err
		}
		var ids []string
		var vals []*string // JSON; nil removes the value (a blank text)
		n := 0
		for rows.Next() {
			var id string
			var v any
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return err
			}
			n++
			after = id
			nv, errs := f.Convert(v)
			if len(errs) > 0 {
				failed++
				if len(examples) < 3 {
					examples = append(examples, fmt.Sprintf("«%v» (%s %s)", v, f.Entity, id))
				}
				continue
			}
			ids = append(ids, id)
			vals = append(vals, jsonText(nv))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		total += n
		if failed == 0 && len(ids) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE `+table+` t SET custom = CASE WHEN v.val IS NULL THEN t.custom - $1
				ELSE jsonb_set(t.custom, ARRAY[$1], v.val) END FROM unnest($2::uuid[], $3::jsonb[]) v(id, val) WHERE t.id = v.id`,
				f.Key, ids, vals); err != nil {
				return err
			}
		}
		if n < reshapeBatch {
			break
		}
	}
	if failed > 0 {
		return core.Invalid([]core.FieldError{{Field: "type", Code: "values_do_not_convert",
			Message: fmt.Sprintf("%d of %d stored values do not convert to %s, e.g. %s: change or clear them first",
				failed, total, describeType(f), strings.Join(examples, ", "))}})
	}
	if f.Unique {
		if err := s.addUniqueIndex(ctx, tx, f); err != nil {
			if core.ErrorCode(translate(err, f.Entity)) == core.ECONFLICT {
				return core.Errorf(core.ECONFLICT, "converted to %s, values of the unique %s repeat: make them differ first", describeType(f), f.Key)
			}
			return err
		}
	}
	return s.syncIndexes(ctx, tx, f, true)
}

func jsonText(v any) *string {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	s := string(b)
	return &s
}

// describeType names a type as a message does: "decimal (scale 2)",
// "text of at most 20 characters".
func describeType(f *core.CustomField) string {
	switch {
	case f.Type == core.FieldDecimal:
		return fmt.Sprintf("decimal (scale %d)", f.Scale)
	case f.Type == core.FieldText || f.Type == core.FieldTextarea:
		return fmt.Sprintf("%s of at most %d characters", f.Type, f.MaxLength)
	}
	return string(f.Type)
}

// dropIndexes drops every index of a field.
func (s *Store) dropIndexes(ctx context.Context, tx pgx.Tx, f *core.CustomField) error {
	if _, err := tx.Exec(ctx, "DROP INDEX IF EXISTS "+pgx.Identifier{uniqueIndex(f)}.Sanitize()); err != nil {
		return err
	}
	return s.syncIndexes(ctx, tx, f, false)
}

// DeleteCustomField implements core.CustomFieldService: the values move
// from each record's custom object to its custom_deleted one, without a
// new version of the record (the field went, not the record's data).
func (s *Store) DeleteCustomField(ctx context.Context, entity, key string) (*core.CustomField, error) {
	if err := checkCustomEntity(entity); err != nil {
		return nil, err
	}
	var out *core.CustomField
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		f, err := s.customField(ctx, tx, entity, key, "FOR UPDATE")
		if err != nil {
			return err
		}
		table := customTables[entity]
		if _, err := tx.Exec(ctx, `UPDATE `+table+` SET custom_deleted = custom_deleted || jsonb_build_object($1::text, custom->$1),
			custom = custom - $1 WHERE custom ? $1`, key); err != nil {
			return err
		}
		if err := s.dropIndexes(ctx, tx, f); err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE custom_fields SET deleted_at = $2, updated_at = $2, version = version + 1 WHERE id = $1`,
			f.ID, now); err != nil {
			return err
		}
		f.UpdatedAt = now
		f.Version++
		out = f
		return s.emit(ctx, tx, core.EntityCustomField, core.OpDeleted, f.ID, f.Version, f)
	})
	s.dropCustomFields(entity)
	return out, wrap("delete custom field", err)
}

// RestoreCustomField implements core.CustomFieldService.
func (s *Store) RestoreCustomField(ctx context.Context, entity, key string) (*core.CustomField, error) {
	if err := checkCustomEntity(entity); err != nil {
		return nil, err
	}
	var out *core.CustomField
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+customFieldCols+` FROM custom_fields
			WHERE entity = $1 AND key = $2 AND deleted_at IS NOT NULL FOR UPDATE`, entity, key)
		if err != nil {
			return err
		}
		f, err := pgx.CollectExactlyOneRow(rows, scanCustomField)
		if errors.Is(err, pgx.ErrNoRows) {
			return core.Errorf(core.ENOTFOUND, "%s has no deleted custom field %q", entity, key)
		}
		if err != nil {
			return err
		}
		table := customTables[entity]
		if _, err := tx.Exec(ctx, `UPDATE `+table+` SET custom = custom || jsonb_build_object($1::text, custom_deleted->$1),
			custom_deleted = custom_deleted - $1 WHERE custom_deleted ? $1`, key); err != nil {
			return err
		}
		if f.Unique {
			if err := s.addUniqueIndex(ctx, tx, &f); err != nil {
				return translate(err, "custom field")
			}
		}
		if err := s.syncIndexes(ctx, tx, &f, true); err != nil {
			return err
		}
		f.UpdatedAt = s.now()
		f.Version++
		if _, err := tx.Exec(ctx, `UPDATE custom_fields SET deleted_at = NULL, updated_at = $2, version = $3 WHERE id = $1`,
			f.ID, f.UpdatedAt, f.Version); err != nil {
			return err
		}
		out = &f
		return s.emit(ctx, tx, core.EntityCustomField, core.OpUpdated, f.ID, f.Version, f)
	})
	s.dropCustomFields(entity)
	return out, wrap("restore custom field", err)
}

// PurgeCustomFields drops the values and definitions of the fields
// deleted more than 30 days ago and returns how many it purged.
func (s *Store) PurgeCustomFields(ctx context.Context) (int, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT entity, key FROM custom_fields WHERE deleted_at < $1`, s.now().Add(-customRetention))
	if err != nil {
		return 0, wrap("purge custom fields", err)
	}
	type gone struct{ entity, key string }
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (gone, error) {
		var g gone
		return g, r.Scan(&g.entity, &g.key)
	})
	if err != nil {
		return 0, wrap("purge custom fields", err)
	}
	for i, g := range list {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE `+customTables[g.entity]+` SET custom_deleted = custom_deleted - $1 WHERE custom_deleted ? $1`,
				g.key); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DELETE FROM custom_fields WHERE entity = $1 AND key = $2 AND deleted_at IS NOT NULL`, g.entity, g.key)
			return err
		})
		if err != nil {
			return i, wrap("purge custom fields", err)
		}
	}
	return len(list), nil
}

// applyCustom moves the custom member of patch into rec's custom values
// under the kind's definitions, and returns the rest of the patch and the
// errors. A create without custom values still takes the defaults and
// must give the required ones.
func (t *table[E, P]) applyCustom(ctx context.Context, db dbtx, old, rec P, patch core.Patch) (core.Patch, []core.FieldError, error) {
	raw, given := patch["custom"]
	if t.customFields == nil || (!given && old != nil) {
		return patch, nil, nil
	}
	defs, err := t.customFields(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	rest := make(core.Patch, len(patch))
	for k, v := range patch {
		if k != "custom" {
			rest[k] = v
		}
	}
	b := rec.Base()
	vals, errs := core.ApplyCustom(defs, b.Custom, raw, old == nil)
	b.Custom = vals
	return rest, errs, nil
}

// checkCustomLinks checks that the link values rec sets (new or changed
// since old) name live records the context's user may see.
func (t *table[E, P]) checkCustomLinks(ctx context.Context, db dbtx, old, rec P) error {
	if t.customFields == nil || len(rec.Base().Custom) == 0 {
		return nil
	}
	defs, err := t.customFields(ctx, db)
	if err != nil {
		return err
	}
	for _, d := range defs {
		v, ok := rec.Base().Custom[d.Key].(string)
		if d.Type != core.FieldLink || !ok || (old != nil && old.Base().Custom[d.Key] == v) {
			continue
		}
		if err := mustExist(ctx, db, ownedTables[d.LinkEntity], "custom."+d.Key, &v); err != nil {
			return err
		}
	}
	return nil
}

// customArg is the custom column's value: an object, never NULL.
func customArg(v core.CustomValues) core.CustomValues {
	if v == nil {
		return core.CustomValues{}
	}
	return v
}
