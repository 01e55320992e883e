package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.HistoryService = (*Store)(nil)

// History implements core.HistoryService.
func (s *Store) History(ctx context.Context, entity, id string) ([]core.HistoryEntry, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "%s not found", entity)
	}
	if err := s.mayView(ctx, entity, id); err != nil {
		return nil, err
	}
	rows, err := s.db(ctx).Query(ctx, `SELECT id::text, type, entity_version, occurred_at, source, actor, correlation_id,
		coalesce(changed, '{}'), data FROM outbox WHERE entity_id = $1 AND entity = $2 AND type NOT LIKE '%.snapshot'
		ORDER BY entity_version, seq`, id, entity)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	out := []core.HistoryEntry{}
	var prev map[string]any
	for rows.Next() {
		var e core.HistoryEntry
		var changed []string
		var data []byte
		if err := rows.Scan(&e.EventID, &e.Type, &e.Version, &e.At, &e.Source, &e.Actor, &e.CorrelationID, &changed, &data); err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		e.At = e.At.In(time.UTC)
		var cur map[string]any
		if err := json.Unmarshal(data, &cur); err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		e.Changes = fieldChanges(changed, prev, cur)
		out = append(out, e)
		prev = cur
	}
	if err := rows.Err(); err != nil && err != pgx.ErrNoRows {
		return nil, fmt.Errorf("history: %w", err)
	}
	if len(out) == 0 {
		return nil, core.Errorf(core.ENOTFOUND, "%s not found", entity)
	}
	return out, nil
}

// fieldChanges are an event's changes: each changed field's value in the
// record's JSON before the event (prev, nil for its first) and after it
// (cur).
func fieldChanges(changed []string, prev, cur map[string]any) []core.FieldChange {
	out := make([]core.FieldChange, 0, len(changed))
	for _, f := range changed {
		out = append(out, core.FieldChange{Field: f, From: fieldValue(prev, f), To: fieldValue(cur, f)})
	}
	return out
}

// fieldValue is the value of a changed field in a record's JSON: a
// top-level member, or a custom field's (custom.key) in its custom object.
func fieldValue(rec map[string]any, field string) any {
	if v, ok := rec[field]; ok {
		return v
	}
	if key, ok := strings.CutPrefix(field, "custom."); ok {
		custom, _ := rec["custom"].(map[string]any)
		return custom[key]
	}
	return nil
}
