package webforms_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
)

// TestErrorPagesAreRussianWithTheRequestID: whatever refuses a browser's
// post (a field to correct, a body too large, too many posts, the captcha,
// a form that is not there), the page says so in Russian, as the site
// around it does, and shows the request's id for the visitor to quote;
// a client that asks for JSON finds the id in the problem.
func TestErrorPagesAreRussianWithTheRequestID(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	r := newRig(t, webforms.Config{Now: func() time.Time { return now }, Limits: webforms.Limits{MaxFileSize: 10},
		RateLimit: webforms.RateLimit{PerMinute: 60, Burst: 1},
		Forms:     []core.WebForm{{Slug: "contact", Required: []string{"phone"}}, {Slug: "guarded", Captcha: true}}})
	post := func(t *testing.T, slug, ct, body, accept, ip string) core.WebhookResponse {
		t.Helper()
		h := http.Header{}
		h.Set("Content-Type", ct)
		h.Set("Accept", accept)
		ctx := core.NewContextWithCorrelationID(context.Background(), "req-<b>42</b>")
		return r.h.Handle(ctx, core.WebhookRequest{Method: "POST", SubPath: slug, Header: h, Body: []byte(body),
			RemoteIP: ip, Query: url.Values{}})
	}
	const html = "text/html,application/xhtml+xml"
	big := "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n\r\n0123456789ABCDEF\r\n--B--\r\n"
	for _, tc := range []struct {
		name, slug, ct, body, ip string
		status                   int
		says                     []string
	}{
		{"FieldToCorrect", "contact", urlencoded, "name=Иван&email=ivan@", "203.0.113.1", 422,
			[]string{"Проверьте поля формы.", "<li>Телефон: обязательное поле</li>"}},
		{"TooLarge", "contact", "multipart/form-data; boundary=B", big, "203.0.113.2", 413,
			[]string{"Заявка слишком большая"}},
		{"CaptchaFailed", "guarded", urlencoded, "name=Иван&phone=%2B79160000001", "203.0.113.3", 403,
			[]string{"Не удалось проверить капчу"}},
		{"UnknownForm", "nope", urlencoded, "name=Иван", "203.0.113.4", 404, []string{"Такой формы нет."}},
		{"RateLimited", "contact", urlencoded, "name=Иван", "203.0.113.1", 429,
			[]string{"Слишком много заявок с вашего адреса. Попробуйте ещё раз через 2 с."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, tc.slug, tc.ct, tc.body, html, tc.ip)
			require.Equal(t, tc.status, resp.Status, string(resp.Body))
			require.Equal(t, "text/html; charset=utf-8", resp.ContentType)
			page := string(resp.Body)
			require.Contains(t, page, `<html lang="ru">`)
			require.Contains(t, page, "<h1>Заявка не отправлена</h1>")
			for _, s := range tc.says {
				require.Contains(t, page, s)
			}
			require.Contains(t, page, "Номер запроса: <code>req-&lt;b&gt;42&lt;/b&gt;</code>", "the id, escaped")
			for _, english := range []string{"Required", "required", "larger than", "captcha", "not found", "too many"} {
				require.NotContains(t, page, english)
			}
		})
	}
	t.Run("ProblemCarriesTheID", func(t *testing.T) {
		resp := post(t, "contact", urlencoded, "name=Иван", "application/json", "203.0.113.5")
		require.Equal(t, 422, resp.Status)
		require.Equal(t, "application/problem+json", resp.ContentType)
		var p struct {
			RequestID string `json:"request_id"`
		}
		require.NoError(t, json.Unmarshal(resp.Body, &p))
		require.Equal(t, "req-<b>42</b>", p.RequestID)
	})
	require.Zero(t, r.count(t, "leads"))
	require.False(t, strings.Contains(string(post(t, "contact", urlencoded, "name=Иван&phone=%2B79160000009", html, "203.0.113.6").Body),
		"Номер запроса"), "a thank-you page needs no id")
}
