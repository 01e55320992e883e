package api

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/crmhub/crmhub/core"
)

func (s *Server) createLead(c *fiber.Ctx) error {
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	l, err := s.deps.Leads.CreateLead(c.UserContext(), p)
	if err != nil {
		return err
	}
	c.Location("/api/v1/leads/" + l.ID)
	c.Set(fiber.HeaderETag, etag(l.Version))
	return c.Status(fiber.StatusCreated).JSON(l)
}

func (s *Server) getLead(c *fiber.Ctx) error {
	l, err := s.deps.Leads.Lead(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(l.Version))
	return c.JSON(l)
}

func (s *Server) updateLead(c *fiber.Ctx) error {
	v, err := ifMatch(c)
	if err != nil {
		return err
	}
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	l, err := s.deps.Leads.UpdateLead(c.UserContext(), c.Params("id"), v, p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(l.Version))
	return c.JSON(l)
}

func (s *Server) deleteLead(c *fiber.Ctx) error {
	v, err := ifMatch(c)
	if err != nil {
		return err
	}
	if err := s.deps.Leads.DeleteLead(c.UserContext(), c.Params("id"), v); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// leadSortFields are the sort keys GET /leads accepts.
var leadSortFields = []string{"created_at", "updated_at", "last_name", "company"}

func (s *Server) listLeads(c *fiber.Ctx) error {
	f, err := parseLeadFilter(c.Context().QueryArgs().String())
	if err != nil {
		return err
	}
	page, err := s.deps.Leads.ListLeads(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// parseLeadFilter reads the list query. Unknown parameters are an error, so
// that a misspelt filter never silently returns everything.
func parseLeadFilter(rawQuery string) (core.LeadFilter, error) {
	f := core.LeadFilter{Limit: core.DefaultPageSize}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return f, core.Invalid([]core.FieldError{{Field: "query", Code: "invalid", Message: "the query string is malformed"}})
	}
	var errs []core.FieldError
	bad := func(field, code, msg string) {
		errs = append(errs, core.FieldError{Field: field, Code: code, Message: msg})
	}
	statuses, sources := core.LeadStatuses(), core.LeadSources()
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch name {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > core.MaxPageSize {
				bad(name, "out_of_range", "must be an integer from 1 to "+strconv.Itoa(core.MaxPageSize))
			}
			f.Limit = n
		case "cursor":
			f.Cursor = v
		case "sort":
			sort, err := core.ParseSort(v, core.Sort{}, leadSortFields...)
			if err != nil {
				errs = append(errs, core.ErrorFields(err)...)
			}
			f.Sort = sort
		case "q":
			f.Query = strings.TrimSpace(v)
			if len([]rune(f.Query)) > 200 {
				bad(name, "too_long", "must be at most 200 characters")
			}
		case "status":
			f.Statuses = splitChoices(v, statuses, name, bad)
		case "source":
			f.Sources = splitChoices(v, sources, name, bad)
		case "owner_id":
			if _, err := uuid.Parse(v); err != nil {
				bad(name, "invalid_id", "must be a UUID")
			}
			f.OwnerID = v
		case "phone":
			if f.Phone, _ = core.NormalizePhone(v); f.Phone == "" {
				bad(name, "invalid_phone", "must be a phone number")
			}
		case "email":
			if f.Email, _ = core.NormalizeEmail(v); f.Email == "" {
				bad(name, "invalid_email", "must be an e-mail address")
			}
		case "created_from", "created_to":
			t, ok := parseTimeOrDate(v)
			if !ok {
				bad(name, "invalid_time", "must be an RFC 3339 time or a date YYYY-MM-DD")
			}
			if name == "created_from" {
				f.CreatedFrom = t
			} else {
				f.CreatedTo = t
			}
		case "converted":
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad(name, "invalid_type", "must be true or false")
			}
			f.Converted = b
		default:
			bad(name, "unknown_parameter", "no such filter")
		}
	}
	if f.Sort.Field == "" {
		f.Sort = core.Sort{Field: "created_at", Desc: true}
	}
	return f, core.Invalid(errs)
}

func splitChoices(v string, pl *core.Picklist, field string, bad func(string, string, string)) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if !pl.Has(s) {
			bad(field, "invalid_choice", "must be one or more (comma-separated) of: "+strings.Join(pl.Codes(), ", "))
			return nil
		}
		out = append(out, s)
	}
	return out
}

// parseTimeOrDate reads an RFC 3339 time or a date (midnight UTC).
func parseTimeOrDate(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}
