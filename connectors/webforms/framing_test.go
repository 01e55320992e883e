package webforms_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
)

// TestReplyPagesAreFramedOnlyWhereConfigured: a form's thank-you page
// has a strict policy and may be framed by nobody, unless the form names
// the sites that frame it (frame_ancestors): then by them alone.
func TestReplyPagesAreFramedOnlyWhereConfigured(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{Forms: []core.WebForm{{Slug: "plain"},
		{Slug: "framed", FrameAncestors: []string{"https://example.ru", "https://shop.example.ru:8443"}}}})

	t.Run("NotFramed", func(t *testing.T) {
		resp := r.post(t, "plain", urlencoded, []byte("name=Иван&phone=%2B79160000001"), "Accept", "text/html")
		require.Equal(t, 200, resp.Status, string(resp.Body))
		require.Equal(t, "text/html; charset=utf-8", resp.ContentType)
		require.Equal(t, "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'", resp.Header.Get("Content-Security-Policy"))
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	})
	t.Run("Framed", func(t *testing.T) {
		resp := r.post(t, "framed", urlencoded, []byte("name=Пётр&phone=%2B79160000002"), "Accept", "text/html")
		require.Equal(t, 200, resp.Status, string(resp.Body))
		require.Equal(t, "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors https://example.ru https://shop.example.ru:8443",
			resp.Header.Get("Content-Security-Policy"))
		require.Empty(t, resp.Header.Get("X-Frame-Options"), "DENY would win over frame-ancestors in older browsers")
	})
	t.Run("UnknownForm", func(t *testing.T) {
		resp := r.post(t, "nope", urlencoded, []byte("name=x"), "Accept", "text/html")
		require.Equal(t, 404, resp.Status)
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	})
}

func TestFrameAncestorsAreOrigins(t *testing.T) {
	t.Parallel()
	for _, o := range []string{"https://example.ru; script-src *", "https://example.ru/path", "*", "'self'", "javascript:alert(1)",
		"https://user@example.ru", "https://example.ru?x", "example.ru"} {
		f := core.WebForm{Slug: "f", FrameAncestors: []string{o}}
		f.Normalize()
		err := f.Validate()
		require.Error(t, err, o)
		require.Equal(t, "invalid_origin", core.ErrorFields(err)[0].Code, o)
	}
	f := core.WebForm{Slug: "f", FrameAncestors: []string{"https://example.ru", "http://localhost:3000"}}
	f.Normalize()
	require.NoError(t, f.Validate())
}
