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
		// Forms have routes as the API's do: metrics and the access log name
		// them (/forms/:slug, not "unmatched" like a path nothing serves),
		// and the OpenAPI document describes them.
		form := webhookHandler("/forms", s.deps.Forms)
		s.app.Post("/forms/:slug", form)
		s.app.Options("/forms/:slug", form)
		// vtiger-generated form HTML posts here unchanged.
		s.app.Post("/modules/Webforms/capture.php", webhookHandler("/modules/Webforms/capture.php", s.deps.Forms))
	}
	if s.deps.Bitrix24 != nil {
		// Bitrix24's clients call a method with GET (its parameters in the
		// query) or POST; the token in the path is redacted in the logs.
		rest := webhookHandler("/rest", s.deps.Bitrix24)
		s.app.Get("/rest/:user/:token/:method", rest)
		s.app.Post("/rest/:user/:token/:method", rest)
	}
}

// mountWebhook serves h at prefix and its sub-paths.
func (s *Server) mountWebhook(prefix string, h core.Webhook) {
	handler := webhookHandler(prefix, h)
	s.app.All(prefix, handler)
	s.app.All(prefix+"/*", handler)
}

// webhookHandler hands a request under prefix to h, and h's answer back.
func webhookHandler(prefix string, h core.Webhook) fiber.Handler {
	return func(c *fiber.Ctx) error {
		req := core.WebhookRequest{
			Method:   c.Method(),
			SubPath:  strings.Trim(strings.TrimPrefix(c.Path(), prefix), "/"),
			Query:    url.Values{},
			RawQuery: string(c.Request().URI().QueryString()),
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
}
