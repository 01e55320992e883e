package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/shopspring/decimal"
)

// Catalog kinds, as events and topics name them.
const (
	EntityProduct      = "product"
	EntityService      = "service"
	EntityProductGroup = "product_group"
	EntityPriceBook    = "price_book"
	EntityPrice        = "price" // a list price in a price book
)

// Quantity is an amount of goods: a non-negative decimal with at most
// three fraction digits, rendered in JSON as a string ("12.5").
type Quantity struct{ decimal.Decimal }

// MarshalJSON renders the quantity as a quoted decimal without trailing zeros.
func (q Quantity) MarshalJSON() ([]byte, error) { return []byte(`"` + q.String() + `"`), nil }

// UnmarshalJSON reads a quoted decimal or a number.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	return q.Decimal.UnmarshalJSON(b)
}

// ParseQuantity reads a quantity as JSON gives it (a string or a number).
func ParseQuantity(raw json.RawMessage) (Quantity, bool) {
	q, ok := parseSignedQuantity(raw)
	if !ok || q.IsNegative() {
		return Quantity{}, false
	}
	return q, true
}

// parseSignedQuantity reads a quantity that may be negative.
func parseSignedQuantity(raw json.RawMessage) (Quantity, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return Quantity{}, false
		}
		s = n.String()
	}
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil || !ValidStock(d) {
		return Quantity{}, false
	}
	return Quantity{d}, true
}

// ValidStock reports whether d can be a product's stock: at most 3
// fraction digits and MaxQuantity either way. A stock may be negative:
// the accounting system's balance is when goods were shipped before
// their receipt was posted (1C allows it), and the CRM shows what
// accounting says.
func ValidStock(d decimal.Decimal) bool {
	return d.Equal(d.Round(3)) && d.Abs().LessThanOrEqual(decimal.NewFromInt(MaxQuantity))
}

// StockField sets a stock member (see ValidStock).
func StockField[T any](field func(*T) *Quantity) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = Quantity{}
			return nil
		}
		q, ok := parseSignedQuantity(raw)
		if !ok {
			return fail(path, "invalid_quantity", "must be a decimal with at most 3 fraction digits, from -"+thousands(MaxQuantity)+" to "+thousands(MaxQuantity))
		}
		*field(rec) = q
		return nil
	}
}

// QuantityField sets a quantity member.
func QuantityField[T any](field func(*T) *Quantity) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = Quantity{}
			return nil
		}
		q, ok := ParseQuantity(raw)
		if !ok {
			return fail(path, "invalid_quantity", "must be a non-negative decimal with at most 3 fraction digits, up to "+thousands(MaxQuantity))
		}
		*field(rec) = q
		return nil
	}
}

// VATRateField sets a VAT rate code: "22", "20", "10", "0", "5", "7" or
// "none" (без НДС); "" takes the general rate of the document's date.
func VATRateField[T any](field func(*T) *string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		s, ok := decodeString(raw)
		if !ok || (s != "" && !VATRate(s).Valid()) {
			return fail(path, "invalid_vat_rate", `must be "22", "20", "10", "0", "5", "7" or "none"`)
		}
		*field(rec) = s
		return nil
	}
}

// digits checks an all-digits code of length n (ОКЕИ, ОКСМ).
func digits(n int) func(string) (string, bool) {
	return func(s string) (string, bool) {
		s = strings.TrimSpace(s)
		if s == "" {
			return s, true
		}
		if len(s) != n {
			return s, false
		}
		for _, r := range s {
			if r < '0' || r > '9' {
				return s, false
			}
		}
		return s, true
	}
}

// CatalogItem is what products and services share.
type CatalogItem struct {
	Name        string            `json:"name"`
	SKU         string            `json:"sku"` // article
	GroupID     *string           `json:"group_id"`
	Unit        string            `json:"unit"`      // «шт», «ч», «усл. ед.»
	UnitCode    string            `json:"unit_code"` // ОКЕИ, e.g. 796 (штука), 356 (час)
	VATRate     string            `json:"vat_rate"`  // "" = the general rate
	Price       *Money            `json:"price"`     // base price
	Currency    string            `json:"currency"`
	Active      bool              `json:"active"`
	Description string            `json:"description"`
	ExternalIDs map[string]string `json:"external_ids"` // e.g. the 1C Ид
	// Attributes are named characteristics (1C's properties and
	// requisites: «Цвет», «Вес», «Штрихкод»); a write replaces them all.
	Attributes map[string]string `json:"attributes"`
}

// Product is goods with stock.
type Product struct {
	Record
	CatalogItem
	StockQuantity      Quantity `json:"stock_quantity"`
	Manufacturer       string   `json:"manufacturer"`
	CountryOfOrigin    string   `json:"country_of_origin"`   // for the счёт-фактура
	CountryCode        string   `json:"country_code"`        // ОКСМ, e.g. 156
	CustomsDeclaration string   `json:"customs_declaration"` // регистрационный номер декларации (ГТД)
}

// Service is work or a service: no stock.
type Service struct {
	Record
	CatalogItem
}

func catalogFields[T any](s *Schema[T], item func(*T) *CatalogItem) *Schema[T] {
	return s.
		Field("name", Text(250, false, func(t *T) *string { return &item(t).Name })).
		Field("sku", Text(100, false, func(t *T) *string { return &item(t).SKU })).
		Field("group_id", Link(func(t *T) **string { return &item(t).GroupID })).
		Field("unit", Text(20, false, func(t *T) *string { return &item(t).Unit })).
		Field("unit_code", Normalized("invalid_okei", "must be a 3-digit ОКЕИ code such as 796", digits(3),
			func(t *T) *string { return &item(t).UnitCode })).
		Field("vat_rate", VATRateField(func(t *T) *string { return &item(t).VATRate })).
		Field("price", AmountUpTo(MaxPrice, func(t *T) **Money { return &item(t).Price })).
		Field("currency", Normalized("invalid_currency", "must be an ISO 4217 code such as RUB", currencyCode,
			func(t *T) *string { return &item(t).Currency })).
		Field("active", Bool(func(t *T) *bool { return &item(t).Active })).
		Field("description", Text(32_000, true, func(t *T) *string { return &item(t).Description })).
		Field("external_ids", ExternalIDs(func(t *T) *map[string]string { return &item(t).ExternalIDs })).
		Field("attributes", Attributes(func(t *T) *map[string]string { return &item(t).Attributes }))
}

// Attribute limits: names, values, count.
const (
	maxAttributeName  = 200
	maxAttributeValue = 2000
	maxAttributes     = 200
)

// Attributes sets a name → value map as a whole (null or {} clears it):
// names of 1 to 200 characters, values of up to 2,000, at most 200.
func Attributes[T any](field func(*T) *map[string]string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = map[string]string{}
			return nil
		}
		var in map[string]string
		if err := json.Unmarshal(raw, &in); err != nil || in == nil {
			return fail(path, "invalid_type", "must be an object of names to text values")
		}
		if len(in) > maxAttributes {
			return fail(path, "too_many", fmt.Sprintf("at most %d attributes", maxAttributes))
		}
		out := make(map[string]string, len(in))
		for k, v := range in {
			name, code := CleanText(k, maxAttributeName, false)
			if code != "" || name == "" {
				return fail(path+"."+k, "invalid_key", fmt.Sprintf("names are 1 to %d characters of text", maxAttributeName))
			}
			val, code := CleanText(v, maxAttributeValue, true)
			if code != "" {
				return fail(path+"."+k, code, fmt.Sprintf("must be text of at most %d characters", maxAttributeValue))
			}
			out[name] = val
		}
		*field(rec) = out
		return nil
	}
}

// currencyCode normalizes an ISO 4217 code.
func currencyCode(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	return s, ValidCurrency(s)
}

// ProductSchema returns the writable fields of a product.
func ProductSchema() *Schema[Product] { return productSchema() }

var productSchema = sync.OnceValue(func() *Schema[Product] {
	return catalogFields(NewSchema[Product]("id", "created_at", "updated_at", "version"),
		func(p *Product) *CatalogItem { return &p.CatalogItem }).
		Field("stock_quantity", StockField(func(p *Product) *Quantity { return &p.StockQuantity })).
		Field("manufacturer", Text(200, false, func(p *Product) *string { return &p.Manufacturer })).
		Field("country_of_origin", Text(100, false, func(p *Product) *string { return &p.CountryOfOrigin })).
		Field("country_code", Normalized("invalid_oksm", "must be a 3-digit ОКСМ code such as 156", digits(3),
			func(p *Product) *string { return &p.CountryCode })).
		Field("customs_declaration", Text(50, false, func(p *Product) *string { return &p.CustomsDeclaration }))
})

// ServiceSchema returns the writable fields of a service.
func ServiceSchema() *Schema[Service] { return serviceSchema() }

var serviceSchema = sync.OnceValue(func() *Schema[Service] {
	return catalogFields(NewSchema[Service]("id", "created_at", "updated_at", "version"),
		func(s *Service) *CatalogItem { return &s.CatalogItem })
})

// Validate checks a product's name.
func (p *Product) Validate() error { return validateCatalog(&p.CatalogItem) }

// Validate checks a service's name.
func (s *Service) Validate() error { return validateCatalog(&s.CatalogItem) }

func validateCatalog(c *CatalogItem) error {
	if c.Name == "" {
		return Invalid([]FieldError{{Field: "name", Code: "required", Message: "is required"}})
	}
	return nil
}

// NewCatalogItem is an item's defaults: active, in roubles, pieces.
func NewCatalogItem() CatalogItem {
	return CatalogItem{Active: true, Currency: "RUB", ExternalIDs: map[string]string{}, Attributes: map[string]string{}}
}

// ProductGroup groups products and services (a tree).
type ProductGroup struct {
	Record
	Name        string            `json:"name"`
	ParentID    *string           `json:"parent_id"`
	Description string            `json:"description"`
	ExternalIDs map[string]string `json:"external_ids"`
}

// ProductGroupSchema returns the writable fields of a product group.
func ProductGroupSchema() *Schema[ProductGroup] { return productGroupSchema() }

var productGroupSchema = sync.OnceValue(func() *Schema[ProductGroup] {
	return NewSchema[ProductGroup]("id", "created_at", "updated_at", "version").
		Field("name", Text(250, false, func(g *ProductGroup) *string { return &g.Name })).
		Field("parent_id", Link(func(g *ProductGroup) **string { return &g.ParentID })).
		Field("description", Text(32_000, true, func(g *ProductGroup) *string { return &g.Description })).
		Field("external_ids", ExternalIDs(func(g *ProductGroup) *map[string]string { return &g.ExternalIDs }))
})

// Validate checks a group's name and that it is not its own parent.
func (g *ProductGroup) Validate() error {
	var errs []FieldError
	if g.Name == "" {
		errs = append(errs, FieldError{Field: "name", Code: "required", Message: "is required"})
	}
	if g.ParentID != nil && *g.ParentID == g.ID {
		errs = append(errs, FieldError{Field: "parent_id", Code: "cycle", Message: "a group cannot be its own parent"})
	}
	return Invalid(errs)
}

// PriceBook is a list of prices in one currency («Каталог»).
type PriceBook struct {
	Record
	Name        string `json:"name"`
	Currency    string `json:"currency"`
	Active      bool   `json:"active"`
	Description string `json:"description"`
}

// PriceBookSchema returns the writable fields of a price book.
func PriceBookSchema() *Schema[PriceBook] { return priceBookSchema() }

var priceBookSchema = sync.OnceValue(func() *Schema[PriceBook] {
	return NewSchema[PriceBook]("id", "created_at", "updated_at", "version").
		Field("name", Text(250, false, func(b *PriceBook) *string { return &b.Name })).
		Field("currency", Normalized("invalid_currency", "must be an ISO 4217 code such as RUB", currencyCode,
			func(b *PriceBook) *string { return &b.Currency })).
		Field("active", Bool(func(b *PriceBook) *bool { return &b.Active })).
		Field("description", Text(32_000, true, func(b *PriceBook) *string { return &b.Description }))
})

// Validate checks a price book's name and currency.
func (b *PriceBook) Validate() error {
	var errs []FieldError
	if b.Name == "" {
		errs = append(errs, FieldError{Field: "name", Code: "required", Message: "is required"})
	}
	if b.Currency == "" {
		errs = append(errs, FieldError{Field: "currency", Code: "required", Message: "is required"})
	}
	return Invalid(errs)
}

// Price is a product's or service's list price in a price book.
type Price struct {
	PriceBookID string  `json:"price_book_id"`
	ProductID   *string `json:"product_id"`
	ServiceID   *string `json:"service_id"`
	Price       Money   `json:"price"`
	Currency    string  `json:"currency"` // the price book's
	Version     int64   `json:"version"`
}

// CheckPrice returns what is wrong with a list price: negative, finer
// than kopecks, or above MaxPrice (nil when it is fine).
func CheckPrice(field string, d decimal.Decimal) *FieldError {
	switch {
	case d.IsNegative():
		return &FieldError{Field: field, Code: "invalid_decimal", Message: "must not be negative"}
	case !d.Equal(d.Round(2)):
		return &FieldError{Field: field, Code: "invalid_decimal", Message: "must have at most 2 fraction digits (kopecks)"}
	case d.GreaterThan(decimal.NewFromInt(MaxPrice)):
		return &FieldError{Field: field, Code: "out_of_range", Message: "must be at most " + FormatLimit(MaxPrice)}
	}
	return nil
}

// CatalogFilter selects products or services.
type CatalogFilter struct {
	ListParams
	GroupID    string
	Active     *bool
	SKU        string
	ExternalID [2]string
}

// ProductService keeps products.
type ProductService interface {
	Repository[Product]
	List(ctx context.Context, f CatalogFilter) (Page[Product], error)
}

// ServiceCatalog keeps the catalog's services (work or a service sold,
// with no stock), as ProductService keeps its goods.
type ServiceCatalog interface {
	Repository[Service]
	List(ctx context.Context, f CatalogFilter) (Page[Service], error)
}

// ProductGroupService keeps product groups.
type ProductGroupService interface {
	Repository[ProductGroup]
	List(ctx context.Context, f ListParams) (Page[ProductGroup], error)
}

// PriceBookService keeps price books and their prices.
type PriceBookService interface {
	Repository[PriceBook]
	List(ctx context.Context, f ListParams) (Page[PriceBook], error)
	// Prices lists a price book's prices. Errors: ENOTFOUND.
	Prices(ctx context.Context, bookID string) ([]Price, error)
	// SetPrice sets the list price of a product or service (exactly one
	// of them). Errors: ENOTFOUND, EINVALID.
	SetPrice(ctx context.Context, p Price) (*Price, error)
	// DeletePrice removes a product's or service's price. Errors: ENOTFOUND.
	DeletePrice(ctx context.Context, bookID, itemID string) error
}

// OneCItem is what the 1C exchange last applied to a good: the product or
// service it became and a digest of the fields 1C sent.
type OneCItem struct {
	OneCID, Entity, ItemID, Digest string
}

// OneCProperty is a 1C classifier property (Свойство) the exchange has
// seen: its name and, for a Справочник property, its values by Ид.
type OneCProperty struct {
	OneCID   string
	Name     string
	Variants map[string]string
}
