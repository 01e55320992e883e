package onec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
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

// newGood is a good to create, waiting for its batch.
type newGood struct {
	id, digest string
	patch      core.Patch
}

// NewCatalog returns a catalog applier (for the CLI: the same import
// from disk).
func NewCatalog(deps CatalogDeps, crmFields []string, log *slog.Logger) *Catalog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Catalog{deps: deps, crmFields: crmFields, log: log}
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
		s.Status, s.FinishedAt = "done", &now
		if err != nil {
			s.Status, s.Error = "failed", err.Error()
		}
	})
	return j.snapshot()
}

// Catalog applies CommerceML catalogs and offer packages.
type Catalog struct {
	deps      CatalogDeps
	crmFields []string
	log       *slog.Logger
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
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

func (c *Catalog) apply(ctx context.Context, r io.Reader, j *Job) error {
	d := commerceml.NewDecoder(r, commerceml.Limits{})
	groups, err := c.groupIndex(ctx)
	if err != nil {
		return err
	}
	books := map[string]string{} // price type Ид → price book id
	seen := map[string]bool{}
	full := false
	var index map[string]core.OneCItem
	var done []core.OneCItem                // applied since the last save
	props := map[string]core.OneCProperty{} // properties, also from earlier files
	if c.deps.Items != nil {
		if index, err = c.deps.Items.OneCItems(ctx); err != nil {
			return err
		}
		if props, err = c.deps.Items.OneCProperties(ctx); err != nil {
			return err
		}
	}
	save := func() error {
		if c.deps.Items == nil || len(done) == 0 {
			return nil
		}
		err := c.deps.Items.SaveOneCItems(ctx, done)
		done = done[:0]
		return err
	}
	// New goods are created in batches, by COPY; offers are applied in
	// batches too.
	creates := map[string][]newGood{}
	var offers []*commerceml.Offer
	flush := func(kind string) error {
		batch := creates[kind]
		if len(batch) == 0 {
			return nil
		}
		creates[kind] = nil
		patches := make([]core.Patch, len(batch))
		for i, g := range batch {
			patches[i] = g.patch
		}
		ids, errs, err := c.deps.Items.CreateCatalogBulk(ctx, kind, patches)
		if err != nil {
			return err
		}
		for i, g := range batch {
			c.count(j, "created", errs[i], "Товар "+g.id)
			if errs[i] == nil {
				it := core.OneCItem{OneCID: g.id, Entity: kind, ItemID: ids[i], Digest: g.digest}
				index[g.id] = it
				done = append(done, it)
			}
		}
		return save()
	}
	for {
		item, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err // the decoder names the element and the line
		}
		switch v := item.(type) {
		case *commerceml.Catalog:
			full = full || !v.OnlyChanges
		case *commerceml.Group:
			for _, g := range v.Flatten() {
				if err := c.group(ctx, groups, g); err != nil {
					j.fail(fmt.Sprintf("Группа %s: %v", g.ID, err))
				}
			}
		case *commerceml.Property:
			if err := c.property(ctx, props, v); err != nil {
				j.fail(fmt.Sprintf("Свойство %s: %v", v.ID, err))
			}
		case *commerceml.Good:
			j.update(func(s *JobStatus) { s.Processed++ })
			seen[v.ID] = true
			outcome, item, patch, err := c.good(ctx, groups, props, index, v)
			if outcome == "new" { // waits for its batch
				creates[item.Entity] = append(creates[item.Entity], newGood{id: v.ID, digest: item.Digest, patch: patch})
				if len(creates[item.Entity]) >= 1000 {
					if err := flush(item.Entity); err != nil {
						return err
					}
				}
				continue
			}
			c.count(j, outcome, err, "Товар "+v.ID)
			if err == nil && item != nil {
				if index != nil {
					index[v.ID] = *item
				}
				if done = append(done, *item); len(done) >= 500 {
					if err := save(); err != nil {
						return err
					}
				}
			}
		case *commerceml.Offer, *commerceml.PriceType:
			// Offers refer to goods: those still waiting are created first.
			for _, kind := range []string{core.EntityProduct, core.EntityService} {
				if err := flush(kind); err != nil {
					return err
				}
			}
		}
		switch v := item.(type) {
		case *commerceml.PriceType:
			id, err := c.priceBook(ctx, v)
			if err != nil {
				j.fail(fmt.Sprintf("ТипЦены %s: %v", v.ID, err))
				continue
			}
			books[v.ID] = id
		case *commerceml.Offer:
			j.update(func(s *JobStatus) { s.Processed++ })
			if c.deps.Items != nil && index != nil {
				if offers = append(offers, v); len(offers) >= 1000 {
					if err := c.offerBatch(ctx, books, index, offers, j); err != nil {
						return err
					}
					offers = offers[:0]
				}
				continue
			}
			outcome, err := c.offer(ctx, books, index, v)
			c.count(j, outcome, err, "Предложение "+v.ID)
		}
	}
	for _, kind := range []string{core.EntityProduct, core.EntityService} {
		if err := flush(kind); err != nil {
			return err
		}
	}
	if err := c.offerBatch(ctx, books, index, offers, j); err != nil {
		return err
	}
	if err := save(); err != nil {
		return err
	}
	if full {
		n, err := c.deactivateMissing(ctx, seen)
		j.update(func(s *JobStatus) { s.Deactivated += n })
		return err
	}
	return nil
}

func (c *Catalog) count(j *Job, outcome string, err error, where string) {
	if err != nil {
		msg := core.ErrorMessage(err)
		if f := core.ErrorFields(err); len(f) > 0 {
			msg = f[0].Field + ": " + f[0].Message
		}
		j.fail(where + ": " + msg)
		return
	}
	j.update(func(s *JobStatus) {
		switch outcome {
		case "created":
			s.Created++
		case "updated":
			s.Updated++
		default:
			s.Skipped++
		}
	})
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
	patch := core.Patch{"name": raw(strings.TrimSpace(g.Name)), "external_ids": raw(map[string]string{System: g.ID})}
	if g.Parent != "" {
		if pid, ok := index[g.Parent]; ok {
			patch["parent_id"] = raw(pid)
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

// vatRate maps a СтавкаНалога onto the hub's codes ("" = the general rate
// of the document's date: 20 and 18 are older general rates).
func vatRate(rates []commerceml.TaxRate) string {
	for _, r := range rates {
		if !strings.Contains(strings.ToUpper(r.Name), "НДС") && r.Name != "" {
			continue
		}
		v := strings.TrimSuffix(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(r.Rate)), " ", ""), "%")
		switch {
		case strings.Contains(v, "без"):
			return "none"
		case v == "10" || v == "0" || v == "5" || v == "7":
			return v
		default:
			return ""
		}
	}
	return ""
}

// findItem finds a product or service by its 1C Ид.
func (c *Catalog) findItem(ctx context.Context, id string) (kind, itemID string, err error) {
	f := core.CatalogFilter{ListParams: core.ListParams{Limit: 1, Sort: core.Sort{Field: "created_at"}}, ExternalID: [2]string{System, id}}
	prods, err := c.deps.Products.List(ctx, f)
	if err != nil {
		return "", "", err
	}
	if len(prods.Items) > 0 {
		return core.EntityProduct, prods.Items[0].ID, nil
	}
	svcs, err := c.deps.Services.List(ctx, f)
	if err != nil {
		return "", "", err
	}
	if len(svcs.Items) > 0 {
		return core.EntityService, svcs.Items[0].ID, nil
	}
	return "", "", nil
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

// attributes are a good's property values (named by their properties,
// Справочник values resolved), its requisites and its barcode.
func attributes(props map[string]core.OneCProperty, g *commerceml.Good) map[string]string {
	out := map[string]string{}
	put := func(name, value string) {
		name, value = clip(strings.TrimSpace(name), 200), clip(strings.TrimSpace(value), 2000)
		if name != "" && value != "" && len(out) < 200 {
			out[name] = value
		}
	}
	for _, r := range g.Requisites {
		if r.Name != "Полное наименование" {
			put(r.Name, r.Value)
		}
	}
	for _, pv := range g.PropertyValues {
		p, known := props[pv.ID]
		name := pv.ID
		if known {
			name = p.Name
		}
		var vals []string
		for _, v := range pv.Values {
			if s, ok := p.Variants[v]; ok {
				v = s
			}
			if v = strings.TrimSpace(v); v != "" {
				vals = append(vals, v)
			}
		}
		put(name, strings.Join(vals, ", "))
	}
	put("Штрихкод", g.Barcode)
	return out
}

func (c *Catalog) good(ctx context.Context, groups map[string]string, props map[string]core.OneCProperty,
	index map[string]core.OneCItem, g *commerceml.Good) (string, *core.OneCItem, core.Patch, error) {
	if g.ID == "" {
		return "", nil, nil, core.Errorf(core.EINVALID, "no Ид")
	}
	name := g.Requisite("Полное наименование")
	if name == "" {
		name = g.Name
	}
	patch := core.Patch{"name": raw(clip(name, 250)), "sku": raw(clip(g.SKU, 100)), "unit": raw(clip(g.Unit.Name, 20)),
		"vat_rate": raw(vatRate(g.TaxRates)), "description": raw(clip(g.Description, 32000)), "active": raw(!g.Deleted()),
		"external_ids": raw(map[string]string{System: g.ID}), "attributes": raw(attributes(props, g))}
	if code := g.Unit.Code; len(code) == 3 && strings.Trim(code, "0123456789") == "" {
		patch["unit_code"] = raw(code)
	}
	if len(g.GroupIDs) > 0 {
		if id, ok := groups[g.GroupIDs[0]]; ok {
			patch["group_id"] = raw(id)
		}
	}
	service := strings.EqualFold(g.Requisite("ТипНоменклатуры"), "Услуга")
	if m := strings.TrimSpace(g.Manufacturer.Name); m != "" && !service {
		patch["manufacturer"] = raw(clip(m, 200))
	}
	for _, f := range c.crmFields {
		delete(patch, f)
	}
	sum := sha256.Sum256(raw(patch)) // a map marshals with sorted keys
	digest := hex.EncodeToString(sum[:16])
	kind, id := "", ""
	if it, ok := index[g.ID]; ok {
		if it.Digest == digest {
			return "skipped", nil, nil, nil // as 1C sent it last time
		}
		kind, id = it.Entity, it.ItemID
	} else if index != nil {
		// Not known by its Ид: a new good, created with its batch.
		kind = core.EntityProduct
		if service {
			kind = core.EntityService
		}
		return "new", &core.OneCItem{OneCID: g.ID, Entity: kind, Digest: digest}, patch, nil
	} else {
		var err error
		if kind, id, err = c.findItem(ctx, g.ID); err != nil {
			return "", nil, nil, err
		}
	}
	var err error
	outcome := "updated"
	switch {
	case kind == core.EntityProduct:
		_, err = c.deps.Products.Update(ctx, id, 0, patch)
	case kind == core.EntityService:
		_, err = c.deps.Services.Update(ctx, id, 0, patch)
	case service:
		outcome, kind = "created", core.EntityService
		var s *core.Service
		if s, err = c.deps.Services.Create(ctx, patch); err == nil {
			id = s.ID
		}
	default:
		outcome, kind = "created", core.EntityProduct
		var p *core.Product
		if p, err = c.deps.Products.Create(ctx, patch); err == nil {
			id = p.ID
		}
	}
	if err != nil {
		return "", nil, nil, err
	}
	return outcome, &core.OneCItem{OneCID: g.ID, Entity: kind, ItemID: id, Digest: digest}, nil, nil
}

// clip trims the spaces 1C pads its values with and cuts the rest to the
// CRM field's limit of n characters.
func clip(s string, n int) string { return core.Clip(strings.TrimSpace(s), n) }

// currency normalizes 1C's currency names.
func currency(s string) string {
	switch v := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), ".")); v {
	case "", "руб", "рубль", "rub", "643":
		return "RUB"
	default:
		return strings.ToUpper(v)
	}
}

// priceBook finds the price book named as the price type, or makes it.
func (c *Catalog) priceBook(ctx context.Context, t *commerceml.PriceType) (string, error) {
	p := core.ListParams{Limit: 500, Sort: core.Sort{Field: "created_at"}}
	for {
		page, err := c.deps.PriceBooks.List(ctx, p)
		if err != nil {
			return "", err
		}
		for _, b := range page.Items {
			if strings.EqualFold(b.Name, strings.TrimSpace(t.Name)) {
				return b.ID, nil
			}
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	b, err := c.deps.PriceBooks.Create(ctx, core.Patch{"name": raw(clip(t.Name, 100)), "currency": raw(currency(t.Currency))})
	if err != nil {
		return "", err
	}
	return b.ID, nil
}

// offer applies an offer's prices and stock to its good, or to the
// product of its characteristic (a variant, "good#characteristic").
func (c *Catalog) offer(ctx context.Context, books map[string]string, index map[string]core.OneCItem, o *commerceml.Offer) (string, error) {
	var kind, id string
	if o.CharacteristicID() != "" {
		if index == nil {
			return "skipped", nil // variants need the exchange's item index
		}
		it, err := c.variant(ctx, index, o)
		if err != nil {
			return "", err
		}
		kind, id = it.Entity, it.ItemID
	} else if it, ok := index[o.ProductID()]; ok {
		kind, id = it.Entity, it.ItemID
	} else if index == nil {
		var err error
		if kind, id, err = c.findItem(ctx, o.ProductID()); err != nil {
			return "", err
		}
	}
	if kind == "" {
		return "", core.Errorf(core.ENOTFOUND, "no good with this Ид (import.xml first)")
	}
	changed := false
	for _, p := range o.Prices {
		book, ok := books[p.PriceTypeID]
		if !ok {
			continue // a price type of another file of the package
		}
		amount, err := decimal.NewFromString(strings.ReplaceAll(strings.TrimSpace(p.PerUnit), ",", "."))
		if err != nil {
			return "", core.Errorf(core.EINVALID, "price %q is not a number", p.PerUnit)
		}
		price := core.Price{PriceBookID: book, Price: core.NewMoney(amount.Round(2))}
		if kind == core.EntityProduct {
			price.ProductID = &id
		} else {
			price.ServiceID = &id
		}
		if _, err := c.deps.PriceBooks.SetPrice(ctx, price); err != nil {
			return "", err
		}
		changed = true
	}
	qty := strings.TrimSpace(o.Quantity)
	if qty == "" && len(o.Stocks()) > 0 {
		total := decimal.Zero
		for _, s := range o.Stocks() {
			q, err := decimal.NewFromString(strings.TrimSpace(s.Quantity))
			if err == nil {
				total = total.Add(q)
			}
		}
		qty = total.String()
	}
	if qty != "" && kind == core.EntityProduct && !slices.Contains(c.crmFields, "stock_quantity") {
		q, err := decimal.NewFromString(strings.ReplaceAll(qty, ",", "."))
		if err != nil {
			return "", core.Errorf(core.EINVALID, "quantity %q is not a number", qty)
		}
		if _, err := c.deps.Products.Update(ctx, id, 0, core.Patch{"stock_quantity": raw(q.String())}); err != nil {
			return "", err
		}
		changed = true
	}
	if !changed {
		return "skipped", nil
	}
	return "updated", nil
}

// variant finds or makes the product a characteristic offer stands for
// (1C's "good#characteristic"): a copy of its good, named by the offer
// (or the good's name with the characteristic's values), its
// characteristic in attributes, keyed by the offer's whole Ид. Its name,
// article and characteristic follow the offer when they change.
func (c *Catalog) variant(ctx context.Context, index map[string]core.OneCItem, o *commerceml.Offer) (*core.OneCItem, error) {
	parent, ok := index[o.ProductID()]
	if !ok {
		return nil, core.Errorf(core.ENOTFOUND, "no good with this Ид (import.xml first)")
	}
	if parent.Entity != core.EntityProduct {
		return nil, core.Errorf(core.EINVALID, "a service has no characteristics")
	}
	chars := map[string]string{}
	var parts []string
	for _, ch := range o.Characteristics {
		n, v := clip(strings.TrimSpace(ch.Name), 200), clip(strings.TrimSpace(ch.Value), 2000)
		if n != "" && v != "" {
			chars[n] = v
			parts = append(parts, n+": "+v)
		}
	}
	own := core.Patch{"name": raw(clip(strings.TrimSpace(o.Name), 250)), "sku": raw(clip(strings.TrimSpace(o.SKU), 100)),
		"characteristic": raw(chars)}
	sum := sha256.Sum256(raw(own))
	digest := hex.EncodeToString(sum[:16])
	known, exists := index[o.ID]
	if exists && known.Digest == digest {
		return &known, nil
	}
	good, err := c.deps.Products.Get(ctx, parent.ItemID)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(o.Name)
	if name == "" || name == good.Name {
		name = good.Name
		if len(parts) > 0 {
			name += " (" + strings.Join(parts, ", ") + ")"
		}
	}
	attrs := maps.Clone(good.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	for n, v := range chars {
		if len(attrs) < 200 || attrs[n] != "" {
			attrs[n] = v
		}
	}
	sku := strings.TrimSpace(o.SKU)
	if sku == "" {
		sku = good.SKU
	}
	patch := core.Patch{"name": raw(clip(name, 250)), "sku": raw(clip(sku, 100)), "attributes": raw(attrs),
		"external_ids": raw(map[string]string{System: o.ID})}
	it := core.OneCItem{OneCID: o.ID, Entity: core.EntityProduct, Digest: digest}
	if exists {
		for _, f := range c.crmFields {
			delete(patch, f)
		}
		if _, err := c.deps.Products.Update(ctx, known.ItemID, 0, patch); err != nil {
			return nil, err
		}
		it.ItemID = known.ItemID
	} else {
		patch["unit"], patch["unit_code"], patch["vat_rate"] = raw(good.Unit), raw(good.UnitCode), raw(good.VATRate)
		patch["group_id"], patch["description"], patch["manufacturer"] = raw(good.GroupID), raw(good.Description), raw(good.Manufacturer)
		patch["country_of_origin"], patch["country_code"] = raw(good.CountryOfOrigin), raw(good.CountryCode)
		patch["active"] = raw(good.Active)
		p, err := c.deps.Products.Create(ctx, patch)
		if err != nil {
			return nil, err
		}
		it.ItemID = p.ID
	}
	index[o.ID] = it
	if err := c.deps.Items.SaveOneCItems(ctx, []core.OneCItem{it}); err != nil {
		return nil, err
	}
	return &it, nil
}

// offerBatch applies offers together: their prices per price book and the
// stock, each in one statement (unchanged values untouched). A batch the
// database refuses goes offer by offer, to say which.
func (c *Catalog) offerBatch(ctx context.Context, books map[string]string, index map[string]core.OneCItem,
	offers []*commerceml.Offer, j *Job) error {
	if len(offers) == 0 {
		return nil
	}
	prices := map[string][]core.Price{}
	stock := map[string]decimal.Decimal{}
	outcome := make([]string, len(offers))
	errs := make([]error, len(offers))
	for i, o := range offers {
		it, ok := index[o.ProductID()]
		if o.CharacteristicID() != "" {
			v, err := c.variant(ctx, index, o)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				errs[i] = err
				continue
			}
			it, ok = *v, true
		}
		if !ok {
			errs[i] = core.Errorf(core.ENOTFOUND, "no good with this Ид (import.xml first)")
			continue
		}
		outcome[i] = "skipped"
		for _, p := range o.Prices {
			book, ok := books[p.PriceTypeID]
			if !ok {
				continue
			}
			amount, err := decimal.NewFromString(strings.ReplaceAll(strings.TrimSpace(p.PerUnit), ",", "."))
			if err != nil || amount.IsNegative() {
				errs[i] = core.Errorf(core.EINVALID, "price %q is not an amount", p.PerUnit)
				break
			}
			id := it.ItemID
			price := core.Price{PriceBookID: book, Price: core.NewMoney(amount.Round(2))}
			if it.Entity == core.EntityProduct {
				price.ProductID = &id
			} else {
				price.ServiceID = &id
			}
			prices[book] = append(prices[book], price)
			outcome[i] = "updated"
		}
		if errs[i] != nil {
			continue
		}
		qty := strings.TrimSpace(o.Quantity)
		if qty == "" && len(o.Stocks()) > 0 {
			total := decimal.Zero
			for _, s := range o.Stocks() {
				if q, err := decimal.NewFromString(strings.TrimSpace(s.Quantity)); err == nil {
					total = total.Add(q)
				}
			}
			qty = total.String()
		}
		if qty != "" && it.Entity == core.EntityProduct && !slices.Contains(c.crmFields, "stock_quantity") {
			q, err := decimal.NewFromString(strings.ReplaceAll(qty, ",", "."))
			if err != nil {
				errs[i] = core.Errorf(core.EINVALID, "quantity %q is not a number", qty)
				continue
			}
			stock[it.ItemID] = q
			outcome[i] = "updated"
		}
	}
	bulk := func(ctx context.Context) error {
		for book, ps := range prices {
			if _, err := c.deps.Items.SetPricesBulk(ctx, book, ps); err != nil {
				return err
			}
		}
		_, err := c.deps.Items.SetStockBulk(ctx, stock)
		return err
	}
	var err error
	if c.deps.Tx != nil {
		err = c.deps.Tx.Atomically(ctx, bulk) // a savepoint inside the file's transaction
	} else {
		err = bulk(ctx)
	}
	if err != nil {
		for i, o := range offers { // one by one, to say which
			if errs[i] == nil {
				outcome[i], errs[i] = c.offer(ctx, books, index, o)
			}
		}
	}
	for i, o := range offers {
		c.count(j, outcome[i], errs[i], "Предложение "+o.ID)
	}
	return nil
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
		if _, err := c.deps.Products.Update(ctx, id, 0, core.Patch{"active": raw(false)}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
