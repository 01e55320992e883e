// Package outbox writes change events into the outbox table inside the
// caller's transaction, so a change and its event commit together or not at
// all. The relay that drains the table to Kafka builds on it.
package outbox

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/crmhub/crmhub/core"
)

const insertSQL = `INSERT INTO outbox
	(id, type, entity, entity_id, entity_version, occurred_at, source, actor, correlation_id, data, changed)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// NewEvent fills in an event's id, time, actor and correlation id from ctx.
func NewEvent(ctx context.Context, entity, op, entityID string, version int64, data []byte, changed []string, now time.Time) core.Event {
	a := core.ActorFromContext(ctx)
	return core.Event{
		ID:            uuid.Must(uuid.NewV7()).String(),
		Type:          core.EventType(entity, op),
		Entity:        entity,
		EntityID:      entityID,
		EntityVersion: version,
		OccurredAt:    now,
		Source:        a.Source,
		Actor:         a.ID,
		CorrelationID: core.CorrelationIDFromContext(ctx),
		Data:          data,
		Changed:       changed,
	}
}

// Insert returns the statement that records ev, to run in the same
// transaction as the write it describes.
func Insert(ev core.Event) (sql string, args []any) {
	return insertSQL, []any{ev.ID, ev.Type, ev.Entity, ev.EntityID, ev.EntityVersion, ev.OccurredAt,
		ev.Source, ev.Actor, ev.CorrelationID, []byte(ev.Data), ev.Changed}
}

// Columns are the outbox's columns, in the order of Values (for COPY).
var Columns = []string{"id", "type", "entity", "entity_id", "entity_version", "occurred_at", "source", "actor",
	"correlation_id", "data", "changed"}

// Values returns an event's values in the order of Columns.
func Values(ev core.Event) []any {
	_, args := Insert(ev)
	return args
}
