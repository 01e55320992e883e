package store_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// TestSpreadTotalsMigration: documents written before migration 038 (by
// vtiger's arithmetic) migrate: the issued one keeps its figures marked
// vtiger, the draft is recomputed by the spread rule, every line gets its
// kind.
func TestSpreadTotalsMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.NewPool(t)
	_, err := pool.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	all, err := store.Migrations()
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
		checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	require.NoError(t, err)
	for _, m := range all {
		if m.Version >= 38 {
			break
		}
		_, err := pool.Exec(ctx, m.SQL)
		require.NoError(t, err, m.Name)
		_, err = pool.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, m.Version, m.Name, m.Checksum)
		require.NoError(t, err)
	}
	// 1000.00 at 22% less 10%, as vtiger computed it: VAT 220.00 on the
	// undiscounted line, the discount off the total.
	lines := `[{"id":"l1","product_id":null,"service_id":null,"name":"A","quantity":"1","unit":"","unit_code":"","price":"1000.00",
		"discount_percent":null,"discount_amount":null,"vat_rate":"22","net_amount":"1000.00","vat_amount":"220.00","total_amount":"1220.00"},
		{"id":"l2","product_id":"01931f8e-7b0a-7c00-8000-000000000001","service_id":null,"name":"B","quantity":"1","unit":"","unit_code":"",
		"price":"0.00","discount_percent":null,"discount_amount":null,"vat_rate":"22","net_amount":"0.00","vat_amount":"0.00","total_amount":"0.00"}]`
	_, err = pool.Exec(ctx, `INSERT INTO users (id, name, created_at, updated_at) VALUES ('01931f8e-7b0a-7c00-8000-0000000000ff', 'A', now(), now())`)
	require.NoError(t, err)
	for _, x := range []struct{ table, id, status string }{
		{"quotes", "01931f8e-7b0a-7c00-8000-000000000010", "created"},
		{"invoices", "01931f8e-7b0a-7c00-8000-000000000020", "sent"},
	} {
		_, err = pool.Exec(ctx, `INSERT INTO `+x.table+` (id, number, date, status, currency, tax_mode, lines, discount_percent,
			subtotal, discount_total, vat_total, grand_total, vat_by_rate, owner_id, created_at, updated_at, version)
			VALUES ($1, 'N-1', '2026-11-20', $2, 'RUB', 'individual', $3, 10, 1220, 122, 220, 1098, '[{"rate":"22","base":"1000.00","vat":"220.00"}]',
			'01931f8e-7b0a-7c00-8000-0000000000ff', now(), now(), 1)`, x.id, x.status, lines)
		require.NoError(t, err)
	}
	done, err := store.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NotEmpty(t, done)
	s := store.New(pool, slog.New(slog.DiscardHandler))
	t.Cleanup(s.Close)
	n, err := s.RecomputeDrafts(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	q, err := s.Quotes().Get(ctx, "01931f8e-7b0a-7c00-8000-000000000010")
	require.NoError(t, err)
	require.Equal(t, []string{"198.00", "1098.00", "900.00", core.TotalsSpread, "", core.KindGoods},
		[]string{q.VATTotal.StringFixed(2), q.GrandTotal.StringFixed(2), q.NetTotal.StringFixed(2), q.TotalsRule, q.Lines[0].Kind, q.Lines[1].Kind})
	require.Equal(t, int64(2), q.Version, "recomputed as a change")
	inv, err := s.Invoices().Get(ctx, "01931f8e-7b0a-7c00-8000-000000000020")
	require.NoError(t, err)
	require.Equal(t, []string{"220.00", "1098.00", "878.00", core.TotalsVtiger, core.KindGoods},
		[]string{inv.VATTotal.StringFixed(2), inv.GrandTotal.StringFixed(2), inv.NetTotal.StringFixed(2), inv.TotalsRule, inv.Lines[1].Kind},
		"the issued invoice keeps its figures")
}
