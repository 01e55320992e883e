package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

var documentSortFields = []string{"created_at", "updated_at", "number"}

// mountDocuments registers the sales documents, when the hub keeps them.
func (s *Server) mountDocuments(v1 fiber.Router) {
	if s.deps.Quotes == nil {
		return
	}
	mount[core.Quote](s, v1, "/quotes", s.deps.Quotes, s.listQuotes, core.ScopeWrite)
	v1.Post("/quotes/:id/invoice", need(core.ScopeWrite), jsonBody, s.idempotent, s.quoteToInvoice)
	mount[core.Invoice](s, v1, "/invoices", s.deps.Invoices, s.listInvoices, core.ScopeWrite)
}

func documentFilter(f *core.DocumentFilter, statuses *core.Picklist) func(l *listQuery, name, v string) bool {
	return func(l *listQuery, name, v string) bool {
		switch name {
		case "status":
			f.Statuses = l.choices(name, v, statuses)
		case "account_id":
			f.AccountID = l.id(name, v)
		case "contact_id":
			f.ContactID = l.id(name, v)
		case "deal_id":
			f.DealID = l.id(name, v)
		case "number":
			f.Number = v
		case "date_from":
			f.DateFrom = l.date(name, v)
		case "date_to":
			f.DateTo = l.date(name, v)
		default:
			return false
		}
		return true
	}
}

func (s *Server) listQuotes(c *fiber.Ctx) error {
	var f core.DocumentFilter
	return serveList(c, documentSortFields, &f.ListParams, documentFilter(&f, core.QuoteStages()),
		func(ctx context.Context) (core.Page[core.Quote], error) { return s.deps.Quotes.List(ctx, f) })
}

func (s *Server) listInvoices(c *fiber.Ctx) error {
	var f core.DocumentFilter
	return serveList(c, documentSortFields, &f.ListParams, documentFilter(&f, core.InvoiceStatuses()),
		func(ctx context.Context) (core.Page[core.Invoice], error) { return s.deps.Invoices.List(ctx, f) })
}

// quoteToInvoice makes an invoice of a quote (POST /quotes/{id}/invoice);
// the body sets the invoice's own fields (date, due_date, status…).
func (s *Server) quoteToInvoice(c *fiber.Ctx) error {
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	inv, err := s.deps.Quotes.ToInvoice(c.UserContext(), c.Params("id"), p)
	if err != nil {
		return err
	}
	c.Location("/api/v1/invoices/" + inv.ID)
	c.Set(fiber.HeaderETag, etag(inv.Version))
	return c.Status(fiber.StatusCreated).JSON(inv)
}
