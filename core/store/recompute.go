package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// RecomputeDrafts recomputes by the spread rule the draft documents that
// migration 038 marked, each with its change event (source "migration"),
// and returns how many. The spread rule (core.DocumentBody.Compute): the
// overall discount is spread over the lines in proportion to their
// amounts, the rounding remainder going to the largest line; VAT is
// computed per line on its final amount; the document's totals are sums
// of the line figures. A draft the rule refuses (an adjustment in a
// document with VAT on top, which has no tax basis) keeps its figures,
// marked vtiger, and is logged: its next edit must give a discount
// instead. Safe to run at every start and on several replicas at once
// (rows are claimed with SKIP LOCKED).
func (s *Store) RecomputeDrafts(ctx context.Context) (int, error) {
	ctx = core.NewContextWithActor(ctx, core.Actor{ID: "migration", Source: "migration"})
	total := 0
	for _, r := range []func(context.Context) (int, error){
		recomputer(s, s.tables.quote, func(q *core.Quote) *core.DocumentBody { return &q.DocumentBody }),
		recomputer(s, s.tables.invoice, func(i *core.Invoice) *core.DocumentBody { return &i.DocumentBody }),
		recomputer(s, s.tables.salesOrder, func(o *core.SalesOrder) *core.DocumentBody { return &o.DocumentBody }),
		recomputer(s, s.tables.purchaseOrder, func(o *core.PurchaseOrder) *core.DocumentBody { return &o.DocumentBody }),
		recomputer(s, s.tables.act, func(a *core.Act) *core.DocumentBody { return &a.DocumentBody }),
		recomputer(s, s.tables.realization, func(r *core.Realization) *core.DocumentBody { return &r.DocumentBody }),
	} {
		n, err := r(ctx)
		total += n
		if err != nil {
			return total, wrap("recompute drafts", err)
		}
	}
	return total, nil
}

// recomputer recomputes one kind's marked drafts, a batch per transaction.
func recomputer[E any, P recordPtr[E]](s *Store, t *table[E, P], body func(P) *core.DocumentBody) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		done := 0
		for {
			n := 0
			err := s.inTx(ctx, func(tx pgx.Tx) error {
				rows, err := tx.Query(ctx, `SELECT id::text FROM `+t.name+` WHERE totals_rule = 'recompute' LIMIT 200 FOR UPDATE SKIP LOCKED`)
				if err != nil {
					return err
				}
				ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					return err
				}
				for _, id := range ids {
					old, err := t.get(ctx, tx, id, "")
					if err != nil {
						return err
					}
					rec := P(new(E))
					*rec = *old
					b := body(rec)
					b.Lines = append([]core.DocumentLine{}, b.Lines...)
					if err := b.Compute(); err != nil {
						b.TotalsRule = core.TotalsVtiger
						s.log.Warn("draft_keeps_vtiger_totals", "entity", t.entity, "id", id, "number", b.Number, "error", err)
					}
					if err := t.rewrite(ctx, s, tx, old, rec, core.OpUpdated, func() {}); err != nil {
						return fmt.Errorf("recompute %s %s: %w", t.entity, id, err)
					}
				}
				n = len(ids)
				return nil
			})
			done += n
			if err != nil || n == 0 {
				return done, err
			}
		}
	}
}
