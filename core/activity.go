package core

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// EntityActivity names events and tasks in events, topics and errors.
const EntityActivity = "activity"

// Activity kinds: calls and meetings are events (a start and an end); a
// task has a start and a due time.
const (
	KindCall    = "call"
	KindMeeting = "meeting"
	KindTask    = "task"
	// KindEmail records a sent e-mail: an event whose start and end are
	// the moment the server accepted it.
	KindEmail = "email"
)

// Activity is an event (call, meeting, a sent e-mail) or a task, linked to any of a lead,
// contact, account and deal.
type Activity struct {
	Record
	Kind        string     `json:"kind"`
	Subject     string     `json:"subject"`
	Status      string     `json:"status"`
	Priority    string     `json:"priority"`
	StartAt     *time.Time `json:"start_at"`
	EndAt       *time.Time `json:"end_at"` // events
	DueAt       *time.Time `json:"due_at"` // tasks
	CompletedAt *time.Time `json:"completed_at"`
	Location    string     `json:"location"`
	Description string     `json:"description"`
	LeadID      *string    `json:"lead_id"`
	ContactID   *string    `json:"contact_id"`
	AccountID   *string    `json:"account_id"`
	DealID      *string    `json:"deal_id"`
}

// IsEvent reports whether the activity is a call or a meeting.
func (a *Activity) IsEvent() bool { return isEventKind(a.Kind) }

func isEventKind(kind string) bool {
	return kind == KindCall || kind == KindMeeting || kind == KindEmail
}

// EventStatuses is the event status picklist.
func EventStatuses() *Picklist { return eventStatuses() }

var eventStatuses = sync.OnceValue(func() *Picklist {
	return NewPicklist("event_status",
		Choice{"planned", "Запланировано", "Planned"},
		Choice{"held", "Проведено", "Held"},
		Choice{"not_held", "Не проведено", "Not Held"},
	)
})

// TaskStatuses is the task status picklist.
func TaskStatuses() *Picklist { return taskStatuses() }

var taskStatuses = sync.OnceValue(func() *Picklist {
	return NewPicklist("task_status",
		Choice{"not_started", "Не начато", "Not Started"},
		Choice{"planned", "Запланировано", "Planned"},
		Choice{"in_progress", "В прогрессе", "In Progress"},
		Choice{"pending_input", "В ожидании", "Pending Input"},
		Choice{"deferred", "Отсрочено", "Deferred"},
		Choice{"completed", "Завершено", "Completed"},
	)
})

// TaskPriorities is the task priority picklist.
func TaskPriorities() *Picklist { return taskPriorities() }

var taskPriorities = sync.OnceValue(func() *Picklist {
	return NewPicklist("task_priority",
		Choice{"high", "Высокий", "High"},
		Choice{"medium", "Средний", "Medium"},
		Choice{"low", "Низкий", "Low"},
	)
})

// ActivityStatuses are the statuses of every kind of activity, events'
// then tasks' (planned is both, with one label): how a list of activities
// of any kind names their statuses.
func ActivityStatuses() *Picklist { return activityStatuses() }

var activityStatuses = sync.OnceValue(func() *Picklist {
	var choices []Choice
	for _, l := range []*Picklist{EventStatuses(), TaskStatuses()} {
		for _, c := range l.Choices {
			if !slices.ContainsFunc(choices, func(o Choice) bool { return o.Code == c.Code }) {
				choices = append(choices, c)
			}
		}
	}
	return NewPicklist("activity_status", choices...)
})

// eventTransitions and taskTransitions list, per status, the statuses it
// may change to (staying is always allowed). A held event is final; a
// completed task may be taken up again.
var (
	eventTransitions = map[string][]string{
		"planned":  {"held", "not_held"},
		"not_held": {"planned", "held"},
		"held":     {},
	}
	taskTransitions = map[string][]string{
		"not_started":   {"planned", "in_progress", "pending_input", "deferred", "completed"},
		"planned":       {"not_started", "in_progress", "deferred", "completed"},
		"in_progress":   {"pending_input", "deferred", "completed"},
		"pending_input": {"in_progress", "deferred", "completed"},
		"deferred":      {"planned", "not_started", "in_progress"},
		"completed":     {"in_progress"},
	}
)

// CanTransition reports whether an activity of kind may go from one status
// to another.
func CanTransition(kind, from, to string) bool {
	if from == to {
		return true
	}
	table := taskTransitions
	if isEventKind(kind) {
		table = eventTransitions
	}
	for _, s := range table[from] {
		if s == to {
			return true
		}
	}
	return false
}

// ActivityKinds names the kinds of activities (KindCall, KindMeeting,
// KindTask, KindEmail): the codes an activity's kind takes and their
// labels in a report.
func ActivityKinds() *Picklist { return activityKindsList() }

var activityKindsList = sync.OnceValue(func() *Picklist {
	return NewPicklist("activity_kind", Choice{KindCall, "Звонок", "Call"}, Choice{KindMeeting, "Встреча", "Meeting"},
		Choice{KindTask, "Задача", "Task"}, Choice{KindEmail, "Письмо", "Email"})
})

// ActivitySchema returns the writable fields of an activity.
func ActivitySchema() *Schema[Activity] { return activitySchema() }

var activitySchema = sync.OnceValue(func() *Schema[Activity] {
	statuses := map[string]bool{}
	for _, c := range append(EventStatuses().Codes(), TaskStatuses().Codes()...) {
		statuses[c] = true
	}
	return NewSchema[Activity]("id", "created_at", "updated_at", "version", "completed_at").
		Field("kind", OneOf(ActivityKinds(), func(a *Activity) *string { return &a.Kind })).
		Field("subject", Text(250, false, func(a *Activity) *string { return &a.Subject })).
		Field("status", Text(30, false, func(a *Activity) *string { return &a.Status })). // checked per kind in Validate
		Field("priority", OneOf(TaskPriorities(), func(a *Activity) *string { return &a.Priority })).
		Field("start_at", Timestamp(func(a *Activity) **time.Time { return &a.StartAt })).
		Field("end_at", Timestamp(func(a *Activity) **time.Time { return &a.EndAt })).
		Field("due_at", Timestamp(func(a *Activity) **time.Time { return &a.DueAt })).
		Field("location", Text(250, false, func(a *Activity) *string { return &a.Location })).
		Field("description", Text(32_000, true, func(a *Activity) *string { return &a.Description })).
		Field("lead_id", Link(func(a *Activity) **string { return &a.LeadID })).
		Field("contact_id", Link(func(a *Activity) **string { return &a.ContactID })).
		Field("account_id", Link(func(a *Activity) **string { return &a.AccountID })).
		Field("deal_id", Link(func(a *Activity) **string { return &a.DealID })).
		Field("owner_id", ID(func(a *Activity) *string { return &a.OwnerID })).
		Field("team_id", Link(func(a *Activity) **string { return &a.TeamID }))
})

// Timestamp sets an optional RFC 3339 time (stored in UTC, to the
// microsecond); null clears it.
func Timestamp[T any](field func(*T) **time.Time) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		s, ok := decodeString(raw)
		if !ok {
			return fail(path, "invalid_type", "must be an RFC 3339 time string")
		}
		if s == "" {
			*field(rec) = nil
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || t.Year() < 1900 || t.Year() > 2200 {
			return fail(path, "invalid_time", "must be an RFC 3339 time such as 2026-11-27T15:00:00+03:00")
		}
		t = t.UTC().Truncate(time.Microsecond)
		*field(rec) = &t
		return nil
	}
}

// Validate checks an activity on its own: subject, kind, the status of its
// kind (empty means the kind's first status), an event's start and end (end not before start) and a task's start
// and due time, and that only tasks have a priority.
func (a *Activity) Validate() error {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	if a.Subject == "" {
		bad("subject", "required", "is required")
	}
	if a.Kind == "" {
		bad("kind", "required", "is required: call, meeting, task or email")
		return Invalid(errs)
	}
	if a.StartAt == nil {
		bad("start_at", "required", "is required")
	}
	if a.IsEvent() {
		if a.Status != "" && !EventStatuses().Has(a.Status) {
			bad("status", "invalid_choice", "an event's status is planned, held or not_held")
		}
		switch {
		case a.EndAt == nil:
			bad("end_at", "required", "an event needs its end")
		case a.StartAt != nil && a.EndAt.Before(*a.StartAt):
			bad("end_at", "before_start", "an event cannot end before it starts")
		}
		if a.DueAt != nil {
			bad("due_at", "not_allowed", "events have an end, not a due time")
		}
		if a.Priority != "" {
			bad("priority", "not_allowed", "only tasks have a priority")
		}
	} else {
		if a.Status != "" && !TaskStatuses().Has(a.Status) {
			bad("status", "invalid_choice", "a task's status is one of: "+joinCodes(TaskStatuses()))
		}
		switch {
		case a.DueAt == nil:
			bad("due_at", "required", "a task needs its due time")
		case a.StartAt != nil && a.DueAt.Before(*a.StartAt):
			bad("due_at", "before_start", "a task cannot be due before it starts")
		}
		if a.EndAt != nil {
			bad("end_at", "not_allowed", "tasks have a due time, not an end")
		}
	}
	return Invalid(errs)
}

func joinCodes(p *Picklist) string {
	out := ""
	for i, c := range p.Codes() {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

// ActivityFilter selects activities for a list or a calendar.
type ActivityFilter struct {
	ListParams
	From, To  time.Time // activities overlapping [From, To)
	Kinds     []string
	Statuses  []string
	LeadID    string
	ContactID string
	AccountID string
	DealID    string
}

// ActivityService keeps events and tasks.
type ActivityService interface {
	Repository[Activity]
	// List returns one page of activities; Query matches the subject.
	List(ctx context.Context, f ActivityFilter) (Page[Activity], error)
}
