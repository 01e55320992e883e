package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// problem is an RFC 9457 problem details object.
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail"`
	Instance  string            `json:"instance,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Errors    []core.FieldError `json:"errors,omitempty"`
	// Duplicates are the existing records a refused create duplicates.
	Duplicates []core.DuplicateMatch `json:"duplicates,omitempty"`
}

const problemContentType = "application/problem+json"

// codeStatus is the one table from core error codes to HTTP statuses.
var codeStatus = map[string]int{
	core.EINVALID:      http.StatusUnprocessableEntity,
	core.ENOTFOUND:     http.StatusNotFound,
	core.ECONFLICT:     http.StatusConflict,
	core.EPRECONDITION: http.StatusPreconditionFailed,
	core.EUNAUTHORIZED: http.StatusUnauthorized,
	core.EFORBIDDEN:    http.StatusForbidden,
	core.EUNAVAILABLE:  http.StatusServiceUnavailable,
	core.EINTERNAL:     http.StatusInternalServerError,
}

// statusCode names the problem type of HTTP errors raised by the framework.
var statusCode = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusNotFound:              core.ENOTFOUND,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusPreconditionRequired:  "precondition_required",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusRequestTimeout:        "timeout",
	http.StatusServiceUnavailable:    "unavailable",
}

func problemType(code string) string { return "urn:crmhub:problem:" + code }

// retryAfter is a Retry-After value: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// errorHandler renders every error as application/problem+json. Internal
// errors are logged with the request id and shown without details.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	p := problem{Instance: c.Path(), RequestID: requestID(c)}
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		p.Status = fe.Code
		code, ok := statusCode[fe.Code]
		if !ok {
			code = "http_" + http.StatusText(fe.Code)
		}
		p.Type = problemType(code)
		p.Detail = fe.Message
		if fe.Code >= 500 && fe.Code != fiber.StatusBadGateway { // a 502 names the upstream that failed
			s.log.Error("http_error", "error", err, "request_id", p.RequestID)
			p.Detail = "internal error"
		}
	default:
		err = inputError(err)
		code := core.ErrorCode(err)
		p.Status = codeStatus[code]
		p.Type, p.Detail, p.Errors = problemType(code), core.ErrorMessage(err), core.ErrorFields(err)
		var dup *core.DuplicatesError
		if errors.As(err, &dup) {
			p.Duplicates = dup.Matches
		}
		if code == core.EINTERNAL {
			s.log.Error("internal_error", "error", err, "request_id", p.RequestID, "path", logPath(c.Path(), c.Route().Path))
		}
		if d := core.ErrorRetryAfter(err); d > 0 {
			// An outage that passes (the database restarting): say when to
			// come back, in whole seconds.
			s.log.Warn("unavailable", "error", err, "request_id", p.RequestID, "path", logPath(c.Path(), c.Route().Path))
			c.Set(fiber.HeaderRetryAfter, retryAfter(d))
		}
	}
	p.Title = http.StatusText(p.Status)
	if p.Status == http.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="crmhub"`)
	}
	c.Status(p.Status)
	// A failed JSON encoding of this plain struct cannot happen.
	_ = c.JSON(p, problemContentType)
	return nil
}
