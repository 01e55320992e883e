package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/crmhub/crmhub/core"
)

// recordTables are the tables of core.RecordKinds, the records with notes,
// files and a timeline: entity → table.
var recordTables = func() map[string]string {
	m := map[string]string{core.EntityProduct: "products", core.EntityService: "services"}
	for _, e := range core.RecordKinds() {
		if t, ok := ownedTables[e]; ok {
			m[e] = t
		}
	}
	return m
}()

// recordAccess says whether the context's user may act on a live record
// of one of core.RecordKinds, reading on db: nil when they may; ENOTFOUND
// when it does not exist, is deleted, or they cannot see it; EFORBIDDEN
// when they see it but lack act.
func (s *Store) recordAccess(ctx context.Context, db dbtx, entity, id string, act core.Action) error {
	table, ok := recordTables[entity]
	if !ok {
		return fmt.Errorf("record access: %q has no notes, files or timeline", entity)
	}
	if _, err := uuid.Parse(id); err != nil {
		return core.Errorf(core.ENOTFOUND, "%s not found", entity)
	}
	if _, owned := ownedTables[entity]; owned {
		return s.authorize(ctx, db, entity, table, false, id, act)
	}
	if err := s.authorize(ctx, db, entity, table, true, id, act); err != nil {
		return err
	}
	var exists bool
	err := db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+" WHERE id = $1 AND deleted_at IS NULL)", id).Scan(&exists)
	if err != nil {
		return fmt.Errorf("check %s %s: %w", entity, id, err)
	}
	if !exists {
		return core.Errorf(core.ENOTFOUND, "%s not found", entity)
	}
	return nil
}
