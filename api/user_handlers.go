package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

var userSortFields = []string{"created_at", "updated_at", "name"}

func (s *Server) listUsers(c *fiber.Ctx) error {
	var f core.UserFilter
	params, err := parseList(c.Context().QueryArgs().String(), userSortFields, func(l *listQuery, name, v string) bool {
		switch name {
		case "active":
			b := l.boolean(name, v)
			f.Active = &b
		case "extension":
			f.Extension = v
		default:
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	f.ListParams = params
	page, err := s.deps.Users.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}
