package store_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// closingSums adds up the closing documents' totals.
type closingSums struct{ net, vat, grand decimal.Decimal }

func (c *closingSums) add(b core.DocumentBody) {
	c.net, c.vat, c.grand = c.net.Add(b.NetTotal.Decimal), c.vat.Add(b.VATTotal.Decimal), c.grand.Add(b.GrandTotal.Decimal)
}

// TestClosingDocumentsAddUp: an invoice with an overall discount,
// shipping, mixed rates and a free-text line, closed by partial and whole
// realizations and an act: the parts of every line add up to the line,
// the shipping is billed once as «Доставка» by the act, and the closing
// documents sum exactly to the invoice's net, VAT and grand totals.
func TestClosingDocumentsAddUp(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	a, err := s.Products().Create(ctx, patch(t, `{"name":"Кресло","unit":"шт","unit_code":"796","vat_rate":"22","price":"333.33","stock_quantity":"10"}`))
	require.NoError(t, err)
	b, err := s.Products().Create(ctx, patch(t, `{"name":"Книга","unit":"шт","vat_rate":"10","price":"1000"}`))
	require.NoError(t, err)
	c, err := s.Services().Create(ctx, patch(t, `{"name":"Монтаж","unit":"усл","vat_rate":"22","price":"500"}`))
	require.NoError(t, err)
	inv, err := s.Invoices().Create(ctx, patch(t, `{"status":"sent","date":"2026-11-27","discount_percent":"10","shipping_amount":"300",
		"shipping_vat_rate":"22","lines":[{"product_id":"`+a.ID+`","quantity":"3"},{"product_id":"`+b.ID+`"},
		{"service_id":"`+c.ID+`"},{"name":"Упаковка","price":"100","quantity":"2","vat_rate":"none"}]}`))
	require.NoError(t, err)
	// 999.99 + 1000 + 500 + 200 = 2699.99; 10% = 270.00.
	require.Equal(t, []string{"2699.99", "270.00"}, []string{inv.Subtotal.StringFixed(2), inv.DiscountTotal.StringFixed(2)})
	require.Equal(t, []string{"goods", "goods", "service", ""}, []string{inv.Lines[0].Kind, inv.Lines[1].Kind, inv.Lines[2].Kind, inv.Lines[3].Kind})
	left, err := s.Invoices().Remaining(ctx, inv.ID)
	require.NoError(t, err)
	require.Len(t, left, 5)
	require.Equal(t, []string{core.ShippingLineID, "Доставка", "1"}, []string{left[4].LineID, left[4].Name, left[4].Remaining.String()},
		"the delivery is left to bill")

	q := func(s string) *core.Quantity { v := core.Quantity{Decimal: decimal.RequireFromString(s)}; return &v }
	var sums closingSums
	r1, err := s.Invoices().ToRealization(ctx, inv.ID, core.ShipmentRequest{Lines: []core.ShipmentLine{{LineID: inv.Lines[0].ID, Quantity: q("1")}}})
	require.NoError(t, err)
	sums.add(r1.DocumentBody)
	require.Nil(t, r1.DiscountPercent, "the closing document's lines carry the discount")
	r2, err := s.Invoices().ToRealization(ctx, inv.ID, core.ShipmentRequest{})
	require.NoError(t, err)
	sums.add(r2.DocumentBody)
	require.Len(t, r2.Lines, 3, "the rest of the chairs, the book and the free-text line (either closes it)")
	act, err := s.Invoices().ToAct(ctx, inv.ID, core.ShipmentRequest{})
	require.NoError(t, err)
	sums.add(act.DocumentBody)
	require.Len(t, act.Lines, 2)
	sh := act.Lines[1]
	require.Equal(t, []string{"Доставка", core.KindService, "300.00", "66.00", "22", core.ShippingLineID},
		[]string{sh.Name, sh.Kind, sh.NetAmount.StringFixed(2), sh.VATAmount.StringFixed(2), sh.VATRate, *sh.SourceLineID})
	require.NotEmpty(t, act.SchetFakturaNumber, "an act gets a счёт-фактура number for its services")

	require.Equal(t, []string{inv.NetTotal.StringFixed(2), inv.VATTotal.StringFixed(2), inv.GrandTotal.StringFixed(2)},
		[]string{sums.net.StringFixed(2), sums.vat.StringFixed(2), sums.grand.StringFixed(2)}, "the closing documents are the invoice")
	// Each line's parts add up to the line.
	parts := map[string][3]decimal.Decimal{}
	for _, d := range []core.DocumentBody{r1.DocumentBody, r2.DocumentBody, act.DocumentBody} {
		for _, l := range d.Lines {
			p := parts[*l.SourceLineID]
			parts[*l.SourceLineID] = [3]decimal.Decimal{p[0].Add(l.NetAmount.Decimal), p[1].Add(l.VATAmount.Decimal), p[2].Add(l.DiscountShare.Decimal)}
		}
	}
	for _, l := range inv.Lines {
		p := parts[l.ID]
		require.Equal(t, []string{l.NetAmount.StringFixed(2), l.VATAmount.StringFixed(2), l.DiscountShare.StringFixed(2)},
			[]string{p[0].StringFixed(2), p[1].StringFixed(2), p[2].StringFixed(2)}, l.Name)
	}
	left, err = s.Invoices().Remaining(ctx, inv.ID)
	require.NoError(t, err)
	for _, l := range left {
		require.True(t, l.Remaining.IsZero(), "%s: %s left", l.Name, l.Remaining)
	}
	_, err = s.Invoices().ToAct(ctx, inv.ID, core.ShipmentRequest{})
	require.Equal(t, "nothing_left", core.ErrorFields(err)[0].Code)

	// A status change keeps the billed figures.
	r1b, err := s.Realizations().Update(ctx, r1.ID, 0, patch(t, `{"status":"sent"}`))
	require.NoError(t, err)
	require.Equal(t, r1.GrandTotal.StringFixed(2), r1b.GrandTotal.StringFixed(2))
}

// TestShippingClosedByRealization: with documents.shipping_closed_by
// realization the first realization carries the delivery, also for an
// invoice of goods only, and an act has nothing to bill.
func TestShippingClosedByRealization(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	s.SetClosingRules(core.ClosingRules{ShippingClosedBy: core.EntityRealization, ShippingLineName: "Доставка груза"})
	ctx := apiCtx()
	inv, err := s.Invoices().Create(ctx, patch(t, `{"status":"sent","tax_mode":"inclusive","shipping_amount":"122","lines":[
		{"name":"Стол","kind":"goods","price":"1220","vat_rate":"22"}]}`))
	require.NoError(t, err)
	_, err = s.Invoices().ToAct(ctx, inv.ID, core.ShipmentRequest{})
	require.Equal(t, "nothing_left", core.ErrorFields(err)[0].Code)
	r, err := s.Invoices().ToRealization(ctx, inv.ID, core.ShipmentRequest{})
	require.NoError(t, err)
	require.Len(t, r.Lines, 2)
	require.Equal(t, []string{"Доставка груза", "122.00", "22.00"}, []string{r.Lines[1].Name, r.Lines[1].TotalAmount.StringFixed(2), r.Lines[1].VATAmount.StringFixed(2)})
	require.Equal(t, inv.GrandTotal.StringFixed(2), r.GrandTotal.StringFixed(2))
	require.Equal(t, inv.VATTotal.StringFixed(2), r.VATTotal.StringFixed(2))
}

// TestRateByShipmentDate: a realization dated in 2026 of an invoice at
// 20% bills the line at 22% and says so.
func TestRateByShipmentDate(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	inv, err := s.Invoices().Create(ctx, patch(t, `{"status":"sent","date":"2025-12-20","lines":[
		{"name":"Стол","kind":"goods","price":"1000","vat_rate":"20"}]}`))
	require.NoError(t, err)
	require.Equal(t, "200.00", inv.VATTotal.StringFixed(2))
	r, err := s.Invoices().ToRealization(ctx, inv.ID, core.ShipmentRequest{Patch: patch(t, `{"date":"2026-01-12"}`)})
	require.NoError(t, err)
	require.Equal(t, []string{"22", "220.00", "1220.00"}, []string{r.Lines[0].VATRate, r.VATTotal.StringFixed(2), r.GrandTotal.StringFixed(2)})
	require.Len(t, r.Warnings, 1)
	require.Equal(t, "rate_by_shipment_date", r.Warnings[0].Code)
}

// TestRecomputeDrafts: a draft that migration 038 marked is recomputed
// by the spread rule with its change event; an issued document keeps the
// figures it was issued with, also through later edits of its status.
func TestRecomputeDrafts(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	draft, err := s.Quotes().Create(ctx, patch(t, `{"discount_percent":"10","lines":[{"name":"A","price":"1000","vat_rate":"22"}]}`))
	require.NoError(t, err)
	issued, err := s.Invoices().Create(ctx, patch(t, `{"status":"sent","discount_percent":"10","lines":[{"name":"A","price":"1000","vat_rate":"22"}]}`))
	require.NoError(t, err)
	// As vtiger left them: VAT 220.00 before the discount.
	for _, sql := range []string{
		`UPDATE quotes SET vat_total = 220, grand_total = 1120, totals_rule = 'recompute' WHERE id = '` + draft.ID + `'`,
		`UPDATE invoices SET vat_total = 220, grand_total = 1120, totals_rule = 'vtiger' WHERE id = '` + issued.ID + `'`,
	} {
		_, err := s.Pool().Exec(ctx, sql)
		require.NoError(t, err)
	}
	events := count(t, s, `SELECT count(*) FROM outbox WHERE entity = 'quote'`)
	n, err := s.RecomputeDrafts(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	q, err := s.Quotes().Get(ctx, draft.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"198.00", "1098.00", core.TotalsSpread}, []string{q.VATTotal.StringFixed(2), q.GrandTotal.StringFixed(2), q.TotalsRule})
	require.Equal(t, events+1, count(t, s, `SELECT count(*) FROM outbox WHERE entity = 'quote'`), "the change is streamed")
	n, err = s.RecomputeDrafts(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "once")

	inv, err := s.Invoices().Update(ctx, issued.ID, 0, patch(t, `{"status":"approved"}`))
	require.NoError(t, err)
	require.Equal(t, []string{"220.00", "1120.00", core.TotalsVtiger}, []string{inv.VATTotal.StringFixed(2), inv.GrandTotal.StringFixed(2), inv.TotalsRule},
		"an issued document is a legal document: its figures stay")
}

// TestForeignCurrencyDocument: a document in dollars takes the Bank of
// Russia's rate in force on its date, or the one given; without either it
// is a 422 that says what to do; XYZ is no currency.
func TestForeignCurrencyDocument(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	body := `{"currency":"USD","date":"2023-11-03","lines":[{"name":"A","price":"100","vat_rate":"20"}]}`
	_, err := s.Invoices().Create(ctx, patch(t, body))
	require.Equal(t, "no_rate", core.ErrorFields(err)[0].Code)
	_, err = s.Invoices().Create(ctx, patch(t, `{"currency":"XYZ","lines":[]}`))
	require.Equal(t, "currency", core.ErrorFields(err)[0].Field)
	_, err = s.PutRates(ctx, []core.CurrencyRate{
		{Currency: "USD", Nominal: 1, Rate: decimal.RequireFromString("93.2801"), Date: core.NewDate(time.Date(2023, 11, 2, 0, 0, 0, 0, time.UTC))},
		{Currency: "KZT", Nominal: 100, Rate: decimal.RequireFromString("20.1234"), Date: core.NewDate(time.Date(2023, 11, 2, 0, 0, 0, 0, time.UTC))},
	})
	require.NoError(t, err)
	inv, err := s.Invoices().Create(ctx, patch(t, body))
	require.NoError(t, err)
	require.Equal(t, "93.2801", inv.ConversionRate.String(), "the rate in force on 3 November: the 2 November publication")
	kzt, err := s.Invoices().Create(ctx, patch(t, `{"currency":"KZT","date":"2023-11-02","lines":[]}`))
	require.NoError(t, err)
	require.Equal(t, "0.201234", kzt.ConversionRate.String(), "per one tenge")
	given, err := s.Invoices().Create(ctx, patch(t, `{"currency":"USD","conversion_rate":"90.5","lines":[]}`))
	require.NoError(t, err)
	require.Equal(t, "90.5", given.ConversionRate.String())
	rub, err := s.Invoices().Create(ctx, patch(t, `{"lines":[]}`))
	require.NoError(t, err)
	require.Equal(t, "1", rub.ConversionRate.String())
	rates, err := s.Rates(ctx, time.Date(2023, 11, 10, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Len(t, rates, 2)
	none, err := s.Rates(ctx, time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Empty(t, none, "nothing published before 2 November")
}

// TestQuoteInvoicedOnce: a quote's second invoice needs {"again": true};
// the quote becomes accepted when invoiced.
func TestQuoteInvoicedOnce(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	q, err := s.Quotes().Create(ctx, patch(t, `{"lines":[{"name":"A","price":"100","vat_rate":"22"}]}`))
	require.NoError(t, err)
	_, err = s.Quotes().ToInvoice(ctx, q.ID, patch(t, `{}`))
	require.NoError(t, err)
	q, err = s.Quotes().Get(ctx, q.ID)
	require.NoError(t, err)
	require.Equal(t, "accepted", q.Status)
	_, err = s.Quotes().ToInvoice(ctx, q.ID, patch(t, `{}`))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err))
	_, err = s.Quotes().ToInvoice(ctx, q.ID, patch(t, `{"again":"yes"}`))
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	inv, err := s.Quotes().ToInvoice(ctx, q.ID, patch(t, `{"again":true}`))
	require.NoError(t, err)
	require.Equal(t, q.ID, *inv.QuoteID)
}

// TestOrderPayments: sales and purchase orders show their payments.
func TestOrderPayments(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	vendor, err := s.Accounts().Create(ctx, patch(t, `{"name":"ООО Поставщик","type":"vendor"}`))
	require.NoError(t, err)
	so, err := s.SalesOrders().Create(ctx, patch(t, `{"lines":[{"name":"Стол","price":"1000","vat_rate":"22"}]}`))
	require.NoError(t, err)
	require.Equal(t, []string{"0.00", "1220.00"}, []string{so.AmountPaid.StringFixed(2), so.Balance.StringFixed(2)})
	po, err := s.PurchaseOrders().Create(ctx, patch(t, `{"account_id":"`+vendor.ID+`","lines":[{"name":"Стол","price":"500","vat_rate":"22"}]}`))
	require.NoError(t, err)
	p1, err := s.Payments().Create(ctx, patch(t, `{"sales_order_id":"`+so.ID+`","amount":"200","method":"cash"}`))
	require.NoError(t, err)
	_, err = s.Payments().Create(ctx, patch(t, `{"direction":"outgoing","purchase_order_id":"`+po.ID+`","amount":"610","method":"bank_transfer"}`))
	require.NoError(t, err)
	so, err = s.SalesOrders().Get(ctx, so.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"200.00", "1020.00"}, []string{so.AmountPaid.StringFixed(2), so.Balance.StringFixed(2)})
	po, err = s.PurchaseOrders().Get(ctx, po.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"610.00", "0.00"}, []string{po.AmountPaid.StringFixed(2), po.Balance.StringFixed(2)})
	_, err = s.Payments().Update(ctx, p1.ID, 0, patch(t, `{"status":"cancelled"}`))
	require.NoError(t, err)
	so, err = s.SalesOrders().Get(ctx, so.ID)
	require.NoError(t, err)
	require.Equal(t, "0.00", so.AmountPaid.StringFixed(2), "a cancelled payment no longer counts")
}
