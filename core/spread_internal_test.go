package core

import (
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// TestKopecksSumsLikeDecimals: the int64 accumulator gives the decimal sum
// for any amounts, falling back for ones it cannot hold.
func TestKopecksSumsLikeDecimals(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		var k kopecks
		want := decimal.Zero
		for range rapid.IntRange(0, 50).Draw(t, "n") {
			exp := int32(rapid.IntRange(-4, 2).Draw(t, "exp"))
			d := decimal.New(rapid.Int64().Draw(t, "v")/int64(rapid.IntRange(1, 1000).Draw(t, "div")), exp)
			if rapid.Bool().Draw(t, "huge") {
				d = d.Mul(decimal.New(1, 12))
			}
			k.add(d)
			want = want.Add(d)
		}
		if !k.sum().Equal(want) {
			t.Fatalf("sum %s, want %s", k.sum(), want)
		}
	})
}
