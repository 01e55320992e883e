package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// timelineStory is a lead's life through the API, up to the invoice, its
// payment and its e-mail on the deal it was converted into; the deal
// belongs to the intern, whose role hides deal amounts.
type timelineStory struct {
	c                 *company
	lead, deal, email string
	account, contact  string
}

func tellTimelineStory(t *testing.T) *timelineStory {
	t.Helper()
	c := newCompany(t)
	b := c.b
	st := &timelineStory{c: c}
	st.lead = c.create(t, person{key: b.writer}, "/api/v1/leads", `{"last_name":"Петров","company":"ООО Ромашка","phone":"8 912 345-67-89"}`)

	start := time.Now().UTC().Add(-time.Hour)
	_, _, err := b.store.ReportCall(context.Background(), core.CallReport{Provider: "generic", CallID: "tl-api", Direction: "in",
		From: "+7 912 345-67-89", StartedAt: &start, Disposition: "answered", RecordingURL: "https://pbx.example.ru/rec/tl-api.mp3",
		Final: true}, core.CallPolicy{})
	require.NoError(t, err)
	soon := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
	c.create(t, person{key: b.writer}, "/api/v1/activities", `{"kind":"meeting","subject":"Встреча","start_at":"`+soon+`","end_at":"`+soon+
		`","lead_id":"`+st.lead+`"}`)
	c.create(t, person{key: b.writer}, "/api/v1/leads/"+st.lead+"/notes", `{"text":"Просит счёт на диван"}`)

	r := b.do(t, "POST", "/api/v1/leads/"+st.lead+"/convert", b.writer, `{"deal":{"amount":"250000"},"owner_id":"`+c.intern.id+`"}`)
	require.Equal(t, 201, r.status, string(r.body))
	conv := r.json(t)
	st.deal = conv["deal"].(map[string]any)["id"].(string)
	st.account = conv["account"].(map[string]any)["id"].(string)
	st.contact = conv["contact"].(map[string]any)["id"].(string)

	r = b.do(t, "PATCH", "/api/v1/deals/"+st.deal, b.writer, `{"stage":"qualification","amount":"300000"}`)
	require.Equal(t, 200, r.status, string(r.body))
	invoice := c.create(t, person{key: b.writer}, "/api/v1/invoices", fmt.Sprintf(`{"deal_id":%q,"account_id":%q,"contact_id":%q,`+
		`"lines":[{"name":"Диван","price":"1000"}]}`, st.deal, st.account, st.contact))
	c.create(t, person{key: b.writer}, "/api/v1/invoices/"+invoice+"/payments", `{"amount":"500","method":"bank_transfer"}`)
	st.email = st.mail(t, invoice)
	return st
}

// mail queues the invoice's e-mail and records it sent (the API sends
// through SMTP, which the tests have not).
func (st *timelineStory) mail(t *testing.T, invoice string) string {
	t.Helper()
	emails := st.c.b.store.Emails()
	e, _, err := emails.Queue(context.Background(), core.QueuedEmail{Email: core.EmailMessage{DocumentKind: core.EntityInvoice,
		DocumentID: invoice, Form: "invoice", From: "sales@romashka.ru", To: []string{"petrov@example.ru"}, Subject: "Счёт",
		Body: "Добрый день", DealID: &st.deal, AccountID: &st.account, ContactID: &st.contact}}, time.Minute)
	require.NoError(t, err)
	_, err = emails.RecordAttempt(context.Background(), e.ID, core.EmailOutcome{Sent: true}, 3)
	require.NoError(t, err)
	return e.ID
}

// timelineItem is an item as the API answers it.
type timelineItem struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Entity   string `json:"entity"`
	RecordID string `json:"record_id"`
	Actor    struct {
		Type, ID, Name string
	} `json:"actor"`
	Data map[string]any `json:"data"`
}

// timelinePages reads a timeline through every page, the query's
// parameters kept, and returns its items as kind:entity.
func timelinePages(t *testing.T, b *bundle, key, path, query string) ([]string, []timelineItem) {
	t.Helper()
	var all []timelineItem
	cursor := ""
	for range 100 {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := b.do(t, "GET", path+"?"+q, key, "")
		require.Equal(t, 200, r.status, string(r.body))
		var page struct {
			Items      []timelineItem `json:"items"`
			NextCursor *string        `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(r.body, &page))
		require.NotNil(t, page.NextCursor, "next_cursor is a string, empty at the end, as every list's")
		all = append(all, page.Items...)
		if cursor = *page.NextCursor; cursor == "" {
			out := []string{}
			for _, it := range all {
				out = append(out, it.Kind+":"+it.Entity)
			}
			return out, all
		}
	}
	t.Fatal("the timeline does not end")
	return nil, nil
}

func TestTimelineOfAConvertedLeadsDeal(t *testing.T) {
	t.Parallel()
	st := tellTimelineStory(t)
	b := st.c.b
	path := "/api/v1/deals/" + st.deal + "/timeline"
	want := []string{"email:deal", "payment:deal", "document:deal", "change:deal", "change:lead", "change:deal", "note:lead",
		"activity:lead", "call:lead", "change:lead"}

	t.Run("InOrder", func(t *testing.T) {
		data := openAPIChecker(t, b)("GET", path, b.reader, "", 200)
		var page struct {
			Items      []timelineItem `json:"items"`
			NextCursor string         `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(data, &page))
		require.Empty(t, page.NextCursor)
		var got []string
		for _, it := range page.Items {
			got = append(got, it.Kind+":"+it.Entity)
		}
		require.Equal(t, want, got)
		require.Equal(t, st.email, page.Items[0].ID)
		require.Equal(t, st.lead, page.Items[8].RecordID)
		require.Equal(t, "https://pbx.example.ru/rec/tl-api.mp3", page.Items[8].Data["recording_url"])
		require.Equal(t, "user", page.Items[3].Actor.Type, "the writer key's user changed the stage")
		require.Contains(t, page.Items[3].Data["changes"], map[string]any{"field": "stage", "from": "prospecting", "to": "qualification"})
	})

	t.Run("PagesHoldEveryItemOnce", func(t *testing.T) {
		got, _ := timelinePages(t, b, b.reader, path, "limit=3")
		require.Equal(t, want, got)
		check := openAPIChecker(t, b)
		check("GET", path+"?limit=1", b.reader, "", 200)
	})

	t.Run("KindFilter", func(t *testing.T) {
		got, _ := timelinePages(t, b, b.reader, path, "kind=call,note&limit=1")
		require.Equal(t, []string{"note:lead", "call:lead"}, got)
	})

	t.Run("BadQueries", func(t *testing.T) {
		check := openAPIChecker(t, b)
		data := check("GET", path+"?kind=call,tweet", b.reader, "", 422)
		require.Contains(t, string(data), `\"tweet\" is no timeline kind`)
		requireProblem(t, b.do(t, "GET", path+"?cursor=nope", b.reader, ""), 422, core.EINVALID, "cursor:invalid_cursor")
		requireProblem(t, b.do(t, "GET", path+"?limit=201", b.reader, ""), 422, core.EINVALID, "limit:out_of_range")
		requireProblem(t, b.do(t, "GET", path+"?sort=at", b.reader, ""), 422, core.EINVALID, "sort:unknown_parameter")
	})
}

func TestTimelineAccess(t *testing.T) {
	t.Parallel()
	st := tellTimelineStory(t)
	c := st.c
	b := c.b
	path := "/api/v1/deals/" + st.deal + "/timeline"
	soon := time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339)
	own := c.create(t, person{key: b.writer}, "/api/v1/activities", `{"kind":"task","subject":"Задача стажёра","start_at":"`+soon+
		`","due_at":"`+soon+`","deal_id":"`+st.deal+`","owner_id":"`+c.intern.id+`"}`)
	c.create(t, person{key: b.writer}, "/api/v1/activities", `{"kind":"task","subject":"Чужая задача","start_at":"`+soon+
		`","due_at":"`+soon+`","deal_id":"`+st.deal+`","owner_id":"`+c.m2.id+`"}`)

	t.Run("AnOwnRecordsRoleSeesItsOwnItemsOnly", func(t *testing.T) {
		got, items := timelinePages(t, b, c.intern.key, path, "")
		require.Equal(t, []string{"activity:deal", "change:deal", "change:deal"}, got,
			"not the lead, the others' activities, documents, payments and e-mails")
		require.Equal(t, own, items[0].ID)
		openAPIChecker(t, b)("GET", path, c.intern.key, "", 200)
	})

	t.Run("AHiddenFieldIsNotInTheChanges", func(t *testing.T) {
		fields := func(key string) []string {
			_, items := timelinePages(t, b, key, path, "kind=change")
			require.Equal(t, "deal.updated", items[0].Data["type"])
			var out []string
			for _, ch := range items[0].Data["changes"].([]any) {
				out = append(out, ch.(map[string]any)["field"].(string))
			}
			return out
		}
		require.Contains(t, fields(b.reader), "amount")
		intern := fields(c.intern.key)
		require.Contains(t, intern, "stage")
		require.NotContains(t, intern, "amount", "the intern's role hides deal amounts")
	})

	t.Run("AnInvisibleRecordIsNotFound", func(t *testing.T) {
		requireProblem(t, b.do(t, "GET", path, c.m2.key, ""), 404, core.ENOTFOUND)
		requireProblem(t, b.do(t, "GET", "/api/v1/leads/"+st.lead+"/timeline", c.intern.key, ""), 404, core.ENOTFOUND)
		requireProblem(t, b.do(t, "GET", "/api/v1/deals/0190a5c0-0000-7000-8000-000000000000/timeline", b.reader, ""), 404, core.ENOTFOUND)
	})
}
