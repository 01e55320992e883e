package onec

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

// System is the external_ids key of 1C's Ид.
const System = "onec"

// CatalogDeps are the services a catalog is applied through (each write
// with its change event).
type CatalogDeps struct {
	Products   core.ProductService
	Services   core.ServiceCatalog
	Groups     core.ProductGroupService
	PriceBooks core.PriceBookService
	// Items, when set, remembers what each good became and a digest of
	// what 1C sent: a repeated catalog skips the goods that did not change.
	Items ItemIndex
	// Tx, when set, applies each file in one transaction: a file that
	// fails halfway leaves the catalog as it was.
	Tx interface {
		Atomically(ctx context.Context, fn func(ctx context.Context) error) error
	}
	// Fields gives the products' custom fields, for the goods' values
	// requisites_map maps (needed when it maps product).
	Fields CustomFields
}

// ItemIndex keeps the goods the exchange applied, and creates new ones in
// bulk (COPY).
type ItemIndex interface {
	OneCItems(ctx context.Context) (map[string]core.OneCItem, error)
	SaveOneCItems(ctx context.Context, items []core.OneCItem) error
	CreateCatalogBulk(ctx context.Context, entity string, patches []core.Patch) ([]string, []error, error)
	SetPricesBulk(ctx context.Context, bookID string, prices []core.Price) (int, error)
	SetStockBulk(ctx context.Context, stock map[string]decimal.Decimal) (int, error)
	OneCProperties(ctx context.Context) (map[string]core.OneCProperty, error)
	SaveOneCProperty(ctx context.Context, p core.OneCProperty) error
}

// NewCatalog returns a catalog applier with cfg's CRMFields, Requisites
// and Logger (for the CLI: the same import from disk).
func NewCatalog(deps CatalogDeps, cfg Config) (*Catalog, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	req, err := newRequisites(cfg.Requisites.only(core.EntityProduct), deps.Fields, log)
	if err != nil {
		return nil, fmt.Errorf("onec: %w", err)
	}
	return &Catalog{deps: deps, crmFields: cfg.CRMFields, req: req, log: log}, nil
}

// Run applies a document as one job and returns its summary; progress,
// when set, is told how many items were processed, about once a second.
func (c *Catalog) Run(ctx context.Context, name string, r io.Reader, progress func(processed int64)) JobStatus {
	j := &Job{st: JobStatus{File: name, Status: "running", StartedAt: time.Now().UTC(), Errors: []string{}}, done: make(chan struct{})}
	stop := make(chan struct{})
	if progress != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					progress(j.snapshot().Processed)
				}
			}
		}()
	}
	err := c.Apply(ctx, r, j)
	close(stop)
	now := time.Now().UTC()
	j.update(func(s *JobStatus) {
		s.Status = "done"
		s.FinishedAt = &now
		if err != nil {
			s.Status = "failed"
			s.Error = err.Error()
		}
	})
	return j.snapshot()
}

// Catalog applies CommerceML catalogs and offer packages.
type Catalog struct {
	deps      CatalogDeps
	crmFields []string
	req       *requisites // the goods' mapped requisites and properties
	log       *slog.Logger
}

// Apply reads a document and applies what it holds: groups, goods (as
// products, or services when ТипНоменклатуры is Услуга, upserted by Ид),
// price types (price books by name), prices and stock; a full catalog
// (СодержитТолькоИзменения=false) then deactivates the goods it did not
// list. Row-level problems are recorded on the job and skipped.
func (c *Catalog) Apply(ctx context.Context, r io.Reader, j *Job) error {
	if c.deps.Tx == nil {
		return c.apply(ctx, r, j)
	}
	err := c.deps.Tx.Atomically(ctx, func(ctx context.Context) error { return c.apply(ctx, r, j) })
	if err != nil {
		// Rolled back: nothing of the file was applied.
		j.update(func(s *JobStatus) { s.Created, s.Updated, s.Deactivated = 0, 0, 0 })
	}
	return err
}

// groupIndex maps the 1C Ид of the stored groups to their ids.
func (c *Catalog) groupIndex(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	p := core.ListParams{Limit: 500, Sort: core.Sort{Field: "created_at"}}
	for {
		page, err := c.deps.Groups.List(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, g := range page.Items {
			if id := g.ExternalIDs[System]; id != "" {
				out[id] = g.ID
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		p.Cursor = page.NextCursor
	}
}

func (c *Catalog) group(ctx context.Context, index map[string]string, g commerceml.Group) error {
	patch := core.PatchOf(map[string]any{"name": strings.TrimSpace(g.Name), "external_ids": map[string]string{System: g.ID}})
	if g.Parent != "" {
		if pid, ok := index[g.Parent]; ok {
			patch.Set("parent_id", pid)
		}
	}
	if id, ok := index[g.ID]; ok {
		_, err := c.deps.Groups.Update(ctx, id, 0, patch)
		return err
	}
	created, err := c.deps.Groups.Create(ctx, patch)
	if err != nil {
		return err
	}
	index[g.ID] = created.ID
	return nil
}

// property remembers a classifier property: its name names the goods'
// values, and a Справочник's values are given by Ид.
func (c *Catalog) property(ctx context.Context, props map[string]core.OneCProperty, p *commerceml.Property) error {
	if p.ID == "" {
		return core.Errorf(core.EINVALID, "no Ид")
	}
	prop := core.OneCProperty{OneCID: p.ID, Name: strings.TrimSpace(p.Name), Variants: map[string]string{}}
	for _, v := range p.Variants {
		if v.ID != "" {
			prop.Variants[v.ID] = strings.TrimSpace(v.Value)
		}
	}
	if prop.Name == "" {
		prop.Name = p.ID
	}
	props[p.ID] = prop
	if c.deps.Items == nil {
		return nil
	}
	return c.deps.Items.SaveOneCProperty(ctx, prop)
}

// deactivateMissing turns off the 1C goods a full catalog did not list.
func (c *Catalog) deactivateMissing(ctx context.Context, seen map[string]bool) (int64, error) {
	var n int64
	active := true
	f := core.CatalogFilter{ListParams: core.ListParams{Limit: 500, Sort: core.Sort{Field: "created_at"}}, Active: &active}
	var stale []string
	for {
		page, err := c.deps.Products.List(ctx, f)
		if err != nil {
			return n, err
		}
		for _, p := range page.Items {
			// A variant ("good#characteristic") goes with its good.
			if id, _, _ := strings.Cut(p.ExternalIDs[System], "#"); id != "" && !seen[id] {
				stale = append(stale, p.ID)
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	for _, id := range stale {
		if _, err := c.deps.Products.Update(ctx, id, 0, core.PatchOf(map[string]any{"active": false})); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
