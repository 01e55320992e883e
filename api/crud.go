package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

type recordPtr[E any] interface {
	*E
	Base() *core.Record
}

// crud serves create, read, update and delete of one kind of record with
// the platform's conventions: Location and ETag, If-Match, merge patch.
type crud[E any, P recordPtr[E]] struct {
	path string // e.g. "/api/v1/leads"
	repo core.Repository[E]
}

// mount registers the routes of a record kind: list serves its GET, and
// writes need the write scope.
func mount[E any, P recordPtr[E]](s *Server, r fiber.Router, path string, repo core.Repository[E], list fiber.Handler, write core.Scope) {
	h := crud[E, P]{path: "/api/v1" + path, repo: repo}
	r.Get(path, need(core.ScopeRead), list)
	r.Post(path, need(write), jsonBody, s.idempotent, h.create)
	r.Get(path+"/:id", need(core.ScopeRead), h.get)
	r.Patch(path+"/:id", need(write), jsonBody, h.update)
	r.Delete(path+"/:id", need(write), h.delete)
}

func (h crud[E, P]) create(c *fiber.Ctx) error {
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	start := time.Now().Truncate(time.Microsecond)
	rec, err := h.repo.Create(c.UserContext(), p)
	if err != nil {
		return err
	}
	b := P(rec).Base()
	c.Location(h.path + "/" + b.ID)
	c.Set(fiber.HeaderETag, etag(b.Version))
	if b.CreatedAt.Before(start) { // the merge duplicate policy gave an existing record
		c.Set("Duplicate-Of", b.ID)
		return c.JSON(rec)
	}
	return c.Status(fiber.StatusCreated).JSON(rec)
}

func (h crud[E, P]) get(c *fiber.Ctx) error {
	rec, err := h.repo.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(P(rec).Base().Version))
	return c.JSON(rec)
}

func (h crud[E, P]) update(c *fiber.Ctx) error {
	v, err := ifMatch(c)
	if err != nil {
		return err
	}
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	rec, err := h.repo.Update(c.UserContext(), c.Params("id"), v, p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(P(rec).Base().Version))
	return c.JSON(rec)
}

func (h crud[E, P]) delete(c *fiber.Ctx) error {
	v, err := ifMatch(c)
	if err != nil {
		return err
	}
	if err := h.repo.Delete(c.UserContext(), c.Params("id"), v); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
