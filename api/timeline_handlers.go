package api

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mountTimeline registers GET {path}/{id}/timeline, a record's card's
// stream, for every record kind with notes and files.
func (s *Server) mountTimeline(v1 fiber.Router) {
	if s.deps.Timeline == nil {
		return
	}
	for path, entity := range recordPaths {
		v1.Get(path+"/:id/timeline", need(core.ScopeRead), s.timeline(entity))
	}
}

// timeline serves one page of a record's timeline, newest first: kind
// (comma-separated kinds), limit and cursor; anything else is refused.
func (s *Server) timeline(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, err := parseTimelineQuery(string(c.Request().URI().QueryString()))
		if err != nil {
			return err
		}
		page, err := s.deps.Timeline.Timeline(c.UserContext(), entity, c.Params("id"), q)
		if err != nil {
			return err
		}
		return c.JSON(page)
	}
}

// parseTimelineQuery reads a timeline's query string. Errors: EINVALID
// naming each bad parameter (an unknown kind by name).
func parseTimelineQuery(raw string) (core.TimelineQuery, error) {
	var q core.TimelineQuery
	values, err := url.ParseQuery(raw)
	if err != nil {
		return q, core.Invalid([]core.FieldError{{Field: "query", Code: "invalid", Message: "the query string is malformed"}})
	}

	var errs []core.FieldError
	for name, vals := range values {
		v := vals[len(vals)-1]
		switch name {
		case "kind":
			q.Kinds, err = core.ParseTimelineKinds(v)
			errs = append(errs, core.ErrorFields(err)...)
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > core.MaxTimelineLimit {
				errs = append(errs, core.FieldError{Field: name, Code: "out_of_range",
					Message: "must be an integer from 1 to " + strconv.Itoa(core.MaxTimelineLimit)})
			}
			q.Limit = n
		case "cursor":
			q.Cursor = v
			if _, err := core.DecodeTimelineCursor(v); err != nil {
				errs = append(errs, core.ErrorFields(err)...)
			}
		default:
			errs = append(errs, core.FieldError{Field: name, Code: "unknown_parameter", Message: "no such parameter"})
		}
	}
	return q, core.Invalid(errs)
}
