package core

import "github.com/shopspring/decimal"

// Spread divides total over lines in proportion to their amounts, each
// share rounded to kopecks, the rounding remainder added to the line with
// the largest amount (the first on ties), the way 1C distributes a
// document discount: the shares sum exactly to total. A positive total
// never takes more from a line than the line has (what rounding would push
// past it moves on to the next largest line), so a discount no larger than
// the lines leaves no line negative. Lines of amount zero get nothing; with
// no amount at all every share is zero.
func Spread(total decimal.Decimal, amounts []decimal.Decimal) []decimal.Decimal {
	shares := make([]decimal.Decimal, len(amounts))
	sum := decimal.Zero
	for _, a := range amounts {
		sum = sum.Add(a)
	}
	if total.IsZero() || !sum.IsPositive() {
		return shares
	}
	given := decimal.Zero
	largest := 0
	for i, a := range amounts {
		if !a.IsZero() {
			shares[i] = total.Mul(a).DivRound(sum, 2) // exact, half away from zero like Round
			given = given.Add(shares[i])
		}
		if a.GreaterThan(amounts[largest]) {
			largest = i
		}
	}
	rest := total.Sub(given)
	if rest.IsZero() {
		return shares
	}
	// Almost always the largest line takes the remainder whole; only when
	// it cannot (a discount near the lines' sum) do the next ones share it.
	if s := shares[largest].Add(rest); !total.IsPositive() || !s.GreaterThan(amounts[largest]) && !s.IsNegative() {
		shares[largest] = s
		return shares
	}
	for _, i := range bySize(amounts) {
		if rest.IsZero() {
			break
		}
		s := shares[i].Add(rest)
		if total.IsPositive() && s.GreaterThan(amounts[i]) {
			s = amounts[i]
		}
		if total.IsPositive() && s.IsNegative() {
			s = decimal.Zero
		}
		rest = rest.Sub(s.Sub(shares[i]))
		shares[i] = s
	}
	return shares
}

// bySize orders line indices by amount, largest first, the first line
// first among equals.
func bySize(amounts []decimal.Decimal) []int {
	idx := make([]int, len(amounts))
	for i := range idx {
		idx[i] = i
	}
	// Insertion sort is stable; documents have at most MaxLines lines and
	// the remainder almost always stops at the first.
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && amounts[idx[j]].GreaterThan(amounts[idx[j-1]]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}

// Billed is what closing documents already took of a line: the quantity
// and the figures of their parts.
type Billed struct {
	Quantity decimal.Decimal
	Carried
}

// BillPart is the part of a line (its figures as computed) that a closing
// document bills for quantity qty of the line's quantity, given what
// earlier parts took: each figure in proportion to the quantity, rounded
// to kopecks, and the part that completes the line takes what is left, so
// the parts always add up to the line.
func BillPart(line LineTotals, quantity decimal.Decimal, before Billed, qty decimal.Decimal) Carried {
	done := before.Quantity.Add(qty)
	if !quantity.IsPositive() || done.GreaterThanOrEqual(quantity) {
		return Carried{Amount: line.Amount.Sub(before.Amount), LineDiscount: line.LineDiscount.Sub(before.LineDiscount),
			Share: line.Share.Sub(before.Share), VAT: line.VAT.Sub(before.VAT)}
	}
	part := func(whole, taken decimal.Decimal) decimal.Decimal {
		// Cumulative rounding: the parts so far come to round(whole ×
		// done/quantity), within what is left of the figure.
		p := round(whole.Mul(done).Div(quantity)).Sub(taken)
		left := whole.Sub(taken)
		if whole.IsNegative() {
			return decimal.Min(decimal.Max(p, left), decimal.Zero)
		}
		return decimal.Max(decimal.Min(p, left), decimal.Zero)
	}
	// The final amount is prorated itself (not derived from prorated
	// parts, whose roundings could take a fully discounted line below
	// zero); the share is what reconciles it with the amount.
	amount, disc := part(line.Amount, before.Amount), part(line.LineDiscount, before.LineDiscount)
	final := part(line.Final, before.Amount.Sub(before.LineDiscount).Sub(before.Share))
	return Carried{Amount: amount, LineDiscount: disc, Share: amount.Sub(disc).Sub(final), VAT: part(line.VAT, before.VAT)}
}

// kopecks sums amounts of at most two fraction digits in int64 kopecks,
// without the allocations of decimal additions (a document's totals add
// up nine figures a line). An amount it cannot hold exactly (more
// digits, or beyond int64) falls back to decimal arithmetic.
type kopecks struct {
	n    int64
	big  decimal.Decimal
	used bool // big holds the sum
}

var pow10 = [...]int64{1, 10, 100}

func (k *kopecks) add(d decimal.Decimal) {
	if !k.used {
		if e := d.Exponent(); e >= -2 && e <= 0 && d.NumDigits() <= 15 {
			if c := d.CoefficientInt64(); true {
				k.n += c * pow10[e+2]
				if k.n < 1e17 && k.n > -1e17 {
					return
				}
				k.n -= c * pow10[e+2]
			}
		}
		k.big, k.used = decimal.New(k.n, -2), true
	}
	k.big = k.big.Add(d)
}

func (k *kopecks) sum() decimal.Decimal {
	if k.used {
		return k.big
	}
	return decimal.New(k.n, -2)
}
