package api

import (
	"context"
	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// leadSortFields are the sort keys GET /leads accepts.
var leadSortFields = []string{"created_at", "updated_at", "last_name", "company"}

func (s *Server) listLeads(c *fiber.Ctx) error {
	var f core.LeadFilter
	return serveList(c, leadSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		switch name {
		case "status":
			f.Statuses = l.choices(name, v, core.LeadStatuses())
		case "source":
			f.Sources = l.choices(name, v, core.LeadSources())
		case "phone":
			f.Phone = l.phone(name, v)
		case "email":
			f.Email = l.email(name, v)
		case "converted":
			f.Converted = l.boolean(name, v)
		default:
			return false
		}
		return true
	}, func(ctx context.Context) (core.Page[core.Lead], error) {
		return s.deps.Leads.List(ctx, f)
	})
}
