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

	c, changed, err := s.ReportCall(tctx, ring)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, "+74951234567", c.From)
	admin, err := s.Users().List(ctx, core.UserFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, admin.Items[0].ID, c.OwnerID, "no user has extension 101: the default owner")

	_, changed, err = s.ReportCall(tctx, ring)
	require.NoError(t, err)
	require.False(t, changed, "a repeated report changes nothing")

	answered := start.Add(8 * time.Second)
	c, changed, err = s.ReportCall(tctx, core.CallReport{Provider: "mango", CallID: "entry-1", Extension: "102", AnsweredAt: &answered})
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

	_, _, err = s.ReportCall(tctx, core.CallReport{Provider: "mango"})
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
					Direction: core.CallIn, From: "79161234567", Extension: fmt.Sprint(100 + leg), Duration: &d, Final: leg == 7})
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
}
