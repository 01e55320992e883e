package core

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
)

// EntityUser names users (record owners) in events and errors.
const EntityUser = "user"

// User is a CRM user: the owner of records, and the person a call to one of
// their phone extensions reaches. Users are deactivated, never deleted.
type User struct {
	Record
	Name            string   `json:"name"`
	Email           string   `json:"email"`
	PhoneExtensions []string `json:"phone_extensions"`
	Active          bool     `json:"active"`
	IsAdmin         bool     `json:"is_admin"`
	// RoleID is the user's role (RoleManagerID when created without
	// one); is_admin gives every right whatever the role.
	RoleID *string `json:"role_id"`
	// OIDCSubject is the user's id at the identity provider, matched when
	// auth.oidc.user_claim is not the e-mail.
	OIDCSubject string `json:"oidc_subject"`
}

// UserSchema returns the writable fields of a user.
func UserSchema() *Schema[User] { return userSchema() }

var userSchema = sync.OnceValue(func() *Schema[User] {
	return NewSchema[User]("id", "created_at", "updated_at", "version").
		Field("name", Text(100, false, func(u *User) *string { return &u.Name })).
		Field("email", Email(func(u *User) *string { return &u.Email })).
		Field("phone_extensions", Extensions(func(u *User) *[]string { return &u.PhoneExtensions })).
		Field("active", Bool(func(u *User) *bool { return &u.Active })).
		Field("is_admin", Bool(func(u *User) *bool { return &u.IsAdmin })).
		Field("role_id", Link(func(u *User) **string { return &u.RoleID })).
		Field("oidc_subject", Text(200, false, func(u *User) *string { return &u.OIDCSubject }))
})

// Validate checks that the user has a name.
func (u *User) Validate() error {
	if u.Name == "" {
		return Invalid([]FieldError{{Field: "name", Code: "required", Message: "is required"}})
	}
	return nil
}

// Extensions sets a list of internal phone extensions: 2 to 8 digits each,
// at most 10, without repeats.
func Extensions[T any](field func(*T) *[]string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = []string{}
			return nil
		}
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return fail(path, "invalid_type", "must be a list of strings")
		}
		seen := map[string]bool{}
		out := make([]string, 0, len(list))
		for _, e := range list {
			e = strings.TrimSpace(e)
			if len(e) < 2 || len(e) > 8 || !allDigits(e) {
				return fail(path, "invalid_extension", "extensions are 2 to 8 digits")
			}
			if !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
		if len(out) > 10 {
			return fail(path, "too_many", "at most 10 extensions")
		}
		*field(rec) = out
		return nil
	}
}

// UserFilter selects users for a list.
type UserFilter struct {
	ListParams
	Active    *bool
	Extension string
}

// UserService keeps users. Delete always fails with ECONFLICT: deactivate
// users instead, since they own records.
type UserService interface {
	Repository[User]
	// List returns one page of users; Query matches name and e-mail.
	List(ctx context.Context, f UserFilter) (Page[User], error)
}

// CalendarFeeds issues the secret tokens of per-user iCalendar feeds.
type CalendarFeeds interface {
	// IssueCalendarToken makes a new feed token for the user, replacing
	// (and so revoking) the previous one. Errors: ENOTFOUND.
	IssueCalendarToken(ctx context.Context, userID string) (string, error)
	// CalendarUser returns the active user a token belongs to.
	// Errors: ENOTFOUND (unknown token or inactive user).
	CalendarUser(ctx context.Context, token string) (*User, error)
}
