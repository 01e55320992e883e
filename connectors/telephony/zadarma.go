package telephony

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
)

const zadarmaSource = "telephony:zadarma"

// Zadarma receives Zadarma's (and Novofon's legacy) PBX notifications at
// /hooks/telephony/zadarma: urlencoded NOTIFY_* posts signed in the
// Signature header, and the zd_echo check when the URL is saved.
type Zadarma struct {
	processor
	cfg    Config
	loc    *time.Location
	intake intake
	claims CallClaims
}

// NewZadarma returns the Zadarma webhook; call_start times are read in loc
// (the account's time zone: Zadarma sends them without an offset). Its
// signature leaves most fields out, so a notification is also checked
// against what it signs and what the hub knows (see consistent).
func NewZadarma(cfg Config, loc *time.Location, in *inbox.Inbox, calls core.CallService) (*Zadarma, error) {
	if cfg.Secret == "" {
		return nil, errors.New("telephony zadarma: a secret is required")
	}
	if loc == nil {
		return nil, errors.New("telephony zadarma: a time zone is required")
	}
	cfg.setDefaults()
	z := &Zadarma{cfg: cfg, loc: loc, intake: intake{inbox: in, log: cfg.Logger}, claims: NewCallClaimsInMemory()}
	if cfg.Claims != nil {
		z.claims = newCachedClaims(cfg.Claims)
	}
	z.processor = processor{calls: calls, policy: cfg.Policy, report: z.reportOf}
	return z, nil
}

// Bounds of a Zadarma notification's MaxAge.
const (
	zadarmaMinAge = 10 * time.Minute
	zadarmaMaxAge = 30 * 24 * time.Hour
)

// ValidateZadarma checks Zadarma's settings as Config.Validate does, and,
// when the provider is on (its secret is set), that MaxAge is between 10m
// and 720h.
func ValidateZadarma(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Secret != "" && (cfg.MaxAge < zadarmaMinAge || cfg.MaxAge > zadarmaMaxAge) {
		return fmt.Errorf("max_age: must be between 10m and 720h, got %s", cfg.MaxAge)
	}
	return nil
}

// Path implements core.Webhook.
func (z *Zadarma) Path() string { return "telephony/zadarma" }

// Source is the inbox source its deliveries are stored under.
func (z *Zadarma) Source() string { return zadarmaSource }

// zadarmaSigned is what a notification's signature covers: the kind of
// its event (events of one kind are signed alike) and the concatenated
// signed fields.
func zadarmaSigned(form url.Values) (kind, s string, ok bool) {
	switch form.Get("event") {
	case "NOTIFY_START", "NOTIFY_INTERNAL", "NOTIFY_END", "NOTIFY_IVR":
		return "in", form.Get("caller_id") + form.Get("called_did") + form.Get("call_start"), true
	case "NOTIFY_ANSWER":
		return "answer", form.Get("caller_id") + form.Get("destination") + form.Get("call_start"), true
	case "NOTIFY_OUT_START", "NOTIFY_OUT_END":
		return "out", form.Get("internal") + form.Get("destination") + form.Get("call_start"), true
	case "NOTIFY_RECORD":
		return "record", form.Get("pbx_call_id") + form.Get("call_id_with_rec"), true
	}
	return "", "", false
}

// ZadarmaSignature is the Signature header of a notification:
// base64(hex(HMAC-SHA1(secret, the event's signed fields))).
func ZadarmaSignature(secret string, form url.Values) (string, bool) {
	_, s, ok := zadarmaSigned(form)
	if !ok {
		return "", false
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(m.Sum(nil)))), true
}

// Handle implements core.Webhook.
func (z *Zadarma) Handle(ctx context.Context, r core.WebhookRequest) core.WebhookResponse {
	if echo := r.Query.Get("zd_echo"); r.Method == "GET" && echo != "" {
		// The URL check, before any authentication, as Zadarma requires.
		return core.WebhookResponse{Status: 200, ContentType: "text/plain", Body: []byte(echo)}
	}
	if r.Method != "POST" || r.SubPath != "" {
		return refuse(405, "POST Zadarma notifications to /hooks/telephony/zadarma")
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return refuse(400, "the body is not a urlencoded form")
	}
	want, known := ZadarmaSignature(z.cfg.Secret, form)
	if !known {
		return reply(200, map[string]string{"status": "ignored"}) // an event crmhub does not use
	}
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(r.Header.Get("Signature")))) {
		return z.refused(r, form, 401, "signature", "invalid signature")
	}
	rep, err := z.report(form)
	if err != nil {
		return z.refused(r, form, 400, "malformed", err.Error())
	}
	if resp, ok := z.consistent(ctx, r, form, rep); !ok {
		return resp
	}
	key := strings.Join([]string{form.Get("event"), rep.CallID, form.Get("internal"), form.Get("destination")}, "|")
	return z.intake.receive(ctx, inbox.Delivery{Source: zadarmaSource, DedupeKey: key, Kind: form.Get("event"),
		ContentType: "application/x-www-form-urlencoded", Body: r.Body})
}

// zadarmaDisposition maps Zadarma's disposition onto the call model's.
func zadarmaDisposition(d string) string {
	switch d {
	case "":
		return ""
	case "answered":
		return core.CallAnswered
	case "busy":
		return core.CallBusy
	case "no answer", "cancel":
		return core.CallMissed
	}
	return core.CallFailed
}

// report reads a notification as a call report.
func (z *Zadarma) report(form url.Values) (*core.CallReport, error) {
	r := &core.CallReport{Provider: "zadarma", CallID: form.Get("pbx_call_id")}
	if cs := form.Get("call_start"); cs != "" {
		t, err := time.ParseInLocation("2006-01-02 15:04:05", cs, z.loc)
		if err != nil {
			return nil, fmt.Errorf("call_start: not YYYY-MM-DD hh:mm:ss: %q", cs)
		}
		r.StartedAt = &t
	}
	caller := form.Get("caller_id")
	if caller == "0" {
		caller = "" // hidden
	}
	switch ev := form.Get("event"); ev {
	case "NOTIFY_START", "NOTIFY_INTERNAL", "NOTIFY_IVR", "NOTIFY_END":
		r.Direction, r.From, r.To, r.Extension = core.CallIn, caller, form.Get("called_did"), form.Get("internal")
		if ev == "NOTIFY_END" {
			r.Final = true
			r.Disposition = zadarmaDisposition(form.Get("disposition"))
		}
	case "NOTIFY_ANSWER":
		r.Direction, r.From, r.Extension, r.Disposition = core.CallIn, caller, form.Get("destination"), core.CallAnswered
	case "NOTIFY_OUT_START", "NOTIFY_OUT_END":
		r.Direction, r.From, r.To, r.Extension = core.CallOut, form.Get("internal"), form.Get("destination"), form.Get("internal")
		if ev == "NOTIFY_OUT_END" {
			r.Final = true
			r.Disposition = zadarmaDisposition(form.Get("disposition"))
		}
	}
	if err := setDuration(r, form.Get("duration")); err != nil {
		return nil, err
	}
	if err := core.ValidateCallReport(r); err != nil {
		return nil, firstFieldError(err)
	}
	return r, nil
}

// Process is the inbox handler of Zadarma's notifications.
func (z *Zadarma) reportOf(d inbox.Delivery) (*core.CallReport, error) {
	form, err := url.ParseQuery(string(d.Body))
	if err != nil {
		return nil, err
	}
	return z.report(form)
}
