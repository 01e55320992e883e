package onec

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

// Exports remembers which documents 1C has confirmed (mode=success).
type Exports interface {
	OneCExported(ctx context.Context, entity string) (map[string]int64, error)
	MarkOneCExported(ctx context.Context, entity string, versions map[string]int64) error
}

// SaleDeps are the services the orders exchange reads and writes.
type SaleDeps struct {
	SalesOrders core.SalesOrderService
	Accounts    core.AccountService
	Products    core.ProductService
	Services    core.ServiceService
	Payments    core.PaymentService
	Exports     Exports
}

// query answers mode=query: the sales orders 1C has not confirmed in
// their current version, as a CommerceML document; they are marked
// exported only when 1C answers success.
func (x *Exchange) query(ctx context.Context, s *session) ([]byte, error) {
	var buf bytes.Buffer
	pending, err := ExportOrders(ctx, x.sale, &buf, x.cfg.SaleEncoding, false)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	s.pending = pending
	x.mu.Unlock()
	return buf.Bytes(), nil
}

// ExportOrders writes the sales orders 1C has not confirmed in their
// current version (all of them with all) as a CommerceML document, and
// returns their versions (to record once 1C confirms them).
func ExportOrders(ctx context.Context, deps SaleDeps, w io.Writer, encoding string, all bool) (map[string]int64, error) {
	exported := map[string]int64{}
	if !all {
		var err error
		if exported, err = deps.Exports.OneCExported(ctx, core.EntitySalesOrder); err != nil {
			return nil, err
		}
	}
	enc, err := commerceml.NewEncoder(w, encoding)
	if err != nil {
		return nil, err
	}
	if err := enc.Begin(time.Now().In(moscow).Format("2006-01-02T15:04:05")); err != nil {
		return nil, err
	}
	pending := map[string]int64{}
	itemIDs := map[string]string{} // our product/service id → the 1C Ид
	accounts := map[string]*core.Account{}
	f := core.DocumentFilter{ListParams: core.ListParams{Limit: 500, Sort: core.Sort{Field: "created_at"}}}
	for {
		page, err := deps.SalesOrders.List(ctx, f)
		if err != nil {
			return nil, err
		}
		for i := range page.Items {
			o := &page.Items[i]
			if v, ok := exported[o.ID]; ok && v >= o.Version {
				continue
			}
			doc, err := orderDocument(ctx, deps, o, itemIDs, accounts)
			if err != nil {
				return nil, err
			}
			if err := enc.Document(doc); err != nil {
				return nil, err
			}
			pending[o.ID] = o.Version
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if err := enc.End(); err != nil {
		return nil, err
	}
	return pending, nil
}

var moscow = time.FixedZone("MSK", 3*3600)

// statusLabel is a sales order status as 1C users read it.
func statusLabel(code string) string {
	for _, c := range core.SalesOrderStatuses().Choices {
		if c.Code == code {
			return c.RU
		}
	}
	return code
}

// orderDocument is a sales order as 1C reads it.
func orderDocument(ctx context.Context, deps SaleDeps, o *core.SalesOrder, itemIDs map[string]string,
	accounts map[string]*core.Account) (*commerceml.Document, error) {
	d := &commerceml.Document{ID: o.ID, Number: o.Number, Date: o.Date.Format("2006-01-02"),
		Time: o.CreatedAt.In(moscow).Format("15:04:05"), Operation: "Заказ товара", Role: "Продавец",
		Currency: o.Currency, Rate: "1", Sum: o.GrandTotal.StringFixed(2), Comment: o.Description,
		Requisites: []commerceml.Requisite{
			{Name: "Статус заказа", Value: statusLabel(o.Status)},
			{Name: "Отменен", Value: fmt.Sprint(o.Status == "cancelled")},
			{Name: "Сайт", Value: "crmhub"},
		}}
	if o.AccountID != nil {
		acc, cached := accounts[*o.AccountID]
		if !cached {
			var err error
			if acc, err = deps.Accounts.Get(ctx, *o.AccountID); err != nil && core.ErrorCode(err) != core.ENOTFOUND {
				return nil, err
			}
			accounts[*o.AccountID] = acc
		}
		if acc != nil {
			cp := commerceml.Counterparty{Party: commerceml.Party{ID: acc.ID, Name: acc.Name, OfficialName: acc.Name, FullName: acc.Name,
				INN: acc.INN, KPP: acc.KPP}, Role: "Покупатель", Address: acc.LegalAddress.Line}
			if id := acc.ExternalIDs[System]; id != "" {
				cp.ID = id
			}
			d.Counterparties = append(d.Counterparties, cp)
		}
	}
	for _, l := range o.Lines {
		kind, ours := "Товар", ""
		switch {
		case l.ProductID != nil:
			ours = *l.ProductID
		case l.ServiceID != nil:
			kind, ours = "Услуга", *l.ServiceID
		}
		id := l.ID
		if ours != "" {
			if _, ok := itemIDs[ours]; !ok {
				itemIDs[ours] = ours
				if kind == "Товар" {
					if p, err := deps.Products.Get(ctx, ours); err == nil && p.ExternalIDs[System] != "" {
						itemIDs[ours] = p.ExternalIDs[System]
					}
				} else if sv, err := deps.Services.Get(ctx, ours); err == nil && sv.ExternalIDs[System] != "" {
					itemIDs[ours] = sv.ExternalIDs[System]
				}
			}
			id = itemIDs[ours]
		}
		price := decimal.Zero
		if l.Price != nil {
			price = l.Price.Decimal
		}
		line := commerceml.Line{ID: id, Name: l.Name, Unit: commerceml.Unit{Code: l.UnitCode, Name: l.Unit},
			PricePerUnit: price.StringFixed(2), Quantity: l.Quantity.String(), Sum: l.TotalAmount.StringFixed(2),
			Requisites: []commerceml.Requisite{{Name: "ВидНоменклатуры", Value: kind}, {Name: "ТипНоменклатуры", Value: kind}}}
		if rate := l.VATRate; rate != "" {
			if rate == "none" {
				rate = "Без НДС"
			}
			line.TaxRates = []commerceml.TaxRate{{Name: "НДС", Rate: rate}}
		}
		d.Lines = append(d.Lines, line)
	}
	if o.ShippingAmount.IsPositive() {
		d.Lines = append(d.Lines, commerceml.Line{ID: "ORDER_DELIVERY", Name: "Доставка", Unit: commerceml.Unit{Code: "796", Name: "шт"},
			PricePerUnit: o.ShippingAmount.StringFixed(2), Quantity: "1", Sum: o.ShippingAmount.StringFixed(2),
			Requisites: []commerceml.Requisite{{Name: "ВидНоменклатуры", Value: "Услуга"}, {Name: "ТипНоменклатуры", Value: "Услуга"}}})
	}
	return d, nil
}

// success commits the documents the last query sent.
func (x *Exchange) success(ctx context.Context, s *session) error {
	x.mu.Lock()
	pending := s.pending
	s.pending = nil
	x.mu.Unlock()
	return x.sale.Exports.MarkOneCExported(ctx, core.EntitySalesOrder, pending)
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "да", "1":
		return true
	}
	return false
}

// applyOrders reads 1C's order changes: deletion marks and cancellations
// cancel, posting approves, shipment delivers, and a payment registered
// in 1C becomes a payment on the order (once: its reference names the 1C
// payment). Documents 1C made itself (not ours) are skipped.
func (x *Exchange) applyOrders(ctx context.Context, r io.Reader, j *Job) error {
	deps := x.sale
	d := commerceml.NewDecoder(r, commerceml.Limits{})
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
		buyer, err := x.counterparty(ctx, doc)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			j.fail(fmt.Sprintf("Документ %s (%s): Контрагент: %s", doc.ID, doc.Number, core.ErrorMessage(err)))
		}
		o, err := deps.SalesOrders.Get(ctx, doc.ID)
		if err != nil {
			if core.ErrorCode(err) == core.ENOTFOUND {
				j.update(func(s *JobStatus) { s.Skipped++ })
				continue
			}
			return err
		}
		outcome, err := x.applyOrder(ctx, o, doc, buyer)
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

func (x *Exchange) applyOrder(ctx context.Context, o *core.SalesOrder, doc *commerceml.Document, buyer string) (string, error) {
	deps := x.sale
	changed := false
	if o.AccountID == nil && buyer != "" {
		if _, err := deps.SalesOrders.Update(ctx, o.ID, 0, core.Patch{"account_id": raw(buyer)}); err != nil {
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
		if _, err := deps.SalesOrders.Update(ctx, o.ID, 0, core.Patch{"status": raw(status)}); err != nil {
			return "", err
		}
		changed = true
	}
	if num := doc.Requisite("Номер оплаты по 1С"); truthy(doc.Requisite("Оплачен")) && num != "" {
		ref := clip("1С "+num, 100)
		page, err := deps.Payments.List(ctx, core.PaymentFilter{ListParams: core.ListParams{Limit: 100, Query: ref,
			Sort: core.Sort{Field: "created_at"}}})
		if err != nil {
			return "", err
		}
		known := false
		for _, p := range page.Items {
			if p.Reference == ref && p.SalesOrderID != nil && *p.SalesOrderID == o.ID {
				known = true
			}
		}
		if !known {
			patch := core.Patch{"direction": raw(core.PaymentIncoming), "method": raw(core.PaymentBankTransfer),
				"sales_order_id": raw(o.ID), "amount": raw(o.GrandTotal.StringFixed(2)), "reference": raw(ref),
				"description": raw("Оплата по 1С № " + num)}
			if dt := doc.Requisite("Дата оплаты по 1С"); len(dt) >= 10 {
				patch["date"] = raw(dt[:10])
			}
			if _, err := deps.Payments.Create(ctx, patch); err != nil {
				return "", err
			}
			changed = true
		}
	}
	if changed {
		return "updated", nil
	}
	return "skipped", nil
}

// counterparty finds the account of a document's buyer by ИНН and КПП
// (by ИНН alone for an ИП), or creates it; "" when the document names no
// buyer with an ИНН.
func (x *Exchange) counterparty(ctx context.Context, doc *commerceml.Document) (string, error) {
	var cp *commerceml.Counterparty
	for i := range doc.Counterparties {
		c := &doc.Counterparties[i]
		if strings.TrimSpace(c.INN) != "" && (c.Role == "" || strings.EqualFold(c.Role, "Покупатель")) {
			cp = c
			break
		}
	}
	if cp == nil {
		return "", nil
	}
	inn, kpp := strings.TrimSpace(cp.INN), strings.TrimSpace(cp.KPP)
	page, err := x.sale.Accounts.List(ctx, core.AccountFilter{INN: inn, ListParams: core.ListParams{Limit: 50, Sort: core.Sort{Field: "created_at"}}})
	if err != nil {
		return "", err
	}
	for _, a := range page.Items {
		if a.KPP == kpp || kpp == "" || a.KPP == "" {
			return a.ID, nil
		}
	}
	name := strings.TrimSpace(cp.OfficialName)
	if name == "" {
		name = strings.TrimSpace(cp.Name)
	}
	patch := core.Patch{"name": raw(clip(name, 250)), "inn": raw(inn)}
	if kpp != "" {
		patch["kpp"] = raw(kpp)
	}
	if cp.ID != "" {
		patch["external_ids"] = raw(map[string]string{System: cp.ID})
	}
	a, err := x.sale.Accounts.Create(ctx, patch)
	if err != nil {
		return "", err
	}
	return a.ID, nil
}
