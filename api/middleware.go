package api

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"

	"github.com/crmhub/crmhub/core"
)

const (
	headerRequestID      = "X-Request-Id"
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	localRequestID       = "request_id"
)

// requestID is the request's id, set by withRequest.
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// withRequest assigns the request id (kept from X-Request-Id when it is
// sane), puts it in the request context as the correlation id, recovers
// panics, records metrics and writes the access log.
func (s *Server) withRequest(c *fiber.Ctx) (err error) {
	start := time.Now()
	id := c.Get(headerRequestID)
	if !validToken(id, 128) {
		id = uuid.Must(uuid.NewV7()).String()
	} else {
		id = utils.CopyString(id)
	}
	c.Locals(localRequestID, id)
	c.Set(headerRequestID, id)
	c.SetUserContext(core.NewContextWithCorrelationID(context.Background(), id))
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "panic", fmt.Sprint(r), "request_id", id, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
		if err != nil {
			if herr := s.errorHandler(c, err); herr != nil {
				s.log.Error("error_handler", "error", herr)
			}
			err = nil
		}
		status := c.Response().StatusCode()
		route := "unmatched"
		if r := c.Route(); r != nil && r.Path != "/" && !strings.HasSuffix(r.Path, "*") {
			route = r.Path
		}
		elapsed := time.Since(start)
		s.metrics.observe(c.Method(), route, status, elapsed)
		if s.cfg.AccessLog {
			s.cfg.AccessLogger.Info("http_request", "method", c.Method(), "path", logPath(c.Path(), route), "route", route,
				"status", status, "duration_ms", float64(elapsed.Microseconds())/1000, "request_id", id,
				"bytes", responseSize(c))
		}
	}()
	if err := s.readBody(c); err != nil {
		return err
	}
	return c.Next()
}

// responseSize is the length of a response's body, without reading one
// that streams (a download).
func responseSize(c *fiber.Ctx) int {
	if c.Response().IsBodyStream() {
		return c.Response().Header.ContentLength()
	}
	return len(c.Response().Body())
}

// readBody reads a request's body, whole, up to its path's limit (413
// above), before any handler sees it: the transport only streams bodies
// in (StreamRequestBody), so that an upload's files reach the store as
// they arrive, and an upload's body is left to its handler. A body up to
// 4× its limit is read to its end before the 413, so that the client,
// still sending, gets the answer; a larger one is refused on its declared
// length and the connection closed.
func (s *Server) readBody(c *fiber.Ctx) error {
	req := c.Request()
	declared := int64(req.Header.ContentLength()) // -1: chunked
	if isUpload(c) {
		// Answered before its handler read it (a 401, a 404 route), the rest
		// of the body would be taken for the next request: the connection
		// closes unless the handler reads the body to its end (finishBody).
		c.Context().SetConnectionClose()
		if declared > s.uploadLimit() {
			return fiber.ErrRequestEntityTooLarge
		}
		return nil
	}
	limit := int64(s.bodyLimit(c.Path()))
	stream := req.BodyStream()
	if stream == nil {
		if int64(len(req.Body())) > limit {
			return fiber.ErrRequestEntityTooLarge
		}
		return nil
	}
	if declared > 4*limit {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(stream, limit+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return fiber.NewError(fiber.StatusBadRequest, "the request body could not be read")
	}
	if int64(len(body)) > limit {
		if n, _ := io.Copy(io.Discard, io.LimitReader(stream, 3*limit)); n == 3*limit {
			c.Context().SetConnectionClose()
		}
		return fiber.ErrRequestEntityTooLarge
	}
	req.SetBody(body)
	return nil
}

// validToken accepts printable ASCII without spaces up to max bytes.
func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// need requires the actor to hold scope.
func need(scope core.Scope) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !core.ActorFromContext(c.UserContext()).Has(scope) {
			return core.Errorf(core.EFORBIDDEN, "this API key lacks the %q scope", scope)
		}
		return c.Next()
	}
}

// jsonBodyIfAny requires a body, when there is one, to be JSON.
func jsonBodyIfAny(c *fiber.Ctx) error {
	if len(c.Body()) == 0 {
		return c.Next()
	}
	return jsonBody(c)
}

// jsonBody requires a JSON request body (415 otherwise).
func jsonBody(c *fiber.Ctx) error {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	switch ct {
	case "application/json", "application/merge-patch+json":
		return c.Next()
	}
	return fiber.NewError(fiber.StatusUnsupportedMediaType, "the body must be application/json (or application/merge-patch+json for PATCH)")
}

// idempotent makes a POST with an Idempotency-Key run once: the handler runs
// inside the key's transaction, and a repeat with the same body gets the
// stored response with Idempotent-Replayed: true.
func (s *Server) idempotent(c *fiber.Ctx) error {
	key := c.Get(headerIdempotencyKey)
	if key == "" {
		return c.Next()
	}
	if !validToken(key, 255) {
		return core.Invalid([]core.FieldError{{Field: headerIdempotencyKey, Code: "invalid",
			Message: "must be 1 to 255 printable ASCII characters"}})
	}
	h := sha256.New()
	h.Write([]byte(c.Method() + "\x00" + c.Path() + "\x00"))
	h.Write(c.Body())
	req := core.IdempotentRequest{Owner: core.ActorFromContext(c.UserContext()).ID, Key: utils.CopyString(key), Fingerprint: h.Sum(nil)}
	outer := c.UserContext()
	resp, replayed, err := s.deps.Idempotency.Do(outer, req, func(ctx context.Context) (core.StoredResponse, bool, error) {
		c.SetUserContext(ctx)
		defer c.SetUserContext(outer)
		if err := c.Next(); err != nil {
			return core.StoredResponse{}, false, err
		}
		r := c.Response()
		status := r.StatusCode()
		return core.StoredResponse{Status: status, ContentType: string(r.Header.ContentType()),
			Location: string(r.Header.Peek(fiber.HeaderLocation)), Body: append([]byte(nil), r.Body()...)}, status < 300, nil
	})
	if err != nil || !replayed {
		return err
	}
	c.Set(headerReplayed, "true")
	if resp.Location != "" {
		c.Set(fiber.HeaderLocation, resp.Location)
	}
	c.Set(fiber.HeaderContentType, resp.ContentType)
	return c.Status(resp.Status).Send(resp.Body)
}

// etag renders a record version as a strong entity tag.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads If-Match: 0 when absent or "*", else the version it names.
// A value that names no version can never match: 412. With RequireIfMatch
// a PATCH, PUT or DELETE must name one (428 otherwise): "*" is a blind
// write too.
func (s *Server) ifMatch(c *fiber.Ctx) (int64, error) {
	h := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if (h == "" || h == "*") && s.cfg.RequireIfMatch && c.Method() != fiber.MethodPost {
		return 0, fiber.NewError(fiber.StatusPreconditionRequired, "this hub refuses blind writes (api.require_if_match): "+
			`send If-Match with the ETag of the version you read, e.g. If-Match: "3"`)
	}
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v <= 0 {
		return 0, core.Errorf(core.EPRECONDITION, "If-Match %q names no version of this record", h)
	}
	return v, nil
}

// bodyLimit is the largest body accepted at path: forms take files.
func (s *Server) bodyLimit(path string) int {
	if s.deps.OneC != nil && path == s.deps.OneCPath {
		return s.deps.OneCLimit + 64<<10 // a chunk of file_limit bytes
	}
	if s.deps.Imports != nil && path == "/api/v1/imports" {
		return s.cfg.ImportBodyLimit
	}
	if s.deps.Forms != nil && (strings.HasPrefix(path, "/forms/") || strings.HasPrefix(path, "/modules/Webforms/")) {
		return s.cfg.FormBodyLimit
	}
	return s.cfg.BodyLimit
}
