package core

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/google/uuid"
)

// EntityRole and EntityTeam name roles and teams in events and errors.
const (
	EntityRole = "role"
	EntityTeam = "team"
)

// The seeded roles' ids: the same in every installation, so that a user
// created without a role gets RoleManagerID.
const (
	RoleAdminID   = "00000000-0000-7000-8000-000000000001" // «Администратор»
	RoleHeadID    = "00000000-0000-7000-8000-000000000002" // «Руководитель отдела продаж»
	RoleManagerID = "00000000-0000-7000-8000-000000000003" // «Менеджер»
)

// Role is a place in the company's hierarchy with its rights: what its
// users may do with each kind of record, which fields they may not see or
// change, and which admin areas they manage. Each role reports to one
// parent; the users of the roles below a role are its users'
// subordinates.
type Role struct {
	Record
	Name        string     `json:"name"`
	ParentID    *string    `json:"parent_id"`
	Description string     `json:"description"`
	Rights      Rights     `json:"rights"`
	Fields      FieldRules `json:"fields"`
	Areas       []string   `json:"areas"`
}

// RoleSchema returns the writable fields of a role.
func RoleSchema() *Schema[Role] { return roleSchema() }

var roleSchema = sync.OnceValue(func() *Schema[Role] {
	return NewSchema[Role]("id", "created_at", "updated_at", "version").
		Field("name", Text(100, false, func(r *Role) *string { return &r.Name })).
		Field("parent_id", Link(func(r *Role) **string { return &r.ParentID })).
		Field("description", Text(2000, true, func(r *Role) *string { return &r.Description })).
		Field("rights", setRights).
		Field("fields", setFieldRules).
		Field("areas", setAreas)
})

// setRights replaces the role's rights with a whole object of entity →
// action → level; the actions an entity leaves out are none.
func setRights(r *Role, raw json.RawMessage, path string) []FieldError {
	var in map[string]map[string]string
	if err := json.Unmarshal(raw, &in); err != nil {
		return fail(path, "invalid_type", "must be an object of entity to {action: level}")
	}
	out := Rights{}
	var errs []FieldError
	for entity, acts := range in {
		if !slices.Contains(RightsEntities(), entity) {
			errs = append(errs, FieldError{Field: path + "." + entity, Code: "unknown_entity", Message: "no rights on such records"})
			continue
		}
		out[entity] = map[Action]Level{}
		for act, lvl := range acts {
			switch {
			case !Action(act).Valid():
				errs = append(errs, FieldError{Field: path + "." + entity + "." + act, Code: "unknown_action",
					Message: "use view, create, edit, delete or export"})
			case !Level(lvl).Valid():
				errs = append(errs, FieldError{Field: path + "." + entity + "." + act, Code: "unknown_level",
					Message: "use none, own, team, subordinates or all"})
			default:
				out[entity][Action(act)] = Level(lvl)
			}
		}
	}
	r.Rights = out
	return sortErrors(errs)
}

// setFieldRules replaces the role's field rules with entity → field →
// hidden|read_only.
func setFieldRules(r *Role, raw json.RawMessage, path string) []FieldError {
	var in map[string]map[string]string
	if err := json.Unmarshal(raw, &in); err != nil {
		return fail(path, "invalid_type", "must be an object of entity to {field: hidden|read_only}")
	}
	out := FieldRules{}
	var errs []FieldError
	for entity, fields := range in {
		if !slices.Contains(RightsEntities(), entity) {
			errs = append(errs, FieldError{Field: path + "." + entity, Code: "unknown_entity", Message: "no rules on such records"})
			continue
		}
		out[entity] = map[string]FieldRule{}
		for f, rule := range fields {
			p := path + "." + entity + "." + f
			switch {
			case f == "" || len(f) > 64 || protectedField(f):
				errs = append(errs, FieldError{Field: p, Code: "invalid_field", Message: "id, owner_id, team_id, version and the timestamps cannot be restricted"})
			case rule != string(FieldHidden) && rule != string(FieldReadOnly):
				errs = append(errs, FieldError{Field: p, Code: "unknown_rule", Message: "use hidden or read_only"})
			default:
				out[entity][f] = FieldRule(rule)
			}
		}
	}
	r.Fields = out
	return sortErrors(errs)
}

// protectedField names the members every record has: rights, not field
// rules, govern them.
func protectedField(f string) bool {
	switch f {
	case "id", "owner_id", "team_id", "created_at", "updated_at", "version":
		return true
	}
	return false
}

func setAreas(r *Role, raw json.RawMessage, path string) []FieldError {
	var in []string
	if err := json.Unmarshal(raw, &in); err != nil {
		return fail(path, "invalid_type", "must be a list of admin areas")
	}
	out := []string{}
	for _, a := range in {
		if !slices.Contains(AdminAreas(), a) {
			return fail(path, "unknown_area", "admin areas are "+joinNames(AdminAreas()))
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	r.Areas = out
	return nil
}

func joinNames(names []string) string {
	b, _ := json.Marshal(names)
	return string(b)
}

func sortErrors(errs []FieldError) []FieldError {
	slices.SortFunc(errs, func(a, b FieldError) int {
		switch {
		case a.Field < b.Field:
			return -1
		case a.Field > b.Field:
			return 1
		}
		return 0
	})
	return errs
}

// Validate checks that the role has a name and does not report to itself.
func (r *Role) Validate() error {
	var errs []FieldError
	if r.Name == "" {
		errs = append(errs, FieldError{Field: "name", Code: "required", Message: "is required"})
	}
	if r.ParentID != nil && *r.ParentID == r.ID {
		errs = append(errs, FieldError{Field: "parent_id", Code: "cycle", Message: "a role cannot report to itself"})
	}
	return Invalid(errs)
}

// SeedRoles are the roles a new installation starts with: «Администратор»
// (everything), «Руководитель отдела продаж» (the records of their
// subordinates) reporting to it, and «Менеджер» (own records; accounts of
// the team; the catalog, which is reference data, in full) reporting to
// the head.
func SeedRoles() []Role {
	admin := RoleAdminID
	head := RoleHeadID
	all := Rights{}
	sub := Rights{}
	own := Rights{}
	for _, e := range RightsEntities() {
		all[e], sub[e], own[e] = map[Action]Level{}, map[Action]Level{}, map[Action]Level{}
		for _, a := range Actions() {
			all[e][a], sub[e][a], own[e][a] = LevelAll, LevelSubordinates, LevelOwn
		}
	}
	for _, e := range []string{EntityProduct, EntityService, EntityPriceBook} {
		sub[e][ActView], own[e][ActView] = LevelAll, LevelAll
		sub[e][ActExport], own[e][ActExport] = LevelAll, LevelAll
	}
	own[EntityAccount][ActView] = LevelTeam
	return []Role{
		{Record: Record{ID: RoleAdminID}, Name: "Администратор", Description: "Все записи и все настройки",
			Rights: all, Fields: FieldRules{}, Areas: AdminAreas()},
		{Record: Record{ID: RoleHeadID}, Name: "Руководитель отдела продаж", ParentID: &admin,
			Description: "Свои записи и записи подчинённых", Rights: sub, Fields: FieldRules{}, Areas: []string{}},
		{Record: Record{ID: RoleManagerID}, Name: "Менеджер", ParentID: &head,
			Description: "Свои записи; контрагенты своей группы; каталог", Rights: own, Fields: FieldRules{}, Areas: []string{}},
	}
}

// RoleFilter selects roles for a list.
type RoleFilter struct {
	ListParams
	ParentID string
}

// RoleService keeps roles. Delete fails with ECONFLICT while users hold
// the role or roles report to it, and for the default role.
type RoleService interface {
	Repository[Role]
	// List returns one page of roles; Query matches the name.
	List(ctx context.Context, f RoleFilter) (Page[Role], error)
}

// Team is a group of users (vtiger's groups): a record may be owned by a
// team, and LevelTeam reaches the records of every member.
type Team struct {
	Record
	Name        string   `json:"name"`
	Description string   `json:"description"`
	MemberIDs   []string `json:"member_ids"`
}

// TeamSchema returns the writable fields of a team.
func TeamSchema() *Schema[Team] { return teamSchema() }

var teamSchema = sync.OnceValue(func() *Schema[Team] {
	return NewSchema[Team]("id", "created_at", "updated_at", "version").
		Field("name", Text(100, false, func(t *Team) *string { return &t.Name })).
		Field("description", Text(2000, true, func(t *Team) *string { return &t.Description })).
		Field("member_ids", IDList(500, func(t *Team) *[]string { return &t.MemberIDs }))
})

// IDList sets a list of record ids (UUIDs), at most max, without repeats.
func IDList[T any](max int, field func(*T) *[]string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = []string{}
			return nil
		}
		var in []string
		if err := json.Unmarshal(raw, &in); err != nil {
			return fail(path, "invalid_type", "must be a list of ids")
		}
		out := make([]string, 0, len(in))
		for _, s := range in {
			u, err := uuid.Parse(s)
			if err != nil {
				return fail(path, "invalid_id", "every id must be a UUID")
			}
			if !slices.Contains(out, u.String()) {
				out = append(out, u.String())
			}
		}
		if len(out) > max {
			return fail(path, "too_many", "at most "+itoa(max))
		}
		*field(rec) = out
		return nil
	}
}

// Validate checks that the team has a name.
func (t *Team) Validate() error {
	if t.Name == "" {
		return Invalid([]FieldError{{Field: "name", Code: "required", Message: "is required"}})
	}
	return nil
}

// TeamFilter selects teams for a list.
type TeamFilter struct {
	ListParams
	MemberID string
}

// TeamService keeps teams.
type TeamService interface {
	Repository[Team]
	// List returns one page of teams; Query matches the name.
	List(ctx context.Context, f TeamFilter) (Page[Team], error)
}

// Share grants one user or one team access to one record beyond their
// rights (vtiger's sharing rules, at record level): read, or edit too.
type Share struct {
	ID        string  `json:"id"`
	Entity    string  `json:"entity"`
	RecordID  string  `json:"record_id"`
	UserID    *string `json:"user_id"`
	TeamID    *string `json:"team_id"`
	Access    string  `json:"access"` // read | edit
	CreatedBy string  `json:"created_by"`
	CreatedAt string  `json:"created_at"`
}

// ShareInput is a new share: exactly one of UserID and TeamID.
type ShareInput struct {
	UserID string `json:"user_id"`
	TeamID string `json:"team_id"`
	Access string `json:"access"`
}

// Validate checks a new share.
func (s ShareInput) Validate() error {
	var errs []FieldError
	if (s.UserID == "") == (s.TeamID == "") {
		errs = append(errs, FieldError{Field: "user_id", Code: "required", Message: "give exactly one of user_id and team_id"})
	}
	for f, v := range map[string]string{"user_id": s.UserID, "team_id": s.TeamID} {
		if _, err := uuid.Parse(v); v != "" && err != nil {
			errs = append(errs, FieldError{Field: f, Code: "invalid_id", Message: "must be a UUID"})
		}
	}
	if s.Access != "read" && s.Access != "edit" {
		errs = append(errs, FieldError{Field: "access", Code: "invalid", Message: "use read or edit"})
	}
	return Invalid(sortErrors(errs))
}

// ShareService keeps the shares of records. The caller must be allowed to
// edit the record to share it or to take a share back.
type ShareService interface {
	Shares(ctx context.Context, entity, recordID string) ([]Share, error)
	AddShare(ctx context.Context, entity, recordID string, in ShareInput) (*Share, error)
	RemoveShare(ctx context.Context, entity, recordID, shareID string) error
}
