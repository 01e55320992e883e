package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// quickStart returns the first sh block after the README's quick start
// heading.
func quickStart(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(b), "## Quick start with curl")
	require.True(t, ok)
	_, block, ok := strings.Cut(after, "```sh\n")
	require.True(t, ok)
	script, _, ok := strings.Cut(block, "```")
	require.True(t, ok)
	return script
}

// TestReadmeQuickStartWorksAsWritten runs the README's curl quick start
// against a live hub, changing only its address and folders.
func TestReadmeQuickStartWorksAsWritten(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := testEnv(dir)
	env["CRMHUB_DATABASE_EMBEDDED_PORT"] = "5435"
	addr := serveInProcess(t, env).addr

	script := quickStart(t)
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", "http://"+addr)
	script = strings.ReplaceAll(script, "var/admin.key", filepath.Join(dir, "admin.key"))
	script = strings.ReplaceAll(script, "/tmp/lead.json", filepath.Join(dir, "lead.json"))
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	got, err := cmd.CombinedOutput()
	require.NoError(t, err, string(got))
	s := string(got)
	require.Contains(t, s, `"phone":"+79123456789"`)
	require.Contains(t, s, `"email":"ivan@romashka.ru"`)
	require.Equal(t, 3, strings.Count(s, `"last_name":"Петров"`), "created, listed by phone, patched: %s", s)
	require.Contains(t, s, `"status":"hot"`)
	require.Contains(t, s, `"version":2`)
	require.True(t, strings.HasSuffix(strings.TrimSpace(s), "204"), s)
}

// readmeBlock returns the first fenced block of lang after heading.
func readmeBlock(t *testing.T, heading, lang string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(b), heading)
	require.True(t, ok)
	_, block, ok := strings.Cut(after, "```"+lang+"\n")
	require.True(t, ok)
	text, _, ok := strings.Cut(block, "```")
	require.True(t, ok)
	return text
}

// TestReadmeHTMLFormWorksAsWritten serves the README's form config and
// submits the README's HTML form the way a browser does (multipart, with a
// file and the hidden fields its script fills).
func TestReadmeHTMLFormWorksAsWritten(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	cfgFile := filepath.Join(dir, "hub.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(readmeBlock(t, "## Website forms", "yaml")), 0o600))
	env := testEnv(dir)
	env["CRMHUB_DATABASE_EMBEDDED_PORT"] = "5436"
	env["CRMHUB_CONFIG"] = cfgFile
	h := serveInProcess(t, env)

	page := readmeBlock(t, "## Website forms", "html")
	action := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, action)
	target := strings.Replace(action[1], "127.0.0.1:8080", h.addr, 1)
	values := map[string]string{"name": "Иван Петров", "phone": "8 (916) 123-45-67", "email": "ivan@example.ru",
		"message": "Перезвоните", "website": "",
		"page_url": "https://example.ru/sale?utm_source=yandex&utm_medium=cpc&utm_campaign=sofa",
		"referrer": "https://yandex.ru/"}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, m := range regexp.MustCompile(`<(?:input|textarea) name="([^"]+)"([^>]*)>`).FindAllStringSubmatch(page, -1) {
		name := m[1]
		if strings.Contains(m[2], `type="file"`) {
			w, err := mw.CreateFormFile(name, "ТЗ.txt")
			require.NoError(t, err)
			_, _ = w.Write([]byte("Нужен диван"))
			continue
		}
		v, ok := values[name]
		require.True(t, ok, "the test knows input %q", name)
		require.NoError(t, mw.WriteField(name, v))
		delete(values, name)
	}
	require.Empty(t, values, "every input the test fills is in the form")
	require.NoError(t, mw.Close())
	req, err := http.NewRequest("POST", target, &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(reply))
	require.Contains(t, string(reply), "Спасибо")

	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	require.NoError(t, err)
	c := client{base: "http://" + h.addr, key: strings.TrimSpace(string(key))}
	status, _, out := c.do(t, "GET", "/api/v1/leads?phone=%2B79161234567", "")
	require.Equal(t, 200, status, string(out))
	var page1 struct {
		Items []core.Lead `json:"items"`
	}
	require.NoError(t, json.Unmarshal(out, &page1))
	require.Len(t, page1.Items, 1)
	l := page1.Items[0]
	require.Equal(t, "Иван", l.FirstName)
	require.Equal(t, "Петров", l.LastName)
	require.Equal(t, "Перезвоните", l.Description)
	require.Equal(t, core.Marketing{UTMSource: "yandex", UTMMedium: "cpc", UTMCampaign: "sofa", Referrer: "https://yandex.ru/",
		LandingPage: "https://example.ru/sale?utm_source=yandex&utm_medium=cpc&utm_campaign=sofa"}, l.Marketing)

	status, _, out = c.do(t, "GET", "/api/v1/leads/"+l.ID+"/attachments", "")
	require.Equal(t, 200, status, string(out))
	var files struct {
		Items []core.Attachment `json:"items"`
	}
	require.NoError(t, json.Unmarshal(out, &files))
	require.Len(t, files.Items, 1)
	status, hdr, out := c.do(t, "GET", "/api/v1/attachments/"+files.Items[0].ID, "")
	require.Equal(t, 200, status)
	require.Equal(t, "Нужен диван", string(out))
	require.Contains(t, hdr.Get("Content-Disposition"), "attachment")

	status, _, out = c.do(t, "GET", "/metrics", "")
	require.Equal(t, 200, status)
	require.Contains(t, string(out), `crmhub_webform_submissions_total{form="contact",outcome="created"} 1`)
}

// TestReadmeReportWorksAsWritten runs the README's report example against
// a live hub.
func TestReadmeReportWorksAsWritten(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := testEnv(dir)
	env["CRMHUB_DATABASE_EMBEDDED_PORT"] = "5438"
	addr := serveInProcess(t, env).addr
	script := readmeBlock(t, "## Reports", "sh")
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", "http://"+addr)
	script = strings.ReplaceAll(script, "var/admin.key", filepath.Join(dir, "admin.key"))
	script = strings.ReplaceAll(script, "/tmp/report.xlsx", filepath.Join(dir, "report.xlsx"))
	got, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput()
	require.NoError(t, err, string(got))
	require.Contains(t, string(got), `"slug":"invoices-by-owner"`)
	require.Contains(t, string(got), `"name":"Неоплаченные счета"`)
	x, err := os.ReadFile(filepath.Join(dir, "report.xlsx"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(x, []byte("PK")), "a workbook: %.200s", x)
}
