package store

import (
	"context"
	"fmt"
	"time"

	"github.com/crmhub/crmhub/core"
)

// activities keeps events and tasks; Store.Activities returns it.
type activities struct {
	repo[core.Activity, *core.Activity]
}

var _ core.ActivityService = activities{}

func (s *Store) newActivityTable() *table[core.Activity, *core.Activity] {
	return (&table[core.Activity, *core.Activity]{
		entity: core.EntityActivity, name: "activities", schema: core.ActivitySchema,
		cols: func(a *core.Activity) []col {
			return []col{{"kind", &a.Kind}, {"subject", &a.Subject}, {"status", &a.Status}, {"priority", &a.Priority},
				{"start_at", &a.StartAt}, {"end_at", &a.EndAt}, {"due_at", &a.DueAt},
				{"completed_at", &a.CompletedAt}, {"location", &a.Location}, {"description", &a.Description},
				{"lead_id", &a.LeadID}, {"contact_id", &a.ContactID}, {"account_id", &a.AccountID},
				{"deal_id", &a.DealID}}
		},
		validate: (*core.Activity).Validate,
		guard: func(old, a *core.Activity) error {
			if old.IsEvent() != a.IsEvent() {
				return core.Invalid([]core.FieldError{{Field: "kind", Code: "immutable",
					Message: "an event cannot become a task or a task an event"}})
			}
			return nil
		},
		prepare: s.prepareActivity,
		sorts: commonSorts(map[string]func(*core.Activity) string{
			"start_at": func(a *core.Activity) string { return a.StartAt.Format(time.RFC3339Nano) },
		}),
	}).init()
}

// prepareActivity enforces what needs the previous state or the database:
// an event stays an event and a task a task; statuses change along the
// transition tables; an event is held only once it has started; a task
// records when it was completed; links point at live records.
func (s *Store) prepareActivity(ctx context.Context, db dbtx, old, a *core.Activity) error {
	if err := s.completeActivity(old, a); err != nil {
		return err
	}
	for _, l := range []struct {
		table, field string
		id           *string
	}{{"leads", "lead_id", a.LeadID}, {"contacts", "contact_id", a.ContactID}, {"accounts", "account_id", a.AccountID}, {"deals", "deal_id", a.DealID}} {
		if err := mustExist(ctx, db, l.table, l.field, l.id); err != nil {
			return err
		}
	}
	return nil
}

// completeActivity fills an activity's defaults (status, priority, when
// it was completed) and checks its status transition: what prepare does
// without the database.
func (s *Store) completeActivity(old, a *core.Activity) error {
	bad := func(field, code, msg string) error {
		return core.Invalid([]core.FieldError{{Field: field, Code: code, Message: msg}})
	}
	if a.Status == "" {
		a.Status = core.TaskStatuses().Codes()[0]
		if a.IsEvent() {
			a.Status = core.EventStatuses().Codes()[0]
		}
	}
	if a.Kind == core.KindTask && a.Priority == "" {
		a.Priority = "medium"
	}
	prev := ""
	if old != nil {
		prev = old.Status
		if !core.CanTransition(a.Kind, old.Status, a.Status) {
			return bad("status", "invalid_transition", fmt.Sprintf("a %s cannot go from %s to %s", a.Kind, old.Status, a.Status))
		}
	}
	now := s.now()
	if a.Status == "held" && prev != "held" && a.StartAt.After(now) {
		return bad("status", "not_started_yet", "an event is held only once its start has passed")
	}
	switch {
	case a.Kind == core.KindTask && a.Status == "completed" && prev != "completed":
		a.CompletedAt = &now
	case a.Status != "completed":
		a.CompletedAt = nil
	}
	return nil
}

// Activities returns the activity repository.
func (s *Store) Activities() core.ActivityService {
	return activities{repo[core.Activity, *core.Activity]{s: s, t: s.tables.activity}}
}

// List implements core.ActivityService.
func (r activities) List(ctx context.Context, f core.ActivityFilter) (core.Page[core.Activity], error) {
	q := &query{}
	if !f.From.IsZero() {
		q.where("span_end >= " + q.arg(f.From))
	}
	if !f.To.IsZero() {
		q.where("start_at < " + q.arg(f.To))
	}
	if len(f.Kinds) > 0 {
		q.where("kind = ANY(" + q.arg(f.Kinds) + ")")
	}
	if len(f.Statuses) > 0 {
		q.where("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	for _, l := range []struct{ col, id string }{{"lead_id", f.LeadID}, {"contact_id", f.ContactID}, {"account_id", f.AccountID}, {"deal_id", f.DealID}} {
		if l.id != "" {
			q.where(l.col + " = " + q.arg(l.id))
		}
	}
	if f.Query != "" {
		q.anyLike(f.Query, "subject")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}
