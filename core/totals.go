// The totals engine computes the amounts of a sales document (quote, order,
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
package core

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// TaxMode is how VAT is applied.
type TaxMode string

// Tax modes.
const (
	// TaxIndividual: each line's VAT is computed on its net amount and added.
	TaxIndividual TaxMode = "individual"
	// TaxGroup: one rate on the discounted subtotal, added at document level.
	TaxGroup TaxMode = "group"
	// TaxInclusive: prices include VAT; each line's VAT is extracted as
	// net × r/(100+r) and nothing is added.
	TaxInclusive TaxMode = "inclusive"
)

// VATRate is a VAT rate as documents write it: "22", "20" (shipments before
// 2026 only), "10", "0", "5", "7", or "none" (без НДС).
type VATRate string

// VATNone is "без НДС": no VAT at all (exempt), unlike "0".
const VATNone VATRate = "none"

var rates = map[VATRate]decimal.Decimal{
	"22": decimal.NewFromInt(22), "20": decimal.NewFromInt(20), "10": decimal.NewFromInt(10), "0": decimal.Zero,
	"5": decimal.NewFromInt(5), "7": decimal.NewFromInt(7), VATNone: decimal.Zero,
}

// VATRates lists the rates in the order documents print them.
func VATRates() []VATRate { return []VATRate{"22", "20", "10", "7", "5", "0", VATNone} }

// Valid reports whether r is a known rate.
func (r VATRate) Valid() bool { _, ok := rates[r]; return ok }

// Percent is the rate as a number (0 for "none").
func (r VATRate) Percent() decimal.Decimal { return rates[r] }

// generalRateChange is when the general rate went from 20% to 22%
// (Федеральный закон от 28.11.2025 № 425-ФЗ).
var generalRateChange = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// GeneralVATRate is the general VAT rate in force on a shipment or document
// date: 20% before 2026, 22% from 1 January 2026.
func GeneralVATRate(date time.Time) VATRate {
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

// TotalsLine is a document line as entered.
type TotalsLine struct {
	Quantity decimal.Decimal
	Price    decimal.Decimal // excluding VAT, or including it in TaxInclusive mode
	Discount Discount
	VATRate  VATRate // "" takes the general rate of the document's date
}

// TotalsDoc is a document's inputs.
type TotalsDoc struct {
	TaxMode  TaxMode
	Date     time.Time // the shipment or document date: it chooses the general rate
	Lines    []TotalsLine
	Discount Discount // overall
	Shipping decimal.Decimal
	// ShippingRate is the VAT of shipping and handling ("" takes the
	// general rate).
	ShippingRate VATRate
	Adjustment   decimal.Decimal // signed
}

// LineTotals is a line's computed amounts.
type LineTotals struct {
	VATRate  VATRate
	Gross    decimal.Decimal // quantity × price
	Discount decimal.Decimal
	Net      decimal.Decimal // excluding VAT
	VAT      decimal.Decimal // per line (zero in TaxGroup mode: VAT is at document level)
	Total    decimal.Decimal // what the line adds to the subtotal
}

// RateTotals is the VAT of one rate, for "В том числе НДС 22%: …".
type RateTotals struct {
	VATRate VATRate
	Base    decimal.Decimal // amounts excluding VAT taxed at the rate
	VAT     decimal.Decimal
}

// Totals is a document's computed amounts.
type Totals struct {
	VATRate       VATRate // the document-level rate of TaxGroup mode
	Lines         []LineTotals
	Subtotal      decimal.Decimal // Σ line totals
	DiscountTotal decimal.Decimal // line discounts + the overall discount
	OverallDisc   decimal.Decimal
	ShippingVAT   decimal.Decimal // added in TaxIndividual and TaxGroup mode, included in TaxInclusive
	GroupVAT      decimal.Decimal
	VATTotal      decimal.Decimal // all VAT in the grand total
	PreTaxTotal   decimal.Decimal
	GrandTotal    decimal.Decimal
	ByRate        []RateTotals
}

var (
	hundred = decimal.NewFromInt(100)
	// Limits keep every intermediate value far inside what a document can
	// mean (and what numeric(18,2) stores).
	maxAmount   = decimal.RequireFromString("1000000000000")
	maxQuantity = decimal.RequireFromString("1000000000")
)

func round(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

// ComputeTotals computes a document. Invalid input is an *Error naming every
// field at fault, nothing computed.
func ComputeTotals(d TotalsDoc) (Totals, error) {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	switch d.TaxMode {
	case TaxIndividual, TaxGroup, TaxInclusive:
	default:
		bad("tax_mode", "invalid_choice", "must be individual, group or inclusive")
	}
	general := GeneralVATRate(d.Date)
	resolve := func(field string, r VATRate) VATRate {
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
	res := Totals{Lines: make([]LineTotals, len(d.Lines))}
	groupRate := VATRate("")
	for i, l := range d.Lines {
		p := fmt.Sprintf("lines[%d].", i)
		lr := LineTotals{VATRate: resolve(p+"vat_rate", l.VATRate)}
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
		switch d.TaxMode {
		case TaxIndividual:
			lr.Net = after
			lr.VAT = round(after.Mul(lr.VATRate.Percent()).Div(hundred))
			lr.Total = after.Add(lr.VAT)
		case TaxGroup:
			lr.Net, lr.Total = after, after
			if groupRate == "" {
				groupRate = lr.VATRate
			} else if lr.VATRate != groupRate {
				bad(p+"vat_rate", "mixed_rates", "group tax mode takes one VAT rate for the whole document")
			}
		case TaxInclusive:
			lr.VAT = extract(after, lr.VATRate)
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
		return Totals{}, Invalid(errs)
	}
	for _, lr := range res.Lines {
		res.Subtotal = res.Subtotal.Add(lr.Total)
		res.DiscountTotal = res.DiscountTotal.Add(lr.Discount)
	}
	overall, ok := discount(d.Discount, res.Subtotal, "", bad)
	if !ok {
		return Totals{}, Invalid(errs)
	}
	res.OverallDisc = overall
	res.DiscountTotal = res.DiscountTotal.Add(overall)
	shipping := round(d.Shipping)
	adjustment := round(d.Adjustment)
	afterDisc := res.Subtotal.Sub(overall)
	byRate := map[VATRate]*RateTotals{}
	add := func(r VATRate, base, vat decimal.Decimal) {
		t := byRate[r]
		if t == nil {
			t = &RateTotals{VATRate: r}
			byRate[r] = t
		}
		t.Base, t.VAT = t.Base.Add(base), t.VAT.Add(vat)
	}
	switch d.TaxMode {
	case TaxIndividual:
		res.ShippingVAT = round(shipping.Mul(shipRate.Percent()).Div(hundred))
		for _, lr := range res.Lines {
			res.VATTotal = res.VATTotal.Add(lr.VAT)
			res.PreTaxTotal = res.PreTaxTotal.Add(lr.Net)
			add(lr.VATRate, lr.Net, lr.VAT)
		}
		res.VATTotal = res.VATTotal.Add(res.ShippingVAT)
		res.PreTaxTotal = res.PreTaxTotal.Add(shipping).Sub(overall)
		res.GrandTotal = afterDisc.Add(shipping).Add(res.ShippingVAT).Add(adjustment)
	case TaxGroup:
		res.VATRate = groupRate
		if groupRate == "" {
			res.VATRate = general
		}
		res.ShippingVAT = round(shipping.Mul(shipRate.Percent()).Div(hundred))
		res.GroupVAT = round(afterDisc.Mul(res.VATRate.Percent()).Div(hundred))
		res.VATTotal = res.GroupVAT.Add(res.ShippingVAT)
		res.PreTaxTotal = afterDisc.Add(shipping)
		res.GrandTotal = afterDisc.Add(shipping).Add(res.ShippingVAT).Add(res.GroupVAT).Add(adjustment)
		if len(res.Lines) > 0 {
			add(res.VATRate, afterDisc, res.GroupVAT)
		}
	case TaxInclusive:
		res.ShippingVAT = extract(shipping, shipRate)
		for _, lr := range res.Lines {
			res.VATTotal = res.VATTotal.Add(lr.VAT)
			add(lr.VATRate, lr.Net, lr.VAT)
		}
		res.VATTotal = res.VATTotal.Add(res.ShippingVAT)
		res.PreTaxTotal = afterDisc.Add(shipping)
		res.GrandTotal = afterDisc.Add(shipping).Add(adjustment)
	}
	if !shipping.IsZero() {
		base := shipping
		if d.TaxMode == TaxInclusive {
			base = shipping.Sub(res.ShippingVAT)
		}
		add(shipRate, base, res.ShippingVAT)
	}
	for _, r := range VATRates() {
		if t := byRate[r]; t != nil {
			res.ByRate = append(res.ByRate, *t)
		}
	}
	if res.GrandTotal.IsNegative() {
		return Totals{}, Invalid([]FieldError{{Field: "adjustment", Code: "negative_total", Message: "the grand total would be negative"}})
	}
	return res, nil
}

// extract is the VAT included in a gross amount: gross × r/(100+r).
func extract(gross decimal.Decimal, r VATRate) decimal.Decimal {
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
