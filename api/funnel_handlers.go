package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// funnel serves GET /funnel?pipeline=&owner=&from=&to=.
func (s *Server) funnel(c *fiber.Ctx) error {
	var f core.FunnelFilter
	l := &listQuery{}
	var unknown []core.FieldError
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		name, val := string(k), string(v)
		switch name {
		case "pipeline":
			f.PipelineID = l.id(name, val)
		case "owner":
			f.OwnerID = l.id(name, val)
		case "from":
			f.From = l.time(name, val)
		case "to":
			f.To = l.time(name, val)
		default:
			unknown = append(unknown, core.FieldError{Field: name, Code: "unknown_parameter", Message: "no such parameter"})
		}
	})
	if err := core.Invalid(append(l.errs, unknown...)); err != nil {
		return err
	}
	out, err := s.deps.Funnels.Funnel(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
