package api_test

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store"
)

const formURLEncoded = "application/x-www-form-urlencoded"

// withForms serves website forms: those given, in the config's place.
func withForms(t testing.TB, forms ...core.WebForm) func(*store.Store, *api.Deps) {
	return func(st *store.Store, d *api.Deps) {
		h, err := webforms.New(webforms.Config{Forms: forms}, st, inbox.New(st.Pool()))
		require.NoError(t, err)
		d.Forms = h
		d.ConfigForms = h.ConfigForms
	}
}

// TestFormRoutesAreNamed: a form's posts and preflights are counted and
// logged under their route, /forms/:slug, as the API's requests are; a
// path nothing serves stays "unmatched", so a form post no longer looks
// like a 404 in the metrics.
func TestFormRoutesAreNamed(t *testing.T) {
	t.Parallel()
	var access lockedBuffer
	b := setupConfig(t, func(c *api.Config) {
		c.AccessLog = true
		c.AccessLogger = slog.New(slog.NewTextHandler(&access, nil))
	}, withForms(t, core.WebForm{Slug: "contact", AllowedOrigins: []string{"https://example.ru"}}))

	r := b.do(t, "POST", "/forms/contact", "", "name=Иван&phone=%2B79160000001", "Content-Type", formURLEncoded)
	require.Equal(t, 200, r.status, string(r.body))
	r = b.do(t, "OPTIONS", "/forms/contact", "", "", "Origin", "https://example.ru", "Access-Control-Request-Method", "POST")
	require.Equal(t, 204, r.status, string(r.body))
	require.Equal(t, "https://example.ru", r.header.Get("Access-Control-Allow-Origin"))
	r = b.do(t, "GET", "/nope", "", "")
	require.Equal(t, 404, r.status)

	metrics := string(b.do(t, "GET", "/metrics", "", "").body)
	for _, series := range []string{
		`{method="POST",route="/forms/:slug",status="200"} 1`,
		`{method="OPTIONS",route="/forms/:slug",status="204"} 1`,
		`{method="GET",route="unmatched",status="404"} 1`,
	} {
		require.Contains(t, metrics, "crmhub_http_request_duration_seconds_count"+series)
	}
	require.NotContains(t, metrics, `route="unmatched",status="200"`)
	log := access.String()
	require.Contains(t, log, "method=POST path=/forms/contact route=/forms/:slug status=200")
	require.Contains(t, log, "method=OPTIONS path=/forms/contact route=/forms/:slug status=204")
	require.Contains(t, log, "method=GET path=/nope route=unmatched status=404")
}

// TestFormErrorPageShowsTheRequestID: the page a browser's refused post
// gets is in Russian and names the request by the id its X-Request-Id
// header and the logs carry; the JSON problem carries it as the API's do.
func TestFormErrorPageShowsTheRequestID(t *testing.T) {
	t.Parallel()
	b := setup(t, withForms(t, core.WebForm{Slug: "contact", Required: []string{"phone"}}))

	r := b.do(t, "POST", "/forms/contact", "", "name=Иван", "Content-Type", formURLEncoded, "Accept", "text/html")
	require.Equal(t, 422, r.status)
	id := r.header.Get("X-Request-Id")
	require.NotEmpty(t, id)
	require.Contains(t, string(r.body), "<li>Телефон: обязательное поле</li>")
	require.Contains(t, string(r.body), "Номер запроса: <code>"+id+"</code>")

	r = b.do(t, "POST", "/forms/nope", "", "name=Иван", "Content-Type", formURLEncoded, "Accept", "text/html",
		"X-Request-Id", "from-the-site-42")
	require.Equal(t, 404, r.status)
	require.Equal(t, "from-the-site-42", r.header.Get("X-Request-Id"))
	require.Contains(t, string(r.body), "Такой формы нет.")
	require.Contains(t, string(r.body), "Номер запроса: <code>from-the-site-42</code>")

	r = b.do(t, "POST", "/forms/contact", "", `{"name":"Иван"}`)
	require.Equal(t, 422, r.status)
	var p struct {
		RequestID string `json:"request_id"`
	}
	require.NoError(t, json.Unmarshal(r.body, &p))
	require.Equal(t, r.header.Get("X-Request-Id"), p.RequestID)
}

// TestFormResponsesMatchTheDocument: form posts, the preflight and
// vtiger's capture are requests and answers the document describes (the
// validator reads no HTML: the pages are TestFormErrorPageShowsTheRequestID's).
func TestFormResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	b := setup(t, withForms(t, core.WebForm{Slug: "contact", Required: []string{"phone"}, AllowedOrigins: []string{"https://example.ru"}},
		core.WebForm{Slug: "b24", Format: core.FormatBitrix24},
		core.WebForm{Slug: "vt", Format: core.FormatVtiger, PublicID: "0b6d70228937303c28f8d526dab8ef97"}))
	check := openAPIRouter(t).checker(t, b)
	urlenc := func(s string) []string { return []string{"Content-Type", formURLEncoded, "Accept", s} }

	check("POST", "/forms/contact", "", "name=Иван&phone=%2B79160000001", 200, urlenc("application/json")...)
	check("POST", "/forms/contact", "", `{"name":"Пётр","phone":"+79160000002"}`, 200)
	check("POST", "/forms/contact", "", "--B\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+79160000004\r\n--B--\r\n", 200,
		"Content-Type", "multipart/form-data; boundary=B")
	check("POST", "/forms/contact", "", "name=Иван", 422, urlenc("application/json")...)
	check("POST", "/forms/nope", "", "name=Иван", 404, urlenc("application/json")...)
	check("POST", "/forms/b24", "", "fields%5BNAME%5D=%D0%98%D0%B2%D0%B0%D0%BD&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B79160000005", 200,
		urlenc("application/json")...)
	check("OPTIONS", "/forms/contact", "", "", 204, "Origin", "https://example.ru", "Access-Control-Request-Method", "POST")
	check("OPTIONS", "/forms/contact", "", "", 403, "Origin", "https://evil.example")
	check("POST", "/modules/Webforms/capture.php", "", "publicid=0b6d70228937303c28f8d526dab8ef97&lastname=Петров&email=p%40example.ru", 200,
		urlenc("application/json")...)
	check("POST", "/modules/Webforms/capture.php", "", "publicid=ffff&lastname=Петров", 404, urlenc("application/json")...)
}
