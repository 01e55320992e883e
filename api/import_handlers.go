package api

import (
	"encoding/json"
	"io"
	"mime"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// mountImports registers the Excel import jobs and templates.
func (s *Server) mountImports(v1 fiber.Router) {
	if s.deps.Imports == nil {
		return
	}
	v1.Get("/imports/templates/:file", need(core.ScopeRead), s.importTemplate)
	v1.Post("/imports", need(core.ScopeWrite), s.createImport)
	v1.Get("/imports/:id", need(core.ScopeRead), s.getImport)
	v1.Get("/imports/:id/errors.xlsx", need(core.ScopeRead), s.importErrors)
}

// createImport queues an import (multipart: file, entity, dry_run,
// on_duplicate, key, mapping as JSON, sheet, external_system,
// create_accounts) and answers 202 with the job.
func (s *Server) createImport(c *fiber.Ctx) error {
	form, err := c.MultipartForm()
	if err != nil {
		return core.Errorf(core.EINVALID, "the body must be multipart/form-data with the file and the entity")
	}
	var errs []core.FieldError
	value := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	for k := range form.Value {
		switch k {
		case "entity", "dry_run", "on_duplicate", "key", "mapping", "sheet", "external_system", "create_accounts":
		default:
			errs = append(errs, core.FieldError{Field: k, Code: "unknown_field",
				Message: "entity, dry_run, on_duplicate, key, mapping, sheet, external_system or create_accounts"})
		}
	}
	o := core.ImportOptions{Entity: strings.TrimSuffix(value("entity"), "s"), OnDuplicate: value("on_duplicate"), Key: value("key"),
		Sheet: value("sheet"), ExternalSystem: value("external_system")}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"dry_run", &o.DryRun}, {"create_accounts", &o.CreateAccounts}} {
		if v := value(f.name); v != "" {
			if *f.dst, err = strconv.ParseBool(v); err != nil {
				errs = append(errs, core.FieldError{Field: f.name, Code: "invalid", Message: "true or false"})
			}
		}
	}
	if v := value("mapping"); v != "" {
		if err := json.Unmarshal([]byte(v), &o.Mapping); err != nil {
			errs = append(errs, core.FieldError{Field: "mapping", Code: "invalid", Message: `a JSON object {"header": "field"}`})
		}
	}
	files := form.File["file"]
	if len(files) != 1 {
		errs = append(errs, core.FieldError{Field: "file", Code: "required", Message: "one .xlsx file"})
	}
	if err := core.Invalid(errs); err != nil {
		return err
	}
	fh, err := files[0].Open()
	if err != nil {
		return err
	}
	defer fh.Close()
	data, err := io.ReadAll(fh)
	if err != nil {
		return err
	}
	// A sheet over the row limit is refused now, not after a queue wait
	// and a long read; the job refuses it again before writing anything.
	if xlsx.Columns(o.Entity) != nil {
		custom, err := s.exportFields(c.UserContext(), o.Entity)
		if err != nil {
			return err
		}
		if _, err := xlsx.CountRows(data, o.Entity, o.Sheet, xlsx.Limits{MaxRows: s.cfg.ImportMaxRows}, custom...); err != nil {
			return err
		}
	}
	im, err := s.deps.Imports.CreateImport(c.UserContext(), o, files[0].Filename, data)
	if err != nil {
		return err
	}
	if s.deps.ImportQueued != nil {
		s.deps.ImportQueued()
	}
	c.Location("/api/v1/imports/" + im.ID)
	return c.Status(fiber.StatusAccepted).JSON(s.shownImport(im))
}

// shownImport completes a job for its JSON: empty lists rather than null,
// and the row limit the runner holds it to.
func (s *Server) shownImport(im *core.Import) *core.Import {
	im.RowLimit = int64(s.cfg.ImportMaxRows)
	if im.Header == nil {
		im.Header = []string{}
	}
	if im.Unmapped == nil {
		im.Unmapped = []string{}
	}
	if im.Mapping == nil {
		im.Mapping = map[string]string{}
	}
	if im.Options.Mapping == nil {
		im.Options.Mapping = map[string]string{}
	}
	return im
}

func (s *Server) getImport(c *fiber.Ctx) error {
	im, err := s.deps.Imports.GetImport(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(s.shownImport(im))
}

// importErrors serves the rows that failed, as they came, with a column
// saying why.
func (s *Server) importErrors(c *fiber.Ctx) error {
	im, err := s.deps.Imports.GetImport(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	fails, err := s.deps.Imports.ImportFailures(c.UserContext(), im.ID)
	if err != nil {
		return err
	}
	header := append(append([]string{"Строка"}, im.Header...), "Ошибка")
	rows := make([][]string, len(fails))
	for i, f := range fails {
		row := append([]string{strconv.Itoa(f.Row)}, f.Cells...)
		for len(row) < len(header)-1 {
			row = append(row, "")
		}
		rows[i] = append(row[:len(header)-1], f.Reason)
	}
	c.Set(fiber.HeaderContentType, xlsxType)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": "Ошибки импорта " + im.FileName}))
	return xlsx.WriteTable(c.Response().BodyWriter(), header, rows)
}

// importTemplate serves an entity's template ({entity}.xlsx).
func (s *Server) importTemplate(c *fiber.Ctx) error {
	entity, ok := strings.CutSuffix(c.Params("file"), ".xlsx")
	if !ok {
		return core.Errorf(core.ENOTFOUND, "templates are {entity}.xlsx")
	}
	entity = strings.TrimSuffix(entity, "s")
	switch entity {
	case core.EntityLead, core.EntityContact, core.EntityAccount, core.EntityDeal, core.EntityProduct, core.EntityService, core.EntityPrice:
	default:
		return core.Errorf(core.ENOTFOUND, "no template for %q: leads, contacts, accounts, deals, products, services or prices", c.Params("file"))
	}
	custom, err := s.exportFields(c.UserContext(), entity)
	if err != nil {
		return err
	}
	if acc := core.AccessFromContext(c.UserContext()); acc != nil { // a field the role hides is not theirs to fill
		custom = slices.DeleteFunc(custom, func(f core.CustomField) bool { return acc.Field(entity, "custom."+f.Key) == core.FieldHidden })
	}
	c.Set(fiber.HeaderContentType, xlsxType)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": entity + "s.xlsx"}))
	return xlsx.Template(c.Response().BodyWriter(), entity, custom...)
}
