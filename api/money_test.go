package api_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// TestOverallDiscountVAT is the issue's reproduction: an overall discount
// lowers the tax base (ст. 154 НК РФ).
func TestOverallDiscountVAT(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for mode, want := range map[string][2]string{"individual": {"198.00", "1098.00"}, "inclusive": {"162.30", "900.00"}, "group": {"198.00", "1098.00"}} {
		r := b.do(t, "POST", "/api/v1/quotes", b.writer, `{"tax_mode":"`+mode+`","lines":[{"name":"A","price":"1000.00","quantity":"1","vat_rate":"22"}],"discount_percent":"10"}`)
		require.Equal(t, 201, r.status, string(r.body))
		q := r.json(t)
		require.Equal(t, want, [2]string{q["vat_total"].(string), q["grand_total"].(string)}, mode)
		l := q["lines"].([]any)[0].(map[string]any)
		require.Equal(t, []any{"1000.00", "100.00", want[0]}, []any{l["amount"], l["discount_share"], l["vat_amount"]}, mode)
	}
	r := b.do(t, "POST", "/api/v1/quotes", b.writer, `{"adjustment":"-0.45","lines":[{"name":"A","price":"1000.00","vat_rate":"22"}]}`)
	require.Equal(t, 422, r.status)
	require.Contains(t, string(r.body), `"field":"adjustment"`)
	require.Contains(t, string(r.body), "discount")
}

var figure = regexp.MustCompile(`-?\d{1,3}(?: \d{3})*,\d{2}`)

// figures are the money figures a PDF's text shows.
func figures(t *testing.T, pdf []byte) (string, []string) {
	t.Helper()
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	require.NoError(t, err, "pdftotext (poppler-utils)")
	text := strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(string(out))
	// Requisites (accounts, ИНН) have no decimal comma; dates none either.
	return text, figure.FindAllString(text, -1)
}

func money(v any) string {
	d, err := decimal.NewFromString(v.(string))
	if err != nil {
		panic(err)
	}
	return core.FormatAmount(d)
}

func dec(v any) decimal.Decimal { return decimal.RequireFromString(v.(string)) }

// checkForm prints a document's form and checks that every money figure
// it shows is one of the document's stored figures (a line's final
// amounts, its price after discounts, a total) and that the totals and
// the amount in words are the document's.
func checkForm(t *testing.T, b *bundle, path string, doc map[string]any, goodsOnly bool) {
	t.Helper()
	r := b.do(t, "GET", path, b.reader, "")
	require.Equal(t, 200, r.status, "%s: %s", path, r.body)
	text, got := figures(t, r.body)
	mode := doc["tax_mode"].(string)
	allowed := map[string]bool{}
	var net, vat, gross decimal.Decimal
	lines := doc["lines"].([]any)
	if sh := dec(doc["shipping_amount"]); sh.IsPositive() { // the delivery row of a quote or an invoice
		lines = append(lines, map[string]any{"kind": "service", "quantity": "1", "_shipping": true})
	}
	for _, x := range lines {
		l := x.(map[string]any)
		if l["_shipping"] == true {
			net = dec(doc["net_total"])
			vat, gross = dec(doc["vat_total"]), dec(doc["grand_total"])
			for _, y := range doc["lines"].([]any) {
				ly := y.(map[string]any)
				net, vat, gross = net.Sub(dec(ly["net_amount"])), vat.Sub(dec(ly["vat_amount"])), gross.Sub(dec(ly["total_amount"]))
			}
			l = map[string]any{"net_amount": net.StringFixed(2), "vat_amount": vat.StringFixed(2), "total_amount": gross.StringFixed(2), "quantity": "1"}
		}
		if goodsOnly && l["kind"] == "service" {
			continue
		}
		for _, k := range []string{"net_amount", "vat_amount", "total_amount"} {
			allowed[money(l[k])] = true
		}
		q := dec(l["quantity"])
		for _, k := range []string{"net_amount", "total_amount"} {
			if q.IsPositive() {
				allowed[core.FormatAmount(dec(l[k]).Div(q).Round(2))] = true
			}
		}
	}
	pnet, pvat, pgross := decimal.Zero, decimal.Zero, decimal.Zero
	for _, x := range doc["lines"].([]any) {
		l := x.(map[string]any)
		if goodsOnly && l["kind"] == "service" {
			continue
		}
		pnet, pvat, pgross = pnet.Add(dec(l["net_amount"])), pvat.Add(dec(l["vat_amount"])), pgross.Add(dec(l["total_amount"]))
	}
	if !goodsOnly {
		pnet, pvat, pgross = dec(doc["net_total"]), dec(doc["vat_total"]), dec(doc["grand_total"])
	}
	for _, v := range []decimal.Decimal{pnet, pvat, pgross} {
		allowed[core.FormatAmount(v)] = true
	}
	for _, rt := range doc["vat_by_rate"].([]any) {
		allowed[money(rt.(map[string]any)["vat"])] = true
	}
	allowed[money(doc["discount_total"])] = true
	if mode == "inclusive" {
		allowed[core.FormatAmount(pgross)] = true
	}
	for _, g := range got {
		require.True(t, allowed[g], "%s prints %s, which is none of the document's figures %v\n%s", path, g, allowed, text)
	}
	require.Contains(t, got, core.FormatAmount(pgross), "%s: the total", path)
	if strings.Contains(path, "form=") && !strings.Contains(path, "form=act") { // a tax form totals the VAT column
		require.Contains(t, got, core.FormatAmount(pvat), "%s: the VAT", path)
	} else { // a счёт, акт or предложение shows VAT per rate
		for _, rt := range doc["vat_by_rate"].([]any) {
			if v := rt.(map[string]any); v["rate"] != "none" {
				require.Contains(t, got, money(v["vat"]), "%s: the VAT at %s%%", path, v["rate"])
			}
		}
	}
	if !strings.Contains(path, "form=schet-faktura") && !strings.Contains(path, "form=upd") { // these print no words
		require.Contains(t, text, core.AmountInWords(pgross), "%s: the amount in words is the total", path)
	}
}

// TestMoneyWalk walks quote (overall amount discount, shipping, mixed
// 22/10/none) → invoice → partial and whole realizations and an act →
// payments → every form's PDF, and checks every printed figure against
// the documents' JSON and the closing documents against the invoice.
func TestMoneyWalk(t *testing.T) {
	t.Parallel()
	b := setup(t)
	must := func(status int, r reply) map[string]any {
		t.Helper()
		require.Equal(t, status, r.status, string(r.body))
		return r.json(t)
	}
	acc := must(201, b.do(t, "POST", "/api/v1/accounts", b.writer, `{"name":"ООО Лютик","inn":"500100732259"}`))["id"].(string)
	chair := must(201, b.do(t, "POST", "/api/v1/products", b.writer, `{"name":"Кресло","unit":"шт","unit_code":"796","vat_rate":"22","price":"333.33","stock_quantity":"10"}`))["id"].(string)
	book := must(201, b.do(t, "POST", "/api/v1/products", b.writer, `{"name":"Книга","unit":"шт","unit_code":"796","vat_rate":"10","price":"1250"}`))["id"].(string)
	mount := must(201, b.do(t, "POST", "/api/v1/services", b.writer, `{"name":"Монтаж","unit":"усл","vat_rate":"22","price":"7000"}`))["id"].(string)
	q := must(201, b.do(t, "POST", "/api/v1/quotes", b.writer, `{"account_id":"`+acc+`","date":"2026-11-20","discount_amount":"1000.00",
		"shipping_amount":"500","shipping_vat_rate":"22","lines":[{"product_id":"`+chair+`","quantity":"3"},
		{"product_id":"`+book+`","quantity":"2","discount_percent":"5"},{"service_id":"`+mount+`"},
		{"name":"Упаковка","price":"150","quantity":"2","vat_rate":"none"}]}`))
	// 999.99 + 2375.00 + 7000.00 + 300.00 = 10674.99; 1000.00 spread.
	require.Equal(t, []any{"10674.99", "1000.00"}, []any{q["subtotal"], q["discount_total"]})
	shares := decimal.Zero
	for _, x := range q["lines"].([]any) {
		shares = shares.Add(dec(x.(map[string]any)["discount_share"]))
	}
	require.Equal(t, "1000.00", shares.StringFixed(2))
	checkForm(t, b, "/api/v1/quotes/"+q["id"].(string)+"/pdf", q, false)

	inv := must(201, b.do(t, "POST", "/api/v1/quotes/"+q["id"].(string)+"/invoice", b.writer, `{"date":"2026-11-21","status":"sent"}`))
	invID := inv["id"].(string)
	for _, k := range []string{"net_total", "vat_total", "grand_total", "discount_total"} {
		require.Equal(t, q[k], inv[k], k)
	}
	checkForm(t, b, "/api/v1/invoices/"+invID+"/pdf", inv, false)
	lineID := inv["lines"].([]any)[0].(map[string]any)["id"].(string)

	r1 := must(201, b.do(t, "POST", "/api/v1/invoices/"+invID+"/realization", b.writer,
		`{"date":"2026-11-24","lines":[{"line_id":"`+lineID+`","quantity":"1"}]}`))
	r2 := must(201, b.do(t, "POST", "/api/v1/invoices/"+invID+"/realization", b.writer, `{"date":"2026-11-25"}`))
	act := must(201, b.do(t, "POST", "/api/v1/invoices/"+invID+"/act", b.writer, `{"date":"2026-11-25"}`))
	left := must(200, b.do(t, "GET", "/api/v1/invoices/"+invID+"/remaining", b.reader, ""))["items"].([]any)
	require.Len(t, left, 5, "four lines and the delivery")
	for _, x := range left {
		require.Equal(t, "0", x.(map[string]any)["remaining"], x)
	}
	for _, k := range []string{"net_total", "vat_total", "grand_total"} {
		sum := dec(r1[k]).Add(dec(r2[k])).Add(dec(act[k]))
		require.Equal(t, inv[k], sum.StringFixed(2), "%s: the closing documents are the invoice", k)
	}
	names := []string{}
	for _, x := range act["lines"].([]any) {
		names = append(names, x.(map[string]any)["name"].(string))
	}
	require.Equal(t, []string{"Монтаж", "Доставка"}, names)

	must(201, b.do(t, "POST", "/api/v1/invoices/"+invID+"/payments", b.writer, `{"amount":"5000","date":"2026-11-26","method":"bank_transfer"}`))
	rest := dec(inv["grand_total"]).Sub(decimal.NewFromInt(5000)).StringFixed(2)
	must(201, b.do(t, "POST", "/api/v1/invoices/"+invID+"/payments", b.writer, `{"amount":"`+rest+`","date":"2026-11-27","method":"cash"}`))
	paid := must(200, b.do(t, "GET", "/api/v1/invoices/"+invID, b.reader, ""))
	require.Equal(t, []any{inv["grand_total"], "0.00", "paid"}, []any{paid["amount_paid"], paid["balance"], paid["status"]})

	for _, f := range []string{"act", "schet-faktura", "upd"} {
		checkForm(t, b, "/api/v1/acts/"+act["id"].(string)+"/pdf?form="+f, act, false)
	}
	for _, r := range []map[string]any{r1, r2} {
		for _, f := range []string{"schet-faktura", "upd"} {
			checkForm(t, b, "/api/v1/realizations/"+r["id"].(string)+"/pdf?form="+f, r, false)
		}
		checkForm(t, b, "/api/v1/realizations/"+r["id"].(string)+"/pdf?form=torg12", r, true)
	}
	// A счёт-фактура for services: lines (3) and (4) are «--», and it is
	// numbered in the счёт-фактура sequence.
	pdf := b.do(t, "GET", "/api/v1/acts/"+act["id"].(string)+"/pdf?form=schet-faktura", b.reader, "")
	text, _ := figures(t, pdf.body)
	require.Contains(t, text, "Грузоотправитель и его адрес: --")
	require.Contains(t, text, fmt.Sprintf("СЧЁТ-ФАКТУРА № %s", act["schet_faktura_number"]))
	require.Contains(t, pdf.header.Get("Content-Disposition"), "%D0%A1%D1%87%D1%91%D1%82-%D1%84%D0%B0%D0%BA%D1%82%D1%83%D1%80%D0%B0%20"+
		fmt.Sprint(act["schet_faktura_number"]), "the file is named after the number it prints")
	require.True(t, slices.Contains([]string{"3", "4"}, fmt.Sprint(act["schet_faktura_number"])), "after the two realizations'")
}

// TestForeignCurrencyInvoice: rates in, a dollar invoice takes the rate of
// its date, prints its currency and the amount in dollars in words with
// the total in roubles; XYZ is no currency.
func TestForeignCurrencyInvoice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.PutRates(context.Background(), []core.CurrencyRate{{Currency: "USD", Nominal: 1,
		Rate: decimal.RequireFromString("93.2801"), Date: core.NewDate(time.Date(2023, 11, 2, 0, 0, 0, 0, time.UTC))}})
	require.NoError(t, err)
	r := b.do(t, "GET", "/api/v1/currency-rates?date=2023-11-02", b.reader, "")
	require.Equal(t, 200, r.status, string(r.body))
	require.JSONEq(t, `{"items":[{"currency":"USD","nominal":1,"rate":"93.2801","date":"2023-11-02"}]}`, string(r.body))
	require.Equal(t, 422, b.do(t, "GET", "/api/v1/currency-rates?date=02.11.2023", b.reader, "").status)
	require.Equal(t, 422, b.do(t, "POST", "/api/v1/invoices", b.writer, `{"currency":"XYZ","lines":[]}`).status)
	r = b.do(t, "POST", "/api/v1/invoices", b.writer, `{"currency":"usd","date":"2023-11-03","lines":[{"name":"Лицензия","price":"1000","vat_rate":"20"}]}`)
	require.Equal(t, 201, r.status, string(r.body))
	inv := r.json(t)
	require.Equal(t, []any{"USD", "93.2801", "1200.00"}, []any{inv["currency"], inv["conversion_rate"], inv["grand_total"]})
	pdf := b.do(t, "GET", "/api/v1/invoices/"+inv["id"].(string)+"/pdf", b.reader, "")
	require.Equal(t, 200, pdf.status)
	text, _ := figures(t, pdf.body)
	for _, want := range []string{"Одна тысяча двести долларов США 00 центов", "на сумму 1 200,00 USD",
		"Курс ЦБ РФ на 03.11.2023: 1 USD = 93,2801 руб.; сумма в рублях: 111 936,12 руб."} {
		require.Contains(t, text, want)
	}
}

// TestRequisitesFrozenAtIssue: an issued document prints the buyer as it
// was when the document was issued; a draft prints the account as it is.
func TestRequisitesFrozenAtIssue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "POST", "/api/v1/accounts", b.writer, `{"name":"ООО Лютик","inn":"7707083893","kpp":"773601001"}`)
	require.Equal(t, 201, r.status, string(r.body))
	acc := r.json(t)["id"].(string)
	body := `{"account_id":"` + acc + `","lines":[{"name":"Работы","price":"1000","vat_rate":"22"}]`
	r = b.do(t, "POST", "/api/v1/invoices", b.writer, body+`,"status":"sent"}`)
	require.Equal(t, 201, r.status, string(r.body))
	issued := r.json(t)
	req := issued["requisites"].(map[string]any)
	require.Equal(t, "ООО Лютик", req["buyer"].(map[string]any)["name"])
	require.Equal(t, "ООО «Ромашка»", req["seller"].(map[string]any)["name"])
	r = b.do(t, "POST", "/api/v1/invoices", b.writer, body+`}`)
	require.Equal(t, 201, r.status)
	draft := r.json(t)
	require.Nil(t, draft["requisites"])

	r = b.do(t, "PATCH", "/api/v1/accounts/"+acc, b.writer, `{"name":"ООО Лютик и партнёры"}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, 200, r.status, string(r.body))
	text := func(id string) string {
		pdf := b.do(t, "GET", "/api/v1/invoices/"+id+"/pdf", b.reader, "")
		require.Equal(t, 200, pdf.status)
		s, _ := figures(t, pdf.body)
		return s
	}
	require.NotContains(t, text(issued["id"].(string)), "партнёры", "an issued invoice keeps the buyer it was issued to")
	require.Contains(t, text(draft["id"].(string)), "ООО Лютик и партнёры", "a draft prints the live requisites")
	// A status change keeps the snapshot.
	r = b.do(t, "PATCH", "/api/v1/invoices/"+issued["id"].(string), b.writer, `{"status":"approved"}`, "Content-Type", "application/merge-patch+json")
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "ООО Лютик", r.json(t)["requisites"].(map[string]any)["buyer"].(map[string]any)["name"])
}

// TestOrderForms: orders show their payments and print as «Заказ
// покупателя» and «Заказ поставщику», their figures the orders'.
func TestOrderForms(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "POST", "/api/v1/accounts", b.writer, `{"name":"ООО Поставщик","type":"vendor"}`)
	require.Equal(t, 201, r.status, string(r.body))
	vendor := r.json(t)["id"].(string)
	r = b.do(t, "POST", "/api/v1/sales-orders", b.writer, `{"discount_percent":"5","shipping_amount":"300","lines":[{"name":"Стол","price":"7000","quantity":"2","vat_rate":"22"},{"name":"Книга","price":"500","vat_rate":"10"}]}`)
	require.Equal(t, 201, r.status, string(r.body))
	so := r.json(t)
	require.Equal(t, 201, b.do(t, "POST", "/api/v1/payments", b.writer, `{"sales_order_id":"`+so["id"].(string)+`","amount":"1000","method":"cash"}`).status)
	r = b.do(t, "GET", "/api/v1/sales-orders/"+so["id"].(string), b.reader, "")
	so = r.json(t)
	require.Equal(t, "1000.00", so["amount_paid"])
	require.Equal(t, dec(so["grand_total"]).Sub(decimal.NewFromInt(1000)).StringFixed(2), so["balance"])
	checkForm(t, b, "/api/v1/sales-orders/"+so["id"].(string)+"/pdf", so, false)
	r = b.do(t, "POST", "/api/v1/purchase-orders", b.writer, `{"account_id":"`+vendor+`","lines":[{"name":"Стол","price":"4000","vat_rate":"22"}]}`)
	require.Equal(t, 201, r.status, string(r.body))
	po := r.json(t)
	checkForm(t, b, "/api/v1/purchase-orders/"+po["id"].(string)+"/pdf", po, false)
	pdf := b.do(t, "GET", "/api/v1/purchase-orders/"+po["id"].(string)+"/pdf", b.reader, "")
	text, _ := figures(t, pdf.body)
	require.Contains(t, text, "Заказ поставщику № "+po["number"].(string))
	require.Contains(t, text, "ООО Поставщик")
}
