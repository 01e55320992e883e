package telephony

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
)

const mangoSource = "telephony:mango"

// Mango receives MANGO OFFICE VPBX events at /hooks/telephony/mango/events/…:
// urlencoded vpbx_api_key, sign and json fields, sign being
// hex(sha256(api key + json + salt)) over the json field exactly as sent.
type Mango struct {
	processor
	cfg    Config // Secret is the API salt
	apiKey string
	intake intake
}

// NewMango returns the Mango webhook for the product's API key and salt.
func NewMango(cfg Config, apiKey string, in *inbox.Inbox, calls core.CallService) (*Mango, error) {
	if cfg.Secret == "" || apiKey == "" {
		return nil, errors.New("telephony mango: the API key and salt are required")
	}
	cfg.setDefaults()
	m := &Mango{cfg: cfg, apiKey: apiKey, intake: intake{inbox: in, log: cfg.Logger}}
	m.processor = processor{calls: calls, policy: cfg.Policy, report: m.reportOf}
	return m, nil
}

// ValidateMango checks MANGO OFFICE's settings (cfg.Secret is the API salt)
// as Config.Validate does, and that the API key and salt are set together.
func ValidateMango(cfg Config, apiKey string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if (apiKey == "") != (cfg.Secret == "") {
		return errors.New("api_key: api_key and api_salt go together: set both or neither")
	}
	return nil
}

// Path implements core.Webhook.
func (m *Mango) Path() string { return "telephony/mango" }

// Source is the inbox source its deliveries are stored under.
func (m *Mango) Source() string { return mangoSource }

// MangoSign is the sign field of a request.
func MangoSign(apiKey, jsonField, salt string) string {
	sum := sha256.Sum256([]byte(apiKey + jsonField + salt))
	return hex.EncodeToString(sum[:])
}

// flexInt is a number Mango sends either as a number or as a string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	*f = flexInt(n)
	return err
}

type mangoParty struct {
	Number    string `json:"number"`
	Extension string `json:"extension"`
}

// mangoEvent holds the fields crmhub reads from events/call,
// events/summary and events/recording.
type mangoEvent struct {
	EntryID       string     `json:"entry_id"`
	CallID        string     `json:"call_id"`
	Timestamp     flexInt    `json:"timestamp"`
	Seq           flexInt    `json:"seq"`
	CallState     string     `json:"call_state"`
	Location      string     `json:"location"`
	From          mangoParty `json:"from"`
	To            mangoParty `json:"to"`
	CallDirection flexInt    `json:"call_direction"`
	CreateTime    flexInt    `json:"create_time"`
	TalkTime      flexInt    `json:"talk_time"`
	EndTime       flexInt    `json:"end_time"`
	EntryResult   flexInt    `json:"entry_result"`
	RecordingID   string     `json:"recording_id"`
}

// Handle implements core.Webhook.
func (m *Mango) Handle(ctx context.Context, r core.WebhookRequest) core.WebhookResponse {
	if r.Method != "POST" {
		return refuse(405, "Mango posts events to /hooks/telephony/mango/events/…")
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return refuse(400, "the body is not a urlencoded form")
	}
	js := form.Get("json")
	if subtle.ConstantTimeCompare([]byte(form.Get("vpbx_api_key")), []byte(m.apiKey)) != 1 ||
		subtle.ConstantTimeCompare([]byte(MangoSign(m.apiKey, js, m.cfg.Secret)), []byte(form.Get("sign"))) != 1 {
		return refuse(401, "invalid vpbx_api_key or sign")
	}
	var ev mangoEvent
	if err := json.Unmarshal([]byte(js), &ev); err != nil {
		return refuse(400, "json: "+err.Error())
	}
	if ev.EntryID == "" {
		return refuse(400, "json: entry_id is required")
	}
	// Every event is kept (dtmf, sms and newer paths too: raw, for later);
	// a repeat is one with the same path, leg, sequence and recording.
	key := strings.Join([]string{r.SubPath, ev.EntryID, ev.CallID, strconv.FormatInt(int64(ev.Seq), 10), ev.RecordingID}, "|")
	return m.intake.receive(ctx, inbox.Delivery{Source: mangoSource, DedupeKey: key, Kind: r.SubPath,
		ContentType: "application/json", Body: []byte(js)})
}

func unixTime(n flexInt) *time.Time {
	if n <= 0 {
		return nil
	}
	t := time.Unix(int64(n), 0).UTC()
	return &t
}

// report reads an event as a call report; nil for events that say nothing
// about the call's course (dtmf, recording, unknown paths).
func mangoReport(kind string, ev *mangoEvent) *core.CallReport {
	r := &core.CallReport{Provider: "mango", CallID: ev.EntryID}
	switch kind {
	case "events/call":
		if ev.From.Extension != "" && ev.To.Extension == "" {
			r.Direction, r.From, r.To, r.Extension = core.CallOut, ev.From.Extension, ev.To.Number, ev.From.Extension
		} else {
			r.Direction, r.From, r.To, r.Extension = core.CallIn, ev.From.Number, ev.To.Number, ev.To.Extension
		}
		switch ev.CallState {
		case "Appeared":
			r.StartedAt = unixTime(ev.Timestamp)
		case "Connected":
			if ev.Location == "abonent" {
				r.AnsweredAt = unixTime(ev.Timestamp)
			}
		}
	case "events/summary":
		r.Final, r.StartedAt, r.EndedAt = true, unixTime(ev.CreateTime), unixTime(ev.EndTime)
		switch ev.CallDirection {
		case 1:
			r.Direction, r.From, r.To, r.Extension = core.CallIn, ev.From.Number, ev.To.Number, ev.To.Extension
		case 2:
			r.Direction, r.From, r.To, r.Extension = core.CallOut, ev.From.Extension, ev.To.Number, ev.From.Extension
		default:
			r.Direction, r.From, r.To, r.Extension = core.CallInternal, ev.From.Extension, ev.To.Extension, ev.To.Extension
		}
		r.Disposition = core.CallMissed
		if ev.EntryResult == 1 {
			r.Disposition = core.CallAnswered
			r.AnsweredAt = unixTime(ev.TalkTime)
		}
		if r.AnsweredAt != nil && r.EndedAt != nil {
			d := int(r.EndedAt.Sub(*r.AnsweredAt).Seconds())
			r.Duration = &d
		}
	default:
		return nil
	}
	return r
}

// Process is the inbox handler of Mango's events.
func (m *Mango) reportOf(d inbox.Delivery) (*core.CallReport, error) {
	var ev mangoEvent
	if err := json.Unmarshal(d.Body, &ev); err != nil {
		return nil, err
	}
	r := mangoReport(d.Kind, &ev)
	if r == nil {
		return nil, nil
	}
	if err := core.ValidateCallReport(r); err != nil {
		return nil, firstFieldError(err)
	}
	return r, nil
}
