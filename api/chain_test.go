package api_test

import (
	"bytes"
	"context"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDocumentChain runs the sales process through the API: a quote, its
// invoice, an act of its services and a realization of its goods, two
// payments, and the invoice paid; then reads the events it left.
func TestDocumentChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := func(t *testing.T, r reply) string { t.Helper(); return r.json(t)["id"].(string) }
	must := func(t *testing.T, status int, r reply) reply {
		t.Helper()
		require.Equal(t, status, r.status, string(r.body))
		return r
	}
	var acc, sofa, assembly, invID string
	var q, inv, act, real map[string]any

	if !t.Run("TheCustomerTheGoodsAndTheServiceExist", func(t *testing.T) {
		acc = id(t, must(t, 201, b.do(t, "POST", "/api/v1/accounts", b.writer, `{"name":"ООО Ромашка","inn":"7707083893","kpp":"773601001"}`)))
		sofa = id(t, must(t, 201, b.do(t, "POST", "/api/v1/products", b.writer,
			`{"name":"Диван","unit":"шт","unit_code":"796","vat_rate":"22","price":"30000","stock_quantity":"10"}`)))
		assembly = id(t, must(t, 201, b.do(t, "POST", "/api/v1/services", b.writer, `{"name":"Сборка","unit":"усл","vat_rate":"22","price":"2000"}`)))
	}) {
		return
	}

	if !t.Run("TheAcceptedQuoteBecomesAnInvoiceOfTheSameTotal", func(t *testing.T) {
		q = must(t, 201, b.do(t, "POST", "/api/v1/quotes", b.writer, `{"subject":"Мебель","account_id":"`+acc+`","date":"2026-11-20","lines":[
		{"product_id":"`+sofa+`","quantity":"2"},{"service_id":"`+assembly+`","quantity":"2"}]}`)).json(t)
		require.Equal(t, "78080.00", q["grand_total"]) // 60000 + 13200 VAT + 4000 + 880 VAT
		must(t, 200, b.do(t, "PATCH", "/api/v1/quotes/"+q["id"].(string), b.writer, `{"status":"accepted"}`))
		inv = must(t, 201, b.do(t, "POST", "/api/v1/quotes/"+q["id"].(string)+"/invoice", b.writer,
			`{"date":"2026-11-21","due_date":"2026-11-28","status":"sent"}`)).json(t)
		invID = inv["id"].(string)
		require.Equal(t, "78080.00", inv["grand_total"])
		require.Equal(t, q["id"], inv["quote_id"])
	}) {
		return
	}

	if !t.Run("TheActAndTheRealizationShipTheWholeInvoice", func(t *testing.T) {
		act = must(t, 201, b.do(t, "POST", "/api/v1/invoices/"+invID+"/act", b.writer, `{"date":"2026-11-25"}`)).json(t)
		require.Equal(t, "4880.00", act["grand_total"])
		real = must(t, 201, b.do(t, "POST", "/api/v1/invoices/"+invID+"/realization", b.writer, `{"date":"2026-11-24","status":"sent"}`)).json(t)
		require.Equal(t, "73200.00", real["grand_total"])
		must(t, 422, b.do(t, "POST", "/api/v1/invoices/"+invID+"/realization", b.writer, `{}`))
		left := must(t, 200, b.do(t, "GET", "/api/v1/invoices/"+invID+"/remaining", b.reader, "")).json(t)["items"].([]any)
		require.Equal(t, "0", left[0].(map[string]any)["remaining"])
		require.Equal(t, "8", must(t, 200, b.do(t, "GET", "/api/v1/products/"+sofa, b.reader, "")).json(t)["stock_quantity"])
	}) {
		return
	}

	if !t.Run("TheSecondPaymentClosesTheInvoice", func(t *testing.T) {
		must(t, 201, b.do(t, "POST", "/api/v1/invoices/"+invID+"/payments", b.writer, `{"amount":"30000","date":"2026-11-26","method":"bank_transfer","reference":"п/п 101"}`))
		inv = must(t, 200, b.do(t, "GET", "/api/v1/invoices/"+invID, b.reader, "")).json(t)
		require.Equal(t, []any{"30000.00", "48080.00", "sent"}, []any{inv["amount_paid"], inv["balance"], inv["status"]})
		must(t, 201, b.do(t, "POST", "/api/v1/invoices/"+invID+"/payments", b.writer, `{"amount":"48080.00","date":"2026-11-27","method":"cash"}`))
		inv = must(t, 200, b.do(t, "GET", "/api/v1/invoices/"+invID, b.reader, "")).json(t)
		require.Equal(t, []any{"78080.00", "0.00", "paid", false}, []any{inv["amount_paid"], inv["balance"], inv["status"], inv["overpaid"]})
		require.Equal(t, []any{act["id"]}, inv["act_ids"])
		require.Equal(t, []any{real["id"]}, inv["realization_ids"])
	}) {
		return
	}

	// The invoice prints: a PDF named after it, with its number, customer,
	// total and the total in words.
	t.Run("ThePaidInvoicePrintsItsNumberCustomerAndTotalInWords", func(t *testing.T) {
		r := must(t, 200, b.do(t, "GET", "/api/v1/invoices/"+invID+"/pdf", b.reader, ""))
		require.Equal(t, "application/pdf", r.header.Get("Content-Type"))
		require.Contains(t, r.header.Get("Content-Disposition"), "attachment")
		cmd := exec.Command("pdftotext", "-layout", "-", "-")
		cmd.Stdin = bytes.NewReader(r.body)
		text, err := cmd.Output()
		require.NoError(t, err)
		for _, want := range []string{"Счёт на оплату № " + inv["number"].(string), "ООО Ромашка, ИНН 7707083893",
			"78 080,00", "Семьдесят восемь тысяч восемьдесят рублей 00 копеек"} {
			require.Contains(t, string(text), want)
		}
	})

	// The events: every document, its lines in the data, and the invoice's
	// changes in order.
	t.Run("TheInvoiceChangesAreEventsInOrder", func(t *testing.T) {
		rows, err := b.store.Pool().Query(context.Background(), `SELECT type FROM outbox WHERE entity_id = $1 ORDER BY seq`, invID)
		require.NoError(t, err)
		var types []string
		for rows.Next() {
			var ty string
			require.NoError(t, rows.Scan(&ty))
			types = append(types, ty)
		}
		require.Equal(t, []string{"invoice.created", "invoice.updated", "invoice.updated", "invoice.updated", "invoice.updated"},
			types, "created; act linked; realization linked; paid in part; paid")
	})

	t.Run("TheRealizationEventCarriesItsLines", func(t *testing.T) {
		var lines int
		require.NoError(t, b.store.Pool().QueryRow(context.Background(), `SELECT jsonb_array_length(data->'lines') FROM outbox
		WHERE type = 'realization.created'`).Scan(&lines))
		require.Equal(t, 1, lines)
	})

	t.Run("EveryDocumentOfTheChainLeftAnEvent", func(t *testing.T) {
		var kinds []string
		rows, err := b.store.Pool().Query(context.Background(), `SELECT DISTINCT entity FROM outbox WHERE entity IN
		('quote', 'invoice', 'act', 'realization', 'payment', 'product') ORDER BY 1`)
		require.NoError(t, err)
		for rows.Next() {
			var k string
			require.NoError(t, rows.Scan(&k))
			kinds = append(kinds, k)
		}
		require.Equal(t, []string{"act", "invoice", "payment", "product", "quote", "realization"}, kinds)
	})
}
