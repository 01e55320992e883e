package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// search serves GET /search?q=&limit=.
func (s *Server) search(c *fiber.Ctx) error {
	limit := 20
	var errs []core.FieldError
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		switch string(k) {
		case "q":
		case "limit":
			n, err := strconv.Atoi(string(v))
			if err != nil || n < 1 || n > 100 {
				errs = append(errs, core.FieldError{Field: "limit", Code: "out_of_range", Message: "must be 1 to 100"})
			}
			limit = n
		default:
			errs = append(errs, core.FieldError{Field: string(k), Code: "unknown_parameter", Message: "no such parameter"})
		}
	})
	if err := core.Invalid(errs); err != nil {
		return err
	}
	hits, err := s.deps.Search.Search(c.UserContext(), c.Query("q"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": hits})
}
