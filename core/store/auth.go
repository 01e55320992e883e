package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.AuthService = (*Store)(nil)

// Credentials implements core.AuthService.
func (s *Store) Credentials(ctx context.Context, email string) (core.Credentials, error) {
	var c core.Credentials
	err := s.db(ctx).QueryRow(ctx, `SELECT id, active, password_hash FROM users
		WHERE lower(email) = lower($1) AND email <> '' AND deleted_at IS NULL`, email).
		Scan(&c.UserID, &c.Active, &c.PasswordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, core.Errorf(core.ENOTFOUND, "user not found")
	}
	if err != nil {
		return c, fmt.Errorf("credentials: %w", err)
	}
	return c, nil
}

// PasswordHash implements core.AuthService.
func (s *Store) PasswordHash(ctx context.Context, userID string) (string, error) {
	if _, err := uuid.Parse(userID); err != nil {
		return "", core.Errorf(core.ENOTFOUND, "user not found")
	}
	var h string
	err := s.db(ctx).QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL`, userID).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", core.Errorf(core.ENOTFOUND, "user not found")
	}
	if err != nil {
		return "", fmt.Errorf("password hash: %w", err)
	}
	return h, nil
}

// SetPassword implements core.AuthService. The hash is kept apart from the
// user's record: it is in no event, no history and no export.
func (s *Store) SetPassword(ctx context.Context, userID, hash, keepSession string) error {
	if _, err := uuid.Parse(userID); err != nil {
		return core.Errorf(core.ENOTFOUND, "user not found")
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, password_changed_at = $3
			WHERE id = $1 AND deleted_at IS NULL`, userID, hash, s.now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return core.Errorf(core.ENOTFOUND, "user not found")
		}
		keep := []byte{}
		if keepSession != "" {
			keep = core.TokenHash(keepSession)
		}
		_, err = tx.Exec(ctx, `UPDATE auth_sessions SET revoked_at = $2
			WHERE user_id = $1 AND revoked_at IS NULL AND token_hash <> $3`, userID, s.now(), keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	s.access.forget(userID)
	return nil
}

// StartSession implements core.AuthService.
func (s *Store) StartSession(ctx context.Context, userID string, ttl time.Duration, ip string) (string, *core.Session, error) {
	token, hash := core.NewSessionToken()
	now := s.now()
	sess := &core.Session{ID: uuid.Must(uuid.NewV7()).String(), UserID: userID, CreatedAt: now,
		ExpiresAt: now.Add(ttl), IP: core.Clip(ip, 64)}
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO auth_sessions (id, token_hash, user_id, created_at, expires_at, ip)
		VALUES ($1, $2, $3, $4, $5, $6)`, sess.ID, hash, userID, sess.CreatedAt, sess.ExpiresAt, sess.IP)
	if err != nil {
		return "", nil, fmt.Errorf("start session: %w", err)
	}
	return token, sess, nil
}

// Session implements core.AuthService.
func (s *Store) Session(ctx context.Context, token string) (*core.Session, error) {
	var sess core.Session
	err := s.db(ctx).QueryRow(ctx, `SELECT a.id, a.user_id, a.created_at, a.expires_at, a.ip
		FROM auth_sessions a JOIN users u ON u.id = a.user_id
		WHERE a.token_hash = $1 AND a.revoked_at IS NULL AND a.expires_at > $2 AND u.active AND u.deleted_at IS NULL`,
		core.TokenHash(token), s.now()).Scan(&sess.ID, &sess.UserID, &sess.CreatedAt, &sess.ExpiresAt, &sess.IP)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.EUNAUTHORIZED, "the session is unknown, expired or ended: sign in again")
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt = sess.CreatedAt.UTC(), sess.ExpiresAt.UTC()
	return &sess, nil
}

// EndSession implements core.AuthService.
func (s *Store) EndSession(ctx context.Context, token string) error {
	_, err := s.db(ctx).Exec(ctx, `UPDATE auth_sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL`,
		core.TokenHash(token), s.now())
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// PruneSessions deletes sessions that expired or ended before before.
func (s *Store) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.db(ctx).Exec(ctx, `DELETE FROM auth_sessions WHERE expires_at < $1 OR revoked_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// UserByClaim implements core.AuthService.
func (s *Store) UserByClaim(ctx context.Context, claim, value string) (*core.User, error) {
	if value == "" {
		return nil, core.Errorf(core.ENOTFOUND, "user not found")
	}
	where := "WHERE lower(email) = lower($1) AND email <> '' AND active AND deleted_at IS NULL"
	if claim != "email" {
		where = "WHERE oidc_subject = $1 AND active AND deleted_at IS NULL"
	}
	u, err := s.tables.user.get1(ctx, s.db(ctx), where, value)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// accessSQL resolves a user's access in one statement: their role (the
// default one when none is set), the roles below it, the users holding
// those, their teams and the teams' members.
const accessSQL = `WITH RECURSIVE me AS (
	SELECT id, is_admin, active, coalesce(role_id, $2::uuid) AS role_id FROM users WHERE id = $1 AND deleted_at IS NULL
), below AS (
	SELECT r.id FROM roles r, me WHERE r.parent_id = me.role_id AND r.deleted_at IS NULL
	UNION
	SELECT r.id FROM roles r JOIN below b ON r.parent_id = b.id WHERE r.deleted_at IS NULL
), mine AS (
	SELECT id, member_ids FROM teams WHERE member_ids @> ARRAY[$1::uuid] AND deleted_at IS NULL
)
SELECT me.is_admin, me.active, me.role_id::text, coalesce(r.name, ''), coalesce(r.rights, '{}'), coalesce(r.fields, '{}'),
	coalesce(r.areas, '{}'),
	coalesce((SELECT array_agg(id::text ORDER BY id) FROM mine), '{}'),
	coalesce((SELECT array_agg(DISTINCT m::text) FROM mine, unnest(mine.member_ids) m), '{}'),
	coalesce((SELECT array_agg(u.id::text ORDER BY u.id) FROM users u
		WHERE coalesce(u.role_id, $2::uuid) IN (SELECT id FROM below) AND u.deleted_at IS NULL AND u.id <> me.id), '{}')
FROM me LEFT JOIN roles r ON r.id = me.role_id AND r.deleted_at IS NULL`

// Access implements core.AuthService. A resolution is reused for a few
// seconds (accessTTL): a change of rights reaches a running request at
// once on this replica (the cache is dropped) and within accessTTL on
// the others.
func (s *Store) Access(ctx context.Context, userID string, max core.Scope) (*core.Access, error) {
	if a, ok := s.access.get(userID, s.now()); ok {
		return withScope(a, max), nil
	}
	if _, err := uuid.Parse(userID); err != nil {
		return nil, core.Errorf(core.EUNAUTHORIZED, "the key's user is unknown")
	}
	a := &core.Access{UserID: userID}
	var active bool
	var rights, fields []byte
	err := s.db(ctx).QueryRow(ctx, accessSQL, userID, core.RoleManagerID).Scan(&a.Admin, &active, &a.RoleID, &a.RoleName,
		&rights, &fields, &a.Areas, &a.Teams, &a.TeamMates, &a.Subordinates)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.EUNAUTHORIZED, "the key's user is unknown")
	}
	if err != nil {
		return nil, fmt.Errorf("resolve access: %w", err)
	}
	if !active {
		return nil, core.Errorf(core.EUNAUTHORIZED, "the user is deactivated")
	}
	if err := json.Unmarshal(rights, &a.Rights); err != nil {
		return nil, fmt.Errorf("resolve access: role rights: %w", err)
	}
	if err := json.Unmarshal(fields, &a.Fields); err != nil {
		return nil, fmt.Errorf("resolve access: field rules: %w", err)
	}
	s.access.put(userID, a, s.now())
	return withScope(a, max), nil
}

// withScope returns a copy of a narrowed to a key of scope max (the
// resolution itself is shared).
func withScope(a *core.Access, max core.Scope) *core.Access {
	c := *a
	c.MaxScope = max
	return &c
}

// accessTTL is how long a resolved access is reused.
const accessTTL = 3 * time.Second

// accessCache keeps resolved accesses for accessTTL, at most 10,000.
type accessCache struct {
	mu sync.Mutex
	m  map[string]cachedAccess
}

type cachedAccess struct {
	a  *core.Access
	at time.Time
}

func (c *accessCache) get(userID string, now time.Time) (*core.Access, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[userID]
	if !ok || now.Sub(e.at) > accessTTL || now.Before(e.at) {
		return nil, false
	}
	return e.a, true
}

func (c *accessCache) put(userID string, a *core.Access, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= 10000 {
		c.m = map[string]cachedAccess{}
	}
	c.m[userID] = cachedAccess{a: a, at: now}
}

// forget drops every resolution (a role, team or user changed: who
// reaches whom may have changed for anyone), or one user's.
func (c *accessCache) forget(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if userID == "" {
		c.m = nil
		return
	}
	delete(c.m, userID)
}
