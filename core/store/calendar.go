package store

import (
	"context"
	"fmt"

	"github.com/crmhub/crmhub/core"
)

var _ core.CalendarFeeds = (*Store)(nil)

// IssueCalendarToken implements core.CalendarFeeds.
func (s *Store) IssueCalendarToken(ctx context.Context, userID string) (string, error) {
	if _, err := s.Users().Get(ctx, userID); err != nil {
		return "", err
	}
	secret, hash := core.NewAPIKeySecret()
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO calendar_tokens (user_id, hash, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at`, userID, hash, s.now())
	if err != nil {
		return "", fmt.Errorf("issue calendar token: %w", err)
	}
	return secret, nil
}

// CalendarUser implements core.CalendarFeeds.
func (s *Store) CalendarUser(ctx context.Context, token string) (*core.User, error) {
	u, err := s.tables.user.get1(ctx, s.db(ctx), `WHERE active AND deleted_at IS NULL
		AND id = (SELECT user_id FROM calendar_tokens WHERE hash = $1)`, core.HashAPIKey(token))
	if err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "no such calendar")
	}
	return u, nil
}
