package onec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/commerceml"
)

// vatRate maps a СтавкаНалога onto the hub's codes: the rate as 1C gives
// it (22, 20, 10, 7, 5, 0), «Без НДС» as none; "" (the general rate of the
// document's date) for one the hub does not know, such as the 18% of
// before 2019.
func vatRate(rates []commerceml.TaxRate) string {
	for _, r := range rates {
		if !strings.Contains(strings.ToUpper(r.Name), "НДС") && r.Name != "" {
			continue
		}
		v := strings.TrimSuffix(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(r.Rate)), " ", ""), "%")
		switch {
		case strings.Contains(v, "без"):
			return "none"
		case core.VATRate(v).Valid():
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
		put(propertyValue(props, pv))
	}
	put("Штрихкод", g.Barcode)
	return out
}

// propertyValue is a good's value of a property: the property's name (its
// Ид when the classifier did not name it) and its values, a Справочник's
// by their text, joined by ", ".
func propertyValue(props map[string]core.OneCProperty, pv commerceml.PropertyValue) (string, string) {
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
	return name, strings.Join(vals, ", ")
}

// goodProperty finds a good's value of the property named name (in any
// case), as propertyValue reads it; false when the good has none.
func goodProperty(props map[string]core.OneCProperty, g *commerceml.Good) func(name string) (string, bool) {
	return func(name string) (string, bool) {
		for _, pv := range g.PropertyValues {
			if n, v := propertyValue(props, pv); strings.EqualFold(strings.TrimSpace(n), name) {
				return v, true
			}
		}
		return "", false
	}
}

// good applies a good: an update of what it became, or (pending) a new
// product or service waiting for its batch. custom is its mapped custom
// values (products only: a service takes none).
func (c *Catalog) good(ctx context.Context, groups map[string]string, props map[string]core.OneCProperty,
	index map[string]core.OneCItem, g *commerceml.Good, custom map[string]json.RawMessage) (outcome, *core.OneCItem, core.Patch, error) {
	if g.ID == "" {
		return skipped, nil, nil, core.Errorf(core.EINVALID, "no Ид")
	}
	name := g.Requisite("Полное наименование")
	if name == "" {
		name = g.Name
	}
	patch := core.PatchOf(map[string]any{
		"name":         clip(name, 250),
		"sku":          clip(g.SKU, 100),
		"unit":         clip(g.Unit.Name, 20),
		"vat_rate":     vatRate(g.TaxRates),
		"description":  clip(g.Description, 32000),
		"active":       !g.Deleted(),
		"external_ids": map[string]string{System: g.ID},
		"attributes":   attributes(props, g),
	})
	if code := g.Unit.Code; len(code) == 3 && strings.Trim(code, "0123456789") == "" {
		patch.Set("unit_code", code)
	}
	if len(g.GroupIDs) > 0 {
		if id, ok := groups[g.GroupIDs[0]]; ok {
			patch.Set("group_id", id)
		}
	}
	service := strings.EqualFold(g.Requisite("ТипНоменклатуры"), "Услуга")
	if m := strings.TrimSpace(g.Manufacturer.Name); m != "" && !service {
		patch.Set("manufacturer", clip(m, 200))
	}
	if len(custom) > 0 && !service {
		patch.Set("custom", custom)
	}
	for _, f := range c.crmFields {
		delete(patch, f)
	}
	digest := patchDigest(patch)
	kind, id := "", ""
	if it, ok := index[g.ID]; ok {
		if it.Digest == digest {
			return skipped, nil, nil, nil // as 1C sent it last time
		}
		kind, id = it.Entity, it.ItemID
	} else if index != nil {
		// Not known by its Ид: a new good, created with its batch.
		kind = core.EntityProduct
		if service {
			kind = core.EntityService
		}
		return pending, &core.OneCItem{OneCID: g.ID, Entity: kind, Digest: digest}, patch, nil
	} else {
		var err error
		if kind, id, err = c.findItem(ctx, g.ID); err != nil {
			return skipped, nil, nil, err
		}
	}
	if kind == core.EntityService {
		delete(patch, "custom") // the map's fields are a product's
	}
	var err error
	o := updated
	switch {
	case kind == core.EntityProduct:
		_, err = c.deps.Products.Update(ctx, id, 0, patch)
	case kind == core.EntityService:
		_, err = c.deps.Services.Update(ctx, id, 0, patch)
	case service:
		o, kind = created, core.EntityService
		var s *core.Service
		if s, err = c.deps.Services.Create(ctx, patch); err == nil {
			id = s.ID
		}
	default:
		o, kind = created, core.EntityProduct
		var p *core.Product
		if p, err = c.deps.Products.Create(ctx, patch); err == nil {
			id = p.ID
		}
	}
	if err != nil {
		return skipped, nil, nil, err
	}
	return o, &core.OneCItem{OneCID: g.ID, Entity: kind, ItemID: id, Digest: digest}, nil, nil
}

// clip trims the spaces 1C pads its values with and cuts the rest to the
// CRM field's limit of n characters.
func clip(s string, n int) string { return core.Clip(strings.TrimSpace(s), n) }

// patchDigest fingerprints what a patch sets, to skip an item 1C sends
// again unchanged: a patch marshals with its members in name order, so
// equal patches give equal digests.
func patchDigest(p core.Patch) string {
	b, err := json.Marshal(p)
	if err != nil {
		panic("onec: patch digest: " + err.Error()) // members set by core.Patch.Set are valid JSON
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
