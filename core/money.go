package core

import (
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
