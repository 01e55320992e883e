package core

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Money is an amount of money in a currency with kopecks: a decimal (never
// a float) rendered in JSON as a string with exactly two fraction digits,
// "1500000.50".
type Money struct{ decimal.Decimal }

// NewMoney returns d as Money.
func NewMoney(d decimal.Decimal) Money { return Money{d} }

// MarshalJSON renders the amount as a quoted decimal with two digits.
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(`"` + m.StringFixed(2) + `"`), nil
}

// Money limits, in whole units (roubles, or the document's currency).
// Every amount is stored as numeric(17, 2), 15 integer digits; the limits
// keep every input, and every figure computed from valid inputs, inside
// that (and inside what NumberInWords spells): a line's amount, quantity
// × price, is refused above MaxAmount, and a document's figures, which sum
// its lines with their VAT, above MaxTotal. Beyond a limit the write is
// an EINVALID naming the field and the limit.
const (
	// MaxQuantity is the largest quantity (of a line, a stock, a part
	// billed), with at most 3 fraction digits.
	MaxQuantity int64 = 1_000_000_000
	// MaxPrice is the largest unit price: a product's or a service's, a
	// price book's, a document line's.
	MaxPrice int64 = 1_000_000_000_000
	// MaxAmount is the largest single amount of a document: a line's
	// amount (quantity × price), its discount, shipping and handling, an
	// adjustment (either way).
	MaxAmount int64 = 1_000_000_000_000
	// MaxTotal is the largest figure of a document (subtotal, net, VAT,
	// grand total, the overall discount), a payment, and what a document's
	// payments add up to.
	MaxTotal int64 = 100_000_000_000_000
)

// FormatLimit writes a money limit as messages name it: "1,000,000,000,000.00".
func FormatLimit(units int64) string { return thousands(units) + ".00" }

// thousands writes a whole number with commas between thousands.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// AmountUpTo sets an optional non-negative amount with at most 2 fraction
// digits and at most max (whole units); null clears it.
func AmountUpTo[T any](max int64, field func(*T) **Money) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = nil
			return nil
		}
		d, errs := amountOf(raw, path)
		if errs == nil && d.GreaterThan(decimal.NewFromInt(max)) {
			errs = fail(path, "out_of_range", "must be at most "+FormatLimit(max))
		}
		if errs != nil {
			return errs
		}
		*field(rec) = &Money{d}
		return nil
	}
}

// amountOf reads a non-negative amount with at most 2 fraction digits.
func amountOf(raw json.RawMessage, path string) (decimal.Decimal, []FieldError) {
	s, ok := decodeString(raw)
	if !ok {
		return decimal.Zero, fail(path, "invalid_type", "must be a decimal string such as \"1234.50\"")
	}
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	switch {
	case err != nil:
		return decimal.Zero, fail(path, "invalid_decimal", "must be a decimal string such as \"1234.50\"")
	case d.IsNegative():
		return decimal.Zero, fail(path, "invalid_decimal", "must not be negative")
	case !d.Equal(d.Round(2)):
		return decimal.Zero, fail(path, "invalid_decimal", "must have at most 2 fraction digits (kopecks)")
	}
	return d.Round(2), nil
}

// PaidBalance is what a document's executed payments add up to (paid)
// against its total, and its balance, total − paid (negative when
// overpaid). Errors: EINVALID (field amount) when the payments would add
// up to more than MaxTotal.
func PaidBalance(total, paid decimal.Decimal) (Money, Money, error) {
	if paid.GreaterThan(decimal.NewFromInt(MaxTotal)) {
		return Money{}, Money{}, Invalid([]FieldError{{Field: "amount", Code: "out_of_range",
			Message: "the document's payments would add up to more than " + FormatLimit(MaxTotal)}})
	}
	return Money{paid}, Money{total.Sub(paid)}, nil
}
