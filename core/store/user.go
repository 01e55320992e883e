package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// users keeps users; Store.Users returns it.
type users struct{ repo[core.User, *core.User] }

var _ core.UserService = users{}

func newUserTable() *table[core.User, *core.User] {
	return (&table[core.User, *core.User]{
		entity: core.EntityUser, name: "users", schema: core.UserSchema, ownerless: true,
		cols: func(u *core.User) []col {
			return []col{{"name", &u.Name}, {"email", &u.Email}, {"phone_extensions", &u.PhoneExtensions},
				{"active", &u.Active}, {"is_admin", &u.IsAdmin}, {"role_id", &u.RoleID}, {"oidc_subject", &u.OIDCSubject}}
		},
		defaults: func(u *core.User) {
			role := core.RoleManagerID
			u.Active = true
			u.PhoneExtensions = []string{}
			u.RoleID = &role
		},
		validate: (*core.User).Validate,
		prepare:  checkUser,
		sorts:    commonSorts(map[string]func(*core.User) string{"name": func(u *core.User) string { return u.Name }}),
	}).init()
}

// checkUser refuses a role that does not exist (a user left without one
// gets the default role again) and an extension another live user has.
func checkUser(ctx context.Context, db dbtx, old, u *core.User) error {
	if u.RoleID == nil {
		role := core.RoleManagerID
		u.RoleID = &role
	}
	if err := mustExist(ctx, db, "roles", "role_id", u.RoleID); err != nil {
		return err
	}
	return checkExtensions(ctx, db, old, u)
}

// checkExtensions refuses an extension another live user already has: a
// call to it must reach one person.
func checkExtensions(ctx context.Context, db dbtx, _, u *core.User) error {
	if len(u.PhoneExtensions) == 0 || !u.Active {
		return nil
	}
	var taken []string
	err := db.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT e), '{}') FROM users, unnest(phone_extensions) e
		WHERE phone_extensions && $1 AND e = ANY($1) AND active AND deleted_at IS NULL AND id::text <> $2`,
		u.PhoneExtensions, u.ID).Scan(&taken)
	if err != nil {
		return err
	}
	if len(taken) > 0 {
		return core.Invalid([]core.FieldError{{Field: "phone_extensions", Code: "taken",
			Message: fmt.Sprintf("already used by another active user: %v", taken)}})
	}
	return nil
}

// Users returns the user repository.
func (s *Store) Users() core.UserService {
	return users{repo[core.User, *core.User]{s: s, t: s.tables.user}}
}

// Create implements core.UserService.
func (r users) Create(ctx context.Context, p core.Patch) (*core.User, error) {
	out, err := r.repo.Create(ctx, p)
	r.s.access.forget("")
	return out, err
}

// Update implements core.UserService. A change of role or activity
// changes what the user and those above them reach: resolved accesses
// are dropped.
func (r users) Update(ctx context.Context, id string, ifVersion int64, p core.Patch) (*core.User, error) {
	out, err := r.repo.Update(ctx, id, ifVersion, p)
	r.s.access.forget("")
	return out, err
}

// Delete implements core.UserService: users own records, so they are
// deactivated rather than deleted.
func (r users) Delete(ctx context.Context, id string, _ int64) error {
	if _, err := r.Get(ctx, id); err != nil {
		return wrap("delete user", err)
	}
	return core.Errorf(core.ECONFLICT, "users are not deleted, since they own records: set active to false")
}

// List implements core.UserService.
func (r users) List(ctx context.Context, f core.UserFilter) (core.Page[core.User], error) {
	q := &query{}
	if f.Active != nil {
		q.where("active = " + q.arg(*f.Active))
	}
	if f.Extension != "" {
		q.where(q.arg(f.Extension) + " = ANY(phone_extensions)")
	}
	if f.Query != "" {
		q.anyLike(f.Query, "name", "email")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}

// EnsureAdmin returns the first administrator, creating one named name when
// there is none (on the very first start). created says which.
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
		created = true
		u, err = s.tables.user.createWith(ctx, s, core.Patch{"name": jsonString(name), "is_admin": []byte("true"), "role_id": jsonString(core.RoleAdminID)},
			writeOpts{tx: tx})
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("ensure admin user: %w", err)
	}
	return u, created, nil
}

func (s *Store) adminUser(ctx context.Context, db dbtx) (*core.User, error) {
	return s.tables.user.get1(ctx, db, "WHERE is_admin AND active AND deleted_at IS NULL ORDER BY created_at LIMIT 1")
}

// defaultOwner is the owner of a record created without one: the acting
// user, else the first administrator (remembered for a minute: connectors
// create many records without an owner).
func (s *Store) defaultOwner(ctx context.Context, db dbtx) (string, error) {
	if a := core.ActorFromContext(ctx); a.UserID != "" {
		return a.UserID, nil
	}
	s.admin.mu.Lock()
	id, fresh := s.admin.id, s.now().Sub(s.admin.at) < time.Minute
	s.admin.mu.Unlock()
	if fresh {
		return id, nil
	}
	u, err := s.adminUser(ctx, db)
	if err != nil {
		return "", fmt.Errorf("default owner: %w", err)
	}
	s.admin.mu.Lock()
	s.admin.id = u.ID
	s.admin.at = s.now()
	s.admin.mu.Unlock()
	return u.ID, nil
}
