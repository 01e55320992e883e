package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.ReportScheduleService = reportSchedules{}

func (s *Store) newReportScheduleTable() *table[core.ReportSchedule, *core.ReportSchedule] {
	return (&table[core.ReportSchedule, *core.ReportSchedule]{
		entity: core.EntityReportSchedule, name: "report_schedules", schema: core.ReportScheduleSchema,
		cols: func(r *core.ReportSchedule) []col {
			return []col{{"name", &r.Name}, {"report", &r.Report}, {"frequency", &r.Frequency}, {"weekday", &r.Weekday},
				{"day", &r.Day}, {"at", &r.At}, {"time_zone", &r.TimeZone}, {"format", &r.Format},
				{"recipients", &r.Recipients}, {"parameters", &r.Parameters}, {"active", &r.Active},
				{"next_run_at", &r.NextRunAt}, {"last_run_at", &r.LastRunAt}}
		},
		defaults: func(r *core.ReportSchedule) { *r = core.NewReportSchedule() },
		validate: (*core.ReportSchedule).Validate,
		prepare: func(ctx context.Context, db dbtx, _, r *core.ReportSchedule) error {
			// The report must exist and take the schedule's parameters.
			rep, err := s.findReport(ctx, db, r.Report)
			if core.ErrorCode(err) == core.ENOTFOUND {
				return core.Invalid([]core.FieldError{{Field: "report", Code: "not_found", Message: "no report with this id or slug"}})
			}
			if err != nil {
				return err
			}
			plan, err := s.compile(ctx, db, &rep.ReportDefinition, core.ReportRun{Parameters: r.Parameters}, s.now())
			if err != nil {
				return err
			}
			var errs []core.FieldError
			for _, e := range plan.Errors() {
				e.Field = "parameters." + e.Field
				errs = append(errs, e)
			}
			if len(errs) > 0 {
				return core.Invalid(errs)
			}
			// The next run follows from the schedule as it now is.
			r.NextRunAt = nil
			if r.Active {
				next := r.Next(s.now())
				r.NextRunAt = &next
			}
			return nil
		},
		sorts: commonSorts(map[string]func(*core.ReportSchedule) string{"name": func(r *core.ReportSchedule) string { return r.Name }}),
	}).init()
}

type reportSchedules struct {
	repo[core.ReportSchedule, *core.ReportSchedule]
}

// ReportSchedules returns the report schedules and their runs.
func (s *Store) ReportSchedules() core.ReportScheduleService {
	return reportSchedules{repo[core.ReportSchedule, *core.ReportSchedule]{s: s, t: s.tables.reportSchedule}}
}

func (r reportSchedules) List(ctx context.Context, f core.ListParams) (core.Page[core.ReportSchedule], error) {
	q := &query{}
	if f.Query != "" {
		q.anyLike(f.Query, "name", "report")
	}
	return r.t.list(ctx, r.s, q, f)
}

const runColumns = `id::text, schedule_id::text, report, started_at, finished_at, rows, duration_ms, status, error, email_id::text`

func scanRun(row pgx.Row) (core.ReportRunRecord, error) {
	var rr core.ReportRunRecord
	err := row.Scan(&rr.ID, &rr.ScheduleID, &rr.Report, &rr.StartedAt, &rr.FinishedAt, &rr.Rows, &rr.DurationMS, &rr.Status,
		&rr.Error, &rr.EmailID)
	return rr, err
}

// ClaimDue implements core.ReportScheduleService.
func (r reportSchedules) ClaimDue(ctx context.Context, now time.Time, limit int) ([]core.ReportRunRecord, error) {
	var out []core.ReportRunRecord
	err := pgx.BeginFunc(ctx, r.s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, r.t.selectSQL+` WHERE active AND deleted_at IS NULL AND next_run_at <= $1
			ORDER BY next_run_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, limit)
		if err != nil {
			return err
		}
		due, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*core.ReportSchedule, error) { return r.t.scan(row) })
		if err != nil {
			return err
		}
		for _, sc := range due {
			next := sc.Next(now)
			if _, err := tx.Exec(ctx, `UPDATE report_schedules SET next_run_at = $2, last_run_at = $3 WHERE id = $1`,
				sc.ID, next, now); err != nil {
				return err
			}
			run, err := scanRun(tx.QueryRow(ctx, `INSERT INTO report_runs (id, schedule_id, report, started_at, status)
				VALUES ($1, $2, $3, $4, 'running') RETURNING `+runColumns, uuid.Must(uuid.NewV7()), sc.ID, sc.Report, now))
			if err != nil {
				return err
			}
			out = append(out, run)
		}
		return nil
	})
	return out, wrap("claim due report schedules", err)
}

// StartRun implements core.ReportScheduleService.
func (r reportSchedules) StartRun(ctx context.Context, scheduleID string) (*core.ReportRunRecord, error) {
	sc, err := r.Get(ctx, scheduleID)
	if err != nil {
		return nil, wrap("start report run", err)
	}
	run, err := scanRun(r.s.db(ctx).QueryRow(ctx, `INSERT INTO report_runs (id, schedule_id, report, started_at, status)
		VALUES ($1, $2, $3, $4, 'running') RETURNING `+runColumns, uuid.Must(uuid.NewV7()), sc.ID, sc.Report, r.s.now()))
	if err != nil {
		return nil, wrap("start report run", err)
	}
	return &run, nil
}

// FinishRun implements core.ReportScheduleService.
func (r reportSchedules) FinishRun(ctx context.Context, run core.ReportRunRecord) error {
	_, err := r.s.db(ctx).Exec(ctx, `UPDATE report_runs SET finished_at = $2, rows = $3, duration_ms = $4, status = $5, error = $6,
		email_id = $7::uuid WHERE id = $1`, run.ID, run.FinishedAt, run.Rows, run.DurationMS, run.Status, run.Error, run.EmailID)
	return wrap("finish report run", err)
}

// Runs implements core.ReportScheduleService.
func (r reportSchedules) Runs(ctx context.Context, scheduleID string, limit int) ([]core.ReportRunRecord, error) {
	if _, err := r.Get(ctx, scheduleID); err != nil {
		return nil, wrap("report runs", err)
	}
	rows, err := r.s.db(ctx).Query(ctx, `SELECT `+runColumns+` FROM report_runs WHERE schedule_id = $1
		ORDER BY started_at DESC, id DESC LIMIT $2`, scheduleID, limit)
	if err != nil {
		return nil, wrap("report runs", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.ReportRunRecord, error) { return scanRun(row) })
	if errors.Is(err, pgx.ErrNoRows) {
		return []core.ReportRunRecord{}, nil
	}
	if out == nil {
		out = []core.ReportRunRecord{}
	}
	return out, wrap("report runs", err)
}
