package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/outbox"
)

// bulkRow is a row of a bulk import with where it stands.
type bulkRow struct {
	row     core.ImportRow
	outcome string // created, updated, skipped; "" failed; "slow" for the row-by-row path
	err     error
}

// importBulk applies a batch of import rows the fast way: records built
// and validated in Go, duplicates by key found with one query, the new
// records and their events written by COPY. Rows it cannot settle so
// (updates, links to check, a COPY that fails on a constraint) are marked
// for the row-by-row path.
func importBulk[E any, P recordPtr[E]](ctx context.Context, s *Store, tx pgx.Tx, t *table[E, P], o core.ImportOptions,
	owner string, rows []bulkRow, known map[string]bool) error {
	existing := map[string]bool{}
	if o.OnDuplicate != core.ImportCreate {
		var err error
		if existing, err = existingKeys(ctx, tx, o, rows); err != nil {
			return err
		}
	}

	now := s.now()
	var recs []P
	var idx []int
	seen := map[string]bool{}
	for i := range rows {
		r := &rows[i]
		if r.outcome != "" || r.err != nil {
			continue
		}
		if len(r.row.Errors) > 0 {
			r.err = core.Invalid(r.row.Errors)
			continue
		}
		if k := r.row.Key; k != "" && o.OnDuplicate != core.ImportCreate && (existing[k] || seen[k]) {
			if o.OnDuplicate == core.ImportSkip {
				r.outcome = "skipped"
			} else {
				r.outcome = "slow" // an update goes through the record's own path
			}
			continue
		}
		rec := P(new(E))
		if t.defaults != nil {
			t.defaults(rec)
		}
		if err := t.apply(ctx, tx, nil, rec, r.row.Patch); err != nil {
			r.err = err
			continue
		}
		if needsPrepare(rec, known) {
			r.outcome = "slow" // links to check against the database
			continue
		}
		b := rec.Base()
		if b.OwnerID == "" {
			b.OwnerID = owner
		}
		b.ID = uuid.Must(uuid.NewV7()).String()
		b.CreatedAt = now
		b.UpdatedAt = now
		b.Version = 1
		if k := r.row.Key; k != "" {
			seen[k] = true
		}
		recs = append(recs, rec)
		idx = append(idx, i)
	}

	if len(recs) == 0 {
		return nil
	}

	records := make([][]any, len(recs))
	events := make([][]any, len(recs))
	for i, rec := range recs {
		records[i] = t.args(rec)
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		events[i] = outbox.Values(outbox.NewEvent(ctx, t.entity, core.OpCreated, rec.Base().ID, 1, data, nil, now))
	}

	err := s.inTxOn(ctx, tx, func(tx pgx.Tx) error {
		if err := copyRows(ctx, tx, t, records); err != nil {
			return err
		}
		return copyEvents(ctx, tx, events)
	})
	if err != nil {
		// A constraint the checks could not see: row by row, to say which.
		for _, i := range idx {
			rows[i].outcome = "slow"
		}
		return nil
	}
	for _, i := range idx {
		rows[i].outcome = "created"
	}
	return nil
}

// newRecord builds a new record of t from patch as create does before its
// database checks (defaults, the patch, validation), with its id, owner
// (when the patch names none) and times: ready for copyRows.
func newRecord[E any, P recordPtr[E]](ctx context.Context, db dbtx, t *table[E, P], patch core.Patch, owner string, now time.Time) (P, error) {
	rec := P(new(E))
	if t.defaults != nil {
		t.defaults(rec)
	}
	if err := t.apply(ctx, db, nil, rec, patch); err != nil {
		return nil, err
	}
	b := rec.Base()
	if b.OwnerID == "" && !t.ownerless {
		b.OwnerID = owner
	}
	b.ID = uuid.Must(uuid.NewV7()).String()
	b.CreatedAt = now
	b.UpdatedAt = now
	b.Version = 1
	return rec, nil
}

// copyRows writes new records of t (their args) by COPY.
func copyRows[E any, P recordPtr[E]](ctx context.Context, tx pgx.Tx, t *table[E, P], rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, append(append([]string{}, t.columns...), t.commonColumns()...),
		pgx.CopyFromRows(rows))
	return err
}

// copyEvents writes change events (outbox.Values) by COPY.
func copyEvents(ctx context.Context, tx pgx.Tx, events [][]any) error {
	if len(events) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, outbox.Columns, pgx.CopyFromRows(events))
	return err
}

// existingKeys finds which of the rows' key values live records have, in
// one query.
func existingKeys(ctx context.Context, tx pgx.Tx, o core.ImportOptions, rows []bulkRow) (map[string]bool, error) {
	existing := map[string]bool{}
	var keys []string
	for _, r := range rows {
		if r.row.Key != "" {
			keys = append(keys, r.row.Key)
		}
	}
	if len(keys) == 0 {
		return existing, nil
	}
	q := keyBatchSQL(o.Entity, o.Key)
	if q == "" {
		return nil, errors.New("no batch key query")
	}
	found, err := tx.Query(ctx, q, keys)
	if err != nil {
		return nil, err
	}
	vals, err := pgx.CollectRows(found, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		existing[v] = true
	}
	return existing, nil
}

// needsPrepare reports whether a new record has links its table's prepare
// must check against the database: links to ids other than the known ones
// (found by the batch in its transaction).
func needsPrepare(rec any, known map[string]bool) bool {
	unknown := func(id *string) bool { return id != nil && !known[*id] }
	switch r := rec.(type) {
	case *core.Contact:
		return unknown(r.AccountID) || unknown(r.ReportsToID)
	case *core.Lead, *core.Account:
		return false
	}
	return true
}

// keyBatchSQL finds the live records having any of the key values ($1),
// returning the values found, or "" when the entity has no such key.
func keyBatchSQL(entity, key string) string {
	table := map[string]string{core.EntityLead: "leads", core.EntityContact: "contacts", core.EntityAccount: "accounts"}[entity]
	if table == "" {
		return ""
	}
	if k, ok := customImportKey(key); ok {
		return fmt.Sprintf("SELECT custom->>'%[1]s' FROM %[2]s WHERE (custom->>'%[1]s') = ANY($1) AND deleted_at IS NULL", k, table)
	}
	cols := map[string]map[string][]string{
		"id":    {"leads": {"id::text"}, "contacts": {"id::text"}, "accounts": {"id::text"}},
		"email": {"leads": {"email", "secondary_email"}, "contacts": {"email", "secondary_email"}, "accounts": {"email", "other_email"}},
		"phone": {"leads": {"phone", "mobile"}, "contacts": {"phone", "mobile", "other_phone"}, "accounts": {"phone", "other_phone"}},
		"inn":   {"accounts": {"inn"}},
	}[key][table]
	if len(cols) == 0 {
		return ""
	}
	q := ""
	for i, c := range cols {
		if i > 0 {
			q += " UNION "
		}
		q += fmt.Sprintf("SELECT %s FROM %s WHERE %s = ANY($1) AND deleted_at IS NULL", c, table, c)
	}
	return q
}

// copyCreate creates records of an ownerless or owned table from patches
// by COPY (records and events), in a savepoint; see CreateCatalogBulk.
func copyCreate[E any, P recordPtr[E]](ctx context.Context, s *Store, db dbtx, t *table[E, P], patches []core.Patch) ([]string, []error, error) {
	ids := make([]string, len(patches))
	errs := make([]error, len(patches))
	owner := ""
	if !t.ownerless {
		var err error
		if owner, err = s.defaultOwner(ctx, db); err != nil {
			return nil, nil, wrap("bulk create "+t.entity, err)
		}
	}
	now := s.now()
	var records, events [][]any
	var idx []int
	for i, p := range patches {
		rec, err := newRecord(ctx, db, t, p, owner, now)
		if err != nil {
			errs[i] = err
			continue
		}
		b := rec.Base()
		data, err := json.Marshal(rec)
		if err != nil {
			return nil, nil, wrap("bulk create "+t.entity, err)
		}
		records = append(records, t.args(rec))
		events = append(events, outbox.Values(outbox.NewEvent(ctx, t.entity, core.OpCreated, b.ID, 1, data, nil, now)))
		ids[i] = b.ID
		idx = append(idx, i)
	}
	if len(records) == 0 {
		return ids, errs, nil
	}
	err := s.inTxOn(ctx, db, func(tx pgx.Tx) error {
		if err := copyRows(ctx, tx, t, records); err != nil {
			return err
		}
		return copyEvents(ctx, tx, events)
	})
	if err == nil {
		return ids, errs, nil
	}
	var o writeOpts
	if tx, ok := db.(pgx.Tx); ok {
		o.tx = tx
	}
	for _, i := range idx { // one by one, to say which failed
		rec, err := t.createWith(ctx, s, patches[i], o)
		if err != nil {
			ids[i], errs[i] = "", err
			continue
		}
		ids[i] = P(rec).Base().ID
	}
	return ids, errs, nil
}
