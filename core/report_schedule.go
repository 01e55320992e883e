package core

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// EntityReportSchedule names report schedules in events and errors.
const EntityReportSchedule = "report_schedule"

// Schedule frequencies.
const (
	ScheduleDaily   = "daily"
	ScheduleWeekly  = "weekly"
	ScheduleMonthly = "monthly"
)

// ReportSchedule e-mails a report's result on a schedule: daily, weekly
// on a weekday, or monthly on a day, at a time in a time zone.
type ReportSchedule struct {
	Record
	Name string `json:"name"`
	// Report is the report's id or slug (a standard report's slug too).
	Report    string `json:"report"`
	Frequency string `json:"frequency"` // daily, weekly, monthly
	// Weekday is 1 (Monday) to 7 (Sunday) for weekly schedules.
	Weekday int `json:"weekday"`
	// Day is 1 to 31 for monthly schedules; a month without it runs on
	// its last day.
	Day      int    `json:"day"`
	At       string `json:"at"`        // "09:00"
	TimeZone string `json:"time_zone"` // "Europe/Moscow"
	Format   string `json:"format"`    // xlsx (default), pdf or csv
	// Recipients get the e-mail with the result attached.
	Recipients []string `json:"recipients"`
	// Parameters are the run's: from/to are not given (a schedule runs the
	// report's own filters); the report's declared parameters are.
	Parameters map[string]string `json:"parameters"`
	Active     bool              `json:"active"`
	NextRunAt  *time.Time        `json:"next_run_at"` // computed
	LastRunAt  *time.Time        `json:"last_run_at"` // computed
}

// ReportScheduleSchema returns the writable fields of a schedule.
func ReportScheduleSchema() *Schema[ReportSchedule] { return reportScheduleSchema() }

var reportScheduleSchema = sync.OnceValue(func() *Schema[ReportSchedule] {
	return NewSchema[ReportSchedule]("id", "created_at", "updated_at", "version", "next_run_at", "last_run_at").
		Field("owner_id", ID(func(s *ReportSchedule) *string { return &s.OwnerID })).
		Field("name", Text(200, false, func(s *ReportSchedule) *string { return &s.Name })).
		Field("report", Text(100, false, func(s *ReportSchedule) *string { return &s.Report })).
		Field("frequency", OneOf(NewPicklist("schedule_frequency", Choice{ScheduleDaily, "Ежедневно", "Daily"},
			Choice{ScheduleWeekly, "Еженедельно", "Weekly"}, Choice{ScheduleMonthly, "Ежемесячно", "Monthly"}),
			func(s *ReportSchedule) *string { return &s.Frequency })).
		Field("weekday", JSONValue(func(s *ReportSchedule) *int { return &s.Weekday })).
		Field("day", JSONValue(func(s *ReportSchedule) *int { return &s.Day })).
		Field("at", Text(5, false, func(s *ReportSchedule) *string { return &s.At })).
		Field("time_zone", Text(64, false, func(s *ReportSchedule) *string { return &s.TimeZone })).
		Field("format", OneOf(NewPicklist("schedule_format", Choice{"xlsx", "Excel", "Excel"}, Choice{"pdf", "PDF", "PDF"},
			Choice{"csv", "CSV", "CSV"}), func(s *ReportSchedule) *string { return &s.Format })).
		Field("recipients", JSONValue(func(s *ReportSchedule) *[]string { return &s.Recipients })).
		Field("parameters", JSONValue(func(s *ReportSchedule) *map[string]string { return &s.Parameters })).
		Field("active", Bool(func(s *ReportSchedule) *bool { return &s.Active }))
})

// NewReportSchedule is a schedule's defaults.
func NewReportSchedule() ReportSchedule {
	return ReportSchedule{Frequency: ScheduleDaily, At: "09:00", TimeZone: "Europe/Moscow", Format: "xlsx", Active: true,
		Recipients: []string{}, Parameters: map[string]string{}}
}

// Validate checks a schedule.
func (s *ReportSchedule) Validate() error {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	if s.Name == "" {
		bad("name", "required", "is required")
	}
	if s.Report == "" {
		bad("report", "required", "is required: a report's id or slug")
	}
	switch s.Frequency {
	case ScheduleWeekly:
		if s.Weekday < 1 || s.Weekday > 7 {
			bad("weekday", "out_of_range", "a weekly schedule needs a weekday, 1 (Monday) to 7 (Sunday)")
		}
	case ScheduleMonthly:
		if s.Day < 1 || s.Day > 31 {
			bad("day", "out_of_range", "a monthly schedule needs a day, 1 to 31")
		}
	}
	if _, _, ok := clock(s.At); !ok {
		bad("at", "invalid", "must be a time such as 09:00")
	}
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" {
		bad("time_zone", "invalid", "must be a time zone such as Europe/Moscow")
	}
	recipients, fe := ParseRecipients("recipients", s.Recipients)
	errs = append(errs, fe...)
	if len(recipients) == 0 && len(fe) == 0 {
		bad("recipients", "required", "at least one e-mail address")
	}
	if recipients == nil {
		recipients = []string{}
	}
	s.Recipients = recipients
	if len(s.Parameters) > MaxReportParameters {
		bad("parameters", "too_many", fmt.Sprintf("at most %d", MaxReportParameters))
	}
	return Invalid(errs)
}

func clock(at string) (h, m int, ok bool) {
	t, err := time.Parse("15:04", at)
	if err != nil {
		return 0, 0, false
	}
	return t.Hour(), t.Minute(), true
}

// Next is the schedule's first run time after after.
func (s *ReportSchedule) Next(after time.Time) time.Time {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	h, m, _ := clock(s.At)
	t := after.In(loc)
	for i := 0; i < 400; i++ { // at most a year and a month ahead
		day := time.Date(t.Year(), t.Month(), t.Day()+i, 0, 0, 0, 0, loc)
		run := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
		if !run.After(after) {
			continue
		}
		switch s.Frequency {
		case ScheduleWeekly:
			if int(day.Weekday()+6)%7+1 != s.Weekday {
				continue
			}
		case ScheduleMonthly:
			last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, loc).Day()
			if day.Day() != min(s.Day, last) {
				continue
			}
		}
		return run
	}
	return after.Add(24 * time.Hour)
}

// ReportRunRecord is one scheduled run: when, how many rows, how long,
// and how the delivery went.
type ReportRunRecord struct {
	ID         string     `json:"id"`
	ScheduleID string     `json:"schedule_id"`
	Report     string     `json:"report"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Rows       int        `json:"rows"`
	DurationMS int64      `json:"duration_ms"`
	// Status: running, sent (the SMTP server took it), queued (it will be
	// retried), failed (the run or the delivery failed for good).
	Status  string  `json:"status"`
	Error   string  `json:"error"`
	EmailID *string `json:"email_id"`
}

// ReportScheduleService keeps schedules and their runs.
type ReportScheduleService interface {
	Repository[ReportSchedule]
	List(ctx context.Context, f ListParams) (Page[ReportSchedule], error)
	// ClaimDue takes up to limit active schedules whose time has come:
	// each is moved to its next run time and gets a running run record,
	// in one transaction (a crash loses at most that run, never repeats
	// it). now: the clock.
	ClaimDue(ctx context.Context, now time.Time, limit int) ([]ReportRunRecord, error)
	// StartRun records a run asked for now (outside the schedule).
	StartRun(ctx context.Context, scheduleID string) (*ReportRunRecord, error)
	// FinishRun records how a run went.
	FinishRun(ctx context.Context, run ReportRunRecord) error
	// Runs lists a schedule's runs, newest first.
	Runs(ctx context.Context, scheduleID string, limit int) ([]ReportRunRecord, error)
}

// SendFile is an e-mail with one file attached (a report's result).
type SendFile struct {
	// Kind and ID name what it is about (report_schedule and its id).
	Kind, ID       string
	To             []string
	Subject, Body  string
	FileName       string
	Data           []byte
	IdempotencyKey string
}

// FileMailer sends files by e-mail: queued with the file and tried at
// once; retried later when the server asks to.
type FileMailer interface {
	SendFile(ctx context.Context, f SendFile) (*EmailMessage, error)
}
