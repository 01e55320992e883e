package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// BenchmarkCreateLead measures creates from concurrent callers, which the
// store coalesces into shared transactions (group commit).
func BenchmarkCreateLead(b *testing.B) {
	s := storetest.NewStore(b)
	ctx := apiCtx()
	b.SetParallelism(16) // 16 × GOMAXPROCS concurrent callers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			p := core.Patch{"last_name": []byte(fmt.Sprintf(`"Петров %d"`, i)), "company": []byte(`"ООО Ромашка"`),
				"phone": []byte(`"8 (912) 345-67-89"`)}
			if _, err := s.Leads().Create(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCaptureForm measures form submissions from concurrent callers
// into a CRM of 20,000 leads: new people, each a lead with its submission
// row, after the duplicate lookup.
func BenchmarkCaptureForm(b *testing.B) {
	s := benchStore(b)
	ctx := apiCtx()
	if _, err := s.Pool().Exec(ctx, `INSERT INTO leads (id, owner_id, created_at, updated_at, version, last_name, company, phone)
		SELECT gen_random_uuid(), (SELECT id FROM users LIMIT 1), now(), now(), 1, 'x' || i, 'c', '+7903' || lpad(i::text, 7, '0')
		FROM generate_series(1, 20000) i; ANALYZE leads`); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			phone := fmt.Sprintf("+7926%07d", i)
			sub := core.FormSubmission{Form: "bench", Key: fmt.Sprintf("k%d", i), Target: core.FormTargetLead,
				Duplicates: core.FormDupAttach, Dup: core.DuplicateKeys{Phones: []string{phone}},
				Record: core.Patch{"last_name": []byte(fmt.Sprintf(`"Петров %d"`, i)), "company": []byte(`"Не указана"`),
					"phone": []byte(`"` + phone + `"`), "source": []byte(`"web_site"`)}}
			if _, err := s.CaptureForm(ctx, sub); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchStore is a store with the hub's default pool size (database.max_conns).
func benchStore(b *testing.B) *store.Store {
	cfg, err := pgxpool.ParseConfig(storetest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	s := store.New(pool, nil)
	b.Cleanup(s.Close)
	if _, _, err := s.EnsureAdmin(context.Background(), "Administrator"); err != nil {
		b.Fatal(err)
	}
	return s
}
