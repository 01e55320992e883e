package onec_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"

	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// client talks to the exchange as 1C does.
type client struct {
	t      *testing.T
	x      *onec.Exchange
	cookie string
	auth   string
}

func (c *client) do(method, query string, body []byte) []string {
	c.t.Helper()
	q, err := url.ParseQuery(query)
	require.NoError(c.t, err)
	h := http.Header{}
	if c.auth != "" {
		h.Set("Authorization", c.auth)
	}
	if c.cookie != "" {
		h.Set("Cookie", c.cookie)
	}
	resp := c.x.Handle(context.Background(), core.WebhookRequest{Method: method, Query: q, Header: h, Body: body})
	require.Equal(c.t, 200, resp.Status)
	text, err := charmap.Windows1251.NewDecoder().String(string(resp.Body))
	require.NoError(c.t, err)
	return strings.Split(text, "\n")
}

// importFile uploads a file in three chunks and imports it, repeating
// the request while the answer is progress, as 1C does.
func (c *client) importFile(name string, data []byte) []string {
	c.t.Helper()
	third := len(data) / 3
	for _, chunk := range [][]byte{data[:third], data[third : 2*third], data[2*third:]} {
		require.Equal(c.t, "success", c.do("POST", "type=catalog&mode=file&filename="+name, chunk)[0])
	}
	for range 100 {
		lines := c.do("GET", "type=catalog&mode=import&filename="+name, nil)
		if lines[0] != "progress" {
			return lines
		}
	}
	c.t.Fatal("import never ended")
	return nil
}

func newExchange(t *testing.T, st *store.Store, tune ...func(*onec.Config)) *onec.Exchange {
	cfg := onec.Config{User: "1c", Password: "s3cret", WorkDir: t.TempDir(), Jobs: st}
	for _, f := range tune {
		f(&cfg)
	}
	x, err := onec.New(cfg,
		onec.CatalogDeps{Products: st.Products(), Services: st.Services(), Groups: st.ProductGroups(), PriceBooks: st.PriceBooks(), Items: st, Tx: st,
			Fields: st},
		onec.SaleDeps{SalesOrders: st.SalesOrders(), Invoices: st.Invoices(), Accounts: st.Accounts(), Products: st.Products(),
			Services: st.Services(), Payments: st.Payments(), Exports: st, Fields: st})
	require.NoError(t, err)
	return x
}

func login(t *testing.T, x *onec.Exchange) *client { return loginAs(t, x, "catalog", "") }

// loginAs opens a session of typ; version is what 1C sends in init.
func loginAs(t *testing.T, x *onec.Exchange, typ, version string) *client {
	c := &client{t: t, x: x, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("1c:s3cret"))}
	lines := c.do("GET", "type="+typ+"&mode=checkauth", nil)
	require.Equal(t, "success", lines[0])
	require.Equal(t, "CRMHUB_1C", lines[1])
	c.cookie = lines[1] + "=" + lines[2]
	c.auth = "" // the cookie carries the session from here
	init := "type=" + typ + "&mode=init"
	if version != "" {
		init += "&version=" + version
	}
	lines = c.do("GET", init, nil)
	require.True(t, lines[0] == "zip=no" || lines[0] == "zip=yes", lines)
	require.True(t, strings.HasPrefix(lines[1], "file_limit="))
	return c
}

func count(t *testing.T, st *store.Store, sql string) int {
	var n int
	require.NoError(t, st.Pool().QueryRow(context.Background(), sql).Scan(&n))
	return n
}

func TestCatalogExchange(t *testing.T) {
	st := storetest.NewStore(t)
	x := newExchange(t, st)
	imp, err := os.ReadFile("testdata/import0_1.xml")
	require.NoError(t, err)
	off, err := os.ReadFile("testdata/offers0_1.xml")
	require.NoError(t, err)

	c := login(t, x)
	lines := c.importFile("import0_1.xml", imp)
	require.Equal(t, "success", lines[0], lines)
	require.Contains(t, lines[1], "created 36")
	require.Equal(t, 36, count(t, st, `SELECT count(*) FROM products WHERE external_ids ? 'onec'`)+
		count(t, st, `SELECT count(*) FROM services WHERE external_ids ? 'onec'`))
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM product_groups WHERE external_ids ? 'onec'`))
	require.Equal(t, 36, count(t, st, `SELECT count(*) FROM products WHERE group_id IS NOT NULL`), "goods are in their group")
	require.Equal(t, 36, count(t, st, `SELECT count(*) FROM outbox WHERE entity = 'product' AND type = 'product.created'`),
		"every change has its event")
	// Properties are stored by name, a Справочник value as its text;
	// requisites, the barcode and the manufacturer too.
	var attrs map[string]string
	var maker string
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT attributes, manufacturer FROM products
		WHERE external_ids->>'onec' = 'bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1'`).Scan(&attrs, &maker))
	require.Equal(t, "КОРЕЯ, РЕСПУБЛИКА", attrs["Страна производства"])
	require.Equal(t, "149831179", attrs["Код ОЗОН"])
	require.Equal(t, "1,4", attrs["Габарит_Вес"])
	require.Equal(t, "8809288404089", attrs["Штрихкод"])
	require.Equal(t, "Товар", attrs["ТипНоменклатуры"])
	require.Equal(t, "Crazy Boom", maker)
	require.Positive(t, count(t, st, `SELECT count(*) FROM onec_properties`))

	lines = c.importFile("offers0_1.xml", off)
	require.Equal(t, "success", lines[0], lines)
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM price_books`))
	require.Positive(t, count(t, st, `SELECT count(*) FROM prices`))
	require.Positive(t, count(t, st, `SELECT count(*) FROM products WHERE stock_quantity > 0`))

	// The same catalog again, in a new session: nothing new is created.
	c = login(t, x)
	lines = c.importFile("import0_1.xml", imp)
	require.Equal(t, "success", lines[0], lines)
	require.Contains(t, lines[1], "created 0, updated 0, deactivated 0, skipped 36", "unchanged goods are skipped")
	require.Equal(t, 36, count(t, st, `SELECT count(*) FROM products`))
	require.Equal(t, 36, count(t, st, `SELECT count(*) FROM outbox WHERE entity = 'product' AND type = 'product.created'`))

	// The exchange log outlives the process: a new exchange (a restarted
	// hub) shows the three jobs, newest first, with their summaries.
	ctx := context.Background()
	jobID := lines[1][strings.LastIndex(lines[1], "job ")+4 : len(lines[1])-1]
	restarted := newExchange(t, st)
	log, err := restarted.Jobs(ctx, 10)
	require.NoError(t, err)
	require.Len(t, log, 3)
	require.Equal(t, jobID, log[0].ID)
	require.Equal(t, []string{"import0_1.xml", "offers0_1.xml", "import0_1.xml"}, []string{log[0].File, log[1].File, log[2].File})
	job, err := restarted.Job(ctx, log[2].ID)
	require.NoError(t, err)
	require.Equal(t, "done", job.Status)
	require.EqualValues(t, 36, job.Created)
	require.NotNil(t, job.FinishedAt)
	// A job the hub was running when it stopped reads as interrupted.
	started := time.Now().UTC()
	require.NoError(t, st.SaveOneCJob(ctx, "cut-short", "import.xml", "running", started, nil,
		[]byte(`{"id":"cut-short","file":"import.xml","status":"running","errors":[],"started_at":"`+started.Format(time.RFC3339Nano)+`"}`)))
	job, err = restarted.Job(ctx, "cut-short")
	require.NoError(t, err)
	require.Equal(t, "failed", job.Status)
	require.Contains(t, job.Error, "interrupted")
	_, err = restarted.Job(ctx, "no-such-job")
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
}

func TestExchangeRefusals(t *testing.T) {
	st := storetest.NewStore(t)
	x := newExchange(t, st)
	bad := &client{t: t, x: x, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("1c:wrong"))}
	require.Equal(t, []string{"failure", "wrong login or password"}, bad.do("GET", "type=catalog&mode=checkauth", nil))
	require.Equal(t, "failure", (&client{t: t, x: x}).do("GET", "type=catalog&mode=init", nil)[0], "no session")
	c := login(t, x)
	for _, name := range []string{"../../etc/passwd", "a/../../b.xml", ""} {
		require.Equal(t, "failure", c.do("POST", "type=catalog&mode=file&filename="+url.QueryEscape(name), []byte("x"))[0], name)
	}
	require.Equal(t, "failure", c.do("GET", "type=catalog&mode=import&filename=missing.xml", nil)[0])
	require.Equal(t, "failure", c.do("GET", "type=catalog&mode=frobnicate", nil)[0])
	require.Equal(t, "failure", c.do("GET", "type=bogus&mode=init", nil)[0])
	// 1C on Linux sends paths with backslashes and prefixes: normalized.
	require.Equal(t, "success", c.do("POST", "type=catalog&mode=file&filename="+url.QueryEscape(`import_files\ab\pic.jpg`), []byte("jpg"))[0])
	// A broken file fails its import with the element and line.
	require.Equal(t, "success", c.do("POST", "type=catalog&mode=file&filename=broken.xml",
		[]byte("<КоммерческаяИнформация><Каталог><Товары><Товар><Ид>1</Ид>"))[0])
	var lines []string
	deadline := time.Now().Add(10 * time.Second)
	for lines = c.do("GET", "type=catalog&mode=import&filename=broken.xml", nil); lines[0] == "progress" && time.Now().Before(deadline); {
		lines = c.do("GET", "type=catalog&mode=import&filename=broken.xml", nil)
	}
	require.Equal(t, "failure", lines[0])
	require.Contains(t, lines[1], "line 1")
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM products`))

	// A file that breaks after some goods leaves the catalog as it was.
	imp, err := os.ReadFile("testdata/import0_1.xml")
	require.NoError(t, err)
	cut := bytes.Index(imp, []byte("</Товары>")) - 2000 // inside the last goods
	require.Equal(t, "success", c.do("POST", "type=catalog&mode=file&filename=cut.xml", imp[:cut])[0])
	for lines = c.do("GET", "type=catalog&mode=import&filename=cut.xml", nil); lines[0] == "progress"; {
		lines = c.do("GET", "type=catalog&mode=import&filename=cut.xml", nil)
	}
	require.Equal(t, "failure", lines[0])
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM products`), "rolled back")
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM product_groups`), "its group too")
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM outbox WHERE entity = 'product'`), "no events of it either")
}

// raw sends a request and returns the raw answer (for the XML of query).
func (c *client) raw(query string) core.WebhookResponse {
	q, err := url.ParseQuery(query)
	require.NoError(c.t, err)
	h := http.Header{"Cookie": {c.cookie}}
	return c.x.Handle(context.Background(), core.WebhookRequest{Method: "GET", Query: q, Header: h})
}

func decodeOrders(t *testing.T, body []byte) []*commerceml.Document {
	d := commerceml.NewDecoder(bytes.NewReader(body), commerceml.Limits{})
	var out []*commerceml.Document
	for {
		v, err := d.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		if doc, ok := v.(*commerceml.Document); ok {
			out = append(out, doc)
		}
	}
}

func TestOrdersExchange(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	x := newExchange(t, st)
	acc, err := st.Accounts().Create(ctx, core.Patch{"name": []byte(`"ООО Лютик"`), "inn": []byte(`"7707083893"`),
		"kpp": []byte(`"773601001"`)})
	require.NoError(t, err)
	prod, err := st.Products().Create(ctx, core.Patch{"name": []byte(`"Диван"`), "vat_rate": []byte(`"22"`), "unit": []byte(`"шт"`),
		"unit_code": []byte(`"796"`), "external_ids": []byte(`{"onec":"bd72d913-55bc-11d9-848a-00112f43529a"}`)})
	require.NoError(t, err)
	order, err := st.SalesOrders().Create(ctx, core.Patch{"account_id": []byte(`"` + acc.ID + `"`), "shipping_amount": []byte(`"500"`),
		"lines": []byte(`[{"product_id":"` + prod.ID + `","quantity":"2","price":"30000"}]`)})
	require.NoError(t, err)

	c := loginAs(t, x, "sale", "2.08")
	resp := c.raw("type=sale&mode=query")
	require.Equal(t, "application/xml; charset=windows-1251", resp.ContentType)
	docs := decodeOrders(t, resp.Body)
	require.Len(t, docs, 1)
	d := docs[0]
	require.Equal(t, order.ID, d.ID)
	require.Equal(t, order.Number, d.Number)
	require.Equal(t, order.GrandTotal.StringFixed(2), d.Sum)
	require.Equal(t, "7707083893", d.Counterparties[0].INN)
	require.Equal(t, "bd72d913-55bc-11d9-848a-00112f43529a", d.Lines[0].ID, "the good's 1C Ид")
	require.Equal(t, "30000.00", d.Lines[0].Price())
	require.True(t, d.Lines[1].Delivery())
	// Not confirmed: the next query sends it again; confirmed: not any more.
	require.Len(t, decodeOrders(t, c.raw("type=sale&mode=query").Body), 1)
	require.Equal(t, "success", c.do("GET", "type=sale&mode=success", nil)[0])
	require.Empty(t, decodeOrders(t, c.raw("type=sale&mode=query").Body))

	// 1C posts the order and registers its payment.
	var file bytes.Buffer
	enc, err := commerceml.NewEncoder(&file, commerceml.UTF8)
	require.NoError(t, err)
	require.NoError(t, enc.Begin("2026-11-27T12:00:00"))
	require.NoError(t, enc.Document(&commerceml.Document{ID: order.ID, Number: order.Number, Date: "2026-11-27", Operation: "Заказ товара",
		Role: "Продавец", Currency: "RUB", Rate: "1", Sum: d.Sum, Requisites: []commerceml.Requisite{
			{Name: "Проведен", Value: "true"}, {Name: "Оплачен", Value: "true"}, {Name: "Номер оплаты по 1С", Value: "00042"},
			{Name: "Дата оплаты по 1С", Value: "2026-11-27T9:49:02"}}}))
	require.NoError(t, enc.Document(&commerceml.Document{ID: "made-in-1c", Number: "УТ-1", Date: "2026-11-27",
		Counterparties: []commerceml.Counterparty{{Party: commerceml.Party{ID: "1c-cp-1", Name: "ООО Новый клиент",
			OfficialName: "ООО «Новый клиент»", INN: "5001007329", KPP: "500101001"}, Role: "Покупатель"}}}))
	require.NoError(t, enc.Document(&commerceml.Document{ID: "made-in-1c-2", Number: "УТ-2", Date: "2026-11-27",
		Counterparties: []commerceml.Counterparty{{Party: commerceml.Party{ID: "1c-cp-2", Name: "ООО Опечатка",
			INN: "5001007322"}, Role: "Покупатель"}}}))
	require.NoError(t, enc.End())
	for range 2 { // the same file twice changes nothing the second time
		c = loginAs(t, x, "sale", "2.08")
		require.Equal(t, "success", c.do("POST", "type=sale&mode=file&filename=orders.xml", file.Bytes())[0])
		lines := c.do("GET", "type=sale&mode=import&filename=orders.xml", nil)
		require.Equal(t, "success", lines[0], lines)
		require.Contains(t, lines[1], "errors 1", "the buyer with a wrong ИНН is reported")
	}
	got, err := st.SalesOrders().Get(ctx, order.ID)
	require.NoError(t, err)
	require.Equal(t, "approved", got.Status)
	pays, err := st.Payments().List(ctx, core.PaymentFilter{ListParams: core.ListParams{Limit: 10, Sort: core.Sort{Field: "created_at"}}})
	require.NoError(t, err)
	require.Len(t, pays.Items, 1)
	require.Equal(t, "1С 00042", pays.Items[0].Reference)
	require.Equal(t, "2026-11-27", pays.Items[0].Date.Format("2006-01-02"))
	require.Equal(t, order.GrandTotal.StringFixed(2), pays.Items[0].Amount.StringFixed(2))
	// The buyer of the document 1C made itself became an account, once.
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE inn = '5001007329' AND kpp = '500101001'
		AND name = 'ООО «Новый клиент»' AND external_ids->>'onec' = '1c-cp-1'`))
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM accounts WHERE inn = '5001007322'`))
	// The changed order goes to 1C again.
	require.Len(t, decodeOrders(t, c.raw("type=sale&mode=query").Body), 1)

	// An old module (no version in init) has its file processed on upload.
	c = loginAs(t, x, "sale", "")
	require.Equal(t, "success", c.do("POST", "type=sale&mode=file&filename=old.xml", file.Bytes())[0])
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestZipUpload(t *testing.T) {
	st := storetest.NewStore(t)
	x := newExchange(t, st, func(c *onec.Config) { c.Zip, c.ImportWait = true, -1 })
	imp, err := os.ReadFile("testdata/import0_1.xml")
	require.NoError(t, err)
	off, err := os.ReadFile("testdata/offers0_1.xml")
	require.NoError(t, err)
	archive := zipOf(t, map[string][]byte{"import0_1.xml": imp, "offers0_1.xml": off, "import_files/ab/pic.jpg": []byte("jpg")})

	c := login(t, x)
	half := len(archive) / 2
	require.Equal(t, "success", c.do("POST", "type=catalog&mode=file&filename=v8_3B8F_3e.zip", archive[:half])[0])
	require.Equal(t, "success", c.do("POST", "type=catalog&mode=file&filename=v8_3B8F_3e.zip", archive[half:])[0])
	lines := c.do("GET", "type=catalog&mode=import&filename=import0_1.xml", nil)
	require.Equal(t, []string{"progress", "unpacked 3 files"}, lines)
	progress := 0
	for lines = c.do("GET", "type=catalog&mode=import&filename=import0_1.xml", nil); lines[0] == "progress"; {
		progress++
		time.Sleep(10 * time.Millisecond)
		lines = c.do("GET", "type=catalog&mode=import&filename=import0_1.xml", nil)
	}
	require.Equal(t, "success", lines[0], lines)
	require.Positive(t, progress, "the import answered progress while it ran")
	require.Contains(t, lines[1], "created 36")

	// Hostile archives: a bomb and an escaping path.
	bomb := zipOf(t, map[string][]byte{"import.xml": make([]byte, 20<<20)})
	c = login(t, x)
	require.Equal(t, "success", c.do("POST", "type=catalog&mode=file&filename=bomb.zip", bomb)[0])
	lines = c.do("GET", "type=catalog&mode=import&filename=import.xml", nil)
	require.Equal(t, "failure", lines[0])
	require.Contains(t, lines[1], "beyond the limits")
	c = login(t, x)
	require.Equal(t, "success", c.do("POST", "type=catalog&mode=file&filename=evil.zip", zipOf(t, map[string][]byte{"../../evil.xml": []byte("x")}))[0])
	lines = c.do("GET", "type=catalog&mode=import&filename=evil.xml", nil)
	require.Equal(t, "failure", lines[0])
	require.Contains(t, lines[1], "leaves the work folder")
}

func TestInvoicesExchange(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	x := newExchange(t, st, func(c *onec.Config) { c.Documents = []string{onec.DocSalesOrders, onec.DocInvoices} })
	svc, err := st.Services().Create(ctx, core.Patch{"name": []byte(`"Монтаж"`), "vat_rate": []byte(`"22"`), "unit": []byte(`"усл"`)})
	require.NoError(t, err)
	inv, err := st.Invoices().Create(ctx, core.Patch{"discount_amount": []byte(`"100"`), "shipping_amount": []byte(`"100"`),
		"lines": []byte(`[{"service_id":"` + svc.ID + `","quantity":"3","price":"1000","discount_percent":"10"}]`)})
	require.NoError(t, err)
	order, err := st.SalesOrders().Create(ctx, core.Patch{"lines": []byte(`[{"service_id":"` + svc.ID + `","quantity":"1","price":"10"}]`)})
	require.NoError(t, err)

	// Both kinds go to 1C, each as its operation, and are confirmed together.
	c := loginAs(t, x, "sale", "2.08")
	docs := decodeOrders(t, c.raw("type=sale&mode=query").Body)
	require.Len(t, docs, 2)
	byID := map[string]*commerceml.Document{docs[0].ID: docs[0], docs[1].ID: docs[1]}
	require.Equal(t, "Заказ товара", byID[order.ID].Operation)
	d := byID[inv.ID]
	require.NotNil(t, d)
	require.Equal(t, "Счет на оплату", d.Operation)
	require.Equal(t, inv.Number, d.Number)
	require.Equal(t, inv.GrandTotal.StringFixed(2), d.Sum)
	require.Equal(t, "3294.00", d.Sum, "(3 × 1,000 − 10 % − 100) + 22 % VAT: the overall discount lowers the tax base; delivery 100 + 22")
	require.Equal(t, []string{"ORDER_DELIVERY", "122.00"}, []string{d.Lines[1].ID, d.Lines[1].Sum})
	// Taxes and discounts as 1C reads them: in the sums, the overall
	// discount in the line's, so 1C computes the same VAT per line.
	require.Equal(t, []commerceml.Tax{{Name: "НДС", Included: "true", Sum: "572.00", Rate: "22"}}, d.Lines[0].Taxes)
	require.Equal(t, []commerceml.Discount{{Name: "Скидка", Sum: "400.00", Included: "true"}}, d.Lines[0].Discounts)
	require.Equal(t, []commerceml.Tax{{Name: "НДС", Included: "true", Sum: inv.VATTotal.StringFixed(2)}}, d.Taxes)
	require.Empty(t, d.Discounts, "no document discount on top of the lines'")
	recomputeAsOneC(t, d)
	require.Equal(t, "Создан", d.Requisite("Статус счета"))
	require.Contains(t, d.Lines[0].Requisites, commerceml.Requisite{Name: "ТипНоменклатуры", Value: "Услуга"})
	require.Equal(t, "success", c.do("GET", "type=sale&mode=success", nil)[0])
	require.Empty(t, decodeOrders(t, c.raw("type=sale&mode=query").Body))

	// 1C posts the invoice and registers its payment; the buyer is new.
	var file bytes.Buffer
	enc, err := commerceml.NewEncoder(&file, commerceml.UTF8)
	require.NoError(t, err)
	require.NoError(t, enc.Begin("2026-11-27T12:00:00"))
	require.NoError(t, enc.Document(&commerceml.Document{ID: inv.ID, Number: inv.Number, Date: "2026-11-27", Operation: "Счет на оплату",
		Role: "Продавец", Currency: "RUB", Sum: d.Sum, Counterparties: []commerceml.Counterparty{{Party: commerceml.Party{ID: "cp-9",
			Name: "ИП Петров", INN: "500100732259"}, Role: "Покупатель"}},
		Requisites: []commerceml.Requisite{{Name: "Проведен", Value: "true"}, {Name: "Оплачен", Value: "true"},
			{Name: "Номер оплаты по 1С", Value: "77"}, {Name: "Дата оплаты по 1С", Value: "2026-11-28T10:00:00"}}}))
	require.NoError(t, enc.End())
	for i := range 2 { // the same file twice changes nothing the second time
		c = loginAs(t, x, "sale", "2.08")
		require.Equal(t, "success", c.do("POST", "type=sale&mode=file&filename=docs.xml", file.Bytes())[0])
		lines := c.do("GET", "type=sale&mode=import&filename=docs.xml", nil)
		require.Equal(t, "success", lines[0], lines)
		require.Contains(t, lines[1], []string{"updated 1", "updated 0"}[i], lines)
	}
	got, err := st.Invoices().Get(ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, "paid", got.Status, "posted, then paid in full")
	require.Equal(t, inv.GrandTotal.StringFixed(2), got.AmountPaid.StringFixed(2))
	require.NotNil(t, got.AccountID, "the buyer became the invoice's account")
	acc, err := st.Accounts().Get(ctx, *got.AccountID)
	require.NoError(t, err)
	require.Equal(t, "500100732259", acc.INN)
	require.Equal(t, "cp-9", acc.ExternalIDs["onec"])
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM payments WHERE reference = '1С 77'`))
	// The changed invoice goes to 1C again; the order did not change.
	docs = decodeOrders(t, c.raw("type=sale&mode=query").Body)
	require.Len(t, docs, 1)
	require.Equal(t, inv.ID, docs[0].ID)
	require.Equal(t, "Оплачен", docs[0].Requisite("Статус счета"))
}

// variantOffers is an offers package with two characteristics of one good
// (1C's "good#characteristic"), as 1C:УТ sends sizes.
func variantOffers(price44 string) []byte {
	offer := func(char, name, size, price, qty string) string {
		return `<Предложение><Ид>bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1#` + char + `</Ид><Наименование>` + name + `</Наименование>
<ХарактеристикиТовара><ХарактеристикаТовара><Наименование>Размер</Наименование><Значение>` + size + `</Значение></ХарактеристикаТовара></ХарактеристикиТовара>
<Цены><Цена><ИдТипаЦены>pt-1</ИдТипаЦены><ЦенаЗаЕдиницу>` + price + `</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены>
<Количество>` + qty + `</Количество></Предложение>`
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<КоммерческаяИнформация ВерсияСхемы="2.08"><ПакетПредложений СодержитТолькоИзменения="true"><Ид>cat#</Ид>
<ТипыЦен><ТипЦены><Ид>pt-1</Ид><Наименование>Розничная</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>
<Предложения>` + offer("size-42", "", "42", "1500", "5") + offer("size-44", "Коврик Portable, размер 44", "44", price44, "3") + `
<Предложение><Ид>no-such-good#x</Ид><Цены/></Предложение>
</Предложения></ПакетПредложений></КоммерческаяИнформация>`)
}

func TestCharacteristicOffers(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	x := newExchange(t, st)
	imp, err := os.ReadFile("testdata/import0_1.xml")
	require.NoError(t, err)
	c := login(t, x)
	require.Equal(t, "success", c.importFile("import0_1.xml", imp)[0])

	lines := c.importFile("offers.xml", variantOffers("1700"))
	require.Equal(t, "success", lines[0], lines)
	require.Contains(t, lines[1], "updated 2", lines)
	require.Contains(t, lines[1], "errors 1", "the offer of an unknown good")
	// Each characteristic is a product of its own, a copy of its good.
	type variant struct {
		name, sku, size, group, stock, price string
	}
	read := func(id string) variant {
		var v variant
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT p.name, p.sku, p.attributes->>'Размер', coalesce(p.group_id::text, ''),
			p.stock_quantity::text, pr.price::text FROM products p JOIN prices pr ON pr.product_id = p.id
			WHERE p.external_ids->>'onec' = $1 AND p.active`, "bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1#"+id).
			Scan(&v.name, &v.sku, &v.size, &v.group, &v.stock, &v.price))
		return v
	}
	var good variant
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT name, sku, group_id::text FROM products
		WHERE external_ids->>'onec' = 'bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1'`).Scan(&good.name, &good.sku, &good.group))
	v42, v44 := read("size-42"), read("size-44")
	require.Equal(t, variant{good.name + " (Размер: 42)", good.sku, "42", good.group, "5.000", "1500.00"}, v42)
	require.Equal(t, variant{"Коврик Portable, размер 44", good.sku, "44", good.group, "3.000", "1700.00"}, v44)

	// The same offers again: nothing changes, no event; a new price is applied.
	events := count(t, st, `SELECT count(*) FROM outbox`)
	c = login(t, x) // 1C uploads each file once per session
	lines = c.importFile("offers.xml", variantOffers("1700"))
	require.Contains(t, lines[1], "updated 2", lines) // offers counted as applied; nothing written
	require.Equal(t, events, count(t, st, `SELECT count(*) FROM outbox`))
	c = login(t, x)
	lines = c.importFile("offers.xml", variantOffers("1800"))
	require.Equal(t, "success", lines[0], lines)
	require.Equal(t, "1800.00", read("size-44").price)
	require.Equal(t, 2, count(t, st, `SELECT count(*) FROM products WHERE external_ids->>'onec' LIKE 'bd8c4e15-%#%'`))

	// 1C's balance below zero (shipped before the receipt was posted) is
	// the stock; one beyond a quantity's bounds is the offer's error.
	withStock := func(qty string) []byte {
		return bytes.Replace(variantOffers("1800"), []byte("<Количество>3</Количество>"), []byte("<Количество>"+qty+"</Количество>"), 1)
	}
	c = login(t, x)
	lines = c.importFile("offers.xml", withStock("-2"))
	require.Equal(t, "success", lines[0], lines)
	require.Equal(t, "-2.000", read("size-44").stock)
	c = login(t, x)
	lines = c.importFile("offers.xml", withStock("-10000000000"))
	require.Contains(t, lines[1], "errors 2", lines)
	require.Equal(t, "-2.000", read("size-44").stock)

	// A full catalog that lists the good keeps its variants active.
	c = login(t, x)
	require.Equal(t, "success", c.importFile("import0_1.xml", imp)[0])
	require.Equal(t, 2, count(t, st, `SELECT count(*) FROM products WHERE external_ids->>'onec' LIKE 'bd8c4e15-%#%' AND active`))
}

// recomputeAsOneC recomputes every line of an exported document the way
// 1C does with VAT on top (the totals engine's rules 1–4): quantity ×
// price less the discounts in the sum gives the tax base, its VAT at the
// line's rate is the line's tax, and the lines add up to the document.
func recomputeAsOneC(t *testing.T, d *commerceml.Document) {
	t.Helper()
	dec := func(s string) decimal.Decimal {
		if s == "" {
			return decimal.Zero
		}
		return decimal.RequireFromString(s)
	}
	total, vat := decimal.Zero, decimal.Zero
	for _, l := range d.Lines {
		base := dec(l.Price()).Mul(dec(l.Quantity)).Round(2)
		for _, dc := range l.Discounts {
			base = base.Sub(dec(dc.Sum))
		}
		tax := decimal.Zero
		if len(l.TaxRates) == 1 && l.TaxRates[0].Rate != "Без НДС" {
			tax = base.Mul(dec(l.TaxRates[0].Rate)).Div(decimal.NewFromInt(100)).Round(2)
		}
		lineTax := decimal.Zero
		for _, tx := range l.Taxes {
			lineTax = lineTax.Add(dec(tx.Sum))
		}
		require.Equal(t, tax.StringFixed(2), lineTax.StringFixed(2), "%s: VAT on its discounted amount", l.Name)
		require.Equal(t, base.Add(tax).StringFixed(2), l.Sum, "%s: the sum is the base and its VAT", l.Name)
		total, vat = total.Add(dec(l.Sum)), vat.Add(lineTax)
	}
	require.Equal(t, d.Sum, total.StringFixed(2), "the lines add up to the document")
	if len(d.Taxes) > 0 {
		require.Equal(t, d.Taxes[0].Sum, vat.StringFixed(2))
	}
}
