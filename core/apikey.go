package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// Scope is a right an API key holds.
type Scope string

// Scopes, each implying the ones below it. suggest serves only the
// address, bank and company lookups of /suggestions (banks and addresses:
// company lookups read the key's user's accounts, which takes read): a key
// a web page may carry to the browsers that call them.
const (
	ScopeSuggest Scope = "suggest"
	ScopeRead    Scope = "read"
	ScopeWrite   Scope = "write"
	ScopeAdmin   Scope = "admin"
)

func (s Scope) rank() int {
	switch s {
	case ScopeSuggest:
		return 1
	case ScopeRead:
		return 2
	case ScopeWrite:
		return 3
	case ScopeAdmin:
		return 4
	}
	return 0
}

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return s.rank() > 0 }

// Implies reports whether holding s grants want.
func (s Scope) Implies(want Scope) bool { return s.rank() > 0 && s.rank() >= want.rank() }

// ParseScopes reads a comma-separated scope list such as "read,write".
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, part := range strings.Split(s, ",") {
		sc := Scope(strings.TrimSpace(part))
		if !sc.Valid() {
			return nil, Errorf(EINVALID, "unknown scope %q: use suggest, read, write or admin", part)
		}
		out = append(out, sc)
	}
	return out, nil
}

// APIKey describes an API key. The secret itself is shown once, at creation;
// only its SHA-256 hash is stored.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // the first characters of the secret, to recognise it
	Scopes     []Scope    `json:"scopes"`
	UserID     string     `json:"user_id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// APIKeyPrefixLen is how many leading characters of a secret are kept in
// the clear to tell keys apart.
const APIKeyPrefixLen = 12

// NewAPIKeySecret returns a fresh random key ("crm_" and 43 base64url
// characters: 256 bits) and its hash.
func NewAPIKeySecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	secret = "crm_" + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashAPIKey(secret)
}

// HashAPIKey returns the stored form of a key. A plain SHA-256 suffices
// because keys carry 256 random bits; there is nothing to brute-force.
func HashAPIKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// APIKeyService manages API keys and authenticates requests.
type APIKeyService interface {
	// CreateAPIKey stores a new key and returns it with its secret.
	// An empty userID means the first administrator. Errors: EINVALID.
	CreateAPIKey(ctx context.Context, name string, scopes []Scope, userID string) (*APIKey, string, error)
	// APIKeys lists every key, revoked ones included.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey revokes a key at once. Errors: ENOTFOUND.
	RevokeAPIKey(ctx context.Context, id string) error
	// Authenticate returns the live key with this secret. Errors: EUNAUTHORIZED.
	Authenticate(ctx context.Context, secret string) (*APIKey, error)
}
