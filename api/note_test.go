package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// noteDesk is a company with an author, two colleagues and a contact of
// the author's, and a checker that validates every exchange against the
// OpenAPI document.
type noteDesk struct {
	*company
	check                   func(method, path, key, body string, want int, headers ...string) []byte
	author, ivanova, petrov person
	contact                 string
}

func newNoteDesk(t *testing.T) *noteDesk {
	t.Helper()
	c := newCompany(t)
	d := &noteDesk{company: c, check: openAPIChecker(t, c.b)}
	d.author = c.user(t, "Автор Заметкин", core.RoleManagerID)
	d.ivanova = c.user(t, "Иванова Мария", core.RoleManagerID)
	d.petrov = c.user(t, "Петров Пётр", core.RoleManagerID)
	d.contact = c.create(t, d.author, "/api/v1/contacts", `{"last_name":"Клиентов"}`)
	return d
}

func (d *noteDesk) share(t *testing.T, who person) {
	t.Helper()
	d.check("POST", "/api/v1/contacts/"+d.contact+"/shares", d.author.key, fmt.Sprintf(`{"user_id":%q,"access":"read"}`, who.id), 201)
}

func (d *noteDesk) note(t *testing.T, who person, body string) map[string]any {
	t.Helper()
	var n map[string]any
	require.NoError(t, json.Unmarshal(d.check("POST", "/api/v1/contacts/"+d.contact+"/notes", who.key, body, 201), &n))
	return n
}

// noteItems are the items of a page or list answer.
func noteItems(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var page struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.Unmarshal(data, &page), string(data))
	return page.Items
}

func TestNoteMentionsNotify(t *testing.T) {
	t.Parallel()
	d := newNoteDesk(t)
	notes := "/api/v1/contacts/" + d.contact + "/notes"

	t.Run("AMentionOfWhoCannotSeeTheRecordIsRefused", func(t *testing.T) {
		r := d.b.do(t, "POST", notes, d.author.key, `{"text":"@Иванова, посмотрите"}`)
		requireProblem(t, r, 422, core.EINVALID, "mentions:no_access")
		require.Contains(t, string(r.body), "Иванова Мария")
		d.check("POST", notes, d.author.key, `{"text":"@Иванова, посмотрите"}`, 422)
		require.Empty(t, noteItems(t, d.check("GET", "/api/v1/notifications", d.ivanova.key, "", 200)))
	})

	d.share(t, d.ivanova)
	var id string
	t.Run("ALastNameNotifiesThatUserOnly", func(t *testing.T) {
		n := d.note(t, d.author, `{"text":"@Иванова, посмотрите <b>счёт</b>"}`)
		id = n["id"].(string)
		require.Equal(t, []any{d.ivanova.id}, n["mentions"])
		require.Equal(t, "@Иванова, посмотрите <b>счёт</b>", n["text"], "plain text, kept as written")
		got := noteItems(t, d.check("GET", "/api/v1/notifications?unread=true&limit=10", d.ivanova.key, "", 200))
		require.Len(t, got, 1)
		require.Equal(t, id, got[0]["note_id"])
		require.Equal(t, d.author.id, got[0]["actor_id"])
		require.Equal(t, "mention", got[0]["kind"])
		require.Empty(t, noteItems(t, d.check("GET", "/api/v1/notifications", d.petrov.key, "", 200)))
		require.Empty(t, noteItems(t, d.check("GET", "/api/v1/notifications", d.author.key, "", 200)))
	})

	t.Run("ReadMarks", func(t *testing.T) {
		d.check("POST", "/api/v1/notifications/read", d.ivanova.key, `{}`, 422)
		data := d.check("POST", "/api/v1/notifications/read", d.ivanova.key, `{"all":true}`, 200)
		require.JSONEq(t, `{"marked":1}`, string(data))
		require.Empty(t, noteItems(t, d.check("GET", "/api/v1/notifications?unread=true", d.ivanova.key, "", 200)))
		require.Len(t, noteItems(t, d.check("GET", "/api/v1/notifications", d.ivanova.key, "", 200)), 1)
		d.check("GET", "/api/v1/notifications?unread=maybe", d.ivanova.key, "", 422)
	})

	t.Run("OnlyTheAuthorEditsAndTheHistoryIsKept", func(t *testing.T) {
		d.check("PATCH", "/api/v1/notes/"+id, d.petrov.key, `{"text":"чужое"}`, 404)
		d.share(t, d.petrov)
		d.check("PATCH", "/api/v1/notes/"+id, d.petrov.key, `{"text":"чужое"}`, 403)
		d.check("DELETE", "/api/v1/notes/"+id, d.petrov.key, "", 403)
		d.check("PATCH", "/api/v1/notes/"+id, d.author.key, `{"text":"@Петров, и вы"}`, 412, "If-Match", `"5"`)
		data := d.check("PATCH", "/api/v1/notes/"+id, d.author.key, `{"text":"@Петров, и вы","pinned":true}`, 200, "If-Match", `"1"`)
		require.Contains(t, string(data), `"version":2`)
		require.Len(t, noteItems(t, d.check("GET", "/api/v1/notifications", d.petrov.key, "", 200)), 1, "an edit notifies whom it newly mentions")
		edits := noteItems(t, d.check("GET", "/api/v1/notes/"+id+"/edits", d.petrov.key, "", 200))
		require.Len(t, edits, 1)
		require.Equal(t, "@Иванова, посмотрите <b>счёт</b>", edits[0]["text"])
		require.Equal(t, d.author.id, edits[0]["edited_by"])
		d.check("GET", "/api/v1/notes/"+id, d.petrov.key, "", 200)
	})

	t.Run("AnAdminDeletes", func(t *testing.T) {
		d.check("DELETE", "/api/v1/notes/"+id, d.admin(), "", 204)
		d.check("GET", "/api/v1/notes/"+id, d.author.key, "", 404)
		d.check("GET", "/api/v1/notes/"+id+"/edits", d.author.key, "", 404)
		d.check("DELETE", "/api/v1/notes/"+id, d.author.key, "", 404)
		require.Empty(t, noteItems(t, d.check("GET", notes, d.author.key, "", 200)))
		require.Empty(t, noteItems(t, d.check("GET", "/api/v1/notifications", d.ivanova.key, "", 200)), "a deleted note's notifications go with it")
	})

	t.Run("TheOutboxHoldsEveryChange", func(t *testing.T) {
		rows, err := d.b.store.Pool().Query(context.Background(), `SELECT type FROM outbox WHERE entity_id = $1 ORDER BY seq`, id)
		require.NoError(t, err)
		var types []string
		for rows.Next() {
			var typ string
			require.NoError(t, rows.Scan(&typ))
			types = append(types, typ)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []string{"note.created", "note.updated", "note.deleted"}, types)
	})
}

func TestNoteRefusals(t *testing.T) {
	t.Parallel()
	d := newNoteDesk(t)
	notes := "/api/v1/contacts/" + d.contact + "/notes"

	t.Run("TextOver32KB", func(t *testing.T) {
		body, err := json.Marshal(map[string]string{"text": strings.Repeat("a", core.MaxNoteText+1)})
		require.NoError(t, err)
		r := d.b.do(t, "POST", notes, d.author.key, string(body))
		requireProblem(t, r, 422, core.EINVALID, "text:too_long")
		body, err = json.Marshal(map[string]string{"text": strings.Repeat("a", core.MaxNoteText)})
		require.NoError(t, err)
		d.check("POST", notes, d.author.key, string(body), 201)
		d.check("POST", notes, d.author.key, `{"text":"  "}`, 422)
		d.check("POST", notes, d.author.key, `{"text":"x","color":"red"}`, 422)
	})

	t.Run("UnknownOrInvisibleRecord", func(t *testing.T) {
		d.check("POST", "/api/v1/contacts/"+uuid.NewString()+"/notes", d.author.key, `{"text":"x"}`, 404)
		d.check("GET", "/api/v1/contacts/"+uuid.NewString()+"/notes", d.author.key, "", 404)
		d.check("POST", notes, d.m2.key, `{"text":"x"}`, 404)
		d.check("GET", notes, d.m2.key, "", 404)
		d.check("GET", "/api/v1/leads/"+d.contact+"/notes", d.author.key, "", 404)
	})

	t.Run("FilesOfAnotherRecord", func(t *testing.T) {
		other := d.create(t, d.author, "/api/v1/contacts", `{"last_name":"Другой"}`)
		mine, theirs := d.file(t, d.contact), d.file(t, other)
		r := d.b.do(t, "POST", notes, d.author.key, fmt.Sprintf(`{"text":"x","attachments":[%q,%q]}`, mine, theirs))
		requireProblem(t, r, 422, core.EINVALID, "attachments[1]:invalid_file")
		var n map[string]any
		data := d.check("POST", notes, d.author.key, fmt.Sprintf(`{"text":"счёт во вложении","attachments":[%q]}`, mine), 201)
		require.NoError(t, json.Unmarshal(data, &n))
		files := n["attachments"].([]any)
		require.Len(t, files, 1)
		require.Equal(t, n["id"], files[0].(map[string]any)["note_id"])
		d.check("PATCH", "/api/v1/notes/"+n["id"].(string), d.author.key, fmt.Sprintf(`{"attachments":[%q]}`, theirs), 422)
	})

	t.Run("ReadKeysReadOnly", func(t *testing.T) {
		d.check("POST", notes, d.b.reader, `{"text":"x"}`, 403)
		d.check("GET", notes, d.b.reader, "", 200)
		d.check("GET", notes+"?limit=500", d.author.key, "", 422)
		d.check("GET", notes+"?sort=x", d.author.key, "", 422)
	})
}

// file stores a file of a contact, as an upload would.
func (d *noteDesk) file(t *testing.T, contact string) string {
	t.Helper()
	id := uuid.NewString()
	_, err := d.b.store.Pool().Exec(context.Background(), `INSERT INTO attachments (id, entity, record_id, file_name, content_type, size, sha256, data, created_at)
		VALUES ($1, 'contact', $2, 'счёт.pdf', 'application/pdf', 3, $3, 'pdf', now())`, id, contact, strings.Repeat("0", 64))
	require.NoError(t, err)
	return id
}

func TestNotePagination(t *testing.T) {
	t.Parallel()
	d := newNoteDesk(t)
	notes := "/api/v1/contacts/" + d.contact + "/notes"
	want := map[string]bool{}
	for i := range 7 {
		n := d.note(t, d.author, fmt.Sprintf(`{"text":"заметка %d","pinned":%t}`, i, i == 2))
		want[n["id"].(string)] = true
	}
	seen := map[string]int{}
	var first string
	path := notes + "?limit=3"
	for {
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(d.check("GET", path, d.author.key, "", 200), &page))
		for _, n := range page.Items {
			if first == "" {
				first = n["text"].(string)
			}
			seen[n["id"].(string)]++
		}
		if page.NextCursor == "" {
			break
		}
		path = notes + "?limit=3&cursor=" + url.QueryEscape(page.NextCursor)
	}
	require.Len(t, seen, len(want))
	for id, n := range seen {
		require.True(t, want[id])
		require.Equal(t, 1, n, "every note once")
	}
	require.Equal(t, "заметка 2", first, "the pinned note first")
	d.check("GET", notes+"?cursor=bogus", d.author.key, "", 422)
}
