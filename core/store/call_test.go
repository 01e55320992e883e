package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestReportCall(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	anna, err := s.Users().Create(ctx, patch(t, `{"name":"Анна","phone_extensions":["102"]}`))
	require.NoError(t, err)
	tctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "mango", Source: "telephony"})
	start := time.Date(2026, 11, 27, 10, 0, 0, 999_999_999, time.UTC) // PostgreSQL would round it up
	ring := core.CallReport{Provider: "mango", CallID: "entry-1", Direction: core.CallIn, From: "8 495 123-45-67", Extension: "101", StartedAt: &start}

	c, changed, err := s.ReportCall(tctx, ring, core.CallPolicy{})
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, "+74951234567", c.From)
	admin, err := s.Users().List(ctx, core.UserFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, admin.Items[0].ID, c.OwnerID, "no user has extension 101: the default owner")

	_, changed, err = s.ReportCall(tctx, ring, core.CallPolicy{})
	require.NoError(t, err)
	require.False(t, changed, "a repeated report changes nothing")

	answered := start.Add(8 * time.Second)
	c, changed, err = s.ReportCall(tctx, core.CallReport{Provider: "mango", CallID: "entry-1", Extension: "102", AnsweredAt: &answered}, core.CallPolicy{})
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, anna.ID, c.OwnerID, "the call goes to the user whose extension answered")
	require.Equal(t, core.CallAnswered, c.Disposition)
	require.Equal(t, int64(2), c.Version)

	got, err := s.GetCall(ctx, c.ID)
	require.NoError(t, err)
	require.True(t, c.CallState.Equal(&got.CallState), "%+v\n%+v", c.CallState, got.CallState)
	_, err = s.GetCall(ctx, "not-a-uuid")
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))

	ev := events(t, s, c.ID)
	require.Len(t, ev, 2, "one event per change, none for the repeat")
	require.Equal(t, "call.created", ev[0].Type)
	require.Equal(t, "telephony", ev[0].Source)
	require.Equal(t, "call.updated", ev[1].Type)
	require.Subset(t, ev[1].Changed, []string{"answered_extension", "answered_at", "disposition", "owner_id"})
	require.Equal(t, "+74951234567", ev[1].Data["from"])

	_, _, err = s.ReportCall(tctx, core.CallReport{Provider: "mango"}, core.CallPolicy{})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
}

func TestReportCallConcurrently(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := context.Background()
	// PBXs send a call's events in parallel: 8 reports of each of 10 calls
	// at once end as 10 calls holding every report.
	var wg sync.WaitGroup
	errs := make(chan error, 80)
	for call := range 10 {
		for leg := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := 60 + leg
				_, _, err := s.ReportCall(ctx, core.CallReport{Provider: "zadarma", CallID: fmt.Sprint("in_", call),
					Direction: core.CallIn, From: "79161234567", Extension: fmt.Sprint(100 + leg), Duration: &d, Final: leg == 7}, core.CallPolicy{CreateLeads: true, CallbackAfter: time.Hour})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 10, count(t, s, "SELECT count(*) FROM calls"))
	require.Equal(t, 10, count(t, s, "SELECT count(*) FROM calls WHERE duration = 67 AND final AND extension = '100'"))
	require.Equal(t, 10, count(t, s, "SELECT count(*) FROM outbox WHERE type = 'call.created'"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads"), "ten calls from one new number: one lead")
	require.Equal(t, 10, count(t, s, "SELECT count(*) FROM activities WHERE kind = 'call'"), "each call logged once")
}

func TestFinishedCalls(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	tctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "zadarma", Source: "telephony"})
	policy := core.CallPolicy{CreateLeads: true, CallbackAfter: 15 * time.Minute}
	start := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	end := start.Add(40 * time.Second)
	zero := 0

	// A missed call from a new number: one lead, one call, one call-back task.
	missed := core.CallReport{Provider: "zadarma", CallID: "in_missed", Direction: core.CallIn, From: "79161112233",
		To: "74957776655", Extension: "100", StartedAt: &start, EndedAt: &end, Duration: &zero, Disposition: core.CallMissed, Final: true}
	c, _, err := s.ReportCall(tctx, missed, policy)
	require.NoError(t, err)
	require.NotNil(t, c.LeadID)
	lead, err := s.Leads().Get(ctx, *c.LeadID)
	require.NoError(t, err)
	require.Equal(t, "+79161112233", lead.Phone)
	require.Equal(t, "incoming_call", lead.Source)
	require.Equal(t, c.OwnerID, lead.OwnerID)
	_, changed, err := s.ReportCall(tctx, missed, policy)
	require.NoError(t, err)
	require.False(t, changed, "the same final report again")
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM activities WHERE kind = 'call' AND status = 'not_held' AND lead_id IS NOT NULL"))
	var due time.Time
	require.NoError(t, s.Pool().QueryRow(context.Background(),
		"SELECT due_at FROM activities WHERE kind = 'task' AND subject = 'Перезвонить +79161112233' AND priority = 'high'").Scan(&due))
	require.True(t, due.Equal(start.Add(15*time.Minute)), "due %s", due)

	// An answered call from a known contact: attached to it, no new lead.
	contact, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Петров","mobile":"8 (916) 444-55-66"}`))
	require.NoError(t, err)
	c, _, err = s.ReportCall(tctx, core.CallReport{Provider: "zadarma", CallID: "in_known", Direction: core.CallIn, From: "79164445566",
		Extension: "100", StartedAt: &start, AnsweredAt: &start, EndedAt: &end, Duration: intp(40), Disposition: core.CallAnswered, Final: true}, policy)
	require.NoError(t, err)
	require.Nil(t, c.LeadID)
	require.Equal(t, contact.ID, *c.ContactID)
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads"))
	act, err := s.Activities().Get(ctx, *c.ActivityID)
	require.NoError(t, err)
	require.Equal(t, "held", act.Status)
	require.Equal(t, contact.ID, *act.ContactID)
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM activities WHERE kind = 'task'"), "answered: no call back")

	// An unanswered outgoing call to an unknown number is logged only.
	c, _, err = s.ReportCall(tctx, core.CallReport{Provider: "zadarma", CallID: "out_1", Direction: core.CallOut, From: "100",
		To: "84951230000", StartedAt: &start, Disposition: core.CallBusy, Final: true}, policy)
	require.NoError(t, err)
	require.Nil(t, c.LeadID)
	require.NotNil(t, c.ActivityID)
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM activities WHERE kind = 'task'"))

	// With lead creation off, an unknown caller makes no lead.
	c, _, err = s.ReportCall(tctx, core.CallReport{Provider: "zadarma", CallID: "in_nolead", Direction: core.CallIn, From: "79990001122",
		StartedAt: &start, Final: true}, core.CallPolicy{})
	require.NoError(t, err)
	require.Nil(t, c.LeadID)
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads"))
	require.Empty(t, c.Disposition)
	require.True(t, c.Missed(), "finished without a word of an answer")
}

func intp(n int) *int { return &n }

// TestCallOwnersTakeTurns: calls that reach no known extension go to the
// policy's owners in turn, and so do the leads they make.
func TestCallOwnersTakeTurns(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	var ids []string
	for _, n := range []string{"Анна", "Борис"} {
		u, err := s.Users().Create(ctx, patch(t, `{"name":"`+n+`","active":true}`))
		require.NoError(t, err)
		ids = append(ids, u.ID)
	}
	p := core.CallPolicy{CreateLeads: true, Owners: ids}
	var owners, leadOwners []string
	for i, from := range []string{"+79031110001", "+79031110002", "+79031110003"} {
		c, _, err := s.ReportCall(ctx, core.CallReport{Provider: "generic", CallID: fmt.Sprint("rr-", i), Direction: "in",
			From: from, Disposition: "answered", Final: true}, p)
		require.NoError(t, err)
		owners = append(owners, c.OwnerID)
		l, err := s.Leads().Get(ctx, *c.LeadID)
		require.NoError(t, err)
		leadOwners = append(leadOwners, l.OwnerID)
	}
	want := []string{ids[0], ids[1], ids[0]}
	require.Equal(t, want, owners)
	require.Equal(t, want, leadOwners)
}

// TestReportCallBatch: the calls of a batch are applied together as each
// would be alone: two calls from one new number make one lead, a known
// number links its contact, a missed call gets its task, a repeat changes
// nothing, and a call at fault fails alone.
func TestReportCallBatch(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	anna, err := s.Users().Create(ctx, patch(t, `{"name":"Анна","phone_extensions":["102"]}`))
	require.NoError(t, err)
	known, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Известный","mobile":"+79165550000"}`))
	require.NoError(t, err)
	tctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "zadarma", Source: "telephony"})
	policy := core.CallPolicy{CreateLeads: true, CallbackAfter: time.Hour}
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	call := func(id, from, disposition string) core.CallReports {
		return core.CallReports{CorrelationID: "inbox:" + id, Reports: []core.CallReport{
			{Provider: "zadarma", CallID: id, Direction: core.CallIn, From: from, Extension: "102", StartedAt: &start},
			{Provider: "zadarma", CallID: id, Final: true, Disposition: disposition},
		}}
	}
	batch := []core.CallReports{
		call("new-1", "79031112233", core.CallAnswered),
		call("known", "79165550000", core.CallAnswered),
		{Reports: []core.CallReport{{Provider: "zadarma", CallID: ""}}}, // no call id
		call("new-2", "+7 903 111-22-33", core.CallMissed),
		{Reports: []core.CallReport{{Provider: "zadarma", CallID: "new-1", RecordingURL: "https://pbx/rec/1"}}}, // the same call again
	}
	errs := s.ReportCallBatch(tctx, batch, policy)
	require.Len(t, errs, len(batch))
	for i, err := range errs {
		if i == 2 {
			require.Equal(t, core.EINVALID, core.ErrorCode(err))
			continue
		}
		require.NoError(t, err, i)
	}
	require.Equal(t, 3, count(t, s, "SELECT count(*) FROM calls"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads"), "two calls from one new number: one lead")
	require.Equal(t, 2, count(t, s, "SELECT count(*) FROM calls WHERE lead_id = (SELECT id FROM leads) AND owner_id = '"+anna.ID+"'"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM calls WHERE provider_call_id = 'known' AND contact_id = '"+known.ID+"' AND lead_id IS NULL"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM calls WHERE provider_call_id = 'new-1' AND recording_url = 'https://pbx/rec/1'"),
		"both parts of new-1 merged")
	require.Equal(t, 3, count(t, s, "SELECT count(*) FROM activities a JOIN calls c ON c.activity_id = a.id WHERE a.kind = 'call'"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM activities WHERE kind = 'task' AND subject = 'Перезвонить +79031112233' AND owner_id = '"+anna.ID+"'"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM activities WHERE status = 'not_held'"))
	require.Equal(t, 3, count(t, s, "SELECT count(*) FROM outbox WHERE type = 'call.created' AND correlation_id LIKE 'inbox:%'"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM outbox WHERE type = 'lead.created' AND correlation_id = 'inbox:new-1'"))
	require.Equal(t, 4, count(t, s, "SELECT count(*) FROM outbox WHERE type = 'activity.created'"))
	events := count(t, s, "SELECT count(*) FROM outbox")

	// Delivered again: nothing changes, nothing is written.
	for i, err := range s.ReportCallBatch(tctx, batch, policy) {
		if i != 2 {
			require.NoError(t, err, i)
		}
	}
	require.Equal(t, events, count(t, s, "SELECT count(*) FROM outbox"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads"))
}

// TestReportCallBatchesConcurrently: batch workers share a call's events
// out of order — here 6 batches at once, each holding a part of every one
// of 40 calls in its own order — and still make each call once, one lead
// per new number and one activity per call, without a deadlock surfacing.
func TestReportCallBatchesConcurrently(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	tctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "zadarma", Source: "telephony"})
	policy := core.CallPolicy{CreateLeads: true, CallbackAfter: time.Hour}
	const calls, batches = 40, 6
	var wg sync.WaitGroup
	errs := make(chan error, calls*batches)
	for b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var batch []core.CallReports
			for i := range calls {
				n := (i*7 + b*13) % calls // every batch in its own order
				d := 10 * (b + 1)
				batch = append(batch, core.CallReports{Reports: []core.CallReport{{Provider: "zadarma", CallID: fmt.Sprint("c", n),
					Direction: core.CallIn, From: fmt.Sprintf("7903000%04d", n%10), Extension: fmt.Sprint(100 + b), Duration: &d,
					Final: b == batches-1 || b == 2}}})
			}
			for _, err := range s.ReportCallBatch(tctx, batch, policy) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, calls, count(t, s, "SELECT count(*) FROM calls WHERE final AND duration = 60 AND extension = '100'"))
	require.Equal(t, 10, count(t, s, "SELECT count(*) FROM leads"), "one lead per new number")
	require.Equal(t, calls, count(t, s, "SELECT count(*) FROM activities WHERE kind = 'call'"), "each call logged once")
	require.Equal(t, calls, count(t, s, "SELECT count(*) FROM outbox WHERE type = 'call.created'"))
}

// TestReportCallBatchIsolatesFailures: a call the database refuses (here a
// trigger stands for any constraint the checks cannot see) fails alone,
// the rest of its batch is applied; and a call whose PBX clock runs an hour
// ahead is still logged, its activity held now rather than refused as held
// before its start.
func TestReportCallBatchIsolatesFailures(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := context.Background()
	_, err := s.Pool().Exec(ctx, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.subject LIKE '%+79990000666' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER refuse BEFORE INSERT ON activities FOR EACH ROW EXECUTE FUNCTION refuse()`)
	require.NoError(t, err)
	tctx := core.NewContextWithActor(ctx, core.Actor{ID: "zadarma", Source: "telephony"})
	ahead := time.Now().Add(time.Hour)
	call := func(id, from string, start *time.Time) core.CallReports {
		return core.CallReports{Reports: []core.CallReport{{Provider: "zadarma", CallID: id, Direction: core.CallIn, From: from,
			StartedAt: start, Final: true, Disposition: core.CallAnswered}}}
	}
	errs := s.ReportCallBatch(tctx, []core.CallReports{call("a", "79031110001", nil), call("refused", "79990000666", nil),
		call("ahead", "79031110002", &ahead)}, core.CallPolicy{CreateLeads: true})
	require.NoError(t, errs[0])
	require.Error(t, errs[1])
	require.NoError(t, errs[2])
	require.Equal(t, 2, count(t, s, "SELECT count(*) FROM calls WHERE final AND activity_id IS NOT NULL"))
	require.Equal(t, 2, count(t, s, "SELECT count(*) FROM leads"), "the refused call's lead went with it")
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM activities a JOIN calls c ON c.activity_id = a.id
		WHERE c.provider_call_id = 'ahead' AND a.status = 'held' AND a.start_at <= now() AND c.started_at > now()`),
		"the call keeps the PBX's time, its activity is held now")
	require.Equal(t, 0, count(t, s, "SELECT count(*) FROM outbox WHERE data->>'phone' = '+79990000666'"))
}
