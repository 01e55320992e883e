package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// DeleteAttachment implements core.AttachmentService: the attachment
// delete right and edit on the record.
func (s *Store) DeleteAttachment(ctx context.Context, id string) (*core.Attachment, error) {
	return s.setAttachmentDeleted(ctx, id, true)
}

// RestoreAttachment implements core.AttachmentService.
func (s *Store) RestoreAttachment(ctx context.Context, id string) (*core.Attachment, error) {
	return s.setAttachmentDeleted(ctx, id, false)
}

// setAttachmentDeleted deletes a live file or restores a deleted one,
// with its event (an update of deleted_at).
func (s *Store) setAttachmentDeleted(ctx context.Context, id string, deleting bool) (*core.Attachment, error) {
	a, _, _, err := s.attachmentRow(ctx, id, !deleting)
	if err != nil {
		return nil, err
	}
	if acc := core.AccessFromContext(ctx); acc != nil && acc.Level(core.EntityAttachment, core.ActDelete) == core.LevelNone {
		return nil, core.Forbidden(core.EntityAttachment, core.ActDelete)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, card := recordTables[a.Entity]; card {
			if err := s.recordAccess(ctx, tx, a.Entity, a.RecordID, core.ActEdit); err != nil {
				return err
			}
		}
		if !deleting {
			if same, err := s.sameFile(ctx, tx, *a); err != nil || same != nil {
				return core.Errorf(core.ECONFLICT, "the %s has this file again (attachment %s): delete that one first", a.Entity, sameID(same, err))
			}
		}
		var by *string
		a.DeletedAt = nil
		if deleting {
			now := s.now()
			a.DeletedAt = &now
			if acc := core.AccessFromContext(ctx); acc != nil && acc.UserID != "" {
				by = &acc.UserID
			}
		}
		a.Version++
		return s.write(ctx, tx, mutation{sql: `UPDATE attachments SET deleted_at = $2, deleted_by = $3, version = $4
			WHERE id = $1 AND version = $4 - 1`, args: []any{a.ID, a.DeletedAt, by, a.Version}, wantRows: 1,
			entity: core.EntityAttachment, op: core.OpUpdated, id: a.ID, version: a.Version, data: a,
			changed: []string{"deleted_at"}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func sameID(same *core.Attachment, err error) string {
	if err != nil || same == nil {
		return "?"
	}
	return same.ID
}

// PurgeAttachments removes the files deleted more than
// core.AttachmentRetention ago, their bytes with them, and returns how
// many it removed.
func (s *Store) PurgeAttachments(ctx context.Context) (int, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT id::text, storage FROM attachments WHERE deleted_at < $1 LIMIT 1000`,
		s.now().Add(-core.AttachmentRetention))
	if err != nil {
		return 0, wrap("purge attachments", err)
	}
	old, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var g [2]string
		return g, r.Scan(&g[0], &g[1])
	})
	if err != nil {
		return 0, wrap("purge attachments", err)
	}
	for i, g := range old {
		id, storage := g[0], g[1]
		if storage == core.StorageS3 && s.blobs != nil {
			if err := s.blobs.Delete(ctx, id); err != nil {
				return i, fmt.Errorf("purge attachment %s: %w", id, err)
			}
		}
		if _, err := s.db(ctx).Exec(ctx, `DELETE FROM attachments WHERE id = $1`, id); err != nil {
			return i, fmt.Errorf("purge attachment %s: %w", id, err)
		}
	}
	return len(old), nil
}
