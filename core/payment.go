package core

import (
	"context"
	"sync"
)

// EntityPayment names payments in events, topics and numbering.
const EntityPayment = "payment"

// Payment directions, methods and statuses (SalesPlatform's payments).
const (
	PaymentIncoming = "incoming" // Приход: a customer pays us
	PaymentOutgoing = "outgoing" // Расход: we pay a vendor

	PaymentCash         = "cash"          // Наличные
	PaymentBankTransfer = "bank_transfer" // Безналичный расчёт

	PaymentExecuted = "executed"
)

// PaymentStatuses are a payment's statuses; only executed payments count
// towards an invoice.
func PaymentStatuses() *Picklist { return paymentStatuses() }

var paymentStatuses = sync.OnceValue(func() *Picklist {
	return NewPicklist("payment_status",
		Choice{"executed", "Выполнен", "Executed"},
		Choice{"scheduled", "Запланирован", "Scheduled"},
		Choice{"cancelled", "Отменен", "Canceled"},
		Choice{"delayed", "Просрочен", "Delayed"})
})

var paymentDirections = sync.OnceValue(func() *Picklist {
	return NewPicklist("payment_direction",
		Choice{PaymentIncoming, "Приход", "Receipt"},
		Choice{PaymentOutgoing, "Расход", "Expense"})
})

var paymentMethods = sync.OnceValue(func() *Picklist {
	return NewPicklist("payment_method",
		Choice{PaymentCash, "Наличные", "Cash Payment"},
		Choice{PaymentBankTransfer, "Безналичный расчет", "Cashless Transfer"})
})

// PaymentDirections and PaymentMethods are the picklists of payments.
func PaymentDirections() *Picklist { return paymentDirections() }

// PaymentMethods is the payment method picklist.
func PaymentMethods() *Picklist { return paymentMethods() }

// Payment is money received from a customer or paid to a vendor.
type Payment struct {
	Record
	Number    string  `json:"number"`
	Date      Date    `json:"date"`
	Direction string  `json:"direction"` // incoming, outgoing
	Status    string  `json:"status"`
	AccountID *string `json:"account_id"` // the payer (incoming) or the vendor (outgoing)
	ContactID *string `json:"contact_id"` // a person paying
	InvoiceID *string `json:"invoice_id"`
	// SalesOrderID and PurchaseOrderID link a prepayment of an order, or a
	// payment to a vendor's order.
	SalesOrderID    *string `json:"sales_order_id"`
	PurchaseOrderID *string `json:"purchase_order_id"`
	Amount          *Money  `json:"amount"`
	Currency        string  `json:"currency"`
	Method          string  `json:"method"` // cash, bank_transfer
	Reference       string  `json:"reference"`
	// Description is the purpose of payment («назначение платежа»).
	Description string `json:"description"`
}

// PaymentSchema returns the writable fields of a payment.
func PaymentSchema() *Schema[Payment] { return paymentSchema() }

var paymentSchema = sync.OnceValue(func() *Schema[Payment] {
	return NewSchema[Payment]("id", "created_at", "updated_at", "version", "number").
		Field("date", DateField(func(p *Payment) *Date { return &p.Date })).
		Field("direction", OneOf(PaymentDirections(), func(p *Payment) *string { return &p.Direction })).
		Field("status", OneOf(PaymentStatuses(), func(p *Payment) *string { return &p.Status })).
		Field("account_id", Link(func(p *Payment) **string { return &p.AccountID })).
		Field("contact_id", Link(func(p *Payment) **string { return &p.ContactID })).
		Field("invoice_id", Link(func(p *Payment) **string { return &p.InvoiceID })).
		Field("sales_order_id", Link(func(p *Payment) **string { return &p.SalesOrderID })).
		Field("purchase_order_id", Link(func(p *Payment) **string { return &p.PurchaseOrderID })).
		Field("amount", AmountUpTo(MaxTotal, func(p *Payment) **Money { return &p.Amount })).
		Field("currency", Normalized("invalid_currency", "must be an ISO 4217 code such as RUB", currencyCode,
			func(p *Payment) *string { return &p.Currency })).
		Field("method", OneOf(PaymentMethods(), func(p *Payment) *string { return &p.Method })).
		Field("reference", Text(100, false, func(p *Payment) *string { return &p.Reference })).
		Field("description", Text(2000, true, func(p *Payment) *string { return &p.Description })).
		Field("owner_id", ID(func(p *Payment) *string { return &p.OwnerID })).
		Field("team_id", Link(func(p *Payment) **string { return &p.TeamID }))
})

// Validate checks what a payment needs: a positive amount and a method.
func (p *Payment) Validate() error {
	var errs []FieldError
	if p.Amount == nil || !p.Amount.IsPositive() {
		errs = append(errs, FieldError{Field: "amount", Code: "required", Message: "must be a positive amount"})
	}
	if p.Method == "" {
		errs = append(errs, FieldError{Field: "method", Code: "required", Message: "cash or bank_transfer"})
	}
	if p.Direction == "" {
		errs = append(errs, FieldError{Field: "direction", Code: "required", Message: "incoming or outgoing"})
	}
	links := 0
	for _, l := range []*string{p.InvoiceID, p.SalesOrderID, p.PurchaseOrderID} {
		if l != nil {
			links++
		}
	}
	switch {
	case links > 1:
		errs = append(errs, FieldError{Field: "invoice_id", Code: "conflict", Message: "a payment pays one invoice or order"})
	case p.Direction == PaymentIncoming && p.PurchaseOrderID != nil:
		errs = append(errs, FieldError{Field: "purchase_order_id", Code: "invalid", Message: "a purchase order is paid by outgoing payments"})
	case p.Direction == PaymentOutgoing && (p.InvoiceID != nil || p.SalesOrderID != nil):
		errs = append(errs, FieldError{Field: "direction", Code: "invalid", Message: "invoices and sales orders are paid by incoming payments"})
	}
	return Invalid(errs)
}

// PaymentFilter selects payments.
type PaymentFilter struct {
	ListParams
	Direction string
	Statuses  []string
	AccountID string
	InvoiceID string
	DateFrom  Date
	DateTo    Date
}

// PaymentService keeps payments. Writes that touch an invoice's payments
// update the invoice's amount paid and balance in the same transaction.
type PaymentService interface {
	Repository[Payment]
	List(ctx context.Context, f PaymentFilter) (Page[Payment], error)
}
