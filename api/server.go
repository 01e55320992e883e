// Package api is crmhub's REST API on Fiber v2: JSON under /api/v1, RFC 9457
// problem responses for every error, API-key auth with scopes, idempotent
// POSTs, ETag/If-Match concurrency, an OpenAPI 3.1 document, and the
// operational endpoints /healthz, /readyz and /metrics.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"reflect"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/printform"
)

// Config configures the API server.
type Config struct {
	// BodyLimit is the largest request body accepted (413 above). Default 1 MiB.
	BodyLimit int
	// FormBodyLimit is the largest body of a form post (forms carry files).
	// Default 25 MiB.
	FormBodyLimit int
	// ImportBodyLimit is the largest workbook an import takes through the
	// API. Default 25 MiB (larger files: crmhub import). A body declared
	// longer than 4× its limit is refused on its Content-Length alone.
	ImportBodyLimit int
	// AttachmentMaxSize is the largest file an upload takes (each of up
	// to core.MaxUploadFiles). Default 25 MiB.
	AttachmentMaxSize int64
	// ImportMaxRows is the most data rows an import's sheet may have: a
	// larger one is refused at once (422, naming the limit and the row).
	// Import jobs state it as row_limit. Default 1,000,000.
	ImportMaxRows int
	// ReadTimeout and WriteTimeout bound one request. Defaults 30 s.
	ReadTimeout, WriteTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections. Default 120 s.
	IdleTimeout time.Duration
	// AccessLog logs one line per request, to AccessLogger (default Logger).
	AccessLog    bool
	AccessLogger *slog.Logger
	Logger       *slog.Logger
	// Registry receives the API's metrics and is served at /metrics.
	Registry *prometheus.Registry
	// MetricsToken, when set, is the bearer token /metrics asks for.
	MetricsToken string
	// SeparateMetrics leaves /metrics off this server: cmd serves
	// MetricsHandler on a listener of its own (metrics.addr).
	SeparateMetrics bool
	// Pprof serves Go's profiles under /debug/pprof/ from MetricsHandler
	// (cmd serves it on metrics.addr only).
	Pprof bool
	// RequireIfMatch makes a PATCH, PUT or DELETE of a versioned record
	// without If-Match naming a version a 428 (no blind writes); off, such
	// a write is last-write-wins.
	RequireIfMatch bool
	// Auth configures sign-in: sessions, passwords, OIDC.
	Auth AuthConfig
	// SuggestionOrigins are the web pages' origins whose browsers may call
	// the DaData-compatible lookups of /suggestions ("*": any).
	SuggestionOrigins []string
}

func (c *Config) setDefaults() {
	if c.BodyLimit == 0 {
		c.BodyLimit = 1 << 20
	}
	if c.FormBodyLimit == 0 {
		c.FormBodyLimit = 25 << 20
	}
	if c.ImportBodyLimit == 0 {
		c.ImportBodyLimit = 25 << 20
	}
	if c.AttachmentMaxSize <= 0 {
		c.AttachmentMaxSize = core.DefaultAttachmentMaxSize
	}
	if c.ImportMaxRows <= 0 {
		c.ImportMaxRows = 1_000_000
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.AccessLogger == nil {
		c.AccessLogger = c.Logger
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	c.Auth.setDefaults()
}

// Deps are the core services the API calls, wired by cmd.
type Deps struct {
	Leads       core.LeadService
	Accounts    core.AccountService
	Contacts    core.ContactService
	Users       core.UserService
	Pipelines   core.PipelineService
	Deals       core.DealService
	Activities  core.ActivityService
	Calendars   core.CalendarFeeds
	Converter   core.LeadConverter
	History     core.HistoryService
	Funnels     core.FunnelService
	Search      core.SearchService
	Duplicates  core.DuplicateFinder
	Merger      core.Merger
	APIKeys     core.APIKeyService
	Idempotency core.Idempotency
	// Auth signs users in and resolves their access; LoginThrottle slows
	// password guessing; Audit records who did what; Roles, Teams and
	// Shares serve access control's own API.
	Auth          core.AuthService
	LoginThrottle *core.LoginThrottle
	Audit         core.AuditLog
	Roles         core.RoleService
	Teams         core.TeamService
	Shares        core.ShareService
	// CustomFields keeps the custom fields' definitions.
	CustomFields core.CustomFieldService
	// OIDC, when set, verifies an identity provider's token and returns
	// the value of its user claim (Config.Auth.OIDCClaim).
	OIDC func(ctx context.Context, token string) (string, error)
	// Ready reports whether the hub can serve: database reachable and
	// migrations current.
	Ready func(ctx context.Context) error
	// Webhooks are the connectors' endpoints under /hooks (optional).
	Webhooks []core.Webhook
	// Forms is the website forms endpoint at /forms/{slug} (optional);
	// WebForms and Attachments serve the admin API of forms and files.
	Forms    core.Webhook
	WebForms core.WebFormService
	// Bitrix24 answers Bitrix24's inbound webhook URL,
	// /rest/{user}/{token}/{method}, for sites whose Bitrix24 integration
	// is pointed at the hub (optional).
	Bitrix24    core.Webhook
	ConfigForms func() []core.WebForm
	Attachments core.AttachmentService
	// Notes keeps the notes of records, Notifications what their mentions
	// tell users (optional: nil serves no notes).
	Notes         core.NoteService
	Notifications core.NotificationService
	// Timeline serves {path}/{id}/timeline, a record's card's stream
	// (optional: nil serves none).
	Timeline core.TimelineService
	// The catalog (optional).
	Products      core.ProductService
	Services      core.ServiceCatalog
	ProductGroups core.ProductGroupService
	PriceBooks    core.PriceBookService
	// Sales documents (optional).
	Quotes   core.QuoteService
	Invoices core.InvoiceService
	Payments core.PaymentService
	// Printer renders documents' print forms (GET …/{id}/pdf).
	Printer *printform.Printer
	// Organization is our requisites (GET /api/v1/organization).
	Organization *core.Organization
	// Rates are the Bank of Russia's daily rates (GET /api/v1/currency-rates).
	Rates core.CurrencyRates
	// Banks is the BIK directory that bank lookups answer from, Addresses
	// the address register (both optional).
	Banks          core.BankDirectory
	Addresses      core.AddressDirectory
	SalesOrders    core.SalesOrderService
	PurchaseOrders core.PurchaseOrderService
	Acts           core.ActService
	Realizations   core.RealizationService
	// Emails keeps documents' e-mails, EmailTemplates their templates;
	// Mailer sends them (nil when SMTP is not configured: sending is a 503).
	Emails         core.EmailService
	EmailTemplates core.EmailTemplateService
	Mailer         core.DocumentMailer
	// OneC is the 1C exchange endpoint served at OneCPath (optional);
	// OneCJob returns one of its import jobs, OneCJobs the newest (the
	// exchange log).
	OneC      core.Webhook
	OneCPath  string
	OneCLimit int
	OneCJob   func(ctx context.Context, id string) (any, error)
	OneCJobs  func(ctx context.Context, limit int) (any, error)
	// Reports keeps report definitions and runs them; ReportLocation is
	// the time zone their files print times in.
	Reports        core.ReportService
	ReportLocation *time.Location
	// ReportSchedules keeps the schedules; ReportRunner runs one now.
	ReportSchedules core.ReportScheduleService
	ReportRunner    interface {
		RunNow(ctx context.Context, scheduleID string) (*core.ReportRunRecord, error)
	}
	// Imports keeps Excel import jobs; ImportQueued wakes their runner.
	Imports      core.ImportService
	ImportQueued func()
	// MailScanner is the running mail scanner and Mailboxes the mailboxes
	// managed through the admin API (both optional).
	MailScanner core.MailScanner
	Mailboxes   core.MailboxStore
	// Calls serves the calls list; Dialers click-to-call (optional).
	Calls   core.CallService
	Dialers []core.Dialer
}

// complete reports whether every required dependency is set.
func (d Deps) complete() bool {
	required := []any{d.Leads, d.Accounts, d.Contacts, d.Users, d.Pipelines, d.Deals, d.Activities, d.Calendars,
		d.Converter, d.History, d.Funnels, d.Search, d.Duplicates, d.Merger, d.APIKeys, d.Idempotency, d.Ready,
		d.Auth, d.LoginThrottle, d.Audit}
	for _, v := range required {
		if v == nil || reflect.ValueOf(v).IsZero() {
			return false
		}
	}
	return true
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	app     *fiber.App
	metrics *httpMetrics
	doc     docOnce   // the embedded OpenAPI document, read when GET /fields first needs it
	custom  customDoc // the document with this instance's custom fields
}

// New builds the server and its routes.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg.setDefaults()
	if !deps.complete() {
		return nil, errors.New("api: every dependency is required")
	}
	s := &Server{cfg: cfg, deps: deps, log: cfg.Logger}
	var err error
	if s.metrics, err = newHTTPMetrics(cfg.Registry); err != nil {
		return nil, err
	}
	s.app = fiber.New(fiber.Config{
		AppName: "crmhub",
		// Bodies stream in: readBody (withRequest) reads each within its
		// path's limit, and leaves an upload's to its handler, which streams
		// it to the store file by file. BodyLimit is then only the length up
		// to which a declared body is read ahead.
		BodyLimit:                    max(4*cfg.BodyLimit, cfg.FormBodyLimit+cfg.FormBodyLimit/4, cfg.ImportBodyLimit+cfg.ImportBodyLimit/4),
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  cfg.ReadTimeout,
		WriteTimeout:                 cfg.WriteTimeout,
		IdleTimeout:                  cfg.IdleTimeout,
		DisableStartupMessage:        true,
		ErrorHandler:                 s.errorHandler,
		StrictRouting:                false,
		CaseSensitive:                true,
	})
	s.routes()
	return s, nil
}

// App returns the Fiber app (for in-process tests).
func (s *Server) App() *fiber.App { return s.app }

// Serve serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting connections and waits for in-flight requests,
// up to ctx's deadline.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }
