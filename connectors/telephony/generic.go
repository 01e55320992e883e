package telephony

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// Generic is the generic JSON webhook: POST /hooks/telephony/generic with a
// GenericEvent, signed with HMAC-SHA256 over "<timestamp>.<body>".
type Generic struct {
	processor
	cfg    Config
	intake intake
}

// genericSource is the inbox source of the generic webhook's deliveries.
const genericSource = "telephony:generic"

// NewGeneric returns the generic webhook.
func NewGeneric(cfg Config, in *inbox.Inbox, calls core.CallService) (*Generic, error) {
	if cfg.Secret == "" {
		return nil, errors.New("telephony generic: a secret is required")
	}
	cfg.setDefaults()
	g := &Generic{cfg: cfg, intake: intake{inbox: in, log: cfg.Logger}}
	g.processor = processor{calls: calls, policy: cfg.Policy, report: g.reportOf}
	return g, nil
}

// genericMinSecret is the shortest secret ValidateGeneric accepts: the
// PBX signs its requests with it.
const genericMinSecret = 16

// ValidateGeneric checks the generic webhook's settings as Config.Validate
// does, and that a secret, when set, has at least 16 characters.
func ValidateGeneric(cfg Config) error {
	if cfg.Secret != "" && len(cfg.Secret) < genericMinSecret {
		return errors.New("secret: must be at least 16 characters (it signs the PBX's requests)")
	}
	return cfg.Validate()
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
	return g.intake.receive(ctx, inbox.Delivery{Source: genericSource, DedupeKey: key, Kind: "call",
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
