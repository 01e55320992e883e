package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.ShareService = (*Store)(nil)

// ownedTables are the tables of the kinds whose records have an owner,
// and so shares: entity → table.
var ownedTables = map[string]string{
	core.EntityLead: "leads", core.EntityAccount: "accounts", core.EntityContact: "contacts", core.EntityDeal: "deals",
	core.EntityActivity: "activities", core.EntityCall: "calls", core.EntityQuote: "quotes", core.EntityInvoice: "invoices",
	core.EntityAct: "acts", core.EntityRealization: "realizations", core.EntitySalesOrder: "sales_orders",
	core.EntityPurchaseOrder: "purchase_orders", core.EntityPayment: "payments", core.EntityEmail: "emails",
	core.EntityReport: "reports",
}

// tableEntities is ownedTables the other way: table → entity.
var tableEntities = func() map[string]string {
	m := make(map[string]string, len(ownedTables))
	for e, t := range ownedTables {
		m[t] = e
	}
	return m
}()

// CheckRecordAccess says whether the context's user may act on one
// record: nil when they may; ENOTFOUND when the record does not exist or
// they cannot see it (existence does not leak); EFORBIDDEN naming the
// right when they see it but lack act.
func (s *Store) CheckRecordAccess(ctx context.Context, entity, id string, act core.Action) error {
	table, ok := ownedTables[entity]
	if _, err := uuid.Parse(id); !ok || err != nil {
		return core.Errorf(core.ENOTFOUND, "%s not found", entity)
	}
	return s.authorize(ctx, s.db(ctx), entity, table, false, id, act)
}

// Shares implements core.ShareService: the caller must see the record.
func (s *Store) Shares(ctx context.Context, entity, recordID string) ([]core.Share, error) {
	if err := s.CheckRecordAccess(ctx, entity, recordID, core.ActView); err != nil {
		return nil, err
	}
	rows, err := s.db(ctx).Query(ctx, `SELECT id, entity, record_id, user_id::text, team_id::text, access, created_by,
		to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
		FROM record_shares WHERE entity = $1 AND record_id = $2 ORDER BY created_at, id`, entity, recordID)
	if err != nil {
		return nil, fmt.Errorf("shares of %s %s: %w", entity, recordID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Share, error) {
		var sh core.Share
		err := r.Scan(&sh.ID, &sh.Entity, &sh.RecordID, &sh.UserID, &sh.TeamID, &sh.Access, &sh.CreatedBy, &sh.CreatedAt)
		return sh, err
	})
	if err != nil {
		return nil, fmt.Errorf("shares of %s %s: %w", entity, recordID, err)
	}
	return out, nil
}

// AddShare implements core.ShareService: the caller must be allowed to
// edit the record; sharing again with the same grantee changes the
// access. Errors: ENOTFOUND, EFORBIDDEN, EINVALID (an unknown grantee).
func (s *Store) AddShare(ctx context.Context, entity, recordID string, in core.ShareInput) (*core.Share, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := s.CheckRecordAccess(ctx, entity, recordID, core.ActEdit); err != nil {
		return nil, err
	}
	var user, team any
	if in.UserID != "" {
		user = in.UserID
		if err := mustExist(ctx, s.db(ctx), "users", "user_id", &in.UserID); err != nil {
			return nil, err
		}
	} else {
		team = in.TeamID
		if err := mustExist(ctx, s.db(ctx), "teams", "team_id", &in.TeamID); err != nil {
			return nil, err
		}
	}
	id := uuid.Must(uuid.NewV7()).String()
	var sh core.Share
	err := s.db(ctx).QueryRow(ctx, `INSERT INTO record_shares (id, entity, record_id, user_id, team_id, access, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (entity, record_id, coalesce(user_id, team_id)) DO UPDATE SET access = EXCLUDED.access
		RETURNING id, entity, record_id, user_id::text, team_id::text, access, created_by,
			to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
		id, entity, recordID, user, team, in.Access, core.ActorFromContext(ctx).UserID, s.now()).
		Scan(&sh.ID, &sh.Entity, &sh.RecordID, &sh.UserID, &sh.TeamID, &sh.Access, &sh.CreatedBy, &sh.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("share %s %s: %w", entity, recordID, err)
	}
	return &sh, nil
}

// RemoveShare implements core.ShareService. Errors: ENOTFOUND,
// EFORBIDDEN.
func (s *Store) RemoveShare(ctx context.Context, entity, recordID, shareID string) error {
	if err := s.CheckRecordAccess(ctx, entity, recordID, core.ActEdit); err != nil {
		return err
	}
	if _, err := uuid.Parse(shareID); err != nil {
		return core.Errorf(core.ENOTFOUND, "share not found")
	}
	tag, err := s.db(ctx).Exec(ctx, `DELETE FROM record_shares WHERE id = $1 AND entity = $2 AND record_id = $3`,
		shareID, entity, recordID)
	if err != nil {
		return fmt.Errorf("remove share: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return core.Errorf(core.ENOTFOUND, "share not found")
	}
	return nil
}
