package telephony

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
)

const vatsSource = "telephony:vats"

// VATSDirectory answers the PBX's contact lookups: who the number belongs
// to and the PBX login of its owner.
type VATSDirectory interface {
	core.DuplicateFinder
	// PBXLogin returns the PBX login last seen on calls of the user ("" if
	// none: the PBX then routes the call as it would).
	PBXLogin(ctx context.Context, userID string) (string, error)
	// OwnerOf returns the owner of a lead, contact or account.
	OwnerOf(ctx context.Context, entity, id string) (string, error)
}

// VATS speaks the universal virtual-PBX ⇄ CRM protocol (ITooLabs: Megafon
// ВАТС, Gravitel and other white-label cloud PBXs) at
// /hooks/telephony/vats: commands contact, event, history and rating,
// authenticated by the crm_token field.
type VATS struct {
	processor
	cfg    Config // Secret is the crm_token
	intake intake
	dir    VATSDirectory
}

// NewVATS returns the universal VATS webhook.
func NewVATS(cfg Config, in *inbox.Inbox, calls core.CallService, dir VATSDirectory) (*VATS, error) {
	if cfg.Secret == "" {
		return nil, errors.New("telephony vats: a crm_token is required")
	}
	cfg.setDefaults()
	v := &VATS{cfg: cfg, intake: intake{inbox: in, log: cfg.Logger}, dir: dir}
	v.processor = processor{calls: calls, policy: cfg.Policy, report: v.reportOf}
	return v, nil
}

// Path implements core.Webhook.
func (v *VATS) Path() string { return "telephony/vats" }

// Source is the inbox source its deliveries are stored under.
func (v *VATS) Source() string { return vatsSource }

// vatsForm reads the body: urlencoded (the spec) or JSON (some operators).
func vatsForm(contentType string, body []byte) (url.Values, error) {
	if strings.Contains(contentType, "json") {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		form := url.Values{}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				form.Set(k, v)
			case float64:
				form.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
		return form, nil
	}
	return url.ParseQuery(string(body))
}

// Handle implements core.Webhook.
func (v *VATS) Handle(ctx context.Context, r core.WebhookRequest) core.WebhookResponse {
	if r.Method != "POST" || r.SubPath != "" {
		return refuse(405, "Invalid parameters")
	}
	form, err := vatsForm(r.Header.Get("Content-Type"), r.Body)
	if err != nil {
		return refuse(400, "Invalid parameters")
	}
	if subtle.ConstantTimeCompare([]byte(form.Get("crm_token")), []byte(v.cfg.Secret)) != 1 {
		return refuse(401, "Invalid token")
	}
	cmd := form.Get("cmd")
	callID := form.Get("callid")
	switch {
	case cmd == "contact":
		return v.contact(ctx, form.Get("phone"))
	case cmd != "event" && cmd != "history" && cmd != "rating" || callID == "" || len(callID) > 200:
		return refuse(400, "Invalid parameters")
	}
	if _, err := v.report(form, time.Now()); err != nil {
		return refuse(400, "Invalid parameters: "+err.Error())
	}
	form.Del("crm_token") // the stored event carries no credential
	key := strings.Join([]string{cmd, callID, form.Get("type"), form.Get("user"), form.Get("ext")}, "|")
	if cmd == "history" {
		key = cmd + "|" + callID
	}
	return v.intake.receive(ctx, inbox.Delivery{Source: vatsSource, DedupeKey: key, Kind: cmd,
		ContentType: "application/x-www-form-urlencoded", Body: []byte(form.Encode())})
}

// contact answers who a calling number is, before the PBX routes the call:
// one indexed lookup over the normalized phone columns.
func (v *VATS) contact(ctx context.Context, phone string) core.WebhookResponse {
	none := reply(200, map[string]string{})
	e164, ok := core.NormalizePhone(phone)
	if !ok {
		return none
	}
	matches, err := v.dir.Duplicates(ctx, core.DuplicateKeys{Phones: []string{e164}})
	if err != nil {
		v.cfg.Logger.Warn("telephony_contact", "provider", "vats", "error", err)
		return none // the call must go on
	}
	m, ok := core.PhoneOwner(matches)
	if !ok {
		return none
	}
	out := map[string]string{"contact_name": m.Title}
	if owner, err := v.dir.OwnerOf(ctx, m.Entity, m.ID); err == nil && owner != "" {
		if login, err := v.dir.PBXLogin(ctx, owner); err == nil && login != "" {
			out["responsible"] = login
		}
	}
	return reply(200, out)
}

func vatsDisposition(status string) string {
	switch strings.ToLower(status) {
	case "success":
		return core.CallAnswered
	case "missed", "cancel":
		return core.CallMissed
	case "busy":
		return core.CallBusy
	}
	return core.CallFailed
}

// report reads a command as a call report; received is when the hub got
// it (events carry no time of their own).
func (v *VATS) report(form url.Values, received time.Time) (*core.CallReport, error) {
	r := &core.CallReport{Provider: "vats", CallID: form.Get("callid"), Extension: form.Get("ext"), PBXUser: form.Get("user")}
	phone := form.Get("phone")
	switch form.Get("cmd") {
	case "event":
		r.Direction = form.Get("direction")
		switch form.Get("type") {
		case "INCOMING":
			r.Direction = core.CallIn
			r.StartedAt = &received
		case "OUTGOING":
			r.Direction = core.CallOut
			r.StartedAt = &received
		case "ACCEPTED":
			r.AnsweredAt = &received
		}
	case "history":
		r.Final, r.Disposition, r.RecordingURL = true, vatsDisposition(form.Get("status")), form.Get("link")
		r.Direction = form.Get("type")
		if start := form.Get("start"); start != "" {
			t, err := time.Parse("20060102T150405Z", start)
			if err != nil {
				return nil, fmt.Errorf("start: not YYYYMMDDThhmmssZ: %q", start)
			}
			r.StartedAt = &t
		}
		if err := setDuration(r, form.Get("duration")); err != nil {
			return nil, err
		}
	}
	switch r.Direction {
	case core.CallIn:
		r.From, r.To = phone, form.Get("diversion")
	case core.CallOut:
		r.From, r.To = r.Extension, phone
	}
	if err := core.ValidateCallReport(r); err != nil {
		return nil, firstFieldError(err)
	}
	return r, nil
}

// Process is the inbox handler of the PBX's commands.
func (v *VATS) reportOf(d inbox.Delivery) (*core.CallReport, error) {
	form, err := url.ParseQuery(string(d.Body))
	if err != nil {
		return nil, err
	}
	if form.Get("cmd") == "rating" {
		return nil, nil // kept in the inbox; ratings are not on the call model yet
	}
	return v.report(form, d.ReceivedAt)
}
