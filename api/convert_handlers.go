package api

import (
	"bytes"
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// convertLead serves POST /leads/{id}/convert: 201 with what the lead
// became, or 200 with the same for a repeated request.
func (s *Server) convertLead(c *fiber.Ctx) error {
	var req core.ConvertRequest
	if body := bytes.TrimSpace(c.Body()); len(body) > 0 {
		if ct := c.Get(fiber.HeaderContentType); ct != "" && !bytes.HasPrefix([]byte(ct), []byte("application/json")) {
			return fiber.NewError(fiber.StatusUnsupportedMediaType, "the body must be application/json")
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return core.Invalid([]core.FieldError{{Field: "", Code: "invalid_json",
				Message: "expected {account, contact, deal, owner_id}: " + err.Error()}})
		}
	}
	res, err := s.deps.Converter.Convert(c.UserContext(), c.Params("id"), req)
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if res.Replayed {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(res)
}
