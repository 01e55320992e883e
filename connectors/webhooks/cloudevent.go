package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
)

// cloudEvent is a change event in the CloudEvents 1.0 JSON format
// (structured mode), its attributes those the Kafka relay sends as ce_*
// headers (connectors/kafka, Publisher.record), in the same form: the
// type "crm." + the event's, the source "/crmhub/" + the event's, the
// record's id as the subject, the extensions entityversion, correlationid,
// actor and changed (the fields, comma-separated) as strings.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	EntityVersion   string          `json:"entityversion"`
	CorrelationID   string          `json:"correlationid,omitempty"`
	Actor           string          `json:"actor,omitempty"`
	Changed         string          `json:"changed,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// Body returns the webhook body of a change event: the CloudEvent the
// Kafka relay publishes in binary mode, here in structured mode (one JSON
// object): specversion "1.0", id, type ("crm.lead.created"), source
// ("/crmhub/api"), subject (the record's id), time (RFC 3339, UTC),
// datacontenttype "application/json", the extensions entityversion,
// correlationid, actor and changed, and data, the record after the change
// as JSON (not a string). Where Kafka sends an empty header (no
// correlation id, no actor) the body leaves the attribute out, as
// CloudEvents asks of optional attributes without a value. Strings are
// not HTML-escaped: the data is the record's JSON as the hub has it.
func Body(e core.Event) ([]byte, error) {
	if e.ID == "" || e.Type == "" || e.Source == "" {
		return nil, errors.New("webhook body: the event needs an id, a type and a source")
	}
	if len(e.Data) > 0 && !json.Valid(e.Data) {
		return nil, fmt.Errorf("webhook body of event %s: its data is not JSON", e.ID)
	}
	ce := cloudEvent{
		SpecVersion:     "1.0",
		ID:              e.ID,
		Type:            "crm." + e.Type,
		Source:          "/crmhub/" + e.Source,
		Subject:         e.EntityID,
		Time:            e.OccurredAt.UTC().Format(time.RFC3339Nano),
		DataContentType: "application/json",
		EntityVersion:   strconv.FormatInt(e.EntityVersion, 10),
		CorrelationID:   e.CorrelationID,
		Actor:           e.Actor,
		Changed:         strings.Join(e.Changed, ","),
		Data:            e.Data,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ce); err != nil {
		return nil, fmt.Errorf("webhook body of event %s: %w", e.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
