package api

import (
	"context"
	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

var userSortFields = []string{"created_at", "updated_at", "name"}

func (s *Server) listUsers(c *fiber.Ctx) error {
	var f core.UserFilter
	return serveList(c, userSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
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
	}, func(ctx context.Context) (core.Page[core.User], error) {
		return s.deps.Users.List(ctx, f)
	})
}
