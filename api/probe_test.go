package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// hostileValues are what the hardening probe (issue 16) sent in query
// parameters: control characters, injections, traversal, numbers out of
// every range, oversized text.
var hostileValues = []string{
	"\x00", "a\x00b", "\u0000'", "\x01\x02\x1b[31m", "\r\nX-Injected: 1",
	"' OR 1=1--", "'; DROP TABLE leads;--", `") OR ("1"="1`, "1' UNION SELECT NULL--", "$1", "%", "_", "\\",
	"<script>alert(1)</script>", "{{.}}", "${jndi:ldap://x}", "../../../../etc/passwd", "..%2f..%2f",
	"-1", "0", "99999999999999999999999", "1e309", "NaN", "-0", "0x10", "9223372036854775808",
	"2026-13-45", "0000-00-00", "2026-02-30T25:61:61Z", "true", "[]", "{}", "null",
	"\u202eRTL", "\uffff", "\xff\xfe", strings.Repeat("Я", 500), strings.Repeat("a", 3000),
}

// TestHostileQueryParameters sends hostile values in every documented
// query parameter of every GET route (ids are random, the admin's key):
// no answer may be a 5xx. The counts are the probe's figures, re-run.
func TestHostileQueryParameters(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	b := setup(t)
	byStatus := map[int]int{}
	var failures []string
	sent := 0
	turn := 0
	paths := make([]string, 0, len(doc.Paths.Map()))
	for p := range doc.Paths.Map() {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	pathParam := regexp.MustCompile(`\{[^}]+\}`)
	for _, p := range paths {
		op := doc.Paths.Value(p).Get
		if op == nil || strings.Contains(p, "/webhooks/") || strings.HasPrefix(p, "/calendar/") {
			continue
		}
		concrete := pathParam.ReplaceAllString(p, "01a2389d-943e-796e-b2e9-0f4e2d7f785a")
		var params []string
		for _, ref := range append(doc.Paths.Value(p).Parameters, op.Parameters...) {
			if ref.Value != nil && ref.Value.In == openapi3.ParameterInQuery {
				params = append(params, ref.Value.Name)
			}
		}
		params = append(params, "q", "undocumented")
		for _, name := range params {
			// The control characters everywhere, the rest in turns: every
			// value reaches many parameters, and the test stays quick.
			values := hostileValues[:5:5]
			for i := range 3 {
				values = append(values, hostileValues[5+(turn+i)%(len(hostileValues)-5)])
			}
			turn += 3
			for _, v := range values {
				target := concrete + "?" + url.QueryEscape(name) + "=" + url.QueryEscape(v)
				req := httptest.NewRequest(http.MethodGet, target, nil)
				req.Header.Set("Authorization", "Bearer "+b.admin)
				resp, err := b.srv.App().Test(req, -1)
				require.NoError(t, err)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				sent++
				byStatus[resp.StatusCode]++
				if resp.StatusCode >= 500 {
					failures = append(failures, fmt.Sprintf("GET %s ?%s=%q: %d %.200s", p, name, trim(v), resp.StatusCode, body))
				}
				if resp.StatusCode >= 400 && strings.Contains(string(body), "goroutine ") {
					failures = append(failures, fmt.Sprintf("GET %s ?%s=%q: a stack trace in the body", p, name, trim(v)))
				}
			}
		}
	}
	t.Logf("hostile query parameters: %d requests, by status %v", sent, byStatus)
	require.Empty(t, failures, "%d of %d requests failed the server", len(failures), sent)
	require.Greater(t, sent, 3000, "the probe covers the API")
}

func trim(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
