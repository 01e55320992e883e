package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

type outboxRow struct {
	Type, Entity, EntityID, Source, Actor, CorrelationID string
	Version                                              int64
	Changed                                              []string
	Data                                                 map[string]any
}

func events(t *testing.T, s *store.Store, entityID string) []outboxRow {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), `SELECT type, entity, entity_id::text, source, actor, correlation_id,
		entity_version, changed, data FROM outbox WHERE entity_id::text = $1 ORDER BY seq`, entityID)
	require.NoError(t, err)
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		var data []byte
		require.NoError(t, rows.Scan(&r.Type, &r.Entity, &r.EntityID, &r.Source, &r.Actor, &r.CorrelationID, &r.Version, &r.Changed, &data))
		require.NoError(t, json.Unmarshal(data, &r.Data))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func count(t *testing.T, s *store.Store, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, s.Pool().QueryRow(context.Background(), sql).Scan(&n))
	return n
}

func patch(t *testing.T, js string) core.Patch {
	t.Helper()
	p, err := core.DecodePatch([]byte(js))
	require.NoError(t, err)
	return p
}

func apiCtx() context.Context {
	ctx := core.NewContextWithActor(context.Background(), core.Actor{ID: "key-1", Source: "api"})
	return core.NewContextWithCorrelationID(ctx, "req-1")
}

func TestLeadLifecycleEvents(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()

	l, err := s.Leads().Create(ctx, patch(t, `{"last_name":"Иванов","company":"ООО Ромашка","phone":"8 (912) 345-67-89","email":" Ivan@Example.RU "}`))
	require.NoError(t, err)
	require.Equal(t, "+79123456789", l.Phone)
	require.Equal(t, "ivan@example.ru", l.Email)
	require.EqualValues(t, 1, l.Version)
	require.NotEmpty(t, l.OwnerID, "the first administrator owns it")

	ev := events(t, s, l.ID)
	require.Len(t, ev, 1)
	require.Equal(t, "lead.created", ev[0].Type)
	require.Equal(t, "lead", ev[0].Entity)
	require.EqualValues(t, 1, ev[0].Version)
	require.Equal(t, "api", ev[0].Source)
	require.Equal(t, "key-1", ev[0].Actor)
	require.Equal(t, "req-1", ev[0].CorrelationID)
	require.Equal(t, "Иванов", ev[0].Data["last_name"])
	require.Empty(t, ev[0].Changed)

	l2, err := s.Leads().Update(ctx, l.ID, 1, patch(t, `{"status":"hot","title":"CEO","phone":"+7 912 345 67 89"}`))
	require.NoError(t, err)
	require.EqualValues(t, 2, l2.Version)
	ev = events(t, s, l.ID)
	require.Len(t, ev, 2)
	require.Equal(t, "lead.updated", ev[1].Type)
	require.EqualValues(t, 2, ev[1].Version)
	require.Equal(t, []string{"title", "status"}, ev[1].Changed, "the phone is the same number, so unchanged")

	// A patch that changes nothing writes nothing and announces nothing.
	_, err = s.Leads().Update(ctx, l.ID, 0, patch(t, `{"status":"hot"}`))
	require.NoError(t, err)
	require.Len(t, events(t, s, l.ID), 2)

	_, err = s.Leads().Update(ctx, l.ID, 1, patch(t, `{"status":"cold"}`))
	require.Equal(t, core.EPRECONDITION, core.ErrorCode(err))
	require.Len(t, events(t, s, l.ID), 2)

	require.NoError(t, s.Leads().Delete(ctx, l.ID, 2))
	ev = events(t, s, l.ID)
	require.Len(t, ev, 3)
	require.Equal(t, "lead.deleted", ev[2].Type)
	require.EqualValues(t, 3, ev[2].Version)

	_, err = s.Leads().Get(ctx, l.ID)
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(s.Leads().Delete(ctx, l.ID, 0)))
}

func TestFailedWriteLeavesNeitherRowNorEvent(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	before := count(t, s, "SELECT count(*) FROM outbox")

	// The owner does not exist: the lead insert fails on its foreign key
	// after the event was queued in the same batch.
	_, err := s.Leads().Create(ctx, patch(t, `{"last_name":"X","company":"Y","owner_id":"0190a5c0-0000-7000-8000-000000000000"}`))
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	require.Equal(t, "owner_id", core.ErrorFields(err)[0].Field)
	require.Equal(t, 0, count(t, s, "SELECT count(*) FROM leads"))
	require.Equal(t, before, count(t, s, "SELECT count(*) FROM outbox"))

	// Validation errors never reach the database.
	_, err = s.Leads().Create(ctx, patch(t, `{"company":"Y","phone":"abc"}`))
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	codes := map[string]string{}
	for _, f := range core.ErrorFields(err) {
		codes[f.Field] = f.Code
	}
	require.Equal(t, map[string]string{"phone": "invalid_phone"}, codes, "schema errors are reported before required fields")
	require.Equal(t, before, count(t, s, "SELECT count(*) FROM outbox"))
}

func TestConcurrentUpdatesEachGetOneEvent(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	l, err := s.Leads().Create(ctx, patch(t, `{"last_name":"A","company":"B"}`))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Leads().Update(ctx, l.ID, 0, patch(t, fmt.Sprintf(`{"description":"v%d"}`, i)))
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	ev := events(t, s, l.ID)
	require.Len(t, ev, 11)
	for i, e := range ev {
		require.EqualValues(t, i+1, e.Version, "versions are consecutive in commit order")
	}
}

func TestListLeadsPaginatesAndFilters(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	for i := range 7 {
		status := "hot"
		if i%2 == 1 {
			status = "cold"
		}
		_, err := s.Leads().Create(ctx, patch(t, fmt.Sprintf(`{"last_name":"Name%d","company":"Co %d","status":%q,"mobile":"+7 912 000-00-0%d"}`, i, i, status, i)))
		require.NoError(t, err)
	}
	var seen []string
	f := core.LeadFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "last_name", Desc: true}, Limit: 3}}
	for {
		p, err := s.Leads().List(ctx, f)
		require.NoError(t, err)
		for _, l := range p.Items {
			seen = append(seen, l.LastName)
		}
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	require.Equal(t, []string{"Name6", "Name5", "Name4", "Name3", "Name2", "Name1", "Name0"}, seen)

	p, err := s.Leads().List(ctx, core.LeadFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 10}, Statuses: []string{"cold"}})
	require.NoError(t, err)
	require.Len(t, p.Items, 3)

	p, err = s.Leads().List(ctx, core.LeadFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 10}, Phone: "+79120000005"})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	require.Equal(t, "Name5", p.Items[0].LastName)

	p, err = s.Leads().List(ctx, core.LeadFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 10, Query: "co 3"}})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)

	_, err = s.Leads().List(ctx, core.LeadFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 10, Cursor: f.Cursor}})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "a cursor from another sort is refused")
	_, err = s.Leads().List(ctx, core.LeadFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 10, Cursor: "!!"}})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))

	from := time.Now().Add(time.Hour)
	p, err = s.Leads().List(ctx, core.LeadFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 10, CreatedFrom: from}})
	require.NoError(t, err)
	require.Empty(t, p.Items)
}
