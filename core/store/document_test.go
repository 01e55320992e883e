package store_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestQuoteToInvoice(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	acc, err := s.Accounts().Create(ctx, patch(t, `{"name":"ПАО Сбербанк","inn":"7707083893","kpp":"773601001"}`))
	require.NoError(t, err)
	sofa, err := s.Products().Create(ctx, patch(t, `{"name":"Диван","unit":"шт","unit_code":"796","vat_rate":"22","price":"50000"}`))
	require.NoError(t, err)
	delivery, err := s.Services().Create(ctx, patch(t, `{"name":"Доставка","unit":"усл","vat_rate":"22","price":"1500"}`))
	require.NoError(t, err)
	book, err := s.PriceBooks().Create(ctx, patch(t, `{"name":"Опт"}`))
	require.NoError(t, err)
	_, err = s.PriceBooks().SetPrice(ctx, core.Price{PriceBookID: book.ID, ProductID: &sofa.ID, Price: core.NewMoney(decimal.RequireFromString("45000"))})
	require.NoError(t, err)

	q, err := s.Quotes().Create(ctx, patch(t, `{"subject":"Мебель в офис","date":"2026-11-27","account_id":"`+acc.ID+`",
		"price_book_id":"`+book.ID+`","discount_percent":"5","shipping_amount":"200","lines":[
		{"product_id":"`+sofa.ID+`","quantity":"2","discount_percent":"10"},
		{"service_id":"`+delivery.ID+`"},
		{"name":"Сборка","quantity":1,"price":"999.99","vat_rate":"none"}]}`))
	require.NoError(t, err)
	require.Equal(t, "КП-2026-000001", q.Number)
	require.Equal(t, "created", q.Status)
	require.Len(t, q.Lines, 3)
	l := q.Lines[0]
	require.Equal(t, []string{"Диван", "шт", "796", "22", "45000.00"}, []string{l.Name, l.Unit, l.UnitCode, l.VATRate, l.Price.StringFixed(2)},
		"filled from the catalog, priced from the price book")
	// 2 × 45000 − 10% = 81000.00; the lines after their discounts come
	// to 83499.99, 5% of it is 4175.00, spread: 4050.00 (81000/83499.99),
	// 75.00 and 50.00; VAT on what is left: 76950.00 × 22% = 16929.00.
	require.Equal(t, []string{"90000.00", "4050.00", "76950.00", "16929.00", "93879.00", "goods"},
		[]string{l.Amount.StringFixed(2), l.DiscountShare.StringFixed(2), l.NetAmount.StringFixed(2), l.VATAmount.StringFixed(2),
			l.TotalAmount.StringFixed(2), l.Kind})
	require.Equal(t, "1500.00", q.Lines[1].Price.StringFixed(2), "no book price: the catalog's")
	require.Equal(t, []string{"75.00", "313.50", "service"}, []string{q.Lines[1].DiscountShare.StringFixed(2),
		q.Lines[1].VATAmount.StringFixed(2), q.Lines[1].Kind})
	require.Equal(t, []string{"50.00", "949.99", "0.00"}, []string{q.Lines[2].DiscountShare.StringFixed(2),
		q.Lines[2].NetAmount.StringFixed(2), q.Lines[2].VATAmount.StringFixed(2)})
	// S&H 200 + VAT 44 (the general rate), not discounted.
	require.Equal(t, []string{"83499.99", "4175.00", "79524.99", "17286.50", "96811.49", core.TotalsSpread},
		[]string{q.Subtotal.StringFixed(2), q.DiscountTotal.StringFixed(2), q.NetTotal.StringFixed(2), q.VATTotal.StringFixed(2),
			q.GrandTotal.StringFixed(2), q.TotalsRule})

	// An adjustment has no tax basis with VAT on top.
	_, err = s.Quotes().Update(ctx, q.ID, 0, patch(t, `{"adjustment":"-0.50"}`))
	require.Equal(t, "adjustment", core.ErrorFields(err)[0].Field)
	require.Equal(t, "no_tax_basis", core.ErrorFields(err)[0].Code)

	// A draft changes freely; an issued quote keeps its lines and amounts.
	q, err = s.Quotes().Update(ctx, q.ID, 0, patch(t, `{"shipping_amount":"300"}`))
	require.NoError(t, err)
	require.Equal(t, "96933.49", q.GrandTotal.StringFixed(2))
	q, err = s.Quotes().Update(ctx, q.ID, 0, patch(t, `{"status":"delivered","valid_until":"2026-12-31"}`))
	require.NoError(t, err)
	_, err = s.Quotes().Update(ctx, q.ID, 0, patch(t, `{"discount_percent":"7"}`))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err))
	_, err = s.Quotes().Update(ctx, q.ID, 0, patch(t, `{"description":"Позвонить в пятницу","status":"accepted"}`))
	require.NoError(t, err, "notes and status still change")

	inv, err := s.Quotes().ToInvoice(ctx, q.ID, patch(t, `{"date":"2026-11-28","due_date":"2026-12-05"}`))
	require.NoError(t, err)
	require.Equal(t, "СЧ-2026-000001", inv.Number)
	require.Equal(t, q.ID, *inv.QuoteID)
	require.Equal(t, q.GrandTotal.String(), inv.GrandTotal.String(), "every line and amount copied")
	require.Len(t, inv.Lines, 3)
	require.NotEqual(t, q.Lines[0].ID, inv.Lines[0].ID)
	require.Equal(t, core.ECONFLICT, core.ErrorCode(s.Quotes().Delete(ctx, q.ID, 0)), "a quote with invoices stays")

	rejected, err := s.Quotes().Create(ctx, patch(t, `{"status":"rejected","lines":[{"name":"x","price":"1"}]}`))
	require.NoError(t, err)
	_, err = s.Quotes().ToInvoice(ctx, rejected.ID, core.Patch{})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "no invoice from a rejected quote")

	for _, bad := range []string{
		`{"lines":[{"name":"x","price":"-1"}]}`, `{"lines":[{"name":"x","quantity":"-1","price":"1"}]}`,
		`{"lines":[{"name":"x","price":"10","discount_percent":"101"}]}`, `{"lines":[{"name":"x","price":"10","discount_amount":"11"}]}`,
		`{"lines":[{"name":"x","price":"10","vat_rate":"18"}]}`, `{"lines":[{"name":"x"}]}`, `{"lines":[{"price":"1"}]}`,
		`{"date":"2025-06-01","lines":[{"name":"x","price":"1","vat_rate":"22"}]}`,
		`{"currency":"USD","price_book_id":"` + book.ID + `","lines":[{"product_id":"` + sofa.ID + `"}]}`,
	} {
		_, err := s.Quotes().Create(ctx, patch(t, bad))
		require.Equal(t, core.EINVALID, core.ErrorCode(err), bad)
	}
	require.Equal(t, 2, count(t, s, `SELECT count(*) FROM quotes`), "nothing written by bad input")
}

func TestDocumentNumbersAreGapless(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var numbers []string
	failed := 0
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"date":"2026-03-01","lines":[{"name":"Работы","price":"100"}]}`
			if i%4 == 0 { // an owner that does not exist: the insert fails after the number was taken
				body = `{"date":"2026-03-01","owner_id":"0190a5c0-0000-7000-8000-000000000000","lines":[{"name":"Работы","price":"100"}]}`
			}
			inv, err := s.Invoices().Create(ctx, patch(t, body))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				return
			}
			numbers = append(numbers, inv.Number)
		}()
	}
	wg.Wait()
	require.Equal(t, 8, failed)
	sort.Strings(numbers)
	want := make([]string, 24)
	for i := range want {
		want[i] = fmt.Sprintf("СЧ-2026-%06d", i+1)
	}
	require.Equal(t, want, numbers, "24 invoices, numbers 1 to 24: none doubled, none burnt")
}

func TestInvoicePayments(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	inv, err := s.Invoices().Create(ctx, patch(t, `{"status":"sent","lines":[{"name":"Работы","price":"1000","vat_rate":"22"}]}`))
	require.NoError(t, err)
	require.Equal(t, "1220.00", inv.Balance.StringFixed(2))
	pay := func(body string) (*core.Payment, error) { return s.Payments().Create(ctx, patch(t, body)) }
	p1, err := pay(`{"invoice_id":"` + inv.ID + `","amount":"1000","method":"bank_transfer","reference":"п/п 17"}`)
	require.NoError(t, err)
	require.Equal(t, "П-2026-000001", p1.Number)
	require.Equal(t, "RUB", p1.Currency)
	inv, err = s.Invoices().Get(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"1000.00", "220.00", "sent"}, []string{inv.AmountPaid.StringFixed(2), inv.Balance.StringFixed(2), inv.Status})
	_, err = pay(`{"invoice_id":"` + inv.ID + `","amount":"300","method":"cash"}`)
	require.NoError(t, err)
	inv, err = s.Invoices().Get(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, []any{"1300.00", "-80.00", "paid", true}, []any{inv.AmountPaid.StringFixed(2), inv.Balance.StringFixed(2), inv.Status, inv.Overpaid},
		"fully paid: paid, and the overpayment flagged")
	_, err = s.Payments().Update(ctx, p1.ID, 0, patch(t, `{"status":"cancelled"}`))
	require.NoError(t, err)
	inv, err = s.Invoices().Get(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, []any{"300.00", "920.00", "sent", false}, []any{inv.AmountPaid.StringFixed(2), inv.Balance.StringFixed(2), inv.Status, inv.Overpaid})

	for _, bad := range []string{`{"invoice_id":"` + inv.ID + `","amount":"10","method":"cash","currency":"USD"}`,
		`{"invoice_id":"` + inv.ID + `","amount":"0","method":"cash"}`, `{"invoice_id":"` + inv.ID + `","amount":"10"}`,
		`{"invoice_id":"` + inv.ID + `","amount":"10","method":"cheque"}`,
		`{"invoice_id":"` + inv.ID + `","amount":"10","method":"cash","direction":"outgoing"}`} {
		_, err := pay(bad)
		require.Equal(t, core.EINVALID, core.ErrorCode(err), bad)
	}
	require.Equal(t, 2, count(t, s, `SELECT count(*) FROM payments`))
	require.Equal(t, 2, count(t, s, `SELECT seq FROM document_numbers WHERE kind = 'payment'`), "no number burnt by refusals")
}

func TestInvoiceChain(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	sofa, err := s.Products().Create(ctx, patch(t, `{"name":"Диван","unit":"шт","vat_rate":"22","price":"1000","stock_quantity":"25"}`))
	require.NoError(t, err)
	inv, err := s.Invoices().Create(ctx, patch(t, `{"status":"sent","lines":[{"product_id":"`+sofa.ID+`","quantity":"10"},
		{"name":"Сборка","kind":"service","price":"500","vat_rate":"22","quantity":"2","discount_amount":"100"}]}`))
	require.NoError(t, err)
	goods, works := inv.Lines[0].ID, inv.Lines[1].ID
	stock := func() string {
		p, err := s.Products().Get(ctx, sofa.ID)
		require.NoError(t, err)
		return p.StockQuantity.String()
	}
	q := func(s string) *core.Quantity { v := core.Quantity{Decimal: decimal.RequireFromString(s)}; return &v }

	r1, err := s.Invoices().ToRealization(ctx, inv.ID, core.ShipmentRequest{Lines: []core.ShipmentLine{{LineID: goods, Quantity: q("4")}}})
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("РЛ-%d-000001", r1.Date.Year()), r1.Number)
	require.Equal(t, "1", r1.SchetFakturaNumber, "the счёт-фактура's own sequence")
	require.Equal(t, "4", r1.Lines[0].Quantity.String())
	require.Equal(t, goods, *r1.Lines[0].SourceLineID)
	require.Equal(t, "4000.00", r1.NetTotal.StringFixed(2))
	require.Equal(t, "21", stock(), "a realization takes its goods from stock")
	_, err = s.Invoices().ToRealization(ctx, inv.ID, core.ShipmentRequest{Lines: []core.ShipmentLine{{LineID: goods, Quantity: q("7")}}})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "only 6 are left")
	_, err = s.Invoices().ToRealization(ctx, inv.ID, core.ShipmentRequest{Lines: []core.ShipmentLine{{LineID: works}}})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "a service line goes to an act")
	r2, err := s.Invoices().ToRealization(ctx, inv.ID, core.ShipmentRequest{})
	require.NoError(t, err)
	require.Equal(t, "6", r2.Lines[0].Quantity.String(), "all that is left")
	require.Equal(t, "2", r2.SchetFakturaNumber)
	_, err = s.Invoices().ToRealization(ctx, inv.ID, core.ShipmentRequest{})
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "nothing is billed twice")

	act, err := s.Invoices().ToAct(ctx, inv.ID, core.ShipmentRequest{Lines: []core.ShipmentLine{{LineID: works, Quantity: q("1")}}})
	require.NoError(t, err)
	require.Equal(t, "50.00", act.Lines[0].DiscountAmount.StringFixed(2), "an amount discount in proportion")
	require.Equal(t, "549.00", act.GrandTotal.StringFixed(2)) // (500 − 50) × 1.22

	left, err := s.Invoices().Remaining(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"0", "1"}, []string{left[0].Remaining.String(), left[1].Remaining.String()})
	inv, err = s.Invoices().Get(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, []string{act.ID}, inv.ActIDs)
	require.Equal(t, []string{r1.ID, r2.ID}, inv.RealizationIDs, "the links both ways")

	_, err = s.Realizations().Update(ctx, r1.ID, 0, patch(t, `{"status":"cancelled"}`))
	require.NoError(t, err)
	require.Equal(t, "19", stock(), "a cancelled realization returns its goods")
	left, _ = s.Invoices().Remaining(ctx, inv.ID)
	require.Equal(t, "4", left[0].Remaining.String())
	_, err = s.Realizations().Update(ctx, r2.ID, 0, patch(t, `{"lines":[]}`))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "lines billed from the invoice stay")

	require.Equal(t, core.ECONFLICT, core.ErrorCode(s.Invoices().Delete(ctx, inv.ID, 0)))
	_, err = s.Invoices().Update(ctx, inv.ID, 0, patch(t, `{"status":"cancelled"}`))
	require.NoError(t, err)
	require.Equal(t, "25", stock(), "a cancelled invoice returns its stock")
	a, err := s.Acts().Get(ctx, act.ID)
	require.NoError(t, err)
	require.Equal(t, "cancelled", a.Status)
	_, err = s.Invoices().ToAct(ctx, inv.ID, core.ShipmentRequest{})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
}

func TestOrders(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	vendor, err := s.Accounts().Create(ctx, patch(t, `{"name":"ООО Поставщик","type":"vendor"}`))
	require.NoError(t, err)
	q, err := s.Quotes().Create(ctx, patch(t, `{"lines":[{"name":"Стол","price":"7000"}]}`))
	require.NoError(t, err)
	so, err := s.Quotes().ToSalesOrder(ctx, q.ID, patch(t, `{"due_date":"2026-12-15"}`))
	require.NoError(t, err)
	require.Equal(t, "З-2026-000001", so.Number)
	require.Equal(t, q.GrandTotal.String(), so.GrandTotal.String())
	require.Equal(t, q.ID, *so.QuoteID)

	_, err = s.PurchaseOrders().Create(ctx, patch(t, `{"lines":[{"name":"Стол","price":"4000"}]}`))
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "a purchase order names its vendor")
	po, err := s.PurchaseOrders().Create(ctx, patch(t, `{"account_id":"`+vendor.ID+`","lines":[{"name":"Стол","price":"4000"}]}`))
	require.NoError(t, err)
	require.Equal(t, "ЗП-2026-000001", po.Number)
	pay, err := s.Payments().Create(ctx, patch(t, `{"direction":"outgoing","purchase_order_id":"`+po.ID+`","amount":"4880","method":"bank_transfer"}`))
	require.NoError(t, err)
	require.Equal(t, vendor.ID, *pay.AccountID, "the recipient is the order's vendor")
	_, err = s.Payments().Create(ctx, patch(t, `{"purchase_order_id":"`+po.ID+`","amount":"1","method":"cash"}`))
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "an incoming payment does not pay a purchase order")
	_, err = s.Payments().Create(ctx, patch(t, `{"sales_order_id":"`+so.ID+`","amount":"1000","method":"cash"}`))
	require.NoError(t, err, "a prepayment of a sales order")
	require.Equal(t, core.ECONFLICT, core.ErrorCode(s.SalesOrders().Delete(ctx, so.ID, 0)), "an order with payments stays")
	require.Equal(t, core.ECONFLICT, core.ErrorCode(s.PurchaseOrders().Delete(ctx, po.ID, 0)))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(s.Quotes().Delete(ctx, q.ID, 0)), "a quote with an order stays")
}
