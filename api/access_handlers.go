package api

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// sharePaths are the record kinds with {path}/{id}/shares.
var sharePaths = map[string]string{
	"/leads": core.EntityLead, "/accounts": core.EntityAccount, "/contacts": core.EntityContact,
	"/deals": core.EntityDeal, "/activities": core.EntityActivity, "/quotes": core.EntityQuote,
	"/invoices": core.EntityInvoice, "/sales-orders": core.EntitySalesOrder,
	"/purchase-orders": core.EntityPurchaseOrder, "/acts": core.EntityAct, "/realizations": core.EntityRealization,
	"/payments": core.EntityPayment, "/reports": core.EntityReport, "/emails": core.EntityEmail, "/calls": core.EntityCall,
}

// mountAccess registers roles, teams and the shares of records.
func (s *Server) mountAccess(v1 fiber.Router) {
	if s.deps.Roles != nil {
		mount[core.Role](s, v1, "/roles", s.deps.Roles, s.listRoles, area(core.AreaRoles))
	}
	if s.deps.Teams != nil {
		mount[core.Team](s, v1, "/teams", s.deps.Teams, s.listTeams, area(core.AreaUsers))
	}
	if s.deps.Shares == nil {
		return
	}
	for path, entity := range sharePaths {
		v1.Get(path+"/:id/shares", need(core.ScopeRead), s.listShares(entity))
		v1.Post(path+"/:id/shares", need(core.ScopeWrite), jsonBody, s.addShare(entity))
		v1.Delete(path+"/:id/shares/:share_id", need(core.ScopeWrite), s.removeShare(entity))
	}
}

var roleSortFields = []string{"created_at", "updated_at", "name"}

func (s *Server) listRoles(c *fiber.Ctx) error {
	var f core.RoleFilter
	return serveList(c, roleSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		if name != "parent_id" {
			return false
		}
		f.ParentID = l.id(name, v)
		return true
	}, func(ctx context.Context) (core.Page[core.Role], error) {
		return s.deps.Roles.List(ctx, f)
	})
}

func (s *Server) listTeams(c *fiber.Ctx) error {
	var f core.TeamFilter
	return serveList(c, roleSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		if name != "member_id" {
			return false
		}
		f.MemberID = l.id(name, v)
		return true
	}, func(ctx context.Context) (core.Page[core.Team], error) {
		return s.deps.Teams.List(ctx, f)
	})
}

func (s *Server) listShares(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		items, err := s.deps.Shares.Shares(c.UserContext(), entity, c.Params("id"))
		if err != nil {
			return err
		}
		if items == nil {
			items = []core.Share{}
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

func (s *Server) addShare(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in core.ShareInput
		dec := json.NewDecoder(bytes.NewReader(c.Body()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return &core.Error{Code: core.EINVALID, Message: "the body is not a share: {\"user_id\" or \"team_id\", \"access\"}",
				Fields: []core.FieldError{{Field: "", Code: "invalid", Message: "must be an object with user_id or team_id, and access"}}}
		}
		sh, err := s.deps.Shares.AddShare(c.UserContext(), entity, c.Params("id"), in)
		if err != nil {
			return err
		}
		detail, _ := json.Marshal(sh)
		_ = s.deps.Audit.Audit(c.UserContext(), core.AuditEntry{Action: core.AuditShare, Entity: entity, RecordID: sh.RecordID,
			IP: c.IP(), Detail: detail})
		return c.Status(fiber.StatusCreated).JSON(sh)
	}
}

func (s *Server) removeShare(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.deps.Shares.RemoveShare(c.UserContext(), entity, c.Params("id"), c.Params("share_id")); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{"removed": c.Params("share_id")})
		_ = s.deps.Audit.Audit(c.UserContext(), core.AuditEntry{Action: core.AuditShare, Entity: entity, RecordID: c.Params("id"),
			IP: c.IP(), Detail: detail})
		return c.SendStatus(fiber.StatusNoContent)
	}
}
