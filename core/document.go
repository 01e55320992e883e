package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Sales document kinds, as events, topics and numbering name them.
const (
	EntityQuote         = "quote"
	EntityInvoice       = "invoice"
	EntitySalesOrder    = "sales_order"    // заказ покупателя
	EntityPurchaseOrder = "purchase_order" // заказ поставщику
	EntityAct           = "act"            // акт об оказании услуг
	EntityRealization   = "realization"    // реализация (отгрузка товаров)
)

// QuoteStages are a quote's statuses (SalesPlatform's picklist); "created" is
// the draft.
func QuoteStages() *Picklist { return quoteStages() }

var quoteStages = sync.OnceValue(func() *Picklist {
	return NewPicklist("quote_stage",
		Choice{"created", "Создано", "Created"},
		Choice{"delivered", "Доставка", "Delivered"},
		Choice{"reviewed", "Просмотрено", "Reviewed"},
		Choice{"accepted", "Принято", "Accepted"},
		Choice{"rejected", "Отклонено", "Rejected"})
})

// InvoiceStatuses are an invoice's statuses (SalesPlatform's picklist);
// "autocreated" and "created" are drafts.
func InvoiceStatuses() *Picklist { return invoiceStatuses() }

var invoiceStatuses = sync.OnceValue(func() *Picklist {
	return NewPicklist("invoice_status",
		Choice{"autocreated", "Автосоздан", "AutoCreated"},
		Choice{"created", "Создан", "Created"},
		Choice{"approved", "Одобрен", "Approved"},
		Choice{"sent", "Отправлен", "Sent"},
		Choice{"overdue", "Просрочен", "Credit Invoice"},
		Choice{"paid", "Оплачен", "Paid"},
		Choice{"cancelled", "Отменен", "Cancel"})
})

// SalesOrderStatuses are a sales order's statuses; "created" is the draft.
func SalesOrderStatuses() *Picklist { return salesOrderStatuses() }

var salesOrderStatuses = sync.OnceValue(func() *Picklist {
	return NewPicklist("sales_order_status",
		Choice{"created", "Создано", "Created"},
		Choice{"approved", "Одобрено", "Approved"},
		Choice{"delivered", "Доставлено", "Delivered"},
		Choice{"cancelled", "Отменено", "Cancelled"})
})

// PurchaseOrderStatuses are a purchase order's statuses; "created" is the
// draft.
func PurchaseOrderStatuses() *Picklist { return purchaseOrderStatuses() }

var purchaseOrderStatuses = sync.OnceValue(func() *Picklist {
	return NewPicklist("purchase_order_status",
		Choice{"created", "Создано", "Created"},
		Choice{"approved", "Одобрено", "Approved"},
		Choice{"delivered", "Доставлено", "Delivered"},
		Choice{"cancelled", "Отменено", "Cancelled"},
		Choice{"received", "Получено с доставкой", "Received Shipment"})
})

// ActStatuses are an act's statuses; "created" is the draft.
func ActStatuses() *Picklist { return actStatuses() }

var actStatuses = sync.OnceValue(func() *Picklist {
	return NewPicklist("act_status",
		Choice{"created", "Создан", "Created"},
		Choice{"sent", "Отправлен", "Sent"},
		Choice{"done", "Выполнен", "Done"},
		Choice{"received", "Получен", "Received"},
		Choice{"cancelled", "Отменен", "Cancelled"})
})

// RealizationStatuses are a realization's statuses; "created" is the
// draft; a cancelled realization returns its goods to stock.
func RealizationStatuses() *Picklist { return realizationStatuses() }

var realizationStatuses = sync.OnceValue(func() *Picklist {
	return NewPicklist("realization_status",
		Choice{"created", "Создана", "Created"},
		Choice{"sent", "Отправлена", "Sent"},
		Choice{"cancelled", "Отменена", "Cancelled"})
})

// DocumentLine is a line of a sales document: a product, a service or
// free text, with its computed amounts.
type DocumentLine struct {
	ID              string    `json:"id"` // stable across updates when the client sends it back
	ProductID       *string   `json:"product_id"`
	ServiceID       *string   `json:"service_id"`
	Name            string    `json:"name"`
	Quantity        Quantity  `json:"quantity"`
	Unit            string    `json:"unit"`
	UnitCode        string    `json:"unit_code"`
	Price           *Money    `json:"price"` // nil: the price book's, else the catalog's
	DiscountPercent *Quantity `json:"discount_percent"`
	DiscountAmount  *Money    `json:"discount_amount"`
	VATRate         string    `json:"vat_rate"`
	// Kind is goods (closed by a realization) or service (closed by an
	// act); a catalog line takes its item's, a free-text line may say it,
	// and one that does not is closed by whichever comes first.
	Kind string `json:"kind"`
	// SourceLineID is the invoice line an act's or realization's line
	// bills (read-only: set when it is made from the invoice;
	// ShippingLineID for the invoice's shipping and handling). Such a
	// line carries the invoice line's figures, in proportion to the
	// quantity it bills.
	SourceLineID *string `json:"source_line_id,omitempty"`
	// Computed, in the document's price terms: Amount is round(quantity ×
	// price); DiscountShare the line's part of the overall discount and
	// adjustment; the net, VAT and total are the final ones after both
	// discounts.
	Amount        Money `json:"amount"`
	DiscountShare Money `json:"discount_share"`
	NetAmount     Money `json:"net_amount"`
	VATAmount     Money `json:"vat_amount"`
	TotalAmount   Money `json:"total_amount"`
}

// Line kinds.
const (
	KindGoods   = "goods"
	KindService = "service"
)

// ShippingLineID is the source line id of the line that bills an
// invoice's shipping and handling in a closing document.
const ShippingLineID = "shipping"

// Totals rules: how a document's figures were computed.
const (
	// TotalsSpread: the overall discount spread over the lines before VAT,
	// in proportion to their amounts, the rounding remainder on the
	// largest line (ст. 154 НК РФ, as 1C computes).
	TotalsSpread = "spread"
	// TotalsVtiger: VAT before the overall discount, as vtiger computes;
	// kept by documents issued before crmhub spread the discount (they are legal
	// documents with the figures they were issued with).
	TotalsVtiger = "vtiger"
)

// VATLine is one rate's VAT of a document, for «В том числе НДС 22%: …».
type VATLine struct {
	Rate string `json:"rate"`
	Base Money  `json:"base"`
	VAT  Money  `json:"vat"`
}

// DocumentBody is what every sales document has (JSON names as the issue
// fixes them, alike for every kind).
type DocumentBody struct {
	Number    string  `json:"number"` // allocated on create
	Date      Date    `json:"date"`
	Status    string  `json:"status"`
	Subject   string  `json:"subject"`
	AccountID *string `json:"account_id"`
	ContactID *string `json:"contact_id"`
	DealID    *string `json:"deal_id"`
	Currency  string  `json:"currency"`
	// ConversionRate is roubles per unit of Currency on the document's
	// date: 1 for RUB; given, or the Bank of Russia's rate in force on the
	// date (crmhub rates import, rates.url).
	ConversionRate  decimal.Decimal `json:"conversion_rate"`
	PriceBookID     *string         `json:"price_book_id"`
	TaxMode         string          `json:"tax_mode"` // individual, group, inclusive
	Lines           []DocumentLine  `json:"lines"`
	DiscountPercent *Quantity       `json:"discount_percent"`
	DiscountAmount  *Money          `json:"discount_amount"`
	ShippingAmount  Money           `json:"shipping_amount"`
	ShippingVATRate string          `json:"shipping_vat_rate"`
	Adjustment      Money           `json:"adjustment"` // signed
	Terms           string          `json:"terms"`
	Description     string          `json:"description"`
	// Computed: Subtotal is the lines after their own discounts, before
	// the overall discount, in price terms; DiscountTotal the overall
	// discount and the adjustment spread over the lines; NetTotal, VATTotal
	// and GrandTotal the sums of the lines' final figures and shipping.
	Subtotal      Money     `json:"subtotal"`
	DiscountTotal Money     `json:"discount_total"`
	NetTotal      Money     `json:"net_total"`
	VATTotal      Money     `json:"vat_total"`
	GrandTotal    Money     `json:"grand_total"`
	VATByRate     []VATLine `json:"vat_by_rate"`
	TotalsRule    string    `json:"totals_rule"`
	// Requisites are the parties frozen when the document was issued
	// (null while a draft: its PDFs print the live requisites).
	Requisites *Requisites `json:"requisites"`
	// Warnings say what the hub decided on the request's behalf (a line
	// billed at the rate of its shipment date); not stored.
	Warnings []FieldError `json:"warnings,omitempty"`
}

// Quote is a commercial offer («Предложение»).
type Quote struct {
	Record
	DocumentBody
	ValidUntil Date `json:"valid_until"`
}

// Invoice is an invoice for payment («Счёт»).
type Invoice struct {
	Record
	DocumentBody
	DueDate Date    `json:"due_date"`
	QuoteID *string `json:"quote_id"` // the quote it was made from
	// Payments: executed incoming payments linked to the invoice.
	AmountPaid Money `json:"amount_paid"`
	Balance    Money `json:"balance"` // grand total − amount paid; negative when overpaid
	Overpaid   bool  `json:"overpaid"`
	// The acts and realizations made from the invoice.
	ActIDs         []string `json:"act_ids"`
	RealizationIDs []string `json:"realization_ids"`
}

// SalesOrder is a customer's order («Заказ»).
type SalesOrder struct {
	Record
	DocumentBody
	DueDate Date    `json:"due_date"`
	QuoteID *string `json:"quote_id"`
	// Prepayments: executed incoming payments of the order.
	AmountPaid Money `json:"amount_paid"`
	Balance    Money `json:"balance"` // grand total − amount paid
}

// PurchaseOrder is an order to a vendor («Закупка»): account_id is the
// vendor.
type PurchaseOrder struct {
	Record
	DocumentBody
	DueDate Date `json:"due_date"`
	// What we paid the vendor (executed outgoing payments) and what is left.
	AmountPaid Money `json:"amount_paid"`
	Balance    Money `json:"balance"`
}

// Act is an act of services rendered («Акт»), usually made from an
// invoice's service lines.
type Act struct {
	Record
	DocumentBody
	InvoiceID *string `json:"invoice_id"`
	// SchetFakturaNumber is the number of the act's счёт-фактура (and
	// status-1 УПД) for the services, in the счёт-фактура sequence.
	SchetFakturaNumber string `json:"schet_faktura_number"`
}

// Realization is a shipment of goods («Реализация»: счёт-фактура,
// ТОРГ-12), usually made from an invoice's product lines; it takes the
// goods from stock.
type Realization struct {
	Record
	DocumentBody
	InvoiceID *string `json:"invoice_id"`
	// SchetFakturaNumber is the счёт-фактура's number (its own sequence,
	// also a status-1 УПД's), allocated with the realization.
	SchetFakturaNumber string `json:"schet_faktura_number"`
}

// ClosingRules are how closing documents bill an invoice's shipping and
// handling: as a service line named ShippingLineName of the first act
// (ShippingClosedBy EntityAct) or of the first realization
// (EntityRealization).
type ClosingRules struct {
	ShippingClosedBy string
	ShippingLineName string
}

// DefaultClosingRules: shipping is billed by an act, as «Доставка».
func DefaultClosingRules() ClosingRules {
	return ClosingRules{ShippingClosedBy: EntityAct, ShippingLineName: "Доставка"}
}

// NumberingSchetFaktura names the счёт-фактура's sequence in
// documents.numbering.
const NumberingSchetFaktura = "schet_faktura"

// computedFields are read-only in every document.
var computedFields = []string{"id", "created_at", "updated_at", "version", "number", "subtotal", "discount_total",
	"net_total", "vat_total", "grand_total", "vat_by_rate", "totals_rule", "warnings", "requisites"}

// frozenFields may not change once a document is issued (not a draft):
// it is corrected by cancelling it and issuing a new one.
var frozenFields = []string{"date", "account_id", "currency", "conversion_rate", "price_book_id", "tax_mode", "lines", "discount_percent",
	"discount_amount", "shipping_amount", "shipping_vat_rate", "adjustment"}

// FrozenFields lists what an issued document keeps.
func FrozenFields() []string { return frozenFields }

func documentFields[T any](s *Schema[T], body func(*T) *DocumentBody, statuses *Picklist) *Schema[T] {
	return s.
		Field("date", DateField(func(t *T) *Date { return &body(t).Date })).
		Field("status", OneOf(statuses, func(t *T) *string { return &body(t).Status })).
		Field("subject", Text(250, false, func(t *T) *string { return &body(t).Subject })).
		Field("account_id", Link(func(t *T) **string { return &body(t).AccountID })).
		Field("contact_id", Link(func(t *T) **string { return &body(t).ContactID })).
		Field("deal_id", Link(func(t *T) **string { return &body(t).DealID })).
		Field("currency", Normalized("invalid_currency", "must be an ISO 4217 code such as RUB", currencyCode,
			func(t *T) *string { return &body(t).Currency })).
		Field("conversion_rate", RateField(func(t *T) *decimal.Decimal { return &body(t).ConversionRate })).
		Field("price_book_id", Link(func(t *T) **string { return &body(t).PriceBookID })).
		Field("tax_mode", Normalized("invalid_choice", "must be individual, group or inclusive", func(s string) (string, bool) {
			return s, s == string(TaxIndividual) || s == string(TaxGroup) || s == string(TaxInclusive)
		}, func(t *T) *string { return &body(t).TaxMode })).
		Field("lines", LinesField(func(t *T) *[]DocumentLine { return &body(t).Lines })).
		Field("discount_percent", PercentField(func(t *T) **Quantity { return &body(t).DiscountPercent })).
		Field("discount_amount", AmountUpTo(MaxTotal, func(t *T) **Money { return &body(t).DiscountAmount })).
		Field("shipping_amount", requiredAmount(func(t *T) *Money { return &body(t).ShippingAmount })).
		Field("shipping_vat_rate", VATRateField(func(t *T) *string { return &body(t).ShippingVATRate })).
		Field("adjustment", SignedAmount(func(t *T) *Money { return &body(t).Adjustment })).
		Field("terms", Text(32_000, true, func(t *T) *string { return &body(t).Terms })).
		Field("description", Text(32_000, true, func(t *T) *string { return &body(t).Description }))
}

// QuoteSchema returns the writable fields of a quote.
func QuoteSchema() *Schema[Quote] { return quoteSchema() }

var quoteSchema = sync.OnceValue(func() *Schema[Quote] {
	return documentFields(NewSchema[Quote](computedFields...), func(q *Quote) *DocumentBody { return &q.DocumentBody }, QuoteStages()).
		Field("valid_until", DateField(func(q *Quote) *Date { return &q.ValidUntil })).
		Field("owner_id", ID(func(q *Quote) *string { return &q.OwnerID })).
		Field("team_id", Link(func(q *Quote) **string { return &q.TeamID }))
})

// InvoiceSchema returns the writable fields of an invoice.
func InvoiceSchema() *Schema[Invoice] { return invoiceSchema() }

var invoiceSchema = sync.OnceValue(func() *Schema[Invoice] {
	return documentFields(NewSchema[Invoice](append(computedFields, "quote_id", "amount_paid", "balance", "overpaid",
		"act_ids", "realization_ids")...),
		func(i *Invoice) *DocumentBody { return &i.DocumentBody }, InvoiceStatuses()).
		Field("due_date", DateField(func(i *Invoice) *Date { return &i.DueDate })).
		Field("owner_id", ID(func(i *Invoice) *string { return &i.OwnerID })).
		Field("team_id", Link(func(i *Invoice) **string { return &i.TeamID }))
})

// SalesOrderSchema returns the writable fields of a sales order.
func SalesOrderSchema() *Schema[SalesOrder] { return salesOrderSchema() }

var salesOrderSchema = sync.OnceValue(func() *Schema[SalesOrder] {
	return documentFields(NewSchema[SalesOrder](append(computedFields, "quote_id", "amount_paid", "balance")...),
		func(o *SalesOrder) *DocumentBody { return &o.DocumentBody }, SalesOrderStatuses()).
		Field("due_date", DateField(func(o *SalesOrder) *Date { return &o.DueDate })).
		Field("owner_id", ID(func(o *SalesOrder) *string { return &o.OwnerID })).
		Field("team_id", Link(func(o *SalesOrder) **string { return &o.TeamID }))
})

// PurchaseOrderSchema returns the writable fields of a purchase order.
func PurchaseOrderSchema() *Schema[PurchaseOrder] { return purchaseOrderSchema() }

var purchaseOrderSchema = sync.OnceValue(func() *Schema[PurchaseOrder] {
	return documentFields(NewSchema[PurchaseOrder](append(computedFields, "amount_paid", "balance")...),
		func(o *PurchaseOrder) *DocumentBody { return &o.DocumentBody }, PurchaseOrderStatuses()).
		Field("due_date", DateField(func(o *PurchaseOrder) *Date { return &o.DueDate })).
		Field("owner_id", ID(func(o *PurchaseOrder) *string { return &o.OwnerID })).
		Field("team_id", Link(func(o *PurchaseOrder) **string { return &o.TeamID }))
})

// ActSchema returns the writable fields of an act.
func ActSchema() *Schema[Act] { return actSchema() }

var actSchema = sync.OnceValue(func() *Schema[Act] {
	return documentFields(NewSchema[Act](append(computedFields, "invoice_id", "schet_faktura_number")...),
		func(a *Act) *DocumentBody { return &a.DocumentBody }, ActStatuses()).
		Field("owner_id", ID(func(a *Act) *string { return &a.OwnerID })).
		Field("team_id", Link(func(a *Act) **string { return &a.TeamID }))
})

// RealizationSchema returns the writable fields of a realization.
func RealizationSchema() *Schema[Realization] { return realizationSchema() }

var realizationSchema = sync.OnceValue(func() *Schema[Realization] {
	return documentFields(NewSchema[Realization](append(computedFields, "invoice_id", "schet_faktura_number")...),
		func(r *Realization) *DocumentBody { return &r.DocumentBody }, RealizationStatuses()).
		Field("owner_id", ID(func(r *Realization) *string { return &r.OwnerID })).
		Field("team_id", Link(func(r *Realization) **string { return &r.TeamID }))
})

// NewDocumentBody is a new document's defaults: today, RUB, VAT on top;
// the conversion rate is left to be found for the currency and date.
func NewDocumentBody(now time.Time, status string) DocumentBody {
	return DocumentBody{Date: NewDate(now), Status: status, Currency: BaseCurrency, TaxMode: string(TaxIndividual),
		Lines: []DocumentLine{}, VATByRate: []VATLine{}}
}

// RateField sets a conversion rate: a positive decimal string with at
// most 6 fraction digits; null leaves it to the rates table.
func RateField[T any](field func(*T) *decimal.Decimal) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = decimal.Zero
			return nil
		}
		s, ok := decodeString(raw)
		d, err := decimal.NewFromString(strings.TrimSpace(s))
		if !ok || err != nil || !d.IsPositive() || !d.Equal(d.Round(6)) || d.GreaterThan(decimal.NewFromInt(1_000_000)) {
			return fail(path, "invalid_rate", `must be a positive decimal string such as "93.2801" with at most 6 fraction digits`)
		}
		*field(rec) = d
		return nil
	}
}

// requiredAmount sets a non-negative amount of at most MaxAmount that is
// never null (null is 0).
func requiredAmount[T any](field func(*T) *Money) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		var m *Money
		errs := AmountUpTo(MaxAmount, func(*T) **Money { return &m })(rec, raw, path)
		if len(errs) == 0 {
			*field(rec) = Money{}
			if m != nil {
				*field(rec) = *m
			}
		}
		return errs
	}
}

// SignedAmount sets an amount that may be negative (an adjustment), of at
// most MaxAmount either way.
func SignedAmount[T any](field func(*T) *Money) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = Money{}
			return nil
		}
		s, ok := decodeString(raw)
		d, err := decimal.NewFromString(strings.TrimSpace(s))
		if !ok || err != nil || !d.Equal(d.Round(2)) {
			return fail(path, "invalid_decimal", `must be a decimal string such as "-10.50" with at most 2 fraction digits`)
		}
		if d.Abs().GreaterThan(decimal.NewFromInt(MaxAmount)) {
			return fail(path, "out_of_range", "must be at most "+FormatLimit(MaxAmount)+" either way")
		}
		*field(rec) = Money{d}
		return nil
	}
}

// PercentField sets an optional percent: 0 to 100 with at most 3
// fraction digits.
func PercentField[T any](field func(*T) **Quantity) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = nil
			return nil
		}
		q, ok := ParseQuantity(raw)
		if !ok || q.GreaterThan(decimal.NewFromInt(100)) {
			return fail(path, "invalid_percent", "must be a percent from 0 to 100 with at most 3 fraction digits")
		}
		*field(rec) = &q
		return nil
	}
}

// lineSchema checks one line's writable fields.
var lineSchema = sync.OnceValue(func() *Schema[DocumentLine] {
	return NewSchema[DocumentLine]("amount", "discount_share", "net_amount", "vat_amount", "total_amount", "source_line_id").
		Field("id", Text(40, false, func(l *DocumentLine) *string { return &l.ID })).
		Field("product_id", Link(func(l *DocumentLine) **string { return &l.ProductID })).
		Field("service_id", Link(func(l *DocumentLine) **string { return &l.ServiceID })).
		Field("name", Text(500, false, func(l *DocumentLine) *string { return &l.Name })).
		Field("quantity", QuantityField(func(l *DocumentLine) *Quantity { return &l.Quantity })).
		Field("unit", Text(20, false, func(l *DocumentLine) *string { return &l.Unit })).
		Field("unit_code", Normalized("invalid_okei", "must be a 3-digit ОКЕИ code such as 796", digits(3),
			func(l *DocumentLine) *string { return &l.UnitCode })).
		Field("price", AmountUpTo(MaxPrice, func(l *DocumentLine) **Money { return &l.Price })).
		Field("discount_percent", PercentField(func(l *DocumentLine) **Quantity { return &l.DiscountPercent })).
		Field("discount_amount", AmountUpTo(MaxAmount, func(l *DocumentLine) **Money { return &l.DiscountAmount })).
		Field("vat_rate", VATRateField(func(l *DocumentLine) *string { return &l.VATRate })).
		Field("kind", Normalized("invalid_choice", "must be goods or service", func(s string) (string, bool) {
			return s, s == "" || s == KindGoods || s == KindService
		}, func(l *DocumentLine) *string { return &l.Kind }))
})

// MaxLines bounds a document.
const MaxLines = 1000

// LinesField replaces a document's lines (a merge patch replaces arrays
// whole); each line is checked by its own schema.
func LinesField[T any](field func(*T) *[]DocumentLine) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = []DocumentLine{}
			return nil
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fail(path, "invalid_type", "must be an array of lines")
		}
		if len(items) > MaxLines {
			return fail(path, "too_many", fmt.Sprintf("at most %d lines", MaxLines))
		}
		lines := make([]DocumentLine, len(items))
		var errs []FieldError
		for i, it := range items {
			var p Patch
			if err := json.Unmarshal(it, &p); err != nil || !bytes.HasPrefix(bytes.TrimSpace(it), []byte("{")) {
				errs = append(errs, FieldError{Field: fmt.Sprintf("%s[%d]", path, i), Code: "invalid_type", Message: "must be an object"})
				continue
			}
			lp := fmt.Sprintf("%s[%d].", path, i)
			lines[i].Quantity = Quantity{decimal.NewFromInt(1)}
			errs = append(errs, lineSchema().Apply(&lines[i], p, lp)...)
			l := &lines[i]
			if l.ProductID != nil && l.ServiceID != nil {
				errs = append(errs, FieldError{Field: lp + "service_id", Code: "conflict", Message: "a line is a product or a service, not both"})
			}
			if l.ProductID == nil && l.ServiceID == nil && l.Name == "" {
				errs = append(errs, FieldError{Field: lp + "name", Code: "required", Message: "a line without a product or service needs a name"})
			}
			if l.DiscountPercent != nil && l.DiscountAmount != nil {
				errs = append(errs, FieldError{Field: lp + "discount_amount", Code: "conflict", Message: "give a discount percent or amount, not both"})
			}
		}
		if len(errs) > 0 {
			return errs
		}
		*field(rec) = lines
		return nil
	}
}

// Compute fills the body's computed amounts with the totals engine; the
// lines must be complete (prices and rates resolved). A line that bills an
// invoice line (SourceLineID) keeps the figures it carries. Invalid
// amounts are an EINVALID naming the fields.
func (b *DocumentBody) Compute() error {
	r, err := ComputeTotals(b.totalsDoc())
	if err != nil {
		return err
	}
	b.apply(r)
	return nil
}

// totalsDoc is the body as the totals engine takes it.
func (b *DocumentBody) totalsDoc() TotalsDoc {
	doc := TotalsDoc{TaxMode: TaxMode(b.TaxMode), Date: b.Date.Time, Shipping: b.ShippingAmount.Decimal,
		ShippingRate: VATRate(b.ShippingVATRate), Adjustment: b.Adjustment.Decimal}
	if b.DiscountPercent != nil {
		doc.Discount.Percent = &b.DiscountPercent.Decimal
	}
	if b.DiscountAmount != nil {
		doc.Discount.Amount = &b.DiscountAmount.Decimal
	}
	doc.Lines = make([]TotalsLine, len(b.Lines))
	for i, l := range b.Lines {
		tl := TotalsLine{Quantity: l.Quantity.Decimal, VATRate: VATRate(l.VATRate)}
		if l.Price != nil {
			tl.Price = l.Price.Decimal
		}
		if l.DiscountPercent != nil {
			tl.Discount.Percent = &l.DiscountPercent.Decimal
		}
		if l.DiscountAmount != nil {
			tl.Discount.Amount = &l.DiscountAmount.Decimal
		}
		if l.SourceLineID != nil {
			tl.Carried = &Carried{Amount: l.Amount.Decimal, Share: l.DiscountShare.Decimal, VAT: l.VATAmount.Decimal}
			if l.DiscountAmount != nil {
				tl.Carried.LineDiscount = l.DiscountAmount.Decimal
			}
		}
		doc.Lines[i] = tl
	}
	return doc
}

// Shipping is the body's shipping and handling (its rate resolved by the
// document's date when it has none), without recomputing the lines.
func (b *DocumentBody) Shipping() ShippingTotals {
	rate := VATRate(b.ShippingVATRate)
	if rate == "" {
		rate = GeneralVATRate(b.Date.Time)
	}
	return ShippingOf(b.ShippingAmount.Decimal, rate, TaxMode(b.TaxMode))
}

// Figures are the body's totals by the engine, without changing it.
func (b *DocumentBody) Figures() (Totals, error) { return ComputeTotals(b.totalsDoc()) }

func (b *DocumentBody) apply(r Totals) {
	for i := range b.Lines {
		lr, l := r.Lines[i], &b.Lines[i]
		l.VATRate = string(lr.VATRate)
		l.Amount = Money{lr.Amount}
		l.DiscountShare = Money{lr.Share}
		l.NetAmount, l.VATAmount, l.TotalAmount = Money{lr.Net}, Money{lr.VAT}, Money{lr.Total}
	}
	b.Subtotal, b.DiscountTotal, b.NetTotal = Money{r.Subtotal}, Money{r.DiscountTotal}, Money{r.NetTotal}
	b.VATTotal = Money{r.VATTotal}
	b.GrandTotal = Money{r.GrandTotal}
	if b.ShippingVATRate == "" && !b.ShippingAmount.IsZero() {
		b.ShippingVATRate = string(r.Shipping.VATRate)
	}
	b.VATByRate = make([]VATLine, len(r.ByRate))
	for i, rt := range r.ByRate {
		b.VATByRate[i] = VATLine{Rate: string(rt.VATRate), Base: Money{rt.Base}, VAT: Money{rt.VAT}}
	}
	b.TotalsRule = TotalsSpread
}

// IsDraft reports whether a document of kind in status may still change
// its lines and amounts.
func IsDraft(kind, status string) bool {
	switch kind {
	case EntityQuote:
		return status == "created"
	case EntityInvoice:
		return status == "created" || status == "autocreated"
	case EntityAct, EntityRealization, EntitySalesOrder, EntityPurchaseOrder:
		return status == "created"
	}
	return false
}

// ClosedBy is the closing document kind that bills a line:
// EntityRealization for goods, EntityAct for services, "" for a
// free-text line that says neither (either may).
func (l *DocumentLine) ClosedBy() string {
	switch l.Kind {
	case KindGoods:
		return EntityRealization
	case KindService:
		return EntityAct
	}
	return ""
}

// DocumentFilter selects documents for a list.
type DocumentFilter struct {
	ListParams
	Statuses  []string
	AccountID string
	ContactID string
	DealID    string
	Number    string
	DateFrom  Date
	DateTo    Date
}

// QuoteService keeps quotes.
type QuoteService interface {
	Repository[Quote]
	List(ctx context.Context, f DocumentFilter) (Page[Quote], error)
	// ToInvoice makes an invoice of every field and line of a quote (not
	// a rejected one); patch sets the invoice's own fields (date,
	// due_date, status…). Errors: ENOTFOUND, EINVALID.
	ToInvoice(ctx context.Context, quoteID string, patch Patch) (*Invoice, error)
	// ToSalesOrder makes a sales order of a quote, as ToInvoice.
	ToSalesOrder(ctx context.Context, quoteID string, patch Patch) (*SalesOrder, error)
}

// SalesOrderService keeps sales orders.
type SalesOrderService interface {
	Repository[SalesOrder]
	List(ctx context.Context, f DocumentFilter) (Page[SalesOrder], error)
}

// PurchaseOrderService keeps purchase orders.
type PurchaseOrderService interface {
	Repository[PurchaseOrder]
	List(ctx context.Context, f DocumentFilter) (Page[PurchaseOrder], error)
}

// InvoiceService keeps invoices.
type InvoiceService interface {
	Repository[Invoice]
	List(ctx context.Context, f DocumentFilter) (Page[Invoice], error)
	// ToAct makes an act of the invoice's service (and free-text) lines,
	// ToRealization a realization of its product lines: all that is left
	// of them, or the lines and quantities asked; nothing is billed twice.
	// Errors: ENOTFOUND, EINVALID (a line that is not the kind's, more
	// than is left, a cancelled invoice).
	ToAct(ctx context.Context, invoiceID string, req ShipmentRequest) (*Act, error)
	ToRealization(ctx context.Context, invoiceID string, req ShipmentRequest) (*Realization, error)
	// Remaining lists each invoice line's quantity, what acts or
	// realizations took of it, and what is left. Errors: ENOTFOUND.
	Remaining(ctx context.Context, invoiceID string) ([]RemainingLine, error)
}

// ShipmentRequest asks for an act or realization of some invoice lines
// (all that is left of the kind's lines when Lines is empty); Patch sets
// the new document's own fields (date, status, subject…).
type ShipmentRequest struct {
	Lines []ShipmentLine
	Patch Patch
}

// ShipmentLine is an invoice line to bill and how much of it (nil: all
// that is left).
type ShipmentLine struct {
	LineID   string    `json:"line_id"`
	Quantity *Quantity `json:"quantity"`
}

// RemainingLine is an invoice line's billing state (the invoice's
// shipping and handling is the line ShippingLineID until it is billed).
type RemainingLine struct {
	LineID    string   `json:"line_id"`
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`  // goods, service, or "" (either closes it)
	Goods     bool     `json:"goods"` // realized; otherwise acted
	Quantity  Quantity `json:"quantity"`
	Billed    Quantity `json:"billed"` // in acts or realizations that are not cancelled
	Remaining Quantity `json:"remaining"`
}

// ActService keeps acts.
type ActService interface {
	Repository[Act]
	List(ctx context.Context, f DocumentFilter) (Page[Act], error)
}

// RealizationService keeps realizations.
type RealizationService interface {
	Repository[Realization]
	List(ctx context.Context, f DocumentFilter) (Page[Realization], error)
}

// NumberFormat is how a kind's documents are numbered: Prefix with
// "{year}" replaced, then the year's sequence zero-padded to Width.
type NumberFormat struct {
	Prefix string `yaml:"prefix" json:"prefix"`
	Width  int    `yaml:"width" json:"width"`
}

// Format renders the n-th number of year.
func (f NumberFormat) Format(year, n int) string {
	w := f.Width
	if w <= 0 {
		w = 1
	}
	return strings.ReplaceAll(f.Prefix, "{year}", fmt.Sprint(year)) + fmt.Sprintf("%0*d", w, n)
}

// DefaultNumbering is the numbering of each kind unless configured.
func DefaultNumbering() map[string]NumberFormat {
	return map[string]NumberFormat{
		EntityQuote:         {Prefix: "КП-{year}-", Width: 6},
		EntityInvoice:       {Prefix: "СЧ-{year}-", Width: 6},
		EntityPayment:       {Prefix: "П-{year}-", Width: 6},
		EntityAct:           {Prefix: "А-{year}-", Width: 6},
		EntitySalesOrder:    {Prefix: "З-{year}-", Width: 6},
		EntityPurchaseOrder: {Prefix: "ЗП-{year}-", Width: 6},
		EntityRealization:   {Prefix: "РЛ-{year}-", Width: 6},
		// Plain numbers restarting each year, as accountants keep them.
		NumberingSchetFaktura: {Width: 1},
	}
}
