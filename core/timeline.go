package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Timeline item kinds: what a record's card shows, one item per fact.
const (
	TimelineChange     = "change"     // an event of the record, with each changed field's old and new value
	TimelineNote       = "note"       // a live note on the record
	TimelineActivity   = "activity"   // a meeting, task or logged call on the record
	TimelineCall       = "call"       // a phone call, its recording's URL included
	TimelineEmail      = "email"      // an e-mail in (the mail scanner's) or out (a document's)
	TimelineDocument   = "document"   // a quote, order, invoice, act or realization made from the record
	TimelinePayment    = "payment"    // a payment of the record or of its invoices
	TimelineAttachment = "attachment" // a live file on the record
)

// TimelineKinds lists the timeline item kinds.
func TimelineKinds() []string {
	return []string{TimelineChange, TimelineNote, TimelineActivity, TimelineCall, TimelineEmail,
		TimelineDocument, TimelinePayment, TimelineAttachment}
}

// Timeline page sizes.
const (
	DefaultTimelineLimit = 50
	MaxTimelineLimit     = 200
)

// Actor types of a timeline item.
const (
	ActorUser   = "user"   // a CRM user: Actor.ID and Name are theirs
	ActorSystem = "system" // the hub or a connector: Name says which ("telephony", "webform:contact", "mailscan:sales")
)

// E-mail directions on a timeline.
const (
	EmailIn  = "in"  // received: filed by the mail scanner
	EmailOut = "out" // sent: a document's e-mail
)

// EmailReceived is an inbound e-mail's status on a timeline.
const EmailReceived = "received"

// TimelineActor is who an item is due to: for a change the user behind its
// event (or the connector that made it), for a note or a file its author,
// for the other kinds the user responsible for them, their owner.
type TimelineActor struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// TimelineItem is one fact about a record. ID is its source's: the event's
// for a change, else the row's (an inbound e-mail's is its activity's).
// Entity and RecordID name the record whose item it is: the requested one,
// or the lead it was converted from. Data is the kind's: a
// TimelineChangeData, TimelineNoteData, TimelineActivityData,
// TimelineCallData, TimelineEmailData, TimelineDocumentData,
// TimelinePaymentData or TimelineAttachmentData (a map once HideFields
// took members out of it).
type TimelineItem struct {
	ID       string        `json:"id"`
	Kind     string        `json:"kind"`
	At       time.Time     `json:"at"`
	Actor    TimelineActor `json:"actor"`
	Entity   string        `json:"entity"`
	RecordID string        `json:"record_id"`
	Data     any           `json:"data"`
}

// TimelineChangeData is a change: the event's type and the record's
// version after it, its channel, and the changed fields.
type TimelineChangeData struct {
	Type    string        `json:"type"`
	Version int64         `json:"version"`
	Source  string        `json:"source"`
	Changes []FieldChange `json:"changes"`
}

// TimelineNoteData is a note (its author is the item's actor).
type TimelineNoteData struct {
	Text     string     `json:"text"`
	Pinned   bool       `json:"pinned"`
	EditedAt *time.Time `json:"edited_at"`
}

// TimelineActivityData is an activity.
type TimelineActivityData struct {
	Kind    string     `json:"kind"`
	Subject string     `json:"subject"`
	Status  string     `json:"status"`
	StartAt time.Time  `json:"start_at"`
	DueAt   *time.Time `json:"due_at"`
}

// TimelineCallData is a call.
type TimelineCallData struct {
	Direction    string     `json:"direction"`
	From         string     `json:"from"`
	To           string     `json:"to"`
	StartedAt    *time.Time `json:"started_at"`
	Duration     int        `json:"duration"`
	Disposition  string     `json:"disposition"`
	RecordingURL string     `json:"recording_url"`
}

// TimelineEmailData is an e-mail: in, its status EmailReceived and SentAt
// the message's date; out, its delivery status and the document it
// carries. ActivityID is the activity recording it (an inbound e-mail's is
// the item's id; an outbound one has it once sent).
type TimelineEmailData struct {
	Direction    string     `json:"direction"`
	Subject      string     `json:"subject"`
	From         string     `json:"from"`
	To           []string   `json:"to"`
	Cc           []string   `json:"cc"`
	Status       string     `json:"status"`
	SentAt       *time.Time `json:"sent_at"`
	DocumentKind *string    `json:"document_kind"`
	DocumentID   *string    `json:"document_id"`
	ActivityID   *string    `json:"activity_id"`
}

// TimelineDocumentData is a sales document; Kind is its entity (quote,
// sales_order, purchase_order, invoice, act, realization).
type TimelineDocumentData struct {
	Kind       string `json:"kind"`
	Number     string `json:"number"`
	Date       Date   `json:"date"`
	Status     string `json:"status"`
	Subject    string `json:"subject"`
	GrandTotal Money  `json:"grand_total"`
	Currency   string `json:"currency"`
}

// TimelinePaymentData is a payment.
type TimelinePaymentData struct {
	Number    string  `json:"number"`
	Date      Date    `json:"date"`
	Direction string  `json:"direction"`
	Status    string  `json:"status"`
	Amount    Money   `json:"amount"`
	Currency  string  `json:"currency"`
	Method    string  `json:"method"`
	InvoiceID *string `json:"invoice_id"`
}

// TimelineAttachmentData is a file (its uploader is the item's actor).
type TimelineAttachmentData struct {
	FileName    string  `json:"file_name"`
	ContentType string  `json:"content_type"`
	Size        int64   `json:"size"`
	NoteID      *string `json:"note_id"`
	Source      string  `json:"source"`
}

// TimelineQuery selects a page of a timeline.
type TimelineQuery struct {
	// Kinds keeps the items of these kinds; empty keeps every kind.
	Kinds []string
	// Limit is the page size, 1 to MaxTimelineLimit; 0 is
	// DefaultTimelineLimit.
	Limit int
	// Cursor is the previous page's next_cursor; "" starts at the newest.
	Cursor string
}

// Validate reports an unknown kind or a limit out of range. Errors:
// EINVALID.
func (q TimelineQuery) Validate() error {
	var errs []FieldError
	for _, k := range q.Kinds {
		if !slices.Contains(TimelineKinds(), k) {
			errs = append(errs, unknownTimelineKind(k))
		}
	}
	if q.Limit < 0 || q.Limit > MaxTimelineLimit {
		errs = append(errs, FieldError{Field: "limit", Code: "out_of_range",
			Message: fmt.Sprintf("must be an integer from 1 to %d", MaxTimelineLimit)})
	}
	return Invalid(errs)
}

// PageSize is the number of items a page holds at most.
func (q TimelineQuery) PageSize() int {
	if q.Limit == 0 {
		return DefaultTimelineLimit
	}
	return q.Limit
}

// Wants reports whether the page keeps items of kind.
func (q TimelineQuery) Wants(kind string) bool {
	return len(q.Kinds) == 0 || slices.Contains(q.Kinds, kind)
}

// ParseTimelineKinds reads a comma-separated list of kinds, each once.
// Errors: EINVALID naming the unknown ones.
func ParseTimelineKinds(s string) ([]string, error) {
	var kinds []string
	var errs []FieldError
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case k == "" || slices.Contains(kinds, k):
		case slices.Contains(TimelineKinds(), k):
			kinds = append(kinds, k)
		default:
			errs = append(errs, unknownTimelineKind(k))
		}
	}
	return kinds, Invalid(errs)
}

func unknownTimelineKind(k string) FieldError {
	return FieldError{Field: "kind", Code: "invalid_choice",
		Message: fmt.Sprintf("%q is no timeline kind: use %s", k, strings.Join(TimelineKinds(), ", "))}
}

// TimelineCursor is a position in a timeline: the items after it are
// older, (At, ID) descending.
type TimelineCursor struct {
	At time.Time `json:"at"`
	ID string    `json:"id"`
}

// EncodeTimelineCursor returns the opaque cursor of the position after it.
func EncodeTimelineCursor(it TimelineItem) string {
	b, _ := json.Marshal(TimelineCursor{At: it.At.UTC(), ID: it.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeTimelineCursor reads a cursor EncodeTimelineCursor made. Errors:
// EINVALID.
func DecodeTimelineCursor(s string) (TimelineCursor, error) {
	var c TimelineCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil {
		_, err = uuid.Parse(c.ID)
	}
	if err != nil || c.At.IsZero() {
		return TimelineCursor{}, Invalid([]FieldError{{Field: "cursor", Code: "invalid_cursor",
			Message: "is not a cursor this API returned"}})
	}
	return c, nil
}

// TimelineNewer reports whether a comes before b in a timeline: newer, or
// as new with the greater id.
func TimelineNewer(a, b TimelineItem) bool {
	if !a.At.Equal(b.At) {
		return a.At.After(b.At)
	}
	return a.ID > b.ID
}

// MergeTimeline merges sources, each newest first, into a page of at most
// limit items, newest first; more reports that items remain beyond it.
// An item several sources yield (the same kind and id) appears once, as
// the first of them gives it. Each source that holds more than limit
// items gives its first limit+1, so that the page and more are exact.
func MergeTimeline(sources [][]TimelineItem, limit int) (page []TimelineItem, more bool) {
	page = []TimelineItem{}
	next := make([]int, len(sources))
	seen := map[string]bool{}
	for len(page) <= limit {
		best := -1
		for i, src := range sources {
			if next[i] < len(src) && (best < 0 || TimelineNewer(src[next[i]], sources[best][next[best]])) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		it := sources[best][next[best]]
		next[best]++

		if key := it.Kind + ":" + it.ID; !seen[key] {
			seen[key] = true
			page = append(page, it)
		}
	}
	if len(page) > limit {
		return page[:limit], true
	}
	return page, false
}

// How an event's actor names a user (EventActor).
const (
	ActorByKey     = "api_key" // an API key's id: the key's user
	ActorBySession = "session" // a sign-in session's id: its user
	ActorByUser    = "user"    // the user's own id (an OIDC sign-in)
)

// EventActor reads the actor an event recorded (core.Actor.ID): an API
// key's id, "session:<id>" or "oidc:<user id>" name a user through by and
// ref; anything else (a connector, the CLI, the hub itself) is a system
// actor, by "" and ref the name.
func EventActor(actor string) (by, ref string) {
	if id, ok := strings.CutPrefix(actor, "session:"); ok && isUUID(id) {
		return ActorBySession, id
	}
	if id, ok := strings.CutPrefix(actor, "oidc:"); ok && isUUID(id) {
		return ActorByUser, id
	}
	if isUUID(actor) {
		return ActorByKey, actor
	}
	return "", actor
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// MailHead is the sender and recipients the mail scanner writes atop an
// inbound e-mail's activity ("От: …", "Кому: …", "Копия: …" up to the
// first blank line); a line missing, or edited away, leaves its part
// empty.
func MailHead(description string) (from string, to, cc []string) {
	head, _, _ := strings.Cut(description, "\n\n")
	to, cc = []string{}, []string{}
	for _, line := range strings.Split(head, "\n") {
		name, value, _ := strings.Cut(line, ": ")
		switch name {
		case "От":
			from = value
		case "Кому":
			to = splitAddresses(value)
		case "Копия":
			cc = splitAddresses(value)
		}
	}
	return from, to, cc
}

func splitAddresses(s string) []string {
	out := []string{}
	for _, a := range strings.Split(s, ", ") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// SourceEntity is the kind of record the item's data comes from, whose
// field rules apply to it: the changed record's, the activity's (an
// inbound e-mail's too), the call's, the e-mail's, the document's, the
// payment's, the attachment's; "" for a note, which no rule governs.
func (it TimelineItem) SourceEntity() string {
	switch d := it.Data.(type) {
	case TimelineChangeData:
		return it.Entity
	case TimelineEmailData:
		if d.Direction == EmailIn {
			return EntityActivity
		}
		return EntityEmail
	case TimelineDocumentData:
		return d.Kind
	}
	return map[string]string{TimelineActivity: EntityActivity, TimelineCall: EntityCall,
		TimelinePayment: EntityPayment, TimelineAttachment: EntityAttachment}[it.Kind]
}

// HideFields takes the fields hidden (a role's hidden fields of the
// item's SourceEntity) out of the item: a change's changes of them (a
// custom field's as custom.key, or all of custom), another kind's data
// members of their names, and an inbound e-mail's addresses with its
// activity's description, which they are read from.
func (it *TimelineItem) HideFields(hidden []string) error {
	if len(hidden) == 0 {
		return nil
	}
	if ch, ok := it.Data.(TimelineChangeData); ok {
		ch.Changes = slices.DeleteFunc(slices.Clone(ch.Changes), func(c FieldChange) bool {
			top, _, _ := strings.Cut(c.Field, ".")
			return slices.Contains(hidden, c.Field) || slices.Contains(hidden, top)
		})
		it.Data = ch
		return nil
	}

	var derived map[string]string
	if e, ok := it.Data.(TimelineEmailData); ok && e.Direction == EmailIn {
		derived = map[string]string{"from": "description", "to": "description", "cc": "description"}
	}
	raw, err := json.Marshal(it.Data)
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	for k := range m {
		if slices.Contains(hidden, k) || (derived[k] != "" && slices.Contains(hidden, derived[k])) {
			delete(m, k)
		}
	}
	it.Data = m
	return nil
}

// TimelineService reads a record's timeline: everything about it in one
// stream, newest first, for its card.
type TimelineService interface {
	// Timeline returns one page of the timeline of the record id of entity
	// (one of RecordKinds): its changes, notes, activities, calls,
	// e-mails, documents, payments and files, and for a deal, contact or
	// account a lead was converted into, the lead's own items too; the
	// items of a kind the caller may not see are left out, and so are the
	// fields their role hides. NextCursor is "" on the last page.
	// Errors: ENOTFOUND (no such live record, or the caller may not see
	// it), EINVALID (an unknown kind, a limit out of range, a cursor this
	// API did not return).
	Timeline(ctx context.Context, entity, id string, q TimelineQuery) (Page[TimelineItem], error)
}
