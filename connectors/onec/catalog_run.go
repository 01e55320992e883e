package onec

import (
	"context"
	"fmt"
	"io"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

// newGood is a good to create, waiting for its batch.
type newGood struct {
	id, digest string
	patch      core.Patch
}

// outcome is what applying an item did to the CRM, as a job counts it.
type outcome int

const (
	skipped outcome = iota // unchanged, or nothing of it to apply
	created
	updated
	pending // a new good, waiting for its batch to be created
)

// catalogRun is one document being applied: what its items learn and
// leave for the ones after them.
type catalogRun struct {
	c      *Catalog
	j      *Job
	groups map[string]string            // group Ид → group id
	books  map[string]string            // price type Ид → price book id
	props  map[string]core.OneCProperty // properties, also from earlier files
	// index is what each good became (nil without Items); seen are the
	// goods the document listed: a full catalog deactivates the others.
	index map[string]core.OneCItem
	seen  map[string]bool
	full  bool
	// done are the goods applied since the index was last saved; creates
	// the new goods of each kind, created in batches by COPY; offers are
	// applied in batches too.
	done    []core.OneCItem
	creates map[string][]newGood
	offers  []*commerceml.Offer
	// custom are the products' mapped fields live when the run began.
	custom *liveMap
}

// apply reads a document item by item, each applied as it comes (new
// goods and offers in batches), until its end.
func (c *Catalog) apply(ctx context.Context, r io.Reader, j *Job) error {
	d := commerceml.NewDecoder(r, commerceml.Limits{})
	run, err := c.newRun(ctx, j)
	if err != nil {
		return err
	}
	for {
		item, err := d.Next()
		if err == io.EOF {
			return run.finish(ctx)
		}
		if err != nil {
			return err // the decoder names the element and the line
		}
		if err := run.apply(ctx, item); err != nil {
			return err
		}
	}
}

// newRun reads what the document's items are matched against: the
// stored groups and, with Items, the goods and properties of earlier
// exchanges.
func (c *Catalog) newRun(ctx context.Context, j *Job) (*catalogRun, error) {
	r := &catalogRun{c: c, j: j, books: map[string]string{}, props: map[string]core.OneCProperty{}, seen: map[string]bool{},
		creates: map[string][]newGood{}}
	var err error
	if r.groups, err = c.groupIndex(ctx); err != nil {
		return nil, err
	}
	if r.custom, err = c.req.live(ctx, core.EntityProduct); err != nil {
		return nil, err
	}
	if c.deps.Items == nil {
		return r, nil
	}
	if r.index, err = c.deps.Items.OneCItems(ctx); err != nil {
		return nil, err
	}
	if r.props, err = c.deps.Items.OneCProperties(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// apply applies one item of the document. A problem with the item is
// recorded on the job; the error returned stops the document.
func (r *catalogRun) apply(ctx context.Context, item any) error {
	switch v := item.(type) {
	case *commerceml.Catalog:
		r.full = r.full || !v.OnlyChanges
	case *commerceml.Group:
		r.applyGroup(ctx, v)
	case *commerceml.Property:
		r.applyProperty(ctx, v)
	case *commerceml.Good:
		return r.applyGood(ctx, v)
	case *commerceml.PriceType:
		return r.applyPriceType(ctx, v)
	case *commerceml.Offer:
		return r.applyOffer(ctx, v)
	}
	return nil
}

// finish applies what waits for its batch, saves the index and, after a
// full catalog, deactivates the goods it did not list.
func (r *catalogRun) finish(ctx context.Context) error {
	if err := r.flushGoods(ctx); err != nil {
		return err
	}
	if err := r.offerBatch(ctx); err != nil {
		return err
	}
	if err := r.save(ctx); err != nil {
		return err
	}
	if !r.full {
		return nil
	}
	n, err := r.c.deactivateMissing(ctx, r.seen)
	r.j.update(func(s *JobStatus) { s.Deactivated += n })
	return err
}

func (r *catalogRun) applyGroup(ctx context.Context, v *commerceml.Group) {
	for _, g := range v.Flatten() {
		if err := r.c.group(ctx, r.groups, g); err != nil {
			r.j.fail(fmt.Sprintf("Группа %s: %v", g.ID, err))
		}
	}
}

func (r *catalogRun) applyProperty(ctx context.Context, v *commerceml.Property) {
	if err := r.c.property(ctx, r.props, v); err != nil {
		r.j.fail(fmt.Sprintf("Свойство %s: %v", v.ID, err))
	}
}

// applyGood updates a good it knows, or makes a new one wait for its
// batch; every 500 applied goods the index is saved.
func (r *catalogRun) applyGood(ctx context.Context, v *commerceml.Good) error {
	r.j.update(func(s *JobStatus) { s.Processed++ })
	r.seen[v.ID] = true
	// A value its field refuses is the good's problem, not its end: the
	// good is applied without it, and again in full next time (no digest).
	custom, problems := r.custom.custom(v.Requisites, goodProperty(r.props, v))
	if len(problems) > 0 {
		r.j.fail(customProblem("Товар "+v.ID, problems))
	}
	o, item, patch, err := r.c.good(ctx, r.groups, r.props, r.index, v, custom)
	if item != nil && len(problems) > 0 {
		item.Digest = ""
	}
	if o == pending {
		kind := item.Entity
		r.creates[kind] = append(r.creates[kind], newGood{id: v.ID, digest: item.Digest, patch: patch})
		if len(r.creates[kind]) >= 1000 {
			return r.flush(ctx, kind)
		}
		return nil
	}
	r.count(o, err, "Товар "+v.ID)
	if err != nil || item == nil {
		return nil
	}
	if r.index != nil {
		r.index[v.ID] = *item
	}
	if r.done = append(r.done, *item); len(r.done) >= 500 {
		return r.save(ctx)
	}
	return nil
}

// applyPriceType finds or makes the price book of a price type.
func (r *catalogRun) applyPriceType(ctx context.Context, v *commerceml.PriceType) error {
	if err := r.flushGoods(ctx); err != nil {
		return err
	}
	id, err := r.c.priceBook(ctx, v)
	if err != nil {
		r.j.fail(fmt.Sprintf("ТипЦены %s: %v", v.ID, err))
		return nil
	}
	r.books[v.ID] = id
	return nil
}

// applyOffer applies an offer's prices and stock: in batches of 1000
// with the exchange's item index, else at once.
func (r *catalogRun) applyOffer(ctx context.Context, v *commerceml.Offer) error {
	if err := r.flushGoods(ctx); err != nil { // offers refer to goods: those still waiting are created first
		return err
	}
	r.j.update(func(s *JobStatus) { s.Processed++ })
	if r.c.deps.Items != nil && r.index != nil {
		if r.offers = append(r.offers, v); len(r.offers) >= 1000 {
			return r.offerBatch(ctx)
		}
		return nil
	}
	o, err := r.c.offer(ctx, r.books, r.index, v)
	r.count(o, err, "Предложение "+v.ID)
	return nil
}

// save remembers the goods applied since it was last called.
func (r *catalogRun) save(ctx context.Context) error {
	if r.c.deps.Items == nil || len(r.done) == 0 {
		return nil
	}
	err := r.c.deps.Items.SaveOneCItems(ctx, r.done)
	r.done = r.done[:0]
	return err
}

// flushGoods creates the new goods waiting for their batch, products
// first.
func (r *catalogRun) flushGoods(ctx context.Context) error {
	for _, kind := range []string{core.EntityProduct, core.EntityService} {
		if err := r.flush(ctx, kind); err != nil {
			return err
		}
	}
	return nil
}

// flush creates the new goods of a kind in one batch, counts each and
// saves what they became.
func (r *catalogRun) flush(ctx context.Context, kind string) error {
	batch := r.creates[kind]
	if len(batch) == 0 {
		return nil
	}
	r.creates[kind] = nil
	patches := make([]core.Patch, len(batch))
	for i, g := range batch {
		patches[i] = g.patch
	}
	ids, errs, err := r.c.deps.Items.CreateCatalogBulk(ctx, kind, patches)
	if err != nil {
		return err
	}
	for i, g := range batch {
		r.count(created, errs[i], "Товар "+g.id)
		if errs[i] == nil {
			it := core.OneCItem{OneCID: g.id, Entity: kind, ItemID: ids[i], Digest: g.digest}
			r.index[g.id] = it
			r.done = append(r.done, it)
		}
	}
	return r.save(ctx)
}

// count records an item's outcome on the job, or its error (the first
// field's, when the CRM names one).
func (r *catalogRun) count(o outcome, err error, where string) {
	if err != nil {
		msg := core.ErrorMessage(err)
		if f := core.ErrorFields(err); len(f) > 0 {
			msg = f[0].Field + ": " + f[0].Message
		}
		r.j.fail(where + ": " + msg)
		return
	}
	r.j.update(func(s *JobStatus) {
		switch o {
		case created:
			s.Created++
		case updated:
			s.Updated++
		default:
			s.Skipped++
		}
	})
}
