package core

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
)

// Level is how far a right reaches over the records of one kind.
type Level string

// Levels, each reaching at least as far as the ones before it.
const (
	// LevelNone: no record.
	LevelNone Level = "none"
	// LevelOwn: the records the user owns, those owned by a team of
	// theirs, and those shared with them or their teams.
	LevelOwn Level = "own"
	// LevelTeam: LevelOwn and the records of every member of the user's
	// teams.
	LevelTeam Level = "team"
	// LevelSubordinates: LevelOwn and the records of every user whose
	// role is below the user's in the hierarchy.
	LevelSubordinates Level = "subordinates"
	// LevelAll: every record.
	LevelAll Level = "all"
)

// Levels lists the levels, narrowest first.
func Levels() []Level {
	return []Level{LevelNone, LevelOwn, LevelTeam, LevelSubordinates, LevelAll}
}

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return slices.Contains(Levels(), l) }

// Action is what a right allows on a record.
type Action string

// Actions on records.
const (
	ActView   Action = "view"
	ActCreate Action = "create" // its level bounds who the new record may belong to
	ActEdit   Action = "edit"   // also changing the owner: the new one must be within the level
	ActDelete Action = "delete"
	ActExport Action = "export" // Excel export; it never reaches further than view
)

// Actions lists the actions on records.
func Actions() []Action { return []Action{ActView, ActCreate, ActEdit, ActDelete, ActExport} }

// Valid reports whether a is a known action.
func (a Action) Valid() bool { return slices.Contains(Actions(), a) }

// writes reports whether the action changes records.
func (a Action) writes() bool { return a == ActCreate || a == ActEdit || a == ActDelete }

// RightsEntities are the kinds a role holds rights on.
func RightsEntities() []string {
	return []string{EntityLead, EntityContact, EntityAccount, EntityDeal, EntityActivity,
		EntityQuote, EntitySalesOrder, EntityPurchaseOrder, EntityInvoice, EntityAct, EntityRealization,
		EntityPayment, EntityProduct, EntityService, EntityPriceBook, EntityReport, EntityCall, EntityEmail,
		EntityAttachment}
}

// Admin areas: settings only administrators change. A role grants some of
// them by name; an is_admin user holds them all.
const (
	AreaUsers     = "users"     // users, teams, passwords of others
	AreaRoles     = "roles"     // roles and their rights
	AreaAPIKeys   = "apikeys"   // API keys of every user
	AreaWebForms  = "webforms"  // web forms
	AreaMailboxes = "mailboxes" // the mail scanner's mailboxes
	AreaTemplates = "templates" // e-mail templates
	AreaPipelines = "pipelines" // pipelines and their stages
	AreaOneC      = "onec"      // the 1C exchange's settings and jobs
	AreaStream    = "stream"    // stream resync and dead letters
	AreaAudit     = "audit"     // the audit log
	AreaFields    = "fields"    // custom fields of every kind
)

// AdminAreas lists the admin areas.
func AdminAreas() []string {
	return []string{AreaUsers, AreaRoles, AreaAPIKeys, AreaWebForms, AreaMailboxes, AreaTemplates,
		AreaPipelines, AreaOneC, AreaStream, AreaAudit, AreaFields}
}

// Rights are a role's levels: entity → action → level. A missing entity
// or action is LevelNone.
type Rights map[string]map[Action]Level

// FieldRule restricts one field of one kind for a role.
type FieldRule string

// Field rules.
const (
	// FieldHidden: the field is neither returned nor writable.
	FieldHidden FieldRule = "hidden"
	// FieldReadOnly: the field is returned; a write that sets it is
	// refused (422 naming it).
	FieldReadOnly FieldRule = "read_only"
)

// FieldRules are a role's field rules: entity → field (its JSON name) →
// rule.
type FieldRules map[string]map[string]FieldRule

// Access is what one user may do, resolved from their role, their teams
// and the role hierarchy, narrowed by the scopes of the key they use. It
// travels in the request's context (NewContextWithAccess); the store
// applies it to every read and write. A context without one is the hub's
// own work (connectors, workers, the CLI): unrestricted.
type Access struct {
	UserID   string `json:"user_id"`
	Admin    bool   `json:"is_admin"` // every right and every area
	RoleID   string `json:"role_id,omitempty"`
	RoleName string `json:"role_name,omitempty"`
	// Rights and Fields are the role's; Areas the admin areas it grants.
	Rights Rights     `json:"rights"`
	Fields FieldRules `json:"fields"`
	Areas  []string   `json:"areas"`
	// Teams are the teams the user belongs to; TeamMates the members of
	// those teams, the user included; Subordinates the users whose role
	// is below the user's (not the user).
	Teams        []string `json:"teams"`
	TeamMates    []string `json:"-"`
	Subordinates []string `json:"-"`
	// MaxScope is the widest scope of the key used: read allows only
	// view and export, write every record action, admin also the areas.
	MaxScope Scope `json:"scope"`
}

// RightsEntity is the entity whose rights govern entity's records: a
// report's schedules are the report's, a price list entry and a product
// group the catalog's; "" for the kinds no role right governs (users,
// pipelines, roles, teams: readable by everyone, changed in admin areas).
func RightsEntity(entity string) string {
	switch entity {
	case EntityReportSchedule:
		return EntityReport
	case EntityPrice:
		return EntityPriceBook
	case EntityProductGroup:
		return EntityProduct
	}
	if slices.Contains(RightsEntities(), entity) {
		return entity
	}
	return ""
}

// Level returns how far action reaches on entity's records. Export never
// reaches further than view.
func (a *Access) Level(entity string, act Action) Level {
	if act.writes() && !a.MaxScope.Implies(ScopeWrite) {
		return LevelNone
	}
	if !a.MaxScope.Implies(ScopeRead) {
		return LevelNone
	}
	entity = RightsEntity(entity)
	if a.Admin || entity == "" {
		return LevelAll
	}
	l := a.Rights[entity][act]
	if !l.Valid() {
		return LevelNone
	}
	if act == ActExport {
		return narrower(l, a.Rights[entity][ActView])
	}
	return l
}

// narrower returns the narrower of two levels (team and subordinates are
// not comparable: their narrower is own).
func narrower(a, b Level) Level {
	if !b.Valid() {
		return LevelNone
	}
	ia, ib := slices.Index(Levels(), a), slices.Index(Levels(), b)
	if (a == LevelTeam && b == LevelSubordinates) || (a == LevelSubordinates && b == LevelTeam) {
		return LevelOwn
	}
	return Levels()[min(ia, ib)]
}

// Reach is the owners whose records a level covers: Users (owner_id), and
// Teams (team_id, and the teams a record is shared with); All covers
// every record, and neither Users nor Teams set covers none but those
// shared with the user.
type Reach struct {
	All   bool
	Users []string
	Teams []string
}

// Reach returns whom level reaches for this user.
func (a *Access) Reach(l Level) Reach {
	switch l {
	case LevelAll:
		return Reach{All: true}
	case LevelOwn:
		return Reach{Users: []string{a.UserID}, Teams: a.Teams}
	case LevelTeam:
		return Reach{Users: union([]string{a.UserID}, a.TeamMates), Teams: a.Teams}
	case LevelSubordinates:
		return Reach{Users: union([]string{a.UserID}, a.Subordinates), Teams: a.Teams}
	}
	return Reach{}
}

// None reports whether the reach covers no owner at all (only records
// shared with the user, when it comes with a user).
func (r Reach) None() bool { return !r.All && len(r.Users) == 0 && len(r.Teams) == 0 }

// Covers reports whether a record owned by owner (and team, when set) is
// within the reach, shares aside.
func (r Reach) Covers(owner, team string) bool {
	return r.All || slices.Contains(r.Users, owner) || (team != "" && slices.Contains(r.Teams, team))
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// HasArea reports whether the user may change the settings of an admin
// area: an is_admin user or a role granting it, with an admin-scoped key.
func (a *Access) HasArea(area string) bool {
	return a.MaxScope.Implies(ScopeAdmin) && (a.Admin || slices.Contains(a.Areas, area))
}

// Field returns the rule on one field of entity's records, "" for none.
// An is_admin user has none.
func (a *Access) Field(entity, field string) FieldRule {
	if a.Admin {
		return ""
	}
	return a.Fields[RightsEntity(entity)][field]
}

// HiddenFields returns the fields of entity this user may not see.
func (a *Access) HiddenFields(entity string) []string {
	if a.Admin {
		return nil
	}
	var out []string
	for f, r := range a.Fields[RightsEntity(entity)] {
		if r == FieldHidden {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// CheckPatch refuses a write that sets a field the user may not write:
// hidden ones are unknown to them, read-only ones are named. Errors:
// EINVALID.
func (a *Access) CheckPatch(entity string, p Patch) error {
	if a.Admin || len(a.Fields[RightsEntity(entity)]) == 0 {
		return nil
	}
	var errs []FieldError
	for _, f := range patchFields(p) {
		switch a.Field(entity, f) {
		case FieldHidden:
			errs = append(errs, FieldError{Field: f, Code: "unknown_field", Message: "no such field"})
		case FieldReadOnly:
			errs = append(errs, FieldError{Field: f, Code: "read_only", Message: "your role may not change this field"})
		}
	}
	slices.SortFunc(errs, func(x, y FieldError) int { return cmp.Compare(x.Field, y.Field) })
	return Invalid(errs)
}

// patchFields names the fields a patch sets, a custom one as custom.key
// (the name field rules give it).
func patchFields(p Patch) []string {
	out := make([]string, 0, len(p))
	for f, raw := range p {
		var custom map[string]json.RawMessage
		if f != "custom" || json.Unmarshal(raw, &custom) != nil {
			out = append(out, f)
			continue
		}
		for k := range custom {
			out = append(out, "custom."+k)
		}
	}
	return out
}

// Forbidden is the error of an action without the right: a 403 naming it.
func Forbidden(entity string, act Action) error {
	return Errorf(EFORBIDDEN, "your role lacks the right to %s %s records", act, entity)
}

type accessKey struct{}

// NewContextWithAccess returns a copy of ctx carrying a user's access.
func NewContextWithAccess(ctx context.Context, a *Access) context.Context {
	return context.WithValue(ctx, accessKey{}, a)
}

// AccessFromContext returns the access in ctx, or nil for the hub's own
// work, which is unrestricted.
func AccessFromContext(ctx context.Context) *Access {
	a, _ := ctx.Value(accessKey{}).(*Access)
	return a
}

// WithoutAccess returns a copy of ctx with no user's access: for the hub's
// own follow-up work inside a user's request that the user's rights do not
// govern (writing the records a conversion creates for them, checking a
// link's target exists).
func WithoutAccess(ctx context.Context) context.Context {
	return context.WithValue(ctx, accessKey{}, (*Access)(nil))
}

type actionKey struct{}

// NewContextForAction returns a copy of ctx whose lists reach what act
// reaches (an export lists what the export right covers) instead of view.
func NewContextForAction(ctx context.Context, act Action) context.Context {
	return context.WithValue(ctx, actionKey{}, act)
}

// ListActionFromContext returns the action a list in ctx serves: view
// unless NewContextForAction said otherwise.
func ListActionFromContext(ctx context.Context) Action {
	if a, ok := ctx.Value(actionKey{}).(Action); ok {
		return a
	}
	return ActView
}
