package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// currencyRates lists the Bank of Russia's rates in force on ?date=
// (default today): each currency's latest rate on or before it, per
// nominal units as the Bank publishes them.
func (s *Server) currencyRates(c *fiber.Ctx) error {
	var errs []core.FieldError
	day := time.Now().UTC()
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		switch string(k) {
		case "date":
			d, err := time.Parse("2006-01-02", string(v))
			if err != nil {
				errs = append(errs, core.FieldError{Field: "date", Code: "invalid_date", Message: "must be a date such as 2023-11-02"})
				return
			}
			day = d
		default:
			errs = append(errs, core.FieldError{Field: string(k), Code: "unknown_parameter", Message: "no such parameter"})
		}
	})
	if err := core.Invalid(errs); err != nil {
		return err
	}
	rates, err := s.deps.Rates.Rates(c.UserContext(), day)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": rates})
}
