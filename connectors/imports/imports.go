// Package imports runs Excel import jobs: it reads a workbook row by row
// (never the whole sheet in memory), finds the header row, maps its
// columns onto the entity's fields by their Russian or English names,
// parses each cell as its field's kind, and hands the rows to the store in
// batches that commit with the job's progress, so a killed import resumes
// where it stopped. A sheet with more data rows than the limit is refused
// before the first batch. Jobs of different users or API keys run side by
// side (a bounded pool); the jobs of one run one after another.
package imports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// Config configures a Runner.
type Config struct {
	// BatchSize is how many rows commit together. Default 2000.
	BatchSize int
	// PollInterval is how often queued jobs are looked for. Default 1 s.
	PollInterval time.Duration
	// Lease keeps a running job from other runners. Default 2 minutes
	// (extended by every batch).
	Lease time.Duration
	// Workers is how many jobs run at once (each of another user or key).
	// Default 2.
	Workers int
	// Limits bound a workbook; Limits.MaxRows is the most data rows a job
	// may have (default 1,000,000).
	Limits xlsx.Limits
	// Fields, when set, gives each kind's custom fields: a header naming
	// one (its label in Russian or English, or custom.<key>) imports into
	// the record's custom object. Nil: the built-in columns only.
	Fields FieldSource
	Logger *slog.Logger
}

// FieldSource gives a kind's live custom field definitions, in position
// order (core.CustomFieldService has it).
type FieldSource interface {
	CustomFields(ctx context.Context, entity string) ([]core.CustomField, error)
}

// Runner runs import jobs.
type Runner struct {
	cfg   Config
	store core.ImportService
	wake  chan struct{}
}

// New returns a runner of the jobs store keeps.
func New(cfg Config, store core.ImportService) *Runner {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 2000
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, store: store, wake: make(chan struct{}, 1)}
}

// Wake makes the runner look for jobs now (a job was queued).
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run runs queued jobs, Workers at a time, until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// work is one worker of the pool: it runs jobs while there are any, then
// waits for a wake-up or the next poll.
func (r *Runner) work(ctx context.Context) {
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		for {
			ran, err := r.RunOnce(ctx, nil)
			if err != nil && ctx.Err() == nil {
				r.cfg.Logger.Warn("import_runner", "error", err)
			}
			if !ran || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// Progress is told how far a job got.
type Progress func(done, total int64)

// RunOnce runs the oldest queued job (or one whose runner died), if any.
func (r *Runner) RunOnce(ctx context.Context, progress Progress) (bool, error) {
	return r.RunJob(ctx, "", progress)
}

// RunJob runs the job id ("" for the oldest queued one), if it is queued.
func (r *Runner) RunJob(ctx context.Context, id string, progress Progress) (bool, error) {
	im, file, err := r.store.ClaimImport(ctx, id, r.cfg.Lease)
	if err != nil || im == nil {
		return false, err
	}
	r.Wake() // an idle worker looks for the next job meanwhile
	err = r.process(ctx, im, file, progress)
	if ctx.Err() != nil {
		return true, ctx.Err() // stopped: the lease expires and the job resumes
	}
	msg := ""
	if err != nil {
		msg = err.Error()
		if c := core.ErrorCode(err); c != core.EINTERNAL {
			msg = core.ErrorMessage(err)
		}
	}
	r.cfg.Logger.Info("import_done", "id", im.ID, "entity", im.Options.Entity, "error", msg)
	return true, r.store.FinishImport(context.WithoutCancel(ctx), im.ID, msg)
}

// headerSearch is how many rows the header may be preceded by (titles).
const headerSearch = xlsx.HeaderSearch

func (r *Runner) process(ctx context.Context, im *core.Import, file []byte, progress Progress) error {
	o := im.Options
	custom, err := r.customFields(ctx, o.Entity)
	if err != nil {
		return err
	}
	// The rows are counted first, as a stream of the sheet's XML: a sheet
	// over the limit fails here, before anything is written.
	count, err := xlsx.CountRows(file, o.Entity, o.Sheet, r.cfg.Limits, custom...)
	if err != nil {
		return err
	}
	book, err := xlsx.Open(bytes.NewReader(file), r.cfg.Limits)
	if err != nil {
		return err
	}
	defer book.Close()
	// One pass: the header row (below any titles), then the data rows,
	// past those already applied (a resumed job). The total is the sheet's
	// declared dimension until the end, then the rows counted.
	var (
		header    []string
		headerRow int
		mapping   xlsx.Mapping
		shown     map[string]string
		total     int64
		counted   int64
	)
	skip := im.RowsDone
	done := im.RowsDone
	var batch []core.ImportRow
	// Merged cells carry their value (in the top-left cell) to every row
	// and column they cover, as the user sees it.
	merged := xlsx.MergedRanges(file, o.Sheet, 10_000)
	mergedValue := map[int]string{}
	// Reading the sheet (CPU) and applying batches (mostly PostgreSQL)
	// overlap: a writer goroutine applies one batch while the next is read.
	batches := make(chan []core.ImportRow, 1)
	werr := make(chan error, 1)
	wctx, stopWriter := context.WithCancel(ctx)
	defer stopWriter()
	go func() {
		defer close(werr)
		for b := range batches {
			if err := r.store.ApplyImportRows(wctx, im.ID, b, r.cfg.Lease); err != nil {
				werr <- err
				stopWriter()
				for range batches { // let the reader finish sending
				}
				return
			}
			done += int64(len(b))
			if progress != nil {
				progress(done, max(total, done))
			}
		}
	}()
	writerDone := false
	wait := func() error {
		if !writerDone {
			writerDone = true
			close(batches)
		}
		return <-werr
	}
	defer func() { _ = wait() }()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case batches <- batch:
		case <-wctx.Done():
			return wait()
		}
		batch = make([]core.ImportRow, 0, r.cfg.BatchSize)
		return nil
	}
	err = book.Rows(o.Sheet, func(row xlsx.Row, wide bool) error {
		if headerRow == 0 {
			if wide || !xlsx.FindHeader(o.Entity, row.Cells, custom...) {
				if row.Number >= headerSearch {
					return core.Errorf(core.EINVALID, "no header row naming %s fields in the first %d rows (e.g. «Фамилия», «Телефон», «E-mail»)",
						o.Entity, headerSearch)
				}
				return nil
			}
			header, headerRow = row.Cells, row.Number
			var err error
			if mapping, err = xlsx.MatchHeader(o.Entity, header, o.Mapping, custom...); err != nil {
				return err
			}
			shown = map[string]string{}
			for i, c := range mapping.Columns {
				if c.Key != "" {
					shown[header[i]] = c.Key
				}
			}
			total = int64(count.Rows)
			return r.store.StartImport(ctx, im.ID, header, shown, mapping.Unmapped, total)
		}
		if !wide && len(merged) > 0 {
			row.Cells = fillMerged(row, merged, mergedValue)
		}
		if !wide && blank(row.Cells) {
			return nil
		}
		if counted++; counted > int64(r.limits().MaxRows) {
			return xlsx.RowLimitError(r.limits().MaxRows, row.Number) // the count missed rows: still refused
		}
		if skip > 0 {
			skip--
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		batch = append(batch, r.row(o, mapping, row, wide))
		if len(batch) >= r.cfg.BatchSize {
			return flush()
		}
		return nil
	})
	if err != nil {
		if werr := wait(); werr != nil {
			return werr // the writer's failure is the cause
		}
		return err
	}
	if headerRow == 0 {
		return core.Errorf(core.EINVALID, "no header row naming %s fields in the first %d rows (e.g. «Фамилия», «Телефон», «E-mail»)",
			o.Entity, headerSearch)
	}
	if err := flush(); err != nil {
		return err
	}
	if err := wait(); err != nil {
		return err
	}
	if progress != nil && total != counted {
		progress(done, counted) // the estimate was off: the real count
	}
	return r.store.StartImport(ctx, im.ID, header, shown, mapping.Unmapped, counted)
}

// customFields are the custom fields the entity's columns may name: none
// without Config.Fields or for a kind without custom fields.
func (r *Runner) customFields(ctx context.Context, entity string) ([]core.CustomField, error) {
	if r.cfg.Fields == nil || !slices.Contains(core.CustomFieldEntities(), entity) {
		return nil, nil
	}
	defs, err := r.cfg.Fields.CustomFields(ctx, entity)
	if err != nil {
		return nil, fmt.Errorf("custom fields of %s: %w", entity, err)
	}
	return defs, nil
}

// fillMerged gives the cells a merged range covers its top-left value
// (values keeps the top-left values by range index).
func fillMerged(row xlsx.Row, ranges []xlsx.Range, values map[int]string) []string {
	cells := row.Cells
	for i, rg := range ranges {
		if row.Number < rg.Row1 || row.Number > rg.Row2 {
			continue
		}
		if row.Number == rg.Row1 {
			if rg.Col1 <= len(cells) {
				values[i] = cells[rg.Col1-1]
			}
		}
		v, ok := values[i]
		if !ok || v == "" {
			continue
		}
		for c := rg.Col1; c <= rg.Col2 && c <= 200; c++ {
			for len(cells) < c {
				cells = append(cells, "")
			}
			if cells[c-1] == "" {
				cells[c-1] = v
			}
		}
	}
	return cells
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// row turns a sheet row into an import row: the patch, the duplicate key
// and what was wrong with the cells.
func (r *Runner) row(o core.ImportOptions, m xlsx.Mapping, row xlsx.Row, wide bool) core.ImportRow {
	if wide {
		return core.ImportRow{Number: row.Number, Errors: []core.FieldError{{Field: "row", Code: "too_wide",
			Message: fmt.Sprintf("more than %d columns", r.limits().MaxColumns)}}}
	}
	p, errs := m.Patch(row.Cells, r.limits().MaxCell)
	ir := core.ImportRow{Number: row.Number, Cells: row.Cells, Patch: p, Errors: errs}
	if raw, ok := p["id"]; ok {
		delete(p, "id") // ids are the store's; an exported id finds the record
		if o.Key == "id" {
			_ = json.Unmarshal(raw, &ir.Key)
		}
	}
	ir.Links = links(p)
	if raw, ok := p["external_id"]; ok {
		delete(p, "external_id")
		var v string
		_ = json.Unmarshal(raw, &v)
		p.Set("external_ids", map[string]string{o.ExternalSystem: v})
		if o.Key == "external_id" {
			ir.Key = v
		}
	}
	if key, ok := strings.CutPrefix(o.Key, "custom."); ok {
		ir.Key = customKey(p, key)
	} else if o.Key != "id" && o.Key != "external_id" {
		var v string
		if raw, ok := p[o.Key]; ok {
			_ = json.Unmarshal(raw, &v)
		} else if o.Key == "phone" {
			if raw, ok := p["mobile"]; ok {
				_ = json.Unmarshal(raw, &v)
			}
		}
		switch o.Key {
		case "email":
			if n, ok := core.NormalizeEmail(v); ok {
				v = n
			}
		case "phone":
			if n, ok := core.NormalizePhone(v); ok {
				v = n
			}
		}
		ir.Key = v
	}
	return ir
}

// customKey is a row's value of the custom field key as the record would
// hold it, in the text custom->>'key' gives ("" for none).
func customKey(p core.Patch, key string) string {
	var custom map[string]json.RawMessage
	if json.Unmarshal(p["custom"], &custom) != nil {
		return ""
	}
	raw := custom[key]
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// links takes out of a contact row's patch the records it names instead of
// giving their ids: the account in «Организация», «ИНН» and «КПП», the
// manager in «Руководитель» when the cell is a name rather than an id.
func links(p core.Patch) core.ImportLinks {
	var l core.ImportLinks
	for key, dst := range map[string]*string{"account_name": &l.AccountName, "account_inn": &l.AccountINN, "account_kpp": &l.AccountKPP,
		"reports_to_id": &l.ReportsTo} {
		raw, ok := p[key]
		if !ok {
			continue
		}
		var v string
		_ = json.Unmarshal(raw, &v)
		if key == "reports_to_id" {
			if _, err := uuid.Parse(v); err == nil {
				continue // an id: the record's own rules check it
			}
		}
		delete(p, key)
		*dst = v
	}
	return l
}

func (r *Runner) limits() xlsx.Limits {
	l := r.cfg.Limits
	if l.MaxColumns <= 0 {
		l.MaxColumns = 200
	}
	if l.MaxCell <= 0 {
		l.MaxCell = 32_767
	}
	if l.MaxRows <= 0 {
		l.MaxRows = 1_000_000
	}
	return l
}
