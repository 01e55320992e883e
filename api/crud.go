package api

import (
	"encoding/json"
	"fmt"
	"strconv"
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
	send func(c *fiber.Ctx, id string, version int64, rec any) error
	// ifMatch is the server's Server.ifMatch (api.require_if_match).
	ifMatch func(c *fiber.Ctx) (int64, error)
	// audit records a write in the audit log (Server.auditWrite).
	audit func(c *fiber.Ctx, op, id string)
}

// mount registers the routes of a record kind: list serves its GET, and
// writes pass write first (the write scope, or an admin area).
func mount[E any, P recordPtr[E]](s *Server, r fiber.Router, path string, repo core.Repository[E], list fiber.Handler, write fiber.Handler) {
	entity := pathEntities()[path]
	h := crud[E, P]{path: "/api/v1" + path, repo: repo, ifMatch: s.ifMatch, audit: s.auditWrite(entity),
		send: func(c *fiber.Ctx, id string, version int64, rec any) error {
			return s.sendRecord(c, entity, id, version, rec)
		}}
	r.Get(path, need(core.ScopeRead), list)
	r.Post(path, write, jsonBody, s.idempotent, h.create)
	r.Get(path+"/:id", need(core.ScopeRead), h.get)
	r.Patch(path+"/:id", write, jsonBody, h.update)
	r.Delete(path+"/:id", write, h.delete)
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
	h.record(c, core.OpCreated, b.ID)
	c.Location(h.path + "/" + b.ID)
	c.Set(fiber.HeaderETag, etag(b.Version))
	if b.CreatedAt.Before(start) { // the merge duplicate policy gave an existing record
		c.Set("Duplicate-Of", b.ID)
		return c.JSON(rec)
	}
	return c.Status(fiber.StatusCreated).JSON(rec)
}

// record audits a write when the kind's writes are audited.
func (h crud[E, P]) record(c *fiber.Ctx, op, id string) {
	if h.audit != nil {
		h.audit(c, op, id)
	}
}

func (h crud[E, P]) get(c *fiber.Ctx) error {
	rec, err := h.repo.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return h.send(c, P(rec).Base().ID, P(rec).Base().Version, rec)
}

// pathEntities maps API collections to their entities.
func pathEntities() map[string]string {
	out := map[string]string{}
	for _, e := range core.StreamedEntities() {
		if p := core.EntityPath(e); p != "" {
			out[p] = e
		}
	}
	return out
}

// sendRecord answers a GET of one record (rec, at version current): as it
// is, or with ?version=N as it was at version N, from its change events —
// what a reference event's data_ref reads when the record was too large
// for the stream.
func (s *Server) sendRecord(c *fiber.Ctx, entity, id string, current int64, rec any) error {
	q := c.Query("version")
	if q == "" || entity == "" {
		c.Set(fiber.HeaderETag, etag(current))
		return c.JSON(rec)
	}
	n, err := strconv.ParseInt(q, 10, 64)
	if err != nil || n < 1 {
		return core.Invalid([]core.FieldError{{Field: "version", Code: "invalid", Message: fmt.Sprintf("must be a version number (1 or more), got %q", q)}})
	}
	switch {
	case n == current:
		c.Set(fiber.HeaderETag, etag(current))
		return c.JSON(rec)
	case n > current:
		return core.Errorf(core.ENOTFOUND, "%s %s is at version %d: there is no version %d", entity, id, current, n)
	}
	data, err := s.deps.History.RecordVersion(c.UserContext(), entity, id, n)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(n))
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(data)
}

func (h crud[E, P]) update(c *fiber.Ctx) error {
	v, err := h.ifMatch(c)
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
	h.record(c, core.OpUpdated, P(rec).Base().ID)
	c.Set(fiber.HeaderETag, etag(P(rec).Base().Version))
	return c.JSON(rec)
}

func (h crud[E, P]) delete(c *fiber.Ctx) error {
	v, err := h.ifMatch(c)
	if err != nil {
		return err
	}
	if err := h.repo.Delete(c.UserContext(), c.Params("id"), v); err != nil {
		return err
	}
	h.record(c, core.OpDeleted, c.Params("id"))
	return c.SendStatus(fiber.StatusNoContent)
}

// auditActions are the kinds every write of which the audit log keeps;
// of the others it keeps deletions.
var auditActions = map[string]string{core.EntityRole: core.AuditRoleChange, core.EntityUser: core.AuditUserChange,
	core.EntityTeam: core.AuditTeamChange}

// auditWrite returns how the writes of entity's records are audited: what
// was done, to which record, by whom, from where, with the request's
// fields for a change of users, roles or teams (none of them secret).
func (s *Server) auditWrite(entity string) func(c *fiber.Ctx, op, id string) {
	return func(c *fiber.Ctx, op, id string) {
		action, every := auditActions[entity]
		switch {
		case every:
		case op == core.OpDeleted:
			action = core.AuditDelete
		default:
			return
		}
		detail, _ := json.Marshal(map[string]any{"op": op})
		if every && op != core.OpDeleted && json.Valid(c.Body()) {
			detail, _ = json.Marshal(map[string]any{"op": op, "patch": json.RawMessage(c.Body())})
		}
		if err := s.deps.Audit.Audit(c.UserContext(), core.AuditEntry{Action: action, Entity: entity, RecordID: id,
			IP: c.IP(), Detail: detail}); err != nil {
			s.log.Error("audit", "error", err, "action", action, "request_id", requestID(c))
		}
	}
}
