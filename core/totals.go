// The totals engine computes the amounts of a sales document (quote, order,
// invoice, act, realization) from its lines, by the rules of the tax
// code (ст. 154, 168 НК РФ), the way 1C computes them:
//
//  1. a line's amount is round(quantity × price), less its own discount;
//  2. the overall discount (and, where it has a tax basis, the adjustment)
//     is spread over the lines in proportion to their amounts, the
//     rounding remainder going to the largest line, so every line carries
//     its share and the tax base is the price actually charged;
//  3. VAT is computed per line on the line's final amount, and every
//     document figure is a sum of line figures, never recomputed on the
//     total, so that a счёт-фактура's rows add up;
//  4. shipping and handling is not discounted and has its own rate.
//
// Amounts are in the document's price terms: net of VAT in the individual
// and group modes, VAT-inclusive in the inclusive mode. Everything is
// decimal, rounded half-up to kopecks. vtiger/SalesPlatform take VAT before
// the overall discount, so their tax base is not the price charged; that
// is not followed here.
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
	// TaxIndividual: prices exclude VAT; each line's VAT is computed on its
	// final amount and added.
	TaxIndividual TaxMode = "individual"
	// TaxGroup: as TaxIndividual with one rate for the whole document.
	TaxGroup TaxMode = "group"
	// TaxInclusive: prices include VAT; each line's VAT is extracted as
	// amount × r/(100+r) and nothing is added.
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

// RateOnDate is the rate a line of rate r is billed at on a shipment date:
// the general rate follows the shipment date (20% before 2026, 22% from
// then), every other rate stays. changed reports a move.
func RateOnDate(r VATRate, date time.Time) (VATRate, bool) {
	if r != "20" && r != "22" {
		return r, false
	}
	g := GeneralVATRate(date)
	return g, g != r
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
	// Carried, when set, are the figures of the invoice line (or of the
	// part of it) that this line of a closing document bills: they are
	// taken as they are, so that the parts add up to the invoice line.
	Carried *Carried
}

// Carried are a billed line's figures in price terms (see BillPart).
type Carried struct {
	Amount       decimal.Decimal // before the line's own discount
	LineDiscount decimal.Decimal
	Share        decimal.Decimal // of the overall discount and adjustment
	VAT          decimal.Decimal
}

// LineTotals is a line's computed amounts.
type LineTotals struct {
	VATRate      VATRate
	Amount       decimal.Decimal // round(quantity × price)
	LineDiscount decimal.Decimal // the line's own discount
	Share        decimal.Decimal // its part of the overall discount and adjustment (negative: an increase)
	Final        decimal.Decimal // Amount − LineDiscount − Share, in price terms
	Net          decimal.Decimal // excluding VAT
	VAT          decimal.Decimal
	Total        decimal.Decimal // Net + VAT
}

// After is the line's amount after its own discount.
func (l LineTotals) After() decimal.Decimal { return l.Amount.Sub(l.LineDiscount) }

// RateTotals is the VAT of one rate, for "В том числе НДС 22%: …".
type RateTotals struct {
	VATRate VATRate
	Base    decimal.Decimal // final amounts excluding VAT taxed at the rate
	VAT     decimal.Decimal
}

// ShippingTotals are shipping and handling's amounts.
type ShippingTotals struct {
	VATRate VATRate
	Amount  decimal.Decimal // as entered, in the document's price terms
	Net     decimal.Decimal
	VAT     decimal.Decimal
	Total   decimal.Decimal
}

// ShippingOf computes shipping and handling: not discounted, its VAT at its
// own rate by rule 3.
func ShippingOf(amount decimal.Decimal, rate VATRate, mode TaxMode) ShippingTotals {
	amount = round(amount)
	s := ShippingTotals{VATRate: rate, Amount: amount, Net: amount, VAT: VATOn(amount, rate, mode)}
	s.Total = s.Net.Add(s.VAT)
	if mode == TaxInclusive {
		s.Net, s.Total = amount.Sub(s.VAT), amount
	}
	return s
}

// Totals is a document's computed amounts.
type Totals struct {
	VATRate  VATRate // the document's one rate in TaxGroup mode
	Lines    []LineTotals
	Subtotal decimal.Decimal // Σ lines after their own discounts, in price terms
	// Discount is the overall discount; DiscountTotal what was spread over
	// the lines: the overall discount less the adjustment.
	Discount      decimal.Decimal
	DiscountTotal decimal.Decimal
	Shipping      ShippingTotals
	NetTotal      decimal.Decimal // Σ line net + shipping net
	VATTotal      decimal.Decimal // Σ line VAT + shipping VAT
	GrandTotal    decimal.Decimal // Σ line totals + shipping total
	ByRate        []RateTotals
}

var (
	hundred = decimal.NewFromInt(100)
	// The money limits (MaxQuantity…), as decimals.
	maxQuantity = decimal.NewFromInt(MaxQuantity)
	maxPrice    = decimal.NewFromInt(MaxPrice)
	maxAmount   = decimal.NewFromInt(MaxAmount)
	maxTotal    = decimal.NewFromInt(MaxTotal)
)

func round(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

// VATOn is the VAT of a line's final amount in a tax mode: on top
// round(amount × r/100), included round(amount × r/(100+r)).
func VATOn(amount decimal.Decimal, r VATRate, mode TaxMode) decimal.Decimal {
	p := r.Percent()
	if p.IsZero() {
		return decimal.Zero
	}
	if mode == TaxInclusive {
		return amount.Mul(p).DivRound(hundred.Add(p), 2) // exact, half away from zero like Round
	}
	return round(amount.Mul(p).Shift(-2))
}

// totalsCheck collects the field errors of a computation.
type totalsCheck struct {
	errs    []FieldError
	general VATRate
}

func (c *totalsCheck) bad(field, code, msg string) {
	c.errs = append(c.errs, FieldError{Field: field, Code: code, Message: msg})
}

func (c *totalsCheck) rate(field string, r VATRate) VATRate {
	switch {
	case r == "":
		return c.general
	case !r.Valid():
		c.bad(field, "invalid_choice", `must be "22", "20", "10", "0", "5", "7" or "none"`)
	case r == "22" && c.general == "20":
		c.bad(field, "rate_not_in_force", "22% applies to shipments from 1 January 2026")
	case r == "20" && c.general == "22":
		c.bad(field, "rate_not_in_force", "20% applies to shipments before 1 January 2026")
	}
	return r
}

// ComputeTotals computes a document. Invalid input is an *Error naming every
// field at fault, nothing computed.
func ComputeTotals(d TotalsDoc) (Totals, error) {
	c := &totalsCheck{general: GeneralVATRate(d.Date)}
	switch d.TaxMode {
	case TaxIndividual, TaxGroup, TaxInclusive:
	default:
		c.bad("tax_mode", "invalid_choice", "must be individual, group or inclusive")
	}
	res := Totals{Lines: make([]LineTotals, len(d.Lines))}
	for i, l := range d.Lines {
		res.Lines[i] = c.line(fmt.Sprintf("lines[%d].", i), l)
		if d.TaxMode == TaxGroup {
			c.oneRate(i, res.Lines[i].VATRate, &res.VATRate)
		}
	}
	shipRate := c.rate("shipping_vat_rate", d.ShippingRate)
	switch {
	case d.Shipping.IsNegative():
		c.bad("shipping_amount", "out_of_range", "must not be negative")
	case d.Shipping.GreaterThan(maxAmount):
		c.bad("shipping_amount", "out_of_range", "must be at most "+FormatLimit(MaxAmount))
	}
	if d.Adjustment.Abs().GreaterThan(maxAmount) {
		c.bad("adjustment", "out_of_range", "must be at most "+FormatLimit(MaxAmount)+" either way")
	}
	if len(c.errs) > 0 {
		return Totals{}, Invalid(c.errs)
	}
	// afters are the lines' amounts after their own discounts; a billed
	// line keeps the share it carries and takes none of the spread.
	afters, weights := make([]decimal.Decimal, len(res.Lines)), make([]decimal.Decimal, len(res.Lines))
	var subtotal, spreadSum kopecks
	for i, lr := range res.Lines {
		afters[i] = lr.After()
		subtotal.add(afters[i])
		if d.Lines[i].Carried == nil {
			weights[i] = afters[i]
			spreadSum.add(afters[i])
		}
	}
	res.Subtotal = subtotal.sum()
	spreadable := spreadSum.sum()
	overall, ok := discount(d.Discount, spreadable, "", c.bad)
	if !ok {
		return Totals{}, Invalid(c.errs)
	}
	res.Discount = overall
	adjustment := round(d.Adjustment)
	if !adjustment.IsZero() {
		c.checkAdjustment(d, res.Lines)
	}
	spread := overall.Sub(adjustment)
	switch {
	case spread.GreaterThan(spreadable):
		c.bad("adjustment", "negative_total", "the adjustment would make the lines negative")
	case !spread.IsZero() && spreadable.IsZero():
		c.bad("adjustment", "nothing_to_adjust", "the document has no line amounts to spread the adjustment over")
	}
	if len(c.errs) > 0 {
		return Totals{}, Invalid(c.errs)
	}
	shares := Spread(spread, weights)
	type rateSums struct{ base, vat kopecks }
	byRate := map[VATRate]*rateSums{}
	var discTotal, netTotal, vatTotal, grandTotal kopecks
	add := func(r VATRate, net, vat decimal.Decimal) {
		t := byRate[r]
		if t == nil {
			t = &rateSums{}
			byRate[r] = t
		}
		t.base.add(net)
		t.vat.add(vat)
	}
	for i := range res.Lines {
		lr := &res.Lines[i]
		if d.Lines[i].Carried == nil {
			lr.Share = shares[i]
			lr.Final = afters[i].Sub(lr.Share)
			lr.VAT = VATOn(lr.Final, lr.VATRate, d.TaxMode)
		}
		lr.Net, lr.Total = lr.Final, lr.Final.Add(lr.VAT)
		if d.TaxMode == TaxInclusive {
			lr.Net, lr.Total = lr.Final.Sub(lr.VAT), lr.Final
		}
		discTotal.add(lr.Share)
		netTotal.add(lr.Net)
		vatTotal.add(lr.VAT)
		grandTotal.add(lr.Total)
		add(lr.VATRate, lr.Net, lr.VAT)
	}
	if shipping := round(d.Shipping); !shipping.IsZero() {
		s := ShippingOf(shipping, shipRate, d.TaxMode)
		res.Shipping = s
		netTotal.add(s.Net)
		vatTotal.add(s.VAT)
		grandTotal.add(s.Total)
		add(shipRate, s.Net, s.VAT)
	} else {
		res.Shipping.VATRate = shipRate
	}
	if d.TaxMode == TaxGroup && res.VATRate == "" {
		res.VATRate = c.general
	}
	res.DiscountTotal, res.NetTotal, res.VATTotal, res.GrandTotal = discTotal.sum(), netTotal.sum(), vatTotal.sum(), grandTotal.sum()
	if c.totals(res); len(c.errs) > 0 {
		return Totals{}, Invalid(c.errs)
	}
	for _, r := range VATRates() {
		if t := byRate[r]; t != nil {
			res.ByRate = append(res.ByRate, RateTotals{VATRate: r, Base: t.base.sum(), VAT: t.vat.sum()})
		}
	}
	return res, nil
}

// oneRate keeps group mode to one rate: the first line's.
func (c *totalsCheck) oneRate(i int, r VATRate, group *VATRate) {
	switch {
	case *group == "":
		*group = r
	case r != *group:
		c.bad(fmt.Sprintf("lines[%d].vat_rate", i), "mixed_rates", "group tax mode takes one VAT rate for the whole document")
	}
}

// line checks a line and computes its amount after its own discount (or
// takes the figures it carries).
func (c *totalsCheck) line(p string, l TotalsLine) LineTotals {
	lr := LineTotals{VATRate: c.rate(p+"vat_rate", l.VATRate)}
	if l.Quantity.IsNegative() || l.Quantity.GreaterThan(maxQuantity) {
		c.bad(p+"quantity", "out_of_range", "must be 0 to "+thousands(MaxQuantity))
	}
	switch {
	case l.Price.IsNegative():
		c.bad(p+"price", "out_of_range", "must not be negative")
	case l.Price.GreaterThan(maxPrice):
		c.bad(p+"price", "out_of_range", "must be at most "+FormatLimit(MaxPrice))
	}
	if k := l.Carried; k != nil {
		lr.Amount, lr.LineDiscount, lr.Share, lr.VAT = round(k.Amount), round(k.LineDiscount), round(k.Share), round(k.VAT)
		lr.Final = lr.After().Sub(lr.Share)
		if lr.Amount.IsNegative() || lr.LineDiscount.IsNegative() || lr.Final.IsNegative() || lr.VAT.IsNegative() ||
			lr.Amount.GreaterThan(maxAmount) || lr.Final.GreaterThan(maxAmount) {
			c.bad(p+"net_amount", "inconsistent", "the billed line's amounts do not add up")
		}
		return lr
	}
	lr.Amount = round(l.Quantity.Mul(l.Price))
	if lr.Amount.GreaterThan(maxAmount) {
		c.bad(p+"amount", "out_of_range", fmt.Sprintf("quantity × price is %s: a line's amount must be at most %s",
			lr.Amount.StringFixed(2), FormatLimit(MaxAmount)))
	}
	disc, _ := discount(l.Discount, lr.Amount, p, c.bad)
	lr.LineDiscount = disc
	return lr
}

// totals refuses a document whose figures pass MaxTotal (a numeric(17, 2)
// column holds them all then, with room for what its payments leave).
func (c *totalsCheck) totals(res Totals) {
	for _, f := range []struct {
		field, name string
		v           decimal.Decimal
	}{{"subtotal", "subtotal", res.Subtotal}, {"net_total", "net total", res.NetTotal}, {"vat_total", "VAT", res.VATTotal},
		{"grand_total", "grand total", res.GrandTotal}} {
		if f.v.Abs().GreaterThan(maxTotal) {
			c.bad(f.field, "out_of_range", fmt.Sprintf("the document's %s would be %s: at most %s", f.name, f.v.StringFixed(2),
				FormatLimit(MaxTotal)))
		}
	}
}

// checkAdjustment allows an adjustment only where it has a tax basis: in
// a VAT-inclusive document, or one whose lines are all без НДС.
func (c *totalsCheck) checkAdjustment(d TotalsDoc, lines []LineTotals) {
	if d.TaxMode == TaxInclusive {
		return
	}
	exempt := len(lines) > 0
	for _, l := range lines {
		exempt = exempt && l.VATRate == VATNone
	}
	if !exempt {
		c.bad("adjustment", "no_tax_basis", "an adjustment has no tax basis in a document with VAT on top "+
			"(a счёт-фактура cannot carry it): give a discount_amount or discount_percent instead")
	}
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
	// Adjustment is signed: −0.45 lowers the payable by 0.45. It is
	// spread over the lines like a discount of the opposite sign.
	Adjustment decimal.Decimal
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
		return round(base.Mul(*d.Percent).Shift(-2)), true
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
