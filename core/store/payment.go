package store

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

var _ core.PaymentService = payments{}

func (s *Store) newPaymentTable() *table[core.Payment, *core.Payment] {
	return (&table[core.Payment, *core.Payment]{
		entity: core.EntityPayment, name: "payments", schema: core.PaymentSchema,
		cols: func(p *core.Payment) []col {
			return []col{{"number", &p.Number}, {"date", &p.Date}, {"direction", &p.Direction}, {"status", &p.Status},
				{"account_id", &p.AccountID}, {"contact_id", &p.ContactID}, {"invoice_id", &p.InvoiceID},
				{"sales_order_id", &p.SalesOrderID}, {"purchase_order_id", &p.PurchaseOrderID}, {"amount", &p.Amount},
				{"currency", &p.Currency}, {"method", &p.Method}, {"reference", &p.Reference},
				{"description", &p.Description}}
		},
		defaults: func(p *core.Payment) {
			p.Date, p.Status, p.Direction = core.NewDate(s.now()), core.PaymentExecuted, core.PaymentIncoming
		},
		validate: (*core.Payment).Validate,
		prepare: func(ctx context.Context, db dbtx, old, p *core.Payment) error {
			for _, l := range []struct {
				table, field string
				id           *string
			}{{"accounts", "account_id", p.AccountID}, {"contacts", "contact_id", p.ContactID}, {"invoices", "invoice_id", p.InvoiceID},
				{"sales_orders", "sales_order_id", p.SalesOrderID}, {"purchase_orders", "purchase_order_id", p.PurchaseOrderID}} {
				if err := mustExist(ctx, db, l.table, l.field, l.id); err != nil {
					return err
				}
			}
			table, field, doc := "invoices", "invoice_id", p.InvoiceID
			if p.SalesOrderID != nil {
				table, field, doc = "sales_orders", "sales_order_id", p.SalesOrderID
			} else if p.PurchaseOrderID != nil {
				table, field, doc = "purchase_orders", "purchase_order_id", p.PurchaseOrderID
			}
			if doc != nil {
				var currency, status string
				var account *string
				if err := db.QueryRow(ctx, `SELECT currency, status, account_id::text FROM `+table+` WHERE id = $1`, *doc).
					Scan(&currency, &status, &account); err != nil {
					return err
				}
				var errs []core.FieldError
				if p.Currency == "" {
					p.Currency = currency
				} else if p.Currency != currency {
					errs = append(errs, core.FieldError{Field: "currency", Code: "currency_mismatch", Message: "the document is in " + currency})
				}
				if status == "cancelled" && old == nil {
					errs = append(errs, core.FieldError{Field: field, Code: "cancelled", Message: "the document is cancelled"})
				}
				if p.AccountID == nil {
					p.AccountID = account
				}
				if err := core.Invalid(errs); err != nil {
					return err
				}
			}
			if p.Currency == "" {
				p.Currency = "RUB"
			}
			if old == nil {
				year := p.Date.Year()
				var seq int
				if err := db.QueryRow(ctx, `INSERT INTO document_numbers (kind, year, seq) VALUES ($1, $2, 1)
					ON CONFLICT (kind, year) DO UPDATE SET seq = document_numbers.seq + 1 RETURNING seq`,
					core.EntityPayment, year).Scan(&seq); err != nil {
					return err
				}
				p.Number = s.numbering[core.EntityPayment].Format(year, seq)
			}
			return nil
		},
		sorts: commonSorts(map[string]func(*core.Payment) string{"number": func(p *core.Payment) string { return p.Number }}),
	}).init()
}

type payments struct {
	repo[core.Payment, *core.Payment]
}

// Payments returns the payment repository.
func (s *Store) Payments() core.PaymentService {
	return payments{repo[core.Payment, *core.Payment]{s: s, t: s.tables.payment}}
}

// Create implements core.PaymentService: the payment (numbered in its
// transaction) and its invoice's new balance commit together.
func (r payments) Create(ctx context.Context, patch core.Patch) (*core.Payment, error) {
	var out *core.Payment
	err := r.s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if out, err = r.t.createWith(ctx, r.s, patch, writeOpts{tx: tx}); err != nil {
			return err
		}
		return r.s.refreshPaid(ctx, tx, out)
	})
	return out, wrap("create payment", err)
}

// Update implements core.PaymentService.
func (r payments) Update(ctx context.Context, id string, ifVersion int64, patch core.Patch) (*core.Payment, error) {
	var out *core.Payment
	err := r.s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := r.t.get(ctx, tx, id, "")
		if err != nil {
			return err
		}
		if out, err = r.t.updateWith(ctx, r.s, id, ifVersion, patch, writeOpts{tx: tx}); err != nil {
			return err
		}
		return r.s.refreshPaid(ctx, tx, old, out)
	})
	return out, wrap("update payment", err)
}

// Delete implements core.PaymentService.
func (r payments) Delete(ctx context.Context, id string, ifVersion int64) error {
	return r.s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := r.t.get(ctx, tx, id, "")
		if err != nil {
			return err
		}
		if err := r.t.deleteWith(ctx, r.s, id, ifVersion, writeOpts{tx: tx}); err != nil {
			return err
		}
		return r.s.refreshPaid(ctx, tx, old)
	})
}

// List implements core.PaymentService.
func (r payments) List(ctx context.Context, f core.PaymentFilter) (core.Page[core.Payment], error) {
	q := &query{}
	if f.Direction != "" {
		q.where("direction = " + q.arg(f.Direction))
	}
	if len(f.Statuses) > 0 {
		q.where("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	for col, v := range map[string]string{"account_id": f.AccountID, "invoice_id": f.InvoiceID} {
		if v != "" {
			q.where(col + " = " + q.arg(v))
		}
	}
	if !f.DateFrom.IsZero() {
		q.where("date >= " + q.arg(f.DateFrom))
	}
	if !f.DateTo.IsZero() {
		q.where("date <= " + q.arg(f.DateTo))
	}
	if f.Query != "" {
		q.anyLike(f.Query, "number", "reference", "description")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}

// refreshPaid refreshes what the documents the payments (before and after
// a change) pay add up to: each document once.
func (s *Store) refreshPaid(ctx context.Context, tx pgx.Tx, ps ...*core.Payment) error {
	seen := map[string]bool{}
	for _, p := range ps {
		for _, d := range []struct {
			id      *string
			refresh func(context.Context, pgx.Tx, string) error
		}{{p.InvoiceID, func(ctx context.Context, tx pgx.Tx, id string) error { return s.refreshInvoice(ctx, tx, &id) }},
			{p.SalesOrderID, s.refreshSalesOrder}, {p.PurchaseOrderID, s.refreshPurchaseOrder}} {
			if d.id == nil || seen[*d.id] {
				continue
			}
			seen[*d.id] = true
			if err := d.refresh(ctx, tx, *d.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// paidOn sums the executed payments of a document in a direction.
func paidOn(ctx context.Context, tx pgx.Tx, column, id, direction string) (decimal.Decimal, error) {
	var paid decimal.Decimal
	err := tx.QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM payments WHERE `+column+` = $1 AND direction = $2
		AND status = 'executed' AND deleted_at IS NULL`, id, direction).Scan(&paid)
	return paid, err
}

// refreshSalesOrder recomputes a sales order's prepayments and balance.
func (s *Store) refreshSalesOrder(ctx context.Context, tx pgx.Tx, id string) error {
	return refreshOrder(ctx, s, tx, s.tables.salesOrder, id, "sales_order_id", core.PaymentIncoming,
		func(o *core.SalesOrder) (*core.Money, *core.Money, core.Money) {
			return &o.AmountPaid, &o.Balance, o.GrandTotal
		})
}

// refreshPurchaseOrder recomputes what we paid the vendor and what is left.
func (s *Store) refreshPurchaseOrder(ctx context.Context, tx pgx.Tx, id string) error {
	return refreshOrder(ctx, s, tx, s.tables.purchaseOrder, id, "purchase_order_id", core.PaymentOutgoing,
		func(o *core.PurchaseOrder) (*core.Money, *core.Money, core.Money) {
			return &o.AmountPaid, &o.Balance, o.GrandTotal
		})
}

// refreshOrder sets an order's amount paid (its executed payments in
// direction) and balance, with its change event when they moved.
func refreshOrder[E any, P recordPtr[E]](ctx context.Context, s *Store, tx pgx.Tx, t *table[E, P], id, column, direction string,
	money func(P) (paid, balance *core.Money, total core.Money)) error {
	old, err := t.get(ctx, tx, id, "FOR UPDATE")
	if err != nil {
		return err
	}
	paid, err := paidOn(ctx, tx, column, id, direction)
	if err != nil {
		return err
	}
	rec := P(new(E))
	*rec = *old
	p, bal, total := money(rec)
	if *p, *bal, err = core.PaidBalance(total.Decimal, paid); err != nil {
		return err
	}
	return t.rewrite(ctx, s, tx, old, rec, core.OpUpdated, func() {})
}

// invoiceOpen are the statuses a full payment moves to paid.
var invoiceOpen = []string{"autocreated", "created", "approved", "sent", "overdue"}

// refreshInvoice recomputes what an invoice's executed incoming payments
// add up to, its balance and the overpayment flag; a fully paid open
// invoice becomes paid (when the hub is so configured) and a paid one
// that no longer is goes back to sent. Nothing is written when nothing
// changed.
func (s *Store) refreshInvoice(ctx context.Context, tx pgx.Tx, id *string) error {
	if id == nil {
		return nil
	}
	old, err := s.tables.invoice.get(ctx, tx, *id, "FOR UPDATE")
	if err != nil {
		return err
	}
	paid, err := paidOn(ctx, tx, "invoice_id", *id, core.PaymentIncoming)
	if err != nil {
		return err
	}
	rec := *old
	if rec.AmountPaid, rec.Balance, err = core.PaidBalance(rec.GrandTotal.Decimal, paid); err != nil {
		return err
	}
	rec.Overpaid = paid.GreaterThan(rec.GrandTotal.Decimal)
	full := !rec.Balance.IsPositive() && rec.GrandTotal.IsPositive()
	switch {
	case full && s.paidOnFull && slices.Contains(invoiceOpen, rec.Status):
		rec.Status = "paid"
	case !full && rec.Status == "paid":
		rec.Status = "sent"
	}
	return s.tables.invoice.rewrite(ctx, s, tx, old, &rec, core.OpUpdated, func() {})
}

// SetPaidOnFullPayment sets whether a fully paid invoice becomes paid by
// itself (from config; default on).
func (s *Store) SetPaidOnFullPayment(on bool) { s.paidOnFull = on }
