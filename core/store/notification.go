package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/reportsql"
)

// notificationsOrder is the order of a user's notifications, named in
// their cursors.
var notificationsOrder = core.Sort{Field: "created_at", Desc: true}

// mentioned returns the users a note mentions: its text's @tokens that
// name an active user (core.ResolveMentions), then the explicit ids of a
// client's autocomplete, each of which must be an active user; each once,
// at most core.MaxNoteMentions. Errors: EINVALID.
func (s *Store) mentioned(ctx context.Context, db dbtx, text string, explicit []string) ([]string, error) {
	users, err := resolveTokens(ctx, db, core.ParseMentions(text))
	if err != nil {
		return nil, err
	}
	ids, err := explicitMentions(ctx, db, explicit)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !slices.Contains(users, id) {
			users = append(users, id)
		}
	}
	if len(users) > core.MaxNoteMentions {
		return nil, core.Invalid([]core.FieldError{{Field: "mentions", Code: "too_many",
			Message: fmt.Sprintf("the note mentions %d users, at most %d", len(users), core.MaxNoteMentions)}})
	}
	return nonNil(users), nil
}

// resolveTokens returns the ids of the active users the @tokens name
// (the first core.MaxMentionTokens of them), reading the candidates: the
// users whose login is a token or whose name holds one.
func resolveTokens(ctx context.Context, db dbtx, tokens []string) ([]string, error) {
	if len(tokens) == 0 {
		return nil, nil
	}
	tokens = tokens[:min(len(tokens), core.MaxMentionTokens)]
	keys := make([]string, len(tokens))
	patterns := make([]string, len(tokens))
	for i, t := range tokens {
		keys[i] = core.MentionKey(t)
		patterns[i] = "%" + reportsql.EscapeLike(keys[i]) + "%"
	}
	rows, err := db.Query(ctx, `SELECT id::text, email, name FROM users WHERE active AND deleted_at IS NULL
		AND (lower(split_part(email, '@', 1)) = ANY($1) OR translate(name, 'ёЁ', 'еЕ') ILIKE ANY($2))`, keys, patterns)
	if err != nil {
		return nil, fmt.Errorf("resolve mentions: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.MentionCandidate, error) {
		var u core.MentionCandidate
		return u, r.Scan(&u.ID, &u.Email, &u.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("resolve mentions: %w", err)
	}
	return core.ResolveMentions(tokens, users), nil
}

// explicitMentions returns the explicit mentions of a client's
// autocomplete as canonical ids, refusing one that is not an active
// user's id. Errors: EINVALID naming each.
func explicitMentions(ctx context.Context, db dbtx, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var errs []core.FieldError
	out := make([]string, len(ids))
	for i, id := range ids {
		u, err := uuid.Parse(id)
		if err != nil {
			errs = append(errs, core.FieldError{Field: fmt.Sprintf("mentions[%d]", i), Code: "invalid_id", Message: "must be a user's id"})
		}
		out[i] = u.String()
	}
	if len(errs) > 0 {
		return nil, core.Invalid(errs)
	}
	rows, err := db.Query(ctx, `SELECT id::text FROM users WHERE id = ANY($1::uuid[]) AND active AND deleted_at IS NULL`, out)
	if err != nil {
		return nil, fmt.Errorf("check mentions: %w", err)
	}
	active, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("check mentions: %w", err)
	}
	for i, id := range out {
		if !slices.Contains(active, id) {
			errs = append(errs, core.FieldError{Field: fmt.Sprintf("mentions[%d]", i), Code: "not_found", Message: "is not an active user"})
		}
	}
	return out, core.Invalid(errs)
}

// mentionTargets returns, of the users a note on a record mentions, the
// ones to tell: all but the actor. A mentioned user who cannot see the
// record is refused rather than told (the note would reach someone the
// record is hidden from). Errors: EINVALID naming them.
func (s *Store) mentionTargets(ctx context.Context, entity, recordID string, users []string, actor string) ([]string, error) {
	var tell, blind []string
	for _, u := range users {
		if u == actor {
			continue
		}
		sees, err := s.userSees(ctx, u, entity, recordID)
		if err != nil {
			return nil, err
		}
		if sees {
			tell = append(tell, u)
		} else {
			blind = append(blind, u)
		}
	}
	if len(blind) == 0 {
		return tell, nil
	}
	rows, err := s.db(ctx).Query(ctx, `SELECT name FROM users WHERE id = ANY($1::uuid[]) ORDER BY name`, blind)
	if err != nil {
		return nil, fmt.Errorf("mention targets: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("mention targets: %w", err)
	}
	return nil, core.Invalid([]core.FieldError{{Field: "mentions", Code: "no_access",
		Message: fmt.Sprintf("%s cannot see this %s: share it with them first, or do not mention them", strings.Join(names, ", "), entity)}})
}

// userSees reports whether a user (not the caller) may view a record.
func (s *Store) userSees(ctx context.Context, userID, entity, recordID string) (bool, error) {
	acc, err := s.Access(ctx, userID, core.ScopeRead)
	if core.ErrorCode(err) == core.EUNAUTHORIZED {
		return false, nil // deactivated meanwhile
	}
	if err != nil {
		return false, err
	}
	err = s.recordAccess(core.NewContextWithAccess(ctx, acc), s.db(ctx), entity, recordID, core.ActView)
	switch core.ErrorCode(err) {
	case "":
		return true, nil
	case core.ENOTFOUND:
		return false, nil
	}
	return false, err
}

// notifyStmts are the statements telling users of a mention in n by actor
// (nothing for none); a user already told of n is not told again.
func notifyStmts(n *core.Note, users []string, actor string, at time.Time) []queuedStmt {
	if len(users) == 0 {
		return nil
	}
	ids := make([]string, len(users))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String()
	}
	return []queuedStmt{{`INSERT INTO notifications (id, user_id, kind, entity, record_id, note_id, actor_id, text, created_at)
		SELECT t.id, t.user_id, $3, $4, $5, $6, $7, $8, $9 FROM unnest($1::uuid[], $2::uuid[]) AS t (id, user_id)
		ON CONFLICT (note_id, user_id, kind) WHERE note_id IS NOT NULL DO NOTHING`,
		[]any{ids, users, core.NotificationMention, n.Entity, n.RecordID, n.ID, orNull(actor), core.NoteExcerpt(n.Text), at}}}
}

// notificationCols are the columns scanNotification reads (nf:
// notifications).
const notificationCols = `nf.id::text, nf.kind, nf.entity, nf.record_id::text, nf.note_id::text, nf.actor_id::text,
	nf.text, nf.created_at, nf.read_at`

func scanNotification(r pgx.CollectableRow) (core.Notification, error) {
	var n core.Notification
	err := r.Scan(&n.ID, &n.Kind, &n.Entity, &n.RecordID, &n.NoteID, &n.ActorID, &n.Text, &n.CreatedAt, &n.ReadAt)
	n.CreatedAt = n.CreatedAt.UTC()
	if n.ReadAt != nil {
		at := n.ReadAt.UTC()
		n.ReadAt = &at
	}
	return n, err
}

// Notifications implements core.NotificationService: the caller's, but
// those of notes deleted since.
func (s *Store) Notifications(ctx context.Context, f core.NotificationFilter) (core.Page[core.Notification], error) {
	page := core.Page[core.Notification]{Items: []core.Notification{}}
	user := actingUser(ctx)
	q := &query{}
	where := "nf.user_id = " + q.arg(user) + " AND (nf.note_id IS NULL OR n.deleted_at IS NULL)"
	if f.Unread {
		where += " AND nf.read_at IS NULL"
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, notificationsOrder)
		if err != nil {
			return page, err
		}
		at, err := time.Parse(time.RFC3339Nano, c.Value)
		if err != nil {
			return page, badCursor()
		}
		where += " AND (nf.created_at, nf.id) < (" + q.arg(at) + ", " + q.arg(c.ID) + "::uuid)"
	}
	if user == "" {
		return page, nil // the hub itself is told nothing
	}
	size := f.Size()
	rows, err := s.db(ctx).Query(ctx, `SELECT `+notificationCols+` FROM notifications nf LEFT JOIN notes n ON n.id = nf.note_id
		WHERE `+where+` ORDER BY nf.created_at DESC, nf.id DESC LIMIT `+q.arg(size+1), q.args...)
	if err != nil {
		return page, fmt.Errorf("list notifications: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanNotification)
	if err != nil {
		return page, fmt.Errorf("list notifications: %w", err)
	}
	if len(items) > size {
		items = items[:size]
		last := items[size-1]
		page.NextCursor = encodeCursor(notificationsOrder, last.CreatedAt.Format(time.RFC3339Nano), last.ID)
	}
	page.Items = items
	return page, nil
}

// MarkNotificationsRead implements core.NotificationService.
func (s *Store) MarkNotificationsRead(ctx context.Context, ids []string, all bool) (int, error) {
	var errs []core.FieldError
	if len(ids) > core.MaxNotificationIDs {
		errs = append(errs, core.FieldError{Field: "ids", Code: "too_many", Message: fmt.Sprintf("at most %d ids at a time", core.MaxNotificationIDs)})
	}
	for i, id := range ids {
		if _, err := uuid.Parse(id); err != nil {
			errs = append(errs, core.FieldError{Field: fmt.Sprintf("ids[%d]", i), Code: "invalid_id", Message: "must be a notification's id"})
		}
	}
	if err := core.Invalid(errs); err != nil {
		return 0, err
	}
	user := actingUser(ctx)
	if user == "" || (!all && len(ids) == 0) {
		return 0, nil
	}
	sql := `UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL`
	args := []any{user, s.now()}
	if !all {
		sql += ` AND id = ANY($3::uuid[])`
		args = append(args, ids)
	}
	tag, err := s.db(ctx).Exec(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
