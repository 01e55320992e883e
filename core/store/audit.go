package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.AuditLog = (*Store)(nil)

// Audit implements core.AuditLog. It writes in the context's transaction
// when there is one, so a deletion and its audit entry commit together.
func (s *Store) Audit(ctx context.Context, e core.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	actor := core.ActorFromContext(ctx)
	if e.UserID == "" {
		e.UserID = actor.UserID
	}
	if e.ActorID == "" {
		e.ActorID = actor.ID
	}
	var user any
	if e.UserID != "" {
		user = e.UserID
	}
	var detail any
	if len(e.Detail) > 0 {
		detail = string(e.Detail)
	}
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO audit_log (at, user_id, actor_id, action, entity, record_id, ip, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
		e.At, user, core.Clip(e.ActorID, 200), e.Action, e.Entity, core.Clip(e.RecordID, 200), core.Clip(e.IP, 64), detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditEntries implements core.AuditLog.
func (s *Store) AuditEntries(ctx context.Context, f core.AuditFilter) ([]core.AuditEntry, error) {
	q := &query{}
	if f.UserID != "" {
		q.where("user_id = " + q.arg(f.UserID) + "::uuid")
	}
	if f.Action != "" {
		q.where("action = " + q.arg(f.Action))
	}
	if !f.From.IsZero() {
		q.where("at >= " + q.arg(f.From))
	}
	if !f.To.IsZero() {
		q.where("at < " + q.arg(f.To))
	}
	if f.Before > 0 {
		q.where("id < " + q.arg(f.Before))
	}
	where := ""
	if len(q.conds) > 0 {
		where = "WHERE " + strings.Join(q.conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db(ctx).Query(ctx, `SELECT id, at, coalesce(user_id::text, ''), actor_id, action, entity, record_id, ip,
		coalesce(detail::text, '') FROM audit_log `+where+fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit), q.args...)
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.AuditEntry, error) {
		var e core.AuditEntry
		var detail string
		err := r.Scan(&e.ID, &e.At, &e.UserID, &e.ActorID, &e.Action, &e.Entity, &e.RecordID, &e.IP, &detail)
		e.At = e.At.UTC()
		if detail != "" {
			e.Detail = []byte(detail)
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return out, nil
}

// PruneAudit implements core.AuditLog.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.db(ctx).Exec(ctx, `DELETE FROM audit_log WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	return tag.RowsAffected(), nil
}
