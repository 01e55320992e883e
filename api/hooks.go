package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mountWebhooks serves each connector's webhook under /hooks/<path> and its
// sub-paths, without API keys: providers authenticate in their own way
// (tokens, signatures), which the webhook checks.
func (s *Server) mountWebhooks() {
	for _, h := range s.deps.Webhooks {
		s.mountWebhook("/hooks/"+strings.Trim(h.Path(), "/"), h)
	}
	if s.deps.OneC != nil {
		s.mountWebhook(s.deps.OneCPath, s.deps.OneC)
	}
	if s.deps.Forms != nil {
		s.mountWebhook("/forms", s.deps.Forms)
		// vtiger-generated form HTML posts here unchanged.
		s.mountWebhook("/modules/Webforms/capture.php", s.deps.Forms)
	}
}

// mountWebhook serves h at prefix and its sub-paths.
func (s *Server) mountWebhook(prefix string, h core.Webhook) {
	{
		handler := func(c *fiber.Ctx) error {
			req := core.WebhookRequest{
				Method:   c.Method(),
				SubPath:  strings.Trim(strings.TrimPrefix(c.Path(), prefix), "/"),
				Query:    url.Values{},
				Header:   http.Header{},
				Body:     append([]byte(nil), c.Body()...),
				RemoteIP: c.IP(),
			}
			c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) { req.Query.Add(string(k), string(v)) })
			c.Request().Header.VisitAll(func(k, v []byte) { req.Header.Add(string(k), string(v)) })
			resp := h.Handle(c.UserContext(), req)
			for k, vs := range resp.Header {
				for _, v := range vs {
					c.Response().Header.Add(k, v)
				}
			}
			if resp.ContentType != "" {
				c.Set(fiber.HeaderContentType, resp.ContentType)
			}
			return c.Status(resp.Status).Send(resp.Body)
		}
		s.app.All(prefix, handler)
		s.app.All(prefix+"/*", handler)
	}
}
