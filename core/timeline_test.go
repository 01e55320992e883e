package core_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func item(kind, id string, at time.Time) core.TimelineItem {
	return core.TimelineItem{Kind: kind, ID: id, At: at}
}

func ids(items []core.TimelineItem) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestTimelineCursor(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 8, 0, 0, 123456000, time.FixedZone("MSK", 3*3600))
	id := "0190a5c0-0000-7000-8000-000000000001"

	t.Run("RoundTrip", func(t *testing.T) {
		c, err := core.DecodeTimelineCursor(core.EncodeTimelineCursor(item(core.TimelineNote, id, at)))
		require.NoError(t, err)
		require.True(t, c.At.Equal(at), "microseconds kept")
		require.Equal(t, id, c.ID)
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, s := range []string{"", "not base64!", "e30", "eyJhdCI6IjIwMjYtMTEtMjdUMDg6MDA6MDBaIiwiaWQiOiJ4In0"} {
			_, err := core.DecodeTimelineCursor(s)
			require.Equal(t, core.EINVALID, core.ErrorCode(err), s)
			require.Equal(t, "cursor", core.ErrorFields(err)[0].Field)
		}
	})
}

func TestMergeTimeline(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	changes := []core.TimelineItem{item("change", "c5", at(5)), item("change", "c3", at(3)), item("change", "c1", at(1))}
	notes := []core.TimelineItem{item("note", "n4", at(4)), item("note", "n2", at(2))}
	ties := []core.TimelineItem{item("call", "b", at(3)), item("call", "a", at(3))}

	cases := []struct {
		name    string
		sources [][]core.TimelineItem
		limit   int
		want    []string
		more    bool
	}{
		{"NewestFirst", [][]core.TimelineItem{changes, notes}, 10, []string{"c5", "n4", "c3", "n2", "c1"}, false},
		{"ExactlyFull", [][]core.TimelineItem{changes, notes}, 5, []string{"c5", "n4", "c3", "n2", "c1"}, false},
		{"More", [][]core.TimelineItem{changes, notes}, 3, []string{"c5", "n4", "c3"}, true},
		{"SameTimeByIDDescending", [][]core.TimelineItem{ties, changes}, 4, []string{"c5", "c3", "b", "a"}, true},
		{"Empty", [][]core.TimelineItem{nil, {}}, 3, []string{}, false},
		{"DuplicateOnce", [][]core.TimelineItem{notes, notes}, 2, []string{"n4", "n2"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, more := core.MergeTimeline(c.sources, c.limit)
			require.NotNil(t, page, "an empty page is [] in JSON")
			require.Equal(t, c.want, ids(page))
			require.Equal(t, c.more, more)
		})
	}

	t.Run("TheFirstSourceOfADuplicateWins", func(t *testing.T) {
		own := item("activity", "a1", at(1))
		own.Entity = core.EntityContact
		lead := own
		lead.Entity = core.EntityLead
		page, _ := core.MergeTimeline([][]core.TimelineItem{{own}, {lead}}, 5)
		require.Len(t, page, 1)
		require.Equal(t, core.EntityContact, page[0].Entity)
	})

}

// Pages whose sources each start past the cursor walk every item once,
// in order.
func TestMergeTimelinePages(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	u := func(n int) string { return fmt.Sprintf("0190a5c0-0000-7000-8000-%012d", n) }
	all := [][]core.TimelineItem{
		{item("change", u(7), at(5)), item("change", u(5), at(3)), item("change", u(1), at(1))},
		{item("note", u(6), at(4)), item("note", u(2), at(2))},
		{item("call", u(4), at(3)), item("call", u(3), at(3))},
	}
	var got []string
	var cursor *core.TimelineCursor
	for range 10 {
		var srcs [][]core.TimelineItem
		for _, src := range all {
			var after []core.TimelineItem
			for _, it := range src {
				if cursor == nil || core.TimelineNewer(core.TimelineItem{At: cursor.At, ID: cursor.ID}, it) {
					after = append(after, it)
				}
			}
			srcs = append(srcs, after)
		}
		page, more := core.MergeTimeline(srcs, 2)
		got = append(got, ids(page)...)
		if !more {
			break
		}
		c, err := core.DecodeTimelineCursor(core.EncodeTimelineCursor(page[len(page)-1]))
		require.NoError(t, err)
		cursor = &c
	}
	require.Equal(t, []string{u(7), u(6), u(5), u(4), u(3), u(2), u(1)}, got)
}

func TestTimelineQuery(t *testing.T) {
	t.Parallel()
	t.Run("Kinds", func(t *testing.T) {
		kinds, err := core.ParseTimelineKinds("call, note,,call")
		require.NoError(t, err)
		require.Equal(t, []string{"call", "note"}, kinds)

		_, err = core.ParseTimelineKinds("call,tweet")
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
		f := core.ErrorFields(err)
		require.Len(t, f, 1)
		require.Equal(t, "kind", f[0].Field)
		require.Contains(t, f[0].Message, `"tweet"`)
	})

	t.Run("Validate", func(t *testing.T) {
		require.NoError(t, core.TimelineQuery{}.Validate())
		require.Equal(t, core.DefaultTimelineLimit, core.TimelineQuery{}.PageSize())
		require.Equal(t, core.EINVALID, core.ErrorCode(core.TimelineQuery{Limit: core.MaxTimelineLimit + 1}.Validate()))
		require.Equal(t, core.EINVALID, core.ErrorCode(core.TimelineQuery{Kinds: []string{"x"}}.Validate()))
		require.True(t, core.TimelineQuery{}.Wants(core.TimelineCall))
		require.False(t, core.TimelineQuery{Kinds: []string{core.TimelineNote}}.Wants(core.TimelineCall))
	})
}

func TestEventActor(t *testing.T) {
	t.Parallel()
	id := "0190a5c0-0000-7000-8000-000000000001"
	cases := []struct{ actor, by, ref string }{
		{id, core.ActorByKey, id},
		{"session:" + id, core.ActorBySession, id},
		{"oidc:" + id, core.ActorByUser, id},
		{"webform:contact", "", "webform:contact"},
		{"session:x", "", "session:x"},
		{"system", "", "system"},
	}
	for _, c := range cases {
		by, ref := core.EventActor(c.actor)
		require.Equal(t, c.by, by, c.actor)
		require.Equal(t, c.ref, ref, c.actor)
	}
}

func TestMailHead(t *testing.T) {
	t.Parallel()
	from, to, cc := core.MailHead("От: Иван <ivan@example.ru>\nКому: sales@romashka.ru, boss@romashka.ru\nКопия: a@b.ru\n" +
		"Дата: 27.11.2026 11:00 MSK\nMessage-ID: <x@y>\n\nКому: не адрес, а текст письма")
	require.Equal(t, "Иван <ivan@example.ru>", from)
	require.Equal(t, []string{"sales@romashka.ru", "boss@romashka.ru"}, to)
	require.Equal(t, []string{"a@b.ru"}, cc)

	from, to, cc = core.MailHead("описание, исправленное вручную")
	require.Empty(t, from)
	require.Equal(t, []string{}, to)
	require.Equal(t, []string{}, cc)
}

func TestTimelineHideFields(t *testing.T) {
	t.Parallel()
	t.Run("Changes", func(t *testing.T) {
		it := core.TimelineItem{Kind: core.TimelineChange, Entity: core.EntityDeal, Data: core.TimelineChangeData{Type: "deal.updated",
			Changes: []core.FieldChange{{Field: "amount"}, {Field: "stage"}, {Field: "custom.margin"}, {Field: "custom.region"}}}}
		require.Equal(t, core.EntityDeal, it.SourceEntity())
		require.NoError(t, it.HideFields([]string{"amount", "custom.margin"}))
		var fields []string
		for _, c := range it.Data.(core.TimelineChangeData).Changes {
			fields = append(fields, c.Field)
		}
		require.Equal(t, []string{"stage", "custom.region"}, fields)
	})

	t.Run("Data", func(t *testing.T) {
		it := core.TimelineItem{Kind: core.TimelinePayment, Data: core.TimelinePaymentData{Number: "П-1", Currency: "RUB"}}
		require.Equal(t, core.EntityPayment, it.SourceEntity())
		require.NoError(t, it.HideFields([]string{"amount"}))
		b, err := json.Marshal(it.Data)
		require.NoError(t, err)
		require.NotContains(t, string(b), `"amount"`)
		require.Contains(t, string(b), `"number":"П-1"`)
	})

	t.Run("InboundMailAddressesGoWithTheDescription", func(t *testing.T) {
		it := core.TimelineItem{Kind: core.TimelineEmail, Data: core.TimelineEmailData{Direction: core.EmailIn, Subject: "Вопрос",
			From: "a@b.ru", To: []string{"c@d.ru"}}}
		require.Equal(t, core.EntityActivity, it.SourceEntity())
		require.NoError(t, it.HideFields([]string{"description"}))
		b, err := json.Marshal(it.Data)
		require.NoError(t, err)
		require.JSONEq(t, `{"direction":"in","subject":"Вопрос","status":"","sent_at":null,"document_kind":null,
			"document_id":null,"activity_id":null}`, string(b))
	})

	t.Run("NothingHidden", func(t *testing.T) {
		d := core.TimelineNoteData{Text: "x"}
		it := core.TimelineItem{Kind: core.TimelineNote, Data: d}
		require.Equal(t, "", it.SourceEntity())
		require.NoError(t, it.HideFields(nil))
		require.Equal(t, d, it.Data)
	})
}
