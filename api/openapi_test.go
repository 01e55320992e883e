package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	return loadDocFrom(t, api.OpenAPI())
}

// checkUUIDs makes kin-openapi check the "uuid" format, which it leaves
// unchecked unless told (its formats are a package-level registry).
var checkUUIDs = sync.OnceFunc(func() {
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
})

// loadDocFrom loads and validates an OpenAPI document.
func loadDocFrom(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	checkUUIDs()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	return doc
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	b := setup(t, withBitrix24(t))

	var registered, documented []string
	for _, r := range b.srv.Routes() {
		registered = append(registered, r[0]+" "+r[1])
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(registered)
	sort.Strings(documented)
	require.Equal(t, documented, registered, "every registered route is documented and every documented route exists")

	r := b.do(t, "GET", "/openapi.json", "", "")
	require.Equal(t, 200, r.status)
	require.Equal(t, api.OpenAPI(), r.body)
}

// TestResponsesMatchTheDocument validates real requests and responses
// against the document's schemas.
func TestResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	b := setup(t)
	router := openAPIRouter(t)
	// The records later steps use.
	var (
		id        string // a lead
		accID     string
		userID    string // deactivated in Users
		dealID    string
		convID    string // the converted lead
		productID string
		bookID    string
		quoteID   string
		invoiceID string
		realID    string
	)

	if !t.Run("Leads", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/leads", b.writer, `{"last_name":"Иванов","company":"ООО","phone":"8 912 345 67 89","employees":12,"annual_revenue":"100.5"}`, 201)
		id = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("GET", "/api/v1/leads/"+id, b.reader, "", 200)
		check("PATCH", "/api/v1/leads/"+id, b.writer, `{"status":"warm","address":{"city":"Тула"}}`, 200)
		check("GET", "/api/v1/leads?limit=1&sort=-updated_at", b.reader, "", 200)
		check("GET", "/api/v1/picklists", b.reader, "", 200)
		check("GET", "/api/v1/apikeys", b.admin, "", 200)
		check("POST", "/api/v1/apikeys", b.admin, `{"name":"x","scopes":["read"]}`, 201)
		check("POST", "/api/v1/leads", b.writer, `{"last_name":"A"}`, 422)
		check("GET", "/api/v1/leads/"+id, "", "", 401)
		check("DELETE", "/api/v1/leads/"+id, b.writer, "", 412, "If-Match", `"9"`)
		check("DELETE", "/api/v1/leads/"+id, b.writer, "", 204)
		check("GET", "/api/v1/leads/"+id, b.reader, "", 404)
	}) {
		return
	}
	if !t.Run("Accounts", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/accounts", b.writer, `{"name":"ПАО Сбербанк","inn":"7707083893","kpp":"773601001",`+
			`"bik":"044525225","correspondent_account":"30101810400000000225","legal_address":{"city":"Москва"},"external_ids":{"onec":"x1"}}`, 201)
		accID = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("PATCH", "/api/v1/accounts/"+accID, b.writer, `{"type":"partner","actual_address":{"line":"Москва, ул. Вавилова, 19"}}`, 200)
		check("GET", "/api/v1/accounts?inn=7707083893&type=partner&external_id=onec:x1&sort=name", b.reader, "", 200)
		check("POST", "/api/v1/accounts", b.writer, `{"name":"X","inn":"7707083894"}`, 422)
	}) {
		return
	}
	if !t.Run("Contacts", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/contacts", b.writer, `{"last_name":"Сидоров","middle_name":"Петрович","account_id":"`+accID+`","do_not_call":true}`, 201)
		conID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("GET", "/api/v1/contacts/"+conID, b.reader, "", 200)
		check("GET", "/api/v1/contacts?account_id="+accID+"&sort=-last_name", b.reader, "", 200)
		check("DELETE", "/api/v1/contacts/"+conID, b.writer, "", 204)
	}) {
		return
	}
	if !t.Run("Users", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/users", b.admin, `{"name":"Пётр","phone_extensions":["101"]}`, 201)
		userID = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("PATCH", "/api/v1/users/"+userID, b.admin, `{"active":false}`, 200)
		check("GET", "/api/v1/users?active=false&extension=101", b.reader, "", 200)
		check("DELETE", "/api/v1/users/"+userID, b.admin, "", 409)
	}) {
		return
	}
	if !t.Run("Deals", func(t *testing.T) {
		check := router.checker(t, b)
		check("GET", "/api/v1/pipelines", b.reader, "", 200)
		data := check("POST", "/api/v1/deals", b.writer, `{"name":"Поставка","amount":"1500.5","account_id":"`+accID+`","close_date":"2026-12-31"}`, 201)
		dealID = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("PATCH", "/api/v1/deals/"+dealID, b.writer, `{"stage":"closed_won"}`, 200)
		check("PATCH", "/api/v1/deals/"+dealID, b.writer, `{"amount":"1"}`, 409)
		check("POST", "/api/v1/deals/"+dealID+"/reopen", b.writer, `{"stage":"qualification"}`, 200)
		check("GET", "/api/v1/deals/"+dealID+"/stages", b.reader, "", 200)
		check("GET", "/api/v1/deals?open=true&stage=qualification&close_to=2027-01-01", b.reader, "", 200)
	}) {
		return
	}
	if !t.Run("Activities", func(t *testing.T) {
		check := router.checker(t, b)
		soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		later := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
		data := check("POST", "/api/v1/activities", b.writer, `{"kind":"call","subject":"Звонок","start_at":"`+soon+`","end_at":"`+later+`","deal_id":"`+dealID+`"}`, 201)
		actID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("PATCH", "/api/v1/activities/"+actID, b.writer, `{"status":"not_held"}`, 200)
		check("PATCH", "/api/v1/activities/"+actID, b.writer, `{"status":"in_progress"}`, 422)
		check("POST", "/api/v1/activities", b.writer, `{"kind":"task","subject":"Счёт","start_at":"`+soon+`","due_at":"`+later+`","priority":"low"}`, 201)
		check("GET", "/api/v1/activities?from="+url.QueryEscape(soon)+"&to="+url.QueryEscape(later)+"&kind=call,task&sort=start_at", b.reader, "", 200)
	}) {
		return
	}
	if !t.Run("LeadConversion", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/leads", b.writer, `{"last_name":"Кузнецов","company":"ИП Кузнецов"}`, 201)
		convID = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("POST", "/api/v1/leads/"+convID+"/convert", b.writer, `{"deal":{"amount":"1000"}}`, 201)
		check("POST", "/api/v1/leads/"+convID+"/convert", b.writer, `{"deal":{"amount":"1000"}}`, 200)
		check("POST", "/api/v1/leads/"+convID+"/convert", b.writer, `{}`, 409)
		check("GET", "/api/v1/leads/"+convID, b.reader, "", 200)
	}) {
		return
	}
	if !t.Run("History", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("GET", "/api/v1/deals/"+dealID+"/history", b.reader, "", 200)
		require.Contains(t, string(data), `{"field":"stage","from":"prospecting","to":"closed_won"}`)
		check("GET", "/api/v1/leads/"+id+"/history", b.reader, "", 200)
		check("GET", "/api/v1/accounts/0190a5c0-0000-7000-8000-000000000000/history", b.reader, "", 404)
	}) {
		return
	}
	if !t.Run("Funnel", func(t *testing.T) {
		check := router.checker(t, b)
		check("GET", "/api/v1/funnel", b.reader, "", 200)
		check("GET", "/api/v1/funnel?from=2020-01-01&owner=0190a5c0-0000-7000-8000-000000000000", b.reader, "", 200)
		check("GET", "/api/v1/funnel?pipline=x", b.reader, "", 422)
	}) {
		return
	}
	if !t.Run("SearchDuplicatesAndMerge", func(t *testing.T) {
		check := router.checker(t, b)
		check("GET", "/api/v1/search?q="+url.QueryEscape("Сидоров"), b.reader, "", 200)
		check("GET", "/api/v1/search?q=x", b.reader, "", 422)
		check("GET", "/api/v1/duplicates?inn=7707083893&phone="+url.QueryEscape("8 912 345-67-89"), b.reader, "", 200)
		check("GET", "/api/v1/duplicates", b.reader, "", 422)
		data := check("POST", "/api/v1/contacts", b.writer, `{"last_name":"Дубль","email":"dub@example.ru"}`, 201)
		dupID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		data = check("POST", "/api/v1/contacts", b.writer, `{"last_name":"Основной"}`, 201)
		mainID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		data = check("POST", "/api/v1/contacts/"+mainID+"/merge", b.writer, `{"duplicate_id":"`+dupID+`"}`, 200)
		require.Contains(t, string(data), `"email":"dub@example.ru"`)
		check("POST", "/api/v1/contacts/"+mainID+"/merge", b.writer, `{"duplicate_id":"`+mainID+`"}`, 422)
	}) {
		return
	}
	if !t.Run("WebForms", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/webforms", b.admin, `{"slug":"contact","name":"Обратная связь","required":["phone"],`+
			`"fields":{"tel":"phone"},"api_key":"s3cret-key","allowed_origins":["https://example.ru"]}`, 201)
		require.NotContains(t, string(data), "s3cret-key", "the key is write-only")
		check("GET", "/api/v1/webforms", b.admin, "", 200)
		check("GET", "/api/v1/webforms", b.writer, "", 403)
		check("GET", "/api/v1/webforms/contact", b.admin, "", 200)
		check("POST", "/api/v1/webforms", b.admin, `{"slug":"contact"}`, 409)
		data = check("POST", "/api/v1/webforms", b.admin, `{"slug":"bad","fields":{"x":"no_such_field"},"target":"ticket"}`, 422)
		require.Contains(t, string(data), `"fields.x"`)
		require.Contains(t, string(data), `"target"`)
		check("PUT", "/api/v1/webforms/contact", b.admin, `{"slug":"contact","target":"contact"}`, 412, "If-Match", `"7"`)
		data = check("PUT", "/api/v1/webforms/contact", b.admin, `{"slug":"contact","target":"contact"}`, 200, "If-Match", `"1"`)
		require.Contains(t, string(data), `"version":2`)
		stored, err := b.store.WebForm(context.Background(), "contact")
		require.NoError(t, err)
		require.Equal(t, "s3cret-key", stored.APIKey, "a replacement without api_key keeps the key")
		check("DELETE", "/api/v1/webforms/contact", b.admin, "", 204)
		check("GET", "/api/v1/webforms/contact", b.admin, "", 404)
	}) {
		return
	}
	if !t.Run("Attachments", func(t *testing.T) {
		check := router.checker(t, b)
		check("GET", "/api/v1/leads/"+convID+"/attachments", b.reader, "", 200)
		check("GET", "/api/v1/attachments/0190a5c0-0000-7000-8000-000000000000", b.reader, "", 404)
	}) {
		return
	}
	if !t.Run("Calls", func(t *testing.T) {
		check := router.checker(t, b)
		start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
		call, _, err := b.store.ReportCall(context.Background(), core.CallReport{Provider: "generic", CallID: "c-1", Direction: "in",
			From: "+7 903 111-22-33", Extension: "101", StartedAt: &start, Disposition: "missed", Final: true},
			core.CallPolicy{CreateLeads: true})
		require.NoError(t, err)
		data := check("GET", "/api/v1/calls?direction=in&disposition=missed,answered&phone="+url.QueryEscape("8 903 111 22 33")+"&limit=1", b.reader, "", 200)
		require.Contains(t, string(data), call.ID)
		check("GET", "/api/v1/calls?sort=-created_at&lead_id="+*call.LeadID, b.reader, "", 200)
		check("GET", "/api/v1/calls?phone=x", b.reader, "", 422)
		check("GET", "/api/v1/calls/"+call.ID, b.reader, "", 200)
		check("GET", "/api/v1/calls/0190a5c0-0000-7000-8000-000000000000", b.reader, "", 404)
		check("POST", "/api/v1/calls/dial", b.writer, `{"phone":"8 916 123-45-67","user_id":"`+userID+`"}`, 422) // deactivated
		data = check("POST", "/api/v1/users", b.admin, `{"name":"Анна","phone_extensions":["102"]}`, 201)
		annaID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		data = check("POST", "/api/v1/calls/dial", b.writer, `{"phone":"8 916 123-45-67","user_id":"`+annaID+`"}`, 202)
		require.JSONEq(t, `{"status":"dialing","provider":"asterisk","user_id":"`+annaID+`","phone":"+79161234567"}`, string(data))
		check("POST", "/api/v1/calls/dial", b.writer, `{"phone":"8 916 123-45-67"}`, 422) // a key without a user names one
		check("POST", "/api/v1/calls/dial", b.writer, `{"phone":"12","user_id":"`+userID+`","provider":"vats"}`, 422)
	}) {
		return
	}
	if !t.Run("Catalog", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/product-groups", b.writer, `{"name":"Мебель"}`, 201)
		groupID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("GET", "/api/v1/product-groups?q=мебель", b.reader, "", 200)
		data = check("POST", "/api/v1/products", b.writer, `{"name":"Диван","sku":"D-1","group_id":"`+groupID+`","unit":"шт","unit_code":"796",`+
			`"vat_rate":"22","price":"45990.00","stock_quantity":"3","country_code":"156","external_ids":{"onec":"x"}}`, 201)
		productID = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("PATCH", "/api/v1/products/"+productID, b.writer, `{"price":"44990","stock_quantity":2.5}`, 200)
		check("GET", "/api/v1/products?group_id="+groupID+"&active=true&sku=D-1&sort=name", b.reader, "", 200)
		// A stock below zero is what 1C reports when goods were shipped
		// before their receipt was posted; merge-patch nulls clear links.
		data = check("PATCH", "/api/v1/products/"+productID, b.writer, `{"stock_quantity":"-4.5","group_id":null}`, 200)
		require.Contains(t, string(data), `"stock_quantity":"-4.5"`)
		require.Contains(t, string(data), `"group_id":null`)
		check("PATCH", "/api/v1/products/"+productID, b.writer, `{"stock_quantity":"-1000000000.001"}`, 422)
		data = check("POST", "/api/v1/product-groups", b.writer, `{"name":"Диваны","parent_id":"`+groupID+`"}`, 201)
		subID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("PATCH", "/api/v1/product-groups/"+subID, b.writer, `{"parent_id":null}`, 200)
		data = check("POST", "/api/v1/services", b.writer, `{"name":"Подъём на этаж","price":null,"group_id":null}`, 201)
		require.Contains(t, string(data), `"price":null`)
		check("POST", "/api/v1/products", b.writer, `{"name":"X","vat_rate":"18"}`, 422)
		data = check("POST", "/api/v1/services", b.writer, `{"name":"Доставка","unit_code":"876","vat_rate":"none"}`, 201)
		serviceID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("GET", "/api/v1/services/"+serviceID, b.reader, "", 200)
		data = check("POST", "/api/v1/price-books", b.writer, `{"name":"Опт","currency":"rub"}`, 201)
		bookID = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("PUT", "/api/v1/price-books/"+bookID+"/prices", b.writer, `{"product_id":"`+productID+`","price":"39990"}`, 200)
		check("PUT", "/api/v1/price-books/"+bookID+"/prices", b.writer, `{"service_id":"`+serviceID+`","price":"900.5"}`, 200)
		check("PUT", "/api/v1/price-books/"+bookID+"/prices", b.writer, `{"service_id":"`+serviceID+`","price":"900","currency":"USD"}`, 422)
		data = check("GET", "/api/v1/price-books/"+bookID+"/prices", b.reader, "", 200)
		require.Contains(t, string(data), `"price":"900.50"`)
		check("DELETE", "/api/v1/price-books/"+bookID+"/prices/"+serviceID, b.writer, "", 204)
		check("DELETE", "/api/v1/price-books/"+bookID+"/prices/"+serviceID, b.writer, "", 404)
		check("GET", "/api/v1/price-books?sort=-name", b.reader, "", 200)
	}) {
		return
	}
	if !t.Run("Quotes", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/quotes", b.writer, `{"subject":"Диван в офис","account_id":"`+accID+`","price_book_id":"`+bookID+`",`+
			`"discount_percent":"5","shipping_amount":"300","valid_until":"2026-12-31","lines":[`+
			`{"product_id":"`+productID+`","quantity":2,"discount_percent":10},{"name":"Сборка","price":"999.99","vat_rate":"none"}]}`, 201)
		quoteID = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		require.Contains(t, string(data), `"price":"39990.00"`, "priced from the price book")
		data = check("PATCH", "/api/v1/quotes/"+quoteID, b.writer, `{"discount_percent":null,"discount_amount":"150"}`, 200)
		require.Contains(t, string(data), `"discount_amount":"150.00"`)
		check("PATCH", "/api/v1/quotes/"+quoteID, b.writer, `{"status":"delivered"}`, 200)
		check("PATCH", "/api/v1/quotes/"+quoteID, b.writer, `{"lines":[]}`, 409)
		check("GET", "/api/v1/quotes?status=delivered&account_id="+accID+"&date_from=2020-01-01&sort=-number", b.reader, "", 200)
		check("POST", "/api/v1/quotes", b.writer, `{"lines":[{"name":"x","price":"10","discount_percent":"101"}]}`, 422)
		check("POST", "/api/v1/quotes", b.writer, `{"adjustment":"-0.5","lines":[{"name":"x","price":"10","vat_rate":"22"}]}`, 422)
		check("POST", "/api/v1/quotes", b.writer, `{"tax_mode":"inclusive","adjustment":"-0.5","lines":[{"name":"x","price":"10","vat_rate":"22"}]}`, 201)
	}) {
		return
	}
	if !t.Run("InvoicesAndPayments", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/quotes/"+quoteID+"/invoice", b.writer, `{"due_date":"2026-12-10"}`, 201)
		invoiceID = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("GET", "/api/v1/invoices/"+invoiceID, b.reader, "", 200)
		check("PATCH", "/api/v1/invoices/"+invoiceID, b.writer, `{"status":"sent"}`, 200)
		check("GET", "/api/v1/invoices?status=sent,paid", b.reader, "", 200)
		check("POST", "/api/v1/quotes/"+quoteID+"/invoice", b.writer, `{"lines":[]}`, 422)
		data = check("POST", "/api/v1/invoices/"+invoiceID+"/payments", b.writer, `{"amount":"1000.00","date":"2026-11-28","method":"bank_transfer","reference":"п/п 17"}`, 201)
		paymentID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("POST", "/api/v1/invoices/"+invoiceID+"/payments", b.writer, `{"amount":"10","method":"cheque"}`, 422)
		check("POST", "/api/v1/invoices/"+invoiceID+"/payments", b.writer, `{"amount":"10","method":"cash","invoice_id":"`+invoiceID+`"}`, 422)
		data = check("GET", "/api/v1/invoices/"+invoiceID, b.reader, "", 200)
		require.Contains(t, string(data), `"amount_paid":"1000.00"`)
		check("PATCH", "/api/v1/payments/"+paymentID, b.writer, `{"status":"cancelled"}`, 200)
		check("GET", "/api/v1/payments?invoice_id="+invoiceID+"&direction=incoming&status=cancelled", b.reader, "", 200)
		check("POST", "/api/v1/payments", b.writer, `{"direction":"outgoing","account_id":"`+accID+`","amount":"500","method":"cash"}`, 201)
	}) {
		return
	}
	if !t.Run("RealizationsActsAndOrders", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/invoices/"+invoiceID+"/realization", b.writer, `{"date":"2026-11-29"}`, 201)
		realID = string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("POST", "/api/v1/invoices/"+invoiceID+"/act", b.writer, `{"lines":[{"line_id":"nope"}]}`, 422)
		check("POST", "/api/v1/invoices/"+invoiceID+"/act", b.writer, `{}`, 201)
		check("GET", "/api/v1/invoices/"+invoiceID+"/remaining", b.reader, "", 200)
		check("GET", "/api/v1/realizations/"+realID, b.reader, "", 200)
		check("GET", "/api/v1/realizations?status=created", b.reader, "", 200)
		check("GET", "/api/v1/acts?sort=-number", b.reader, "", 200)
		check("PATCH", "/api/v1/realizations/"+realID, b.writer, `{"status":"cancelled"}`, 200)
		check("DELETE", "/api/v1/invoices/"+invoiceID, b.writer, "", 409)
		check("POST", "/api/v1/quotes/"+quoteID+"/sales-order", b.writer, `{"due_date":"2026-12-20"}`, 201)
		check("GET", "/api/v1/sales-orders?status=created", b.reader, "", 200)
	}) {
		return
	}
	if !t.Run("PurchaseOrders", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("POST", "/api/v1/purchase-orders", b.writer, `{"account_id":"`+accID+`","lines":[{"name":"Стол","price":"4000"}]}`, 201)
		poID := string(bytes.Split(bytes.Split(data, []byte(`"id":"`))[1], []byte(`"`))[0])
		check("POST", "/api/v1/purchase-orders", b.writer, `{"lines":[{"name":"Стол","price":"4000"}]}`, 422)
		check("POST", "/api/v1/payments", b.writer, `{"direction":"outgoing","purchase_order_id":"`+poID+`","amount":"4880","method":"bank_transfer"}`, 201)
		check("GET", "/api/v1/purchase-orders/"+poID, b.reader, "", 200)
		check("GET", "/api/v1/organization", b.reader, "", 200)
	}) {
		return
	}
	if !t.Run("PrintForms", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("GET", "/api/v1/invoices/"+invoiceID+"/pdf", b.reader, "", 200)
		require.True(t, bytes.HasPrefix(data, []byte("%PDF-")))
		check("GET", "/api/v1/quotes/"+quoteID+"/pdf?form=quote", b.reader, "", 200)
		check("GET", "/api/v1/invoices/"+invoiceID+"/pdf?form=torg12", b.reader, "", 422)
		check("GET", "/api/v1/realizations/"+realID+"/pdf", b.reader, "", 200)
		check("GET", "/api/v1/realizations/"+realID+"/pdf?form=upd&status=2", b.reader, "", 200)
		check("GET", "/api/v1/realizations/"+realID+"/pdf?form=torg12", b.reader, "", 200)
		check("GET", "/api/v1/realizations/"+realID+"/pdf?form=upd&status=3", b.reader, "", 422)
	}) {
		return
	}
	if !t.Run("Email", func(t *testing.T) {
		check := router.checker(t, b)
		// E-mail: without SMTP sending is a 503 that says what to set; the
		// templates and the (empty) list work.
		data := check("POST", "/api/v1/invoices/"+invoiceID+"/send", b.writer, `{"to":["a@b.ru"]}`, 503)
		require.Contains(t, string(data), "smtp.host")
		check("GET", "/api/v1/emails?document_id="+invoiceID+"&status=sent,failed&sort=-created_at", b.reader, "", 200)
		check("GET", "/api/v1/emails?status=lost", b.reader, "", 422)
		check("GET", "/api/v1/emails/0190a5c0-0000-7000-8000-000000000000", b.reader, "", 404)
		data = check("GET", "/api/v1/email-templates", b.reader, "", 200)
		require.Contains(t, string(data), `"name":"realization"`)
		check("GET", "/api/v1/email-templates/invoice", b.reader, "", 200)
		check("GET", "/api/v1/email-templates/nosuch", b.reader, "", 404)
		check("PUT", "/api/v1/email-templates/invoice", b.writer, `{"subject":"x","body":"y"}`, 403)
		data = check("PUT", "/api/v1/email-templates/invoice", b.admin, `{"subject":"Счёт {{.Document.Number}}","body":"{{.Greeting}}"}`, 200)
		require.Contains(t, string(data), `"custom":true`)
		check("PUT", "/api/v1/email-templates/invoice", b.admin, `{"subject":"x","body":"y"}`, 412, "If-Match", `"7"`)
		check("PUT", "/api/v1/email-templates/reminder", b.admin, `{"subject":"{{.Document.Numbr}}","body":"y"}`, 422)
		check("PUT", "/api/v1/email-templates/Bad%20Name", b.admin, `{"subject":"x","body":"y"}`, 422)
		check("DELETE", "/api/v1/email-templates/invoice", b.admin, "", 204)
		check("DELETE", "/api/v1/email-templates/invoice", b.admin, "", 404)
	}) {
		return
	}
	if !t.Run("MailScanner", func(t *testing.T) {
		check := router.checker(t, b)
		data := check("GET", "/api/v1/mailscan/status", b.reader, "", 200)
		require.JSONEq(t, `{"items":[]}`, string(data))
		check("POST", "/api/v1/mailscan/mailboxes/sales/scan", b.admin, "", 404)
		data = check("POST", "/api/v1/mailscan/mailboxes", b.admin, `{"name":"sales","host":"imap.example.ru","username":"sales@example.ru",`+
			`"password":"s3cret-mail","after":"move:Processed","poll_interval":"2m","rules":[{"name":"spam","match":"any","action":"skip",`+
			`"conditions":[{"field":"subject","operator":"contains","value":"выигрыш"}]}],"default_action":"create_lead"}`, 201)
		require.NotContains(t, string(data), "s3cret-mail", "the password is write-only")
		require.Contains(t, string(data), `"managed":"api"`)
		check("POST", "/api/v1/mailscan/mailboxes", b.admin, `{"name":"sales","host":"imap.example.ru","username":"u"}`, 409)
		data = check("POST", "/api/v1/mailscan/mailboxes", b.admin, `{"name":"plain","host":"imap.example.ru","username":"u","tls":"none"}`, 422)
		require.Contains(t, string(data), "loopback")
		check("POST", "/api/v1/mailscan/mailboxes", b.admin, `{"name":"r","host":"h","username":"u","rules":[{"action":"delete"}]}`, 422)
		check("POST", "/api/v1/mailscan/mailboxes", b.writer, `{"name":"x","host":"h","username":"u"}`, 403)
		check("GET", "/api/v1/mailscan/mailboxes", b.admin, "", 200)
		check("GET", "/api/v1/mailscan/mailboxes/sales", b.admin, "", 200)
		check("PUT", "/api/v1/mailscan/mailboxes/sales", b.admin, `{"host":"imap.example.ru","username":"sales@example.ru","after":"seen"}`, 412, "If-Match", `"7"`)
		data = check("PUT", "/api/v1/mailscan/mailboxes/sales", b.admin, `{"host":"imap.example.ru","username":"sales@example.ru","after":"seen"}`, 200, "If-Match", `"1"`)
		require.Contains(t, string(data), `"version":2`)
		box, err := b.store.Mailbox(context.Background(), "sales")
		require.NoError(t, err)
		require.Equal(t, "s3cret-mail", box.Password, "a replacement without a password keeps it")
		check("DELETE", "/api/v1/mailscan/mailboxes/sales", b.admin, "", 204)
		check("GET", "/api/v1/mailscan/mailboxes/sales", b.admin, "", 404)
		check("POST", "/api/v1/mailscan/mailboxes/sales/scan", b.writer, "", 403)
	}) {
		return
	}
	if !t.Run("OneCJobsAndProbes", func(t *testing.T) {
		check := router.checker(t, b)
		check("GET", "/api/v1/onec/jobs/nope", b.reader, "", 404)
		check("GET", "/healthz", "", "", 200)
		check("GET", "/readyz", "", "", 200)
	}) {
		return
	}
}

// openAPIChecker returns a function that sends a request through b's
// server, checks the status, and validates the request and the response
// against the OpenAPI document.
func openAPIChecker(t *testing.T, b *bundle) func(method, path, key, body string, want int, headers ...string) []byte {
	return openAPIRouter(t).checker(t, b)
}

// docRouter finds a request's operation in the OpenAPI document.
type docRouter struct{ router routers.Router }

// openAPIRouter loads the OpenAPI document, once for the checkers of a
// test's steps.
func openAPIRouter(t *testing.T) docRouter {
	return routerOf(t, loadDoc(t))
}

// routerOf routes requests to doc's operations.
func routerOf(t *testing.T, doc *openapi3.T) docRouter {
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return docRouter{router}
}

// checker is openAPIChecker's function for t (a test or one of its steps).
func (r docRouter) checker(t *testing.T, b *bundle) func(method, path, key, body string, want int, headers ...string) []byte {
	router := r.router
	return func(method, path, key, body string, want int, headers ...string) []byte {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, "http://localhost"+path, rd)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		route, params, err := router.FindRoute(req)
		require.NoError(t, err, "%s %s is documented", method, path)
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if want < 400 {
			require.NoError(t, openapi3filter.ValidateRequest(context.Background(), in))
		}
		if body != "" { // the validator consumed it
			req.Body = io.NopCloser(strings.NewReader(body))
		}
		resp, err := b.srv.App().Test(req, -1)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, want, resp.StatusCode, string(data))
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
			Header: resp.Header, Body: io.NopCloser(bytes.NewReader(data)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		require.NoError(t, openapi3filter.ValidateResponse(context.Background(), out), string(data))
		return data
	}

}

// TestSpecEdgesMatchTheServer: the answers an integrator meets at the
// edges are the documented ones: the 1C log with the exchange off, a
// standard report (no id of a stored one), by list and by slug.
func TestSpecEdgesMatchTheServer(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *store.Store, d *api.Deps) { d.OneCJob, d.OneCJobs = nil, nil })
	check := openAPIChecker(t, b)
	data := check("GET", "/api/v1/onec/jobs", b.reader, "", 404)
	require.Contains(t, string(data), "the 1C exchange is off")
	check("GET", "/api/v1/onec/jobs/x", b.reader, "", 404)
	data = check("GET", "/api/v1/reports/standard", b.reader, "", 200)
	require.NotContains(t, string(data), `"id":`)
	require.NotContains(t, string(data), `0001-01-01`)
	data = check("GET", "/api/v1/reports/unpaid-invoices", b.reader, "", 200)
	require.Contains(t, string(data), `"slug":"unpaid-invoices"`)
	require.NotContains(t, string(data), `"id":`)
}
