package api

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

var accountSortFields = []string{"created_at", "updated_at", "name"}

func (s *Server) listAccounts(c *fiber.Ctx) error {
	var f core.AccountFilter
	return serveList(c, accountSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		switch name {
		case "type":
			f.Types = l.choices(name, v, core.AccountTypes())
		case "inn":
			f.INN = strings.Join(strings.Fields(v), "")
			if !core.ValidINN(f.INN) {
				l.bad(name, "invalid_inn", "must be an ИНН with valid check digits")
			}
		case "phone":
			f.Phone = l.phone(name, v)
		case "email":
			f.Email = l.email(name, v)
		case "external_id":
			f.ExternalID = l.externalID(name, v)
		default:
			return false
		}
		return true
	}, func(ctx context.Context) (core.Page[core.Account], error) {
		return s.deps.Accounts.List(ctx, f)
	})
}

var contactSortFields = []string{"created_at", "updated_at", "last_name"}

func (s *Server) listContacts(c *fiber.Ctx) error {
	var f core.ContactFilter
	return serveList(c, contactSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		switch name {
		case "account_id":
			f.AccountID = l.id(name, v)
		case "source":
			f.Sources = l.choices(name, v, core.LeadSources())
		case "phone":
			f.Phone = l.phone(name, v)
		case "email":
			f.Email = l.email(name, v)
		case "external_id":
			f.ExternalID = l.externalID(name, v)
		default:
			return false
		}
		return true
	}, func(ctx context.Context) (core.Page[core.Contact], error) {
		return s.deps.Contacts.List(ctx, f)
	})
}
