package core_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/crmhub/crmhub/core"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }
func pd(s string) *decimal.Decimal {
	v := d(s)
	return &v
}

var (
	in2025 = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	in2026 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
)

func eq(t *testing.T, want string, got decimal.Decimal, what string) {
	t.Helper()
	require.True(t, d(want).Equal(got), "%s: want %s, got %s", what, want, got.StringFixed(2))
}

// TestSpreadRules: the overall discount spread in proportion to the line
// amounts, the remainder on the largest line, VAT per line — worked
// examples and the cases that replaced vtiger's arithmetic, computed by
// hand.
func TestSpreadRules(t *testing.T) {
	t.Parallel()
	two := []core.TotalsLine{line("1", "1000.00", "22"), line("1", "500.00", "22")}
	cases := []struct {
		name string
		doc  core.TotalsDoc
		// per line: share, net, VAT, total; then subtotal, discount total,
		// net total, VAT total, grand total
		lines                      [][4]string
		sub, disc, net, vat, grand string
	}{
		{"10% on top: VAT on the discounted amount (198.00, not 220.00)", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Discount: core.Discount{Percent: pd("10")}, Lines: []core.TotalsLine{line("1", "1000.00", "22")}},
			[][4]string{{"100.00", "900.00", "198.00", "1098.00"}}, "1000.00", "100.00", "900.00", "198.00", "1098.00"},
		{"10% included: 162.30 in 900.00 (not 180.33)", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026,
			Discount: core.Discount{Percent: pd("10")}, Lines: []core.TotalsLine{line("1", "1000.00", "22")}},
			[][4]string{{"100.00", "737.70", "162.30", "900.00"}}, "1000.00", "100.00", "737.70", "162.30", "900.00"},
		{"spread worked example on top", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Discount: core.Discount{Percent: pd("10")}, Lines: two},
			[][4]string{{"100.00", "900.00", "198.00", "1098.00"}, {"50.00", "450.00", "99.00", "549.00"}},
			"1500.00", "150.00", "1350.00", "297.00", "1647.00"},
		{"spread worked example included", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Discount: core.Discount{Percent: pd("10")}, Lines: two},
			[][4]string{{"100.00", "737.70", "162.30", "900.00"}, {"50.00", "368.85", "81.15", "450.00"}},
			"1500.00", "150.00", "1106.55", "243.45", "1350.00"},
		{"group mode: VAT per line like individual", core.TotalsDoc{TaxMode: core.TaxGroup, Date: in2026, Discount: core.Discount{Percent: pd("10")}, Lines: two},
			[][4]string{{"100.00", "900.00", "198.00", "1098.00"}, {"50.00", "450.00", "99.00", "549.00"}},
			"1500.00", "150.00", "1350.00", "297.00", "1647.00"},
		{"spread remainder: 100.00 over three equal lines → 33.34 / 33.33 / 33.33", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Discount: core.Discount{Amount: pd("100")}, Lines: []core.TotalsLine{line("1", "100", "none"), line("1", "100", "none"), line("1", "100", "none")}},
			[][4]string{{"33.34", "66.66", "0", "66.66"}, {"33.33", "66.67", "0", "66.67"}, {"33.33", "66.67", "0", "66.67"}},
			"300.00", "100.00", "200.00", "0", "200.00"},
		{"proportional shares, VAT on each", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Discount: core.Discount{Amount: pd("0.10")}, Lines: []core.TotalsLine{line("1", "1.00", "22"), line("1", "2.00", "22"), line("1", "0.50", "22")}},
			// 0.10 × 1/3.5 = 0.0286 → 0.03; × 2/3.5 = 0.0571 → 0.06; × 0.5/3.5 = 0.0143 → 0.01: 0.10, nothing left
			[][4]string{{"0.03", "0.97", "0.21", "1.18"}, {"0.06", "1.94", "0.43", "2.37"}, {"0.01", "0.49", "0.11", "0.60"}},
			"3.50", "0.10", "3.40", "0.75", "4.15"},
		{"the remainder goes to the largest line, not the first", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Discount: core.Discount{Amount: pd("0.02")}, Lines: []core.TotalsLine{line("1", "1.00", "none"), line("1", "2.00", "none"), line("1", "1.00", "none")}},
			// 0.005 → 0.01, 0.01, 0.005 → 0.01: 0.03, so the largest gives back 0.01
			[][4]string{{"0.01", "0.99", "0", "0.99"}, {"0.00", "2.00", "0", "2.00"}, {"0.01", "0.99", "0", "0.99"}},
			"4.00", "0.02", "3.98", "0", "3.98"},
		{"shipping is not discounted and has its own VAT", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Discount: core.Discount{Percent: pd("10")}, Shipping: d("300"), ShippingRate: "22", Lines: []core.TotalsLine{line("1", "1000.00", "22")}},
			[][4]string{{"100.00", "900.00", "198.00", "1098.00"}}, "1000.00", "100.00", "1200.00", "264.00", "1464.00"},
		{"inclusive adjustment −0.45 lowers the payable by exactly 0.45", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026,
			Adjustment: d("-0.45"), Lines: []core.TotalsLine{line("1", "100.00", "22"), line("1", "50.00", "10")}},
			// 0.45 × 100/150 = 0.30, × 50/150 = 0.15
			[][4]string{{"0.30", "81.72", "17.98", "99.70"}, {"0.15", "45.32", "4.53", "49.85"}}, "150.00", "0.45", "127.04", "22.51", "149.55"},
		{"inclusive adjustment +1.00 raises it by 1.00", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026,
			Adjustment: d("1"), Lines: []core.TotalsLine{line("1", "121.00", "22")}},
			[][4]string{{"-1.00", "100.00", "22.00", "122.00"}}, "121.00", "-1.00", "100.00", "22.00", "122.00"},
		{"adjustment in a document без НДС on top", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Adjustment: d("-0.50"),
			Lines: []core.TotalsLine{line("1", "100", "none")}},
			[][4]string{{"0.50", "99.50", "0", "99.50"}}, "100.00", "0.50", "99.50", "0", "99.50"},
		{"line discount then the overall one", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Discount: core.Discount{Percent: pd("5")},
			Lines: []core.TotalsLine{{Quantity: d("3"), Price: d("1000.00"), Discount: core.Discount{Percent: pd("10")}, VATRate: "22"},
				{Quantity: d("2"), Price: d("500.00"), Discount: core.Discount{Amount: pd("50.00")}, VATRate: "10"}}},
			// after 2700.00 and 950.00; 5% of 3650.00 = 182.50: 135.00 and 47.50
			[][4]string{{"135.00", "2565.00", "564.30", "3129.30"}, {"47.50", "902.50", "90.25", "992.75"}},
			"3650.00", "182.50", "3467.50", "654.55", "4122.05"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := core.ComputeTotals(tc.doc)
			require.NoError(t, err)
			require.Len(t, r.Lines, len(tc.lines))
			for i, want := range tc.lines {
				eq(t, want[0], r.Lines[i].Share, fmt.Sprintf("line %d share", i))
				eq(t, want[1], r.Lines[i].Net, fmt.Sprintf("line %d net", i))
				eq(t, want[2], r.Lines[i].VAT, fmt.Sprintf("line %d VAT", i))
				eq(t, want[3], r.Lines[i].Total, fmt.Sprintf("line %d total", i))
			}
			eq(t, tc.sub, r.Subtotal, "subtotal")
			eq(t, tc.disc, r.DiscountTotal, "discount total")
			eq(t, tc.net, r.NetTotal, "net total")
			eq(t, tc.vat, r.VATTotal, "VAT total")
			eq(t, tc.grand, r.GrandTotal, "grand total")
		})
	}
}

func line(qty, price, rate string) core.TotalsLine {
	return core.TotalsLine{Quantity: d(qty), Price: d(price), VATRate: core.VATRate(rate)}
}

// TestHandChecked: cases computed by hand, rounding edges (x.xx5) first.
func TestHandChecked(t *testing.T) {
	t.Parallel()
	withPct := func(l core.TotalsLine, p string) core.TotalsLine { l.Discount.Percent = pd(p); return l }
	withAmt := func(l core.TotalsLine, a string) core.TotalsLine { l.Discount.Amount = pd(a); return l }
	cases := []struct {
		name string
		doc  core.TotalsDoc
		// per line: net, VAT, total; then net total, VAT total, grand total
		lines           [][3]string
		net, vat, gross string
	}{
		{"on top 22%", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "1000", "22")}},
			[][3]string{{"1000.00", "220.00", "1220.00"}}, "1000.00", "220.00", "1220.00"},
		{"included 22%: 180.3278 → 180.33", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "1000", "22")}},
			[][3]string{{"819.67", "180.33", "1000.00"}}, "819.67", "180.33", "1000.00"},
		{"per line, not on the total: 2.57 not 2.56", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Lines: []core.TotalsLine{line("1", "10.05", "22"), line("1", "0.35", "22"), line("1", "1.25", "22")}},
			[][3]string{{"10.05", "2.21", "12.26"}, {"0.35", "0.08", "0.43"}, {"1.25", "0.28", "1.53"}}, "11.65", "2.57", "14.22"},
		{"0.275 VAT rounds up", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "1.25", "22")}},
			[][3]string{{"1.25", "0.28", "1.53"}}, "1.25", "0.28", "1.53"},
		{"gross 0.125 → 0.13", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "0.125", "22")}},
			[][3]string{{"0.13", "0.03", "0.16"}}, "0.13", "0.03", "0.16"},
		{"3 × 0.335 = 1.005 → 1.01", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("3", "0.335", "22")}},
			[][3]string{{"1.01", "0.22", "1.23"}}, "1.01", "0.22", "1.23"},
		{"12.5% of 10.10 = 1.2625 → 1.26", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{withPct(line("1", "10.10", "22"), "12.5")}},
			[][3]string{{"8.84", "1.94", "10.78"}}, "8.84", "1.94", "10.78"},
		{"12.5% of 10.00 = 1.25", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{withPct(line("1", "10.00", "10"), "12.5")}},
			[][3]string{{"8.75", "0.88", "9.63"}}, "8.75", "0.88", "9.63"},
		{"10% of 0.05 = 0.005 → 0.01", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "0.05", "10")}},
			[][3]string{{"0.05", "0.01", "0.06"}}, "0.05", "0.01", "0.06"},
		{"22% of 2.25 = 0.495 → 0.50", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "2.25", "22")}},
			[][3]string{{"2.25", "0.50", "2.75"}}, "2.25", "0.50", "2.75"},
		{"1.5 × 333.33 = 499.995 → 500.00", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1.5", "333.33", "22")}},
			[][3]string{{"500.00", "110.00", "610.00"}}, "500.00", "110.00", "610.00"},
		{"0.001 × 1.00 → 0.00", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("0.001", "1", "22")}},
			[][3]string{{"0.00", "0.00", "0.00"}}, "0.00", "0.00", "0.00"},
		{"included 10% of 1.10", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "1.10", "10")}},
			[][3]string{{"1.00", "0.10", "1.10"}}, "1.00", "0.10", "1.10"},
		{"included 22% of 0.61", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "0.61", "22")}},
			[][3]string{{"0.50", "0.11", "0.61"}}, "0.50", "0.11", "0.61"},
		{"included 7% of 10.70", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "10.70", "7")}},
			[][3]string{{"10.00", "0.70", "10.70"}}, "10.00", "0.70", "10.70"},
		{"included 5% of 21.00", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "21.00", "5")}},
			[][3]string{{"20.00", "1.00", "21.00"}}, "20.00", "1.00", "21.00"},
		{"included 22% of 100.00 = 18.0328 → 18.03", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "100", "22")}},
			[][3]string{{"81.97", "18.03", "100.00"}}, "81.97", "18.03", "100.00"},
		{"mixed rates on top", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Lines: []core.TotalsLine{line("1", "100", "22"), line("1", "100", "10"), line("1", "100", "none"), line("1", "100", "0")}},
			[][3]string{{"100.00", "22.00", "122.00"}, {"100.00", "10.00", "110.00"}, {"100.00", "0", "100.00"}, {"100.00", "0", "100.00"}},
			"400.00", "32.00", "432.00"},
		{"mixed rates included", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026,
			Lines: []core.TotalsLine{line("1", "122", "22"), line("1", "110", "10"), line("1", "105", "5")}},
			[][3]string{{"100.00", "22.00", "122.00"}, {"100.00", "10.00", "110.00"}, {"100.00", "5.00", "105.00"}},
			"300.00", "37.00", "337.00"},
		{"100% line discount", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{withPct(line("2", "50", "22"), "100")}},
			[][3]string{{"0.00", "0.00", "0.00"}}, "0.00", "0.00", "0.00"},
		{"discount amount = the whole line", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{withAmt(line("2", "50", "22"), "100")}},
			[][3]string{{"0.00", "0.00", "0.00"}}, "0.00", "0.00", "0.00"},
		{"zero-price line", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("5", "0", "22"), line("1", "10", "22")}},
			[][3]string{{"0.00", "0.00", "0.00"}, {"10.00", "2.20", "12.20"}}, "10.00", "2.20", "12.20"},
		{"overall amount discount lowers the line's VAT (individual)", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Discount: core.Discount{Amount: pd("22")}, Lines: []core.TotalsLine{line("1", "100", "22")}},
			[][3]string{{"78.00", "17.16", "95.16"}}, "78.00", "17.16", "95.16"},
		{"group: amount discount before the tax, VAT per line", core.TotalsDoc{TaxMode: core.TaxGroup, Date: in2026,
			Discount: core.Discount{Amount: pd("30")}, Lines: []core.TotalsLine{line("1", "100", "22"), line("1", "50", "22")}},
			[][3]string{{"80.00", "17.60", "97.60"}, {"40.00", "8.80", "48.80"}}, "120.00", "26.40", "146.40"},
		{"default rate 2026 is 22", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "100", "")}},
			[][3]string{{"100.00", "22.00", "122.00"}}, "100.00", "22.00", "122.00"},
		{"default rate 2025 is 20", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2025, Lines: []core.TotalsLine{line("1", "100", "")}},
			[][3]string{{"100.00", "20.00", "120.00"}}, "100.00", "20.00", "120.00"},
		{"shipping без НДС", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Shipping: d("300"), ShippingRate: "none",
			Lines: []core.TotalsLine{line("1", "100", "22")}},
			[][3]string{{"100.00", "22.00", "122.00"}}, "400.00", "22.00", "422.00"},
		{"shipping at 22% included", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Shipping: d("122"),
			Lines: []core.TotalsLine{line("1", "100", "none")}},
			[][3]string{{"100.00", "0", "100.00"}}, "200.00", "22.00", "222.00"},
		{"no lines: shipping alone", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Shipping: d("100")},
			nil, "100.00", "22.00", "122.00"},
		{"overall 5% of 99.99 = 4.9995 → 5.00", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Discount: core.Discount{Percent: pd("5")},
			Lines: []core.TotalsLine{line("1", "99.99", "none")}},
			[][3]string{{"94.99", "0", "94.99"}}, "94.99", "0", "94.99"},
	}
	require.GreaterOrEqual(t, len(cases), 30)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := core.ComputeTotals(tc.doc)
			require.NoError(t, err)
			require.Len(t, r.Lines, len(tc.lines))
			for i, want := range tc.lines {
				eq(t, want[0], r.Lines[i].Net, fmt.Sprintf("line %d net", i))
				eq(t, want[1], r.Lines[i].VAT, fmt.Sprintf("line %d VAT", i))
				eq(t, want[2], r.Lines[i].Total, fmt.Sprintf("line %d total", i))
			}
			eq(t, tc.net, r.NetTotal, "net total")
			eq(t, tc.vat, r.VATTotal, "VAT total")
			eq(t, tc.gross, r.GrandTotal, "grand total")
		})
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc   core.TotalsDoc
		field string
	}{
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Discount: core.Discount{Amount: pd("10.01")},
			Lines: []core.TotalsLine{line("1", "10", "22")}}, "discount_amount"},
		{core.TotalsDoc{TaxMode: "vtiger", Date: in2026}, "tax_mode"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("-1", "10", "22")}}, "lines[0].quantity"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "-10", "22")}}, "lines[0].price"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "10", "18")}}, "lines[0].vat_rate"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2025, Lines: []core.TotalsLine{line("1", "10", "22")}}, "lines[0].vat_rate"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "10", "20")}}, "lines[0].vat_rate"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{{Quantity: d("1"), Price: d("10"),
			Discount: core.Discount{Percent: pd("101")}}}}, "lines[0].discount_percent"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{{Quantity: d("1"), Price: d("10"),
			Discount: core.Discount{Amount: pd("10.01")}}}}, "lines[0].discount_amount"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{{Quantity: d("1"), Price: d("10"),
			Discount: core.Discount{Amount: pd("1"), Percent: pd("1")}}}}, "lines[0].discount_amount"},
		{core.TotalsDoc{TaxMode: core.TaxGroup, Date: in2026, Lines: []core.TotalsLine{line("1", "10", "22"), line("1", "10", "10")}}, "lines[1].vat_rate"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Discount: core.Discount{Amount: pd("13")},
			Lines: []core.TotalsLine{line("1", "10", "22")}}, "discount_amount"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Shipping: d("-1")}, "shipping_amount"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, ShippingRate: "12"}, "shipping_vat_rate"},
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Adjustment: d("-20"), Lines: []core.TotalsLine{line("1", "10", "none")}}, "adjustment"},
		// An adjustment has no tax basis with VAT on top: a discount it is.
		{core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Adjustment: d("-0.45"), Lines: []core.TotalsLine{line("1", "10", "22")}}, "adjustment"},
		{core.TotalsDoc{TaxMode: core.TaxGroup, Date: in2026, Adjustment: d("1"), Lines: []core.TotalsLine{line("1", "10", "22")}}, "adjustment"},
		{core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Adjustment: d("1")}, "adjustment"},
	} {
		_, err := core.ComputeTotals(tc.doc)
		var ce *core.Error
		require.True(t, errors.As(err, &ce), "%s: %v", tc.field, err)
		require.Equal(t, core.EINVALID, ce.Code)
		require.Equal(t, tc.field, ce.Fields[0].Field)
	}
}

// genDoc draws a valid document: kopeck prices, quantities with up to 3
// decimals, discounts within bounds, one rate in group mode, an
// adjustment where the rules allow one.
func genDoc(t *rapid.T) core.TotalsDoc {
	mode := rapid.SampledFrom([]core.TaxMode{core.TaxIndividual, core.TaxGroup, core.TaxInclusive}).Draw(t, "mode")
	rates2026 := []core.VATRate{"22", "10", "0", "5", "7", "none"}
	groupRate := rapid.SampledFrom(rates2026).Draw(t, "groupRate")
	n := rapid.IntRange(0, 12).Draw(t, "lines")
	doc := core.TotalsDoc{TaxMode: mode, Date: in2026, Shipping: decimal.New(rapid.Int64Range(0, 100_000).Draw(t, "ship"), -2),
		ShippingRate: rapid.SampledFrom(rates2026).Draw(t, "shipRate")}
	for i := range n {
		l := core.TotalsLine{Quantity: decimal.New(rapid.Int64Range(0, 100_000).Draw(t, fmt.Sprint("q", i)), -3),
			Price:   decimal.New(rapid.Int64Range(0, 10_000_000).Draw(t, fmt.Sprint("p", i)), -2),
			VATRate: rapid.SampledFrom(rates2026).Draw(t, fmt.Sprint("r", i))}
		if mode == core.TaxGroup {
			l.VATRate = groupRate
		}
		if rapid.Bool().Draw(t, fmt.Sprint("pct", i)) {
			p := decimal.New(rapid.Int64Range(0, 100_000).Draw(t, fmt.Sprint("dp", i)), -3)
			l.Discount.Percent = &p
		}
		doc.Lines = append(doc.Lines, l)
	}
	switch rapid.IntRange(0, 2).Draw(t, "overall") {
	case 1:
		p := decimal.New(rapid.Int64Range(0, 100_000).Draw(t, "op"), -3)
		doc.Discount.Percent = &p
	case 2: // an amount up to the lines' sum
		r, _ := core.ComputeTotals(doc)
		a := r.Subtotal.Mul(decimal.New(rapid.Int64Range(0, 1000).Draw(t, "oa"), -3)).Round(2)
		doc.Discount.Amount = &a
	}
	if mode == core.TaxInclusive && n > 0 && rapid.Bool().Draw(t, "adjust") {
		doc.Adjustment = decimal.New(rapid.Int64Range(-100, 10_000).Draw(t, "adj"), -2)
		if r, err := core.ComputeTotals(doc); err != nil || r.Subtotal.IsZero() {
			doc.Adjustment = decimal.Zero // nothing to spread it over
		}
	}
	return doc
}

func TestProperties(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		doc := genDoc(t)
		r, err := core.ComputeTotals(doc)
		if err != nil {
			t.Fatalf("valid input refused: %v", err)
		}
		net, vat, gross, shares := r.Shipping.Net, r.Shipping.VAT, r.Shipping.Total, decimal.Zero
		for i, l := range r.Lines {
			net, vat, gross, shares = net.Add(l.Net), vat.Add(l.VAT), gross.Add(l.Total), shares.Add(l.Share)
			if l.Net.IsNegative() || l.VAT.IsNegative() || l.Final.IsNegative() {
				t.Fatalf("line %d: negative amounts %+v", i, l)
			}
			if !l.Net.Add(l.VAT).Equal(l.Total) || !l.After().Sub(l.Share).Equal(l.Final) {
				t.Fatalf("line %d: net + VAT != total or after − share != final: %+v", i, l)
			}
			if !l.VAT.Equal(core.VATOn(l.Final, l.VATRate, doc.TaxMode)) {
				t.Fatalf("line %d: VAT %s is not the rate's on the final amount %s", i, l.VAT, l.Final)
			}
			if l.Total.Exponent() < -2 || l.VAT.Exponent() < -2 || l.Share.Exponent() < -2 {
				t.Fatalf("line %d: not rounded to kopecks", i)
			}
		}
		if !shares.Equal(r.DiscountTotal) || !r.DiscountTotal.Equal(r.Discount.Sub(doc.Adjustment)) {
			t.Fatalf("shares sum to %s; discount total %s; discount %s less adjustment %s", shares, r.DiscountTotal, r.Discount, doc.Adjustment)
		}
		if !net.Equal(r.NetTotal) || !vat.Equal(r.VATTotal) || !gross.Equal(r.GrandTotal) || !r.NetTotal.Add(r.VATTotal).Equal(r.GrandTotal) {
			t.Fatalf("lines and shipping sum to %s + %s = %s; totals %s + %s = %s", net, vat, gross, r.NetTotal, r.VATTotal, r.GrandTotal)
		}
		byRate, base := decimal.Zero, decimal.Zero
		for _, rt := range r.ByRate {
			byRate, base = byRate.Add(rt.VAT), base.Add(rt.Base)
		}
		if !byRate.Equal(r.VATTotal) || !base.Equal(r.NetTotal) {
			t.Fatalf("VAT by rate sums to %s on %s, totals %s on %s", byRate, base, r.VATTotal, r.NetTotal)
		}
	})
}

// TestSpreadProperties: shares sum exactly to what is spread and no line
// goes below zero, whatever the amounts.
func TestSpreadProperties(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 40).Draw(t, "n")
		amounts := make([]decimal.Decimal, n)
		sum := decimal.Zero
		for i := range amounts {
			amounts[i] = decimal.New(rapid.Int64Range(0, 1_000_000).Draw(t, fmt.Sprint("a", i)), -2)
			sum = sum.Add(amounts[i])
		}
		total := decimal.New(rapid.Int64Range(0, sum.Shift(2).IntPart()).Draw(t, "total"), -2)
		shares := core.Spread(total, amounts)
		got := decimal.Zero
		for i, s := range shares {
			got = got.Add(s)
			if s.IsNegative() || s.GreaterThan(amounts[i]) {
				t.Fatalf("share %d: %s of %s", i, s, amounts[i])
			}
		}
		if sum.IsPositive() && !got.Equal(total) {
			t.Fatalf("shares sum to %s, want %s", got, total)
		}
	})
}

// TestBillPartProperties: a line billed in parts of any sizes, in any
// order, adds up to the line in every figure, each part non-negative.
func TestBillPartProperties(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		doc := genDoc(t)
		if len(doc.Lines) == 0 {
			return
		}
		r, err := core.ComputeTotals(doc)
		if err != nil {
			t.Fatalf("valid input refused: %v", err)
		}
		l := r.Lines[0]
		q := doc.Lines[0].Quantity
		if !q.IsPositive() {
			return
		}
		var before core.Billed
		for k := 0; before.Quantity.LessThan(q); k++ {
			qty := decimal.New(rapid.Int64Range(1, q.Shift(3).IntPart()).Draw(t, fmt.Sprint("part", k)), -3)
			qty = decimal.Min(qty, q.Sub(before.Quantity))
			p := core.BillPart(l, q, before, qty)
			final := p.Amount.Sub(p.LineDiscount).Sub(p.Share)
			if p.Amount.IsNegative() || p.LineDiscount.IsNegative() || final.IsNegative() || p.VAT.IsNegative() {
				t.Fatalf("part %d of %s: negative figures %+v", k, qty, p)
			}
			before.Quantity = before.Quantity.Add(qty)
			before.Amount = before.Amount.Add(p.Amount)
			before.LineDiscount = before.LineDiscount.Add(p.LineDiscount)
			before.Share = before.Share.Add(p.Share)
			before.VAT = before.VAT.Add(p.VAT)
		}
		if !before.Amount.Equal(l.Amount) || !before.LineDiscount.Equal(l.LineDiscount) || !before.Share.Equal(l.Share) || !before.VAT.Equal(l.VAT) {
			t.Fatalf("parts sum to %+v, line %+v", before, l)
		}
	})
}

func BenchmarkCompute100Lines(b *testing.B) {
	doc := core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Discount: core.Discount{Percent: pd("5")}, Shipping: d("300")}
	for i := range 100 {
		l := line(fmt.Sprint(i%7+1), fmt.Sprintf("%d.%02d", 100+i*13, i%100), []string{"22", "10", "none"}[i%3])
		if i%4 == 0 {
			l.Discount.Percent = pd("12.5")
		}
		doc.Lines = append(doc.Lines, l)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := core.ComputeTotals(doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/line")
}
