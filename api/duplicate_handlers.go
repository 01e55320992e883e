package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// duplicates serves GET /duplicates?phone=&email=&inn= (each may repeat).
func (s *Server) duplicates(c *fiber.Ctx) error {
	var k core.DuplicateKeys
	l := &listQuery{}
	c.Context().QueryArgs().VisitAll(func(key, v []byte) {
		name, val := string(key), string(v)
		switch name {
		case "phone":
			k.Phones = append(k.Phones, l.phone(name, val))
		case "email":
			k.Emails = append(k.Emails, l.email(name, val))
		case "inn":
			k.INN = strings.Join(strings.Fields(val), "")
			if !core.ValidINN(k.INN) {
				l.bad(name, "invalid_inn", "must be an ИНН with valid check digits")
			}
		default:
			l.bad(name, "unknown_parameter", "no such parameter")
		}
	})
	if len(l.errs) == 0 && k.Empty() {
		l.bad("phone", "required", "give at least one of phone, email, inn")
	}
	if err := core.Invalid(l.errs); err != nil {
		return err
	}
	matches, err := s.deps.Duplicates.Duplicates(c.UserContext(), k)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": matches})
}
