package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// allowedTransitions is the specification: every change of status not
// listed here must be refused (staying put is always allowed).
var allowedTransitions = map[string]bool{
	"event planned>held": true, "event planned>not_held": true,
	"event not_held>planned": true, "event not_held>held": true,
	"task not_started>planned": true, "task not_started>in_progress": true, "task not_started>pending_input": true,
	"task not_started>deferred": true, "task not_started>completed": true,
	"task planned>not_started": true, "task planned>in_progress": true, "task planned>deferred": true, "task planned>completed": true,
	"task in_progress>pending_input": true, "task in_progress>deferred": true, "task in_progress>completed": true,
	"task pending_input>in_progress": true, "task pending_input>deferred": true, "task pending_input>completed": true,
	"task deferred>planned": true, "task deferred>not_started": true, "task deferred>in_progress": true,
	"task completed>in_progress": true,
}

func TestActivityTransitionsExhaustively(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	past := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	end := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	cases := 0
	for _, kind := range []string{"call", "meeting", "task"} {
		family, statuses := "task", core.TaskStatuses().Codes()
		body := `{"kind":"task","subject":"S","start_at":"` + past + `","due_at":"` + end + `","status":%q}`
		if kind != "task" {
			family, statuses = "event", core.EventStatuses().Codes()
			body = `{"kind":"` + kind + `","subject":"S","start_at":"` + past + `","end_at":"` + end + `","status":%q}`
		}
		for _, from := range statuses {
			for _, to := range statuses {
				a, err := s.Activities().Create(ctx, patch(t, fmt.Sprintf(body, from)))
				require.NoError(t, err, "%s created as %s", kind, from)
				_, err = s.Activities().Update(ctx, a.ID, 0, patch(t, fmt.Sprintf(`{"status":%q}`, to)))
				want := from == to || allowedTransitions[family+" "+from+">"+to]
				if want {
					require.NoError(t, err, "%s %s>%s", kind, from, to)
				} else {
					require.Equal(t, map[string]string{"status": "invalid_transition"}, fieldCodes(err), "%s %s>%s", kind, from, to)
				}
				cases++
			}
		}
		// Statuses of the other family are not statuses of this one.
		other := "deferred"
		if family == "task" {
			other = "held"
		}
		_, err := s.Activities().Create(ctx, patch(t, fmt.Sprintf(body, other)))
		require.Equal(t, map[string]string{"status": "invalid_choice"}, fieldCodes(err), "%s as %s", kind, other)
	}
	require.Equal(t, 3*3+3*3+6*6, cases)
}

func TestActivityRules(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	soon := time.Now().Add(time.Hour).UTC()
	at := func(d time.Duration) string { return soon.Add(d).Format(time.RFC3339) }

	ev, err := s.Activities().Create(ctx, patch(t, `{"kind":"meeting","subject":"Встреча","start_at":"`+at(0)+`","end_at":"`+at(time.Hour)+`"}`))
	require.NoError(t, err)
	require.Equal(t, "planned", ev.Status, "an event starts planned")
	_, err = s.Activities().Update(ctx, ev.ID, 0, patch(t, `{"status":"held"}`))
	require.Equal(t, map[string]string{"status": "not_started_yet"}, fieldCodes(err), "not held before it starts")
	_, err = s.Activities().Update(ctx, ev.ID, 0, patch(t, `{"kind":"task"}`))
	require.Equal(t, map[string]string{"kind": "immutable"}, fieldCodes(err))
	_, err = s.Activities().Update(ctx, ev.ID, 0, patch(t, `{"kind":"call"}`))
	require.NoError(t, err, "a meeting may become a call")

	_, err = s.Activities().Create(ctx, patch(t, `{"kind":"call","subject":"Звонок","start_at":"`+at(time.Hour)+`","end_at":"`+at(0)+`"}`))
	require.Equal(t, map[string]string{"end_at": "before_start"}, fieldCodes(err))
	_, err = s.Activities().Create(ctx, patch(t, `{"kind":"call","subject":"Звонок","start_at":"`+at(0)+`"}`))
	require.Equal(t, map[string]string{"end_at": "required"}, fieldCodes(err))
	_, err = s.Activities().Create(ctx, patch(t, `{"kind":"task","subject":"Позвонить","start_at":"`+at(0)+`","end_at":"`+at(time.Hour)+`"}`))
	require.Equal(t, map[string]string{"due_at": "required", "end_at": "not_allowed"}, fieldCodes(err))

	task, err := s.Activities().Create(ctx, patch(t, `{"kind":"task","subject":"Выставить счёт","start_at":"`+at(0)+`","due_at":"`+at(24*time.Hour)+`"}`))
	require.NoError(t, err)
	require.Equal(t, "not_started", task.Status)
	require.Equal(t, "medium", task.Priority)
	task, err = s.Activities().Update(ctx, task.ID, 0, patch(t, `{"status":"completed"}`))
	require.NoError(t, err)
	require.NotNil(t, task.CompletedAt, "a completed task records when")
	task, err = s.Activities().Update(ctx, task.ID, 0, patch(t, `{"status":"in_progress"}`))
	require.NoError(t, err)
	require.Nil(t, task.CompletedAt)

	_, err = s.Activities().Create(ctx, patch(t, `{"kind":"task","subject":"X","start_at":"`+at(0)+`","due_at":"`+at(time.Hour)+`","deal_id":"0190a5c0-0000-7000-8000-000000000000"}`))
	require.Equal(t, map[string]string{"deal_id": "not_found"}, fieldCodes(err))

	// The calendar lists what overlaps the window.
	p, err := s.Activities().List(ctx, core.ActivityFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "start_at"}, Limit: 10},
		From: soon.Add(30 * time.Minute), To: soon.Add(2 * time.Hour)})
	require.NoError(t, err)
	require.Len(t, p.Items, 2, "the call (running then) and the task (due later)")
	p, err = s.Activities().List(ctx, core.ActivityFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "start_at"}, Limit: 10},
		From: soon.Add(2 * time.Hour), To: soon.Add(3 * time.Hour), Kinds: []string{"call"}})
	require.NoError(t, err)
	require.Empty(t, p.Items)
}
