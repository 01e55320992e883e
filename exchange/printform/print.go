package printform

import (
	"context"
	"fmt"
	"slices"

	"github.com/crmhub/crmhub/core"
)

// Printer prints stored documents: it reads the document, its customer
// and what it refers to, and renders the form.
type Printer struct {
	Quotes   core.QuoteService
	Invoices core.InvoiceService
	Acts     core.ActService
	Accounts core.AccountService
	Org      core.Organization
	Images   Images
}

// Forms are the forms each document kind prints, its natural one first.
var Forms = map[string][]string{
	core.EntityQuote:   {FormQuote},
	core.EntityInvoice: {FormInvoice},
	core.EntityAct:     {FormAct},
}

var titles = map[string]string{FormQuote: "Коммерческое предложение", FormInvoice: "Счёт на оплату", FormAct: "Акт"}

// Print renders document id of kind (quote, invoice, act) as form ("": the
// kind's own) and names the file. Errors: ENOTFOUND, EINVALID (a form the
// kind does not print).
func (p *Printer) Print(ctx context.Context, kind, id, form string) (pdf []byte, fileName string, err error) {
	forms, ok := Forms[kind]
	if !ok {
		return nil, "", core.Errorf(core.EINVALID, "%s documents have no print forms yet", kind)
	}
	if form == "" {
		form = forms[0]
	}
	if !slices.Contains(forms, form) {
		return nil, "", core.Invalid([]core.FieldError{{Field: "form", Code: "invalid_choice",
			Message: fmt.Sprintf("a %s prints as %v", kind, forms)}})
	}
	in := Input{Form: form, Seller: p.Org, Images: p.Images}
	var account *string
	switch kind {
	case core.EntityQuote:
		q, err := p.Quotes.Get(ctx, id)
		if err != nil {
			return nil, "", err
		}
		in.Doc, in.Until, account = &q.DocumentBody, q.ValidUntil.Time, q.AccountID
	case core.EntityInvoice:
		inv, err := p.Invoices.Get(ctx, id)
		if err != nil {
			return nil, "", err
		}
		in.Doc, in.Until, account = &inv.DocumentBody, inv.DueDate.Time, inv.AccountID
	case core.EntityAct:
		a, err := p.Acts.Get(ctx, id)
		if err != nil {
			return nil, "", err
		}
		in.Doc, account = &a.DocumentBody, a.AccountID
		if a.InvoiceID != nil {
			inv, err := p.Invoices.Get(ctx, *a.InvoiceID)
			if err != nil {
				return nil, "", err
			}
			in.Basis = fmt.Sprintf("Счёт на оплату № %s от %s", inv.Number, core.FormatDateLong(inv.Date.Time))
		}
	}
	if account != nil {
		acc, err := p.Accounts.Get(ctx, *account)
		if err != nil && core.ErrorCode(err) != core.ENOTFOUND {
			return nil, "", err
		}
		in.Buyer = AccountParty(acc)
	}
	pdf, err = Render(in)
	if err != nil {
		return nil, "", err
	}
	return pdf, fmt.Sprintf("%s %s от %s.pdf", titles[form], in.Doc.Number, in.Doc.Date.Format("02.01.2006")), nil
}
