// Package onec is the 1C:Enterprise exchange endpoint: crmhub answers the
// "обмен с сайтом" HTTP protocol (mode=checkauth, init, then file and
// import to upload, query and success to download orders) so that 1C can be
// pointed at it with no adapter. type=catalog uploads goods, prices and
// stock (applied to the catalog through the store, each change with its
// event); the answers are plain lines whose first is success, progress or
// failure.
package onec

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/crmhub/crmhub/core"
)

// Config configures the exchange.
type Config struct {
	// User and Password are the default profile's credentials
	// (CRMHUB_ONEC_USER, CRMHUB_ONEC_PASSWORD): the endpoint is enabled
	// when they are set.
	User, Password string
	// WorkDir holds each session's uploaded files.
	WorkDir string
	// FileLimit is the largest chunk 1C may send (file_limit). Default 8 MiB.
	FileLimit int64
	// MaxUpload bounds all files of a session. Default 2 GiB.
	MaxUpload int64
	// SessionTTL ends a session after so long without a request from 1C:
	// its folder is removed (after any import of it still running), as it
	// is when 1C says mode=complete. Default 2 hours.
	SessionTTL time.Duration
	// SweepEvery is how often Run looks for idle sessions. Default 5
	// minutes.
	SweepEvery time.Duration
	// Throttle slows password guessing at checkauth (per user name and
	// per client address); nil: one in this process with the defaults.
	Throttle *core.LoginThrottle
	// OnLoginRefused, when set, is told each refused checkauth's reason:
	// wrong_password or throttled (for a metric).
	OnLoginRefused func(reason string)
	// Now is the clock; default time.Now.
	Now func() time.Time
	// CRMFields are product fields the CRM owns: 1C never overwrites them.
	CRMFields []string
	// Requisites maps goods' and counterparties' requisites and
	// properties onto custom fields of products and accounts, both ways
	// (onec.requisites_map); the deps' Fields must be set when it maps
	// anything.
	Requisites RequisitesMap
	// SaleEncoding is the orders document's encoding: windows-1251
	// (default, what 1C reads best) or UTF-8.
	SaleEncoding string
	// Documents are the kinds sent to 1C on mode=query: sales_orders
	// (default) and/or invoices.
	Documents []string
	// Zip lets 1C send one zip archive (zip=yes); it is unpacked on the
	// first import call, within MaxUnzipped bytes, MaxFiles files and a
	// compression ratio of at most MaxRatio. Defaults 2 GiB, 100,000, 200.
	Zip         bool
	MaxUnzipped int64
	MaxFiles    int
	MaxRatio    int64
	// ImportWait is how long an import request waits for its job before
	// answering progress. Default 2 s.
	ImportWait time.Duration
	// Jobs, when set, keeps the import jobs (the exchange log) beyond a
	// restart; without it they live in memory.
	Jobs   JobLog
	Logger *slog.Logger
}

const cookieName = "CRMHUB_1C"

func (c *Config) setDefaults() {
	if c.FileLimit <= 0 {
		c.FileLimit = 8 << 20
	}
	if c.MaxUpload <= 0 {
		c.MaxUpload = 2 << 30
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 2 * time.Hour
	}
	if c.SweepEvery <= 0 {
		c.SweepEvery = 5 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SaleEncoding == "" {
		c.SaleEncoding = "windows-1251"
	}
	if len(c.Documents) == 0 {
		c.Documents = []string{DocSalesOrders}
	}
	if c.MaxUnzipped <= 0 {
		c.MaxUnzipped = 2 << 30
	}
	if c.MaxFiles <= 0 {
		c.MaxFiles = 100_000
	}
	if c.MaxRatio <= 0 {
		c.MaxRatio = 200
	}
	if c.ImportWait == 0 {
		c.ImportWait = 2 * time.Second
	}
}

// Bounds Validate keeps the settings within.
const (
	minFileLimit  = 1 << 20
	maxFileLimit  = 24 << 20
	minSessionTTL = time.Minute
	maxSessionTTL = 7 * 24 * time.Hour
)

// Validate checks the settings an operator gives (file_limit,
// session_ttl, documents) as given, before New fills defaults; its
// message names the key relative to the exchange's settings, for the
// caller to prefix with where they are. New itself refuses only what it
// cannot run without.
func (c Config) Validate() error {
	switch {
	case c.FileLimit < minFileLimit || c.FileLimit > maxFileLimit:
		return errors.New("file_limit: must be 1 MiB to 24 MiB")
	case c.SessionTTL < minSessionTTL || c.SessionTTL > maxSessionTTL:
		return fmt.Errorf("session_ttl: must be between 1m and 168h, got %s", c.SessionTTL)
	case len(c.Documents) == 0:
		return errors.New("documents: must name sales_orders and/or invoices")
	}
	if err := validDocuments(c.Documents); err != nil {
		return err
	}
	return c.Requisites.Validate()
}

// validDocuments checks the kinds of documents sent to 1C.
func validDocuments(docs []string) error {
	for _, d := range docs {
		if _, ok := docEntity[d]; !ok {
			return fmt.Errorf("documents: %q is not sales_orders or invoices", d)
		}
	}
	return nil
}

// Exchange is the endpoint; it implements core.Webhook.
type Exchange struct {
	cfg      Config
	catalog  *Catalog
	sale     SaleDeps
	saleReq  *requisites // the counterparties' and the lines' mapped requisites
	throttle *core.LoginThrottle
	mu       sync.Mutex
	session  map[string]*session // the live sessions
	ending   map[string]*session // ended, their folders kept until their imports end
	jobs     *jobs
}

// New returns the exchange over the catalog services and, when
// sale.SalesOrders is set, the orders.
func New(cfg Config, cat CatalogDeps, sale SaleDeps) (*Exchange, error) {
	if cfg.User == "" || cfg.Password == "" {
		return nil, fmt.Errorf("onec: user and password are required")
	}
	if cfg.WorkDir == "" {
		return nil, fmt.Errorf("onec: a work folder is required")
	}
	cfg.setDefaults()
	if err := validDocuments(cfg.Documents); err != nil {
		return nil, fmt.Errorf("onec: %w", err)
	}
	if slices.Contains(cfg.Documents, DocInvoices) && sale.SalesOrders != nil && sale.Invoices == nil {
		return nil, fmt.Errorf("onec: documents: invoices without the invoice service")
	}
	if cfg.Throttle == nil {
		t, err := core.NewLoginThrottle(core.ThrottleConfig{Scope: "onec", Now: cfg.Now}, nil)
		if err != nil {
			return nil, err
		}
		cfg.Throttle = t
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o700); err != nil {
		return nil, err
	}
	catalog, err := NewCatalog(cat, cfg)
	if err != nil {
		return nil, err
	}
	var saleReq *requisites
	if sale.SalesOrders != nil {
		if saleReq, err = newRequisites(cfg.Requisites, sale.Fields, cfg.Logger); err != nil {
			return nil, fmt.Errorf("onec: %w", err)
		}
	}
	x := &Exchange{cfg: cfg, catalog: catalog, sale: sale, saleReq: saleReq,
		throttle: cfg.Throttle, session: map[string]*session{}, ending: map[string]*session{}, jobs: newJobs(cfg.Jobs, cfg.Logger)}
	x.jobs.onDone = x.importEnded
	return x, nil
}

// Path is where the exchange is served ("" here: the API mounts it at its
// configured path).
func (x *Exchange) Path() string { return "" }

// reply is a protocol answer: lines, windows-1251 like Bitrix.
func reply(status int, lines ...string) core.WebhookResponse {
	body := strings.Join(lines, "\n")
	enc, err := charmap.Windows1251.NewEncoder().String(body)
	if err != nil {
		enc = body
	}
	return core.WebhookResponse{Status: status, ContentType: "text/plain; charset=windows-1251", Body: []byte(enc)}
}

func failure(format string, args ...any) core.WebhookResponse {
	msg := fmt.Sprintf(format, args...)
	return reply(http.StatusOK, "failure", strings.ReplaceAll(msg, "\n", " "))
}

// Handle implements core.Webhook.
func (x *Exchange) Handle(ctx context.Context, r core.WebhookRequest) core.WebhookResponse {
	typ, mode := r.Query.Get("type"), r.Query.Get("mode")
	if typ != "catalog" && typ != "sale" {
		return failure("unknown type %q: catalog or sale", typ)
	}
	if mode == "checkauth" {
		return x.checkauth(ctx, r, typ)
	}
	s := x.sessionOf(r)
	if s == nil {
		return failure("no session: start with mode=checkauth")
	}
	ctx = core.NewContextWithActor(ctx, core.Actor{ID: "1c:" + x.cfg.User, Source: "onec"})
	switch mode {
	case "init":
		return x.init(s, r)
	case "file":
		return x.file(s, r)
	case "import":
		return x.importFile(ctx, s, r)
	case "deactivate":
		return reply(http.StatusOK, "success", "ok")
	case "complete":
		x.complete(s)
		return reply(http.StatusOK, "success", "ok")
	case "query", "success":
		if typ != "sale" || s.typ != "sale" {
			break
		}
		if x.sale.SalesOrders == nil {
			return failure("the orders exchange is off")
		}
		if mode == "success" {
			if err := x.success(ctx, s); err != nil {
				return failure("cannot record the export: %v", err)
			}
			return reply(http.StatusOK, "success")
		}
		body, err := x.query(ctx, s)
		if err != nil {
			return failure("cannot list the orders: %v", err)
		}
		return core.WebhookResponse{Status: http.StatusOK, ContentType: "application/xml; charset=" + x.cfg.SaleEncoding, Body: body}
	}
	return failure("unknown mode %q", mode)
}

// checkauth checks 1C's Basic credentials, through the login throttle, and
// opens a session.
func (x *Exchange) checkauth(ctx context.Context, r core.WebhookRequest, typ string) core.WebhookResponse {
	user, pass, ok := basicAuth(r.Header.Get("Authorization"))
	if !ok {
		return failure("wrong login or password")
	}
	if resp, ok := x.login(ctx, user, pass, r.RemoteIP); !ok {
		return resp
	}
	x.sweep()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.session[id] = &session{id: id, typ: typ, dir: filepath.Join(x.cfg.WorkDir, id), last: x.cfg.Now()}
	return reply(http.StatusOK, "success", cookieName, id)
}

// login checks a user and password unless the throttle holds the user or
// the address back (429 with Retry-After: even the right password waits);
// a refusal is logged and counted.
func (x *Exchange) login(ctx context.Context, user, pass, ip string) (core.WebhookResponse, bool) {
	a, err := x.throttle.Begin(ctx, user, ip)
	if err != nil {
		x.cfg.Logger.Error("onec_login_throttle", "error", err)
		return reply(http.StatusServiceUnavailable, "failure", "cannot check the login now; retry later"), false
	}
	if a.Wait > 0 {
		secs := int(math.Ceil(a.Wait.Seconds()))
		x.refused("throttled")
		x.cfg.Logger.Debug("onec_login_throttled", "user", clip(user, 100), "ip", ip, "retry_after", secs)
		resp := reply(http.StatusTooManyRequests, "failure", fmt.Sprintf("too many failed logins: retry in %d s", secs))
		resp.Header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
		return resp, false
	}
	if subtle.ConstantTimeCompare([]byte(user), []byte(x.cfg.User)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(x.cfg.Password)) != 1 {
		x.refused("wrong_password")
		x.cfg.Logger.Warn("onec_login_failed", "user", clip(user, 100), "ip", ip, "failures", a.Failures,
			"next_wait", a.Penalty.String())
		return failure("wrong login or password"), false
	}
	if err := a.Succeeded(ctx); err != nil {
		x.cfg.Logger.Error("onec_login_throttle", "error", err) // the password was right: let it in
	}
	return core.WebhookResponse{}, true
}

func (x *Exchange) refused(reason string) {
	if x.cfg.OnLoginRefused != nil {
		x.cfg.OnLoginRefused(reason)
	}
}

func basicAuth(h string) (string, string, bool) {
	const prefix = "Basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	u, p, ok := strings.Cut(string(b), ":")
	return u, p, ok
}

func (x *Exchange) init(s *session, r core.WebhookRequest) core.WebhookResponse {
	// A fresh work folder: chunks are appended, stale files must not be.
	if err := os.RemoveAll(s.dir); err != nil {
		return failure("cannot clean the work folder: %v", err)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return failure("cannot make the work folder: %v", err)
	}
	s.uploaded = 0
	s.version = r.Query.Get("version")
	x.jobs.forget(s.id + "/")
	zip := "zip=no"
	if x.cfg.Zip {
		zip = "zip=yes"
	}
	lines := []string{zip, fmt.Sprintf("file_limit=%d", x.cfg.FileLimit)}
	if v := r.Query.Get("version"); v != "" {
		lines = append(lines, "version="+v)
	}
	return reply(http.StatusOK, lines...)
}

// cleanName makes an uploaded file's name a safe path inside the work
// folder: backslashes as slashes, 1C's absolute prefixes dropped, no "..".
func cleanName(name string) (string, error) {
	n := strings.ReplaceAll(strings.TrimSpace(name), "\\", "/")
	for _, prefix := range []string{"/tmp/", "upload/1c/webdata/", "/upload/1c/webdata/"} {
		n = strings.TrimPrefix(n, prefix)
	}
	n = strings.TrimLeft(n, "/")
	if n == "" || len(n) > 255 {
		return "", fmt.Errorf("bad file name %q", name)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." || part == "" || strings.ContainsRune(part, 0) {
			return "", fmt.Errorf("file name %q leaves the work folder", name)
		}
	}
	return path.Clean(n), nil
}

func (x *Exchange) file(s *session, r core.WebhookRequest) core.WebhookResponse {
	name, err := cleanName(r.Query.Get("filename"))
	if err != nil {
		return failure("%v", err)
	}
	if int64(len(r.Body)) > x.cfg.FileLimit {
		return failure("the chunk is %d bytes, over file_limit %d", len(r.Body), x.cfg.FileLimit)
	}
	x.mu.Lock()
	s.uploaded += int64(len(r.Body))
	over := s.uploaded > x.cfg.MaxUpload
	x.mu.Unlock()
	if over {
		return failure("the upload is over %d bytes", x.cfg.MaxUpload)
	}
	full := filepath.Join(s.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		return failure("cannot store %s: %v", name, err)
	}
	f, err := os.OpenFile(full, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return failure("cannot store %s: %v", name, err)
	}
	n, err := f.Write(r.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || n != len(r.Body) {
		return failure("cannot store %s: wrote %d of %d bytes (%v)", name, n, len(r.Body), err)
	}
	if s.typ == "sale" && s.version == "" {
		// Old modules send no import call: the file is processed now.
		return x.importFile(core.NewContextWithActor(context.Background(), core.Actor{ID: "1c:" + x.cfg.User, Source: "onec"}), s, r)
	}
	return reply(http.StatusOK, "success")
}

// importFile applies an uploaded file: the first call starts a job, and
// 1C hears progress until it ends (1C repeats the same request).
func (x *Exchange) importFile(ctx context.Context, s *session, r core.WebhookRequest) core.WebhookResponse {
	name, err := cleanName(r.Query.Get("filename"))
	if err != nil {
		return failure("%v", err)
	}
	if s.typ == "sale" && x.sale.SalesOrders == nil {
		return failure("the orders exchange is off")
	}
	// An uploaded archive is unpacked first (one progress answer, as
	// Bitrix does); 1C repeats the request and the import begins.
	if n, err := x.unpack(s); err != nil {
		return failure("%v", err)
	} else if n > 0 {
		return reply(http.StatusOK, "progress", fmt.Sprintf("unpacked %d files", n))
	}
	full := filepath.Join(s.dir, filepath.FromSlash(name))
	if _, err := os.Stat(full); err != nil {
		return failure("no uploaded file %s", name)
	}
	j := x.jobs.start(s.id+"/"+name, name, func(ctx context.Context, j *Job) error {
		f, err := os.Open(full)
		if err != nil {
			return err
		}
		defer f.Close()
		if s.typ == "sale" {
			return x.applyOrders(ctx, f, j)
		}
		return x.catalog.Apply(ctx, f, j)
	}, context.WithoutCancel(ctx))
	// Wait a little: small files answer success at once.
	if x.cfg.ImportWait > 0 {
		select {
		case <-j.done:
		case <-time.After(x.cfg.ImportWait):
		}
	}
	st := j.snapshot()
	switch st.Status {
	case "running":
		return reply(http.StatusOK, "progress", fmt.Sprintf("%s: %d processed", name, st.Processed))
	case "failed":
		return failure("%s: %s", name, st.Error)
	}
	return reply(http.StatusOK, "success", fmt.Sprintf("%s: created %d, updated %d, deactivated %d, skipped %d, errors %d (job %s)",
		name, st.Created, st.Updated, st.Deactivated, st.Skipped, len(st.Errors), st.ID))
}

// Job returns an import job's summary. Errors: ENOTFOUND.
func (x *Exchange) Job(ctx context.Context, id string) (*JobStatus, error) {
	return x.jobs.get(ctx, id)
}

// Jobs returns the exchange log: the newest import jobs, at most limit.
func (x *Exchange) Jobs(ctx context.Context, limit int) ([]JobStatus, error) {
	return x.jobs.list(ctx, limit)
}
