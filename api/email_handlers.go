package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/crmhub/crmhub/core"
)

var emailSortFields = []string{"created_at", "updated_at"}

// mountEmails registers the documents' e-mail: sending, the sent list,
// retries and the templates.
func (s *Server) mountEmails(v1 fiber.Router) {
	if s.deps.Emails == nil {
		return
	}
	for path, kind := range map[string]string{"/quotes": core.EntityQuote, "/invoices": core.EntityInvoice, "/acts": core.EntityAct,
		"/realizations": core.EntityRealization} {
		v1.Post(path+"/:id/send", need(core.ScopeWrite), jsonBodyIfAny, s.sendDocument(kind))
	}
	v1.Get("/emails", need(core.ScopeRead), s.listEmails)
	v1.Get("/emails/:id", need(core.ScopeRead), s.getEmail)
	v1.Post("/emails/:id/retry", need(core.ScopeWrite), s.retryEmail)
	if s.deps.EmailTemplates != nil {
		v1.Get("/email-templates", need(core.ScopeRead), s.listEmailTemplates)
		v1.Get("/email-templates/:name", need(core.ScopeRead), s.getEmailTemplate)
		v1.Put("/email-templates/:name", area(core.AreaTemplates), jsonBody, s.putEmailTemplate)
		v1.Delete("/email-templates/:name", area(core.AreaTemplates), s.resetEmailTemplate)
	}
}

// mailer returns the document mailer, or why there is none.
func (s *Server) mailer() (core.DocumentMailer, error) {
	if s.deps.Mailer == nil {
		return nil, core.Errorf(core.EUNAVAILABLE, "e-mail is not configured: set smtp.host and smtp.from")
	}
	return s.deps.Mailer, nil
}

type sendRequest struct {
	To       []string `json:"to"`
	Cc       []string `json:"cc"`
	Subject  string   `json:"subject"`
	Body     string   `json:"body"`
	Form     string   `json:"form"`
	Status   int      `json:"status"` // a УПД's status
	Template string   `json:"template"`
}

// sendDocument e-mails a document's print form (POST /{documents}/{id}/send)
// and answers with the e-mail after its first delivery attempt: 201 when
// queued by this request, 200 with Idempotent-Replayed when an earlier
// request with the same Idempotency-Key had queued it.
func (s *Server) sendDocument(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		m, err := s.mailer()
		if err != nil {
			return err
		}
		var in sendRequest
		if len(strings.TrimSpace(string(c.Body()))) > 0 {
			dec := json.NewDecoder(strings.NewReader(string(c.Body())))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return &core.Error{Code: core.EINVALID, Message: "the body is not a send request",
					Fields: []core.FieldError{{Field: "", Code: "invalid", Message: err.Error()}}}
			}
		}
		if in.Status != 0 && in.Status != 1 && in.Status != 2 {
			return core.Invalid([]core.FieldError{{Field: "status", Code: "invalid_choice", Message: "a УПД's status is 1 or 2"}})
		}
		r := core.SendDocument{Kind: kind, ID: c.Params("id"), Form: in.Form, UPDStatus: in.Status, To: in.To, Cc: in.Cc,
			Subject: in.Subject, Body: in.Body, Template: in.Template}
		if key := c.Get(headerIdempotencyKey); key != "" {
			if !validToken(key, 255) {
				return core.Invalid([]core.FieldError{{Field: headerIdempotencyKey, Code: "invalid",
					Message: "must be 1 to 255 printable ASCII characters"}})
			}
			sum := sha256.Sum256([]byte(c.Path() + "\x00" + string(c.Body())))
			r.IdempotencyKey = utils.CopyString(key)
			r.Fingerprint = hex.EncodeToString(sum[:])
		}
		e, replayed, err := m.Send(c.UserContext(), r)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderETag, etag(e.Version))
		if replayed {
			c.Set(headerReplayed, "true")
			return c.JSON(e)
		}
		c.Location("/api/v1/emails/" + e.ID)
		return c.Status(fiber.StatusCreated).JSON(e)
	}
}

func (s *Server) listEmails(c *fiber.Ctx) error {
	var f core.EmailFilter
	return serveList(c, emailSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		switch name {
		case "document_kind":
			switch v {
			case core.EntityQuote, core.EntityInvoice, core.EntityAct, core.EntityRealization:
				f.DocumentKind = v
			default:
				l.bad(name, "invalid_choice", "must be one of: quote, invoice, act, realization")
			}
		case "document_id":
			f.DocumentID = l.id(name, v)
		case "status":
			for _, st := range strings.Split(v, ",") {
				switch st {
				case core.EmailQueued, core.EmailSent, core.EmailFailed:
					f.Statuses = append(f.Statuses, st)
				default:
					l.bad(name, "invalid_choice", "must be queued, sent or failed")
				}
			}
		default:
			return false
		}
		return true
	}, func(ctx context.Context) (core.Page[core.EmailMessage], error) { return s.deps.Emails.List(ctx, f) })
}

func (s *Server) getEmail(c *fiber.Ctx) error {
	e, err := s.deps.Emails.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return s.sendRecord(c, core.EntityEmail, e.ID, e.Version, e)
}

// retryEmail sends a failed e-mail again (POST /emails/{id}/retry).
func (s *Server) retryEmail(c *fiber.Ctx) error {
	m, err := s.mailer()
	if err != nil {
		return err
	}
	e, err := m.Retry(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(e.Version))
	return c.JSON(e)
}

func (s *Server) listEmailTemplates(c *fiber.Ctx) error {
	if len(c.Queries()) > 0 {
		return core.Invalid([]core.FieldError{{Field: "query", Code: "unknown_parameter", Message: "this list takes no parameters"}})
	}
	ts, err := s.deps.EmailTemplates.EmailTemplates(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ts})
}

func (s *Server) getEmailTemplate(c *fiber.Ctx) error {
	t, err := s.deps.EmailTemplates.EmailTemplate(c.UserContext(), c.Params("name"))
	if err != nil {
		return err
	}
	if t.Version > 0 {
		c.Set(fiber.HeaderETag, etag(t.Version))
	}
	return c.JSON(t)
}

// putEmailTemplate stores an edited template ({"subject", "body"}); the
// name is the URL's.
func (s *Server) putEmailTemplate(c *fiber.Ctx) error {
	var in struct {
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return &core.Error{Code: core.EINVALID, Message: "the body is not a template",
			Fields: []core.FieldError{{Field: "", Code: "invalid", Message: err.Error()}}}
	}
	v, err := s.ifMatch(c)
	if err != nil {
		return err
	}
	t, err := s.deps.EmailTemplates.PutEmailTemplate(c.UserContext(),
		core.EmailTemplate{Name: c.Params("name"), Subject: in.Subject, Body: in.Body}, v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(t.Version))
	return c.JSON(t)
}

// resetEmailTemplate drops a template's edits (the built-in text returns).
func (s *Server) resetEmailTemplate(c *fiber.Ctx) error {
	if err := s.deps.EmailTemplates.ResetEmailTemplate(c.UserContext(), c.Params("name")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
