package onec

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
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
	Invoices    core.InvoiceService
	Accounts    core.AccountService
	Products    core.ProductService
	Services    core.ServiceCatalog
	Payments    core.PaymentService
	Exports     Exports
	// Fields gives the accounts' and products' custom fields, for the
	// values requisites_map maps (needed when it maps anything).
	Fields CustomFields
}

// ExportOptions says what ExportOrders writes.
type ExportOptions struct {
	// Encoding is windows-1251 (default) or UTF-8.
	Encoding string
	// Documents are the kinds written: sales_orders (default) and/or
	// invoices.
	Documents []string
	// All writes every document, not only those 1C has not confirmed in
	// their current version.
	All bool
	// Requisites are the custom fields written back as the
	// ЗначенияРеквизитов of the buyers and the goods of the lines.
	Requisites RequisitesMap
	// Logger is told of a mapped field that is not live.
	Logger *slog.Logger
}

// The documents 1C can be sent (onec.documents).
const (
	DocSalesOrders = "sales_orders"
	DocInvoices    = "invoices"
)

// docEntity is the entity of a kind of document sent to 1C.
var docEntity = map[string]string{DocSalesOrders: core.EntitySalesOrder, DocInvoices: core.EntityInvoice}

// Sent are the documents a query sent: entity → id → version.
type Sent map[string]map[string]int64

// query answers mode=query: the documents 1C has not confirmed in their
// current version, as a CommerceML document; they are marked exported
// only when 1C answers success.
func (x *Exchange) query(ctx context.Context, s *session) ([]byte, error) {
	var buf bytes.Buffer
	pending, err := exportOrders(ctx, x.sale, x.saleReq, &buf, x.cfg.SaleEncoding, x.cfg.Documents, false)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	s.pending = pending
	x.mu.Unlock()
	return buf.Bytes(), nil
}

// ExportOrders writes the documents of the kinds asked (sales orders by
// default, invoices) that 1C has not confirmed in their current version
// (all of them with o.All) as a CommerceML document, and returns their
// versions (to record once 1C confirms them).
func ExportOrders(ctx context.Context, deps SaleDeps, w io.Writer, o ExportOptions) (Sent, error) {
	req, err := newRequisites(o.Requisites, deps.Fields, o.Logger)
	if err != nil {
		return nil, fmt.Errorf("onec: %w", err)
	}
	return exportOrders(ctx, deps, req, w, o.Encoding, o.Documents, o.All)
}

func exportOrders(ctx context.Context, deps SaleDeps, req *requisites, w io.Writer, encoding string, kinds []string, all bool) (Sent, error) {
	if len(kinds) == 0 {
		kinds = []string{DocSalesOrders}
	}
	enc, err := commerceml.NewEncoder(w, encoding)
	if err != nil {
		return nil, err
	}
	if err := enc.Begin(time.Now().In(moscow).Format("2006-01-02T15:04:05")); err != nil {
		return nil, err
	}
	sent := Sent{}
	cache := &exportCache{items: map[string]string{}, accounts: map[string]*core.Account{}, lineReqs: map[string][]commerceml.Requisite{}}
	if cache.accountMap, err = req.live(ctx, core.EntityAccount); err != nil {
		return nil, err
	}
	if cache.productMap, err = req.live(ctx, core.EntityProduct); err != nil {
		return nil, err
	}
	for _, kind := range kinds {
		entity, ok := docEntity[kind]
		if !ok {
			return nil, fmt.Errorf("onec: unknown document kind %q (sales_orders, invoices)", kind)
		}
		exported := map[string]int64{}
		if !all {
			if exported, err = deps.Exports.OneCExported(ctx, entity); err != nil {
				return nil, err
			}
		}
		pending := map[string]int64{}
		emit := func(r *core.Record, b *core.DocumentBody) error {
			if v, ok := exported[r.ID]; ok && v >= r.Version {
				return nil
			}
			doc, err := document(ctx, deps, cache, entity, r, b)
			if err != nil {
				return err
			}
			pending[r.ID] = r.Version
			return enc.Document(doc)
		}
		switch entity {
		case core.EntitySalesOrder:
			err = eachDocument(ctx, deps.SalesOrders.List, func(o *core.SalesOrder) error { return emit(&o.Record, &o.DocumentBody) })
		case core.EntityInvoice:
			err = eachDocument(ctx, deps.Invoices.List, func(i *core.Invoice) error { return emit(&i.Record, &i.DocumentBody) })
		}
		if err != nil {
			return nil, err
		}
		sent[entity] = pending
	}
	if err := enc.End(); err != nil {
		return nil, err
	}
	return sent, nil
}

// eachDocument calls fn for every document of a kind, oldest first.
func eachDocument[T any](ctx context.Context, list func(context.Context, core.DocumentFilter) (core.Page[T], error),
	fn func(*T) error) error {
	f := core.DocumentFilter{ListParams: core.ListParams{Limit: 500, Sort: core.Sort{Field: "created_at"}}}
	for {
		page, err := list(ctx, f)
		if err != nil {
			return err
		}
		for i := range page.Items {
			if err := fn(&page.Items[i]); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

// exportCache keeps what one export looked up: the goods' 1C Ид by our
// id, the products' mapped requisites by id, and the accounts; and the
// mapped fields live when it began.
type exportCache struct {
	items      map[string]string
	lineReqs   map[string][]commerceml.Requisite
	accounts   map[string]*core.Account
	accountMap *liveMap
	productMap *liveMap
}

var moscow = time.FixedZone("MSK", 3*3600)

// statusLabel is a document's status as 1C users read it.
func statusLabel(entity, code string) string {
	list := core.SalesOrderStatuses()
	if entity == core.EntityInvoice {
		list = core.InvoiceStatuses()
	}
	for _, c := range list.Choices {
		if c.Code == code {
			return c.RU
		}
	}
	return code
}

// document is a sales order or an invoice as 1C reads it.
func document(ctx context.Context, deps SaleDeps, cache *exportCache, entity string, r *core.Record,
	o *core.DocumentBody) (*commerceml.Document, error) {
	itemIDs := cache.items
	accounts := cache.accounts
	op, statusName := "Заказ товара", "Статус заказа"
	if entity == core.EntityInvoice {
		op, statusName = "Счет на оплату", "Статус счета"
	}
	d := &commerceml.Document{ID: r.ID, Number: o.Number, Date: o.Date.Format("2006-01-02"),
		Time: r.CreatedAt.In(moscow).Format("15:04:05"), Operation: op, Role: "Продавец",
		Currency: o.Currency, Rate: rateOf(o), Sum: o.GrandTotal.StringFixed(2), Comment: o.Description,
		Requisites: []commerceml.Requisite{
			{Name: statusName, Value: statusLabel(entity, o.Status)},
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
				INN: acc.INN, KPP: acc.KPP}, Role: "Покупатель", Address: acc.LegalAddress.String(),
				AddressFields: commerceml.AddressFields(acc.LegalAddress)}
			if id := acc.ExternalIDs[System]; id != "" {
				cp.ID = id
			}
			cp.Requisites = cache.accountMap.requisites(acc.Custom, nil)
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
					if p, err := deps.Products.Get(ctx, ours); err == nil {
						if p.ExternalIDs[System] != "" {
							itemIDs[ours] = p.ExternalIDs[System]
						}
						cache.lineReqs[ours] = cache.productMap.requisites(p.Custom, lineRequisites(kind))
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
			Requisites: append(lineRequisites(kind), cache.lineReqs[ours]...)}
		if rate := l.VATRate; rate != "" {
			if rate == "none" {
				rate = "Без НДС"
			}
			line.TaxRates = []commerceml.TaxRate{{Name: "НДС", Rate: rate}}
			if rate != "Без НДС" {
				// The line's sum includes its VAT.
				line.Taxes = []commerceml.Tax{{Name: "НДС", Included: "true", Sum: l.VATAmount.StringFixed(2), Rate: rate}}
			}
		}
		// The line's discounts, its own and its share of the overall one
		// (spread in proportion to the line amounts): what its amount loses
		// on the way to the final amount its VAT was computed on, already in
		// its sum, so that 1C computes the same VAT per line.
		final := l.NetAmount.Decimal
		if o.TaxMode == "inclusive" {
			final = l.TotalAmount.Decimal
		}
		if disc := l.Amount.Sub(final); disc.IsPositive() {
			dc := commerceml.Discount{Name: "Скидка", Sum: disc.StringFixed(2), Included: "true"}
			if l.DiscountPercent != nil && l.DiscountShare.IsZero() {
				dc.Percent = l.DiscountPercent.String()
			}
			line.Discounts = []commerceml.Discount{dc}
		}
		d.Lines = append(d.Lines, line)
	}
	if o.VATTotal.IsPositive() {
		d.Taxes = []commerceml.Tax{{Name: "НДС", Included: "true", Sum: o.VATTotal.StringFixed(2)}}
	}
	if o.ShippingAmount.IsPositive() {
		d.Lines = append(d.Lines, shippingLine(o))
	}
	return d, nil
}

// lineRequisites are the requisites the hub writes on every line: what
// kind of good it is.
func lineRequisites(kind string) []commerceml.Requisite {
	return []commerceml.Requisite{{Name: "ВидНоменклатуры", Value: kind}, {Name: "ТипНоменклатуры", Value: kind}}
}

// shippingLine is the document's shipping and handling as 1C's delivery
// line: not discounted, with its own VAT, its sum with the VAT.
func shippingLine(o *core.DocumentBody) commerceml.Line {
	sh := o.Shipping()
	price := sh.Amount
	line := commerceml.Line{ID: "ORDER_DELIVERY", Name: "Доставка", Unit: commerceml.Unit{Code: "796", Name: "шт"},
		PricePerUnit: price.StringFixed(2), Quantity: "1", Sum: sh.Total.StringFixed(2),
		Requisites: []commerceml.Requisite{{Name: "ВидНоменклатуры", Value: "Услуга"}, {Name: "ТипНоменклатуры", Value: "Услуга"}}}
	if rate := string(sh.VATRate); rate != "" {
		if rate == "none" {
			rate = "Без НДС"
		}
		line.TaxRates = []commerceml.TaxRate{{Name: "НДС", Rate: rate}}
		if rate != "Без НДС" {
			line.Taxes = []commerceml.Tax{{Name: "НДС", Included: "true", Sum: sh.VAT.StringFixed(2), Rate: rate}}
		}
	}
	return line
}

// success commits the documents the last query sent.
func (x *Exchange) success(ctx context.Context, s *session) error {
	x.mu.Lock()
	pending := s.pending
	s.pending = nil
	x.mu.Unlock()
	return MarkExported(ctx, x.sale.Exports, pending)
}

// MarkExported records that 1C has the documents sent.
func MarkExported(ctx context.Context, ex Exports, sent Sent) error {
	for entity, versions := range sent {
		if err := ex.MarkOneCExported(ctx, entity, versions); err != nil {
			return err
		}
	}
	return nil
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "да", "1":
		return true
	}
	return false
}
