package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/crmhub/crmhub/core/outbox"
	"github.com/shopspring/decimal"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var (
	_ core.ProductService      = products{}
	_ core.ServiceCatalog      = services{}
	_ core.ProductGroupService = productGroups{}
	_ core.PriceBookService    = priceBooks{}
)

// catalogCols are the columns products and services share.
func catalogCols(c *core.CatalogItem) []col {
	return []col{{"name", &c.Name}, {"sku", &c.SKU}, {"group_id", &c.GroupID}, {"unit", &c.Unit}, {"unit_code", &c.UnitCode},
		{"vat_rate", &c.VATRate}, {"price", &c.Price}, {"currency", &c.Currency}, {"active", &c.Active},
		{"description", &c.Description}, {"external_ids", &c.ExternalIDs}, {"attributes", &c.Attributes}}
}

func prepareCatalog(ctx context.Context, db dbtx, c *core.CatalogItem) error {
	return mustExist(ctx, db, "product_groups", "group_id", c.GroupID)
}

func newProductTable() *table[core.Product, *core.Product] {
	return (&table[core.Product, *core.Product]{
		entity: core.EntityProduct, name: "products", schema: core.ProductSchema, ownerless: true,
		cols: func(p *core.Product) []col {
			return append(catalogCols(&p.CatalogItem), col{"stock_quantity", &p.StockQuantity},
				col{"manufacturer", &p.Manufacturer}, col{"country_of_origin", &p.CountryOfOrigin},
				col{"country_code", &p.CountryCode}, col{"customs_declaration", &p.CustomsDeclaration})
		},
		defaults: func(p *core.Product) { p.CatalogItem = core.NewCatalogItem() },
		validate: (*core.Product).Validate,
		prepare: func(ctx context.Context, db dbtx, _, p *core.Product) error {
			return prepareCatalog(ctx, db, &p.CatalogItem)
		},
		sorts: commonSorts(map[string]func(*core.Product) string{"name": func(p *core.Product) string { return p.Name }}),
	}).init()
}

func newServiceTable() *table[core.Service, *core.Service] {
	return (&table[core.Service, *core.Service]{
		entity: core.EntityService, name: "services", schema: core.ServiceSchema, ownerless: true,
		cols:     func(s *core.Service) []col { return catalogCols(&s.CatalogItem) },
		defaults: func(s *core.Service) { s.CatalogItem = core.NewCatalogItem() },
		validate: (*core.Service).Validate,
		prepare: func(ctx context.Context, db dbtx, _, s *core.Service) error {
			return prepareCatalog(ctx, db, &s.CatalogItem)
		},
		sorts: commonSorts(map[string]func(*core.Service) string{"name": func(s *core.Service) string { return s.Name }}),
	}).init()
}

func newProductGroupTable() *table[core.ProductGroup, *core.ProductGroup] {
	return (&table[core.ProductGroup, *core.ProductGroup]{
		entity: core.EntityProductGroup, name: "product_groups", schema: core.ProductGroupSchema, ownerless: true,
		cols: func(g *core.ProductGroup) []col {
			return []col{{"name", &g.Name}, {"parent_id", &g.ParentID}, {"description", &g.Description},
				{"external_ids", &g.ExternalIDs}}
		},
		defaults: func(g *core.ProductGroup) { g.ExternalIDs = map[string]string{} },
		validate: (*core.ProductGroup).Validate,
		prepare: func(ctx context.Context, db dbtx, _, g *core.ProductGroup) error {
			if err := mustExist(ctx, db, "product_groups", "parent_id", g.ParentID); err != nil || g.ParentID == nil || g.ID == "" {
				return err
			}
			// The new parent must not be one of the group's own descendants.
			var cycle bool
			err := db.QueryRow(ctx, `WITH RECURSIVE up AS (
					SELECT id, parent_id FROM product_groups WHERE id = $1
					UNION SELECT g.id, g.parent_id FROM product_groups g JOIN up ON g.id = up.parent_id)
				SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)`, *g.ParentID, g.ID).Scan(&cycle)
			if err == nil && cycle {
				return core.Invalid([]core.FieldError{{Field: "parent_id", Code: "cycle", Message: "a group cannot be inside itself"}})
			}
			return err
		},
		sorts: commonSorts(map[string]func(*core.ProductGroup) string{"name": func(g *core.ProductGroup) string { return g.Name }}),
	}).init()
}

func newPriceBookTable() *table[core.PriceBook, *core.PriceBook] {
	return (&table[core.PriceBook, *core.PriceBook]{
		entity: core.EntityPriceBook, name: "price_books", schema: core.PriceBookSchema, ownerless: true,
		cols: func(b *core.PriceBook) []col {
			return []col{{"name", &b.Name}, {"currency", &b.Currency}, {"active", &b.Active}, {"description", &b.Description}}
		},
		defaults: func(b *core.PriceBook) { b.Active, b.Currency = true, "RUB" },
		validate: (*core.PriceBook).Validate,
		prepare: func(ctx context.Context, db dbtx, old, b *core.PriceBook) error {
			if old == nil || old.Currency == b.Currency {
				return nil
			}
			var priced bool
			err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM prices WHERE price_book_id = $1)`, b.ID).Scan(&priced)
			if err == nil && priced {
				return core.Invalid([]core.FieldError{{Field: "currency", Code: "has_prices",
					Message: "the price book has prices in " + old.Currency + ": remove them first"}})
			}
			return err
		},
		sorts: commonSorts(map[string]func(*core.PriceBook) string{"name": func(b *core.PriceBook) string { return b.Name }}),
	}).init()
}

type products struct {
	repo[core.Product, *core.Product]
}
type services struct {
	repo[core.Service, *core.Service]
}
type productGroups struct {
	repo[core.ProductGroup, *core.ProductGroup]
}
type priceBooks struct {
	repo[core.PriceBook, *core.PriceBook]
}

// Products returns the product repository.
func (s *Store) Products() core.ProductService {
	return products{repo[core.Product, *core.Product]{s: s, t: s.tables.product}}
}

// Services returns the service repository.
func (s *Store) Services() core.ServiceCatalog {
	return services{repo[core.Service, *core.Service]{s: s, t: s.tables.service}}
}

// ProductGroups returns the product group repository.
func (s *Store) ProductGroups() core.ProductGroupService {
	return productGroups{repo[core.ProductGroup, *core.ProductGroup]{s: s, t: s.tables.productGroup}}
}

// PriceBooks returns the price book repository.
func (s *Store) PriceBooks() core.PriceBookService {
	return priceBooks{repo[core.PriceBook, *core.PriceBook]{s: s, t: s.tables.priceBook}}
}

func catalogQuery(f core.CatalogFilter) *query {
	q := &query{}
	if f.GroupID != "" {
		q.where("group_id = " + q.arg(f.GroupID))
	}
	if f.Active != nil {
		q.where("active = " + q.arg(*f.Active))
	}
	if f.SKU != "" {
		q.where("sku = " + q.arg(f.SKU))
	}
	q.externalID(f.ExternalID)
	if f.Query != "" {
		q.anyLike(f.Query, "name", "sku")
	}
	return q
}

// List implements core.ProductService.
func (r products) List(ctx context.Context, f core.CatalogFilter) (core.Page[core.Product], error) {
	return r.t.list(ctx, r.s, catalogQuery(f), f.ListParams)
}

// List implements core.ServiceCatalog.
func (r services) List(ctx context.Context, f core.CatalogFilter) (core.Page[core.Service], error) {
	return r.t.list(ctx, r.s, catalogQuery(f), f.ListParams)
}

// List implements core.ProductGroupService.
func (r productGroups) List(ctx context.Context, f core.ListParams) (core.Page[core.ProductGroup], error) {
	q := &query{}
	if f.Query != "" {
		q.anyLike(f.Query, "name")
	}
	return r.t.list(ctx, r.s, q, f)
}

// List implements core.PriceBookService.
func (r priceBooks) List(ctx context.Context, f core.ListParams) (core.Page[core.PriceBook], error) {
	q := &query{}
	if f.Query != "" {
		q.anyLike(f.Query, "name")
	}
	return r.t.list(ctx, r.s, q, f)
}

// Prices implements core.PriceBookService.
func (r priceBooks) Prices(ctx context.Context, bookID string) ([]core.Price, error) {
	book, err := r.Get(ctx, bookID)
	if err != nil {
		return nil, wrap("prices", err)
	}
	rows, err := r.s.db(ctx).Query(ctx, `SELECT price_book_id::text, product_id::text, service_id::text, price, version
		FROM prices WHERE price_book_id = $1 ORDER BY item_id`, bookID)
	if err != nil {
		return nil, wrap("prices", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.Price, error) {
		p := core.Price{Currency: book.Currency}
		err := row.Scan(&p.PriceBookID, &p.ProductID, &p.ServiceID, &p.Price, &p.Version)
		return p, err
	})
	return out, wrap("prices", err)
}

// SetPrice implements core.PriceBookService.
func (r priceBooks) SetPrice(ctx context.Context, p core.Price) (*core.Price, error) {
	var errs []core.FieldError
	item := ""
	switch {
	case (p.ProductID == nil) == (p.ServiceID == nil):
		errs = append(errs, core.FieldError{Field: "product_id", Code: "required", Message: "give a product_id or a service_id"})
	case p.ProductID != nil:
		item = *p.ProductID
	default:
		item = *p.ServiceID
	}
	if _, err := uuid.Parse(item); item != "" && err != nil {
		errs = append(errs, core.FieldError{Field: "product_id", Code: "invalid_id", Message: "must be a UUID"})
	}
	if fe := core.CheckPrice("price", p.Price.Decimal); fe != nil {
		errs = append(errs, *fe)
	}
	if err := core.Invalid(errs); err != nil {
		return nil, wrap("set price", err)
	}
	var out *core.Price
	err := r.s.inTx(ctx, func(tx pgx.Tx) error {
		book, err := r.t.get(ctx, tx, p.PriceBookID, "FOR SHARE")
		if err != nil {
			return err
		}
		if p.Currency != "" && p.Currency != book.Currency {
			return core.Invalid([]core.FieldError{{Field: "currency", Code: "currency_mismatch",
				Message: "the price book is in " + book.Currency}})
		}
		table, field := "products", "product_id"
		if p.ServiceID != nil {
			table, field = "services", "service_id"
		}
		if err := mustExist(ctx, tx, table, field, &item); err != nil {
			return err
		}
		var version int64
		err = tx.QueryRow(ctx, `INSERT INTO prices (price_book_id, item_id, product_id, service_id, price, version)
			VALUES ($1, $2, $3, $4, $5, 1)
			ON CONFLICT (price_book_id, item_id) DO UPDATE SET price = EXCLUDED.price, version = prices.version + 1
			RETURNING version`, book.ID, item, p.ProductID, p.ServiceID, p.Price).Scan(&version)
		if err != nil {
			return err
		}
		out = &core.Price{PriceBookID: book.ID, ProductID: p.ProductID, ServiceID: p.ServiceID, Price: p.Price,
			Currency: book.Currency, Version: version}
		op := core.OpUpdated
		if version == 1 {
			op = core.OpCreated
		}
		return r.s.emit(ctx, tx, core.EntityPrice, op, priceID(book.ID, item), version, out)
	})
	return out, wrap("set price", err)
}

// priceID names a price in events: a UUID derived from the price book and
// the item, so that one price's events share a key (and a partition).
func priceID(bookID, itemID string) string {
	return uuid.NewSHA1(uuid.MustParse(bookID), []byte(itemID)).String()
}

// DeletePrice implements core.PriceBookService.
func (r priceBooks) DeletePrice(ctx context.Context, bookID, itemID string) error {
	if _, err := uuid.Parse(itemID); err != nil {
		return core.Errorf(core.ENOTFOUND, "price not found")
	}
	if _, err := uuid.Parse(bookID); err != nil {
		return core.Errorf(core.ENOTFOUND, "price book not found")
	}
	return wrap("delete price", r.s.inTx(ctx, func(tx pgx.Tx) error {
		var p core.Price
		err := tx.QueryRow(ctx, `DELETE FROM prices WHERE price_book_id = $1 AND item_id = $2
			RETURNING price_book_id::text, product_id::text, service_id::text, price, version`, bookID, itemID).
			Scan(&p.PriceBookID, &p.ProductID, &p.ServiceID, &p.Price, &p.Version)
		if errors.Is(err, pgx.ErrNoRows) {
			return core.Errorf(core.ENOTFOUND, "price not found")
		}
		if err != nil {
			return fmt.Errorf("delete price: %w", err)
		}
		p.Version++
		return r.s.emit(ctx, tx, core.EntityPrice, core.OpDeleted, priceID(bookID, itemID), p.Version, p)
	}))
}

// OneCExported returns the versions of the documents of entity 1C has
// confirmed, by id.
func (s *Store) OneCExported(ctx context.Context, entity string) (map[string]int64, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT id::text, version FROM onec_exports WHERE entity = $1`, entity)
	if err != nil {
		return nil, wrap("1c exported", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, wrap("1c exported", err)
		}
		out[id] = v
	}
	return out, wrap("1c exported", rows.Err())
}

// MarkOneCExported records the versions 1C confirmed.
func (s *Store) MarkOneCExported(ctx context.Context, entity string, versions map[string]int64) error {
	if len(versions) == 0 {
		return nil
	}
	ids := make([]string, 0, len(versions))
	vs := make([]int64, 0, len(versions))
	for id, v := range versions {
		ids, vs = append(ids, id), append(vs, v)
	}
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO onec_exports (entity, id, version, exported_at)
		SELECT $1, u.id::uuid, u.v, now() FROM unnest($2::text[], $3::bigint[]) AS u(id, v)
		ON CONFLICT (entity, id) DO UPDATE SET version = greatest(onec_exports.version, EXCLUDED.version), exported_at = now()`,
		entity, ids, vs)
	return wrap("mark 1c exported", err)
}

// OneCItems returns the goods the exchange applied whose product or
// service still lives, by 1C Ид.
func (s *Store) OneCItems(ctx context.Context) (map[string]core.OneCItem, error) {
	// Goods applied before, and goods carrying a 1C Ид from elsewhere
	// (an Excel import, the API) with no digest yet.
	rows, err := s.db(ctx).Query(ctx, `SELECT o.onec_id, o.entity, o.item_id::text, o.digest FROM onec_items o
		WHERE EXISTS (SELECT 1 FROM products p WHERE p.id = o.item_id AND p.deleted_at IS NULL)
		   OR EXISTS (SELECT 1 FROM services v WHERE v.id = o.item_id AND v.deleted_at IS NULL)
		UNION ALL
		SELECT p.external_ids->>'onec', 'product', p.id::text, '' FROM products p
		WHERE p.external_ids ? 'onec' AND p.deleted_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM onec_items o WHERE o.onec_id = p.external_ids->>'onec')
		UNION ALL
		SELECT v.external_ids->>'onec', 'service', v.id::text, '' FROM services v
		WHERE v.external_ids ? 'onec' AND v.deleted_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM onec_items o WHERE o.onec_id = v.external_ids->>'onec')`)
	if err != nil {
		return nil, wrap("1c items", err)
	}
	defer rows.Close()
	out := map[string]core.OneCItem{}
	for rows.Next() {
		var it core.OneCItem
		if err := rows.Scan(&it.OneCID, &it.Entity, &it.ItemID, &it.Digest); err != nil {
			return nil, wrap("1c items", err)
		}
		out[it.OneCID] = it
	}
	return out, wrap("1c items", rows.Err())
}

// SaveOneCItems records what the exchange applied.
func (s *Store) SaveOneCItems(ctx context.Context, items []core.OneCItem) error {
	if len(items) == 0 {
		return nil
	}
	ids, ents, items2, digests := make([]string, len(items)), make([]string, len(items)), make([]string, len(items)), make([]string, len(items))
	for i, it := range items {
		ids[i], ents[i], items2[i], digests[i] = it.OneCID, it.Entity, it.ItemID, it.Digest
	}
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO onec_items (onec_id, entity, item_id, digest, updated_at)
		SELECT u.a, u.b, u.c::uuid, u.d, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(a, b, c, d)
		ON CONFLICT (onec_id) DO UPDATE SET entity = EXCLUDED.entity, item_id = EXCLUDED.item_id, digest = EXCLUDED.digest,
			updated_at = now()`, ids, ents, items2, digests)
	return wrap("save 1c items", err)
}

// OneCProperties returns the 1C properties the exchange has seen.
func (s *Store) OneCProperties(ctx context.Context) (map[string]core.OneCProperty, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT onec_id, name, variants FROM onec_properties`)
	if err != nil {
		return nil, wrap("1c properties", err)
	}
	defer rows.Close()
	out := map[string]core.OneCProperty{}
	for rows.Next() {
		var p core.OneCProperty
		if err := rows.Scan(&p.OneCID, &p.Name, &p.Variants); err != nil {
			return nil, wrap("1c properties", err)
		}
		out[p.OneCID] = p
	}
	return out, wrap("1c properties", rows.Err())
}

// SaveOneCProperty records a 1C property (its name and values).
func (s *Store) SaveOneCProperty(ctx context.Context, p core.OneCProperty) error {
	if p.Variants == nil {
		p.Variants = map[string]string{}
	}
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO onec_properties (onec_id, name, variants, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (onec_id) DO UPDATE SET name = EXCLUDED.name, variants = EXCLUDED.variants, updated_at = now()
		WHERE (onec_properties.name, onec_properties.variants) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.variants)`,
		p.OneCID, p.Name, p.Variants)
	return wrap("save 1c property", err)
}

// CreateCatalogBulk creates products or services (entity) from patches,
// each validated as a create would be, written with their events by COPY;
// it returns each one's id or error. When the COPY fails on a constraint
// the checks could not see, they are created one by one to say which.
func (s *Store) CreateCatalogBulk(ctx context.Context, entity string, patches []core.Patch) ([]string, []error, error) {
	switch entity {
	case core.EntityProduct:
		return copyCreate(ctx, s, s.db(ctx), s.tables.product, patches)
	case core.EntityService:
		return copyCreate(ctx, s, s.db(ctx), s.tables.service, patches)
	}
	return nil, nil, fmt.Errorf("bulk create of %s", entity)
}

// SetPricesBulk sets many list prices of one price book at once (for the
// 1C exchange): unchanged prices are left alone, each change has its
// event; it returns how many changed. Unknown items fail the batch (FK).
func (s *Store) SetPricesBulk(ctx context.Context, bookID string, prices []core.Price) (int, error) {
	if len(prices) == 0 {
		return 0, nil
	}
	items, prods, svcs := make([]string, len(prices)), make([]*string, len(prices)), make([]*string, len(prices))
	amounts := make([]decimal.Decimal, len(prices))
	for i, p := range prices {
		if fe := core.CheckPrice(fmt.Sprintf("prices[%d].price", i), p.Price.Round(2)); fe != nil { // 1C's are rounded
			return 0, core.Invalid([]core.FieldError{*fe})
		}
		if p.ProductID != nil {
			items[i] = *p.ProductID
		} else if p.ServiceID != nil {
			items[i] = *p.ServiceID
		}
		prods[i], svcs[i], amounts[i] = p.ProductID, p.ServiceID, p.Price.Round(2)
	}

	changed := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		book, err := s.tables.priceBook.get(ctx, tx, bookID, "FOR SHARE")
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `INSERT INTO prices AS p (price_book_id, item_id, product_id, service_id, price, version)
			SELECT $1, u.item::uuid, u.prod::uuid, u.svc::uuid, u.price, 1
			FROM unnest($2::text[], $3::text[], $4::text[], $5::numeric[]) AS u(item, prod, svc, price)
			ON CONFLICT (price_book_id, item_id) DO UPDATE SET price = EXCLUDED.price, version = p.version + 1
				WHERE p.price IS DISTINCT FROM EXCLUDED.price
			RETURNING item_id::text, product_id::text, service_id::text, price, version`, book.ID, items, prods, svcs, amounts)
		if err != nil {
			return err
		}
		type row struct {
			item      string
			prod, svc *string
			price     decimal.Decimal
			version   int64
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.item, &x.prod, &x.svc, &x.price, &x.version)
			return x, err
		})
		if err != nil {
			return err
		}

		now := s.now()
		events := make([][]any, 0, len(got))
		for _, x := range got {
			p := core.Price{PriceBookID: book.ID, ProductID: x.prod, ServiceID: x.svc, Price: core.NewMoney(x.price),
				Currency: book.Currency, Version: x.version}
			data, err := json.Marshal(p)
			if err != nil {
				return err
			}
			op := core.OpUpdated
			if x.version == 1 {
				op = core.OpCreated
			}
			events = append(events, outbox.Values(outbox.NewEvent(ctx, core.EntityPrice, op, priceID(book.ID, x.item), x.version, data, nil, now)))
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, outbox.Columns, pgx.CopyFromRows(events)); err != nil {
			return err
		}
		changed = len(got)
		return nil
	})
	return changed, wrap("set prices bulk", err)
}

// SetStockBulk sets the stock of many products at once (for the 1C
// exchange): unchanged ones are left alone, each change has its event; it
// returns how many changed.
func (s *Store) SetStockBulk(ctx context.Context, stock map[string]decimal.Decimal) (int, error) {
	if len(stock) == 0 {
		return 0, nil
	}
	ids, qty := make([]string, 0, len(stock)), make([]decimal.Decimal, 0, len(stock))
	for id, q := range stock {
		ids, qty = append(ids, id), append(qty, q)
	}
	t := s.tables.product
	cols := strings.Join(append(append([]string{}, t.columns...), t.commonColumns()...), ", p.")
	changed := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE products p SET stock_quantity = u.q, version = p.version + 1, updated_at = $3
			FROM unnest($1::text[], $2::numeric[]) AS u(id, q)
			WHERE p.id = u.id::uuid AND p.stock_quantity IS DISTINCT FROM u.q AND p.deleted_at IS NULL
			RETURNING p.`+cols, ids, qty, s.now())
		if err != nil {
			return err
		}
		var events [][]any
		now := s.now()
		for rows.Next() {
			rec, err := t.scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			data, err := json.Marshal(rec)
			if err != nil {
				rows.Close()
				return err
			}
			b := rec.Base()
			events = append(events, outbox.Values(outbox.NewEvent(ctx, core.EntityProduct, core.OpUpdated, b.ID, b.Version, data,
				[]string{"stock_quantity"}, now)))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, outbox.Columns, pgx.CopyFromRows(events)); err != nil {
			return err
		}
		changed = len(events)
		return nil
	})
	return changed, wrap("set stock bulk", err)
}
