package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

var (
	_ core.QuoteService   = quotes{}
	_ core.InvoiceService = invoices{}
)

// SetOrganization sets our requisites (from config), which documents
// freeze when they are issued.
func (s *Store) SetOrganization(o core.Organization) { s.organization = o }

// SetClosingRules sets how closing documents bill shipping (from config).
func (s *Store) SetClosingRules(r core.ClosingRules) { s.closing = r }

// SetNumbering sets the number formats of document kinds (from config);
// kinds left out keep core.DefaultNumbering.
func (s *Store) SetNumbering(n map[string]core.NumberFormat) {
	for k, f := range n {
		s.numbering[k] = f
	}
}

// documentCols are the columns every kind of sales document shares.
func documentCols(b *core.DocumentBody) []col {
	return []col{{"number", &b.Number}, {"date", &b.Date}, {"status", &b.Status}, {"subject", &b.Subject},
		{"account_id", &b.AccountID}, {"contact_id", &b.ContactID}, {"deal_id", &b.DealID}, {"currency", &b.Currency},
		{"price_book_id", &b.PriceBookID}, {"tax_mode", &b.TaxMode}, {"lines", &b.Lines},
		{"discount_percent", &b.DiscountPercent}, {"discount_amount", &b.DiscountAmount},
		{"shipping_amount", &b.ShippingAmount}, {"shipping_vat_rate", &b.ShippingVATRate},
		{"adjustment", &b.Adjustment}, {"terms", &b.Terms}, {"description", &b.Description},
		{"subtotal", &b.Subtotal}, {"discount_total", &b.DiscountTotal}, {"vat_total", &b.VATTotal},
		{"grand_total", &b.GrandTotal}, {"vat_by_rate", &b.VATByRate}, {"net_total", &b.NetTotal},
		{"totals_rule", &b.TotalsRule}, {"conversion_rate", &b.ConversionRate}, {"requisites", &b.Requisites}}
}

// docTable describes a kind of sales document for newDocumentTable.
type docTable[E any, P recordPtr[E]] struct {
	kind, name string
	schema     func() *core.Schema[E]
	body       func(P) *core.DocumentBody
	// cols are the kind's own columns, after the shared ones.
	cols func(P) []col
	// after, when set, completes the kind's own checks and fields after
	// the shared ones.
	after func(ctx context.Context, db dbtx, old, rec P) error
}

// newDocumentTable builds the table of a document kind: the shared
// columns and rules of sales documents plus the kind's own.
func newDocumentTable[E any, P recordPtr[E]](s *Store, d docTable[E, P]) *table[E, P] {
	return (&table[E, P]{
		entity: d.kind, name: d.name, schema: d.schema,
		cols:     func(r P) []col { return append(documentCols(d.body(r)), d.cols(r)...) },
		defaults: func(r P) { *d.body(r) = core.NewDocumentBody(s.now(), "created") },
		validate: func(P) error { return nil },
		prepare: func(ctx context.Context, db dbtx, old, r P) error {
			var ob *core.DocumentBody
			if old != nil {
				ob = d.body(old)
			}
			if err := s.prepareDocument(ctx, db, d.kind, ob, d.body(r), old == nil); err != nil {
				return err
			}
			if d.after != nil {
				return d.after(ctx, db, old, r)
			}
			return nil
		},
		sorts: documentSorts(d.body),
	}).init()
}

func (s *Store) newQuoteTable() *table[core.Quote, *core.Quote] {
	return newDocumentTable(s, docTable[core.Quote, *core.Quote]{kind: core.EntityQuote, name: "quotes", schema: core.QuoteSchema,
		body: func(q *core.Quote) *core.DocumentBody { return &q.DocumentBody },
		cols: func(q *core.Quote) []col { return []col{{"valid_until", &q.ValidUntil}} }})
}

func (s *Store) newInvoiceTable() *table[core.Invoice, *core.Invoice] {
	return newDocumentTable(s, docTable[core.Invoice, *core.Invoice]{kind: core.EntityInvoice, name: "invoices",
		schema: core.InvoiceSchema,
		body:   func(i *core.Invoice) *core.DocumentBody { return &i.DocumentBody },
		cols: func(i *core.Invoice) []col {
			return []col{{"due_date", &i.DueDate}, {"quote_id", &i.QuoteID}, {"amount_paid", &i.AmountPaid},
				{"balance", &i.Balance}, {"overpaid", &i.Overpaid},
				{"act_ids", computed{&i.ActIDs, func() any { return nonNil(i.ActIDs) }}},
				{"realization_ids", computed{&i.RealizationIDs, func() any { return nonNil(i.RealizationIDs) }}}}
		},
		after: func(ctx context.Context, db dbtx, old, i *core.Invoice) error {
			i.ActIDs, i.RealizationIDs = nonNil(i.ActIDs), nonNil(i.RealizationIDs)
			i.Balance = core.NewMoney(i.GrandTotal.Sub(i.AmountPaid.Decimal))
			i.Overpaid = i.AmountPaid.GreaterThan(i.GrandTotal.Decimal)
			if old != nil && old.Status != "cancelled" && i.Status == "cancelled" {
				return s.cancelShipments(ctx, db, i.ID)
			}
			return nil
		}})
}

func (s *Store) newSalesOrderTable() *table[core.SalesOrder, *core.SalesOrder] {
	return newDocumentTable(s, docTable[core.SalesOrder, *core.SalesOrder]{kind: core.EntitySalesOrder, name: "sales_orders",
		schema: core.SalesOrderSchema,
		body:   func(o *core.SalesOrder) *core.DocumentBody { return &o.DocumentBody },
		cols: func(o *core.SalesOrder) []col {
			return []col{{"due_date", &o.DueDate}, {"quote_id", &o.QuoteID}, {"amount_paid", &o.AmountPaid}, {"balance", &o.Balance}}
		},
		after: func(_ context.Context, _ dbtx, _, o *core.SalesOrder) error {
			o.Balance = core.NewMoney(o.GrandTotal.Sub(o.AmountPaid.Decimal))
			return nil
		}})
}

func (s *Store) newPurchaseOrderTable() *table[core.PurchaseOrder, *core.PurchaseOrder] {
	return newDocumentTable(s, docTable[core.PurchaseOrder, *core.PurchaseOrder]{kind: core.EntityPurchaseOrder,
		name: "purchase_orders", schema: core.PurchaseOrderSchema,
		body: func(o *core.PurchaseOrder) *core.DocumentBody { return &o.DocumentBody },
		cols: func(o *core.PurchaseOrder) []col {
			return []col{{"due_date", &o.DueDate}, {"amount_paid", &o.AmountPaid}, {"balance", &o.Balance}}
		},
		after: func(_ context.Context, _ dbtx, _, o *core.PurchaseOrder) error {
			o.Balance = core.NewMoney(o.GrandTotal.Sub(o.AmountPaid.Decimal))
			if o.AccountID == nil {
				return core.Invalid([]core.FieldError{{Field: "account_id", Code: "required", Message: "the vendor is required"}})
			}
			return nil
		}})
}

func (s *Store) newActTable() *table[core.Act, *core.Act] {
	return newDocumentTable(s, docTable[core.Act, *core.Act]{kind: core.EntityAct, name: "acts", schema: core.ActSchema,
		body: func(a *core.Act) *core.DocumentBody { return &a.DocumentBody },
		cols: func(a *core.Act) []col {
			return []col{{"invoice_id", &a.InvoiceID}, {"schet_faktura_number", &a.SchetFakturaNumber}}
		},
		after: func(ctx context.Context, db dbtx, old, a *core.Act) error {
			if err := s.schetFakturaNumber(ctx, db, old == nil, &a.SchetFakturaNumber, a.Date.Year()); err != nil {
				return err
			}
			return keepBilledLines(old != nil && old.InvoiceID != nil, oldBody(old), &a.DocumentBody)
		}})
}

func (s *Store) newRealizationTable() *table[core.Realization, *core.Realization] {
	return newDocumentTable(s, docTable[core.Realization, *core.Realization]{kind: core.EntityRealization, name: "realizations",
		schema: core.RealizationSchema,
		body:   func(r *core.Realization) *core.DocumentBody { return &r.DocumentBody },
		cols: func(r *core.Realization) []col {
			return []col{{"invoice_id", &r.InvoiceID}, {"schet_faktura_number", &r.SchetFakturaNumber}}
		},
		after: func(ctx context.Context, db dbtx, old, r *core.Realization) error {
			if err := s.schetFakturaNumber(ctx, db, old == nil, &r.SchetFakturaNumber, r.Date.Year()); err != nil {
				return err
			}
			var ob *core.DocumentBody
			if old != nil {
				ob = &old.DocumentBody
			}
			if err := keepBilledLines(old != nil && old.InvoiceID != nil, ob, &r.DocumentBody); err != nil {
				return err
			}
			return s.moveStock(ctx, db, old, r)
		}})
}

// schetFakturaNumber gives a new act or realization the next number of
// the счёт-фактура sequence (its счёт-фактура and status-1 УПД print it).
func (s *Store) schetFakturaNumber(ctx context.Context, db dbtx, creating bool, n *string, year int) error {
	if !creating {
		return nil
	}
	var err error
	*n, err = s.nextNumber(ctx, db, core.NumberingSchetFaktura, year)
	return err
}

func oldBody(a *core.Act) *core.DocumentBody {
	if a == nil {
		return nil
	}
	return &a.DocumentBody
}

// keepBilledLines refuses new lines on a document made from an invoice:
// its lines say which invoice lines they bill.
func keepBilledLines(fromInvoice bool, old, b *core.DocumentBody) error {
	if fromInvoice && linesChanged(old, b) {
		return core.Errorf(core.ECONFLICT, "the lines come from the invoice: cancel this document and make a new one")
	}
	return nil
}

func documentSorts[E any, P recordPtr[E]](body func(P) *core.DocumentBody) map[string]func(P) string {
	return commonSorts(map[string]func(P) string{"number": func(d P) string { return body(d).Number }})
}

// prepareDocument completes and checks a document before it is written:
// links that must exist, lines filled from the catalog and the price book,
// the totals, the rule that an issued document keeps its lines and
// amounts, and, for a new one, its number.
func (s *Store) prepareDocument(ctx context.Context, db dbtx, kind string, old, b *core.DocumentBody, creating bool) error {
	if old != nil {
		if old.Status == "cancelled" && b.Status != "cancelled" {
			return core.Errorf(core.ECONFLICT, "the %s is cancelled: issue a new one", kind)
		}
		if !core.IsDraft(kind, old.Status) {
			changed, err := core.ChangedFields(old, b)
			if err != nil {
				return err
			}
			for _, f := range changed {
				if slices.Contains(core.FrozenFields(), f) {
					return core.Errorf(core.ECONFLICT, "the %s is issued (%s): %s cannot change; cancel it and issue a new one",
						kind, old.Status, f)
				}
			}
		}
	}
	for _, l := range []struct {
		table, field string
		id           *string
	}{{"accounts", "account_id", b.AccountID}, {"contacts", "contact_id", b.ContactID}, {"deals", "deal_id", b.DealID},
		{"price_books", "price_book_id", b.PriceBookID}} {
		if err := mustExist(ctx, db, l.table, l.field, l.id); err != nil {
			return err
		}
	}
	if err := conversionRate(ctx, db, old, b); err != nil {
		return err
	}
	if err := s.freezeRequisites(ctx, db, kind, old, b); err != nil {
		return err
	}
	if old == nil || !core.IsDraft(kind, old.Status) || linesChanged(old, b) || old.PriceBookID != b.PriceBookID {
		if err := s.fillLines(ctx, db, b); err != nil {
			return err
		}
	}
	if keepsFigures(kind, old, b) {
		return nil
	}
	if err := b.Compute(); err != nil {
		return err
	}
	if creating {
		return s.allocateNumber(ctx, db, kind, b)
	}
	return nil
}

// conversionRate fills a document's rate to roubles: 1 for RUB; for
// another currency, when none is given (or the currency or date changed
// and the old rate came along), the Bank of Russia's rate in force on the
// document's date.
func conversionRate(ctx context.Context, db dbtx, old, b *core.DocumentBody) error {
	if b.Currency == core.BaseCurrency {
		b.ConversionRate = decimal.NewFromInt(1)
		return nil
	}
	moved := old != nil && (old.Currency != b.Currency || !old.Date.Equal(b.Date.Time)) && old.ConversionRate.Equal(b.ConversionRate)
	if !b.ConversionRate.IsZero() && !moved {
		return nil
	}
	var nominal int
	var rate decimal.Decimal
	err := db.QueryRow(ctx, `SELECT nominal, rate FROM currency_rates WHERE currency = $1 AND date <= $2 ORDER BY date DESC LIMIT 1`,
		b.Currency, b.Date.Time).Scan(&nominal, &rate)
	if errors.Is(err, pgx.ErrNoRows) {
		return core.Invalid([]core.FieldError{{Field: "conversion_rate", Code: "no_rate", Message: fmt.Sprintf(
			"no Bank of Russia rate for %s on or before %s: give conversion_rate, or import the rates (crmhub rates import)",
			b.Currency, b.Date.Format("2006-01-02"))}})
	}
	if err != nil {
		return err
	}
	b.ConversionRate = core.CurrencyRate{Nominal: nominal, Rate: rate}.PerUnit()
	return nil
}

// freezeRequisites keeps a document's parties as they are when it leaves
// draft (created issued, or a draft issued); a draft has none.
func (s *Store) freezeRequisites(ctx context.Context, db dbtx, kind string, old, b *core.DocumentBody) error {
	if core.IsDraft(kind, b.Status) {
		b.Requisites = nil
		return nil
	}
	if old != nil && !core.IsDraft(kind, old.Status) {
		b.Requisites = old.Requisites
		return nil
	}
	var buyer *core.Account
	if b.AccountID != nil {
		a, err := s.tables.account.get(ctx, db, *b.AccountID, "")
		if err != nil && core.ErrorCode(err) != core.ENOTFOUND {
			return err
		}
		buyer = a
	}
	b.Requisites = core.FreezeRequisites(s.organization, buyer, s.now())
	return nil
}

// keepsFigures reports whether an issued document computed by vtiger's
// rule keeps its figures: it is a legal document, and nothing that its
// figures come from can change once issued.
func keepsFigures(kind string, old, b *core.DocumentBody) bool {
	return old != nil && old.TotalsRule == core.TotalsVtiger && !core.IsDraft(kind, old.Status) && !linesChanged(old, b)
}

func linesChanged(old, b *core.DocumentBody) bool {
	x, _ := json.Marshal(old.Lines)
	y, _ := json.Marshal(b.Lines)
	return string(x) != string(y)
}

// fillLines completes lines from the catalog: a product's or service's
// name, unit, ОКЕИ code and VAT rate when the line leaves them empty, and
// its price from the document's price book, else the catalog's, when the
// line gives none. Each line gets an id.
func (s *Store) fillLines(ctx context.Context, db dbtx, b *core.DocumentBody) error {
	var productIDs, serviceIDs []string
	for _, l := range b.Lines {
		if l.ProductID != nil {
			productIDs = append(productIDs, *l.ProductID)
		}
		if l.ServiceID != nil {
			serviceIDs = append(serviceIDs, *l.ServiceID)
		}
	}
	type item struct {
		name, unit, unitCode, vat, currency string
		price                               *core.Money
		active                              bool
	}
	items := map[string]item{}
	load := func(table string, ids []string) error {
		if len(ids) == 0 {
			return nil
		}
		rows, err := db.Query(ctx, `SELECT id::text, name, unit, unit_code, vat_rate, price, currency, active FROM `+table+`
			WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var it item
			if err := rows.Scan(&id, &it.name, &it.unit, &it.unitCode, &it.vat, &it.price, &it.currency, &it.active); err != nil {
				return err
			}
			items[id] = it
		}
		return rows.Err()
	}
	if err := load("products", productIDs); err != nil {
		return err
	}
	if err := load("services", serviceIDs); err != nil {
		return err
	}
	bookPrices := map[string]core.Money{}
	if b.PriceBookID != nil {
		var currency string
		if err := db.QueryRow(ctx, `SELECT currency FROM price_books WHERE id = $1`, *b.PriceBookID).Scan(&currency); err != nil {
			return err
		}
		if currency != b.Currency {
			return core.Invalid([]core.FieldError{{Field: "price_book_id", Code: "currency_mismatch",
				Message: fmt.Sprintf("the price book is in %s, the document in %s", currency, b.Currency)}})
		}
		rows, err := db.Query(ctx, `SELECT item_id::text, price FROM prices WHERE price_book_id = $1 AND item_id = ANY($2::uuid[])`,
			*b.PriceBookID, append(productIDs, serviceIDs...))
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var p core.Money
			if err := rows.Scan(&id, &p); err != nil {
				rows.Close()
				return err
			}
			bookPrices[id] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	var errs []core.FieldError
	seen := map[string]bool{}
	for i := range b.Lines {
		l := &b.Lines[i]
		if l.ID == "" || seen[l.ID] {
			l.ID = uuid.Must(uuid.NewV7()).String()
		}
		seen[l.ID] = true
		p := fmt.Sprintf("lines[%d].", i)
		id, field := "", ""
		switch {
		case l.ProductID != nil:
			id, field = *l.ProductID, "product_id"
		case l.ServiceID != nil:
			id, field = *l.ServiceID, "service_id"
		}
		if id != "" {
			it, ok := items[id]
			if !ok {
				errs = append(errs, core.FieldError{Field: p + field, Code: "not_found", Message: "refers to a record that does not exist"})
				continue
			}
			l.Kind = core.KindService
			if field == "product_id" {
				l.Kind = core.KindGoods
			}
			if l.Name == "" {
				l.Name = it.name
			}
			if l.Unit == "" {
				l.Unit = it.unit
			}
			if l.UnitCode == "" {
				l.UnitCode = it.unitCode
			}
			if l.VATRate == "" {
				l.VATRate = it.vat
			}
			if l.Price == nil {
				if bp, ok := bookPrices[id]; ok {
					l.Price = &bp
				} else if it.price != nil && it.currency == b.Currency {
					l.Price = it.price
				}
			}
		}
		if l.Price == nil {
			errs = append(errs, core.FieldError{Field: p + "price", Code: "required",
				Message: "no price: give one, or choose a price book (or catalog item) with a price in " + b.Currency})
		}
	}
	return core.Invalid(errs)
}

// allocateNumber gives a new document the next number of its kind and
// year. The counter row is locked until the transaction ends, so numbers
// are unique and, since a rolled-back creation rolls the counter back too,
// gapless.
func (s *Store) allocateNumber(ctx context.Context, db dbtx, kind string, b *core.DocumentBody) error {
	n, err := s.nextNumber(ctx, db, kind, b.Date.Year())
	b.Number = n
	return err
}

// nextNumber takes the next number of a sequence (a document kind, or the
// счёт-фактура's) in the year, in the caller's transaction.
func (s *Store) nextNumber(ctx context.Context, db dbtx, kind string, year int) (string, error) {
	if _, inTx := db.(pgx.Tx); !inTx {
		return "", fmt.Errorf("number %s: needs the creation's transaction", kind)
	}
	var seq int
	if err := db.QueryRow(ctx, `INSERT INTO document_numbers (kind, year, seq) VALUES ($1, $2, 1)
		ON CONFLICT (kind, year) DO UPDATE SET seq = document_numbers.seq + 1 RETURNING seq`, kind, year).Scan(&seq); err != nil {
		return "", err
	}
	return s.numbering[kind].Format(year, seq), nil
}

// docRepo is a document kind's repository: the record's, with creations
// in a transaction of their own (the number is allocated in it) and the
// document filters.
type docRepo[E any, P recordPtr[E]] struct{ repo[E, P] }

// Create creates a document in a transaction of its own.
func (r docRepo[E, P]) Create(ctx context.Context, patch core.Patch) (*E, error) {
	return createInTx(ctx, r.s, r.t, patch)
}

// List lists documents.
func (r docRepo[E, P]) List(ctx context.Context, f core.DocumentFilter) (core.Page[E], error) {
	return r.t.list(ctx, r.s, documentQuery(f), f.ListParams)
}

func newDocRepo[E any, P recordPtr[E]](s *Store, t *table[E, P]) docRepo[E, P] {
	return docRepo[E, P]{repo[E, P]{s: s, t: t}}
}

type quotes struct {
	docRepo[core.Quote, *core.Quote]
}
type salesOrders struct {
	docRepo[core.SalesOrder, *core.SalesOrder]
}
type purchaseOrders struct {
	docRepo[core.PurchaseOrder, *core.PurchaseOrder]
}

// SalesOrders returns the sales order repository.
func (s *Store) SalesOrders() core.SalesOrderService {
	return salesOrders{newDocRepo(s, s.tables.salesOrder)}
}

// PurchaseOrders returns the purchase order repository.
func (s *Store) PurchaseOrders() core.PurchaseOrderService {
	return purchaseOrders{newDocRepo(s, s.tables.purchaseOrder)}
}

type invoices struct {
	docRepo[core.Invoice, *core.Invoice]
}

// Quotes returns the quote repository.
func (s *Store) Quotes() core.QuoteService {
	return quotes{newDocRepo(s, s.tables.quote)}
}

// Invoices returns the invoice repository.
func (s *Store) Invoices() core.InvoiceService {
	return invoices{newDocRepo(s, s.tables.invoice)}
}

// createInTx creates a document in a transaction of its own (its number is
// allocated in it).
func createInTx[E any, P recordPtr[E]](ctx context.Context, s *Store, t *table[E, P], patch core.Patch, fill ...func(P)) (*E, error) {
	var out *E
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = t.createWith(ctx, s, patch, writeOpts{tx: tx}, fill...)
		return err
	})
	return out, err
}

func documentQuery(f core.DocumentFilter) *query {
	q := &query{}
	if len(f.Statuses) > 0 {
		q.where("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	for col, v := range map[string]string{"account_id": f.AccountID, "contact_id": f.ContactID, "deal_id": f.DealID, "number": f.Number} {
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
		q.anyLike(f.Query, "number", "subject")
	}
	return q
}

// Delete implements core.QuoteService: a quote invoices were made from
// stays.
func (r quotes) Delete(ctx context.Context, id string, ifVersion int64) error {
	var n int
	if _, err := uuid.Parse(id); err == nil {
		if err := r.s.db(ctx).QueryRow(ctx, `SELECT (SELECT count(*) FROM invoices WHERE quote_id = $1 AND deleted_at IS NULL) +
			(SELECT count(*) FROM sales_orders WHERE quote_id = $1 AND deleted_at IS NULL)`, id).Scan(&n); err != nil {
			return err
		}
	}
	if n > 0 {
		return core.Errorf(core.ECONFLICT, "the quote has %d invoice(s) or order(s) made from it: delete or keep them first", n)
	}
	return r.t.delete(ctx, r.s, id, ifVersion)
}

// ToInvoice implements core.QuoteService: a quote that already has an
// invoice gets another only when the patch says {"again": true}.
func (r quotes) ToInvoice(ctx context.Context, quoteID string, patch core.Patch) (*core.Invoice, error) {
	again := false
	if raw, ok := patch["again"]; ok {
		if err := json.Unmarshal(raw, &again); err != nil {
			return nil, core.Invalid([]core.FieldError{{Field: "again", Code: "invalid_type", Message: "must be true or false"}})
		}
		patch = maps.Clone(patch)
		delete(patch, "again")
	}
	var out *core.Invoice
	err := r.fromQuote(ctx, quoteID, patch, func(ctx context.Context, tx pgx.Tx, q *core.Quote, p core.Patch) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE quote_id = $1 AND deleted_at IS NULL
			AND status <> 'cancelled'`, q.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 && !again {
			return core.Errorf(core.ECONFLICT, "the quote already has %d invoice(s): send {\"again\": true} to make another", n)
		}
		var err error
		out, err = r.s.tables.invoice.createWith(ctx, r.s, p, writeOpts{tx: tx}, func(i *core.Invoice) { i.QuoteID = &q.ID })
		return err
	})
	return out, wrap("quote to invoice", err)
}

// ToSalesOrder implements core.QuoteService.
func (r quotes) ToSalesOrder(ctx context.Context, quoteID string, patch core.Patch) (*core.SalesOrder, error) {
	var out *core.SalesOrder
	err := r.fromQuote(ctx, quoteID, patch, func(ctx context.Context, tx pgx.Tx, q *core.Quote, p core.Patch) error {
		var err error
		out, err = r.s.tables.salesOrder.createWith(ctx, r.s, p, writeOpts{tx: tx}, func(o *core.SalesOrder) { o.QuoteID = &q.ID })
		return err
	})
	return out, wrap("quote to sales order", err)
}

// fromQuote makes a document of every field and line of a quote (not a
// rejected one) in one transaction, and the quote becomes accepted; patch
// sets the new document's own fields.
func (r quotes) fromQuote(ctx context.Context, quoteID string, patch core.Patch,
	create func(ctx context.Context, tx pgx.Tx, q *core.Quote, p core.Patch) error) error {
	return r.s.inTx(ctx, func(tx pgx.Tx) error {
		q, err := r.t.get(ctx, tx, quoteID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := r.t.authorize(ctx, r.s, tx, quoteID, core.ActView, nil); err != nil {
			return err
		}
		if q.Status == "rejected" {
			return core.Invalid([]core.FieldError{{Field: "quote_id", Code: "rejected", Message: "the quote was rejected"}})
		}
		for k := range patch {
			if slices.Contains(core.FrozenFields(), k) && k != "date" {
				return core.Invalid([]core.FieldError{{Field: k, Code: "copied", Message: "is copied from the quote"}})
			}
		}
		p := documentCopy(&q.DocumentBody)
		for k, v := range patch {
			p[k] = v
		}
		if err := create(ctx, tx, q, p); err != nil {
			return err
		}
		if q.Status == "accepted" {
			return nil
		}
		_, err = r.t.updateWith(ctx, r.s, q.ID, 0, core.PatchOf(map[string]any{"status": "accepted"}), writeOpts{tx: tx})
		return err
	})
}

// lineCopy is a line as entered (what a copy of it is made of).
func lineCopy(l *core.DocumentLine) map[string]any {
	m := map[string]any{"name": l.Name, "quantity": l.Quantity, "unit": l.Unit, "unit_code": l.UnitCode, "price": l.Price,
		"vat_rate": l.VATRate, "kind": l.Kind}
	if l.ProductID != nil {
		m["product_id"] = *l.ProductID
	}
	if l.ServiceID != nil {
		m["service_id"] = *l.ServiceID
	}
	if l.DiscountPercent != nil {
		m["discount_percent"] = l.DiscountPercent
	}
	if l.DiscountAmount != nil {
		m["discount_amount"] = l.DiscountAmount
	}
	return m
}

// documentCopy is the patch that makes a new document of the same
// account, lines and amounts (the lines as entered: prices and rates
// included, computed amounts left to the new document).
func documentCopy(b *core.DocumentBody) core.Patch {
	lines := make([]map[string]any, len(b.Lines))
	for i := range b.Lines {
		lines[i] = lineCopy(&b.Lines[i])
	}
	p := core.PatchOf(map[string]any{"subject": b.Subject, "currency": b.Currency, "tax_mode": b.TaxMode,
		"lines": lines, "shipping_amount": b.ShippingAmount, "shipping_vat_rate": b.ShippingVATRate,
		"adjustment": b.Adjustment, "terms": b.Terms})
	for k, v := range map[string]*string{"account_id": b.AccountID, "contact_id": b.ContactID, "deal_id": b.DealID,
		"price_book_id": b.PriceBookID} {
		if v != nil {
			p.Set(k, *v)
		}
	}
	if b.DiscountPercent != nil {
		p.Set("discount_percent", b.DiscountPercent)
	}
	if b.DiscountAmount != nil {
		p.Set("discount_amount", b.DiscountAmount)
	}
	return p
}

// refuseIfPaid refuses to delete a document payments refer to.
func (s *Store) refuseIfPaid(ctx context.Context, column, id, what string) error {
	var n int
	if _, err := uuid.Parse(id); err != nil {
		return nil
	}
	if err := s.db(ctx).QueryRow(ctx, `SELECT count(*) FROM payments WHERE `+column+` = $1 AND deleted_at IS NULL`, id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return core.Errorf(core.ECONFLICT, "the %s has %d payment(s): cancel it instead", what, n)
	}
	return nil
}

// Delete implements core.SalesOrderService: an order with payments stays.
func (r salesOrders) Delete(ctx context.Context, id string, ifVersion int64) error {
	if err := r.s.refuseIfPaid(ctx, "sales_order_id", id, "sales order"); err != nil {
		return wrap("delete sales order", err)
	}
	return r.t.delete(ctx, r.s, id, ifVersion)
}

// Delete implements core.PurchaseOrderService: an order with payments stays.
func (r purchaseOrders) Delete(ctx context.Context, id string, ifVersion int64) error {
	if err := r.s.refuseIfPaid(ctx, "purchase_order_id", id, "purchase order"); err != nil {
		return wrap("delete purchase order", err)
	}
	return r.t.delete(ctx, r.s, id, ifVersion)
}
