package api

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mountNotes registers the notes of records ({path}/{id}/notes for each
// of recordPaths, /notes/{id}) and the caller's notifications.
func (s *Server) mountNotes(v1 fiber.Router) {
	if s.deps.Notes == nil {
		return
	}
	for path, entity := range recordPaths {
		v1.Get(path+"/:id/notes", need(core.ScopeRead), s.listNotes(entity))
		v1.Post(path+"/:id/notes", need(core.ScopeWrite), jsonBody, s.idempotent, s.addNote(entity))
	}
	v1.Get("/notes/:id", need(core.ScopeRead), s.getNote)
	v1.Patch("/notes/:id", need(core.ScopeWrite), jsonBody, s.updateNote)
	v1.Delete("/notes/:id", need(core.ScopeWrite), s.deleteNote)
	v1.Get("/notes/:id/edits", need(core.ScopeRead), s.noteEdits)
	if s.deps.Notifications == nil {
		return
	}
	v1.Get("/notifications", need(core.ScopeRead), s.listNotifications)
	v1.Post("/notifications/read", need(core.ScopeWrite), jsonBody, s.readNotifications)
}

// decodeStrict decodes a JSON body into v, refusing unknown members; shape
// says what the body should be.
func decodeStrict(body []byte, v any, shape string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &core.Error{Code: core.EINVALID, Message: "the body is not " + shape,
			Fields: []core.FieldError{{Field: "", Code: "invalid", Message: err.Error()}}}
	}
	return nil
}

// pageQuery reads the query of a list in a fixed order: limit (1 to
// core.MaxNotesPage) and cursor, and through extra the list's own
// parameters; an unknown one is refused, as parseList does.
func pageQuery(c *fiber.Ctx, extra func(name, value string) (bool, *core.FieldError)) (core.PageRequest, error) {
	p := core.PageRequest{Limit: core.DefaultPageSize}
	q, err := url.ParseQuery(c.Context().QueryArgs().String())
	if err != nil {
		return p, core.Invalid([]core.FieldError{{Field: "query", Code: "invalid", Message: "the query string is malformed"}})
	}
	var errs []core.FieldError
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch name {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > core.MaxNotesPage {
				errs = append(errs, core.FieldError{Field: name, Code: "out_of_range", Message: "must be an integer from 1 to " + strconv.Itoa(core.MaxNotesPage)})
			}
			p.Limit = n
		case "cursor":
			p.Cursor = v
		default:
			known := false
			var fe *core.FieldError
			if extra != nil {
				known, fe = extra(name, v)
			}
			if !known {
				fe = &core.FieldError{Field: name, Code: "unknown_parameter", Message: "no such parameter"}
			}
			if fe != nil {
				errs = append(errs, *fe)
			}
		}
	}
	return p, core.Invalid(errs)
}

func (s *Server) listNotes(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := pageQuery(c, nil)
		if err != nil {
			return err
		}
		page, err := s.deps.Notes.Notes(c.UserContext(), entity, c.Params("id"), p)
		if err != nil {
			return err
		}
		return c.JSON(page)
	}
}

func (s *Server) addNote(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in core.NoteInput
		if err := decodeStrict(c.Body(), &in, `a note: {"text", "pinned", "mentions", "attachments"}`); err != nil {
			return err
		}
		n, err := s.deps.Notes.AddNote(c.UserContext(), entity, c.Params("id"), in)
		if err != nil {
			return err
		}
		c.Location("/api/v1/notes/" + n.ID)
		c.Set(fiber.HeaderETag, etag(n.Version))
		return c.Status(fiber.StatusCreated).JSON(n)
	}
}

func (s *Server) getNote(c *fiber.Ctx) error {
	n, err := s.deps.Notes.Note(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(n.Version))
	return c.JSON(n)
}

func (s *Server) updateNote(c *fiber.Ctx) error {
	v, err := s.ifMatch(c)
	if err != nil {
		return err
	}
	var p core.NotePatch
	if err := decodeStrict(c.Body(), &p, `a change of a note: {"text", "pinned", "mentions", "attachments"}`); err != nil {
		return err
	}
	n, err := s.deps.Notes.UpdateNote(c.UserContext(), c.Params("id"), v, p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(n.Version))
	return c.JSON(n)
}

func (s *Server) deleteNote(c *fiber.Ctx) error {
	v, err := s.ifMatch(c)
	if err != nil {
		return err
	}
	if err := s.deps.Notes.DeleteNote(c.UserContext(), c.Params("id"), v); err != nil {
		return err
	}
	s.auditWrite(core.EntityNote)(c, core.OpDeleted, c.Params("id"))
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) noteEdits(c *fiber.Ctx) error {
	edits, err := s.deps.Notes.NoteEdits(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": edits})
}

func (s *Server) listNotifications(c *fiber.Ctx) error {
	var f core.NotificationFilter
	p, err := pageQuery(c, func(name, v string) (bool, *core.FieldError) {
		if name != "unread" {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return true, &core.FieldError{Field: name, Code: "invalid_type", Message: "must be true or false"}
		}
		f.Unread = b
		return true, nil
	})
	if err != nil {
		return err
	}
	f.PageRequest = p
	page, err := s.deps.Notifications.Notifications(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// readRequest names the notifications to mark read: ids, or all.
type readRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

func (s *Server) readNotifications(c *fiber.Ctx) error {
	var in readRequest
	if err := decodeStrict(c.Body(), &in, `a list of notifications: {"ids": […]} or {"all": true}`); err != nil {
		return err
	}
	if in.All == (len(in.IDs) > 0) {
		return core.Invalid([]core.FieldError{{Field: "ids", Code: "required", Message: `name the notifications ("ids") or say "all": true, not both`}})
	}
	n, err := s.deps.Notifications.MarkNotificationsRead(c.UserContext(), in.IDs, in.All)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"marked": n})
}
