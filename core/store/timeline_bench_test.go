package store_test

import (
	"context"
	"testing"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// BenchmarkTimelineFirstPage measures the first page (50 items) of the
// timeline of a deal with 5,000 changes and 1,000 notes, among 100,000
// events and 20,000 notes of other records: Cold right after the load,
// before the tables are analyzed (autovacuum kept off them), Warm after
// ANALYZE.
func BenchmarkTimelineFirstPage(b *testing.B) {
	s := storetest.NewStore(b)
	ctx := apiCtx()
	p, err := core.DecodePatch([]byte(`{"name":"Поставка мебели","amount":"1000"}`))
	if err != nil {
		b.Fatal(err)
	}
	deal, err := s.Deals().Create(ctx, p)
	if err != nil {
		b.Fatal(err)
	}
	loadTimeline(ctx, b, s, deal.ID)

	first := func(b *testing.B) {
		for b.Loop() {
			page, err := s.Timeline(ctx, core.EntityDeal, deal.ID, core.TimelineQuery{})
			if err != nil {
				b.Fatal(err)
			}
			if len(page.Items) != core.DefaultTimelineLimit || page.NextCursor == "" {
				b.Fatalf("a page of %d items", len(page.Items))
			}
		}
	}
	b.Run("Cold", first)
	if _, err := s.Pool().Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Run("Warm", first)
}

// loadTimeline gives the deal its changes and notes, and the database
// other records' events and notes, in a few statements.
func loadTimeline(ctx context.Context, b *testing.B, s *store.Store, dealID string) {
	b.Helper()
	for _, st := range []struct {
		sql  string
		args []any
	}{
		{sql: `ALTER TABLE outbox SET (autovacuum_enabled = false); ALTER TABLE notes SET (autovacuum_enabled = false)`},
		{`INSERT INTO outbox (id, type, entity, entity_id, entity_version, occurred_at, source, actor, data, changed)
		 SELECT gen_random_uuid(), 'deal.updated', 'deal', $1::uuid, i + 1, now() - (5000 - i) * interval '1 minute', 'api', 'system',
			jsonb_build_object('id', $1::text, 'name', 'Поставка мебели', 'amount', (1000 + i)::text || '.00'), '{amount}'
		 FROM generate_series(1, 5000) i`, []any{dealID}},
		{sql: `INSERT INTO outbox (id, type, entity, entity_id, entity_version, occurred_at, source, actor, data, changed)
		 SELECT gen_random_uuid(), 'lead.updated', 'lead', gen_random_uuid(), 2, now() - i * interval '1 second', 'api', 'system',
			jsonb_build_object('last_name', 'Петров ' || i), '{last_name}'
		 FROM generate_series(1, 100000) i`},
		{`INSERT INTO notes (id, entity, record_id, text, author_id, created_at, updated_at, version)
		 SELECT gen_random_uuid(), 'deal', $1::uuid, 'Заметка ' || i, (SELECT id FROM users LIMIT 1), now() - i * interval '5 minute', now(), 1
		 FROM generate_series(1, 1000) i`, []any{dealID}},
		{sql: `INSERT INTO notes (id, entity, record_id, text, author_id, created_at, updated_at, version)
		 SELECT gen_random_uuid(), 'lead', gen_random_uuid(), 'Чужая заметка ' || i, NULL, now() - i * interval '1 second', now(), 1
		 FROM generate_series(1, 20000) i`},
	} {
		if _, err := s.Pool().Exec(ctx, st.sql, st.args...); err != nil {
			b.Fatal(err)
		}
	}
}
