package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var (
	_ core.NoteService         = (*Store)(nil)
	_ core.NotificationService = (*Store)(nil)
)

// noteCols are the columns scanNote reads.
const noteCols = `id::text, entity, record_id::text, text, author_id::text, pinned, mentions::text[],
	created_at, updated_at, edited_at, version`

func scanNote(r pgx.CollectableRow) (core.Note, error) {
	var n core.Note
	err := r.Scan(&n.ID, &n.Entity, &n.RecordID, &n.Text, &n.AuthorID, &n.Pinned, &n.Mentions,
		&n.CreatedAt, &n.UpdatedAt, &n.EditedAt, &n.Version)
	n.CreatedAt = n.CreatedAt.UTC()
	n.UpdatedAt = n.UpdatedAt.UTC()
	if n.EditedAt != nil {
		at := n.EditedAt.UTC()
		n.EditedAt = &at
	}
	n.Mentions = nonNil(n.Mentions)
	n.Attachments = []core.Attachment{}
	return n, err
}

// notesOrder is the order of a record's notes, named in their cursors.
var notesOrder = core.Sort{Field: "pinned,created_at", Desc: true}

// actingUser is the user a call acts as: its access's, else its actor's;
// "" for the hub's own work.
func actingUser(ctx context.Context) string {
	if acc := core.AccessFromContext(ctx); acc != nil {
		return acc.UserID
	}
	return core.ActorFromContext(ctx).UserID
}

// orNull is s, nil when empty.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// noteRow reads a live note on db (lock: "" or "FOR UPDATE"). Errors:
// ENOTFOUND.
func noteRow(ctx context.Context, db dbtx, id, lock string) (*core.Note, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "note not found")
	}
	rows, err := db.Query(ctx, `SELECT `+noteCols+` FROM notes WHERE id = $1 AND deleted_at IS NULL `+lock, id)
	if err != nil {
		return nil, err
	}
	n, err := pgx.CollectExactlyOneRow(rows, scanNote)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "note not found")
	}
	return &n, err
}

// visibleNote reads a live note whose record the caller sees, with its
// files. Errors: ENOTFOUND (the note's record hidden too: a note does not
// tell its record exists).
func (s *Store) visibleNote(ctx context.Context, db dbtx, id, lock string) (*core.Note, error) {
	n, err := noteRow(ctx, db, id, lock)
	if err != nil {
		return nil, err
	}
	err = s.recordAccess(ctx, db, n.Entity, n.RecordID, core.ActView)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return nil, core.Errorf(core.ENOTFOUND, "note not found")
	}
	if err != nil {
		return nil, err
	}
	notes := []core.Note{*n}
	if err := fillNoteFiles(ctx, db, notes); err != nil {
		return nil, err
	}
	return &notes[0], nil
}

// Note implements core.NoteService.
func (s *Store) Note(ctx context.Context, id string) (*core.Note, error) {
	n, err := s.visibleNote(ctx, s.db(ctx), id, "")
	if err != nil {
		return nil, wrap("get note", err)
	}
	return shownNote(ctx, n), nil
}

// Notes implements core.NoteService.
func (s *Store) Notes(ctx context.Context, entity, recordID string, p core.PageRequest) (core.Page[core.Note], error) {
	page := core.Page[core.Note]{Items: []core.Note{}}
	db := s.db(ctx)
	if err := s.recordAccess(ctx, db, entity, recordID, core.ActView); err != nil {
		return page, wrap("list notes", err)
	}
	q := &query{}
	where := "entity = " + q.arg(entity) + " AND record_id = " + q.arg(recordID) + " AND deleted_at IS NULL"
	if p.Cursor != "" {
		pinned, at, id, err := decodeNoteCursor(p.Cursor)
		if err != nil {
			return page, err
		}
		where += " AND (pinned, created_at, id) < (" + q.arg(pinned) + ", " + q.arg(at) + ", " + q.arg(id) + "::uuid)"
	}
	size := p.Size()
	rows, err := db.Query(ctx, `SELECT `+noteCols+` FROM notes WHERE `+where+`
		ORDER BY pinned DESC, created_at DESC, id DESC LIMIT `+q.arg(size+1), q.args...)
	if err != nil {
		return page, wrap("list notes", err)
	}
	items, err := pgx.CollectRows(rows, scanNote)
	if err != nil {
		return page, wrap("list notes", err)
	}
	if len(items) > size {
		items = items[:size]
		last := items[size-1]
		page.NextCursor = encodeCursor(notesOrder, strconv.FormatBool(last.Pinned)+" "+last.CreatedAt.Format(time.RFC3339Nano), last.ID)
	}
	if err := fillNoteFiles(ctx, db, items); err != nil {
		return page, wrap("list notes", err)
	}
	for i := range items {
		items[i] = *shownNote(ctx, &items[i])
	}
	page.Items = items
	return page, nil
}

// decodeNoteCursor reads a cursor of a list of notes: the last note's
// pinned flag, creation time and id.
func decodeNoteCursor(s string) (bool, time.Time, string, error) {
	c, err := decodeCursor(s, notesOrder)
	if err != nil {
		return false, time.Time{}, "", err
	}
	flag, at, _ := strings.Cut(c.Value, " ")
	pinned, perr := strconv.ParseBool(flag)
	t, terr := time.Parse(time.RFC3339Nano, at)
	if perr != nil || terr != nil {
		return false, time.Time{}, "", badCursor()
	}
	return pinned, t, c.ID, nil
}

// AddNote implements core.NoteService.
func (s *Store) AddNote(ctx context.Context, entity, recordID string, in core.NoteInput) (*core.Note, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	db := s.db(ctx)
	if err := s.recordAccess(ctx, db, entity, recordID, core.ActView); err != nil {
		return nil, wrap("add note", err)
	}
	if len(in.Attachments) > 0 {
		if err := mayLinkFiles(ctx); err != nil {
			return nil, err
		}
	}
	author := actingUser(ctx)
	mentions, err := s.mentioned(ctx, db, in.Text, in.Mentions)
	if err != nil {
		return nil, wrap("add note", err)
	}
	tell, err := s.mentionTargets(ctx, entity, recordID, mentions, author)
	if err != nil {
		return nil, wrap("add note", err)
	}

	now := s.now()
	n := &core.Note{ID: uuid.Must(uuid.NewV7()).String(), Entity: entity, RecordID: recordID, Text: in.Text,
		AuthorID: orNull(author), Pinned: in.Pinned, Mentions: mentions, CreatedAt: now, UpdatedAt: now, Version: 1}
	err = s.inTx(ctx, func(tx pgx.Tx) error { return s.insertNote(ctx, tx, n, in.Attachments, tell) })
	if err != nil {
		return nil, wrap("add note", err)
	}
	return shownNote(ctx, n), nil
}

// insertNote writes a new note carrying the files ids, with its event and
// the notifications of the users tell.
func (s *Store) insertNote(ctx context.Context, tx pgx.Tx, n *core.Note, files, tell []string) error {
	plan := notePlan{files: []core.Attachment{}}
	if len(files) > 0 {
		p, err := planNoteFiles(ctx, tx, n, files)
		if err != nil {
			return err
		}
		plan = p
	}
	n.Attachments = plan.files
	err := s.write(ctx, tx, mutation{sql: `INSERT INTO notes (id, entity, record_id, text, author_id, pinned, mentions,
		created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)`,
		args:     []any{n.ID, n.Entity, n.RecordID, n.Text, n.AuthorID, n.Pinned, n.Mentions, n.CreatedAt},
		wantRows: 1, entity: core.EntityNote, op: core.OpCreated, id: n.ID, version: 1, data: n,
		extra: notifyStmts(n, tell, actingUser(ctx), n.CreatedAt)})
	if err != nil {
		return err
	}
	return s.applyNoteFiles(ctx, tx, plan)
}

// UpdateNote implements core.NoteService.
func (s *Store) UpdateNote(ctx context.Context, id string, ifVersion int64, p core.NotePatch) (*core.Note, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	old, err := s.changeableNote(ctx, s.db(ctx), id, "")
	if err != nil {
		return nil, wrap("update note", err)
	}
	if p.Attachments != nil {
		if err := mayLinkFiles(ctx); err != nil {
			return nil, err
		}
	}
	next, tell, err := s.nextNote(ctx, old, p)
	if err != nil {
		return nil, wrap("update note", err)
	}

	out := old
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := s.lockNote(ctx, tx, id, ifVersion)
		if err != nil {
			return err
		}
		if cur.Version != old.Version {
			return core.Errorf(core.ECONFLICT, "the note changed concurrently; retry")
		}
		plan := notePlan{files: cur.Attachments}
		if p.Attachments != nil {
			if plan, err = planNoteFiles(ctx, tx, cur, *p.Attachments); err != nil {
				return err
			}
		}
		next.Attachments = plan.files
		written, err := s.rewriteNote(ctx, tx, cur, next, tell)
		if err != nil || !written {
			return err
		}
		out = next
		return s.applyNoteFiles(ctx, tx, plan)
	})
	if err != nil {
		return nil, wrap("update note", err)
	}
	return shownNote(ctx, out), nil
}

// nextNote is old changed by p, and the users to tell of the mentions
// the change adds (only those: the others were told, or were refused).
func (s *Store) nextNote(ctx context.Context, old *core.Note, p core.NotePatch) (*core.Note, []string, error) {
	next := *old
	if p.Text != nil {
		next.Text = *p.Text
	}
	if p.Pinned != nil {
		next.Pinned = *p.Pinned
	}
	if p.Text == nil && p.Mentions == nil {
		return &next, nil, nil
	}
	var explicit []string
	if p.Mentions != nil {
		explicit = *p.Mentions
	}
	mentions, err := s.mentioned(ctx, s.db(ctx), next.Text, explicit)
	if err != nil {
		return nil, nil, err
	}
	next.Mentions = mentions
	fresh := slices.DeleteFunc(slices.Clone(mentions), func(u string) bool { return slices.Contains(old.Mentions, u) })
	tell, err := s.mentionTargets(ctx, old.Entity, old.RecordID, fresh, actingUser(ctx))
	return &next, tell, err
}

// rewriteNote stores next in place of cur with a new version, its event,
// the text an edit replaced and the notifications of tell; it reports
// whether anything changed (nothing is written otherwise).
func (s *Store) rewriteNote(ctx context.Context, tx pgx.Tx, cur, next *core.Note, tell []string) (bool, error) {
	changed, err := core.ChangedFields(cur, next, "updated_at", "version")
	if err != nil || len(changed) == 0 {
		return false, err
	}
	now := s.now()
	editor := actingUser(ctx)
	next.UpdatedAt = now
	next.Version = cur.Version + 1
	extra := notifyStmts(next, tell, editor, now)
	if next.Text != cur.Text {
		next.EditedAt = &now
		changed = append(changed, "edited_at")
		extra = append(extra, queuedStmt{`INSERT INTO note_edits (note_id, version, text, edited_by, edited_at)
			VALUES ($1, $2, $3, $4, $5)`, []any{cur.ID, cur.Version, cur.Text, orNull(editor), now}})
	}
	err = s.write(ctx, tx, mutation{sql: `UPDATE notes SET text = $2, pinned = $3, mentions = $4, updated_at = $5,
		edited_at = $6, version = $7 WHERE id = $1 AND version = $8`,
		args:     []any{next.ID, next.Text, next.Pinned, next.Mentions, now, next.EditedAt, next.Version, cur.Version},
		wantRows: 1, entity: core.EntityNote, op: core.OpUpdated, id: next.ID, version: next.Version, data: next,
		changed: changed, extra: extra})
	return err == nil, err
}

// DeleteNote implements core.NoteService: the note goes, its files stay
// on the record, no longer on a note (deleted ones too, should they be
// restored).
func (s *Store) DeleteNote(ctx context.Context, id string, ifVersion int64) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		n, err := s.lockNote(ctx, tx, id, ifVersion)
		if err != nil {
			return err
		}
		prev := n.Version
		n.UpdatedAt = s.now()
		n.Version = prev + 1
		err = s.write(ctx, tx, mutation{sql: `UPDATE notes SET deleted_at = $2, updated_at = $2, version = $3
			WHERE id = $1 AND version = $4`, args: []any{n.ID, n.UpdatedAt, n.Version, prev}, wantRows: 1,
			entity: core.EntityNote, op: core.OpDeleted, id: n.ID, version: n.Version, data: n})
		if err != nil {
			return err
		}
		plan, err := releaseNoteFiles(ctx, tx, n.ID)
		if err != nil {
			return err
		}
		return s.applyNoteFiles(ctx, tx, plan)
	})
	return wrap("delete note", err)
}

// changeableNote reads a note the caller sees and may change. Errors:
// ENOTFOUND, EFORBIDDEN.
func (s *Store) changeableNote(ctx context.Context, db dbtx, id, lock string) (*core.Note, error) {
	n, err := s.visibleNote(ctx, db, id, lock)
	if err != nil {
		return nil, err
	}
	if !core.CanChangeNote(core.AccessFromContext(ctx), n) {
		return nil, core.Errorf(core.EFORBIDDEN, "only the note's author or an administrator may change or delete it")
	}
	return n, nil
}

// lockNote reads a note for a write by the caller and checks the
// expected version (0: any). Errors: ENOTFOUND, EFORBIDDEN,
// EPRECONDITION.
func (s *Store) lockNote(ctx context.Context, tx pgx.Tx, id string, ifVersion int64) (*core.Note, error) {
	n, err := s.changeableNote(ctx, tx, id, "FOR UPDATE")
	if err != nil {
		return nil, err
	}
	if ifVersion > 0 && n.Version != ifVersion {
		return nil, core.Errorf(core.EPRECONDITION, "the note is at version %d, not %d", n.Version, ifVersion)
	}
	return n, nil
}

// NoteEdits implements core.NoteService.
func (s *Store) NoteEdits(ctx context.Context, id string) ([]core.NoteEdit, error) {
	db := s.db(ctx)
	if _, err := s.visibleNote(ctx, db, id, ""); err != nil {
		return nil, wrap("note edits", err)
	}
	rows, err := db.Query(ctx, `SELECT version, text, edited_by::text, edited_at FROM note_edits
		WHERE note_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("note edits: %w", err)
	}
	edits, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.NoteEdit, error) {
		var e core.NoteEdit
		err := r.Scan(&e.Version, &e.Text, &e.EditedBy, &e.EditedAt)
		e.EditedAt = e.EditedAt.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("note edits: %w", err)
	}
	return nonNilSlice(edits), nil
}

// nonNilSlice is s, or an empty slice for nil (a JSON [] rather than null).
func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
