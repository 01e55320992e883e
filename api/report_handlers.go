package api

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/reportout"
)

// mountReports registers report definitions, the standard reports and
// their runs.
func (s *Server) mountReports(v1 fiber.Router) {
	if s.deps.Reports == nil {
		return
	}
	h := crud[core.Report, *core.Report]{path: "/api/v1/reports", repo: s.deps.Reports, ifMatch: s.ifMatch, audit: s.auditWrite(core.EntityReport)}
	v1.Get("/reports", need(core.ScopeRead), s.listReports)
	v1.Post("/reports", need(core.ScopeWrite), jsonBody, s.idempotent, h.create)
	v1.Get("/reports/standard", need(core.ScopeRead), s.standardReports)
	v1.Get("/reports/fields", need(core.ScopeRead), s.reportFields)
	v1.Get("/reports/:id", need(core.ScopeRead), s.getReport)
	v1.Patch("/reports/:id", need(core.ScopeWrite), jsonBody, h.update)
	v1.Delete("/reports/:id", need(core.ScopeWrite), h.delete)
	v1.Get("/reports/:id/run", need(core.ScopeRead), s.runReport)
	if s.deps.ReportSchedules != nil {
		mount[core.ReportSchedule](s, v1, "/report-schedules", s.deps.ReportSchedules, s.listReportSchedules, need(core.ScopeWrite))
		v1.Get("/report-schedules/:id/runs", need(core.ScopeRead), s.reportRuns)
		if s.deps.ReportRunner != nil {
			v1.Post("/report-schedules/:id/run", need(core.ScopeWrite), s.runScheduleNow)
		}
	}
}

func (s *Server) listReportSchedules(c *fiber.Ctx) error {
	var f core.ListParams
	return serveList(c, []string{"created_at", "updated_at", "name"}, &f, nil, func(ctx context.Context) (core.Page[core.ReportSchedule], error) {
		return s.deps.ReportSchedules.List(ctx, f)
	})
}

// reportRuns lists a schedule's runs, newest first (?limit=1..500, 50).
func (s *Server) reportRuns(c *fiber.Ctx) error {
	limit := 50
	for name, v := range c.Queries() {
		if name != "limit" {
			return core.Invalid([]core.FieldError{{Field: name, Code: "unknown_parameter", Message: "is not a parameter of this list"}})
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return core.Invalid([]core.FieldError{{Field: name, Code: "out_of_range", Message: "must be an integer from 1 to 500"}})
		}
		limit = n
	}
	runs, err := s.deps.ReportSchedules.Runs(c.UserContext(), c.Params("id"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": runs})
}

// runScheduleNow runs a schedule at once and answers with the run.
func (s *Server) runScheduleNow(c *fiber.Ctx) error {
	run, err := s.deps.ReportRunner.RunNow(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(run)
}

func (s *Server) listReports(c *fiber.Ctx) error {
	var f core.ListParams
	return serveList(c, []string{"created_at", "updated_at", "name"}, &f, nil, func(ctx context.Context) (core.Page[core.Report], error) {
		return s.deps.Reports.List(ctx, f)
	})
}

func (s *Server) standardReports(c *fiber.Ctx) error {
	reports := core.StandardReports()
	items := make([]standardReport, len(reports))
	for i, r := range reports {
		items[i] = standardOf(r)
	}
	return c.JSON(fiber.Map{"items": items})
}

// standardReport is a standard report as the API shows it: a definition
// found by its slug, never stored, so without the id, version and times
// of a stored one (the schema StandardReport).
type standardReport struct {
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Description string `json:"description"`
	core.ReportDefinition
}

func standardOf(r core.Report) standardReport {
	return standardReport{Name: r.Name, Slug: r.Slug, Description: r.Description, ReportDefinition: r.ReportDefinition}
}

// reportFields answers what definitions may name: entities, their fields
// and links.
func (s *Server) reportFields(c *fiber.Ctx) error {
	items, err := s.deps.Reports.Catalog(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// getReport answers a stored report by id or slug, or a standard one by
// its slug.
func (s *Server) getReport(c *fiber.Ctx) error {
	r, err := s.deps.Reports.Find(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	if r.ID != "" {
		return s.sendRecord(c, core.EntityReport, r.ID, r.Version, r)
	}
	return c.JSON(standardOf(*r))
}

// runReport runs a report: ?format=json|csv|xlsx|pdf|svg|png, from and to
// (dates, inclusive) on its date field, limit, sep=comma|semicolon for
// CSV, width and height for chart images; any other parameter is one the
// report declares. A chart image of a run that found nothing says «Нет
// данных» (still 200, for the dashboards that embed it).
func (s *Server) runReport(c *fiber.Ctx) error {
	ctx := c.UserContext()
	r, err := s.deps.Reports.Find(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	run := core.ReportRun{Parameters: map[string]string{}}
	format := "json"
	opts := reportout.Options{Location: s.deps.ReportLocation}
	var errs []core.FieldError
	bad := func(field, code, msg string) {
		errs = append(errs, core.FieldError{Field: field, Code: code, Message: msg})
	}
	date := func(name, v string) *time.Time {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			bad(name, "invalid_date", "must be a date such as 2026-11-27")
			return nil
		}
		return &t
	}
	pixels := func(name, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 4000 {
			bad(name, "out_of_range", "must be 100 to 4000 pixels")
		}
		return n
	}
	for name, v := range c.Queries() {
		switch name {
		case "format":
			format = v
		case "from":
			run.From = date(name, v)
		case "to":
			run.To = date(name, v)
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				bad(name, "out_of_range", "must be a positive integer")
			}
			run.Limit = n
		case "sep":
			switch v {
			case "comma", ",":
				opts.CSVSep = ','
			case "semicolon", ";":
				opts.CSVSep = ';'
			default:
				bad(name, "invalid_choice", "must be comma or semicolon")
			}
		case "width":
			opts.Width = pixels(name, v)
		case "height":
			opts.Height = pixels(name, v)
		default:
			run.Parameters[name] = v
		}
	}
	f, ok := reportout.FormatOf(format)
	if !ok {
		bad("format", "invalid_choice", "must be json, csv, xlsx, pdf, svg or png")
	}
	if len(errs) > 0 {
		return core.Invalid(errs)
	}
	res, err := s.deps.Reports.Run(ctx, r, run)
	if err != nil {
		return err
	}
	detail, _ := json.Marshal(map[string]any{"report": res.Name, "format": format, "rows": len(res.Rows)})
	if err := s.deps.Audit.Audit(ctx, core.AuditEntry{Action: core.AuditReportRun, Entity: core.EntityReport,
		RecordID: c.Params("id"), IP: c.IP(), Detail: detail}); err != nil {
		return err
	}
	if format == "json" {
		return c.JSON(res)
	}
	var b bytes.Buffer
	if err := reportout.Render(&b, res, format, opts); err != nil {
		return err
	}
	name := res.Name
	if r.Slug != "" {
		name = r.Slug
	}
	c.Set(fiber.HeaderContentType, f.ContentType)
	if format != "svg" && format != "png" {
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + f.Ext}))
	}
	return c.Send(b.Bytes())
}
