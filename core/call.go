package core

import (
	"context"
	"strings"
	"time"
)

// EntityCall names phone calls in events, topics and errors.
const EntityCall = "call"

// Call directions.
const (
	CallIn       = "in"
	CallOut      = "out"
	CallInternal = "internal"
)

// Call dispositions, from the most to the least telling: a call is
// answered when any of its legs was; an unanswered one is missed, busy or
// failed.
const (
	CallAnswered = "answered"
	CallMissed   = "missed"
	CallBusy     = "busy"
	CallFailed   = "failed"
)

var dispositionRank = map[string]int{CallAnswered: 4, CallMissed: 3, CallBusy: 2, CallFailed: 1}

// CallReport is what one provider event says about a call: PBXs report a
// call in many events (a leg ringing, answered, ended, the summary, the
// recording), out of order, and retry them. Empty fields say nothing.
type CallReport struct {
	Provider string // vats, mango, zadarma, asterisk, generic
	// CallID identifies the whole call at the provider (VATS callid, Mango
	// entry_id, Zadarma pbx_call_id, Asterisk Linkedid).
	CallID       string
	Direction    string // in, out, internal
	From, To     string // numbers as the provider wrote them (or extensions, SIP URIs)
	Extension    string // the employee's extension (the one who answered, when known)
	PBXUser      string // the employee's login at the PBX (VATS user)
	StartedAt    *time.Time
	AnsweredAt   *time.Time
	EndedAt      *time.Time
	Duration     *int   // seconds, as the provider counts them
	Disposition  string // answered, missed, busy, failed
	RecordingURL string
	// Final marks the provider's closing report of the call (VATS
	// history, Mango summary, Zadarma NOTIFY_END, Asterisk Cdr).
	Final bool
}

// CallState is a call as its reports so far describe it. Merging reports
// is order-independent: any order of the same reports gives the same
// state, so out-of-order and repeated deliveries need no sequencing.
type CallState struct {
	Provider     string     `json:"provider"`
	CallID       string     `json:"provider_call_id"`
	Direction    string     `json:"direction"`
	From         string     `json:"from"` // E.164 when it is a phone number
	To           string     `json:"to"`
	Extension    string     `json:"extension"`          // an extension the call reached
	AnsweredBy   string     `json:"answered_extension"` // the extension that answered
	PBXUser      string     `json:"pbx_user"`
	StartedAt    *time.Time `json:"started_at"`
	AnsweredAt   *time.Time `json:"answered_at"`
	EndedAt      *time.Time `json:"ended_at"`
	Duration     int        `json:"duration"`
	Disposition  string     `json:"disposition"`
	RecordingURL string     `json:"recording_url"`
	Final        bool       `json:"final"`
}

// ClientNumber is the outside party's number: the caller of an incoming
// call, the callee of an outgoing one.
func (c *CallState) ClientNumber() string {
	if c.Direction == CallOut {
		return c.To
	}
	return c.From
}

// Equal reports whether two states say the same (times compared as
// instants).
func (c *CallState) Equal(o *CallState) bool {
	a, b := *c, *o
	if !sameTime(a.StartedAt, b.StartedAt) || !sameTime(a.AnsweredAt, b.AnsweredAt) || !sameTime(a.EndedAt, b.EndedAt) {
		return false
	}
	a.StartedAt, a.AnsweredAt, a.EndedAt = nil, nil, nil
	b.StartedAt, b.AnsweredAt, b.EndedAt = nil, nil, nil
	return a == b
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// Employee is the extension the call belongs to: the one that answered,
// else one it reached.
func (c *CallState) Employee() string { return firstOf(c.AnsweredBy, c.Extension) }

// Missed reports whether the call is a finished incoming call nobody
// answered (one that wants a call back).
func (c *CallState) Missed() bool {
	return c.Direction == CallIn && c.Final && c.Disposition != CallAnswered
}

// ValidateCallReport checks what every report needs.
func ValidateCallReport(r *CallReport) error {
	var errs []FieldError
	if r.Provider == "" || !ValidCode(r.Provider) {
		errs = append(errs, FieldError{Field: "provider", Code: "invalid", Message: "1 to 50 of a-z, 0-9, _"})
	}
	if r.CallID == "" || len(r.CallID) > 200 {
		errs = append(errs, FieldError{Field: "provider_call_id", Code: "required", Message: "1 to 200 characters"})
	}
	if r.Direction != "" && r.Direction != CallIn && r.Direction != CallOut && r.Direction != CallInternal {
		errs = append(errs, FieldError{Field: "direction", Code: "invalid_choice", Message: "in, out or internal"})
	}
	if _, ok := dispositionRank[r.Disposition]; r.Disposition != "" && !ok {
		errs = append(errs, FieldError{Field: "disposition", Code: "invalid_choice", Message: "answered, missed, busy or failed"})
	}
	if r.Duration != nil && *r.Duration < 0 {
		errs = append(errs, FieldError{Field: "duration", Code: "invalid", Message: "must not be negative"})
	}
	if len(errs) > 0 {
		return Invalid(errs)
	}
	return nil
}

// Merge folds a report into the state. Numbers are normalized to E.164
// where they are phone numbers. Every field combines so that order does
// not matter: the earliest start and answer, the latest end, the longest
// duration, the most telling disposition (a report with an answer time is
// answered); text fields keep the smaller of two different values. A final
// call with no disposition reported is not answered (see Missed).
func (c *CallState) Merge(r CallReport) {
	if c.Provider == "" {
		c.Provider, c.CallID = r.Provider, r.CallID
	}
	c.Direction = smallerOf(c.Direction, r.Direction) // reports of one call agree; if not, still order-independent
	c.From = smallerOf(c.From, callNumber(r.From))
	c.To = smallerOf(c.To, callNumber(r.To))
	c.PBXUser = smallerOf(c.PBXUser, r.PBXUser)
	c.Extension = smallerOf(c.Extension, r.Extension)
	if r.Disposition == CallAnswered || r.AnsweredAt != nil {
		c.AnsweredBy = smallerOf(c.AnsweredBy, r.Extension)
	}
	c.StartedAt = earlier(c.StartedAt, r.StartedAt)
	c.AnsweredAt = earlier(c.AnsweredAt, r.AnsweredAt)
	if r.EndedAt != nil && (c.EndedAt == nil || r.EndedAt.After(*c.EndedAt)) {
		t := r.EndedAt.UTC()
		c.EndedAt = &t
	}
	if r.Duration != nil && *r.Duration > c.Duration {
		c.Duration = *r.Duration
	}
	if r.AnsweredAt != nil {
		r.Disposition = CallAnswered
	}
	if dispositionRank[r.Disposition] > dispositionRank[c.Disposition] {
		c.Disposition = r.Disposition
	}
	c.RecordingURL = smallerOf(c.RecordingURL, r.RecordingURL)
	c.Final = c.Final || r.Final
}

// callNumber is a number in E.164 when it is one, else as written (an
// extension, a SIP URI), trimmed.
func callNumber(s string) string {
	s = strings.TrimSpace(s)
	if e164, ok := NormalizePhone(s); ok && len(strings.Trim(s, "+ ()-.0123456789")) == 0 {
		return e164
	}
	return s
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// smallerOf picks one of two values independently of their order (the
// smaller non-empty one): two reports that disagree give the same state
// whichever came first.
func smallerOf(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || a <= b:
		return a
	}
	return b
}

func earlier(a, b *time.Time) *time.Time {
	if b == nil || a != nil && !b.Before(*a) {
		return a
	}
	t := b.UTC()
	return &t
}

// Call is a stored call: its merged state, its owner (the user whose
// extension it belongs to) and the records it is attached to.
type Call struct {
	Record
	CallState
	LeadID     *string `json:"lead_id"`
	ContactID  *string `json:"contact_id"`
	AccountID  *string `json:"account_id"`
	ActivityID *string `json:"activity_id"`
}

// CallPolicy is what a finished call does in the CRM, per provider.
type CallPolicy struct {
	// CreateLeads makes an incoming call from an unknown number a lead
	// (source incoming_call).
	CreateLeads bool
	// CallbackAfter is when the call-back task of a missed incoming call
	// is due, counted from the call's start. Zero: no task.
	CallbackAfter time.Duration
	// Owners (user ids) own calls no extension maps to a user, and the
	// leads they make: one is the default owner, several take turns.
	Owners []string
}

// CallReports are reports of one call that arrived together.
type CallReports struct {
	Reports []CallReport
	// CorrelationID, when set, is the correlation id of the changes they
	// make (the delivery that brought them); else the context's.
	CorrelationID string
}

// CallService keeps calls.
type CallService interface {
	// ReportCall merges a provider's report into its call, creating the
	// call on its first report, in one transaction with the change event.
	// It returns the call and whether the report changed it (a repeated
	// report changes nothing and writes no event).
	// When the report finishes the call, the call is attached to the
	// record its client number belongs to (a contact, else an account,
	// else a lead), or to a new lead; it is logged as an activity of kind
	// call (held or not held); a missed incoming call gets a call-back
	// task. All of that happens once per call.
	ReportCall(ctx context.Context, r CallReport, p CallPolicy) (*Call, bool, error)
	// ReportCalls merges several reports of one call at once (one write).
	ReportCalls(ctx context.Context, rs []CallReport, p CallPolicy) (*Call, bool, error)
	// ReportCallBatch applies the reports of many calls, each call as
	// ReportCalls would, together in one transaction (a few statements for
	// the whole batch rather than a dozen a call); errs[i] is the outcome of
	// calls[i]: a call at fault fails alone.
	ReportCallBatch(ctx context.Context, calls []CallReports, p CallPolicy) (errs []error)
	// GetCall returns a call by id.
	GetCall(ctx context.Context, id string) (*Call, error)
	// ListCalls returns one page of calls, newest first by default.
	// Errors: EINVALID (bad cursor).
	ListCalls(ctx context.Context, f CallFilter) (Page[Call], error)
}

// CallFilter selects calls for a list. Empty members do not filter.
type CallFilter struct {
	ListParams
	Directions   []string
	Dispositions []string
	Provider     string
	Phone        string // E.164: the client's number
	Extension    string // reached or answered
	LeadID       string
	ContactID    string
	AccountID    string
}

// Dialer starts click-to-call at a PBX: it rings the employee's phone
// first, then dials the client.
type Dialer interface {
	// Provider names the PBX (asterisk, vats).
	Provider() string
	// Dial calls number (E.164) for the employee u (a PBX knows them by
	// extension or by login). Errors: EINVALID (the employee cannot be
	// reached at this PBX, or it refused the request); any other error: the
	// PBX is unreachable.
	Dial(ctx context.Context, u *User, number string) error
}
