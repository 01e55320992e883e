package printform

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/crmhub/crmhub/core"
)

// Printer prints stored documents: it reads the document, its customer
// and what it refers to, and renders the form.
type Printer struct {
	Quotes       core.QuoteService
	Invoices     core.InvoiceService
	Acts         core.ActService
	Realizations core.RealizationService
	// SalesOrders and PurchaseOrders print «Заказ покупателя» and «Заказ
	// поставщику» (optional).
	SalesOrders    core.SalesOrderService
	PurchaseOrders core.PurchaseOrderService
	Products       core.ProductService
	Accounts       core.AccountService
	Org            core.Organization
	Images         Images
	// Edition is the счёт-фактура's edition caption ("": DefaultEdition).
	Edition string
}

// Forms are the forms each document kind prints, its natural one first.
var Forms = map[string][]string{
	core.EntityQuote:         {FormQuote},
	core.EntityInvoice:       {FormInvoice},
	core.EntityAct:           {FormAct, FormSchetFaktura, FormUPD},
	core.EntityRealization:   {FormSchetFaktura, FormTorg12, FormUPD, FormAct},
	core.EntitySalesOrder:    {FormSalesOrder},
	core.EntityPurchaseOrder: {FormPurchaseOrder},
}

var titles = map[string]string{FormQuote: "Коммерческое предложение", FormInvoice: "Счёт на оплату", FormAct: "Акт",
	FormSchetFaktura: "Счёт-фактура", FormTorg12: "ТОРГ-12", FormUPD: "УПД", FormSalesOrder: "Заказ покупателя",
	FormPurchaseOrder: "Заказ поставщику"}

// Request names what to print: a document (kind and id), the form (""
// for the kind's own) and, for a УПД, its status (0: by the seller's VAT).
type Request struct {
	Kind, ID, Form string
	UPDStatus      int
}

// Print renders a document as a form and names the file. Errors:
// ENOTFOUND, EINVALID (a form the kind does not print).
func (p *Printer) Print(ctx context.Context, r Request) (pdf []byte, fileName string, err error) {
	d, err := p.Document(ctx, r)
	if err != nil {
		return nil, "", err
	}
	return d.PDF, d.FileName, nil
}

// Printed is a rendered form with the document it was printed from.
type Printed struct {
	PDF      []byte
	FileName string
	Form     string
	Title    string // of the form, such as «Счёт на оплату»
	Doc      *core.DocumentBody
	// Until is a quote's valid-until or an invoice's due date (zero if none).
	Until time.Time
	// Number is the number the form prints (a счёт-фактура's own).
	Number string
}

// Document renders a document as a form and returns it with the document.
// Errors: ENOTFOUND, EINVALID (a form the kind does not print).
func (p *Printer) Document(ctx context.Context, r Request) (*Printed, error) {
	kind, id, form := r.Kind, r.ID, r.Form
	forms, ok := Forms[kind]
	if !ok {
		return nil, core.Errorf(core.EINVALID, "%s documents have no print forms yet", kind)
	}
	if form == "" {
		form = forms[0]
	}
	if !slices.Contains(forms, form) {
		return nil, core.Invalid([]core.FieldError{{Field: "form", Code: "invalid_choice",
			Message: fmt.Sprintf("a %s prints as %v", kind, forms)}})
	}
	in := Input{Form: form, Seller: p.Org, Images: p.Images, UPDStatus: r.UPDStatus, Edition: p.Edition}
	var account *string
	switch kind {
	case core.EntityQuote:
		q, err := p.Quotes.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		in.Doc, in.Until, account = &q.DocumentBody, q.ValidUntil.Time, q.AccountID
	case core.EntityInvoice:
		inv, err := p.Invoices.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		in.Doc, in.Until, account = &inv.DocumentBody, inv.DueDate.Time, inv.AccountID
	case core.EntitySalesOrder, core.EntityPurchaseOrder:
		var err error
		if in.Doc, in.Until, account, err = p.order(ctx, kind, id); err != nil {
			return nil, err
		}
	case core.EntityAct:
		a, err := p.Acts.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		in.Doc, account, in.SchetFakturaNumber = &a.DocumentBody, a.AccountID, a.SchetFakturaNumber
		if in.Basis, err = p.basis(ctx, a.InvoiceID); err != nil {
			return nil, err
		}
	case core.EntityRealization:
		x, err := p.Realizations.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		in.Doc, account, in.SchetFakturaNumber = &x.DocumentBody, x.AccountID, x.SchetFakturaNumber
		in.ServicesOnly = form == FormAct // the delivery a realization bills
		if in.Basis, err = p.basis(ctx, x.InvoiceID); err != nil {
			return nil, err
		}
		in.Goods = map[string]Goods{}
		for _, l := range x.Lines {
			if l.ProductID == nil {
				continue
			}
			pr, err := p.Products.Get(ctx, *l.ProductID)
			if err != nil && core.ErrorCode(err) != core.ENOTFOUND {
				return nil, err
			}
			if pr != nil {
				in.Goods[pr.ID] = Goods{Code: pr.SKU, CountryCode: pr.CountryCode, CountryName: pr.CountryOfOrigin,
					Customs: pr.CustomsDeclaration}
			}
		}
	}
	switch {
	case in.Doc.Requisites != nil: // issued: the parties as they were then
		in.Seller = in.Doc.Requisites.Seller
		in.Buyer = PartyOf(in.Doc.Requisites.Buyer)
	case account != nil:
		acc, err := p.Accounts.Get(ctx, *account)
		if err != nil && core.ErrorCode(err) != core.ENOTFOUND {
			return nil, err
		}
		in.Buyer = AccountParty(acc)
	}
	pdf, err := Render(in)
	if err != nil {
		return nil, err
	}
	number := in.PrintedNumber()
	return &Printed{PDF: pdf, Form: form, Title: titles[form], Doc: in.Doc, Until: in.Until, Number: number,
		FileName: fmt.Sprintf("%s %s от %s.pdf", titles[form], number, in.Doc.Date.Format("02.01.2006"))}, nil
}

// order reads a sales or purchase order.
func (p *Printer) order(ctx context.Context, kind, id string) (*core.DocumentBody, time.Time, *string, error) {
	if kind == core.EntitySalesOrder && p.SalesOrders != nil {
		o, err := p.SalesOrders.Get(ctx, id)
		if err != nil {
			return nil, time.Time{}, nil, err
		}
		return &o.DocumentBody, o.DueDate.Time, o.AccountID, nil
	}
	if kind == core.EntityPurchaseOrder && p.PurchaseOrders != nil {
		o, err := p.PurchaseOrders.Get(ctx, id)
		if err != nil {
			return nil, time.Time{}, nil, err
		}
		return &o.DocumentBody, o.DueDate.Time, o.AccountID, nil
	}
	return nil, time.Time{}, nil, core.Errorf(core.EINVALID, "%s documents have no print forms here", kind)
}

// basis is the «Основание» of a document made from an invoice.
func (p *Printer) basis(ctx context.Context, invoiceID *string) (string, error) {
	if invoiceID == nil {
		return "", nil
	}
	inv, err := p.Invoices.Get(ctx, *invoiceID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Счёт на оплату № %s от %s", inv.Number, core.FormatDateLong(inv.Date.Time)), nil
}
