package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// exportKey marks a list request as an export; its value is the rowSink.
type exportKey struct{}

// rowSink receives an export's records.
type rowSink interface{ Write(rec any) error }

// exportPage is the page size an export reads the list in.
const exportPage = 1000

// exportPaths are the lists that export, with their entity.
var exportPaths = []struct{ path, entity string }{
	{"/leads", core.EntityLead}, {"/contacts", core.EntityContact}, {"/accounts", core.EntityAccount},
	{"/deals", core.EntityDeal}, {"/products", core.EntityProduct}, {"/invoices", core.EntityInvoice},
	{"/payments", core.EntityPayment}, {"/activities", core.EntityActivity},
}

// mountExports registers GET /{list}/export.xlsx before the lists' /{id}
// routes would take "export.xlsx" for an id.
func (s *Server) mountExports(v1 fiber.Router, lists map[string]fiber.Handler) {
	for _, e := range exportPaths {
		if list := lists[e.entity]; list != nil {
			v1.Get(e.path+"/export.xlsx", need(core.ScopeRead), s.exportList(e.entity, list))
		}
	}
}

// exportList serves a list, with the same filters and sort, as a
// workbook of every matching record (not one page): the built-in columns,
// then one per custom field of the kind; the fields the user's role
// hides have none. Picklist fields hold their Russian labels unless
// ?codes=true asks for the codes.
func (s *Server) exportList(entity string, list fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		acc := core.AccessFromContext(c.UserContext())
		var hidden []string
		if acc != nil {
			if acc.Level(entity, core.ActExport) == core.LevelNone {
				return core.Forbidden(entity, core.ActExport)
			}
			hidden = acc.HiddenFields(entity)
		}
		codes, err := exportCodes(c)
		if err != nil {
			return err
		}
		custom, err := s.exportFields(c.UserContext(), entity)
		if err != nil {
			return err
		}
		w, err := xlsx.NewExport(entity, xlsx.ExportConfig{Custom: custom, Hidden: hidden, Codes: codes})
		if err != nil {
			return err
		}
		c.Locals(exportKey{}, rowSink(w))
		// The list reaches what the export right reaches, which is never
		// more than what the user sees.
		c.SetUserContext(core.NewContextForAction(c.UserContext(), core.ActExport))
		if err := list(c); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"rows": w.Rows(), "query": string(c.Request().URI().QueryString())})
		if err := s.deps.Audit.Audit(c.UserContext(), core.AuditEntry{Action: core.AuditExport, Entity: entity,
			IP: c.IP(), Detail: detail}); err != nil {
			return err
		}
		// Assembled in a temporary file, then streamed: memory stays flat.
		tmp, err := os.CreateTemp("", "crmhub-export-*.xlsx")
		if err != nil {
			return err
		}
		if err := w.Close(tmp); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
		size, err := tmp.Seek(0, io.SeekCurrent)
		if err == nil {
			_, err = tmp.Seek(0, io.SeekStart)
		}
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
		name := entity + "-" + time.Now().Format("2006-01-02") + ".xlsx"
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		c.Set("X-Rows", strconv.Itoa(w.Rows()))
		return c.SendStream(removeOnClose{tmp}, int(size))
	}
}

// exportCodes reads the export's own parameter, codes: true writes
// picklist codes (for machines) where people get Russian labels. It is
// taken out of the query, whose other parameters are the list's filters.
func exportCodes(c *fiber.Ctx) (bool, error) {
	args := c.Context().QueryArgs()
	if !args.Has("codes") {
		return false, nil
	}
	codes, err := strconv.ParseBool(string(args.Peek("codes")))
	if err != nil {
		return false, core.Invalid([]core.FieldError{{Field: "codes", Code: "invalid_type", Message: "must be true or false"}})
	}
	args.Del("codes")
	return codes, nil
}

// exportFields are the custom fields an export of entity has columns for,
// after the built-in ones: the kind's live fields (none for a kind
// without custom fields).
func (s *Server) exportFields(ctx context.Context, entity string) ([]core.CustomField, error) {
	if s.deps.CustomFields == nil || !slices.Contains(core.CustomFieldEntities(), entity) {
		return nil, nil
	}
	defs, err := s.deps.CustomFields.CustomFields(ctx, entity)
	if err != nil {
		return nil, fmt.Errorf("custom fields of %s: %w", entity, err)
	}
	return defs, nil
}

// removeOnClose deletes the temporary file once the response is sent.
type removeOnClose struct{ *os.File }

func (r removeOnClose) Close() error {
	err := r.File.Close()
	os.Remove(r.File.Name())
	return err
}
