package onec

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

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
	b, err := c.deps.PriceBooks.Create(ctx, core.PatchOf(map[string]any{"name": clip(t.Name, 100), "currency": currency(t.Currency)}))
	if err != nil {
		return "", err
	}
	return b.ID, nil
}

// offer applies an offer's prices and stock to its good, or to the
// product of its characteristic (a variant, "good#characteristic").
func (c *Catalog) offer(ctx context.Context, books map[string]string, index map[string]core.OneCItem, o *commerceml.Offer) (outcome, error) {
	var kind, id string
	if o.CharacteristicID() != "" {
		if index == nil {
			return skipped, nil // variants need the exchange's item index
		}
		it, err := c.variant(ctx, index, o)
		if err != nil {
			return skipped, err
		}
		kind, id = it.Entity, it.ItemID
	} else if it, ok := index[o.ProductID()]; ok {
		kind, id = it.Entity, it.ItemID
	} else if index == nil {
		var err error
		if kind, id, err = c.findItem(ctx, o.ProductID()); err != nil {
			return skipped, err
		}
	}
	if kind == "" {
		return skipped, core.Errorf(core.ENOTFOUND, "no good with this Ид (import.xml first)")
	}
	changed := false
	for _, p := range o.Prices {
		book, ok := books[p.PriceTypeID]
		if !ok {
			continue // a price type of another file of the package
		}
		amount, err := decimal.NewFromString(strings.ReplaceAll(strings.TrimSpace(p.PerUnit), ",", "."))
		if err != nil {
			return skipped, core.Errorf(core.EINVALID, "price %q is not a number", p.PerUnit)
		}
		price := core.Price{PriceBookID: book, Price: core.NewMoney(amount.Round(2))}
		if kind == core.EntityProduct {
			price.ProductID = &id
		} else {
			price.ServiceID = &id
		}
		if _, err := c.deps.PriceBooks.SetPrice(ctx, price); err != nil {
			return skipped, err
		}
		changed = true
	}
	qty := quantity(o)
	if qty != "" && kind == core.EntityProduct && !slices.Contains(c.crmFields, "stock_quantity") {
		q, err := decimal.NewFromString(strings.ReplaceAll(qty, ",", "."))
		if err != nil {
			return skipped, core.Errorf(core.EINVALID, "quantity %q is not a number", qty)
		}
		if _, err := c.deps.Products.Update(ctx, id, 0, core.PatchOf(map[string]any{"stock_quantity": q.String()})); err != nil {
			return skipped, err
		}
		changed = true
	}
	if !changed {
		return skipped, nil
	}
	return updated, nil
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
	own := core.PatchOf(map[string]any{
		"name":           clip(strings.TrimSpace(o.Name), 250),
		"sku":            clip(strings.TrimSpace(o.SKU), 100),
		"characteristic": chars,
	})
	digest := patchDigest(own)
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
	patch := core.PatchOf(map[string]any{
		"name":         clip(name, 250),
		"sku":          clip(sku, 100),
		"attributes":   attrs,
		"external_ids": map[string]string{System: o.ID},
	})
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
		patch.Set("unit", good.Unit).
			Set("unit_code", good.UnitCode).
			Set("vat_rate", good.VATRate).
			Set("group_id", good.GroupID).
			Set("description", good.Description).
			Set("manufacturer", good.Manufacturer).
			Set("country_of_origin", good.CountryOfOrigin).
			Set("country_code", good.CountryCode).
			Set("active", good.Active)
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

// offerBatch applies the waiting offers together: their prices per price
// book and the stock, each in one statement (unchanged values untouched).
// A batch the database refuses goes offer by offer, to say which.
func (r *catalogRun) offerBatch(ctx context.Context) error {
	if len(r.offers) == 0 {
		return nil
	}
	b := offerBulk{prices: map[string][]core.Price{}, stock: map[string]decimal.Decimal{}}
	outcomes := make([]outcome, len(r.offers))
	errs := make([]error, len(r.offers))
	for i, o := range r.offers {
		it, err := r.offerItem(ctx, o)
		if err != nil && o.CharacteristicID() != "" && ctx.Err() != nil {
			return err
		}
		if err != nil {
			errs[i] = err
			continue
		}
		outcomes[i], errs[i] = r.c.stage(&b, r.books, it, o)
	}
	if err := r.c.setBulk(ctx, b); err != nil {
		for i, o := range r.offers { // one by one, to say which
			if errs[i] == nil {
				outcomes[i], errs[i] = r.c.offer(ctx, r.books, r.index, o)
			}
		}
	}
	for i, o := range r.offers {
		r.count(outcomes[i], errs[i], "Предложение "+o.ID)
	}
	r.offers = r.offers[:0]
	return nil
}

// offerItem is the good an offer prices, or the variant of its
// characteristic.
func (r *catalogRun) offerItem(ctx context.Context, o *commerceml.Offer) (core.OneCItem, error) {
	if o.CharacteristicID() != "" {
		v, err := r.c.variant(ctx, r.index, o)
		if err != nil {
			return core.OneCItem{}, err
		}
		return *v, nil
	}
	it, ok := r.index[o.ProductID()]
	if !ok {
		return core.OneCItem{}, core.Errorf(core.ENOTFOUND, "no good with this Ид (import.xml first)")
	}
	return it, nil
}

// offerBulk is what a batch of offers sets: prices by price book, stock
// by product.
type offerBulk struct {
	prices map[string][]core.Price
	stock  map[string]decimal.Decimal
}

// stage adds an offer's prices and stock for the good it prices to the
// batch. A price before a bad one stays staged, as the batch applies it.
func (c *Catalog) stage(b *offerBulk, books map[string]string, it core.OneCItem, o *commerceml.Offer) (outcome, error) {
	result := skipped
	for _, p := range o.Prices {
		book, ok := books[p.PriceTypeID]
		if !ok {
			continue // a price type of another file of the package
		}
		amount, err := decimal.NewFromString(strings.ReplaceAll(strings.TrimSpace(p.PerUnit), ",", "."))
		if err != nil || amount.IsNegative() {
			return result, core.Errorf(core.EINVALID, "price %q is not an amount", p.PerUnit)
		}
		id := it.ItemID
		price := core.Price{PriceBookID: book, Price: core.NewMoney(amount.Round(2))}
		if it.Entity == core.EntityProduct {
			price.ProductID = &id
		} else {
			price.ServiceID = &id
		}
		b.prices[book] = append(b.prices[book], price)
		result = updated
	}
	qty := quantity(o)
	if qty == "" || it.Entity != core.EntityProduct || slices.Contains(c.crmFields, "stock_quantity") {
		return result, nil
	}
	q, err := decimal.NewFromString(strings.ReplaceAll(qty, ",", "."))
	if err != nil || !core.ValidStock(q) {
		return result, core.Errorf(core.EINVALID, "quantity %q is not a stock (a number with at most 3 fraction digits, up to %d either way)", qty, core.MaxQuantity)
	}
	b.stock[it.ItemID] = q
	return updated, nil
}

// setBulk applies a batch of offers, within a savepoint of the file's
// transaction when there is one.
func (c *Catalog) setBulk(ctx context.Context, b offerBulk) error {
	bulk := func(ctx context.Context) error {
		for book, ps := range b.prices {
			if _, err := c.deps.Items.SetPricesBulk(ctx, book, ps); err != nil {
				return err
			}
		}
		_, err := c.deps.Items.SetStockBulk(ctx, b.stock)
		return err
	}
	if c.deps.Tx != nil {
		return c.deps.Tx.Atomically(ctx, bulk)
	}
	return bulk(ctx)
}

// quantity is an offer's stock: its Количество, or the sum of its
// warehouses' ("" when it gives none).
func quantity(o *commerceml.Offer) string {
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
	return qty
}
