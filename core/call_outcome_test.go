package core_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// members decodes a patch's members to plain values.
func members(t *testing.T, p core.Patch) map[string]any {
	t.Helper()
	out := map[string]any{}
	for k, raw := range p {
		var v any
		require.NoError(t, json.Unmarshal(raw, &v))
		out[k] = v
	}
	return out
}

// finished is a finished call merged from r.
func finished(r core.CallReport) *core.Call {
	c := &core.Call{}
	r.Provider, r.CallID, r.Final = "zadarma", "call-1", true
	c.Merge(r)
	return c
}

func TestCallClientPhone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		report core.CallReport
		want   string
	}{
		{"IncomingFromCaller", core.CallReport{Direction: core.CallIn, From: "79161112233", To: "100"}, "+79161112233"},
		{"OutgoingToCallee", core.CallReport{Direction: core.CallOut, From: "100", To: "8 (495) 123-00-00"}, "+74951230000"},
		{"ExtensionIsNoPhone", core.CallReport{Direction: core.CallIn, From: "101", To: "100"}, ""},
		{"InternalCall", core.CallReport{Direction: core.CallInternal, From: "79161112233", To: "100"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := finished(tc.report).ClientPhone()
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.want != "", ok)
		})
	}
}

func TestCallAttachTo(t *testing.T) {
	t.Parallel()
	for _, entity := range []string{core.EntityContact, core.EntityAccount, core.EntityLead} {
		t.Run(entity, func(t *testing.T) {
			t.Parallel()
			c := &core.Call{}
			c.AttachTo(core.DuplicateMatch{Entity: entity, ID: "rec-1"})
			got := map[string]*string{core.EntityContact: c.ContactID, core.EntityAccount: c.AccountID, core.EntityLead: c.LeadID}
			for e, id := range got {
				if e == entity {
					require.Equal(t, "rec-1", *id)
				} else {
					require.Nil(t, id)
				}
			}
		})
	}
}

func TestCallLead(t *testing.T) {
	t.Parallel()
	policy := core.CallPolicy{CreateLeads: true}

	t.Run("UnknownCaller", func(t *testing.T) {
		t.Parallel()
		p, ok := core.CallLead(finished(core.CallReport{Direction: core.CallIn, From: "79161112233"}), policy)
		require.True(t, ok)
		require.Equal(t, map[string]any{"last_name": "+79161112233", "company": "Не указана", "phone": "+79161112233",
			"source": "incoming_call", "description": "Входящий звонок +79161112233 (zadarma)"}, members(t, p))

		var l core.Lead
		require.Empty(t, core.LeadSchema().Apply(&l, p, ""), "a valid lead patch")
		require.NoError(t, l.Validate())
	})

	t.Run("PolicyOff", func(t *testing.T) {
		t.Parallel()
		_, ok := core.CallLead(finished(core.CallReport{Direction: core.CallIn, From: "79161112233"}), core.CallPolicy{})
		require.False(t, ok, "with lead creation off, an unknown caller makes no lead")
	})

	t.Run("OutgoingCall", func(t *testing.T) {
		t.Parallel()
		_, ok := core.CallLead(finished(core.CallReport{Direction: core.CallOut, From: "100", To: "84951230000"}), policy)
		require.False(t, ok, "an outgoing call to an unknown number is logged only")
	})

	t.Run("NoPhoneNumber", func(t *testing.T) {
		t.Parallel()
		_, ok := core.CallLead(finished(core.CallReport{Direction: core.CallIn, From: "sip:anonymous@pbx"}), policy)
		require.False(t, ok)
	})
}

func TestCallActivities(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	end := start.Add(40 * time.Second)
	now := start.Add(time.Hour)
	policy := core.CallPolicy{CallbackAfter: 15 * time.Minute}
	lead := "0190a5c0-0000-7000-8000-000000000003"

	t.Run("MissedIncomingCallGetsCallBack", func(t *testing.T) {
		t.Parallel()
		c := finished(core.CallReport{Direction: core.CallIn, From: "79161112233", To: "74957776655",
			StartedAt: &start, EndedAt: &end, Disposition: core.CallMissed})
		c.LeadID = &lead
		acts := core.CallActivities(c, policy, now)
		require.Len(t, acts, 2)
		require.Equal(t, map[string]any{"kind": "call", "subject": "Входящий звонок +79161112233", "status": "not_held",
			"start_at": "2026-11-27T09:30:00Z", "end_at": "2026-11-27T09:30:40Z", "lead_id": lead,
			"description": "zadarma, +79161112233 → +74957776655, 0 с, missed"}, members(t, acts[0]))
		require.Equal(t, map[string]any{"kind": "task", "subject": "Перезвонить +79161112233", "priority": "high",
			"start_at": "2026-11-27T09:30:00Z", "due_at": "2026-11-27T09:45:00Z", "lead_id": lead,
			"description": "Пропущенный звонок +79161112233 в 27.11.2026 09:30 UTC"}, members(t, acts[1]))
		for _, p := range acts {
			var a core.Activity
			require.Empty(t, core.ActivitySchema().Apply(&a, p, ""), "a valid activity patch")
		}
	})

	t.Run("NoCallBackWithoutPolicy", func(t *testing.T) {
		t.Parallel()
		c := finished(core.CallReport{Direction: core.CallIn, From: "79161112233", StartedAt: &start})
		require.Len(t, core.CallActivities(c, core.CallPolicy{}, now), 1)
	})

	t.Run("AnsweredCallIsHeld", func(t *testing.T) {
		t.Parallel()
		contact := "0190a5c0-0000-7000-8000-000000000004"
		c := finished(core.CallReport{Direction: core.CallIn, From: "79164445566", StartedAt: &start, AnsweredAt: &start,
			EndedAt: &end, Duration: intp(40), RecordingURL: "https://pbx/rec.mp3"})
		c.ContactID = &contact
		acts := core.CallActivities(c, policy, now)
		require.Len(t, acts, 1, "answered: no call back")
		m := members(t, acts[0])
		require.Equal(t, "held", m["status"])
		require.Equal(t, contact, m["contact_id"])
		require.Equal(t, "zadarma, +79164445566 → , 40 с, answered\nЗапись: https://pbx/rec.mp3", m["description"])
	})

	t.Run("OutgoingAndOtherSubjects", func(t *testing.T) {
		t.Parallel()
		out := finished(core.CallReport{Direction: core.CallOut, From: "100", To: "84951230000", Disposition: core.CallBusy})
		acts := core.CallActivities(out, policy, now)
		require.Len(t, acts, 1, "only a missed incoming call wants a call back")
		require.Equal(t, "Исходящий звонок +74951230000", members(t, acts[0])["subject"])
		internal := finished(core.CallReport{Direction: core.CallInternal, From: "100", To: "101"})
		require.Equal(t, "Звонок 100", members(t, core.CallActivities(internal, policy, now)[0])["subject"])
	})

	t.Run("TimesNeverAfterNow", func(t *testing.T) {
		t.Parallel()
		ahead, later := now.Add(time.Hour), now.Add(2*time.Hour)
		c := finished(core.CallReport{Direction: core.CallOut, To: "84951230000", StartedAt: &ahead, EndedAt: &later})
		m := members(t, core.CallActivities(c, policy, now)[0])
		require.Equal(t, "2026-11-27T10:30:00Z", m["start_at"], "a start in the future is now")
		require.Equal(t, "2026-11-27T10:30:00Z", m["end_at"], "so is an end")

		early := start.Add(-time.Minute)
		c = finished(core.CallReport{Direction: core.CallOut, To: "84951230000", StartedAt: &start, EndedAt: &early})
		m = members(t, core.CallActivities(c, policy, now)[0])
		require.Equal(t, m["start_at"], m["end_at"], "an end before the start is the start")

		c = finished(core.CallReport{Direction: core.CallOut, To: "84951230000", StartedAt: &start, EndedAt: &later})
		require.Equal(t, "2026-11-27T10:30:00Z", members(t, core.CallActivities(c, policy, now)[0])["end_at"])

		c = finished(core.CallReport{Direction: core.CallOut, To: "84951230000"})
		m = members(t, core.CallActivities(c, policy, now)[0])
		require.Equal(t, "2026-11-27T10:30:00Z", m["start_at"], "no start: now")
	})
}
