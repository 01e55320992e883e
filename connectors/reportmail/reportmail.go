// Package reportmail runs scheduled reports and e-mails their results.
package reportmail

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/reportout"
)

// Scheduler runs due report schedules: each run is recorded (rows,
// duration, delivery) and its result e-mailed as the schedule's format.
type Scheduler struct {
	Schedules core.ReportScheduleService
	Reports   core.ReportService
	// Mailer sends the result; nil: runs fail saying e-mail is off.
	Mailer core.FileMailer
	// Location prints the result's times. Default UTC.
	Location *time.Location
	// Interval is how often due schedules are looked for. Default 30 s.
	Interval time.Duration
	Log      *slog.Logger
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Run looks for due schedules until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("report_schedule_tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick claims the due schedules and runs them; it returns how many.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	runs, err := s.Schedules.ClaimDue(ctx, s.now(), 20)
	if err != nil {
		return 0, err
	}
	for _, r := range runs {
		s.Execute(ctx, r)
	}
	return len(runs), nil
}

// RunNow runs a schedule at once, outside its times.
func (s *Scheduler) RunNow(ctx context.Context, scheduleID string) (*core.ReportRunRecord, error) {
	run, err := s.Schedules.StartRun(ctx, scheduleID)
	if err != nil {
		return nil, err
	}
	out := s.Execute(ctx, *run)
	return &out, nil
}

// Execute runs a claimed run: the report, its file, the e-mail; and
// records how it went.
func (s *Scheduler) Execute(ctx context.Context, run core.ReportRunRecord) core.ReportRunRecord {
	start := s.now()
	rows, emailID, status, err := s.execute(ctx, run)
	end := s.now()
	run.FinishedAt, run.Rows, run.DurationMS, run.Status, run.EmailID = &end, rows, end.Sub(start).Milliseconds(), status, emailID
	if err != nil {
		run.Status = "failed"
		run.Error = core.ErrorMessage(err)
		if len(core.ErrorFields(err)) > 0 {
			var parts []string
			for _, f := range core.ErrorFields(err) {
				parts = append(parts, f.Field+": "+f.Message)
			}
			run.Error += " (" + strings.Join(parts, "; ") + ")"
		}
	}
	if ferr := s.Schedules.FinishRun(context.WithoutCancel(ctx), run); ferr != nil {
		s.log().Error("report_run_record", "run", run.ID, "err", ferr)
	}
	s.log().Info("report_run", "schedule", run.ScheduleID, "report", run.Report, "rows", run.Rows, "ms", run.DurationMS,
		"status", run.Status, "error", run.Error)
	return run
}

func (s *Scheduler) execute(ctx context.Context, run core.ReportRunRecord) (rows int, emailID *string, status string, err error) {
	sc, err := s.Schedules.Get(ctx, run.ScheduleID)
	if err != nil {
		return 0, nil, "", err
	}
	// The schedule's owner acts: the e-mail is theirs.
	ctx = core.NewContextWithActor(ctx, core.Actor{ID: "report-schedule:" + sc.ID, Source: "schedule", UserID: sc.OwnerID})
	rep, err := s.Reports.Find(ctx, sc.Report)
	if err != nil {
		return 0, nil, "", err
	}
	res, err := s.Reports.Run(ctx, rep, core.ReportRun{Parameters: sc.Parameters})
	if err != nil {
		return 0, nil, "", err
	}
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	var file bytes.Buffer
	opts := reportout.Options{Location: loc}
	if sc.Format == "csv" {
		opts.CSVSep = ';' // people open it in Excel
	}
	if err := reportout.Render(&file, res, sc.Format, opts); err != nil {
		return len(res.Rows), nil, "", err
	}
	if s.Mailer == nil {
		return len(res.Rows), nil, "", core.Errorf(core.EUNAVAILABLE, "e-mail is not configured: set smtp.host and smtp.from")
	}
	day := res.RanAt.In(loc)
	base := rep.Slug
	if base == "" {
		base = strings.ReplaceAll(rep.Name, "/", "-")
	}
	e, err := s.Mailer.SendFile(ctx, core.SendFile{Kind: core.EntityReportSchedule, ID: sc.ID, To: sc.Recipients,
		Subject:  fmt.Sprintf("Отчёт «%s» на %s", res.Name, core.FormatDateLong(day)),
		Body:     body(res, sc, loc),
		FileName: fmt.Sprintf("%s-%s.%s", base, day.Format("2006-01-02"), sc.Format), Data: file.Bytes(),
		IdempotencyKey: "report-run:" + run.ID})
	if err != nil {
		return len(res.Rows), nil, "", err
	}
	status = e.Status // sent, queued (retried) or failed
	if e.Status == core.EmailFailed {
		return len(res.Rows), &e.ID, "failed", core.Errorf(core.EUNAVAILABLE, "the mail server refused: %s", e.LastError)
	}
	return len(res.Rows), &e.ID, status, nil
}

// body is the e-mail's text: what the report is, when it ran, its totals.
func body(res *core.ReportResult, sc *core.ReportSchedule, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Отчёт «%s» по расписанию «%s».\nСформирован %s, строк: %d.\n", res.Name, sc.Name,
		res.RanAt.In(loc).Format("02.01.2006 15:04"), len(res.Rows))
	if len(res.Totals) > 0 {
		cols := map[string]core.ReportColumn{}
		for _, c := range res.Columns {
			cols[c.Key] = c
		}
		keys := slices.Sorted(maps.Keys(res.Totals))
		b.WriteString("\nИтого:\n")
		for _, k := range keys {
			c, ok := cols[k]
			if !ok {
				c = core.ReportColumn{Key: k, Label: k, Type: "money"}
				if k == "count" {
					c.Label = "Количество"
					c.Type = "integer"
				}
			}
			fmt.Fprintf(&b, "  %s: %s\n", c.Label, reportout.Text(c, res.Totals[k], loc))
		}
	}
	if res.Truncated {
		b.WriteString("\nОтчёт обрезан по лимиту строк: сузьте фильтры.\n")
	}
	b.WriteString("\nФайл отчёта — во вложении.\n")
	return b.String()
}
