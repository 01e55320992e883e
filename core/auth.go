package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's first recommendation (19 MiB, two passes,
// one lane), about 30 ms a hash on one core; a login costs one.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// MaxPasswordBytes bounds a password: longer ones are refused before any
// hashing (a megabyte "password" would cost its hash's memory for nothing).
const MaxPasswordBytes = 256

// CheckNewPassword refuses a password shorter than min characters, longer
// than MaxPasswordBytes, or not valid UTF-8. Errors: EINVALID naming
// "password".
func CheckNewPassword(pw string, min int) error {
	switch {
	case !utf8.ValidString(pw) || strings.ContainsRune(pw, 0):
		return Invalid([]FieldError{{Field: "password", Code: "invalid", Message: "must be UTF-8 text"}})
	case len(pw) > MaxPasswordBytes:
		return Invalid([]FieldError{{Field: "password", Code: "too_long", Message: fmt.Sprintf("at most %d bytes", MaxPasswordBytes)}})
	case utf8.RuneCountInString(pw) < min:
		return Invalid([]FieldError{{Field: "password", Code: "too_short", Message: fmt.Sprintf("at least %d characters", min)}})
	}
	return nil
}

// HashPassword returns pw's argon2id hash in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), with a fresh random salt.
func HashPassword(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails on Linux
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// PasswordMatches reports whether pw is the password of a hash made by
// HashPassword (with the parameters the hash names), in constant time. A
// malformed hash matches nothing.
func PasswordMatches(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || len(pw) > MaxPasswordBytes {
		return false
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when a login names no user, so that an
// unknown e-mail costs as long as a wrong password.
var dummyHash = sync.OnceValue(func() string { return HashPassword("crmhub: no such user") })

// DummyPasswordCheck spends what a password check spends, for a login that
// names no user: the two are indistinguishable by time.
func DummyPasswordCheck(pw string) { PasswordMatches(dummyHash(), pw) }

// NewSessionToken returns a fresh session token ("crs_" and 43 base64url
// characters: 256 bits) and the hash that is stored in its place.
func NewSessionToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = "crs_" + base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token)
}

// TokenHash is the stored form of a session token.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// IsSessionToken reports whether a bearer secret is a session token (an
// API key starts with "crm_", a JWT has two dots).
func IsSessionToken(s string) bool { return strings.HasPrefix(s, "crs_") }

// Session is a signed-in user's session.
type Session struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	IP        string    `json:"ip,omitempty"`
}

// Credentials are what a password login checks: the user's id, whether
// they are active, and their password's hash ("" when none is set).
type Credentials struct {
	UserID       string
	Active       bool
	PasswordHash string
}

// AuthService keeps passwords, sessions and the resolution of a user's
// access.
type AuthService interface {
	// Credentials returns the credentials of the user with this e-mail
	// (compared without case). Errors: ENOTFOUND.
	Credentials(ctx context.Context, email string) (Credentials, error)
	// SetPassword stores a user's new password hash and ends their other
	// sessions (all of them when keep is ""). Errors: ENOTFOUND.
	SetPassword(ctx context.Context, userID, hash, keepSession string) error
	// PasswordHash returns a user's password hash, "" when none is set.
	// Errors: ENOTFOUND.
	PasswordHash(ctx context.Context, userID string) (string, error)
	// StartSession stores a new session of the user lasting ttl and
	// returns its token.
	StartSession(ctx context.Context, userID string, ttl time.Duration, ip string) (string, *Session, error)
	// Session returns the live session of a token, its user active.
	// Errors: EUNAUTHORIZED (unknown, expired, revoked, user inactive).
	Session(ctx context.Context, token string) (*Session, error)
	// EndSession revokes the session of a token.
	EndSession(ctx context.Context, token string) error
	// Access resolves what the user may do with a key (or session) of
	// scope max. Errors: EUNAUTHORIZED for an unknown or inactive user.
	Access(ctx context.Context, userID string, max Scope) (*Access, error)
	// UserByClaim returns the active user whose e-mail (claim "email") or
	// oidc_subject (any other claim, such as "sub") is value: for OIDC
	// sign-in. Errors: ENOTFOUND.
	UserByClaim(ctx context.Context, claim, value string) (*User, error)
}

// Audit actions.
const (
	AuditLogin       = "login"
	AuditLoginFailed = "login_failed"
	AuditLogout      = "logout"
	AuditPassword    = "password_changed"
	AuditExport      = "export"
	AuditReportRun   = "report_run"
	AuditDelete      = "delete"
	AuditRoleChange  = "role_change"
	AuditUserChange  = "user_change"
	AuditTeamChange  = "team_change"
	AuditShare       = "share"
	AuditAPIKey      = "apikey"
	AuditFieldChange = "field_change" // a custom field defined, edited, deleted or restored
)

// AuditEntry is one line of the audit log: who did what to which records,
// from where. Detail never holds a secret.
type AuditEntry struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	UserID   string          `json:"user_id,omitempty"`
	ActorID  string          `json:"actor_id,omitempty"`
	Action   string          `json:"action"`
	Entity   string          `json:"entity,omitempty"`
	RecordID string          `json:"record_id,omitempty"`
	IP       string          `json:"ip,omitempty"`
	Detail   json.RawMessage `json:"detail,omitempty"`
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	UserID string
	Action string
	From   time.Time
	To     time.Time
	Limit  int
	Before int64 // entries with a smaller id (the next page)
}

// AuditLog keeps the audit log.
type AuditLog interface {
	// Audit records an entry; At defaults to now and the user and actor
	// to the context's.
	Audit(ctx context.Context, e AuditEntry) error
	// AuditEntries returns entries matching f, newest first.
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// PruneAudit deletes the entries older than before and says how many.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}
