package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// defaultCSP is the Content-Security-Policy of a response that brings
// none: it loads nothing, posts nowhere and is framed by no page. The
// form pages, the only HTML the hub serves, need nothing more.
const defaultCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// secureHeaders sets, once the request is answered (errors included),
// what keeps a browser from misreading a response: X-Content-Type-Options
// nosniff, Referrer-Policy no-referrer, the strict defaultCSP and
// X-Frame-Options DENY unless the handler set a policy of its own (a
// form configured to be framed names its frame-ancestors, and is then
// not DENYed), and Cache-Control no-store unless the handler says how
// to cache: what an API key, a provider's secret or a session authorized
// (records, PDFs, exports, attachments, 1C's downloads) is kept by no
// cache. Only the calendar feed says otherwise (private, for its
// subscriber's polls).
func secureHeaders(c *fiber.Ctx) error {
	err := c.Next()
	h := &c.Response().Header
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	csp := string(h.Peek(fiber.HeaderContentSecurityPolicy))
	if csp == "" {
		h.Set(fiber.HeaderContentSecurityPolicy, defaultCSP)
	}
	if len(h.Peek(fiber.HeaderXFrameOptions)) == 0 && !framable(csp) {
		h.Set(fiber.HeaderXFrameOptions, "DENY")
	}
	if len(h.Peek(fiber.HeaderCacheControl)) == 0 {
		h.Set(fiber.HeaderCacheControl, "no-store")
	}
	return err
}

// framable reports whether a Content-Security-Policy lets some page frame
// the response (frame-ancestors other than 'none').
func framable(csp string) bool {
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if strings.EqualFold(name, "frame-ancestors") {
			return strings.TrimSpace(value) != "" && strings.TrimSpace(value) != "'none'"
		}
	}
	return false
}

// checkQuery refuses a request any of whose query parameters, name or
// value, is not printable UTF-8 text (a NUL, another control character,
// invalid UTF-8), with the 422 a body field gets (control_character,
// invalid_utf8): checked here for every route, no handler passes one to
// the database, which refuses NUL (SQLSTATE 22021).
func checkQuery(c *fiber.Ctx) error {
	var errs []core.FieldError
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		if code := core.TextProblem(string(k), false); code != "" {
			errs = append(errs, core.FieldError{Field: "query", Code: code, Message: "parameter names must be printable UTF-8 text"})
		} else if code := core.TextProblem(string(v), false); code != "" {
			errs = append(errs, core.TextFieldError(string(k), code))
		}
	})
	if len(errs) > 0 {
		return core.Invalid(errs)
	}
	return c.Next()
}

// metricsAuthorized reports whether an Authorization header carries the
// metrics token (any does when none is configured). The comparison is
// of digests, so it takes the same time whatever the token's length and
// however much of it matches.
func (s *Server) metricsAuthorized(authorization string) bool {
	if s.cfg.MetricsToken == "" {
		return true
	}
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got, want := sha256.Sum256([]byte(strings.TrimSpace(token))), sha256.Sum256([]byte(s.cfg.MetricsToken))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// inputError turns a database error the input caused, which reached here
// untranslated, into its 422 (core.SQLInputError): a value a check missed
// never makes a 500. The driver's error is known by its SQLState method
// alone, so the API does not import the driver.
func inputError(err error) error {
	var db interface{ SQLState() string }
	if core.ErrorCode(err) != core.EINTERNAL || !errors.As(err, &db) {
		return err
	}
	if in := core.SQLInputError(db.SQLState()); in != nil {
		return in
	}
	return err
}
