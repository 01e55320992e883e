package api

import (
	"context"
	"encoding/json"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/printform"
)

var documentSortFields = []string{"created_at", "updated_at", "number"}

// mountDocuments registers the sales documents, when the hub keeps them.
func (s *Server) mountDocuments(v1 fiber.Router) {
	if s.deps.Quotes == nil {
		return
	}
	mount[core.Quote](s, v1, "/quotes", s.deps.Quotes, listDocuments(core.QuoteStages(), s.deps.Quotes.List), need(core.ScopeWrite))
	v1.Post("/quotes/:id/invoice", need(core.ScopeWrite), jsonBody, s.idempotent, s.quoteToInvoice)
	v1.Post("/quotes/:id/sales-order", need(core.ScopeWrite), jsonBody, s.idempotent, s.quoteToSalesOrder)
	mount[core.SalesOrder](s, v1, "/sales-orders", s.deps.SalesOrders, listDocuments(core.SalesOrderStatuses(), s.deps.SalesOrders.List), need(core.ScopeWrite))
	mount[core.PurchaseOrder](s, v1, "/purchase-orders", s.deps.PurchaseOrders, listDocuments(core.PurchaseOrderStatuses(), s.deps.PurchaseOrders.List), need(core.ScopeWrite))
	mount[core.Invoice](s, v1, "/invoices", s.deps.Invoices, listDocuments(core.InvoiceStatuses(), s.deps.Invoices.List), need(core.ScopeWrite))
	v1.Post("/invoices/:id/payments", need(core.ScopeWrite), jsonBody, s.idempotent, s.payInvoice)
	v1.Post("/invoices/:id/act", need(core.ScopeWrite), jsonBody, s.idempotent, s.invoiceShipment(false))
	v1.Post("/invoices/:id/realization", need(core.ScopeWrite), jsonBody, s.idempotent, s.invoiceShipment(true))
	v1.Get("/invoices/:id/remaining", need(core.ScopeRead), s.invoiceRemaining)
	mount[core.Act](s, v1, "/acts", s.deps.Acts, listDocuments(core.ActStatuses(), s.deps.Acts.List), need(core.ScopeWrite))
	if s.deps.Printer != nil {
		for path, kind := range map[string]string{"/quotes": core.EntityQuote, "/invoices": core.EntityInvoice, "/acts": core.EntityAct,
			"/realizations": core.EntityRealization, "/sales-orders": core.EntitySalesOrder, "/purchase-orders": core.EntityPurchaseOrder} {
			v1.Get(path+"/:id/pdf", need(core.ScopeRead), s.printDocument(kind))
		}
	}
	if s.deps.Organization != nil {
		v1.Get("/organization", need(core.ScopeRead), func(c *fiber.Ctx) error { return c.JSON(s.deps.Organization) })
	}
	mount[core.Realization](s, v1, "/realizations", s.deps.Realizations, listDocuments(core.RealizationStatuses(), s.deps.Realizations.List), need(core.ScopeWrite))
	mount[core.Payment](s, v1, "/payments", s.deps.Payments, s.listPayments, need(core.ScopeWrite))
}

func (s *Server) listPayments(c *fiber.Ctx) error {
	var f core.PaymentFilter
	return serveList(c, documentSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		switch name {
		case "direction":
			if cs := l.choices(name, v, core.PaymentDirections()); len(cs) > 0 {
				f.Direction = cs[0]
			}
		case "status":
			f.Statuses = l.choices(name, v, core.PaymentStatuses())
		case "account_id":
			f.AccountID = l.id(name, v)
		case "invoice_id":
			f.InvoiceID = l.id(name, v)
		case "date_from":
			f.DateFrom = l.date(name, v)
		case "date_to":
			f.DateTo = l.date(name, v)
		default:
			return false
		}
		return true
	}, func(ctx context.Context) (core.Page[core.Payment], error) { return s.deps.Payments.List(ctx, f) })
}

// payInvoice registers an incoming payment on an invoice (POST
// /invoices/{id}/payments: amount, date, method, reference…); the invoice's
// amount paid and balance change with it.
func (s *Server) payInvoice(c *fiber.Ctx) error {
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	for _, k := range []string{"invoice_id", "direction"} {
		if _, ok := p[k]; ok {
			return core.Invalid([]core.FieldError{{Field: k, Code: "unknown_field", Message: "is set by the URL"}})
		}
	}
	if _, err := s.deps.Invoices.Get(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	p.Set("invoice_id", c.Params("id")).Set("direction", core.PaymentIncoming)
	pay, err := s.deps.Payments.Create(c.UserContext(), p)
	if err != nil {
		return err
	}
	c.Location("/api/v1/payments/" + pay.ID)
	c.Set(fiber.HeaderETag, etag(pay.Version))
	return c.Status(fiber.StatusCreated).JSON(pay)
}

// listDocuments serves a document kind's list with the document filters.
func listDocuments[E any](statuses *core.Picklist, list func(context.Context, core.DocumentFilter) (core.Page[E], error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var f core.DocumentFilter
		return serveList(c, documentSortFields, &f.ListParams, documentFilter(&f, statuses),
			func(ctx context.Context) (core.Page[E], error) { return list(ctx, f) })
	}
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

// invoiceShipment makes an act (goods false) or a realization of an
// invoice: {"lines": [{"line_id", "quantity"}]} picks lines and
// quantities (all that is left of the kind's lines when absent); the other
// members set the new document's own fields.
func (s *Server) invoiceShipment(goods bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := core.DecodePatch(c.Body())
		if err != nil {
			return err
		}
		var req core.ShipmentRequest
		if raw, ok := p["lines"]; ok {
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req.Lines); err != nil {
				return core.Invalid([]core.FieldError{{Field: "lines", Code: "invalid",
					Message: `must be [{"line_id": "…", "quantity": "…"}]: ` + err.Error()}})
			}
			delete(p, "lines")
		}
		req.Patch = p
		if goods {
			doc, err := s.deps.Invoices.ToRealization(c.UserContext(), c.Params("id"), req)
			if err != nil {
				return err
			}
			return created(c, "/api/v1/realizations/", doc.ID, doc.Version, doc)
		}
		doc, err := s.deps.Invoices.ToAct(c.UserContext(), c.Params("id"), req)
		if err != nil {
			return err
		}
		return created(c, "/api/v1/acts/", doc.ID, doc.Version, doc)
	}
}

func created(c *fiber.Ctx, path, id string, version int64, v any) error {
	c.Location(path + id)
	c.Set(fiber.HeaderETag, etag(version))
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) invoiceRemaining(c *fiber.Ctx) error {
	lines, err := s.deps.Invoices.Remaining(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": lines})
}

// quoteToSalesOrder makes a sales order of a quote (POST
// /quotes/{id}/sales-order).
func (s *Server) quoteToSalesOrder(c *fiber.Ctx) error {
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	o, err := s.deps.Quotes.ToSalesOrder(c.UserContext(), c.Params("id"), p)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/sales-orders/", o.ID, o.Version, o)
}

// printDocument serves a document's print form as PDF (?form=…, default the
// kind's own), as a download with a Russian file name.
func (s *Server) printDocument(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var errs []core.FieldError
		req := printform.Request{Kind: kind, ID: c.Params("id"), Form: c.Query("form")}
		c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
			switch string(k) {
			case "form":
			case "status":
				if n, err := strconv.Atoi(string(v)); err == nil && (n == 1 || n == 2) {
					req.UPDStatus = n
				} else {
					errs = append(errs, core.FieldError{Field: "status", Code: "invalid_choice", Message: "a УПД's status is 1 or 2"})
				}
			default:
				errs = append(errs, core.FieldError{Field: string(k), Code: "unknown_parameter", Message: "no such parameter"})
			}
		})
		if err := core.Invalid(errs); err != nil {
			return err
		}
		pdf, name, err := s.deps.Printer.Print(c.UserContext(), req)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/pdf")
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		return c.Send(pdf)
	}
}
