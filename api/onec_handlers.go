package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mountOneC registers the 1C exchange's log. With the exchange off its
// routes answer 404 saying so, rather than the 404 of an unknown path.
func (s *Server) mountOneC(v1 fiber.Router) {
	if s.deps.OneCJob == nil || s.deps.OneCJobs == nil {
		off := func(*fiber.Ctx) error {
			return core.Errorf(core.ENOTFOUND, "the 1C exchange is off: onec.user and onec.password turn it on")
		}
		v1.Get("/onec/jobs/:id", need(core.ScopeRead), off)
		v1.Get("/onec/jobs", need(core.ScopeRead), off)
		return
	}
	v1.Get("/onec/jobs/:id", need(core.ScopeRead), func(c *fiber.Ctx) error {
		j, err := s.deps.OneCJob(c.UserContext(), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(j)
	})
	v1.Get("/onec/jobs", need(core.ScopeRead), s.listOneCJobs)
}

// listOneCJobs answers the 1C exchange log: the newest import jobs
// (?limit=1..500, default 50), newest first.
func (s *Server) listOneCJobs(c *fiber.Ctx) error {
	limit := 50
	var errs []core.FieldError
	for name, v := range c.Queries() {
		switch name {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 500 {
				errs = append(errs, core.FieldError{Field: name, Code: "out_of_range", Message: "must be an integer from 1 to 500"})
			}
			limit = n
		default:
			errs = append(errs, core.FieldError{Field: name, Code: "unknown_parameter", Message: "is not a parameter of this list"})
		}
	}
	if len(errs) > 0 {
		return core.Invalid(errs)
	}
	jobs, err := s.deps.OneCJobs(c.UserContext(), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": jobs})
}
