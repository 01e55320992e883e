package api

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

type apiKeyCreate struct {
	Name   string       `json:"name"`
	Scopes []core.Scope `json:"scopes"`
	UserID string       `json:"user_id"`
}

type apiKeyCreated struct {
	core.APIKey
	Key string `json:"key"` // the secret, shown this once
}

func (s *Server) createAPIKey(c *fiber.Ctx) error {
	p, err := core.DecodePatch(c.Body())
	if err != nil {
		return err
	}
	var in apiKeyCreate
	var errs []core.FieldError
	for name, raw := range p {
		var dst any
		switch name {
		case "name":
			dst = &in.Name
		case "scopes":
			dst = &in.Scopes
		case "user_id":
			dst = &in.UserID
		default:
			errs = append(errs, core.FieldError{Field: name, Code: "unknown_field", Message: "no such field"})
			continue
		}
		if json.Unmarshal(raw, dst) != nil {
			errs = append(errs, core.FieldError{Field: name, Code: "invalid_type", Message: "has the wrong type"})
		}
	}
	if err := core.Invalid(errs); err != nil {
		return err
	}
	k, secret, err := s.deps.APIKeys.CreateAPIKey(c.UserContext(), in.Name, in.Scopes, in.UserID)
	if err != nil {
		return err
	}
	detail, _ := json.Marshal(map[string]any{"op": "created", "name": k.Name, "user_id": k.UserID, "scopes": k.Scopes, "prefix": k.Prefix})
	if err := s.deps.Audit.Audit(c.UserContext(), core.AuditEntry{Action: core.AuditAPIKey, RecordID: k.ID, IP: c.IP(), Detail: detail}); err != nil {
		return err
	}
	c.Location("/api/v1/apikeys/" + k.ID)
	return c.Status(fiber.StatusCreated).JSON(apiKeyCreated{APIKey: *k, Key: secret})
}

func (s *Server) listAPIKeys(c *fiber.Ctx) error {
	keys, err := s.deps.APIKeys.APIKeys(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": keys})
}

func (s *Server) revokeAPIKey(c *fiber.Ctx) error {
	if err := s.deps.APIKeys.RevokeAPIKey(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	if err := s.deps.Audit.Audit(c.UserContext(), core.AuditEntry{Action: core.AuditAPIKey, RecordID: c.Params("id"), IP: c.IP(),
		Detail: []byte(`{"op":"revoked"}`)}); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) picklists(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"items": core.Picklists()})
}
