package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

var (
	_ core.ActService         = acts{}
	_ core.RealizationService = realizations{}
)

type acts struct{ docRepo[core.Act, *core.Act] }
type realizations struct {
	docRepo[core.Realization, *core.Realization]
}

// Acts returns the act repository.
func (s *Store) Acts() core.ActService { return acts{newDocRepo(s, s.tables.act)} }

// Realizations returns the realization repository.
func (s *Store) Realizations() core.RealizationService {
	return realizations{newDocRepo(s, s.tables.realization)}
}

// Delete implements core.ActService: the invoice forgets the act.
func (r acts) Delete(ctx context.Context, id string, ifVersion int64) error {
	return r.s.inTx(ctx, func(tx pgx.Tx) error {
		ctx := context.WithValue(ctx, txKey{}, tx)
		a, err := r.t.get(ctx, tx, id, "")
		if err != nil {
			return err
		}
		if err := r.t.delete(ctx, r.s, id, ifVersion); err != nil {
			return err
		}
		return r.s.refreshInvoiceLinks(ctx, tx, a.InvoiceID)
	})
}

// Delete implements core.RealizationService: its goods return to stock.
func (r realizations) Delete(ctx context.Context, id string, ifVersion int64) error {
	return r.s.inTx(ctx, func(tx pgx.Tx) error {
		ctx := context.WithValue(ctx, txKey{}, tx)
		old, err := r.t.get(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		gone := *old
		gone.Status = "cancelled"
		if err := r.s.moveStock(ctx, tx, old, &gone); err != nil {
			return err
		}
		if err := r.t.delete(ctx, r.s, id, ifVersion); err != nil {
			return err
		}
		return r.s.refreshInvoiceLinks(ctx, tx, old.InvoiceID)
	})
}

// Delete implements core.InvoiceService: an invoice with acts,
// realizations or payments stays.
func (r invoices) Delete(ctx context.Context, id string, ifVersion int64) error {
	inv, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	var payments int
	if err := r.s.db(ctx).QueryRow(ctx, `SELECT count(*) FROM payments WHERE invoice_id = $1 AND deleted_at IS NULL`, id).
		Scan(&payments); err != nil {
		return err
	}
	if n := len(inv.ActIDs) + len(inv.RealizationIDs); n > 0 || payments > 0 {
		return core.Errorf(core.ECONFLICT, "the invoice has %d act(s) or realization(s) and %d payment(s): cancel it instead", n, payments)
	}
	return r.t.delete(ctx, r.s, id, ifVersion)
}

// stockOf sums a realization's goods by product (none when cancelled).
func stockOf(r *core.Realization) map[string]decimal.Decimal {
	out := map[string]decimal.Decimal{}
	if r == nil || r.Status == "cancelled" {
		return out
	}
	for _, l := range r.Lines {
		if l.ProductID != nil {
			out[*l.ProductID] = out[*l.ProductID].Add(l.Quantity.Decimal)
		}
	}
	return out
}

// moveStock takes a realization's goods from stock, or gives them back
// when it is cancelled (or its lines change while a draft), with the
// products' change events. db is the write's transaction.
func (s *Store) moveStock(ctx context.Context, db dbtx, old, r *core.Realization) error {
	before, after := stockOf(old), stockOf(r)
	deltas := map[string]decimal.Decimal{}
	for id, q := range after {
		deltas[id] = q.Neg()
	}
	for id, q := range before {
		deltas[id] = deltas[id].Add(q)
	}
	tx, ok := db.(pgx.Tx)
	if !ok {
		return fmt.Errorf("stock: needs the realization's transaction")
	}
	ctx = context.WithValue(ctx, txKey{}, tx)
	for id, d := range deltas {
		if d.IsZero() {
			continue
		}
		p, err := s.tables.product.get(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		rec := *p
		rec.StockQuantity = core.Quantity{Decimal: p.StockQuantity.Add(d)}
		if err := s.tables.product.rewrite(ctx, s, tx, p, &rec, core.OpUpdated, func() {}); err != nil {
			return err
		}
	}
	return nil
}

// cancelShipments cancels an invoice's acts and realizations (their
// goods return to stock) when the invoice is cancelled.
func (s *Store) cancelShipments(ctx context.Context, db dbtx, invoiceID string) error {
	tx, ok := db.(pgx.Tx)
	if !ok {
		return fmt.Errorf("cancel shipments: needs the invoice's transaction")
	}
	ctx = context.WithValue(ctx, txKey{}, tx)
	cancel := core.Patch{"status": mustMarshal("cancelled")}
	for _, t := range []string{"acts", "realizations"} {
		rows, err := tx.Query(ctx, `SELECT id::text FROM `+t+` WHERE invoice_id = $1 AND status <> 'cancelled' AND deleted_at IS NULL`, invoiceID)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, id := range ids {
			if t == "acts" {
				_, err = s.tables.act.update(ctx, s, id, 0, cancel)
			} else {
				_, err = s.tables.realization.update(ctx, s, id, 0, cancel)
			}
			if err != nil {
				return fmt.Errorf("cancel the invoice's %s: %w", t, err)
			}
		}
	}
	return nil
}

// billed sums, per invoice line, what acts or realizations (table) that
// are not cancelled took of it.
func billed(ctx context.Context, db dbtx, table, invoiceID string) (map[string]decimal.Decimal, error) {
	rows, err := db.Query(ctx, `SELECT l->>'source_line_id', sum((l->>'quantity')::numeric)
		FROM `+table+` d, jsonb_array_elements(d.lines) l
		WHERE d.invoice_id = $1 AND d.status <> 'cancelled' AND d.deleted_at IS NULL AND l ? 'source_line_id'
		GROUP BY 1`, invoiceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]decimal.Decimal{}
	for rows.Next() {
		var id string
		var q decimal.Decimal
		if err := rows.Scan(&id, &q); err != nil {
			return nil, err
		}
		out[id] = q
	}
	return out, rows.Err()
}

// Remaining implements core.InvoiceService.
func (r invoices) Remaining(ctx context.Context, invoiceID string) ([]core.RemainingLine, error) {
	inv, err := r.Get(ctx, invoiceID)
	if err != nil {
		return nil, err
	}
	return r.s.remaining(ctx, r.s.db(ctx), inv)
}

func (s *Store) remaining(ctx context.Context, db dbtx, inv *core.Invoice) ([]core.RemainingLine, error) {
	acted, err := billed(ctx, db, "acts", inv.ID)
	if err != nil {
		return nil, err
	}
	shipped, err := billed(ctx, db, "realizations", inv.ID)
	if err != nil {
		return nil, err
	}
	out := make([]core.RemainingLine, len(inv.Lines))
	for i, l := range inv.Lines {
		done := acted[l.ID]
		if l.IsGoods() {
			done = shipped[l.ID]
		}
		left := l.Quantity.Sub(done)
		if left.IsNegative() {
			left = decimal.Zero
		}
		out[i] = core.RemainingLine{LineID: l.ID, Name: l.Name, Goods: l.IsGoods(), Quantity: l.Quantity,
			Billed: core.Quantity{Decimal: done}, Remaining: core.Quantity{Decimal: left}}
	}
	return out, nil
}

// ToAct implements core.InvoiceService.
func (r invoices) ToAct(ctx context.Context, invoiceID string, req core.ShipmentRequest) (*core.Act, error) {
	var out *core.Act
	err := r.ship(ctx, invoiceID, req, false, func(ctx context.Context, inv *core.Invoice, p core.Patch, src []string) error {
		var err error
		out, err = r.s.tables.act.create(ctx, r.s, p, func(a *core.Act) {
			a.InvoiceID = &inv.ID
			setSources(a.Lines, src)
		})
		return err
	})
	return out, err
}

// ToRealization implements core.InvoiceService.
func (r invoices) ToRealization(ctx context.Context, invoiceID string, req core.ShipmentRequest) (*core.Realization, error) {
	var out *core.Realization
	err := r.ship(ctx, invoiceID, req, true, func(ctx context.Context, inv *core.Invoice, p core.Patch, src []string) error {
		var err error
		out, err = r.s.tables.realization.create(ctx, r.s, p, func(x *core.Realization) {
			x.InvoiceID = &inv.ID
			setSources(x.Lines, src)
		})
		return err
	})
	return out, err
}

func setSources(lines []core.DocumentLine, src []string) {
	for i := range lines {
		if i < len(src) {
			id := src[i]
			lines[i].SourceLineID = &id
		}
	}
}

// ship makes an act (goods false) or a realization of an invoice's
// remaining lines, in one transaction with the invoice locked, so that two
// at once cannot bill one line twice.
func (r invoices) ship(ctx context.Context, invoiceID string, req core.ShipmentRequest, goods bool,
	create func(ctx context.Context, inv *core.Invoice, p core.Patch, src []string) error) error {
	kind := "act"
	if goods {
		kind = "realization"
	}
	return r.s.inTx(ctx, func(tx pgx.Tx) error {
		ctx := context.WithValue(ctx, txKey{}, tx)
		inv, err := r.t.get(ctx, tx, invoiceID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if inv.Status == "cancelled" {
			return core.Invalid([]core.FieldError{{Field: "invoice_id", Code: "cancelled", Message: "the invoice is cancelled"}})
		}
		left, err := r.s.remaining(ctx, tx, inv)
		if err != nil {
			return err
		}
		type pick struct {
			line *core.DocumentLine
			qty  decimal.Decimal
		}
		var picks []pick
		var errs []core.FieldError
		if len(req.Lines) == 0 {
			for i := range inv.Lines {
				if left[i].Goods == goods && left[i].Remaining.IsPositive() {
					picks = append(picks, pick{&inv.Lines[i], left[i].Remaining.Decimal})
				}
			}
			if len(picks) == 0 {
				return core.Invalid([]core.FieldError{{Field: "lines", Code: "nothing_left",
					Message: fmt.Sprintf("no %s lines are left to bill on the invoice", map[bool]string{true: "product", false: "service"}[goods])}})
			}
		}
		for i, sl := range req.Lines {
			p := fmt.Sprintf("lines[%d].", i)
			j := -1
			for k := range inv.Lines {
				if inv.Lines[k].ID == sl.LineID {
					j = k
				}
			}
			switch {
			case j < 0:
				errs = append(errs, core.FieldError{Field: p + "line_id", Code: "not_found", Message: "is not a line of the invoice"})
				continue
			case left[j].Goods != goods:
				errs = append(errs, core.FieldError{Field: p + "line_id", Code: "wrong_kind",
					Message: map[bool]string{true: "a service line goes to an act", false: "a product line goes to a realization"}[goods]})
				continue
			}
			q := left[j].Remaining.Decimal
			if sl.Quantity != nil {
				q = sl.Quantity.Decimal
			}
			if !q.IsPositive() || q.GreaterThan(left[j].Remaining.Decimal) {
				errs = append(errs, core.FieldError{Field: p + "quantity", Code: "out_of_range",
					Message: fmt.Sprintf("must be more than 0 and at most %s (what is left)", left[j].Remaining.String())})
				continue
			}
			picks = append(picks, pick{&inv.Lines[j], q})
		}
		if err := core.Invalid(errs); err != nil {
			return err
		}
		// The whole invoice at once keeps its shipping, adjustment and
		// amount discount; a part takes its lines and percent discount.
		whole := len(picks) == len(inv.Lines)
		for _, pk := range picks {
			whole = whole && pk.qty.Equal(pk.line.Quantity.Decimal)
		}
		p := documentCopy(&inv.DocumentBody)
		delete(p, "price_book_id") // the prices are the invoice's
		if !whole {
			for _, k := range []string{"shipping_amount", "adjustment", "discount_amount"} {
				delete(p, k)
			}
		}
		lines := make([]map[string]any, len(picks))
		src := make([]string, len(picks))
		for i, pk := range picks {
			l := lineCopy(pk.line)
			l["quantity"] = core.Quantity{Decimal: pk.qty}
			if pk.line.DiscountAmount != nil && !pk.qty.Equal(pk.line.Quantity.Decimal) {
				part := pk.line.DiscountAmount.Mul(pk.qty).Div(pk.line.Quantity.Decimal).Round(2)
				l["discount_amount"] = core.NewMoney(part)
			}
			lines[i], src[i] = l, pk.line.ID
		}
		p["lines"] = mustMarshal(lines)
		p["subject"] = mustMarshal(inv.Subject)
		for k, v := range req.Patch {
			if k == "lines" || k == "invoice_id" {
				return core.Invalid([]core.FieldError{{Field: k, Code: "copied", Message: "comes from the invoice"}})
			}
			p[k] = v
		}
		if err := create(ctx, inv, p, src); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		return r.s.refreshInvoiceLinks(ctx, tx, &inv.ID)
	})
}

// refreshInvoiceLinks keeps an invoice's list of its acts and
// realizations (the link both ways), with its change event.
func (s *Store) refreshInvoiceLinks(ctx context.Context, tx pgx.Tx, id *string) error {
	if id == nil {
		return nil
	}
	old, err := s.tables.invoice.get(ctx, tx, *id, "FOR UPDATE")
	if err != nil {
		return err
	}
	rec := *old
	ids := func(table string) ([]string, error) {
		rows, err := tx.Query(ctx, `SELECT id::text FROM `+table+` WHERE invoice_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, *id)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if rec.ActIDs, err = ids("acts"); err != nil {
		return err
	}
	if rec.RealizationIDs, err = ids("realizations"); err != nil {
		return err
	}
	rec.ActIDs, rec.RealizationIDs = nonNil(rec.ActIDs), nonNil(rec.RealizationIDs)
	return s.tables.invoice.rewrite(ctx, s, tx, old, &rec, core.OpUpdated, func() {})
}
