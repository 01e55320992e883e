package api

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mountMailScan registers the mail scanner's status, "scan now" and the
// mailboxes' admin API.
func (s *Server) mountMailScan(v1 fiber.Router) {
	v1.Get("/mailscan/status", need(core.ScopeRead), s.mailScanStatus)
	v1.Post("/mailscan/mailboxes/:name/scan", area(core.AreaMailboxes), s.mailScanNow)
	if s.deps.Mailboxes == nil || s.deps.MailScanner == nil {
		return
	}
	v1.Get("/mailscan/mailboxes", area(core.AreaMailboxes), s.listMailboxes)
	v1.Post("/mailscan/mailboxes", area(core.AreaMailboxes), jsonBody, s.putMailbox)
	v1.Get("/mailscan/mailboxes/:name", area(core.AreaMailboxes), s.getMailbox)
	v1.Put("/mailscan/mailboxes/:name", area(core.AreaMailboxes), jsonBody, s.putMailbox)
	v1.Delete("/mailscan/mailboxes/:name", area(core.AreaMailboxes), s.deleteMailbox)
}

// shown prepares a mailbox for a reply: the password is write-only.
func shown(m core.MailboxConfig) core.MailboxConfig {
	m.Password = ""
	if m.Folders == nil {
		m.Folders = []string{}
	}
	if m.Rules == nil {
		m.Rules = []core.MailRule{}
	}
	for i := range m.Rules {
		if m.Rules[i].Conditions == nil {
			m.Rules[i].Conditions = []core.MailCondition{}
		}
	}
	return m
}

func (s *Server) configMailbox(name string) *core.MailboxConfig {
	for _, m := range s.deps.MailScanner.ConfigMailboxes() {
		if m.Name == name {
			return &m
		}
	}
	return nil
}

func (s *Server) listMailboxes(c *fiber.Ctx) error {
	stored, err := s.deps.Mailboxes.Mailboxes(c.UserContext())
	if err != nil {
		return err
	}
	all := append(s.deps.MailScanner.ConfigMailboxes(), stored...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	out := make([]core.MailboxConfig, len(all))
	for i, m := range all {
		out[i] = shown(m)
	}
	return c.JSON(fiber.Map{"items": out})
}

func (s *Server) getMailbox(c *fiber.Ctx) error {
	if m := s.configMailbox(c.Params("name")); m != nil {
		return c.JSON(shown(*m))
	}
	m, err := s.deps.Mailboxes.Mailbox(c.UserContext(), c.Params("name"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(m.Version))
	return c.JSON(shown(*m))
}

// putMailbox creates (POST) or replaces (PUT; If-Match optional) a
// mailbox and restarts the scanners to match; a replacement without a
// password keeps the stored one.
func (s *Server) putMailbox(c *fiber.Ctx) error {
	var m core.MailboxConfig
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return &core.Error{Code: core.EINVALID, Message: "the body is not a mailbox",
			Fields: []core.FieldError{{Field: "", Code: "invalid", Message: err.Error()}}}
	}
	ctx := c.UserContext()
	var ifVersion int64
	if c.Method() == fiber.MethodPut {
		if m.Name != "" && m.Name != c.Params("name") {
			return core.Invalid([]core.FieldError{{Field: "name", Code: "mismatch", Message: "the name is the URL's"}})
		}
		m.Name = c.Params("name")
		if s.configMailbox(m.Name) != nil {
			return core.Errorf(core.ECONFLICT, "mailbox %q is defined in the config file: change it there", m.Name)
		}
		v, err := s.ifMatch(c)
		if err != nil {
			return err
		}
		if ifVersion = v; ifVersion == 0 {
			old, err := s.deps.Mailboxes.Mailbox(ctx, m.Name)
			if err != nil {
				return err
			}
			ifVersion = old.Version
		}
	}
	if err := s.deps.MailScanner.Check(m); err != nil {
		return err
	}
	saved, err := s.deps.Mailboxes.PutMailbox(ctx, m, ifVersion)
	if err != nil {
		return err
	}
	if err := s.deps.MailScanner.Reload(ctx); err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(saved.Version))
	if ifVersion == 0 {
		c.Location("/api/v1/mailscan/mailboxes/" + saved.Name)
		return c.Status(fiber.StatusCreated).JSON(shown(*saved))
	}
	return c.JSON(shown(*saved))
}

func (s *Server) deleteMailbox(c *fiber.Ctx) error {
	if s.configMailbox(c.Params("name")) != nil {
		return core.Errorf(core.ECONFLICT, "mailbox %q is defined in the config file: remove it there", c.Params("name"))
	}
	v, err := s.ifMatch(c)
	if err != nil {
		return err
	}
	if err := s.deps.Mailboxes.DeleteMailbox(c.UserContext(), c.Params("name"), v); err != nil {
		return err
	}
	if err := s.deps.MailScanner.Reload(c.UserContext()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// mailScanStatus lists the mailboxes with their last poll, last error and
// counts (empty when none is configured).
func (s *Server) mailScanStatus(c *fiber.Ctx) error {
	if len(c.Queries()) > 0 {
		return core.Invalid([]core.FieldError{{Field: "query", Code: "unknown_parameter", Message: "this endpoint takes no parameters"}})
	}
	items := []core.MailboxStatus{}
	if s.deps.MailScanner != nil {
		items = append(items, s.deps.MailScanner.MailboxStatuses()...)
	}
	for i := range items {
		if items[i].Folders == nil {
			items[i].Folders = []string{}
		}
	}
	return c.JSON(fiber.Map{"items": items})
}

// mailScanNow wakes a mailbox's scanner (202: it scans in the background).
func (s *Server) mailScanNow(c *fiber.Ctx) error {
	if s.deps.MailScanner == nil || !s.deps.MailScanner.ScanNow(c.Params("name")) {
		return core.Errorf(core.ENOTFOUND, "no mailbox %q is configured", c.Params("name"))
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "scanning", "mailbox": c.Params("name")})
}
