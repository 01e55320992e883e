package core

import (
	"fmt"
	"time"
)

// UnknownCompany is the company of a lead made without one («Не указана»):
// a lead requires a company, and neither a caller nor a web form visitor
// always says theirs.
const UnknownCompany = "Не указана"

// SourceIncomingCall is the lead source of a lead made by a call.
const SourceIncomingCall = "incoming_call"

// ClientPhone is the client's phone number of a call, when it has one the
// CRM can look up: a phone number (not an extension or a SIP URI) on a
// call that is not internal.
func (c *CallState) ClientPhone() (string, bool) {
	client := c.ClientNumber()
	if _, ok := NormalizePhone(client); !ok || c.Direction == CallInternal {
		return "", false
	}
	return client, true
}

// AttachTo links the call to the record its client's number belongs to
// (a contact, an account or a lead; see PhoneOwner).
func (c *Call) AttachTo(m DuplicateMatch) {
	id := m.ID
	switch m.Entity {
	case EntityContact:
		c.ContactID = &id
	case EntityAccount:
		c.AccountID = &id
	case EntityLead:
		c.LeadID = &id
	}
}

// CallLead is the lead a finished call makes when its client's number
// belongs to no record: with p.CreateLeads, an incoming call from a phone
// number becomes a lead named and reached by that number, with an unknown
// company and source incoming_call. ok is false when the call makes none.
func CallLead(c *Call, p CallPolicy) (lead Patch, ok bool) {
	client, ok := c.ClientPhone()
	if !ok || c.Direction != CallIn || !p.CreateLeads {
		return nil, false
	}
	return PatchOf(map[string]any{
		"last_name":   client,
		"company":     UnknownCompany,
		"phone":       client,
		"source":      SourceIncomingCall,
		"description": fmt.Sprintf("Входящий звонок %s (%s)", client, c.Provider),
	}), true
}

// CallActivities are the activities a finished call produces, as patches
// linked to the call's lead, contact and account: first the call's own
// activity (kind call: held when answered, else not held) and, for a
// missed incoming call when p.CallbackAfter is set, a high-priority task
// to call back, due CallbackAfter after the call's start.
//
// Neither is dated after now: a call that starts in the future (the PBX's
// clock ahead, or its time zone wrong) is taken to start now, and one
// that ends before it starts to end when it starts, so the activity is
// never refused as held before its start.
func CallActivities(c *Call, p CallPolicy, now time.Time) []Patch {
	client := c.ClientNumber()
	start, end := callSpan(c, now)

	status := "held"
	if c.Disposition != CallAnswered {
		status = "not_held"
	}
	call := c.links(PatchOf(map[string]any{
		"kind":        KindCall,
		"subject":     callSubject(c.Direction) + " " + client,
		"status":      status,
		"start_at":    start,
		"end_at":      end,
		"description": callDescription(c),
	}))
	if !c.Missed() || p.CallbackAfter <= 0 {
		return []Patch{call}
	}

	callBack := c.links(PatchOf(map[string]any{
		"kind":        KindTask,
		"subject":     "Перезвонить " + client,
		"priority":    "high",
		"start_at":    start,
		"due_at":      start.Add(p.CallbackAfter),
		"description": fmt.Sprintf("Пропущенный звонок %s в %s", client, start.Format("02.01.2006 15:04 MST")),
	}))
	return []Patch{call, callBack}
}

// callSpan is when the call's activity is held, bounded by now.
func callSpan(c *Call, now time.Time) (start, end time.Time) {
	start = now
	if c.StartedAt != nil && !c.StartedAt.After(now) {
		start = *c.StartedAt
	}
	switch {
	case c.EndedAt == nil || c.EndedAt.Before(start):
		end = start
	case c.EndedAt.After(now):
		end = now
	default:
		end = *c.EndedAt
	}
	return start, end
}

// callSubject names a call by its direction.
func callSubject(direction string) string {
	switch direction {
	case CallIn:
		return "Входящий звонок"
	case CallOut:
		return "Исходящий звонок"
	}
	return "Звонок"
}

// callDescription is the call's activity's description: the provider,
// the numbers, the duration, the outcome and the recording.
func callDescription(c *Call) string {
	d := fmt.Sprintf("%s, %s → %s, %d с, %s", c.Provider, c.From, c.To, c.Duration, c.Disposition)
	if c.RecordingURL != "" {
		d += "\nЗапись: " + c.RecordingURL
	}
	return d
}

// links adds the records the call is attached to to an activity's patch.
func (c *Call) links(p Patch) Patch {
	for field, id := range map[string]*string{"lead_id": c.LeadID, "contact_id": c.ContactID, "account_id": c.AccountID} {
		if id != nil {
			p.Set(field, *id)
		}
	}
	return p
}
