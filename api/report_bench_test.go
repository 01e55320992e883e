package api_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/benchtest"
	"github.com/crmhub/crmhub/exchange/reportout"
)

// BenchmarkReports runs reports over 1,000,000 deals and 500,000 invoices
// (a tenth of them unpaid) owned by 20 users: a summary by month and
// owner, unpaid-invoices, and 100,000 detail rows written to Excel.
// make bench/reports; seeding takes about a minute.
func BenchmarkReports(b *testing.B) {
	s := setup(b).store
	ctx := context.Background()
	start := time.Now()
	if _, err := s.Pipelines().Ensure(ctx, []core.Pipeline{core.DefaultPipeline()}); err != nil {
		b.Fatal(err)
	}
	for _, sql := range []string{
		`INSERT INTO users (id, name, email, active, is_admin, created_at, updated_at, version)
		 SELECT gen_random_uuid(), 'Менеджер ' || i, 'm' || i || '@example.ru', true, false, now(), now(), 1 FROM generate_series(1, 20) i`,
		`CREATE TEMP TABLE bench_users AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM users`,
		`INSERT INTO deals (id, name, pipeline_id, stage, furthest_stage, probability, amount, currency, close_date, owner_id,
			created_at, updated_at, version)
		 SELECT gen_random_uuid(), 'Сделка ' || i, (SELECT id FROM pipelines LIMIT 1),
			(ARRAY['prospecting','qualification','negotiation_review','closed_won','closed_lost'])[i % 5 + 1],
			'prospecting', (i % 10) * 10, (i * 37 % 100000) + 0.5, 'RUB', date '2024-01-01' + (i % 1000),
			u.id, now(), now(), 1
		 FROM generate_series(1, 1000000) i JOIN bench_users u ON u.n = i % (SELECT count(*) FROM bench_users)`,
		`INSERT INTO invoices (id, number, date, status, currency, tax_mode, lines, subtotal, discount_total, vat_total, grand_total,
			vat_by_rate, due_date, amount_paid, balance, owner_id, created_at, updated_at, version)
		 SELECT gen_random_uuid(), 'СЧ-' || i, date '2024-01-01' + (i % 1000), CASE WHEN i % 10 = 0 THEN 'sent' ELSE 'paid' END,
			'RUB', 'individual', '[]', 1000 + i % 5000, 0, 0, 1000 + i % 5000, '[]', date '2024-01-15' + (i % 1000),
			CASE WHEN i % 10 = 0 THEN 0 ELSE 1000 + i % 5000 END, CASE WHEN i % 10 = 0 THEN 1000 + i % 5000 ELSE 0 END,
			u.id, now(), now(), 1
		 FROM generate_series(1, 500000) i JOIN bench_users u ON u.n = i % (SELECT count(*) FROM bench_users)`,
		`ANALYZE`,
	} {
		if _, err := s.Pool().Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded 1,000,000 deals and 500,000 invoices in %s", time.Since(start).Round(time.Second))
	s.SetReportLimits(100_000, time.Minute, time.UTC)
	reps := s.Reports()
	summary := &core.Report{Name: "Сделки по месяцам и менеджерам", ReportDefinition: core.ReportDefinition{Entity: "deal",
		Related: []string{"owner"}, GroupBy: []core.ReportGroup{{Field: "close_date", DatePart: "month"}, {Field: "owner.name"}},
		Aggregates: []core.ReportAggregate{{Fn: "count"}, {Fn: "sum", Field: "amount"}, {Fn: "sum", Field: "weighted_amount"}}}}
	run := func(b *testing.B, r *core.Report) *core.ReportResult {
		res, err := reps.Run(ctx, r, core.ReportRun{})
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	b.Run("summary-month-owner", func(b *testing.B) {
		var res *core.ReportResult
		for b.Loop() {
			res = run(b, summary)
		}
		b.ReportMetric(float64(len(res.Rows)), "groups")
	})
	sorted := *summary
	sorted.Sort = []string{"-sum_amount"}
	b.Run("summary-sorted-by-sum", func(b *testing.B) {
		for b.Loop() {
			run(b, &sorted)
		}
	})
	b.Run("unpaid-invoices", func(b *testing.B) {
		var res *core.ReportResult
		for b.Loop() {
			res = run(b, core.StandardReport("unpaid-invoices"))
		}
		b.ReportMetric(float64(len(res.Rows)), "rows")
	})
	detail := &core.Report{Name: "Счета", ReportDefinition: core.ReportDefinition{Entity: "invoice", Related: []string{"owner"},
		Columns:    []string{"number", "date", "status", "owner.name", "due_date", "grand_total", "amount_paid", "balance"},
		Aggregates: []core.ReportAggregate{{Fn: "sum", Field: "grand_total"}}, Sort: []string{"date"}}}
	b.Run("xlsx-100k-rows", func(b *testing.B) {
		var res *core.ReportResult
		for b.Loop() {
			res = run(b, detail)
			if err := reportout.WriteXLSX(io.Discard, res, time.UTC); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(res.Rows)), "rows")
		benchtest.PeakRSS(b)
	})
}
