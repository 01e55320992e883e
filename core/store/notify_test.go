package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// TestCommitsWakeTheRelay: the relay listens on crmhub_outbox; a create
// (group commit) and a transaction (a form submission with a deal) each
// notify it after they commit.
func TestCommitsWakeTheRelay(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := context.Background()
	conn, err := s.Pool().Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "LISTEN crmhub_outbox")
	require.NoError(t, err)
	wait := func() {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		n, err := conn.Conn().WaitForNotification(wctx)
		require.NoError(t, err, "no wake-up after the commit")
		require.Equal(t, "crmhub_outbox", n.Channel)
	}

	_, err = s.Leads().Create(apiCtx(), patch(t, `{"last_name":"Петров","company":"ООО"}`))
	require.NoError(t, err)
	wait()
	_, err = s.CaptureForm(apiCtx(), core.FormSubmission{Form: "f", Key: "k1", Target: core.FormTargetDeal,
		Duplicates: core.FormDupAttach, Record: patch(t, `{"name":"Заявка"}`), Contact: patch(t, `{"last_name":"Иванов"}`)})
	require.NoError(t, err)
	wait()
}
