package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/reportsql"
)

var _ core.ReportService = reports{}

// Report run limits (SetReportLimits).
type reportLimits struct {
	maxRows int
	timeout time.Duration
	loc     *time.Location
}

// SetReportLimits sets the most rows a report returns, how long its
// statements may run and the time zone its dates are in.
func (s *Store) SetReportLimits(maxRows int, timeout time.Duration, loc *time.Location) {
	s.reportLimits = reportLimits{maxRows: maxRows, timeout: timeout, loc: loc}
}

func (s *Store) limits() reportLimits {
	l := s.reportLimits
	if l.maxRows <= 0 {
		l.maxRows = 100_000
	}
	if l.timeout <= 0 {
		l.timeout = 30 * time.Second
	}
	if l.loc == nil {
		l.loc = time.UTC
	}
	return l
}

func (s *Store) newReportTable() *table[core.Report, *core.Report] {
	return (&table[core.Report, *core.Report]{
		entity: core.EntityReport, name: "reports", schema: core.ReportSchema,
		cols: func(r *core.Report) []col {
			return []col{{"name", &r.Name}, {"slug", &r.Slug}, {"description", &r.Description},
				{"definition", &r.ReportDefinition}}
		},
		validate: (*core.Report).Validate,
		prepare: func(ctx context.Context, db dbtx, _, r *core.Report) error {
			// The fields, links and operators it names must exist (and
			// not be hidden from the user who writes it).
			p, err := s.compileFor(ctx, db, core.AccessFromContext(ctx), &r.ReportDefinition, core.ReportRun{}, s.now())
			if err != nil {
				return err
			}
			if errs := p.Errors(); len(errs) > 0 {
				return core.Invalid(errs)
			}
			if r.Slug != "" && (core.StandardReport(r.Slug) != nil || r.Slug == "standard") {
				return core.Invalid([]core.FieldError{{Field: "slug", Code: "reserved", Message: "is the slug of a standard report"}})
			}
			if r.Slug != "" {
				var taken bool
				if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reports WHERE slug = $1 AND id <> $2::uuid AND deleted_at IS NULL)`,
					r.Slug, nullUUID(r.ID)).Scan(&taken); err != nil {
					return err
				}
				if taken {
					return core.Invalid([]core.FieldError{{Field: "slug", Code: "taken", Message: "another report has this slug"}})
				}
			}
			return nil
		},
		sorts: commonSorts(map[string]func(*core.Report) string{"name": func(r *core.Report) string { return r.Name }}),
	}).init()
}

func nullUUID(id string) string {
	if id == "" {
		return uuid.Nil.String()
	}
	return id
}

type reports struct {
	repo[core.Report, *core.Report]
}

// Reports returns the report definitions and their runner.
func (s *Store) Reports() core.ReportService {
	return reports{repo[core.Report, *core.Report]{s: s, t: s.tables.report}}
}

func (r reports) List(ctx context.Context, f core.ListParams) (core.Page[core.Report], error) {
	q := &query{}
	if f.Query != "" {
		q.anyLike(f.Query, "name", "slug")
	}
	return r.t.list(ctx, r.s, q, f)
}

// Find returns a standard report by slug, or a stored one by id or slug.
func (r reports) Find(ctx context.Context, idOrSlug string) (*core.Report, error) {
	return r.s.findReport(ctx, r.s.db(ctx), idOrSlug)
}

// findReport is Find on db.
func (s *Store) findReport(ctx context.Context, db dbtx, idOrSlug string) (*core.Report, error) {
	if std := core.StandardReport(idOrSlug); std != nil {
		return std, nil
	}
	if uuid.Validate(idOrSlug) == nil {
		rec, err := s.tables.report.getFor(ctx, db, idOrSlug, core.ActView)
		return (*core.Report)(rec), err
	}
	var id string
	err := db.QueryRow(ctx, `SELECT id::text FROM reports WHERE slug = $1 AND deleted_at IS NULL`, idOrSlug).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "report not found")
	}
	if err != nil {
		return nil, err
	}
	rec, err := s.tables.report.getFor(ctx, db, id, core.ActView)
	return (*core.Report)(rec), err
}

// rEntity is a report entity: store.go's reportReg holds the registry
// the compiler (core/reportsql) reads.
type rEntity = reportsql.Entity

func reportRegistry() reportsql.Registry { return reportsql.NewRegistry() }

// compile checks a definition and a run against the registry and builds
// their plan, within the configured row limit and time zone; the plan's
// Errors hold what is wrong.
func (s *Store) compile(ctx context.Context, db dbtx, d *core.ReportDefinition, run core.ReportRun, now time.Time) (*reportsql.Plan, error) {
	return s.compileFor(ctx, db, nil, d, run, now)
}

// registry is the report registry with the custom fields defined now,
// read through db.
func (s *Store) registry(ctx context.Context, db dbtx) (reportsql.Registry, error) {
	var defs []core.CustomField
	for _, e := range core.CustomFieldEntities() {
		d, err := s.customFieldsFor(ctx, db, e)
		if err != nil {
			return nil, err
		}
		defs = append(defs, d...)
	}
	return reportsql.Registry(s.reportReg).WithCustom(defs), nil
}

// compileFor is compile for a user: their report shows the records they
// may see and none of the fields their role hides (nil: everything).
func (s *Store) compileFor(ctx context.Context, db dbtx, acc *core.Access, d *core.ReportDefinition, run core.ReportRun, now time.Time) (*reportsql.Plan, error) {
	reg, err := s.registry(ctx, db)
	if err != nil {
		return nil, err
	}
	lim := s.limits()
	o := reportsql.Options{Now: now, Loc: lim.loc, MaxRows: lim.maxRows}
	if acc != nil {
		o.Access = &reportsql.Access{
			Visible: func(entity, row string, arg func(any) string) string {
				_, owned := ownedTables[entity]
				return visibleCondArgs(arg, acc, entity, !owned, core.ActView, row)
			},
			Hidden: acc.HiddenFields,
		}
	}
	return reportsql.Compile(reg, d, run, o), nil
}

// Catalog implements core.ReportService: the registry as the compiler
// reads it, in name order, with picklist labels (a deal stage's from every
// pipeline).
func (r reports) Catalog(ctx context.Context) ([]core.ReportEntityInfo, error) {
	reg, err := r.s.registry(ctx, r.s.db(ctx))
	if err != nil {
		return nil, err
	}
	info, err := reg.Catalog(func(query string) (map[string]string, error) {
		return readLabels(ctx, r.s.conn, query)
	})
	if err != nil {
		return nil, fmt.Errorf("report catalog: %w", err)
	}
	return info, nil
}

// Run runs a report within the statement timeout and row limit.
func (r reports) Run(ctx context.Context, rep *core.Report, run core.ReportRun) (*core.ReportResult, error) {
	s := r.s
	now := s.now()
	if errs := rep.ReportDefinition.Check(); len(errs) > 0 {
		return nil, core.Invalid(errs)
	}
	p, err := s.compileFor(ctx, s.db(ctx), core.AccessFromContext(ctx), &rep.ReportDefinition, run, now)
	if err != nil {
		return nil, err
	}
	if errs := p.Errors(); len(errs) > 0 {
		return nil, core.Invalid(errs)
	}
	res := p.NewResult(rep, now)
	lim := s.limits()
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('statement_timeout', $1, true)`,
			strconv.FormatInt(lim.timeout.Milliseconds(), 10)); err != nil {
			return err
		}
		if p.HasDetail() {
			if err := readRows(ctx, tx, p.DetailSQL(), p.Args(), func(vals []any) bool { return p.AddDetailRow(res, vals) }); err != nil {
				return err
			}
		}
		if p.HasSummary() {
			if err := readRows(ctx, tx, p.SummarySQL(), p.Args(), func(vals []any) bool { return p.AddSummaryRow(res, vals) }); err != nil {
				return err
			}
		}
		p.PlaceSubtotals(res)
		return p.LiveLabels(res, func(query string) (map[string]string, error) { return readLabels(ctx, tx, query) })
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "57014" {
		return nil, core.Errorf(core.EUNAVAILABLE, "the report ran longer than %s: narrow its filters or period", lim.timeout)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return res, nil
}

// readRows runs a report query and hands add each row, its integers as
// int64, until add says it has enough.
func readRows(ctx context.Context, tx pgx.Tx, sql string, args []any, add func(vals []any) bool) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		if !add(normalize(vals)) {
			break
		}
	}
	return rows.Err()
}

// readLabels runs a field's label query: (code, label) rows.
func readLabels(ctx context.Context, db dbtx, sql string) (map[string]string, error) {
	rows, err := db.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	labels := map[string]string{}
	for rows.Next() {
		var code, label string
		if err := rows.Scan(&code, &label); err != nil {
			return nil, err
		}
		if label != "" {
			labels[code] = label
		}
	}
	return labels, rows.Err()
}

// normalize turns the driver's values into JSON-friendly ones.
func normalize(vals []any) []any {
	for i, v := range vals {
		switch t := v.(type) {
		case int32:
			vals[i] = int64(t)
		case int16:
			vals[i] = int64(t)
		}
	}
	return vals
}
