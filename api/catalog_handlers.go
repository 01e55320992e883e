package api

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

var catalogSortFields = []string{"created_at", "updated_at", "name"}

// mountCatalog registers products, services, product groups and price
// books with their prices, when the hub keeps a catalog.
func (s *Server) mountCatalog(v1 fiber.Router) {
	if s.deps.Products == nil {
		return
	}
	mount[core.Product](s, v1, "/products", s.deps.Products, s.listProducts, need(core.ScopeWrite))
	mount[core.Service](s, v1, "/services", s.deps.Services, s.listServices, need(core.ScopeWrite))
	mount[core.ProductGroup](s, v1, "/product-groups", s.deps.ProductGroups, s.listProductGroups, need(core.ScopeWrite))
	mount[core.PriceBook](s, v1, "/price-books", s.deps.PriceBooks, s.listPriceBooks, need(core.ScopeWrite))
	v1.Get("/price-books/:id/prices", need(core.ScopeRead), s.listPrices)
	v1.Put("/price-books/:id/prices", need(core.ScopeWrite), jsonBody, s.setPrice)
	v1.Delete("/price-books/:id/prices/:item", need(core.ScopeWrite), s.deletePrice)
}

func catalogFilter(f *core.CatalogFilter) func(l *listQuery, name, v string) bool {
	return func(l *listQuery, name, v string) bool {
		switch name {
		case "group_id":
			f.GroupID = l.id(name, v)
		case "active":
			b := l.boolean(name, v)
			f.Active = &b
		case "sku":
			f.SKU = strings.TrimSpace(v)
		case "external_id":
			f.ExternalID = l.externalID(name, v)
		default:
			return false
		}
		return true
	}
}

func (s *Server) listProducts(c *fiber.Ctx) error {
	var f core.CatalogFilter
	return serveList(c, catalogSortFields, &f.ListParams, catalogFilter(&f), func(ctx context.Context) (core.Page[core.Product], error) {
		return s.deps.Products.List(ctx, f)
	})
}

func (s *Server) listServices(c *fiber.Ctx) error {
	var f core.CatalogFilter
	return serveList(c, catalogSortFields, &f.ListParams, catalogFilter(&f), func(ctx context.Context) (core.Page[core.Service], error) {
		return s.deps.Services.List(ctx, f)
	})
}

func (s *Server) listProductGroups(c *fiber.Ctx) error {
	var f core.ListParams
	return serveList(c, catalogSortFields, &f, nil, func(ctx context.Context) (core.Page[core.ProductGroup], error) {
		return s.deps.ProductGroups.List(ctx, f)
	})
}

func (s *Server) listPriceBooks(c *fiber.Ctx) error {
	var f core.ListParams
	return serveList(c, catalogSortFields, &f, nil, func(ctx context.Context) (core.Page[core.PriceBook], error) {
		return s.deps.PriceBooks.List(ctx, f)
	})
}

func (s *Server) listPrices(c *fiber.Ctx) error {
	prices, err := s.deps.PriceBooks.Prices(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": prices})
}

type priceInput struct {
	ProductID *string     `json:"product_id"`
	ServiceID *string     `json:"service_id"`
	Price     *core.Money `json:"price"`
	Currency  string      `json:"currency"`
}

// setPrice sets a product's or service's list price in the book.
func (s *Server) setPrice(c *fiber.Ctx) error {
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	var in priceInput
	if err := dec.Decode(&in); err != nil {
		return &core.Error{Code: core.EINVALID, Message: "the body is not a price",
			Fields: []core.FieldError{{Field: "", Code: "invalid", Message: err.Error()}}}
	}
	if in.Price == nil {
		return core.Invalid([]core.FieldError{{Field: "price", Code: "required", Message: "is required"}})
	}
	p, err := s.deps.PriceBooks.SetPrice(c.UserContext(), core.Price{PriceBookID: c.Params("id"), ProductID: in.ProductID,
		ServiceID: in.ServiceID, Price: *in.Price, Currency: strings.ToUpper(strings.TrimSpace(in.Currency))})
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) deletePrice(c *fiber.Ctx) error {
	if err := s.deps.PriceBooks.DeletePrice(c.UserContext(), c.Params("id"), c.Params("item")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
