package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mountMailScan registers the mail scanner's status and "scan now".
func (s *Server) mountMailScan(v1 fiber.Router) {
	v1.Get("/mailscan/status", need(core.ScopeRead), s.mailScanStatus)
	v1.Post("/mailscan/mailboxes/:name/scan", need(core.ScopeAdmin), s.mailScanNow)
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
