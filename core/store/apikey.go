package store

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

const apiKeyColumns = `id, name, prefix, scopes, user_id, created_at, last_used_at, revoked_at`

func scanAPIKey(row pgx.Row) (*core.APIKey, error) {
	var k core.APIKey
	var scopes []string
	if err := row.Scan(&k.ID, &k.Name, &k.Prefix, &scopes, &k.UserID, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt); err != nil {
		return nil, err
	}
	for _, s := range scopes {
		k.Scopes = append(k.Scopes, core.Scope(s))
	}
	return &k, nil
}

// CreateAPIKey implements core.APIKeyService.
func (s *Store) CreateAPIKey(ctx context.Context, name string, scopes []core.Scope, userID string) (*core.APIKey, string, error) {
	var errs []core.FieldError
	if clean, code := core.CleanText(name, 100, false); code != "" || clean == "" {
		errs = append(errs, core.FieldError{Field: "name", Code: "required", Message: "a name of at most 100 characters is required"})
	} else {
		name = clean
	}
	if len(scopes) == 0 {
		errs = append(errs, core.FieldError{Field: "scopes", Code: "required", Message: "at least one of read, write, admin"})
	}
	strs := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if !sc.Valid() {
			errs = append(errs, core.FieldError{Field: "scopes", Code: "invalid_choice", Message: "must be suggest, read, write or admin"})
			break
		}
		strs = append(strs, string(sc))
	}
	if err := core.Invalid(errs); err != nil {
		return nil, "", err
	}
	if userID == "" {
		u, err := s.adminUser(ctx, s.db(ctx))
		if err != nil {
			return nil, "", fmt.Errorf("create api key: %w", err)
		}
		userID = u.ID
	}
	secret, hash := core.NewAPIKeySecret()
	k := &core.APIKey{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Prefix: secret[:core.APIKeyPrefixLen],
		Scopes: scopes, UserID: userID, CreatedAt: s.now()}
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO api_keys (id, name, prefix, hash, scopes, user_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, k.ID, k.Name, k.Prefix, hash, strs, k.UserID, k.CreatedAt)
	if err != nil {
		return nil, "", fmt.Errorf("create api key: %w", translate(err, "api key"))
	}
	return k, secret, nil
}

// APIKeys implements core.APIKeyService.
func (s *Store) APIKeys(ctx context.Context) ([]core.APIKey, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	out := []core.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, *k)
	}
	return out, wrap("list api keys", rows.Err())
}

// CountAPIKeys returns the number of keys ever created.
func (s *Store) CountAPIKeys(ctx context.Context) (int, error) {
	var n int
	err := s.db(ctx).QueryRow(ctx, `SELECT count(*) FROM api_keys`).Scan(&n)
	return n, wrap("count api keys", err)
}

// RevokeAPIKey implements core.APIKeyService.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return core.Errorf(core.ENOTFOUND, "api key not found")
	}
	tag, err := s.db(ctx).Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, s.now())
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return core.Errorf(core.ENOTFOUND, "api key not found")
	}
	s.keys.mu.Lock()
	for h, c := range s.keys.m {
		if c.key.ID == id {
			delete(s.keys.m, h)
		}
	}
	s.keys.mu.Unlock()
	return nil
}

// Authenticate implements core.APIKeyService.
func (s *Store) Authenticate(ctx context.Context, secret string) (*core.APIKey, error) {
	hash := core.HashAPIKey(secret)
	h := hex.EncodeToString(hash)
	now := s.now()
	s.keys.mu.Lock()
	c, ok := s.keys.m[h]
	s.keys.mu.Unlock()
	if ok && now.Before(c.expires) {
		k := c.key
		return &k, nil
	}
	k, err := scanAPIKey(s.db(ctx).QueryRow(ctx,
		`UPDATE api_keys SET last_used_at = $2 WHERE hash = $1 AND revoked_at IS NULL RETURNING `+apiKeyColumns, hash, s.now()))
	if err != nil {
		if err == pgx.ErrNoRows {
			return nil, core.Errorf(core.EUNAUTHORIZED, "the API key is not valid")
		}
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	s.keys.mu.Lock()
	if len(s.keys.m) > 10_000 { // bound memory against key-guessing floods
		clear(s.keys.m)
	}
	s.keys.m[h] = cachedKey{key: *k, expires: now.Add(keyCacheTTL)}
	s.keys.mu.Unlock()
	return k, nil
}
