package api

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/ical"
)

var activitySortFields = []string{"created_at", "updated_at", "start_at"}

// listActivities serves the activity list and calendar:
// ?from=&to=&owner=&status=&kind= (owner is also accepted as owner_id).
func (s *Server) listActivities(c *fiber.Ctx) error {
	var f core.ActivityFilter
	return serveList(c, activitySortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		switch name {
		case "from":
			f.From = l.time(name, v)
		case "to":
			f.To = l.time(name, v)
		case "owner":
			l.params.OwnerID = l.id(name, v)
		case "kind":
			f.Kinds = l.codes(name, v)
		case "status":
			f.Statuses = l.codes(name, v)
		case "lead_id":
			f.LeadID = l.id(name, v)
		case "contact_id":
			f.ContactID = l.id(name, v)
		case "account_id":
			f.AccountID = l.id(name, v)
		case "deal_id":
			f.DealID = l.id(name, v)
		default:
			return false
		}
		return true
	}, func(ctx context.Context) (core.Page[core.Activity], error) {
		return s.deps.Activities.List(ctx, f)
	})
}

// issueCalendarToken serves POST /users/{id}/calendar-token for an admin or
// the user's own key.
func (s *Server) issueCalendarToken(c *fiber.Ctx) error {
	id := c.Params("id")
	if a := core.AccessFromContext(c.UserContext()); a == nil || (a.UserID != id && !a.HasArea(core.AreaUsers)) {
		return core.Errorf(core.EFORBIDDEN, "only a manager of users (admin area %q) or the user may issue the user's calendar token", core.AreaUsers)
	}
	token, err := s.deps.Calendars.IssueCalendarToken(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": token, "url": "/calendar/" + token + ".ics"})
}

// Calendar feed window and size.
const (
	calendarPast   = 30 * 24 * time.Hour
	calendarFuture = 365 * 24 * time.Hour
	calendarMax    = 5000
)

// calendarFeed serves GET /calendar/{token}.ics: the user's events and
// tasks from a month ago to a year ahead. The token is the credential.
func (s *Server) calendarFeed(c *fiber.Ctx) error {
	ctx := c.UserContext()
	token := strings.Clone(c.Params("token"))
	if !validToken(token, 100) {
		return core.Errorf(core.ENOTFOUND, "no such calendar")
	}
	u, err := s.deps.Calendars.CalendarUser(ctx, token)
	if err != nil {
		return err
	}
	// The feed reads as its user, with a read key's reach: what they may
	// see of their own activities, nothing more.
	acc, err := s.deps.Auth.Access(ctx, u.ID, core.ScopeRead)
	if err != nil {
		return core.Errorf(core.ENOTFOUND, "no such calendar")
	}
	ctx = core.NewContextWithAccess(ctx, acc)
	now := time.Now().UTC()
	f := core.ActivityFilter{ListParams: core.ListParams{OwnerID: u.ID, Sort: core.Sort{Field: "start_at"}, Limit: core.MaxPageSize},
		From: now.Add(-calendarPast), To: now.Add(calendarFuture)}
	var all []core.Activity
	for len(all) < calendarMax {
		page, err := s.deps.Activities.List(ctx, f)
		if err != nil {
			return err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if all, err = withoutHidden(all, acc.HiddenFields(core.EntityActivity)); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := ical.Encode(&buf, ical.Calendar{Name: "crmhub: " + u.Name, Activities: all, Now: now}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.Send(buf.Bytes())
}
