package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// maxImportFile bounds a workbook the CLI imports.
const maxImportFile = 512 << 20

func (m *Main) importCmd(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("import", "import FILE.xlsx --entity leads|contacts|accounts|deals|products|services|prices [--dry-run] [--create-accounts] [--on-duplicate skip|update|create] [--key K]")
	entity := fs.String("entity", "", "what the rows are: leads, contacts, accounts, deals, products, services or prices (required)")
	dry := fs.Bool("dry-run", false, "validate every row, write nothing")
	createAccounts := fs.Bool("create-accounts", false, "contacts: create the account an «Организация» column names when none has that name or ИНН")
	onDup := fs.String("on-duplicate", "skip", "a row whose key matches an existing record: skip, update or create")
	key := fs.String("key", "", "the duplicate key: id, email, phone, inn, sku or external_id (default: the entity's natural one)")
	system := fs.String("external-system", "", "the system of the «Внешний код» column (default onec, the 1C Ид)")
	sheet := fs.String("sheet", "", "the sheet (default: the first)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var files []string // the file may come before the flags
	for fs.NArg() > 0 {
		files = append(files, fs.Arg(0))
		if err := parse(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	if len(files) != 1 {
		return usagef("give one .xlsx file")
	}
	path := files[0]
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Size() > maxImportFile {
		return fmt.Errorf("%s is %d bytes; at most %d", path, st.Size(), maxImportFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	o := core.ImportOptions{Entity: strings.TrimSuffix(*entity, "s"), DryRun: *dry, OnDuplicate: *onDup, Key: *key, Sheet: *sheet,
		ExternalSystem: *system, CreateAccounts: *createAccounts}
	if err := store.CheckImportOptions(&o); err != nil {
		return usagef("%s", core.ErrorFields(err)[0].Field+": "+core.ErrorFields(err)[0].Message)
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	lim := xlsx.Limits{MaxRows: cfg.Imports.MaxRows}
	if _, err := xlsx.CountRows(data, o.Entity, o.Sheet, lim); err != nil {
		return fmt.Errorf("%s: %s", path, core.ErrorMessage(err))
	}
	return m.withStore(ctx, *cfgPath, func(s *store.Store) error {
		ctx := core.NewContextWithActor(ctx, core.Actor{ID: "cli", Source: "cli"})
		im, err := s.CreateImport(ctx, o, path, data)
		if err != nil {
			return describe(err)
		}
		// The bar is made once the total is known: an open-ended one runs a
		// spinner goroutine that races with updates (progressbar v3.19).
		var bar *progressbar.ProgressBar
		r := imports.New(imports.Config{Limits: lim, Fields: s}, s)
		if _, err := r.RunJob(ctx, im.ID, func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(max(total, done, 1), progressbar.OptionSetWriter(m.Stderr),
					progressbar.OptionSetDescription("rows"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("rows"), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			bar.ChangeMax64(max(total, done, 1))
			_ = bar.Set64(done)
		}); err != nil {
			return err
		}
		if bar != nil {
			_ = bar.Finish()
		}
		if im, err = s.GetImport(ctx, im.ID); err != nil {
			return err
		}
		verb := "imported"
		if o.DryRun {
			verb = "checked (dry run, nothing written)"
		}
		fmt.Fprintf(m.Stdout, "%s %s: %d rows; created %d, updated %d, skipped %d, failed %d (%.0f rows/s)\n", verb, path,
			im.RowsDone, im.Created, im.Updated, im.Skipped, im.Failed, im.RowsPerSec)
		if im.AccountsLinked > 0 || im.AccountsCreated > 0 {
			fmt.Fprintf(m.Stdout, "contacts linked to accounts: %d; accounts created: %d\n", im.AccountsLinked, im.AccountsCreated)
		}
		if len(im.Unmapped) > 0 {
			fmt.Fprintf(m.Stdout, "ignored columns: %s\n", strings.Join(im.Unmapped, ", "))
		}
		if im.Status == "failed" {
			return fmt.Errorf("import failed: %s", im.Error)
		}
		if im.Failed > 0 {
			fails, err := s.ImportFailures(ctx, im.ID)
			if err != nil {
				return err
			}
			out := strings.TrimSuffix(path, ".xlsx") + ".errors.xlsx"
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			defer f.Close()
			rows := make([][]string, len(fails))
			for i, fl := range fails {
				rows[i] = append(append([]string{fmt.Sprint(fl.Row)}, fl.Cells...), fl.Reason)
			}
			if err := xlsx.WriteTable(f, append(append([]string{"Строка"}, im.Header...), "Ошибка"), rows); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "failed rows, with the reasons: %s\n", out)
		}
		return nil
	})
}

func (m *Main) exportCmd(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("export", "export --entity leads|contacts|accounts|deals|products|invoices|payments|activities [-q TEXT] [--owner ID] [--created-from DATE] [--created-to DATE] [--codes] -o FILE")
	entity := fs.String("entity", "", "what to export (required)")
	q := fs.String("q", "", "text match, as the API's q")
	owner := fs.String("owner", "", "the owner's user id")
	from := fs.String("created-from", "", "created on or after (YYYY-MM-DD)")
	to := fs.String("created-to", "", "created before (YYYY-MM-DD)")
	out := fs.String("o", "", "the .xlsx file to write (required)")
	codes := fs.Bool("codes", false, "write picklist codes (qualified), for machines, not the Russian labels people read (Классифицирован)")
	if err := parse(fs, args); err != nil {
		return err
	}
	kind := map[string]string{"leads": core.EntityLead, "contacts": core.EntityContact, "accounts": core.EntityAccount,
		"deals": core.EntityDeal, "products": core.EntityProduct, "invoices": core.EntityInvoice, "payments": core.EntityPayment,
		"activities": core.EntityActivity}[*entity]
	if kind == "" && xlsx.Columns(*entity) != nil {
		kind = *entity // the singular is fine too
	}
	if xlsx.Columns(kind) == nil {
		return usagef("--entity: leads, contacts, accounts, deals, products, invoices, payments or activities, not %q", *entity)
	}
	if *out == "" {
		return usagef("-o FILE is required")
	}
	p := core.ListParams{Query: *q, OwnerID: *owner, Limit: 1000, Sort: core.Sort{Field: "created_at"}}
	for _, d := range []struct {
		v   string
		dst *time.Time
	}{{*from, &p.CreatedFrom}, {*to, &p.CreatedTo}} {
		if d.v == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.v)
		if err != nil {
			return usagef("dates are YYYY-MM-DD, not %q", d.v)
		}
		*d.dst = t
	}
	return m.withStore(ctx, *cfgPath, func(s *store.Store) error {
		var custom []core.CustomField
		if slices.Contains(core.CustomFieldEntities(), kind) {
			var err error
			if custom, err = s.CustomFields(ctx, kind); err != nil {
				return err
			}
		}
		w, err := xlsx.NewExport(kind, xlsx.ExportConfig{Custom: custom, Codes: *codes})
		if err != nil {
			return err
		}
		switch kind {
		case core.EntityLead:
			err = exportAll(ctx, w, &p, func(p core.ListParams) (core.Page[core.Lead], error) {
				return s.Leads().List(ctx, core.LeadFilter{ListParams: p})
			})
		case core.EntityContact:
			err = exportAll(ctx, w, &p, func(p core.ListParams) (core.Page[core.Contact], error) {
				return s.Contacts().List(ctx, core.ContactFilter{ListParams: p})
			})
		case core.EntityAccount:
			err = exportAll(ctx, w, &p, func(p core.ListParams) (core.Page[core.Account], error) {
				return s.Accounts().List(ctx, core.AccountFilter{ListParams: p})
			})
		case core.EntityDeal:
			err = exportAll(ctx, w, &p, func(p core.ListParams) (core.Page[core.Deal], error) {
				return s.Deals().List(ctx, core.DealFilter{ListParams: p})
			})
		case core.EntityProduct:
			err = exportAll(ctx, w, &p, func(p core.ListParams) (core.Page[core.Product], error) {
				return s.Products().List(ctx, core.CatalogFilter{ListParams: p})
			})
		case core.EntityInvoice:
			err = exportAll(ctx, w, &p, func(p core.ListParams) (core.Page[core.Invoice], error) {
				return s.Invoices().List(ctx, core.DocumentFilter{ListParams: p})
			})
		case core.EntityPayment:
			err = exportAll(ctx, w, &p, func(p core.ListParams) (core.Page[core.Payment], error) {
				return s.Payments().List(ctx, core.PaymentFilter{ListParams: p})
			})
		case core.EntityActivity:
			err = exportAll(ctx, w, &p, func(p core.ListParams) (core.Page[core.Activity], error) {
				return s.Activities().List(ctx, core.ActivityFilter{ListParams: p})
			})
		}
		if err != nil {
			return describe(err)
		}
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := w.Close(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "wrote %s (%d rows)\n", *out, w.Rows())
		return nil
	})
}

// exportAll writes every page of a list.
func exportAll[T any](ctx context.Context, w *xlsx.Writer, p *core.ListParams, list func(core.ListParams) (core.Page[T], error)) error {
	for {
		page, err := list(*p)
		if err != nil {
			return err
		}
		for i := range page.Items {
			if err := w.Write(&page.Items[i]); err != nil {
				return err
			}
		}
		if page.NextCursor == "" || len(page.Items) == 0 || ctx.Err() != nil {
			return ctx.Err()
		}
		p.Cursor = page.NextCursor
	}
}
