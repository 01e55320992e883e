package store

import (
	"context"
	"fmt"
	"slices"

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
	return wrap("delete act", r.s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := r.t.get(ctx, tx, id, "")
		if err != nil {
			return err
		}
		if err := r.t.deleteWith(ctx, r.s, id, ifVersion, writeOpts{tx: tx}); err != nil {
			return err
		}
		return r.s.refreshInvoiceLinks(ctx, tx, a.InvoiceID)
	}))
}

// Delete implements core.RealizationService: its goods return to stock.
func (r realizations) Delete(ctx context.Context, id string, ifVersion int64) error {
	return wrap("delete realization", r.s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := r.t.get(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		gone := *old
		gone.Status = "cancelled"
		if err := r.s.moveStock(ctx, tx, old, &gone); err != nil {
			return err
		}
		if err := r.t.deleteWith(ctx, r.s, id, ifVersion, writeOpts{tx: tx}); err != nil {
			return err
		}
		return r.s.refreshInvoiceLinks(ctx, tx, old.InvoiceID)
	}))
}

// Delete implements core.InvoiceService: an invoice with acts,
// realizations or payments stays.
func (r invoices) Delete(ctx context.Context, id string, ifVersion int64) error {
	inv, err := r.Get(ctx, id)
	if err != nil {
		return wrap("delete invoice", err)
	}
	var payments int
	if err := r.s.db(ctx).QueryRow(ctx, `SELECT count(*) FROM payments WHERE invoice_id = $1 AND deleted_at IS NULL`, id).
		Scan(&payments); err != nil {
		return wrap("delete invoice", err)
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
	cancel := core.PatchOf(map[string]any{"status": "cancelled"})
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
				_, err = s.tables.act.updateWith(ctx, s, id, 0, cancel, writeOpts{tx: tx})
			} else {
				_, err = s.tables.realization.updateWith(ctx, s, id, 0, cancel, writeOpts{tx: tx})
			}
			if err != nil {
				return fmt.Errorf("cancel the invoice's %s: %w", t, err)
			}
		}
	}
	return nil
}

// billedParts sums, per invoice line (and core.ShippingLineID), what the
// invoice's acts and realizations that are not cancelled took of it: the
// quantity and the figures of their parts.
func billedParts(ctx context.Context, db dbtx, invoiceID string) (map[string]core.Billed, error) {
	rows, err := db.Query(ctx, `SELECT l->>'source_line_id', sum((l->>'quantity')::numeric),
			coalesce(sum((l->>'amount')::numeric), 0), coalesce(sum((l->>'discount_amount')::numeric), 0),
			coalesce(sum((l->>'discount_share')::numeric), 0), coalesce(sum((l->>'vat_amount')::numeric), 0)
		FROM (SELECT lines FROM acts WHERE invoice_id = $1 AND status <> 'cancelled' AND deleted_at IS NULL
			UNION ALL
			SELECT lines FROM realizations WHERE invoice_id = $1 AND status <> 'cancelled' AND deleted_at IS NULL) d,
			jsonb_array_elements(d.lines) l
		WHERE l ? 'source_line_id'
		GROUP BY 1`, invoiceID)
	if err != nil {
		return nil, err
	}
	out := map[string]core.Billed{}
	var id string
	var b core.Billed
	_, err = pgx.ForEachRow(rows, []any{&id, &b.Quantity, &b.Amount, &b.LineDiscount, &b.Share, &b.VAT}, func() error {
		out[id] = b
		return nil
	})
	return out, err
}

// Remaining implements core.InvoiceService.
func (r invoices) Remaining(ctx context.Context, invoiceID string) ([]core.RemainingLine, error) {
	inv, err := r.Get(ctx, invoiceID)
	if err != nil {
		return nil, wrap("invoice remaining lines", err)
	}
	left, _, err := r.s.remaining(ctx, r.s.db(ctx), inv)
	return left, wrap("invoice remaining lines", err)
}

// remaining is each invoice line's billing state, the shipping and
// handling last (until it is billed), with what was billed of each.
func (s *Store) remaining(ctx context.Context, db dbtx, inv *core.Invoice) ([]core.RemainingLine, map[string]core.Billed, error) {
	billed, err := billedParts(ctx, db, inv.ID)
	if err != nil {
		return nil, nil, err
	}
	state := func(id, name, kind string, qty decimal.Decimal) core.RemainingLine {
		done := billed[id].Quantity
		left := decimal.Max(qty.Sub(done), decimal.Zero)
		return core.RemainingLine{LineID: id, Name: name, Kind: kind, Goods: kind == core.KindGoods, Quantity: core.Quantity{Decimal: qty},
			Billed: core.Quantity{Decimal: done}, Remaining: core.Quantity{Decimal: left}}
	}
	out := make([]core.RemainingLine, 0, len(inv.Lines)+1)
	for _, l := range inv.Lines {
		out = append(out, state(l.ID, l.Name, l.Kind, l.Quantity.Decimal))
	}
	if inv.ShippingAmount.IsPositive() {
		out = append(out, state(core.ShippingLineID, s.closing.ShippingLineName, core.KindService, decimal.NewFromInt(1)))
	}
	return out, billed, nil
}

// ToAct implements core.InvoiceService.
func (r invoices) ToAct(ctx context.Context, invoiceID string, req core.ShipmentRequest) (*core.Act, error) {
	var out *core.Act
	err := r.ship(ctx, invoiceID, req, core.EntityAct, func(ctx context.Context, tx pgx.Tx, inv *core.Invoice, p core.Patch, fill func(*core.DocumentBody)) error {
		var err error
		out, err = r.s.tables.act.createWith(ctx, r.s, p, writeOpts{tx: tx}, func(a *core.Act) {
			a.InvoiceID = &inv.ID
			fill(&a.DocumentBody)
		})
		return err
	})
	return out, wrap("invoice to act", err)
}

// ToRealization implements core.InvoiceService.
func (r invoices) ToRealization(ctx context.Context, invoiceID string, req core.ShipmentRequest) (*core.Realization, error) {
	var out *core.Realization
	err := r.ship(ctx, invoiceID, req, core.EntityRealization, func(ctx context.Context, tx pgx.Tx, inv *core.Invoice, p core.Patch, fill func(*core.DocumentBody)) error {
		var err error
		out, err = r.s.tables.realization.createWith(ctx, r.s, p, writeOpts{tx: tx}, func(x *core.Realization) {
			x.InvoiceID = &inv.ID
			fill(&x.DocumentBody)
		})
		return err
	})
	return out, wrap("invoice to realization", err)
}

// pick is an invoice line (or its shipping) a closing document bills, and
// how much of it.
type pick struct {
	line   core.DocumentLine // as the closing document copies it
	totals core.LineTotals   // the invoice line's figures
	qty    decimal.Decimal
	before core.Billed
}

// ship makes an act or a realization (kind) of an invoice's remaining
// lines, in one transaction with the invoice locked, so that two at once
// cannot bill one line twice. Each line carries its part of the invoice
// line's final figures (core.BillPart), so the closing documents add up to
// the invoice; the shipping is a service line of the kind that closes it.
func (r invoices) ship(ctx context.Context, invoiceID string, req core.ShipmentRequest, kind string,
	create func(ctx context.Context, tx pgx.Tx, inv *core.Invoice, p core.Patch, fill func(*core.DocumentBody)) error) error {
	return r.s.inTx(ctx, func(tx pgx.Tx) error {
		inv, err := r.t.get(ctx, tx, invoiceID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := r.t.authorize(ctx, r.s, tx, invoiceID, core.ActView, nil); err != nil {
			return err
		}
		if inv.Status == "cancelled" {
			return core.Invalid([]core.FieldError{{Field: "invoice_id", Code: "cancelled", Message: "the invoice is cancelled"}})
		}
		picks, err := r.s.picks(ctx, tx, inv, req.Lines, kind)
		if err != nil {
			return err
		}
		p := documentCopy(&inv.DocumentBody)
		// The lines carry the invoice's discounts, adjustment and shipping.
		for _, k := range []string{"price_book_id", "shipping_amount", "shipping_vat_rate", "adjustment", "discount_amount", "discount_percent"} {
			delete(p, k)
		}
		lines := make([]map[string]any, len(picks))
		for i := range picks {
			lines[i] = lineCopy(&picks[i].line)
			lines[i]["quantity"] = core.Quantity{Decimal: picks[i].qty}
			delete(lines[i], "discount_percent")
			delete(lines[i], "discount_amount")
		}
		p.Set("lines", lines)
		for k, v := range req.Patch {
			if k == "lines" || k == "invoice_id" {
				return core.Invalid([]core.FieldError{{Field: k, Code: "copied", Message: "comes from the invoice"}})
			}
			p[k] = v
		}
		mode := core.TaxMode(inv.TaxMode)
		fill := func(b *core.DocumentBody) { billLines(b, picks, mode) }
		if err := create(ctx, tx, inv, p, fill); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		return r.s.refreshInvoiceLinks(ctx, tx, &inv.ID)
	})
}

// billLines gives a closing document's lines the figures of the parts they
// bill, at the rate of the document's (shipment) date: a line of an
// invoice at 20% shipped in 2026 is billed at 22%, with a warning.
func billLines(b *core.DocumentBody, picks []pick, mode core.TaxMode) {
	for i := range b.Lines {
		if i >= len(picks) {
			break
		}
		pk, l := picks[i], &b.Lines[i]
		part := core.BillPart(pk.totals, pk.line.Quantity.Decimal, pk.before, pk.qty)
		src := pk.line.ID
		l.SourceLineID = &src
		l.Amount = core.NewMoney(part.Amount)
		l.DiscountShare = core.NewMoney(part.Share)
		l.VATAmount = core.NewMoney(part.VAT)
		l.DiscountPercent = nil
		l.DiscountAmount = nil
		if part.LineDiscount.IsPositive() {
			d := core.NewMoney(part.LineDiscount)
			l.DiscountAmount = &d
		}
		if rate, moved := core.RateOnDate(core.VATRate(l.VATRate), b.Date.Time); moved {
			final := part.Amount.Sub(part.LineDiscount).Sub(part.Share)
			l.VATRate = string(rate)
			l.VATAmount = core.NewMoney(core.VATOn(final, rate, mode))
			b.Warnings = append(b.Warnings, core.FieldError{Field: fmt.Sprintf("lines[%d].vat_rate", i), Code: "rate_by_shipment_date",
				Message: fmt.Sprintf("billed at %s%%, the rate in force on the shipment date %s (the invoice says %s%%)",
					rate, b.Date.Format("02.01.2006"), pk.line.VATRate)})
		}
	}
}

// picks chooses what a closing document of kind bills: the lines asked
// (all that is left of the lines it may close when none are), each with
// the invoice line's figures and what earlier parts took.
func (s *Store) picks(ctx context.Context, db dbtx, inv *core.Invoice, asked []core.ShipmentLine, kind string) ([]pick, error) {
	left, billed, err := s.remaining(ctx, db, inv)
	if err != nil {
		return nil, err
	}
	fig, err := inv.Figures()
	if err != nil {
		return nil, fmt.Errorf("the invoice's figures: %w", err)
	}

	lines := append([]core.DocumentLine{}, inv.Lines...)
	totals := append([]core.LineTotals{}, fig.Lines...)
	if inv.ShippingAmount.IsPositive() {
		sh := fig.Shipping
		amount := sh.Amount
		price := core.NewMoney(amount)
		lines = append(lines, core.DocumentLine{ID: core.ShippingLineID, Name: s.closing.ShippingLineName, Kind: core.KindService,
			Quantity: core.Quantity{Decimal: decimal.NewFromInt(1)}, Unit: "усл. ед.", UnitCode: "876", Price: &price,
			VATRate: string(sh.VATRate)})
		totals = append(totals, core.LineTotals{VATRate: sh.VATRate, Amount: amount, Final: amount, Net: sh.Net, VAT: sh.VAT, Total: sh.Total})
	}

	closes := func(j int) bool {
		if lines[j].ID == core.ShippingLineID {
			return s.closing.ShippingClosedBy == kind
		}
		by := lines[j].ClosedBy()
		return by == "" || by == kind
	}

	var picks []pick
	add := func(j int, q decimal.Decimal) {
		picks = append(picks, pick{line: lines[j], totals: totals[j], qty: q, before: billed[lines[j].ID]})
	}
	if len(asked) == 0 {
		for j := range lines {
			if closes(j) && left[j].Remaining.IsPositive() {
				add(j, left[j].Remaining.Decimal)
			}
		}
		if len(picks) == 0 {
			what := map[string]string{core.EntityAct: "service", core.EntityRealization: "goods"}[kind]
			return nil, core.Invalid([]core.FieldError{{Field: "lines", Code: "nothing_left",
				Message: fmt.Sprintf("no %s lines are left to bill on the invoice", what)}})
		}
		return picks, nil
	}

	var errs []core.FieldError
	for i, sl := range asked {
		p := fmt.Sprintf("lines[%d].", i)
		j := slices.IndexFunc(lines, func(l core.DocumentLine) bool { return l.ID == sl.LineID })
		switch {
		case j < 0:
			errs = append(errs, core.FieldError{Field: p + "line_id", Code: "not_found", Message: "is not a line of the invoice"})
			continue
		case !closes(j):
			errs = append(errs, core.FieldError{Field: p + "line_id", Code: "wrong_kind", Message: wrongKind(lines[j], kind)})
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
		add(j, q)
	}
	return picks, core.Invalid(errs)
}

func wrongKind(l core.DocumentLine, kind string) string {
	if l.ID == core.ShippingLineID {
		return "the shipping is billed by the other kind of closing document (documents.shipping_closed_by)"
	}
	if kind == core.EntityAct {
		return "a goods line goes to a realization"
	}
	return "a service line goes to an act"
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
	rec.ActIDs = nonNil(rec.ActIDs)
	rec.RealizationIDs = nonNil(rec.RealizationIDs)
	return s.tables.invoice.rewrite(ctx, s, tx, old, &rec, core.OpUpdated, func() {})
}
