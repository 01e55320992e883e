package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.Merger = (*Store)(nil)

// link is a column of another kind that refers to records of a kind.
type link struct {
	table, column string
	update        func(ctx context.Context, tx pgx.Tx, id string, p core.Patch) error
}

// Merge implements core.Merger.
func (s *Store) Merge(ctx context.Context, entity, targetID, duplicateID string) (any, error) {
	activities := func(ctx context.Context, tx pgx.Tx, id string, p core.Patch) error {
		_, err := s.tables.activity.updateWith(ctx, s, id, 0, p, writeOpts{tx: tx})
		return err
	}
	deals := func(ctx context.Context, tx pgx.Tx, id string, p core.Patch) error {
		_, err := s.tables.deal.updateWith(ctx, s, id, 0, p, writeOpts{tx: tx})
		return err
	}
	contacts := func(ctx context.Context, tx pgx.Tx, id string, p core.Patch) error {
		_, err := s.tables.contact.updateWith(ctx, s, id, 0, p, writeOpts{tx: tx})
		return err
	}
	switch entity {
	case core.EntityAccount:
		return mergeRecords(ctx, s, s.tables.account, targetID, duplicateID, []link{
			{"contacts", "account_id", contacts}, {"deals", "account_id", deals}, {"activities", "account_id", activities}})
	case core.EntityContact:
		return mergeRecords(ctx, s, s.tables.contact, targetID, duplicateID, []link{
			{"deals", "contact_id", deals}, {"activities", "contact_id", activities}})
	case core.EntityLead:
		return mergeRecords(ctx, s, s.tables.lead, targetID, duplicateID, []link{{"activities", "lead_id", activities}})
	}
	return nil, core.Errorf(core.EINVALID, "%ss cannot be merged", entity)
}

func mergeRecords[E any, P recordPtr[E]](ctx context.Context, s *Store, t *table[E, P], targetID, dupID string, links []link) (*E, error) {
	if targetID == dupID {
		return nil, core.Invalid([]core.FieldError{{Field: "duplicate_id", Code: "same_record", Message: "a record cannot be merged into itself"}})
	}
	var out *E
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Lock both in id order, so that concurrent merges cannot deadlock.
		first, second := targetID, dupID
		if second < first {
			first, second = second, first
		}
		recs := map[string]P{}
		for _, id := range []string{first, second} {
			rec, err := t.get(ctx, tx, id, "FOR UPDATE")
			if err != nil {
				return err
			}
			if l, ok := any(rec).(*core.Lead); ok && l.Converted {
				return core.Errorf(core.ECONFLICT, "lead %s is converted and cannot be merged", id)
			}
			recs[id] = rec
		}
		// The user must be allowed to edit the one that stays and delete
		// the one that goes; moving what links to it is the merge's own
		// work, whoever owns those records.
		if err := t.authorize(ctx, s, tx, targetID, core.ActEdit, nil); err != nil {
			return err
		}
		if err := t.authorize(ctx, s, tx, dupID, core.ActDelete, nil); err != nil {
			return err
		}
		ctx := core.WithoutAccess(ctx)
		target, dup := recs[targetID], recs[dupID]
		fill, err := fillPatch(t.schema(), target, dup)
		if err != nil {
			return err
		}
		if len(fill) > 0 {
			if _, err := t.updateWith(ctx, s, targetID, 0, fill, writeOpts{tx: tx}); err != nil {
				return prefixFields(err, "merged.")
			}
		}
		for _, l := range links {
			if err := moveLinks(ctx, tx, l, dupID, targetID); err != nil {
				return err
			}
		}
		if err := retire(ctx, s, tx, t, dup, targetID); err != nil {
			return err
		}
		got, err := t.get(ctx, tx, targetID, "")
		out = (*E)(got)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("merge %s into %s: %w", dupID, targetID, err)
	}
	return out, nil
}

// fillPatch takes the duplicate's writable values where the target has
// none; external ids are united (the target's win).
func fillPatch[E any](schema *core.Schema[E], target, dup any) (core.Patch, error) {
	tm, err := jsonMap(target)
	if err != nil {
		return nil, err
	}
	dm, err := jsonMap(dup)
	if err != nil {
		return nil, err
	}
	p := core.Patch{}
	for k, v := range dm {
		if !schema.Has(k) || k == "owner_id" || emptyJSON(v) {
			continue
		}
		if k == "external_ids" {
			var ids, have map[string]string
			_ = json.Unmarshal(v, &ids)
			_ = json.Unmarshal(tm[k], &have)
			for sys := range have {
				delete(ids, sys)
			}
			if len(ids) > 0 {
				p.Set(k, ids)
			}
			continue
		}
		if emptyJSON(tm[k]) {
			p[k] = v
		}
	}
	return p, nil
}

func jsonMap(v any) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}

func emptyJSON(v json.RawMessage) bool {
	switch string(v) {
	case "", "null", `""`, "{}", "[]", "false", "0":
		return true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) == nil && len(m) > 0 { // an object whose members are all empty
		for _, x := range m {
			if !emptyJSON(x) {
				return false
			}
		}
		return true
	}
	return false
}

// moveLinks points every live record that links to the duplicate at the
// target, each through its repository (and so with its event).
func moveLinks(ctx context.Context, tx pgx.Tx, l link, from, to string) error {
	rows, err := tx.Query(ctx, "SELECT id::text FROM "+l.table+" WHERE "+l.column+" = $1 AND deleted_at IS NULL ORDER BY id", from)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	p := core.PatchOf(map[string]any{l.column: to})
	for _, id := range ids {
		if err := l.update(ctx, tx, id, p); err != nil {
			return fmt.Errorf("move %s %s: %w", l.table, id, err)
		}
	}
	return nil
}

// retire deletes the duplicate softly with a "<kind>.merged" event whose
// data is the record and the target it was merged into.
func retire[E any, P recordPtr[E]](ctx context.Context, s *Store, tx pgx.Tx, t *table[E, P], dup P, into string) error {
	b := dup.Base()
	prev := b.Version
	b.UpdatedAt, b.Version = s.now(), prev+1
	data, err := jsonMap(dup)
	if err != nil {
		return err
	}
	if data["merged_into"], err = json.Marshal(into); err != nil {
		return err
	}
	return s.write(ctx, tx, mutation{
		sql:  "UPDATE " + t.name + " SET deleted_at = $2, updated_at = $2, version = $3 WHERE id = $1 AND version = $4",
		args: []any{b.ID, b.UpdatedAt, b.Version, prev}, wantRows: 1,
		entity: t.entity, op: core.OpMerged, id: b.ID, version: b.Version, data: data, changed: []string{"merged_into"}})
}
