// Package webforms turns website form submissions into leads, contacts or
// deals: POST /forms/{slug} with a urlencoded, multipart or JSON body, the
// webhook posts of Tilda, Contact Form 7 and Bitrix24 and vtiger's own
// webform capture (/modules/Webforms/capture.php) included; and Bitrix24's
// inbound REST webhook (crm.lead.add at /rest/{user}/{token}/…), so that a
// site's Bitrix24 integration is pointed at the hub by its URL alone.
//
// A submission is checked (origin, API key, rate limit, honeypot, fill
// time, captcha, sizes), mapped onto CRM fields, validated with the API's
// rules and captured in one transaction with its key, so a site builder's
// retry changes nothing. The visitor gets the real outcome: field errors
// to correct, or success. Should the capture itself fail (the database
// restarting), the raw submission goes to the inbox and is captured
// there, retried and visible: an accepted submission is never lost.
package webforms

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
)

// Source is the inbox source of submissions captured later.
const Source = "webform"

// Config configures the forms endpoint.
type Config struct {
	// Forms defined in the config file (read-only through the API).
	Forms     []core.WebForm
	Limits    Limits
	RateLimit RateLimit
	// Captcha verifies tokens of forms with captcha on (nil: such forms
	// refuse every submission, as their guard is missing).
	Captcha *Captcha
	// Bitrix24REST are the inbound webhooks of Bitrix24's REST shape the
	// hub answers (crm.lead.add at /rest/{user}/{token}/…).
	Bitrix24REST []Bitrix24Hook
	Registry     prometheus.Registerer
	Now          func() time.Time
	Logger       *slog.Logger
}

func (c *Config) setDefaults() {
	c.Limits.setDefaults()
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// maxFilesLimit bounds Limits.MaxFiles.
const maxFilesLimit = 100

// Validate checks the limits, the rate limit, the captcha and the
// Bitrix24 hooks as an operator gave them, before New fills defaults. Its
// message names the key it is about relative to the forms' settings
// (max_file_size, captcha.verify_url, bitrix24_rest[0].token), for the
// caller to prefix with where they are; the forms themselves, and that a
// hook's form of the config can take its leads, are checked by New. That a file fits in a whole post
// (max_body, which the API enforces) is the caller's to check.
func (c Config) Validate() error {
	l := c.Limits
	switch {
	case l.MaxFileSize < 1 || l.MaxTotalFiles < l.MaxFileSize:
		return errors.New("max_file_size: must be positive and at most max_total_files and max_body")
	case l.MaxFiles < 0 || l.MaxFiles > maxFilesLimit:
		return fmt.Errorf("max_files: must be 0 to 100, got %d", l.MaxFiles)
	case c.RateLimit.PerMinute < 0 || c.RateLimit.Burst < 0:
		return errors.New("rate_limit: per_minute and burst must not be negative")
	}
	if err := validateHooks(c.Bitrix24REST); err != nil {
		return err
	}
	if c.Captcha == nil {
		return nil
	}
	if c.Captcha.VerifyURL == "" {
		return errors.New("captcha.verify_url: is required with a captcha secret")
	}
	if p, err := url.Parse(c.Captcha.VerifyURL); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return errors.New("captcha.verify_url: must be an http(s) URL such as https://smartcaptcha.yandexcloud.net/validate")
	}
	return nil
}

// Handler serves the forms; it implements core.Webhook for the API to
// mount at /forms.
type Handler struct {
	cfg     Config
	forms   map[string]*core.WebForm // from config, by slug
	public  map[string]*core.WebForm // from config, by vtiger public id
	svc     core.WebFormService
	inbox   *inbox.Inbox
	limiter *ipLimiter
	counted *prometheus.CounterVec
}

// New returns the handler. Config forms are checked here: a bad one stops
// the hub from starting.
func New(cfg Config, svc core.WebFormService, in *inbox.Inbox) (*Handler, error) {
	cfg.setDefaults()
	h := &Handler{cfg: cfg, forms: map[string]*core.WebForm{}, public: map[string]*core.WebForm{}, svc: svc, inbox: in,
		limiter: newIPLimiter(cfg.RateLimit)}
	for i := range cfg.Forms {
		f := cfg.Forms[i]
		f.Normalize()
		f.Managed = "config"
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("webforms.forms[%d] (%s): %w", i, f.Slug, err)
		}
		if _, dup := h.forms[f.Slug]; dup {
			return nil, fmt.Errorf("webforms.forms[%d]: slug %q is defined twice", i, f.Slug)
		}
		h.forms[f.Slug] = &f
		if f.PublicID != "" {
			h.public[f.PublicID] = &f
		}
	}
	if err := h.checkHookForms(); err != nil {
		return nil, err
	}
	h.counted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhub_webform_submissions_total",
		Help: "Form submissions by form and outcome (created, attached, repeat, queued, invalid, spam, rate_limited, " +
			"captcha_failed, unauthorized, rejected, test, event)."}, []string{"form", "outcome"})
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(h.counted); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Path implements core.Webhook (the API mounts forms at /forms).
func (h *Handler) Path() string { return "forms" }

// ConfigForms returns the forms defined in the config file.
func (h *Handler) ConfigForms() []core.WebForm {
	out := make([]core.WebForm, 0, len(h.forms))
	for _, f := range h.forms {
		out = append(out, *f)
	}
	return out
}

// lookup finds a form by slug (config first, then the admin API's).
func (h *Handler) lookup(ctx context.Context, slug string) (*core.WebForm, error) {
	if f, ok := h.forms[slug]; ok {
		return f, nil
	}
	if len(slug) > 64 {
		return nil, core.Errorf(core.ENOTFOUND, "web form not found")
	}
	return h.svc.WebForm(ctx, slug)
}

func (h *Handler) lookupPublic(ctx context.Context, publicID string) (*core.WebForm, error) {
	if f, ok := h.public[publicID]; ok {
		return f, nil
	}
	return h.svc.WebFormByPublicID(ctx, publicID)
}

func (h *Handler) count(form, outcome string) { h.counted.WithLabelValues(form, outcome).Inc() }

// outcome is how a submission ended, for the reply.
type outcome struct {
	status int
	msg    string            // for errors: machines (JSON, a redirect's ?error=) read it
	ru     string            // the error for the visitor, on the HTML page
	fields []core.FieldError // for 422
	result *core.FormResult
	retry  time.Duration // Retry-After for 429 and 503
	test   bool          // Tilda's connection test
}

func fail(status int, msg, ru string) outcome { return outcome{status: status, msg: msg, ru: ru} }

// Handle implements core.Webhook.
func (h *Handler) Handle(ctx context.Context, r core.WebhookRequest) core.WebhookResponse {
	slug := strings.Trim(r.SubPath, "/")
	id := core.CorrelationIDFromContext(ctx) // the request's id, which its pages show
	var def *core.WebForm
	var err error
	var parsed *form
	if slug == "" || slug == "capture.php" { // vtiger's webform capture: the form by its public id
		parsed, err = parseBody(r.Header.Get("Content-Type"), r.Body, h.cfg.Limits)
		if err == nil {
			def, err = h.lookupPublic(ctx, parsed.get("publicid"))
		}
		if def == nil && err == nil {
			err = core.Errorf(core.ENOTFOUND, "web form not found")
		}
	} else {
		def, err = h.lookup(ctx, slug)
	}
	if err == nil && def.Disabled {
		err = core.Errorf(core.ENOTFOUND, "web form not found")
	}
	if err != nil {
		vt := &core.WebForm{Format: core.FormatVtiger}
		if slug != "" && slug != "capture.php" {
			vt.Format = core.FormatAuto
		}
		switch core.ErrorCode(err) {
		case core.ENOTFOUND:
			return h.reply(vt, r, fail(404, "Webform not found.", ruNotFound), id)
		case core.EINVALID:
			return h.reply(vt, r, h.bodyError(err), id)
		}
		h.cfg.Logger.Error("webform_lookup", "form", slug, "error", err)
		return h.reply(vt, r, outcome{status: 503, msg: "the form is unavailable; try again", ru: ruUnavailable, retry: 5 * time.Second}, id)
	}
	if r.Method == "OPTIONS" {
		return h.preflight(def, r)
	}
	if r.Method != "POST" {
		resp := h.reply(def, r, fail(405, "POST the form to this address", "Эта страница принимает только отправленную форму."), id)
		resp.Header.Set("Allow", "POST, OPTIONS")
		return resp
	}
	o := h.submit(ctx, def, r, parsed)
	return h.reply(def, r, o, id)
}

func (h *Handler) bodyError(err error) outcome {
	var tl tooLarge
	var us errUnsupported
	switch {
	case errors.As(err, &tl):
		return fail(413, tl.msg, "Заявка слишком большая: приложите меньше файлов или файлы поменьше.")
	case errors.As(err, &us):
		return fail(415, us.Error(), "Форма отправлена в виде, который мы не принимаем.")
	}
	return fail(400, err.Error(), "Не удалось прочитать заявку. Обновите страницу и отправьте форму ещё раз.")
}

// submit runs a submission through the guards and captures it.
func (h *Handler) submit(ctx context.Context, def *core.WebForm, r core.WebhookRequest, f *form) outcome {
	if origin := r.Header.Get("Origin"); origin != "" && len(def.AllowedOrigins) > 0 && !originAllowed(def, origin) {
		h.count(def.Slug, "rejected")
		return fail(403, "this site may not post the form", "С этого сайта нельзя отправить эту форму.")
	}
	var err error
	if f == nil {
		if f, err = parseBody(r.Header.Get("Content-Type"), r.Body, h.cfg.Limits); err != nil {
			h.count(def.Slug, "invalid")
			return h.bodyError(err)
		}
	}
	if len(f.inputs) == 1 && f.get("test") == "test" { // Tilda checks the webhook this way
		h.count(def.Slug, "test")
		return outcome{status: 200, test: true}
	}
	authenticated := false
	if def.APIKey != "" {
		got := r.Header.Get(def.APIKeyName)
		if got == "" {
			got = f.get(def.APIKeyName)
		}
		if def.Format == core.FormatBitrix24 && got == "" {
			got = f.get("auth[application_token]")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(def.APIKey)) != 1 {
			h.count(def.Slug, "unauthorized")
			return fail(401, "a valid API key is required", ruUnauthorized)
		}
		authenticated = true
	}
	if def.Format == core.FormatBitrix24 && f.has("event") {
		// Bitrix24's outgoing event (ONCRMLEADADD…) names a record in the
		// portal, without its data: acknowledged, logged.
		if !authenticated {
			h.count(def.Slug, "unauthorized")
			return fail(401, "the event's application_token is not this form's api_key", ruUnauthorized)
		}
		h.count(def.Slug, "event")
		h.cfg.Logger.Info("webform_bitrix24_event", "form", def.Slug, "event", f.get("event"), "id", f.get("data[FIELDS][ID]"))
		return outcome{status: 200}
	}
	ip := r.RemoteIP
	if !authenticated { // server-to-server posts of a site builder share one address
		if ok, wait := h.limiter.allow(ip, h.cfg.Now()); !ok {
			h.count(def.Slug, "rate_limited")
			return outcome{status: 429, msg: "too many submissions; try again later", ru: ruRateLimited, retry: wait}
		}
	}
	if def.Honeypot != "" && strings.TrimSpace(f.get(def.Honeypot)) != "" {
		h.count(def.Slug, "spam")
		h.cfg.Logger.Info("webform_spam", "form", def.Slug, "reason", "honeypot", "ip", ip)
		return outcome{status: 200} // a bot must not learn it was caught
	}
	if def.MinFillSeconds > 0 {
		ts, err := strconv.ParseInt(strings.TrimSpace(f.get(def.TimingField)), 10, 64)
		if err != nil || h.cfg.Now().Sub(time.Unix(ts, 0)) < time.Duration(def.MinFillSeconds)*time.Second {
			h.count(def.Slug, "spam")
			h.cfg.Logger.Info("webform_spam", "form", def.Slug, "reason", "too_fast", "ip", ip)
			return outcome{status: 200}
		}
	}
	if def.Captcha {
		if h.cfg.Captcha == nil {
			h.count(def.Slug, "captcha_failed")
			return fail(403, "the captcha could not be verified", ruCaptchaMissing)
		}
		ok, err := h.cfg.Captcha.verify(ctx, h.cfg.Captcha.token(f), ip)
		if err != nil {
			h.cfg.Logger.Warn("webform_captcha", "form", def.Slug, "error", err)
			return outcome{status: 503, msg: errCaptchaUnavailable.Error(), ru: ruCaptchaUnavailable, retry: 5 * time.Second}
		}
		if !ok {
			h.count(def.Slug, "captcha_failed")
			return fail(403, "the captcha was not solved", "Подтвердите, что вы не робот, и отправьте форму ещё раз.")
		}
	}
	return h.take(ctx, def, f, r)
}

// take captures a submission its guards let through, once: a retry is a
// repeat of the first capture. A capture that fails for now (the
// database restarting) is kept in the inbox, r's body with it, and
// captured from there.
func (h *Handler) take(ctx context.Context, def *core.WebForm, f *form, r core.WebhookRequest) outcome {
	key := submissionKey(def, f, r)
	env := envelope{Form: def.Slug, ContentType: r.Header.Get("Content-Type"), Body: r.Body, RemoteIP: r.RemoteIP,
		Referer: r.Header.Get("Referer"), Key: key}
	res, err := h.capture(ctx, def, f, env)
	switch code := core.ErrorCode(err); {
	case err == nil:
		h.count(def.Slug, resultOutcome(res))
		return outcome{status: 200, result: res}
	case code == core.EINVALID:
		h.count(def.Slug, "invalid")
		var ce *core.Error
		errors.As(err, &ce)
		return outcome{status: 422, msg: ce.Message, ru: "Проверьте поля формы.", fields: ce.Fields}
	default:
		h.cfg.Logger.Warn("webform_capture_deferred", "form", def.Slug, "error", err)
		return h.defer_(ctx, def, env)
	}
}

func resultOutcome(res *core.FormResult) string {
	switch {
	case res.Repeat:
		return "repeat"
	case res.Created:
		return "created"
	}
	return "attached"
}

// defer_ stores a submission that could not be captured now in the
// inbox, to be captured by a worker.
func (h *Handler) defer_(ctx context.Context, def *core.WebForm, env envelope) outcome {
	body, err := json.Marshal(env)
	if err == nil {
		_, _, err = h.inbox.Receive(ctx, inbox.Delivery{Source: Source, DedupeKey: def.Slug + ":" + env.Key,
			Kind: "submission", ContentType: "application/json", Body: body})
	}
	if err != nil {
		h.cfg.Logger.Error("webform_store", "form", def.Slug, "error", err)
		return outcome{status: 503, msg: "the submission could not be stored; try again", ru: ruUnavailable, retry: 5 * time.Second}
	}
	h.count(def.Slug, "queued")
	return outcome{status: 200}
}

// envelope is a submission kept for a later capture: the raw body and
// what the request said about it.
type envelope struct {
	Form        string `json:"form"`
	Key         string `json:"key"`
	ContentType string `json:"content_type"`
	Body        []byte `json:"body"`
	RemoteIP    string `json:"remote_ip"`
	Referer     string `json:"referer"`
}

// capture maps a parsed submission and writes it.
func (h *Handler) capture(ctx context.Context, def *core.WebForm, f *form, env envelope) (*core.FormResult, error) {
	var defs []core.CustomField
	if def.UsesCustomFields() {
		var err error
		if defs, err = h.svc.FormCustomFields(ctx, def.Target); err != nil {
			return nil, fmt.Errorf("custom fields of %s: %w", def.Target, err)
		}
	}
	b := build(def, f, meta{RemoteIP: env.RemoteIP, Referer: env.Referer})
	sub, err := submission(def, b, env.Key, f.files, env.RemoteIP, defs)
	if err != nil {
		return nil, err
	}
	ctx = core.NewContextWithActor(ctx, core.Actor{ID: "webform:" + def.Slug, Source: "webform:" + def.Slug})
	return h.svc.CaptureForm(ctx, sub)
}

// Process is the inbox handler of deferred submissions.
func (h *Handler) Process(ctx context.Context, d inbox.Delivery) error {
	var env envelope
	if err := json.Unmarshal(d.Body, &env); err != nil {
		return inbox.Permanent(fmt.Errorf("not a stored submission: %w", err))
	}
	def, err := h.lookup(ctx, env.Form)
	if err != nil {
		if core.ErrorCode(err) == core.ENOTFOUND {
			return inbox.Permanent(err)
		}
		return err
	}
	f, err := parseBody(env.ContentType, env.Body, h.cfg.Limits)
	if err != nil {
		return inbox.Permanent(err)
	}
	ctx = core.NewContextWithCorrelationID(ctx, fmt.Sprintf("inbox:%d", d.ID))
	res, err := h.capture(ctx, def, f, env)
	if code := core.ErrorCode(err); code == core.EINVALID {
		return inbox.Permanent(err)
	}
	if err == nil {
		h.count(def.Slug, resultOutcome(res))
	}
	return err
}

// submissionKey identifies a submission: Tilda's tranid, the client's
// Idempotency-Key, else the body's hash (a double click sends the same
// body twice).
func submissionKey(def *core.WebForm, f *form, r core.WebhookRequest) string {
	if t := strings.TrimSpace(f.get("tranid")); t != "" && len(t) <= 200 {
		return "tranid:" + t
	}
	if k := strings.TrimSpace(r.Header.Get("Idempotency-Key")); k != "" && len(k) <= 200 {
		return "key:" + k
	}
	sum := sha256.Sum256(r.Body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func originAllowed(def *core.WebForm, origin string) bool {
	for _, o := range def.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// preflight answers a browser's CORS preflight.
func (h *Handler) preflight(def *core.WebForm, r core.WebhookRequest) core.WebhookResponse {
	origin := r.Header.Get("Origin")
	resp := core.WebhookResponse{Status: 204, Header: http.Header{}}
	if origin == "" || !originAllowed(def, origin) {
		resp.Status = 403
		return resp
	}
	resp.Header.Set("Access-Control-Allow-Origin", origin)
	resp.Header.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	resp.Header.Set("Access-Control-Allow-Headers", "Content-Type, Idempotency-Key, X-Requested-With, "+def.APIKeyName)
	resp.Header.Set("Access-Control-Max-Age", "600")
	resp.Header.Set("Vary", "Origin")
	return resp
}
