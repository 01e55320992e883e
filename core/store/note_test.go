package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// noteBundle is a store with an author, two colleagues and a contact of
// the author's.
type noteBundle struct {
	s                       *store.Store
	hub                     context.Context
	author, ivanova, petrov string
	contact                 string
}

func setupNotes(t *testing.T) *noteBundle {
	t.Helper()
	b := &noteBundle{s: storetest.NewStore(t), hub: apiCtx()}
	b.author = b.user(t, "Автор Заметкин", "author@corp.ru", false)
	b.ivanova = b.user(t, "Иванова Мария", "m.ivanova@corp.ru", false)
	b.petrov = b.user(t, "Пётр Петров", "petrov@corp.ru", false)
	c, err := b.s.Contacts().Create(b.hub, patch(t, fmt.Sprintf(`{"last_name":"Клиентов","owner_id":%q}`, b.author)))
	require.NoError(t, err)
	b.contact = c.ID
	return b
}

func (b *noteBundle) user(t *testing.T, name, email string, admin bool) string {
	t.Helper()
	u, err := b.s.Users().Create(b.hub, patch(t, fmt.Sprintf(`{"name":%q,"email":%q,"is_admin":%t}`, name, email, admin)))
	require.NoError(t, err)
	return u.ID
}

// as is a context acting as the user.
func (b *noteBundle) as(t *testing.T, userID string) context.Context {
	t.Helper()
	acc, err := b.s.Access(b.hub, userID, core.ScopeWrite)
	require.NoError(t, err)
	ctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "key-" + userID, Source: "api", UserID: userID})
	return core.NewContextWithAccess(ctx, acc)
}

func (b *noteBundle) share(t *testing.T, userID string) {
	t.Helper()
	_, err := b.s.AddShare(b.hub, core.EntityContact, b.contact, core.ShareInput{UserID: userID, Access: "read"})
	require.NoError(t, err)
}

// file inserts a file of a record, as an upload would.
func (b *noteBundle) file(t *testing.T, entity, recordID string) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	_, err := b.s.Pool().Exec(b.hub, `INSERT INTO attachments (id, entity, record_id, file_name, content_type, size, sha256, data, created_at)
		VALUES ($1, $2, $3, 'счёт.pdf', 'application/pdf', 3, $4, 'pdf', now())`, id, entity, recordID, id)
	require.NoError(t, err)
	return id
}

func (b *noteBundle) notified(t *testing.T, userID string) []core.Notification {
	t.Helper()
	page, err := b.s.Notifications(b.as(t, userID), core.NotificationFilter{})
	require.NoError(t, err)
	return page.Items
}

func TestNoteMentions(t *testing.T) {
	t.Parallel()
	b := setupNotes(t)
	ctx := b.as(t, b.author)

	t.Run("AMentionOfWhoCannotSeeTheRecordIsRefused", func(t *testing.T) {
		_, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "@Иванова, посмотрите"})
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
		require.Equal(t, "mentions", core.ErrorFields(err)[0].Field)
		require.Contains(t, core.ErrorFields(err)[0].Message, "Иванова Мария")
		require.Empty(t, b.notified(t, b.ivanova))
	})

	b.share(t, b.ivanova)
	var note *core.Note
	t.Run("AMentionByLastNameTellsThatUserOnly", func(t *testing.T) {
		var err error
		note, err = b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "@Иванова, посмотрите.\r\nА я сам @Заметкин"})
		require.NoError(t, err)
		require.Equal(t, []string{b.ivanova, b.author}, note.Mentions)
		require.Equal(t, "@Иванова, посмотрите.\nА я сам @Заметкин", note.Text)
		require.Equal(t, &b.author, note.AuthorID)
		got := b.notified(t, b.ivanova)
		require.Len(t, got, 1)
		require.Equal(t, core.NotificationMention, got[0].Kind)
		require.Equal(t, &note.ID, got[0].NoteID)
		require.Equal(t, &b.author, got[0].ActorID)
		require.Equal(t, "@Иванова, посмотрите. А я сам @Заметкин", got[0].Text)
		require.Empty(t, b.notified(t, b.author), "the author is not told of their own note")
		require.Empty(t, b.notified(t, b.petrov))
	})

	t.Run("AnEditTellsWhomItNewlyMentionsOnce", func(t *testing.T) {
		b.share(t, b.petrov)
		text := "@Иванова и @petrov, посмотрите"
		n, err := b.s.UpdateNote(ctx, note.ID, note.Version, core.NotePatch{Text: &text})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{b.ivanova, b.petrov}, n.Mentions)
		require.Len(t, b.notified(t, b.petrov), 1)
		require.Len(t, b.notified(t, b.ivanova), 1, "Иванова was told already")

		text = "без упоминаний"
		n, err = b.s.UpdateNote(ctx, note.ID, 0, core.NotePatch{Text: &text})
		require.NoError(t, err)
		text = "снова @Иванова"
		_, err = b.s.UpdateNote(ctx, note.ID, n.Version, core.NotePatch{Text: &text})
		require.NoError(t, err)
		require.Len(t, b.notified(t, b.ivanova), 1, "nobody is told twice of one note")
	})

	t.Run("ExplicitMentionsMustBeActiveUsers", func(t *testing.T) {
		_, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "x", Mentions: []string{uuid.NewString(), "nope"}})
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
		require.Len(t, core.ErrorFields(err), 1, "the malformed id first")
		require.Equal(t, "mentions[1]", core.ErrorFields(err)[0].Field)
		_, err = b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "x", Mentions: []string{uuid.NewString()}})
		require.Equal(t, "mentions[0]", core.ErrorFields(err)[0].Field)
		n, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "без текста", Mentions: []string{strings.ToUpper(b.petrov)}})
		require.NoError(t, err)
		require.Equal(t, []string{b.petrov}, n.Mentions)
		require.Len(t, b.notified(t, b.petrov), 2)
	})

	t.Run("AnAmbiguousTokenIsText", func(t *testing.T) {
		b.user(t, "Мария Петрова", "maria@corp.ru", false)
		b.user(t, "Ольга Петрова", "olga@corp.ru", false)
		n, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "@Петрова и @Никто, пишите на m.ivanova@corp.ru"})
		require.NoError(t, err)
		require.Empty(t, n.Mentions)
	})

	t.Run("ReadMarks", func(t *testing.T) {
		pctx := b.as(t, b.petrov)
		page, err := b.s.Notifications(pctx, core.NotificationFilter{Unread: true})
		require.NoError(t, err)
		require.Len(t, page.Items, 2)
		n, err := b.s.MarkNotificationsRead(pctx, []string{page.Items[0].ID}, false)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = b.s.MarkNotificationsRead(b.as(t, b.ivanova), []string{page.Items[1].ID}, false)
		require.NoError(t, err)
		require.Zero(t, n, "another's notification stays as it is")
		n, err = b.s.MarkNotificationsRead(pctx, nil, true)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		page, err = b.s.Notifications(pctx, core.NotificationFilter{Unread: true})
		require.NoError(t, err)
		require.Empty(t, page.Items)
		require.Len(t, b.notified(t, b.petrov), 2)
		page, err = b.s.Notifications(b.hub, core.NotificationFilter{})
		require.NoError(t, err)
		require.Empty(t, page.Items, "the hub itself has none")
	})
}

func TestNoteChanges(t *testing.T) {
	t.Parallel()
	b := setupNotes(t)
	ctx := b.as(t, b.author)
	admin := b.user(t, "Админ", "admin@corp.ru", true)
	b.share(t, b.petrov)
	note, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "первый вариант"})
	require.NoError(t, err)

	t.Run("OnlyTheAuthorOrAnAdminChangesANote", func(t *testing.T) {
		text := "чужая правка"
		_, err := b.s.UpdateNote(b.as(t, b.petrov), note.ID, 0, core.NotePatch{Text: &text})
		require.Equal(t, core.EFORBIDDEN, core.ErrorCode(err))
		require.Equal(t, core.EFORBIDDEN, core.ErrorCode(b.s.DeleteNote(b.as(t, b.petrov), note.ID, 0)))
		_, err = b.s.UpdateNote(b.as(t, b.ivanova), note.ID, 0, core.NotePatch{Text: &text})
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err), "who cannot see the record does not see its notes")
	})

	t.Run("AnEditKeepsTheTextItReplaced", func(t *testing.T) {
		text := "второй вариант"
		_, err := b.s.UpdateNote(ctx, note.ID, 7, core.NotePatch{Text: &text})
		require.Equal(t, core.EPRECONDITION, core.ErrorCode(err))
		n, err := b.s.UpdateNote(ctx, note.ID, 1, core.NotePatch{Text: &text})
		require.NoError(t, err)
		require.Equal(t, int64(2), n.Version)
		require.NotNil(t, n.EditedAt)
		pinned := true
		n, err = b.s.UpdateNote(b.as(t, admin), note.ID, 2, core.NotePatch{Pinned: &pinned})
		require.NoError(t, err)
		require.Equal(t, int64(3), n.Version)
		same, err := b.s.UpdateNote(ctx, note.ID, 0, core.NotePatch{Pinned: &pinned})
		require.NoError(t, err)
		require.Equal(t, int64(3), same.Version, "a change that changes nothing writes nothing")
		edits, err := b.s.NoteEdits(b.as(t, b.petrov), note.ID)
		require.NoError(t, err)
		require.Len(t, edits, 1)
		require.Equal(t, "первый вариант", edits[0].Text)
		require.Equal(t, int64(1), edits[0].Version)
		require.Equal(t, &b.author, edits[0].EditedBy)
	})

	t.Run("AnAdminDeletes", func(t *testing.T) {
		require.NoError(t, b.s.DeleteNote(b.as(t, admin), note.ID, 0))
		_, err := b.s.Note(ctx, note.ID)
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
		_, err = b.s.NoteEdits(ctx, note.ID)
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
		page, err := b.s.Notes(ctx, core.EntityContact, b.contact, core.PageRequest{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
	})

	t.Run("EveryWriteIsOnTheOutbox", func(t *testing.T) {
		rows, err := b.s.Pool().Query(b.hub, `SELECT type, entity_version FROM outbox WHERE entity_id = $1 ORDER BY seq`, note.ID)
		require.NoError(t, err)
		var got []string
		for rows.Next() {
			var typ string
			var v int64
			require.NoError(t, rows.Scan(&typ, &v))
			got = append(got, fmt.Sprintf("%s@%d", typ, v))
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []string{"note.created@1", "note.updated@2", "note.updated@3", "note.deleted@4"}, got)
	})
}

func TestNoteRecords(t *testing.T) {
	t.Parallel()
	b := setupNotes(t)
	ctx := b.as(t, b.author)

	for _, tc := range []struct{ name, entity, id string }{
		{"Unknown", core.EntityContact, uuid.NewString()},
		{"NotAUUID", core.EntityContact, "x"},
		{"Invisible", core.EntityContact, b.contact},
	} {
		t.Run(tc.name+"RecordIsNotFound", func(t *testing.T) {
			who := ctx
			if tc.name == "Invisible" {
				who = b.as(t, b.petrov)
			}
			_, err := b.s.AddNote(who, tc.entity, tc.id, core.NoteInput{Text: "x"})
			require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
			_, err = b.s.Notes(who, tc.entity, tc.id, core.PageRequest{})
			require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
		})
	}

	t.Run("TextBounds", func(t *testing.T) {
		_, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: strings.Repeat("a", core.MaxNoteText+1)})
		require.Equal(t, "too_long", core.ErrorFields(err)[0].Code)
		n, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: strings.Repeat("я", core.MaxNoteText/2)})
		require.NoError(t, err)
		require.Len(t, n.Text, core.MaxNoteText)
	})
}

func TestNoteFiles(t *testing.T) {
	t.Parallel()
	b := setupNotes(t)
	ctx := b.as(t, b.author)
	other, err := b.s.Contacts().Create(b.hub, patch(t, fmt.Sprintf(`{"last_name":"Другой","owner_id":%q}`, b.author)))
	require.NoError(t, err)
	mine, theirs, gone := b.file(t, core.EntityContact, b.contact), b.file(t, core.EntityContact, other.ID), b.file(t, core.EntityContact, b.contact)
	_, err = b.s.Pool().Exec(b.hub, `UPDATE attachments SET deleted_at = now() WHERE id = $1`, gone)
	require.NoError(t, err)

	t.Run("OnlyLiveFilesOfTheRecord", func(t *testing.T) {
		_, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "x", Attachments: []string{mine, theirs, gone, "x"}})
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
		require.Equal(t, []core.FieldError{{Field: "attachments[3]", Code: "invalid_id", Message: "must be a file's id"}}, core.ErrorFields(err))
		_, err = b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "x", Attachments: []string{mine, theirs, gone}})
		var fields []string
		for _, f := range core.ErrorFields(err) {
			fields = append(fields, f.Field)
		}
		require.Equal(t, []string{"attachments[1]", "attachments[2]"}, fields)
	})

	var note *core.Note
	t.Run("ANoteCarriesItsFiles", func(t *testing.T) {
		var err error
		note, err = b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "счёт во вложении", Attachments: []string{mine, mine}})
		require.NoError(t, err)
		require.Len(t, note.Attachments, 1)
		require.Equal(t, &note.ID, note.Attachments[0].NoteID)
		require.Equal(t, int64(2), note.Attachments[0].Version)
		got, err := b.s.Note(ctx, note.ID)
		require.NoError(t, err)
		require.Equal(t, note.Attachments, got.Attachments)
		_, err = b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "y", Attachments: []string{mine}})
		require.Equal(t, "the file is on another note", core.ErrorFields(err)[0].Message)
	})

	t.Run("APatchReplacesThem", func(t *testing.T) {
		n, err := b.s.UpdateNote(ctx, note.ID, 0, core.NotePatch{Attachments: &[]string{}})
		require.NoError(t, err)
		require.Empty(t, n.Attachments)
		require.Equal(t, []string{"attachments"}, changedOf(t, b, note.ID, 2))
		var events int
		require.NoError(t, b.s.Pool().QueryRow(b.hub, `SELECT count(*) FROM outbox WHERE entity = 'attachment' AND entity_id = $1
			AND type = 'attachment.updated'`, mine).Scan(&events))
		require.Equal(t, 2, events, "taken by the note, then let go")
	})

	t.Run("ADeletedNoteLetsItsFilesGo", func(t *testing.T) {
		n, err := b.s.UpdateNote(ctx, note.ID, 0, core.NotePatch{Attachments: &[]string{mine}})
		require.NoError(t, err)
		require.Len(t, n.Attachments, 1)
		require.NoError(t, b.s.DeleteNote(ctx, note.ID, 0))
		again, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: "снова", Attachments: []string{mine}})
		require.NoError(t, err)
		require.Equal(t, &again.ID, again.Attachments[0].NoteID)
	})
}

// changedOf is what the event of a note's version says changed.
func changedOf(t *testing.T, b *noteBundle, id string, version int64) []string {
	t.Helper()
	var changed []string
	require.NoError(t, b.s.Pool().QueryRow(b.hub, `SELECT changed FROM outbox WHERE entity_id = $1 AND entity_version = $2`, id, version).Scan(&changed))
	return changed
}

func TestNotePages(t *testing.T) {
	t.Parallel()
	b := setupNotes(t)
	ctx := b.as(t, b.author)
	var want []string // pinned first, then newest first
	var pinnedIDs []string
	for i := range 7 {
		n, err := b.s.AddNote(ctx, core.EntityContact, b.contact, core.NoteInput{Text: fmt.Sprintf("заметка %d", i), Pinned: i%3 == 0})
		require.NoError(t, err)
		if n.Pinned {
			pinnedIDs = append([]string{n.ID}, pinnedIDs...)
		} else {
			want = append([]string{n.ID}, want...)
		}
		time.Sleep(time.Millisecond)
	}
	want = append(pinnedIDs, want...)

	var got []string
	p := core.PageRequest{Limit: 2}
	for {
		page, err := b.s.Notes(ctx, core.EntityContact, b.contact, p)
		require.NoError(t, err)
		for _, n := range page.Items {
			got = append(got, n.ID)
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	require.Equal(t, want, got)

	_, err := b.s.Notes(ctx, core.EntityContact, b.contact, core.PageRequest{Cursor: "garbage"})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
}
