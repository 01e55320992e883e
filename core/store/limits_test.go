package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// TestRecordSizeBound: a document within the lines limit whose stored JSON
// passes 1 MiB (the probe's 1,000 lines of 450-character names) is refused
// whole, with a 422 that says the bound; nothing is written.
func TestRecordSizeBound(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	lines := func(n, nameLen int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"%s","price":"1.00","quantity":"1","vat_rate":"22"}`, strings.Repeat("Я", nameLen/2))
		}
		return b.String()
	}
	before := count(t, s, `SELECT count(*) FROM outbox`)
	_, err := s.Invoices().Create(ctx, patch(t, `{"status":"created","lines":[`+lines(core.MaxLines, 900)+`]}`))
	var e *core.Error
	require.True(t, errors.As(err, &e), "%v", err)
	require.Equal(t, core.EINVALID, e.Code)
	require.Equal(t, "too_large", e.Fields[0].Code)
	require.Contains(t, e.Fields[0].Message, "at most 1048576")
	require.Equal(t, before, count(t, s, `SELECT count(*) FROM outbox`))
	require.Zero(t, count(t, s, `SELECT count(*) FROM invoices`))

	// The same number of ordinary lines is fine.
	inv, err := s.Invoices().Create(ctx, patch(t, `{"status":"created","lines":[`+lines(core.MaxLines, 60)+`]}`))
	require.NoError(t, err)
	require.Len(t, inv.Lines, core.MaxLines)
}
