package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// fillNoteFiles sets the live files each note carries, oldest first.
func fillNoteFiles(ctx context.Context, db dbtx, notes []core.Note) error {
	if len(notes) == 0 {
		return nil
	}
	ids := make([]string, len(notes))
	for i, n := range notes {
		ids[i] = n.ID
	}
	rows, err := db.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments
		WHERE note_id = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY created_at, id`, ids)
	if err != nil {
		return fmt.Errorf("files of notes: %w", err)
	}
	files, err := pgx.CollectRows(rows, scanAttachment)
	if err != nil {
		return fmt.Errorf("files of notes: %w", err)
	}
	byNote := map[string][]core.Attachment{}
	for _, f := range files {
		byNote[*f.NoteID] = append(byNote[*f.NoteID], f)
	}
	for i := range notes {
		notes[i].Attachments = nonNilSlice(byNote[notes[i].ID])
	}
	return nil
}

// shownNote is n as the caller sees it: without its files when their role
// may not see files.
func shownNote(ctx context.Context, n *core.Note) *core.Note {
	acc := core.AccessFromContext(ctx)
	if acc == nil || len(n.Attachments) == 0 || acc.Level(core.EntityAttachment, core.ActView) != core.LevelNone {
		return n
	}
	c := *n
	c.Attachments = []core.Attachment{}
	return &c
}

// mayLinkFiles refuses to put files on a note, or take them off, for a
// caller whose role may not see files. Errors: EFORBIDDEN.
func mayLinkFiles(ctx context.Context) error {
	if acc := core.AccessFromContext(ctx); acc != nil && acc.Level(core.EntityAttachment, core.ActView) == core.LevelNone {
		return core.Forbidden(core.EntityAttachment, core.ActView)
	}
	return nil
}

// notePlan is what a note's files become: files, the ones it carries, and
// changed, the files it takes or lets go (as they will be).
type notePlan struct {
	files   []core.Attachment
	changed []core.Attachment
}

// planNoteFiles checks the files (ids) a note is to carry, each a live
// file of its record on no other note, and returns the plan; the live
// files it carried and are not listed leave it (they stay on the record).
// It locks the files it reads. Errors: EINVALID naming each wrong id.
func planNoteFiles(ctx context.Context, tx pgx.Tx, n *core.Note, ids []string) (notePlan, error) {
	var plan notePlan
	want, err := fileIDs(ids)
	if err != nil {
		return plan, err
	}
	rows, err := tx.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments
		WHERE id = ANY($1::uuid[]) OR (note_id = $2 AND deleted_at IS NULL) ORDER BY id FOR UPDATE`, want, n.ID)
	if err != nil {
		return plan, fmt.Errorf("files of note: %w", err)
	}
	found, err := pgx.CollectRows(rows, scanAttachment)
	if err != nil {
		return plan, fmt.Errorf("files of note: %w", err)
	}
	var errs []core.FieldError
	seen := map[string]bool{}
	for i, id := range ids {
		id = canonicalID(id)
		if seen[id] {
			continue
		}
		seen[id] = true
		j := slices.IndexFunc(found, func(f core.Attachment) bool { return f.ID == id })
		if e := noteFileError(n, found, j); e != "" {
			errs = append(errs, core.FieldError{Field: fmt.Sprintf("attachments[%d]", i), Code: "invalid_file", Message: e})
			continue
		}
		f := found[j]
		if f.NoteID == nil {
			f.NoteID = &n.ID
			f.Version++
			plan.changed = append(plan.changed, f)
		}
		plan.files = append(plan.files, f)
	}
	for _, f := range found {
		if f.NoteID != nil && *f.NoteID == n.ID && !slices.Contains(want, f.ID) {
			f.NoteID = nil
			f.Version++
			plan.changed = append(plan.changed, f)
		}
	}
	slices.SortFunc(plan.files, func(a, b core.Attachment) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	plan.files = nonNilSlice(plan.files)
	return plan, core.Invalid(errs)
}

// releaseNoteFiles returns the plan that takes every file, live or
// deleted, off a note; it locks them.
func releaseNoteFiles(ctx context.Context, tx pgx.Tx, noteID string) (notePlan, error) {
	var plan notePlan
	rows, err := tx.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments WHERE note_id = $1 ORDER BY id FOR UPDATE`, noteID)
	if err != nil {
		return plan, fmt.Errorf("files of note: %w", err)
	}
	plan.changed, err = pgx.CollectRows(rows, scanAttachment)
	if err != nil {
		return plan, fmt.Errorf("files of note: %w", err)
	}
	for i := range plan.changed {
		plan.changed[i].NoteID = nil
		plan.changed[i].Version++
	}
	return plan, nil
}

// noteFileError says why found[j] may not go on n ("" when it may).
func noteFileError(n *core.Note, found []core.Attachment, j int) string {
	switch {
	case j < 0 || found[j].Entity != n.Entity || found[j].RecordID != n.RecordID:
		return fmt.Sprintf("is not a file of this %s", n.Entity)
	case found[j].DeletedAt != nil:
		return "the file is deleted"
	case found[j].NoteID != nil && *found[j].NoteID != n.ID:
		return "the file is on another note"
	}
	return ""
}

// fileIDs returns ids canonical and each once, refusing one that is not a
// UUID. Errors: EINVALID.
func fileIDs(ids []string) ([]string, error) {
	out := []string{}
	var errs []core.FieldError
	for i, id := range ids {
		if _, err := uuid.Parse(id); err != nil {
			errs = append(errs, core.FieldError{Field: fmt.Sprintf("attachments[%d]", i), Code: "invalid_id", Message: "must be a file's id"})
			continue
		}
		if c := canonicalID(id); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, core.Invalid(errs)
}

// canonicalID is a UUID as PostgreSQL writes it.
func canonicalID(id string) string {
	u, _ := uuid.Parse(id)
	return u.String()
}

// applyNoteFiles writes the files a plan changes, each with its event.
func (s *Store) applyNoteFiles(ctx context.Context, tx pgx.Tx, plan notePlan) error {
	for _, f := range plan.changed {
		err := s.write(ctx, tx, mutation{sql: `UPDATE attachments SET note_id = $2, version = $3 WHERE id = $1 AND version = $4`,
			args: []any{f.ID, f.NoteID, f.Version, f.Version - 1}, wantRows: 1,
			entity: core.EntityAttachment, op: core.OpUpdated, id: f.ID, version: f.Version, data: f, changed: []string{"note_id"}})
		if err != nil {
			return err
		}
	}
	return nil
}
