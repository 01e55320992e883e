package core

import (
	"bytes"
	"encoding/json"
	"time"
)

// Event is one change to a CRM record, written to the outbox in the same
// transaction as the change itself and later relayed to Kafka.
type Event struct {
	ID            string          `json:"id"`             // UUIDv7
	Type          string          `json:"type"`           // e.g. "lead.created"
	Entity        string          `json:"entity"`         // e.g. "lead"
	EntityID      string          `json:"entity_id"`      // the record's id
	EntityVersion int64           `json:"entity_version"` // the record's version after the change
	OccurredAt    time.Time       `json:"occurred_at"`
	Source        string          `json:"source"`         // "api", "telephony:mango", …
	Actor         string          `json:"actor"`          // API key id or connector name
	CorrelationID string          `json:"correlation_id"` // the request id
	Data          json.RawMessage `json:"data"`           // the record after the change
	Changed       []string        `json:"changed,omitempty"`
}

// Operations that name an event type together with the entity.
const (
	OpCreated = "created"
	OpUpdated = "updated"
	OpDeleted = "deleted"
)

// EventType returns the type name of an event, e.g. "lead.updated".
func EventType(entity, op string) string { return entity + "." + op }

// ChangedFields compares the JSON forms of two versions of a record and
// returns the names of the top-level fields that differ, in the order of
// newer's keys, leaving out the names in ignore (bookkeeping such as
// updated_at and version).
func ChangedFields(older, newer any, ignore ...string) ([]string, error) {
	a, err := jsonFields(older)
	if err != nil {
		return nil, err
	}
	b, err := jsonFields(newer)
	if err != nil {
		return nil, err
	}
	skip := make(map[string]bool, len(ignore))
	for _, n := range ignore {
		skip[n] = true
	}
	var changed []string
	for _, k := range b.keys {
		if !skip[k] && string(a.values[k]) != string(b.values[k]) {
			changed = append(changed, k)
		}
	}
	return changed, nil
}

type orderedFields struct {
	keys   []string
	values map[string]json.RawMessage
}

func jsonFields(v any) (orderedFields, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return orderedFields{}, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return orderedFields{}, err
	}
	keys, err := objectKeys(raw)
	return orderedFields{keys: keys, values: m}, err
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(raw []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
