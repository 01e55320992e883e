package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// EnsureAdmin returns the first administrator user, creating one named name
// when there is none (on the very first start). created says which.
func (s *Store) EnsureAdmin(ctx context.Context, name string) (u *core.User, created bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// Serialize concurrent first starts.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockKey+1)); err != nil {
			return err
		}
		u, err = s.adminUser(ctx, tx)
		if err == nil || core.ErrorCode(err) != core.ENOTFOUND {
			return err
		}
		now := s.now()
		u = &core.User{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Active: true, CreatedAt: now, UpdatedAt: now, Version: 1}
		created = true
		return s.write(ctx, tx, mutation{
			sql: `INSERT INTO users (id, name, email, active, is_admin, created_at, updated_at, version)
				VALUES ($1, $2, $3, $4, true, $5, $6, $7)`,
			args:   []any{u.ID, u.Name, u.Email, u.Active, u.CreatedAt, u.UpdatedAt, u.Version},
			entity: core.EntityUser, op: core.OpCreated, id: u.ID, version: 1, data: u, wantRows: 1})
	})
	if err != nil {
		return nil, false, fmt.Errorf("ensure admin user: %w", err)
	}
	return u, created, nil
}

func (s *Store) adminUser(ctx context.Context, db dbtx) (*core.User, error) {
	var u core.User
	err := db.QueryRow(ctx, `SELECT id, name, email, active, created_at, updated_at, version
		FROM users WHERE is_admin AND active ORDER BY created_at LIMIT 1`).
		Scan(&u.ID, &u.Name, &u.Email, &u.Active, &u.CreatedAt, &u.UpdatedAt, &u.Version)
	if err != nil {
		return nil, translate(err, core.EntityUser)
	}
	return &u, nil
}

// defaultOwner is the owner of a record created without one: the acting
// user, else the first administrator.
func (s *Store) defaultOwner(ctx context.Context) (string, error) {
	if a := core.ActorFromContext(ctx); a.UserID != "" {
		return a.UserID, nil
	}
	u, err := s.adminUser(ctx, s.db(ctx))
	if err != nil {
		return "", fmt.Errorf("default owner: %w", err)
	}
	return u.ID, nil
}
