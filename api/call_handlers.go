package api

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

var callSortFields = []string{"created_at"}

// mountCalls registers the calls list and click-to-call, when the hub
// keeps calls.
func (s *Server) mountCalls(v1 fiber.Router) {
	if s.deps.Calls == nil {
		return
	}
	v1.Get("/calls", need(core.ScopeRead), s.listCalls)
	v1.Post("/calls/dial", need(core.ScopeWrite), jsonBody, s.dial)
	v1.Get("/calls/:id", need(core.ScopeRead), s.getCall)
}

func (s *Server) listCalls(c *fiber.Ctx) error {
	var f core.CallFilter
	return serveList(c, callSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		switch name {
		case "direction":
			f.Directions = l.codes(name, v)
		case "disposition":
			f.Dispositions = l.codes(name, v)
		case "provider":
			f.Provider = v
		case "phone":
			if e164, ok := core.NormalizePhone(v); ok {
				f.Phone = e164
			} else {
				l.bad(name, "invalid_phone", "is not a phone number")
			}
		case "extension":
			f.Extension = v
		case "owner":
			l.params.OwnerID = l.id(name, v)
		case "lead_id":
			f.LeadID = l.id(name, v)
		case "contact_id":
			f.ContactID = l.id(name, v)
		case "account_id":
			f.AccountID = l.id(name, v)
		default:
			return false
		}
		return true
	}, func(ctx context.Context) (core.Page[core.Call], error) {
		return s.deps.Calls.ListCalls(ctx, f)
	})
}

func (s *Server) getCall(c *fiber.Ctx) error {
	call, err := s.deps.Calls.GetCall(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return s.sendRecord(c, core.EntityCall, call.ID, call.Version, call)
}

type dialRequest struct {
	Phone    string `json:"phone"`
	UserID   string `json:"user_id"`
	Provider string `json:"provider"`
}

// dial starts click-to-call: the PBX rings the employee (the API key's
// user unless user_id names another), then dials the client.
func (s *Server) dial(c *fiber.Ctx) error {
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	var in dialRequest
	if err := dec.Decode(&in); err != nil {
		return &core.Error{Code: core.EINVALID, Message: "the body is not a dial request",
			Fields: []core.FieldError{{Field: "", Code: "invalid", Message: err.Error()}}}
	}
	var errs []core.FieldError
	number, ok := core.NormalizePhone(in.Phone)
	if !ok {
		errs = append(errs, core.FieldError{Field: "phone", Code: "invalid_phone", Message: "is not a phone number"})
	}
	userID := in.UserID
	if userID == "" {
		userID = core.ActorFromContext(c.UserContext()).UserID
	}
	if userID == "" {
		errs = append(errs, core.FieldError{Field: "user_id", Code: "required", Message: "this API key has no user: name one"})
	}
	var dialer core.Dialer
	for _, d := range s.deps.Dialers {
		if in.Provider == "" || d.Provider() == in.Provider {
			dialer = d
			break
		}
	}
	if dialer == nil {
		msg := "no PBX with click-to-call is configured"
		if in.Provider != "" {
			msg = "no such PBX with click-to-call: " + in.Provider
		}
		errs = append(errs, core.FieldError{Field: "provider", Code: "unavailable", Message: msg})
	}
	if err := core.Invalid(errs); err != nil {
		return err
	}
	u, err := s.deps.Users.Get(c.UserContext(), userID)
	if err != nil {
		if core.ErrorCode(err) == core.ENOTFOUND {
			return core.Invalid([]core.FieldError{{Field: "user_id", Code: "not_found", Message: "no such user"}})
		}
		return err
	}
	if !u.Active {
		return core.Invalid([]core.FieldError{{Field: "user_id", Code: "inactive", Message: "the user is deactivated"}})
	}
	if err := dialer.Dial(c.UserContext(), u, number); err != nil {
		if core.ErrorCode(err) == core.EINVALID {
			return err
		}
		s.log.Warn("dial_failed", "provider", dialer.Provider(), "error", err)
		return fiber.NewError(fiber.StatusBadGateway, "the PBX did not take the call: "+dialer.Provider())
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "dialing", "provider": dialer.Provider(),
		"user_id": u.ID, "phone": number})
}
