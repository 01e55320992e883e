package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// historyPaths are the record kinds with GET {path}/{id}/history.
var historyPaths = map[string]string{
	"/leads": core.EntityLead, "/accounts": core.EntityAccount, "/contacts": core.EntityContact,
	"/deals": core.EntityDeal, "/activities": core.EntityActivity, "/users": core.EntityUser,
	"/pipelines": core.EntityPipeline,
}

// history serves a record's changes from its events, deleted records too.
func (s *Server) history(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		h, err := s.deps.History.History(c.UserContext(), entity, c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": h})
	}
}
