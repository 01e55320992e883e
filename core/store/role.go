package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// roles keeps roles; Store.Roles returns it.
type roles struct{ repo[core.Role, *core.Role] }

var _ core.RoleService = roles{}

func newRoleTable() *table[core.Role, *core.Role] {
	return (&table[core.Role, *core.Role]{
		entity: core.EntityRole, name: "roles", schema: core.RoleSchema, ownerless: true,
		cols: func(r *core.Role) []col {
			return []col{{"name", &r.Name}, {"parent_id", &r.ParentID}, {"description", &r.Description},
				{"rights", &r.Rights}, {"fields", &r.Fields}, {"areas", &r.Areas}}
		},
		defaults: func(r *core.Role) {
			r.Rights, r.Fields, r.Areas = core.Rights{}, core.FieldRules{}, []string{}
		},
		validate: (*core.Role).Validate,
		prepare:  checkRoleParent,
		sorts:    commonSorts(map[string]func(*core.Role) string{"name": func(r *core.Role) string { return r.Name }}),
	}).init()
}

// checkRoleParent refuses a parent that is missing or below the role
// itself: the hierarchy stays a tree.
func checkRoleParent(ctx context.Context, db dbtx, _, r *core.Role) error {
	if r.ParentID == nil {
		return nil
	}
	if err := mustExist(ctx, db, "roles", "parent_id", r.ParentID); err != nil {
		return err
	}
	if r.ID == "" {
		return nil
	}
	var cycle bool
	err := db.QueryRow(ctx, `WITH RECURSIVE up AS (
			SELECT id, parent_id FROM roles WHERE id = $1
			UNION SELECT r.id, r.parent_id FROM roles r JOIN up ON r.id = up.parent_id
		) SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)`, *r.ParentID, r.ID).Scan(&cycle)
	if err != nil {
		return err
	}
	if cycle {
		return core.Invalid([]core.FieldError{{Field: "parent_id", Code: "cycle",
			Message: "the role would report to a role below itself"}})
	}
	return nil
}

// Roles returns the role repository. A change of a role changes what its
// users (and those above them) reach: resolved accesses are dropped.
func (s *Store) Roles() core.RoleService {
	return roles{repo[core.Role, *core.Role]{s: s, t: s.tables.role}}
}

// Create implements core.RoleService.
func (r roles) Create(ctx context.Context, p core.Patch) (*core.Role, error) {
	out, err := r.repo.Create(ctx, p)
	r.s.access.forget("")
	return out, err
}

// Update implements core.RoleService.
func (r roles) Update(ctx context.Context, id string, ifVersion int64, p core.Patch) (*core.Role, error) {
	out, err := r.repo.Update(ctx, id, ifVersion, p)
	r.s.access.forget("")
	return out, err
}

// Delete implements core.RoleService: the default role, and a role that
// users hold or roles report to, stay.
func (r roles) Delete(ctx context.Context, id string, ifVersion int64) error {
	if id == core.RoleManagerID {
		return core.Errorf(core.ECONFLICT, "«Менеджер» is the role of users created without one: it stays")
	}
	if _, err := r.Get(ctx, id); err != nil {
		return err
	}
	var users, children int
	err := r.s.db(ctx).QueryRow(ctx, `SELECT
		(SELECT count(*) FROM users WHERE role_id = $1 AND deleted_at IS NULL),
		(SELECT count(*) FROM roles WHERE parent_id = $1 AND deleted_at IS NULL)`, id).Scan(&users, &children)
	if err != nil {
		return fmt.Errorf("delete role %s: %w", id, err)
	}
	if users > 0 || children > 0 {
		return core.Errorf(core.ECONFLICT, "the role is held by %d users and %d roles report to it: move them first", users, children)
	}
	r.s.access.forget("")
	return r.t.delete(ctx, r.s, id, ifVersion)
}

// List implements core.RoleService.
func (r roles) List(ctx context.Context, f core.RoleFilter) (core.Page[core.Role], error) {
	q := &query{}
	if f.ParentID != "" {
		q.where("parent_id = " + q.arg(f.ParentID) + "::uuid")
	}
	if f.Query != "" {
		q.anyLike(f.Query, "name")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}

// seedRoles writes the roles an installation starts with (core.SeedRoles)
// as the migration that brings roles runs, and gives the users there are
// theirs: administrators «Администратор», everyone else «Менеджер».
func seedRoles(ctx context.Context, tx pgx.Tx) error {
	for _, r := range core.SeedRoles() {
		t := now()
		_, err := tx.Exec(ctx, `INSERT INTO roles (id, name, parent_id, description, rights, fields, areas, created_at, updated_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1) ON CONFLICT (id) DO NOTHING`,
			r.ID, r.Name, r.ParentID, r.Description, r.Rights, r.Fields, r.Areas, t)
		if err != nil {
			return fmt.Errorf("seed role %s: %w", r.Name, err)
		}
	}
	_, err := tx.Exec(ctx, `UPDATE users SET role_id = CASE WHEN is_admin THEN $1::uuid ELSE $2::uuid END WHERE role_id IS NULL`,
		core.RoleAdminID, core.RoleManagerID)
	return err
}

// grantArea adds an admin area that came after a role was seeded to it.
func grantArea(role, area string) func(ctx context.Context, tx pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE roles SET areas = array_append(areas, $2) WHERE id = $1 AND NOT $2 = ANY(areas)`, role, area)
		return err
	}
}

// teams keeps teams; Store.Teams returns it.
type teams struct{ repo[core.Team, *core.Team] }

var _ core.TeamService = teams{}

func newTeamTable() *table[core.Team, *core.Team] {
	return (&table[core.Team, *core.Team]{
		entity: core.EntityTeam, name: "teams", schema: core.TeamSchema, ownerless: true,
		cols: func(t *core.Team) []col {
			return []col{{"name", &t.Name}, {"description", &t.Description}, {"member_ids", &t.MemberIDs}}
		},
		defaults: func(t *core.Team) { t.MemberIDs = []string{} },
		validate: (*core.Team).Validate,
		prepare:  checkMembers,
		sorts:    commonSorts(map[string]func(*core.Team) string{"name": func(t *core.Team) string { return t.Name }}),
	}).init()
}

// checkMembers refuses a member who is not a user.
func checkMembers(ctx context.Context, db dbtx, _, t *core.Team) error {
	if len(t.MemberIDs) == 0 {
		return nil
	}
	var missing []string
	err := db.QueryRow(ctx, `SELECT coalesce(array_agg(m::text), '{}') FROM unnest($1::uuid[]) m
		WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m AND u.deleted_at IS NULL)`, t.MemberIDs).Scan(&missing)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return core.Invalid([]core.FieldError{{Field: "member_ids", Code: "not_found",
			Message: fmt.Sprintf("no such users: %v", missing)}})
	}
	return nil
}

// Teams returns the team repository.
func (s *Store) Teams() core.TeamService {
	return teams{repo[core.Team, *core.Team]{s: s, t: s.tables.team}}
}

// Create implements core.TeamService.
func (r teams) Create(ctx context.Context, p core.Patch) (*core.Team, error) {
	out, err := r.repo.Create(ctx, p)
	r.s.access.forget("")
	return out, err
}

// Update implements core.TeamService.
func (r teams) Update(ctx context.Context, id string, ifVersion int64, p core.Patch) (*core.Team, error) {
	out, err := r.repo.Update(ctx, id, ifVersion, p)
	r.s.access.forget("")
	return out, err
}

// Delete implements core.TeamService: a team that owns records stays
// (its records would be nobody's team's).
func (r teams) Delete(ctx context.Context, id string, ifVersion int64) error {
	if _, err := r.Get(ctx, id); err != nil {
		return err
	}
	for _, table := range ownedTables {
		var owns bool
		if err := r.s.db(ctx).QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+" WHERE team_id = $1 AND deleted_at IS NULL)", id).Scan(&owns); err != nil {
			return fmt.Errorf("delete team %s: %w", id, err)
		}
		if owns {
			return core.Errorf(core.ECONFLICT, "the team owns %s: give them to another owner first", table)
		}
	}
	r.s.access.forget("")
	return r.t.delete(ctx, r.s, id, ifVersion)
}

// List implements core.TeamService.
func (r teams) List(ctx context.Context, f core.TeamFilter) (core.Page[core.Team], error) {
	q := &query{}
	if f.MemberID != "" {
		q.where("member_ids @> ARRAY[" + q.arg(f.MemberID) + "::uuid]")
	}
	if f.Query != "" {
		q.anyLike(f.Query, "name")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}
