// Package telephony turns PBX call events into calls, leads, activities and
// call-back tasks. Each provider speaks its own wire format at
// /hooks/telephony/<provider>; deliveries are stored in the inbox before
// they are answered and processed afterwards (core/inbox), so a provider's
// retries and a slow database never lose or double a call.
package telephony

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
)

// Signature headers of the generic webhook.
const (
	HeaderTimestamp = "X-Crmhub-Timestamp"
	HeaderSignature = "X-Crmhub-Signature"
)

// GenericEvent is the generic webhook's payload: one report about a call,
// for any PBX without a connector of its own. Times are RFC 3339.
type GenericEvent struct {
	EventID      string     `json:"event_id"` // unique per delivery; a retry repeats it
	CallID       string     `json:"call_id"`
	Direction    string     `json:"direction"` // in, out, internal
	From         string     `json:"from"`
	To           string     `json:"to"`
	Extension    string     `json:"extension"`
	User         string     `json:"user"` // the employee's PBX login
	StartedAt    *time.Time `json:"started_at"`
	AnsweredAt   *time.Time `json:"answered_at"`
	EndedAt      *time.Time `json:"ended_at"`
	Duration     *int       `json:"duration"`
	Disposition  string     `json:"disposition"` // answered, missed, busy, failed
	RecordingURL string     `json:"recording_url"`
	Final        bool       `json:"final"` // the call is over: this report closes it
}

// Config configures a provider's connector.
type Config struct {
	Secret string
	// MaxSkew is how far a signed timestamp may be from now (replays older
	// than that are refused). Default 5 minutes.
	MaxSkew time.Duration
	// MaxAge is how old the start time a notification signs may be
	// (Zadarma's call_start): older ones are refused as replays. Default
	// 24 hours.
	MaxAge time.Duration
	// Claims remember which call each signed notification belongs to
	// (Zadarma); nil: in this process only.
	Claims CallClaims
	// OnRefused, when set, is told the reason of each notification refused
	// (Zadarma; for a metric).
	OnRefused func(reason string)
	Policy    core.CallPolicy
	Now       func() time.Time
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	if c.MaxSkew <= 0 {
		c.MaxSkew = 5 * time.Minute
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Generic is the generic JSON webhook: POST /hooks/telephony/generic with a
// GenericEvent, signed with HMAC-SHA256 over "<timestamp>.<body>".
type Generic struct {
	processor
	cfg   Config
	inbox *inbox.Inbox
}

// Source is the inbox source of the generic webhook's deliveries.
const genericSource = "telephony:generic"

// NewGeneric returns the generic webhook.
func NewGeneric(cfg Config, in *inbox.Inbox, calls core.CallService) (*Generic, error) {
	if cfg.Secret == "" {
		return nil, errors.New("telephony generic: a secret is required")
	}
	cfg.setDefaults()
	g := &Generic{cfg: cfg, inbox: in}
	g.processor = processor{calls: calls, policy: cfg.Policy, report: g.reportOf}
	return g, nil
}

// Path implements core.Webhook.
func (g *Generic) Path() string { return "telephony/generic" }

// Source is the inbox source its deliveries are stored under.
func (g *Generic) Source() string { return genericSource }

// Sign returns the signature header value of body at timestamp ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func reply(status int, v any) core.WebhookResponse {
	b, _ := json.Marshal(v)
	return core.WebhookResponse{Status: status, ContentType: "application/json", Body: b}
}

func refuse(status int, msg string) core.WebhookResponse {
	return reply(status, map[string]string{"error": msg})
}

// receive stores a delivery and answers the provider: accepted, or
// duplicate for a retry; 503 (the provider retries) when it cannot be
// stored.
func (c *Config) receive(ctx context.Context, in *inbox.Inbox, d inbox.Delivery) core.WebhookResponse {
	_, isNew, err := in.Receive(ctx, d)
	if err != nil {
		c.Logger.Error("telephony_receive", "source", d.Source, "error", err)
		return refuse(503, "could not store the event; retry")
	}
	if !isNew {
		return reply(200, map[string]string{"status": "duplicate"})
	}
	return reply(200, map[string]string{"status": "accepted"})
}

// setDuration reads a duration in seconds; a closing report's end is its
// start plus the duration.
func setDuration(r *core.CallReport, s string) error {
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("duration: not a number: %q", s)
	}
	r.Duration = &n
	if r.StartedAt != nil && r.Final {
		end := r.StartedAt.Add(time.Duration(n) * time.Second)
		r.EndedAt = &end
	}
	return nil
}

// Handle implements core.Webhook: it checks the signature and the
// timestamp, checks the payload is a call event, stores it and answers.
func (g *Generic) Handle(ctx context.Context, r core.WebhookRequest) core.WebhookResponse {
	if r.Method != "POST" || r.SubPath != "" {
		return refuse(405, "POST a call event to /hooks/telephony/generic")
	}
	ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return refuse(401, "missing or malformed "+HeaderTimestamp)
	}
	if d := g.cfg.Now().Sub(time.Unix(ts, 0)); d > g.cfg.MaxSkew || d < -g.cfg.MaxSkew {
		return refuse(401, "timestamp outside the allowed window")
	}
	want := Sign(g.cfg.Secret, ts, r.Body)
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(r.Header.Get(HeaderSignature)))) {
		return refuse(401, "invalid signature")
	}
	ev, err := parseGeneric(r.Body)
	if err != nil {
		return refuse(400, err.Error())
	}
	key := ev.EventID
	if key == "" {
		sum := sha256.Sum256(r.Body)
		key = "body:" + hex.EncodeToString(sum[:])
	}
	return g.cfg.receive(ctx, g.inbox, inbox.Delivery{Source: genericSource, DedupeKey: key, Kind: "call",
		ContentType: "application/json", Body: r.Body})
}

func parseGeneric(body []byte) (*GenericEvent, error) {
	var ev GenericEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("the body is not a call event: %v", err)
	}
	if ev.EventID != "" && len(ev.EventID) > 200 {
		return nil, errors.New("event_id: at most 200 characters")
	}
	if err := core.ValidateCallReport(ev.report()); err != nil {
		return nil, firstFieldError(err)
	}
	return &ev, nil
}

// firstFieldError says which field of a report is wrong, for the provider.
func firstFieldError(err error) error {
	var ce *core.Error
	if errors.As(err, &ce) && len(ce.Fields) > 0 {
		return fmt.Errorf("%s: %s", ce.Fields[0].Field, ce.Fields[0].Message)
	}
	return err
}

func (ev *GenericEvent) report() *core.CallReport {
	return &core.CallReport{Provider: "generic", CallID: ev.CallID, Direction: ev.Direction, From: ev.From, To: ev.To,
		Extension: ev.Extension, PBXUser: ev.User, StartedAt: ev.StartedAt, AnsweredAt: ev.AnsweredAt, EndedAt: ev.EndedAt,
		Duration: ev.Duration, Disposition: ev.Disposition, RecordingURL: ev.RecordingURL, Final: ev.Final}
}

// reportOf reads a stored delivery's report.
func (g *Generic) reportOf(d inbox.Delivery) (*core.CallReport, error) {
	ev, err := parseGeneric(d.Body)
	if err != nil {
		return nil, err
	}
	return ev.report(), nil
}

// reporter reads a stored delivery's report: nil when it has nothing to
// apply (a DTMF, a rating); an error means it never can be applied.
type reporter func(d inbox.Delivery) (*core.CallReport, error)

// processor applies a provider's stored deliveries: alone (Process) or,
// for the inbox's batch workers, a claimed batch at once (ProcessBatch):
// the reports of each call merged, all the calls in one transaction.
type processor struct {
	calls  core.CallService
	policy core.CallPolicy
	report reporter
}

// Process is the inbox handler of one delivery.
func (p processor) Process(ctx context.Context, d inbox.Delivery) error {
	return p.ProcessBatch(ctx, []inbox.Delivery{d})[0]
}

// ProcessBatch is the inbox batch handler: the reports of the deliveries
// of each call are applied together, as the telephony source; what cannot
// succeed on a retry fails at once.
func (p processor) ProcessBatch(ctx context.Context, ds []inbox.Delivery) []error {
	errs := make([]error, len(ds))
	var calls []core.CallReports
	var of [][]int // the deliveries of each call
	at := map[string]int{}
	for i, d := range ds {
		r, err := p.report(d)
		if err != nil {
			errs[i] = inbox.Permanent(fmt.Errorf("%s: %w", d.Kind, err))
			continue
		}
		if r == nil {
			continue // kept in the inbox, nothing to do
		}
		k := r.Provider + "\x00" + r.CallID
		j, ok := at[k]
		if !ok {
			j, at[k] = len(calls), len(calls)
			calls = append(calls, core.CallReports{CorrelationID: fmt.Sprintf("inbox:%d", d.ID)})
			of = append(of, nil)
		}
		calls[j].Reports = append(calls[j].Reports, *r)
		of[j] = append(of[j], i)
	}
	if len(calls) == 0 {
		return errs
	}
	ctx = core.NewContextWithActor(ctx, core.Actor{ID: ds[0].Source, Source: "telephony"})
	for j, err := range p.calls.ReportCallBatch(ctx, calls, p.policy) {
		if code := core.ErrorCode(err); code == core.EINVALID || code == core.ENOTFOUND {
			err = inbox.Permanent(err)
		}
		for _, i := range of[j] {
			errs[i] = err
		}
	}
	return errs
}
