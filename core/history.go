package core

import (
	"context"
	"encoding/json"
	"time"
)

// HistoryEntry is one change of a record, as recorded by its event.
type HistoryEntry struct {
	EventID       string        `json:"event_id"`
	Type          string        `json:"type"`
	Version       int64         `json:"version"`
	At            time.Time     `json:"at"`
	Source        string        `json:"source"`
	Actor         string        `json:"actor"`
	CorrelationID string        `json:"correlation_id"`
	Changes       []FieldChange `json:"changes"`
}

// FieldChange is one field's value before and after a change (JSON values).
type FieldChange struct {
	Field string `json:"field"`
	From  any    `json:"from"`
	To    any    `json:"to"`
}

// HistoryService reads what happened to records.
type HistoryService interface {
	// History lists a record's changes, oldest first: who, when, through
	// which channel, and each changed field's old and new value.
	// Errors: ENOTFOUND.
	History(ctx context.Context, entity, id string) ([]HistoryEntry, error)
	// RecordVersion returns a record's JSON as it was at version, from its
	// change events. Errors: ENOTFOUND (not kept any more).
	RecordVersion(ctx context.Context, entity, id string, version int64) (json.RawMessage, error)
}
