package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core/pgembed"
)

// TestMain lets the test binary act as the crmhub binary, so that the crash
// test can run and SIGKILL a real serve process without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("CRMHUB_TEST_EXEC") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// dataDir returns a fresh data_dir the postgres OS user can reach.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "crmhub-serve-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// testEnv is the environment of a hub on dir with test-friendly settings.
func testEnv(dir string) map[string]string {
	return map[string]string{
		"CRMHUB_DATA_DIR":                  dir,
		"CRMHUB_HTTP_ADDR":                 "127.0.0.1:0",
		"CRMHUB_HTTP_ACCESS_LOG":           "false",
		"CRMHUB_DATABASE_EMBEDDED_PORT":    "5433",
		"CRMHUB_LOG_LEVEL":                 "warn",
		"CRMHUB_HTTP_SHUTDOWN_TIMEOUT":     "5s",
		"CRMHUB_DATABASE_MIGRATE_ON_START": "true",
		"CRMHUB_KAFKA_EMBEDDED_ADDR":       "127.0.0.1:0",
	}
}

type client struct {
	base, key string
}

func (c client) do(t *testing.T, method, path, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, data
}

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := testEnv(dir)
	env["CRMHUB_KAFKA_STATE_TOPICS"] = "true"
	env["CRMHUB_TELEPHONY_GENERIC_SECRET"] = "generic-pbx-secret-0001"
	env["CRMHUB_TELEPHONY_ZADARMA_SECRET"] = "test-zadarma-secret"
	env["CRMHUB_TELEPHONY_VATS_TOKEN"] = "test-crm-token"
	env["CRMHUB_ONEC_USER"] = "1c-exchange"
	env["CRMHUB_ONEC_PASSWORD"] = "1c-s3cret"
	h := serveInProcess(t, env)
	addr := h.addr
	out := &h.out
	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(dir, "admin.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.Contains(t, out.String(), strings.TrimSpace(string(key)), "the bootstrap key is printed once")
	c := client{base: "http://" + addr, key: strings.TrimSpace(string(key))}
	// What the steps below share: the first lead, the embedded broker's
	// address (from serve's output) and the invoice's PDF.
	var lead map[string]any
	var broker []string
	pdfPath := filepath.Join(env["CRMHUB_DATA_DIR"], "invoice.pdf")

	if !t.Run("CreateLead", func(t *testing.T) {
		status, hdr, body := c.do(t, "POST", "/api/v1/leads", `{"last_name":"Кузнецов","company":"ИП Кузнецов","mobile":"8 916 000 11 22"}`)
		require.Equal(t, 201, status, string(body))
		require.NoError(t, json.Unmarshal(body, &lead))
		require.Equal(t, "+79160001122", lead["mobile"])
		require.NotEmpty(t, hdr.Get("X-Request-Id"))
	}) {
		return
	}

	if !t.Run("Readyz", func(t *testing.T) {
		status, _, _ := c.do(t, "GET", "/readyz", "")
		require.Equal(t, 200, status)
	}) {
		return
	}

	if !t.Run("OneCExchange", func(t *testing.T) {
		// 1C's exchange answers at /1c/exchange with the credentials from the
		// environment, in the protocol's plain lines.
		req, err := http.NewRequest("GET", "http://"+addr+"/1c/exchange?type=catalog&mode=checkauth", nil)
		require.NoError(t, err)
		req.SetBasicAuth("1c-exchange", "1c-s3cret")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		answer, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(answer), "success\nCRMHUB_1C\n"), string(answer))
		req.SetBasicAuth("1c-exchange", "wrong")
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		answer, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.True(t, strings.HasPrefix(string(answer), "failure\n"), string(answer))
		status, _, body := c.do(t, "GET", "/api/v1/onec/jobs?limit=5", "")
		require.Equal(t, 200, status, string(body))
		require.JSONEq(t, `{"items":[]}`, string(body), "the exchange log is served, empty before any import")
	}) {
		return
	}
	if !t.Run("Metrics", func(t *testing.T) {
		status, _, body := c.do(t, "GET", "/metrics", "")
		require.Equal(t, 200, status)
		require.Contains(t, string(body), `crmhub_http_request_duration_seconds_count{method="POST",route="/api/v1/leads",status="201"} 1`,
			"labels survive the reuse of request buffers")
		for _, metric := range []string{"crmhub_http_request_duration_seconds_bucket", "crmhub_db_pool_connections", "crmhub_outbox_backlog", "go_goroutines"} {
			require.Contains(t, string(body), metric)
		}
	}) {
		return
	}

	if !t.Run("ChangeReachesTheBroker", func(t *testing.T) {
		// The change reaches the embedded broker, readable by any Kafka client.
		broker = regexp.MustCompile(`stream to Kafka at (\S+) `).FindStringSubmatch(out.String())
		require.NotNil(t, broker, out.String())
		require.Eventually(t, func() bool {
			got, _ := exec.Command("kcat", "-b", broker[1], "-C", "-t", "crm.lead", "-o", "beginning", "-e", "-q", "-f", "%k %h\n").Output()
			return strings.Contains(string(got), lead["id"].(string)+" ") && strings.Contains(string(got), "ce_type=crm.lead.created")
		}, 30*time.Second, 200*time.Millisecond)
	}) {
		return
	}

	if !t.Run("SecondServeRefuses", func(t *testing.T) {
		// A second serve on the same data dir refuses, clearly, and changes nothing.
		code, _, stderr := run(t, env, "serve")
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "another crmhub serve")
	}) {
		return
	}

	if !t.Run("CLIBesideServe", func(t *testing.T) {
		// CLI commands work beside a running serve, through its cluster's socket.
		code, keyOut, stderr := run(t, env, "apikey", "create", "--name", "reporting", "--scopes", "read")
		require.Equal(t, 0, code, stderr)
		reader := client{base: c.base, key: strings.TrimSpace(keyOut)}
		status, _, _ := reader.do(t, "GET", "/api/v1/leads", "")
		require.Equal(t, 200, status)
		status, _, _ = reader.do(t, "POST", "/api/v1/leads", `{"last_name":"A","company":"B"}`)
		require.Equal(t, 403, status)
		code, userID, stderr := run(t, env, "user", "add", "--name", "Пётр Смирнов", "--email", "petr@example.ru", "--ext", "101,102")
		require.Equal(t, 0, code, stderr)
		code, _, stderr = run(t, env, "user", "add", "--name", "Анна", "--ext", "102")
		require.Equal(t, 2, code)
		require.Contains(t, stderr, "phone_extensions: already used by another active user: [102]")
		code, users, _ := run(t, env, "user", "list")
		require.Equal(t, 0, code)
		require.Contains(t, users, strings.TrimSpace(userID))
		require.Contains(t, users, "101,102")
		require.NotContains(t, users, "Анна")
	}) {
		return
	}

	if !t.Run("APasswordSetFromTheCLISignsIn", func(t *testing.T) {
		code, _, stderr := runIn(t, env, "короткий\n", "user", "passwd", "--email", "petr@example.ru")
		require.Equal(t, 2, code)
		require.Contains(t, stderr, "at least 10 characters")
		code, _, stderr = runIn(t, env, "пароль-из-консоли\n", "user", "passwd", "--email", "petr@example.ru")
		require.Equal(t, 0, code, stderr)
		anon := client{base: c.base}
		status, _, body := anon.do(t, "POST", "/api/v1/auth/login", `{"email":"petr@example.ru","password":"пароль-из-консоли"}`)
		require.Equal(t, 200, status, string(body))
		var login struct{ Token string }
		require.NoError(t, json.Unmarshal(body, &login))
		me := client{base: c.base, key: login.Token}
		status, _, body = me.do(t, "GET", "/api/v1/auth/me", "")
		require.Equal(t, 200, status, string(body))
		require.Contains(t, string(body), "Менеджер", "a user added without a role is a manager")

		code, roles, stderr := run(t, env, "role", "list")
		require.Equal(t, 0, code, stderr)
		for _, name := range []string{"Администратор", "Руководитель отдела продаж", "Менеджер"} {
			require.Contains(t, roles, name)
		}
		code, shown, stderr := run(t, env, "role", "show", "Менеджер")
		require.Equal(t, 0, code, stderr)
		require.Regexp(t, `(?m)^account\s+team\s+own\s+own\s+own\s+own$`, shown)
	}) {
		return
	}

	if !t.Run("Print", func(t *testing.T) {
		// crmhub print writes a document's PDF.
		status, _, body := c.do(t, "POST", "/api/v1/invoices", `{"lines":[{"name":"Работы","price":"1000","vat_rate":"22"}]}`)
		require.Equal(t, 201, status, string(body))
		var inv map[string]any
		require.NoError(t, json.Unmarshal(body, &inv))
		code, printed, stderr := run(t, env, "print", "--form", "invoice", "--id", inv["id"].(string), "-o", pdfPath)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, printed, "invoice.pdf")
		pdf, err := os.ReadFile(pdfPath)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(pdf), "%PDF-"))
		code, _, stderr = run(t, env, "print", "--form", "torg13", "--id", inv["id"].(string))
		require.Equal(t, 2, code, stderr)
	}) {
		return
	}

	if !t.Run("BIKDirectory", func(t *testing.T) {
		// crmhub bik import loads the Bank of Russia's directory (its zip as
		// published, too); bank lookups then answer from it, and an older
		// directory is refused.
		dir := t.TempDir()
		xmlBytes, err := os.ReadFile("../../exchange/ed807/testdata/20220819_ED807_full.xml")
		require.NoError(t, err)
		zipPath := filepath.Join(dir, "20220819ED01OSBR.zip")
		zf, err := os.Create(zipPath)
		require.NoError(t, err)
		zw := zip.NewWriter(zf)
		w, err := zw.Create("20220819_ED807_full.xml")
		require.NoError(t, err)
		_, err = w.Write(xmlBytes)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		require.NoError(t, zf.Close())
		code, out, stderr := run(t, env, "bik", "import", zipPath)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, out, "imported the BIK directory of 18.08.2022: 1800 banks, 1800 new, 0 no longer listed")
		code, _, stderr = run(t, env, "bik", "import", "../../exchange/ed807/testdata/20220630_ED807_full.xml")
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "older than the one loaded (2022-08-18)")
		status, _, body := c.do(t, "POST", "/suggestions/api/4_1/rs/findById/bank", `{"query":"044525225"}`,
			"Authorization", "Token "+c.key)
		require.Equal(t, 200, status, string(body))
		require.Contains(t, string(body), `"correspondent_account":"30101810400000000225"`)
	}) {
		return
	}

	if !t.Run("FIASImport", func(t *testing.T) {
		// crmhub fias import loads a real distribution's region, flags after
		// the path as its usage writes them; a region code that is none is a
		// usage error.
		code, out, stderr := run(t, env, "fias", "import", "../../exchange/gar/testdata/node-ru-nalog-fias-gar/gar_xml.zip", "--regions", "99")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, out, "region 99: 48 address objects, 550 houses")
		// The same files as a delta change nothing: nothing is doubled.
		code, out, stderr = run(t, env, "fias", "import", "--delta", "../../exchange/gar/testdata/node-ru-nalog-fias-gar/gar_xml.zip")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, out, "region 99: 48 address objects, 550 houses")
		// With the flats and other premises, asked for.
		code, out, stderr = run(t, env, "fias", "import", "../../exchange/gar/testdata/node-ru-nalog-fias-gar/gar_xml.zip", "--with", "apartments,steads")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, out, "region 99: 48 address objects, 550 houses, 1 apartments, 52 land plots")
		code, _, stderr = run(t, env, "fias", "import", "../../exchange/gar/testdata/node-ru-nalog-fias-gar/gar_xml.zip", "--with", "rooms")
		require.Equal(t, 2, code)
		require.Contains(t, stderr, `--with: "rooms" is not something the import loads`)
		code, _, stderr = run(t, env, "fias", "import", "../../exchange/gar/testdata/node-ru-nalog-fias-gar/gar_xml.zip", "--regions", "7")
		require.Equal(t, 2, code)
		require.Contains(t, stderr, `"7" is not a region code`)
		code, _, stderr = run(t, env, "fias", "import", "../../exchange/gar/testdata/node-ru-nalog-fias-gar/gar_xml.zip", "--regions", "77")
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "no ГАР files of a region to load")

		// crmhub fias normalize structures an account's free-text address the
		// register matches whole, and reports the one it cannot.
		status, _, body := c.do(t, "POST", "/api/v1/accounts", `{"name":"ООО Байконур-Сервис","legal_address":{"line":"г. Байконур, ул. Горького, д. 5а, кв. 3"},"actual_address":{"line":"Москва, Тверская 7"}}`)
		require.Equal(t, 201, status, string(body))
		var acc struct{ ID string }
		require.NoError(t, json.Unmarshal(body, &acc))
		code, out, stderr = run(t, env, "fias", "normalize", "--entity", "accounts")
		require.Equal(t, 0, code, stderr)
		require.Regexp(t, `structured \d+ addresses of \d+ accounts; \d+ not matched`, out)
		require.Contains(t, out, acc.ID+"\tactual_address\tМосква, Тверская 7")
		status, _, body = c.do(t, "GET", "/api/v1/accounts/"+acc.ID, "")
		require.Equal(t, 200, status, string(body))
		require.Contains(t, string(body), `"street":"Горького","street_type":"ул","house":"5а","house_type":"д","block":"","block_type":"","flat":"3","line":""`)
		require.Contains(t, string(body), `"line":"Москва, Тверская 7"`)

		// A delta merges that house into a new one: normalize moves the
		// account's retired id to it.
		code, _, stderr = run(t, env, "fias", "import", "--delta", "../../connectors/fiasimport/testdata/merge")
		require.Equal(t, 0, code, stderr)
		code, out, stderr = run(t, env, "fias", "normalize", "--entity", "accounts")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, out, "(1 of them retired ids moved to their successors)")
		status, _, body = c.do(t, "GET", "/api/v1/accounts/"+acc.ID, "")
		require.Equal(t, 200, status, string(body))
		require.Contains(t, string(body), `"house":"23","house_type":"д","block":"1","block_type":"к","flat":"3","line":""`)
		require.Contains(t, string(body), `"fias_id":"1d3c5e7a-0000-4000-8000-000000000023"`)

		// Leads too: vtiger's street and city, structured in place.
		status, _, body = c.do(t, "POST", "/api/v1/leads", `{"last_name":"Иванов","company":"ООО Космос","address":{"street":"ул. Горького, 25","city":"Байконур"}}`)
		require.Equal(t, 201, status, string(body))
		var lead struct{ ID string }
		require.NoError(t, json.Unmarshal(body, &lead))
		code, out, stderr = run(t, env, "fias", "normalize", "--entity", "leads")
		require.Equal(t, 0, code, stderr)
		require.Regexp(t, `structured [1-9]\d* addresses of \d+ leads`, out)
		status, _, body = c.do(t, "GET", "/api/v1/leads/"+lead.ID, "")
		require.Equal(t, 200, status, string(body))
		require.Contains(t, string(body), `"street":"ул. Горького, д. 25"`)
		require.Contains(t, string(body), `"fias_level":8`)
		status, _, body = c.do(t, "DELETE", "/api/v1/leads/"+lead.ID, "") // the subtests below count the leads
		require.Equal(t, 204, status, string(body))
	}) {
		return
	}

	if !t.Run("CurrencyRates", func(t *testing.T) {
		// crmhub rates import loads the Bank of Russia's file; a document in
		// dollars then takes the rate of its date, which the API lists.
		code, ratesOut, stderr := run(t, env, "rates", "import", "../../exchange/cbrrates/testdata/cbrXMLdaily-XML_daily.xml")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, ratesOut, "imported 34 rates of 15.03.2022")
		code, _, stderr = run(t, env, "rates", "import", "../../exchange/cbrrates/testdata/diplom-pipeline-cbr.xml")
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "declares encoding windows-1251 but its bytes are UTF-8")
		status, _, body := c.do(t, "GET", "/api/v1/currency-rates?date=2022-03-16", "")
		require.Equal(t, 200, status, string(body))
		require.Contains(t, string(body), `{"currency":"USD","nominal":1,"rate":"115.1963","date":"2022-03-15"}`)
		status, _, body = c.do(t, "POST", "/api/v1/invoices", `{"currency":"USD","date":"2022-03-16","lines":[{"name":"Работы","price":"10","vat_rate":"20"}]}`)
		require.Equal(t, 201, status, string(body))
		require.Contains(t, string(body), `"conversion_rate":"115.1963"`)
	}) {
		return
	}

	if !t.Run("ExportAndImport", func(t *testing.T) {
		// crmhub export writes the leads; crmhub import reads them back (by
		// id, updating: nothing changes) and reports a bad file clearly.
		// A custom field of leads is a column, its option by label.
		status, _, body := c.do(t, "POST", "/api/v1/fields/lead", `{"key": "segment", "label": {"ru": "Сегмент"}, "type": "picklist",
			"options": [{"code": "retail", "label": {"ru": "Розница"}}]}`)
		require.Equal(t, 201, status, string(body))
		status, _, body = c.do(t, "GET", "/api/v1/leads", "")
		require.Equal(t, 200, status, string(body))
		var leads struct{ Items []struct{ ID string } }
		require.NoError(t, json.Unmarshal(body, &leads))
		status, _, body = c.do(t, "PATCH", "/api/v1/leads/"+leads.Items[0].ID, `{"custom": {"segment": "retail"}}`)
		require.Equal(t, 200, status, string(body))

		xlsxPath := filepath.Join(env["CRMHUB_DATA_DIR"], "leads.xlsx")
		code, exported, stderr := run(t, env, "export", "--entity", "leads", "-o", xlsxPath)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, exported, "(1 rows)")
		book, err := excelize.OpenFile(xlsxPath)
		require.NoError(t, err)
		rows, err := book.GetRows(book.GetSheetName(0))
		require.NoError(t, err)
		require.NoError(t, book.Close())
		at := slices.Index(rows[0], "Сегмент")
		require.GreaterOrEqual(t, at, 0, "the custom field's column: %v", rows[0])
		require.Equal(t, "Розница", rows[1][at])
		codesPath := filepath.Join(env["CRMHUB_DATA_DIR"], "leads-codes.xlsx")
		code, _, stderr = run(t, env, "export", "--entity", "leads", "--codes", "-o", codesPath)
		require.Equal(t, 0, code, stderr)
		book, err = excelize.OpenFile(codesPath)
		require.NoError(t, err)
		rows, err = book.GetRows(book.GetSheetName(0))
		require.NoError(t, err)
		require.NoError(t, book.Close())
		require.Equal(t, "retail", rows[1][at], "--codes writes the option's code")
		code, imported, stderr := run(t, env, "import", xlsxPath, "--entity", "leads", "--key", "id", "--on-duplicate", "update")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, imported, "1 rows; created 0, updated 1, skipped 0, failed 0")
		code, _, stderr = run(t, env, "import", pdfPath, "--entity", "leads")
		require.Equal(t, 1, code)
		require.Contains(t, stderr, "not an .xlsx workbook")
		code, _, stderr = run(t, env, "export", "--entity", "tickets", "-o", xlsxPath)
		require.Equal(t, 2, code, stderr)
	}) {
		return
	}

	if !t.Run("OneCImportAndExportOrders", func(t *testing.T) {
		// crmhub onec import applies a CommerceML catalog from disk.
		code, imported1c, stderr := run(t, env, "onec", "import", "../../connectors/onec/testdata/import0_1.xml")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, imported1c, "36 items; created 36")
		ordersPath := filepath.Join(env["CRMHUB_DATA_DIR"], "orders.xml")
		code, _, stderr = run(t, env, "onec", "export-orders", "-o", ordersPath)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stderr, "0 sales orders written")
		code, _, stderr = run(t, env, "onec", "export-orders", "-o", ordersPath, "--documents", "sales_orders,invoices")
		require.Equal(t, 0, code, stderr)
		require.Regexp(t, `^0 sales orders, [1-9][0-9]* invoices written`, stderr, "the invoices made above")
	}) {
		return
	}
	if !t.Run("Reports", func(t *testing.T) {
		// crmhub report lists and runs reports.
		code, listed, _ := run(t, env, "report", "list")
		require.Equal(t, 0, code)
		require.Contains(t, listed, "unpaid-invoices")
		reportPath := filepath.Join(env["CRMHUB_DATA_DIR"], "leads.xlsx")
		code, _, stderr := run(t, env, "report", "run", "leads-by-source", "--format", "xlsx", "-o", reportPath, "--from", "2026-01-01")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stderr, "Обращения по источникам:")
		xlsx, err := os.ReadFile(reportPath)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(xlsx, []byte("PK")), "a workbook")
		code, jsonOut, stderr := run(t, env, "report", "run", "lead-status", "--param", "owner="+uuid.NewString())
		require.Equal(t, 0, code, stderr)
		require.Contains(t, jsonOut, `"rows":[]`, "nobody owns leads under a new id")
		code, _, stderr = run(t, env, "report", "run", "lead-status", "--param", "nope=1")
		require.Equal(t, 2, code, stderr)
		require.Contains(t, stderr, "nope")
		code, _, _ = run(t, env, "report", "run", "no-such-report")
		require.Equal(t, 1, code)
		code, _, stderr = run(t, env, "onec", "export-orders", "--documents", "acts")
		require.Equal(t, 2, code, stderr)
		require.Contains(t, stderr, `"acts" is not sales_orders or invoices`)
	}) {
		return
	}

	if !t.Run("StreamResyncAndStatus", func(t *testing.T) {
		code, out2, _ := run(t, env, "stream", "resync", "--entity", "lead")
		require.Equal(t, 0, code)
		require.Contains(t, out2, "queued 1 lead snapshot(s)")
		require.Eventually(t, func() bool {
			got, _ := exec.Command("kcat", "-b", broker[1], "-C", "-t", "crm.lead", "-o", "beginning", "-e", "-q", "-f", "%h\n").Output()
			return strings.Contains(string(got), "ce_type=crm.lead.snapshot")
		}, 30*time.Second, 200*time.Millisecond)
		got, err := exec.Command("kcat", "-b", broker[1], "-C", "-t", "crm.lead.state", "-o", "beginning", "-e", "-q", "-f", "%k\n").Output()
		require.NoError(t, err)
		require.Contains(t, string(got), lead["id"].(string), "with state_topics on, the lead's latest state is in its compacted topic")
		code, out2, _ = run(t, env, "stream", "status")
		require.Equal(t, 0, code)
		require.Contains(t, out2, "last published")
		require.Contains(t, out2, "commands")
		_, _, body := c.do(t, "GET", "/metrics", "")
		require.Contains(t, string(body), `crmhub_relay_published_total{entity="lead"}`)
	}) {
		return
	}

	if !t.Run("CommandFromKafka", func(t *testing.T) {
		// A command from another system, through kcat, is applied and its
		// partition's consumer lag reported.
		kp := exec.Command("kcat", "-b", broker[1], "-P", "-t", "crm.commands")
		kp.Stdin = strings.NewReader(`{"id":"pbx-1","type":"lead.create","source":"telephony","payload":{"last_name":"Звонок","company":"?"}}` + "\n")
		out3, err := kp.CombinedOutput()
		require.NoError(t, err, string(out3))
		require.Eventually(t, func() bool {
			_, _, body := c.do(t, "GET", "/metrics", "")
			return strings.Contains(string(body), "crmhub_commands_applied_total 1") &&
				regexp.MustCompile(`crmhub_commands_consumer_lag\{partition="\d+",topic="crm.commands"\} 0`).Match(body)
		}, 30*time.Second, 200*time.Millisecond)
	}) {
		return
	}

	if !t.Run("TelephonyWebhooks", func(t *testing.T) {
		// A PBX reports a missed call through the generic webhook: refused
		// unsigned, accepted signed, and the caller becomes a lead.
		hook := func(body string, sign bool) (int, string) {
			req, err := http.NewRequest("POST", c.base+"/hooks/telephony/generic", strings.NewReader(body))
			require.NoError(t, err)
			ts := time.Now().Unix()
			req.Header.Set(telephony.HeaderTimestamp, fmt.Sprint(ts))
			if sign {
				req.Header.Set(telephony.HeaderSignature, telephony.Sign("generic-pbx-secret-0001", ts, []byte(body)))
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		call := `{"event_id":"e2e-1","call_id":"e2e-call","direction":"in","from":"+7 903 111-22-33","started_at":"2026-11-27T08:00:00Z","final":true}`
		hs, hb := hook(call, false)
		require.Equal(t, 401, hs, hb)
		hs, hb = hook(call, true)
		require.Equal(t, 200, hs, hb)
		require.Eventually(t, func() bool {
			_, _, body := c.do(t, "GET", "/api/v1/leads?phone=89031112233", "")
			return strings.Contains(string(body), `"source":"incoming_call"`)
		}, 30*time.Second, 100*time.Millisecond)
		zresp, err := http.Get(c.base + "/hooks/telephony/zadarma?zd_echo=d41d8cd98f00b204")
		require.NoError(t, err)
		zbody, _ := io.ReadAll(zresp.Body)
		zresp.Body.Close()
		require.Equal(t, "d41d8cd98f00b204", string(zbody), "Zadarma's URL check, over HTTP")
		vresp, err := http.Post(c.base+"/hooks/telephony/vats", "application/x-www-form-urlencoded",
			strings.NewReader("cmd=contact&phone=8+903+111-22-33&callid=e2e-2&crm_token=test-crm-token"))
		require.NoError(t, err)
		vbody, _ := io.ReadAll(vresp.Body)
		vresp.Body.Close()
		require.Equal(t, 200, vresp.StatusCode)
		require.Contains(t, string(vbody), `"contact_name"`, "the PBX's lookup finds the lead the generic webhook made")
		require.Eventually(t, func() bool { // marked done just after the call commits
			_, _, body := c.do(t, "GET", "/metrics", "")
			return strings.Contains(string(body), `crmhub_inbox_deliveries{status="done"} 1`)
		}, 10*time.Second, 50*time.Millisecond, "the generic webhook's delivery, processed")
		code, inboxOut, stderr := run(t, env, "inbox", "status")
		require.Equal(t, 0, code, stderr)
		require.Contains(t, inboxOut, "pending 0, done 1, failed 0")
		code, _, stderr = run(t, env, "inbox", "retry", "--source", "telephony:generic")
		require.Equal(t, 0, code, stderr)
		status, _, _ := c.do(t, "POST", "/hooks/telephony/mango/events/summary", "")
		require.Equal(t, 404, status, "a provider without a secret has no endpoint")
	}) {
		return
	}

	if !t.Run("MigrateStatus", func(t *testing.T) {
		code, out2, _ := run(t, env, "migrate", "status")
		require.Equal(t, 0, code)
		require.Regexp(t, regexp.MustCompile(`001\s+platform\s+20`), out2)
	}) {
		return
	}

	require.Equal(t, 0, h.stop())
	_, err = os.Stat(filepath.Join(dir, "pg", "data", "postmaster.pid"))
	require.ErrorIs(t, err, os.ErrNotExist, "the embedded PostgreSQL was stopped cleanly")
}

// hub is a `crmhub serve` running in-process.
type hub struct {
	addr      string
	out, errs syncBuffer
	stop      func() int // stops it and returns its exit code
}

// serveInProcess runs `crmhub serve` with env until stop or the test's end.
func serveInProcess(t *testing.T, env map[string]string) *hub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &hub{}
	addrc := make(chan string, 1)
	m := &Main{Stdout: &h.out, Stderr: &h.errs, Getenv: envFunc(env), OnListen: func(a string) { addrc <- a }}
	done := make(chan int, 1)
	go func() { done <- m.Run(ctx, []string{"serve"}) }()
	h.stop = sync.OnceValue(func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(60 * time.Second):
			t.Error("serve did not shut down")
			return -1
		}
	})
	t.Cleanup(func() { h.stop() })
	select {
	case h.addr = <-addrc:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, h.errs.String())
	case <-time.After(90 * time.Second):
		t.Fatal("serve did not start")
	}
	return h
}

// syncBuffer is a bytes.Buffer safe for the serve goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs this test binary as `crmhub serve` and returns the process
// and the API's base URL.
func startServe(t *testing.T, env map[string]string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), "CRMHUB_TEST_EXEC=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		// SIGTERM, so that serve stops its PostgreSQL (a SIGKILLed hub
		// leaves it running, its folder deleted beneath it).
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`serving on (http://\S+) `)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return cmd, base
	case <-time.After(90 * time.Second):
		t.Fatalf("serve did not start: %s", stderr.String())
	}
	return nil, ""
}

// TestCrashSafety kills the hub and its PostgreSQL with SIGKILL during a
// burst of lead creations, restarts on the same data dir, and checks that
// every lead has its event, every event its lead, and every acknowledged
// lead survived.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := testEnv(dir)
	env["CRMHUB_DATABASE_EMBEDDED_PORT"] = "5434"
	cmd, base := startServe(t, env)
	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	require.NoError(t, err)
	c := client{base: base, key: strings.TrimSpace(string(key))}

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"last_name":"Crash%d_%d","company":"Burst"}`, w, i)
				req, _ := http.NewRequest("POST", base+"/api/v1/leads", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+c.key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server died
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 201 {
					var l struct{ ID string }
					if json.Unmarshal(data, &l) == nil {
						mu.Lock()
						acked = append(acked, l.ID)
						mu.Unlock()
					}
				}
			}
		}()
	}
	// Let the burst run, then kill both processes without warning.
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) > 200 }, 60*time.Second, 10*time.Millisecond)
	pidFile, err := os.ReadFile(filepath.Join(dir, "pg", "data", "postmaster.pid"))
	require.NoError(t, err)
	var pgPid int
	_, err = fmt.Sscan(string(pidFile), &pgPid)
	require.NoError(t, err)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	require.NoError(t, syscall.Kill(pgPid, syscall.SIGKILL))
	close(stop)
	wg.Wait()
	_ = cmd.Wait()

	_, base = startServe(t, env)
	c.base = base
	status, _, _ := c.do(t, "GET", "/readyz", "")
	require.Equal(t, 200, status)

	url, err := pgembed.Attach(filepath.Join(dir, "pg"), 5434, "")
	require.NoError(t, err)
	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var orphanLeads, orphanEvents, leads int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM leads l
		WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = l.id AND o.type = 'lead.created')`).Scan(&orphanLeads))
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM outbox o
		WHERE o.entity = 'lead' AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = o.entity_id)`).Scan(&orphanEvents))
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM leads`).Scan(&leads))
	require.Zero(t, orphanLeads, "no lead without its event")
	require.Zero(t, orphanEvents, "no event without its lead")
	mu.Lock()
	defer mu.Unlock()
	var missing int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM unnest($1::uuid[]) a(id)
		WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = a.id)`, acked).Scan(&missing))
	require.Zero(t, missing, "every acknowledged lead survived the crash")
	require.GreaterOrEqual(t, leads, len(acked))
	t.Logf("acknowledged %d leads before SIGKILL; %d leads after restart", len(acked), leads)

	// The restarted hub serves writes.
	status, _, _ = c.do(t, "POST", "/api/v1/leads", `{"last_name":"After","company":"Crash"}`)
	require.Equal(t, 201, status)
}
