// Package totals computes the amounts of a sales document (quote, order,
// invoice, act, realization) from its lines: line discounts, VAT in the
// three tax modes of the seed (individual, group, tax-inclusive), the
// overall discount, shipping and handling with its own VAT, the adjustment
// and the grand total.
//
// Everything is decimal and rounded half-up to kopecks where the documents
// round: each line's amounts and VAT, and every document figure. Document
// totals are sums of the rounded line values, never recomputed on the
// total (documents-and-tax.md §6), so that a счёт-фактура's rows add up.
// The algorithm and its worked example are crm-model.md §3.
package totals

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Mode is how VAT is applied.
type Mode string

// Tax modes.
const (
	// Individual: each line's VAT is computed on its net amount and added.
	Individual Mode = "individual"
	// Group: one rate on the discounted subtotal, added at document level.
	Group Mode = "group"
	// Inclusive: prices include VAT; each line's VAT is extracted as
	// net × r/(100+r) and nothing is added.
	Inclusive Mode = "inclusive"
)

// Rate is a VAT rate as documents write it: "22", "20" (shipments before
// 2026 only), "10", "0", "5", "7", or "none" (без НДС).
type Rate string

// RateNone is "без НДС": no VAT at all (exempt), unlike "0".
const RateNone Rate = "none"

var rates = map[Rate]decimal.Decimal{
	"22": decimal.NewFromInt(22), "20": decimal.NewFromInt(20), "10": decimal.NewFromInt(10), "0": decimal.Zero,
	"5": decimal.NewFromInt(5), "7": decimal.NewFromInt(7), RateNone: decimal.Zero,
}

// Rates lists the rates in the order documents print them.
func Rates() []Rate { return []Rate{"22", "20", "10", "7", "5", "0", RateNone} }

// Valid reports whether r is a known rate.
func (r Rate) Valid() bool { _, ok := rates[r]; return ok }

// Percent is the rate as a number (0 for "none").
func (r Rate) Percent() decimal.Decimal { return rates[r] }

// generalRateChange is when the general rate went from 20% to 22%
// (Федеральный закон от 28.11.2025 № 425-ФЗ).
var generalRateChange = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// GeneralRate is the general VAT rate in force on a shipment or document
// date: 20% before 2026, 22% from 1 January 2026.
func GeneralRate(date time.Time) Rate {
	if date.Before(generalRateChange) {
		return "20"
	}
	return "22"
}

// Discount is a percent or an amount (at most one is set).
type Discount struct {
	Percent *decimal.Decimal
	Amount  *decimal.Decimal
}

// Line is a document line as entered.
type Line struct {
	Quantity decimal.Decimal
	Price    decimal.Decimal // excluding VAT, or including it in Inclusive mode
	Discount Discount
	Rate     Rate // "" takes the general rate of the document's date
}

// Doc is a document's inputs.
type Doc struct {
	Mode     Mode
	Date     time.Time // the shipment or document date: it chooses the general rate
	Lines    []Line
	Discount Discount // overall
	Shipping decimal.Decimal
	// ShippingRate is the VAT of shipping and handling ("" takes the
	// general rate).
	ShippingRate Rate
	Adjustment   decimal.Decimal // signed
}

// LineResult is a line's computed amounts.
type LineResult struct {
	Rate     Rate
	Gross    decimal.Decimal // quantity × price
	Discount decimal.Decimal
	Net      decimal.Decimal // excluding VAT
	VAT      decimal.Decimal // per line (zero in Group mode: VAT is at document level)
	Total    decimal.Decimal // what the line adds to the subtotal
}

// RateTotal is the VAT of one rate, for "В том числе НДС 22%: …".
type RateTotal struct {
	Rate Rate
	Base decimal.Decimal // amounts excluding VAT taxed at the rate
	VAT  decimal.Decimal
}

// Result is a document's computed amounts.
type Result struct {
	Rate          Rate // the document-level rate of Group mode
	Lines         []LineResult
	Subtotal      decimal.Decimal // Σ line totals
	DiscountTotal decimal.Decimal // line discounts + the overall discount
	OverallDisc   decimal.Decimal
	ShippingVAT   decimal.Decimal // added in Individual and Group mode, included in Inclusive
	GroupVAT      decimal.Decimal
	VATTotal      decimal.Decimal // all VAT in the grand total
	PreTaxTotal   decimal.Decimal
	GrandTotal    decimal.Decimal
	ByRate        []RateTotal
}

// FieldError names an invalid input by its JSON path.
type FieldError struct {
	Field, Code, Message string
}

// Error lists the invalid inputs.
type Error struct{ Fields []FieldError }

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return "totals: invalid document"
	}
	return fmt.Sprintf("totals: %s: %s", e.Fields[0].Field, e.Fields[0].Message)
}

var (
	hundred = decimal.NewFromInt(100)
	// Limits keep every intermediate value far inside what a document can
	// mean (and what numeric(18,2) stores).
	maxAmount   = decimal.RequireFromString("1000000000000")
	maxQuantity = decimal.RequireFromString("1000000000")
)

func round(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

// Compute computes a document. Invalid input is an *Error naming every
// field at fault, nothing computed.
func Compute(d Doc) (Result, error) {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{field, code, msg}) }
	switch d.Mode {
	case Individual, Group, Inclusive:
	default:
		bad("tax_mode", "invalid_choice", "must be individual, group or inclusive")
	}
	general := GeneralRate(d.Date)
	resolve := func(field string, r Rate) Rate {
		switch {
		case r == "":
			return general
		case !r.Valid():
			bad(field, "invalid_choice", `must be "22", "20", "10", "0", "5", "7" or "none"`)
		case r == "22" && general == "20":
			bad(field, "rate_not_in_force", "22% applies to shipments from 1 January 2026")
		case r == "20" && general == "22":
			bad(field, "rate_not_in_force", "20% applies to shipments before 1 January 2026")
		}
		return r
	}
	res := Result{Lines: make([]LineResult, len(d.Lines))}
	groupRate := Rate("")
	for i, l := range d.Lines {
		p := fmt.Sprintf("lines[%d].", i)
		lr := LineResult{Rate: resolve(p+"vat_rate", l.Rate)}
		if l.Quantity.IsNegative() || l.Quantity.GreaterThan(maxQuantity) {
			bad(p+"quantity", "out_of_range", "must be 0 to 1,000,000,000")
		}
		if l.Price.IsNegative() || l.Price.GreaterThan(maxAmount) {
			bad(p+"price", "out_of_range", "must not be negative")
		}
		lr.Gross = round(l.Quantity.Mul(l.Price))
		disc, ok := discount(l.Discount, lr.Gross, p, bad)
		if !ok {
			continue
		}
		lr.Discount = disc
		after := lr.Gross.Sub(disc)
		switch d.Mode {
		case Individual:
			lr.Net = after
			lr.VAT = round(after.Mul(lr.Rate.Percent()).Div(hundred))
			lr.Total = after.Add(lr.VAT)
		case Group:
			lr.Net, lr.Total = after, after
			if groupRate == "" {
				groupRate = lr.Rate
			} else if lr.Rate != groupRate {
				bad(p+"vat_rate", "mixed_rates", "group tax mode takes one VAT rate for the whole document")
			}
		case Inclusive:
			lr.VAT = extract(after, lr.Rate)
			lr.Net = after.Sub(lr.VAT) // so that net + VAT = gross exactly
			lr.Total = after
		}
		res.Lines[i] = lr
	}
	shipRate := resolve("shipping_vat_rate", d.ShippingRate)
	if d.Shipping.IsNegative() || d.Shipping.GreaterThan(maxAmount) {
		bad("shipping_amount", "out_of_range", "must not be negative")
	}
	if d.Adjustment.Abs().GreaterThan(maxAmount) {
		bad("adjustment", "out_of_range", "is too large")
	}
	if len(errs) > 0 {
		return Result{}, &Error{Fields: errs}
	}
	for _, lr := range res.Lines {
		res.Subtotal = res.Subtotal.Add(lr.Total)
		res.DiscountTotal = res.DiscountTotal.Add(lr.Discount)
	}
	overall, ok := discount(d.Discount, res.Subtotal, "", bad)
	if !ok {
		return Result{}, &Error{Fields: errs}
	}
	res.OverallDisc = overall
	res.DiscountTotal = res.DiscountTotal.Add(overall)
	shipping := round(d.Shipping)
	adjustment := round(d.Adjustment)
	afterDisc := res.Subtotal.Sub(overall)
	byRate := map[Rate]*RateTotal{}
	add := func(r Rate, base, vat decimal.Decimal) {
		t := byRate[r]
		if t == nil {
			t = &RateTotal{Rate: r}
			byRate[r] = t
		}
		t.Base, t.VAT = t.Base.Add(base), t.VAT.Add(vat)
	}
	switch d.Mode {
	case Individual:
		res.ShippingVAT = round(shipping.Mul(shipRate.Percent()).Div(hundred))
		for _, lr := range res.Lines {
			res.VATTotal = res.VATTotal.Add(lr.VAT)
			res.PreTaxTotal = res.PreTaxTotal.Add(lr.Net)
			add(lr.Rate, lr.Net, lr.VAT)
		}
		res.VATTotal = res.VATTotal.Add(res.ShippingVAT)
		res.PreTaxTotal = res.PreTaxTotal.Add(shipping).Sub(overall)
		res.GrandTotal = afterDisc.Add(shipping).Add(res.ShippingVAT).Add(adjustment)
	case Group:
		res.Rate = groupRate
		if groupRate == "" {
			res.Rate = general
		}
		res.ShippingVAT = round(shipping.Mul(shipRate.Percent()).Div(hundred))
		res.GroupVAT = round(afterDisc.Mul(res.Rate.Percent()).Div(hundred))
		res.VATTotal = res.GroupVAT.Add(res.ShippingVAT)
		res.PreTaxTotal = afterDisc.Add(shipping)
		res.GrandTotal = afterDisc.Add(shipping).Add(res.ShippingVAT).Add(res.GroupVAT).Add(adjustment)
		if len(res.Lines) > 0 {
			add(res.Rate, afterDisc, res.GroupVAT)
		}
	case Inclusive:
		res.ShippingVAT = extract(shipping, shipRate)
		for _, lr := range res.Lines {
			res.VATTotal = res.VATTotal.Add(lr.VAT)
			add(lr.Rate, lr.Net, lr.VAT)
		}
		res.VATTotal = res.VATTotal.Add(res.ShippingVAT)
		res.PreTaxTotal = afterDisc.Add(shipping)
		res.GrandTotal = afterDisc.Add(shipping).Add(adjustment)
	}
	if !shipping.IsZero() {
		base := shipping
		if d.Mode == Inclusive {
			base = shipping.Sub(res.ShippingVAT)
		}
		add(shipRate, base, res.ShippingVAT)
	}
	for _, r := range Rates() {
		if t := byRate[r]; t != nil {
			res.ByRate = append(res.ByRate, *t)
		}
	}
	if res.GrandTotal.IsNegative() {
		return Result{}, &Error{Fields: []FieldError{{"adjustment", "negative_total", "the grand total would be negative"}}}
	}
	return res, nil
}

// extract is the VAT included in a gross amount: gross × r/(100+r).
func extract(gross decimal.Decimal, r Rate) decimal.Decimal {
	p := r.Percent()
	if p.IsZero() {
		return decimal.Zero
	}
	return round(gross.Mul(p).Div(hundred.Add(p)))
}

// discount computes a percent or amount discount of base; path prefixes
// the field names.
func discount(d Discount, base decimal.Decimal, path string, bad func(field, code, msg string)) (decimal.Decimal, bool) {
	switch {
	case d.Percent != nil && d.Amount != nil:
		bad(path+"discount_amount", "conflict", "give a discount percent or amount, not both")
		return decimal.Zero, false
	case d.Percent != nil:
		if d.Percent.IsNegative() || d.Percent.GreaterThan(hundred) {
			bad(path+"discount_percent", "out_of_range", "must be 0 to 100")
			return decimal.Zero, false
		}
		return round(base.Mul(*d.Percent).Div(hundred)), true
	case d.Amount != nil:
		a := round(*d.Amount)
		if a.IsNegative() || a.GreaterThan(base) {
			bad(path+"discount_amount", "out_of_range", fmt.Sprintf("must be 0 to %s (the amount it discounts)", base.StringFixed(2)))
			return decimal.Zero, false
		}
		return a, true
	}
	return decimal.Zero, true
}
