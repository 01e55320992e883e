package api

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mergePaths are the kinds with POST {path}/{id}/merge.
var mergePaths = map[string]string{"/leads": core.EntityLead, "/contacts": core.EntityContact, "/accounts": core.EntityAccount}

// merge serves POST {kind}/{id}/merge {"duplicate_id": …}.
func (s *Server) merge(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := core.DecodePatch(c.Body())
		if err != nil {
			return err
		}
		var dup string
		for name, raw := range p {
			if name != "duplicate_id" || json.Unmarshal(raw, &dup) != nil || dup == "" {
				return core.Invalid([]core.FieldError{{Field: name, Code: "invalid", Message: `the body is {"duplicate_id": "<id>"}`}})
			}
		}
		if dup == "" {
			return core.Invalid([]core.FieldError{{Field: "duplicate_id", Code: "required", Message: "is required"}})
		}
		rec, err := s.deps.Merger.Merge(c.UserContext(), entity, c.Params("id"), dup)
		if err != nil {
			return err
		}
		return c.JSON(rec)
	}
}
