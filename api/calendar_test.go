package api_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/stretchr/testify/require"
)

func TestCalendarFeedParsesWithAnICalendarParser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	at := func(d time.Duration) string { return start.Add(d).Format(time.RFC3339) }
	r := b.do(t, "POST", "/api/v1/activities", b.writer, `{"kind":"meeting","subject":"Встреча с ООО «Ромашка», обсуждение договора №17; этап 2",`+
		`"start_at":"`+at(0)+`","end_at":"`+at(90*time.Minute)+`","location":"Москва, ул. Тверская, 1","description":"Взять образцы\nи прайс"}`)
	require.Equal(t, 201, r.status, string(r.body))
	meetingID := r.json(t)["id"].(string)
	r = b.do(t, "POST", "/api/v1/activities", b.writer, `{"kind":"task","subject":"Выставить счёт","priority":"high",`+
		`"start_at":"`+at(0)+`","due_at":"`+at(48*time.Hour)+`"}`)
	require.Equal(t, 201, r.status, string(r.body))
	r = b.do(t, "POST", "/api/v1/activities", b.writer, `{"kind":"call","subject":"Давний звонок","start_at":"2020-01-01T10:00:00Z","end_at":"2020-01-01T10:05:00Z"}`)
	require.Equal(t, 201, r.status, "outside the feed's window")

	// The keys' user is the first administrator, who owns what they create.
	r = b.do(t, "GET", "/api/v1/users?sort=name", b.reader, "")
	adminID := r.json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	requireProblem(t, b.do(t, "POST", "/api/v1/users/0190a5c0-0000-7000-8000-000000000000/calendar-token", b.writer, ""), 403, "forbidden")
	requireProblem(t, b.do(t, "POST", "/api/v1/users/"+adminID+"/calendar-token", b.reader, ""), 403, "forbidden")
	r = b.do(t, "POST", "/api/v1/users/"+adminID+"/calendar-token", b.writer, "")
	require.Equal(t, 201, r.status, "the user's own key may issue it, with the write scope: %s", r.body)
	var tok struct{ Token, URL string }
	require.NoError(t, json.Unmarshal(r.body, &tok))
	require.Equal(t, "/calendar/"+tok.Token+".ics", tok.URL)

	r = b.do(t, "GET", tok.URL, "", "")
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "text/calendar; charset=utf-8", r.header.Get("Content-Type"))
	for _, line := range strings.Split(string(r.body), "\r\n") {
		require.LessOrEqual(t, len(line), 75, "RFC 5545 folds lines at 75 octets: %q", line)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(r.body))
	require.NoError(t, err)
	events := cal.Events()
	require.Len(t, events, 1)
	ev := events[0]
	require.Equal(t, meetingID+"@crmhub", ev.Id())
	require.Equal(t, "Встреча с ООО «Ромашка», обсуждение договора №17; этап 2", ev.GetProperty(ics.ComponentPropertySummary).Value)
	require.Equal(t, "Москва, ул. Тверская, 1", ev.GetProperty(ics.ComponentPropertyLocation).Value)
	require.Equal(t, "Взять образцы\nи прайс", ev.GetProperty(ics.ComponentPropertyDescription).Value)
	got, err := ev.GetStartAt()
	require.NoError(t, err)
	require.True(t, got.Equal(start), "%v != %v", got, start)
	end, err := ev.GetEndAt()
	require.NoError(t, err)
	require.True(t, end.Equal(start.Add(90*time.Minute)))

	todos := cal.Todos()
	require.Len(t, todos, 1)
	require.Equal(t, "Выставить счёт", todos[0].GetProperty(ics.ComponentPropertySummary).Value)
	require.Equal(t, "1", todos[0].GetProperty(ics.ComponentPropertyPriority).Value)
	require.Equal(t, "NEEDS-ACTION", todos[0].GetProperty(ics.ComponentPropertyStatus).Value)

	// A new token revokes the old one.
	r = b.do(t, "POST", "/api/v1/users/"+adminID+"/calendar-token", b.admin, "")
	require.Equal(t, 201, r.status)
	requireProblem(t, b.do(t, "GET", tok.URL, "", ""), 404, "not_found")
	requireProblem(t, b.do(t, "GET", "/calendar/nope.ics", "", ""), 404, "not_found")
}
