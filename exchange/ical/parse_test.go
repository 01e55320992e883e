package ical_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/ical"
)

// TestFeedReadByAnotherParser: the feed read back by a second,
// independent iCalendar parser: an event and a task, their INTEGER
// properties (SEQUENCE, PRIORITY) of their own type, not VALUE=TEXT.
func TestFeedReadByAnotherParser(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	end, due := start.Add(time.Hour), start.Add(24*time.Hour)
	var b bytes.Buffer
	require.NoError(t, ical.Encode(&b, ical.Calendar{Name: "Иван", Now: start, Activities: []core.Activity{
		{Record: core.Record{ID: "a1", Version: 3}, Kind: "meeting", Subject: "Встреча, ООО «Ромашка»", StartAt: &start, EndAt: &end,
			Status: "planned"},
		{Record: core.Record{ID: "a2", Version: 1}, Kind: "task", Subject: "Подготовить КП", StartAt: &start, DueAt: &due,
			Priority: "high", Status: "planned"},
	}}))
	cal, err := ics.ParseCalendar(bytes.NewReader(b.Bytes()))
	require.NoError(t, err)
	events, todos := cal.Events(), cal.Todos()
	require.Len(t, events, 1)
	require.Len(t, todos, 1)
	require.Equal(t, "Встреча, ООО «Ромашка»", events[0].GetProperty(ics.ComponentPropertySummary).Value)
	integer := func(p *ics.IANAProperty, want int) {
		t.Helper()
		require.NotNil(t, p)
		require.NotContains(t, p.ICalParameters, "VALUE", "%s of its default type, INTEGER", p.IANAToken)
		n, err := strconv.Atoi(p.Value)
		require.NoError(t, err)
		require.Equal(t, want, n)
	}
	integer(events[0].GetProperty(ics.ComponentPropertySequence), 3)
	integer(todos[0].GetProperty(ics.ComponentPropertySequence), 1)
	integer(todos[0].GetProperty(ics.ComponentPropertyPriority), 1)
	got, err := todos[0].GetDueAt()
	require.NoError(t, err)
	require.True(t, due.Equal(got))
}
