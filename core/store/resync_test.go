package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestResync(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	var last *core.Lead
	for i := range 3 {
		l, err := s.Leads().Create(ctx, patch(t, `{"last_name":"R`+string(rune('a'+i))+`","company":"C"}`))
		require.NoError(t, err)
		last = l
	}
	last, err := s.Leads().Update(ctx, last.ID, 0, patch(t, `{"title":"x"}`))
	require.NoError(t, err)
	deleted, err := s.Leads().Create(ctx, patch(t, `{"last_name":"Gone","company":"C"}`))
	require.NoError(t, err)
	require.NoError(t, s.Leads().Delete(ctx, deleted.ID, 0))

	n, err := s.Resync(ctx, core.EntityLead, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 3, n, "every live lead, not the deleted one")
	var version int64
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT entity_version FROM outbox WHERE type = 'lead.snapshot' AND entity_id = $1`, last.ID).Scan(&version))
	require.EqualValues(t, 2, version, "a snapshot carries the record's version")

	n, err = s.Resync(ctx, core.EntityLead, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "--since filters by last change")
	_, err = s.Resync(ctx, "ticket", time.Time{})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))

	h, err := s.History(ctx, core.EntityLead, last.ID)
	require.NoError(t, err)
	require.Len(t, h, 2, "snapshots are not changes: history leaves them out")

	// Calls too (they stream as crm.call).
	c, _, err := s.ReportCall(ctx, core.CallReport{Provider: "generic", CallID: "snap-1", Direction: "in", From: "+79031234567"},
		core.CallPolicy{})
	require.NoError(t, err)
	n, err = s.Resync(ctx, core.EntityCall, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var data string
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT data::text FROM outbox WHERE type = 'call.snapshot' AND entity_id = $1`, c.ID).Scan(&data))
	require.Contains(t, data, `"provider_call_id": "snap-1"`)

	// Documents carry their lines.
	inv, err := s.Invoices().Create(ctx, patch(t, `{"lines":[{"name":"Работы","price":"100"}]}`))
	require.NoError(t, err)
	n, err = s.Resync(ctx, core.EntityInvoice, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT data->'lines'->0->>'name' FROM outbox WHERE type = 'invoice.snapshot' AND entity_id = $1`, inv.ID).Scan(&data))
	require.Equal(t, "Работы", data)
}
