package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crmhub/crmhub/core"
)

//go:embed openapi.json
var openapiDoc []byte

// OpenAPI returns the API's OpenAPI 3.1 document.
func OpenAPI() []byte { return openapiDoc }

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.deps.Ready(ctx); err != nil {
		s.log.Warn("not_ready", "error", err)
		// A core error's reason is safe to show (the embedded database is
		// restarting, say); any other stays in the log.
		msg := "not ready"
		if core.ErrorCode(err) != core.EINTERNAL {
			msg += ": " + core.ErrorMessage(err)
		}
		if d := core.ErrorRetryAfter(err); d > 0 {
			c.Set(fiber.HeaderRetryAfter, retryAfter(d))
		}
		return core.Errorf(core.EUNAVAILABLE, "%s", msg)
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// metricsTokenNeeded is the detail of a scrape without the metrics token.
const metricsTokenNeeded = "the metrics need their token: Authorization: Bearer <metrics.token>"

// metricsHandler serves /metrics on the API's listener, to the bearer of
// the metrics token when one is configured.
func (s *Server) metricsHandler() fiber.Handler {
	prom := adaptor.HTTPHandler(promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx) error {
		if !s.metricsAuthorized(c.Get(fiber.HeaderAuthorization)) {
			return core.Errorf(core.EUNAUTHORIZED, metricsTokenNeeded)
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return prom(c)
	}
}

// MetricsHandler serves the metrics over net/http, for a listener of
// their own (metrics.addr), to the bearer of the metrics token as on the
// API's listener.
func (s *Server) MetricsHandler() http.Handler {
	prom := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(fiber.HeaderXContentTypeOptions, "nosniff")
		w.Header().Set(fiber.HeaderCacheControl, "no-store")
		profile := s.cfg.Pprof && strings.HasPrefix(r.URL.Path, "/debug/pprof/")
		if r.URL.Path != "/metrics" && !profile {
			http.NotFound(w, r)
			return
		}
		if !s.metricsAuthorized(r.Header.Get(fiber.HeaderAuthorization)) {
			w.Header().Set(fiber.HeaderWWWAuthenticate, `Bearer realm="crmhub"`)
			w.Header().Set(fiber.HeaderContentType, problemContentType)
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(problem{Type: problemType(core.EUNAUTHORIZED), Title: http.StatusText(http.StatusUnauthorized),
				Status: http.StatusUnauthorized, Detail: metricsTokenNeeded, Instance: r.URL.Path})
			return
		}
		if profile {
			servePprof(w, r)
			return
		}
		prom.ServeHTTP(w, r)
	})
}

// servePprof serves Go's profiles under /debug/pprof/ (the package's
// handlers, not http.DefaultServeMux, which nothing here serves).
func servePprof(w http.ResponseWriter, r *http.Request) {
	w.Header().Del(fiber.HeaderCacheControl)
	switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
	case "":
		pprof.Index(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}
