package onec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

// The orders 1C sends back: their changes applied to our documents, their
// payments, their buyers.

// applyOrders reads 1C's changes to our sales orders and invoices:
// deletion marks and cancellations cancel, posting approves, shipment
// delivers an order, and a payment registered in 1C becomes a payment on
// the document (once: its reference names the 1C payment). Buyers are
// matched to accounts or created. Documents 1C made itself are skipped.
func (x *Exchange) applyOrders(ctx context.Context, r io.Reader, j *Job) error {
	d := commerceml.NewDecoder(r, commerceml.Limits{})
	custom, err := x.saleReq.live(ctx, core.EntityAccount)
	if err != nil {
		return err
	}
	for {
		item, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		doc, ok := item.(*commerceml.Document)
		if !ok {
			continue
		}
		j.update(func(s *JobStatus) { s.Processed++ })
		// The buyer: matched to an account by ИНН and КПП, created when
		// missing (with its 1C Ид). A buyer the CRM refuses (a wrong ИНН)
		// is reported and does not hold up the order's status and payment.
		buyer, problems, err := x.counterparty(ctx, doc, custom)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			j.fail(fmt.Sprintf("Документ %s (%s): Контрагент: %s", doc.ID, doc.Number, core.ErrorMessage(err)))
		}
		if len(problems) > 0 {
			j.fail(customProblem(fmt.Sprintf("Документ %s (%s): Контрагент", doc.ID, doc.Number), problems))
		}
		outcome, err := x.applyDocument(ctx, doc, buyer)
		if err != nil && ctx.Err() != nil {
			return err
		}
		if err != nil {
			j.fail(fmt.Sprintf("Документ %s (%s): %s", doc.ID, doc.Number, core.ErrorMessage(err)))
			continue
		}
		j.update(func(s *JobStatus) {
			if outcome == "updated" {
				s.Updated++
			} else {
				s.Skipped++
			}
		})
	}
}

// applyDocument applies a document from 1C to our sales order or invoice
// of its Ид; one we do not have (1C made it) is skipped.
func (x *Exchange) applyDocument(ctx context.Context, doc *commerceml.Document, buyer string) (string, error) {
	deps := x.sale
	o, err := deps.SalesOrders.Get(ctx, doc.ID)
	if err == nil {
		return x.applyOrder(ctx, o, doc, buyer)
	}
	if core.ErrorCode(err) != core.ENOTFOUND {
		return "", err
	}
	if deps.Invoices != nil {
		inv, err := deps.Invoices.Get(ctx, doc.ID)
		if err == nil {
			return x.applyInvoice(ctx, inv, doc, buyer)
		}
		if core.ErrorCode(err) != core.ENOTFOUND {
			return "", err
		}
	}
	return "skipped", nil
}

func (x *Exchange) applyOrder(ctx context.Context, o *core.SalesOrder, doc *commerceml.Document, buyer string) (string, error) {
	deps := x.sale
	changed := false
	if o.AccountID == nil && buyer != "" {
		if _, err := deps.SalesOrders.Update(ctx, o.ID, 0, core.PatchOf(map[string]any{"account_id": buyer})); err != nil {
			return "", err
		}
		changed = true
	}
	status := o.Status
	switch {
	case truthy(doc.DeletionMark) || truthy(doc.Requisite("ПометкаУдаления")) || truthy(doc.Requisite("Отменен")):
		status = "cancelled"
	case truthy(doc.Requisite("Отгружен")) && status != "cancelled":
		status = "delivered"
	case truthy(doc.Requisite("Проведен")) && status == "created":
		status = "approved"
	}
	if status != o.Status {
		if _, err := deps.SalesOrders.Update(ctx, o.ID, 0, core.PatchOf(map[string]any{"status": status})); err != nil {
			return "", err
		}
		changed = true
	}
	paid, err := x.payment(ctx, doc, "sales_order_id", o.ID, o.GrandTotal.Decimal)
	if err != nil {
		return "", err
	}
	changed = changed || paid
	if changed {
		return "updated", nil
	}
	return "skipped", nil
}

// applyInvoice applies 1C's changes to an invoice: deletion marks and
// cancellations cancel it, posting approves a draft, and a payment
// registered in 1C pays what is left of it (once).
func (x *Exchange) applyInvoice(ctx context.Context, inv *core.Invoice, doc *commerceml.Document, buyer string) (string, error) {
	deps := x.sale
	patch := core.Patch{}
	if inv.AccountID == nil && buyer != "" {
		patch.Set("account_id", buyer)
	}
	status := inv.Status
	switch {
	case truthy(doc.DeletionMark) || truthy(doc.Requisite("ПометкаУдаления")) || truthy(doc.Requisite("Отменен")):
		status = "cancelled"
	case truthy(doc.Requisite("Проведен")) && (status == "created" || status == "autocreated"):
		status = "approved"
	}
	if status != inv.Status {
		patch.Set("status", status)
	}
	if len(patch) > 0 {
		var err error
		if inv, err = deps.Invoices.Update(ctx, inv.ID, 0, patch); err != nil {
			return "", err
		}
	}
	paid := false
	if inv.Status != "cancelled" && inv.Balance.IsPositive() {
		var err error
		if paid, err = x.payment(ctx, doc, "invoice_id", inv.ID, inv.Balance.Decimal); err != nil {
			return "", err
		}
	}
	if len(patch) > 0 || paid {
		return "updated", nil
	}
	return "skipped", nil
}

// payment records the payment a document from 1C registers («Оплачен»,
// «Номер оплаты по 1С», «Дата оплаты по 1С») on the order or invoice
// (link names which), once: its reference names the 1C payment. It
// reports whether it made one.
func (x *Exchange) payment(ctx context.Context, doc *commerceml.Document, link, id string, amount decimal.Decimal) (bool, error) {
	num := strings.TrimSpace(doc.Requisite("Номер оплаты по 1С"))
	if !truthy(doc.Requisite("Оплачен")) || num == "" {
		return false, nil
	}
	deps := x.sale
	ref := clip("1С "+num, 100)
	page, err := deps.Payments.List(ctx, core.PaymentFilter{ListParams: core.ListParams{Limit: 100, Query: ref,
		Sort: core.Sort{Field: "created_at"}}})
	if err != nil {
		return false, err
	}
	for _, p := range page.Items {
		if p.Reference != ref {
			continue
		}
		if (link == "invoice_id" && p.InvoiceID != nil && *p.InvoiceID == id) ||
			(link == "sales_order_id" && p.SalesOrderID != nil && *p.SalesOrderID == id) {
			return false, nil
		}
	}
	patch := core.PatchOf(map[string]any{"direction": core.PaymentIncoming, "method": core.PaymentBankTransfer,
		link: id, "amount": amount.StringFixed(2), "reference": ref, "description": "Оплата по 1С № " + num})
	if dt := doc.Requisite("Дата оплаты по 1С"); len(dt) >= 10 {
		patch.Set("date", dt[:10])
	}
	if _, err := deps.Payments.Create(ctx, patch); err != nil {
		return false, err
	}
	return true, nil
}

// counterparty finds the account of a document's buyer by ИНН and КПП
// (by ИНН alone for an ИП), or creates it; "" when the document names no
// buyer with an ИНН. The buyer's mapped requisites (custom) set the
// account's custom fields, on a found account too when they changed;
// the values their fields refuse are returned, the rest still applies.
func (x *Exchange) counterparty(ctx context.Context, doc *commerceml.Document, custom *liveMap) (string, []core.FieldError, error) {
	var cp *commerceml.Counterparty
	for i := range doc.Counterparties {
		c := &doc.Counterparties[i]
		if strings.TrimSpace(c.INN) != "" && (c.Role == "" || strings.EqualFold(c.Role, "Покупатель")) {
			cp = c
			break
		}
	}
	if cp == nil {
		return "", nil, nil
	}
	values, problems := custom.custom(cp.Requisites, nil)
	inn, kpp := strings.TrimSpace(cp.INN), strings.TrimSpace(cp.KPP)
	page, err := x.sale.Accounts.List(ctx, core.AccountFilter{INN: inn, ListParams: core.ListParams{Limit: 50, Sort: core.Sort{Field: "created_at"}}})
	if err != nil {
		return "", problems, err
	}
	for _, a := range page.Items {
		if a.KPP == kpp || kpp == "" || a.KPP == "" {
			return a.ID, problems, x.updateCustom(ctx, &a, values)
		}
	}
	name := strings.TrimSpace(cp.OfficialName)
	if name == "" {
		name = strings.TrimSpace(cp.Name)
	}
	patch := core.PatchOf(map[string]any{"name": clip(name, 250), "inn": inn})
	if kpp != "" {
		patch.Set("kpp", kpp)
	}
	if cp.ID != "" {
		patch.Set("external_ids", map[string]string{System: cp.ID})
	}
	if len(values) > 0 {
		patch.Set("custom", values)
	}
	a, err := x.sale.Accounts.Create(ctx, patch)
	if err != nil {
		return "", problems, err
	}
	return a.ID, problems, nil
}

// updateCustom sets the account's custom values 1C sent that differ from
// what it holds (none differing: no write, no new version).
func (x *Exchange) updateCustom(ctx context.Context, a *core.Account, values map[string]json.RawMessage) error {
	changed := map[string]json.RawMessage{}
	for k, raw := range values {
		cur, held := a.Custom[k]
		if !held && string(raw) == "null" {
			continue
		}
		if b, err := json.Marshal(cur); held && err == nil && bytes.Equal(b, raw) {
			continue
		}
		changed[k] = raw
	}
	if len(changed) == 0 {
		return nil
	}
	_, err := x.sale.Accounts.Update(ctx, a.ID, 0, core.PatchOf(map[string]any{"custom": changed}))
	return err
}

// rateOf is the document's «Курс»: roubles per unit of its currency, 1 for
// roubles.
func rateOf(o *core.DocumentBody) string {
	if !o.ConversionRate.IsPositive() || o.Currency == core.BaseCurrency {
		return "1"
	}
	return o.ConversionRate.String()
}
