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

// workedExample is crm-model.md §3.5: VAT 20% (a 2025 document), S&H
// 200.00 at 20%, overall discount 5%, adjustment +10.00.
func workedExample(mode core.TaxMode) core.TotalsDoc {
	return core.TotalsDoc{TaxMode: mode, Date: in2025, Discount: core.Discount{Percent: pd("5")},
		Shipping: d("200"), ShippingRate: "20", Adjustment: d("10"),
		Lines: []core.TotalsLine{
			{Quantity: d("3"), Price: d("1000.00"), Discount: core.Discount{Percent: pd("10")}, VATRate: "20"},
			{Quantity: d("2"), Price: d("500.00"), Discount: core.Discount{Amount: pd("50.00")}, VATRate: "20"},
		}}
}

func eq(t *testing.T, want string, got decimal.Decimal, what string) {
	t.Helper()
	require.True(t, d(want).Equal(got), "%s: want %s, got %s", what, want, got.StringFixed(2))
}

func TestWorkedExample(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode                                              core.TaxMode
		lineVAT, lineTotal                                [2]string
		subtotal, overall, groupVAT, shipVAT, vat, pretax string
		grand                                             string
	}{
		{core.TaxIndividual, [2]string{"540.00", "190.00"}, [2]string{"3240.00", "1140.00"}, "4380.00", "219.00", "0", "40.00", "770.00", "3631.00", "4411.00"},
		{core.TaxGroup, [2]string{"0", "0"}, [2]string{"2700.00", "950.00"}, "3650.00", "182.50", "693.50", "40.00", "733.50", "3667.50", "4411.00"},
		{core.TaxInclusive, [2]string{"450.00", "158.33"}, [2]string{"2700.00", "950.00"}, "3650.00", "182.50", "0", "33.33", "641.66", "3667.50", "3677.50"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			r, err := core.ComputeTotals(workedExample(tc.mode))
			require.NoError(t, err)
			for i, want := range [][3]string{{"3000.00", "300.00", "2700.00"}, {"1000.00", "50.00", "950.00"}} {
				eq(t, want[0], r.Lines[i].Gross, "gross")
				eq(t, want[1], r.Lines[i].Discount, "line discount")
				eq(t, tc.lineVAT[i], r.Lines[i].VAT, "line VAT")
				eq(t, tc.lineTotal[i], r.Lines[i].Total, "line total")
			}
			eq(t, tc.subtotal, r.Subtotal, "subtotal")
			eq(t, tc.overall, r.OverallDisc, "overall discount")
			eq(t, tc.groupVAT, r.GroupVAT, "group VAT")
			eq(t, tc.shipVAT, r.ShippingVAT, "S&H VAT")
			eq(t, tc.vat, r.VATTotal, "VAT total")
			eq(t, tc.pretax, r.PreTaxTotal, "pre-tax total")
			eq(t, tc.grand, r.GrandTotal, "grand total")
		})
	}
	// Tax-inclusive: the lines' extracted VAT is what the seed shows.
	r, _ := core.ComputeTotals(workedExample(core.TaxInclusive))
	eq(t, "608.33", r.VATTotal.Sub(r.ShippingVAT), "lines' VAT shown")
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
		// per line: net, VAT, total; then subtotal, VAT total, grand total
		lines                [][3]string
		subtotal, vat, gross string
	}{
		{"on top 22%", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "1000", "22")}},
			[][3]string{{"1000.00", "220.00", "1220.00"}}, "1220.00", "220.00", "1220.00"},
		{"included 22%: 180.3278 → 180.33", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "1000", "22")}},
			[][3]string{{"819.67", "180.33", "1000.00"}}, "1000.00", "180.33", "1000.00"},
		{"per line, not on the total: 2.57 not 2.56", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Lines: []core.TotalsLine{line("1", "10.05", "22"), line("1", "0.35", "22"), line("1", "1.25", "22")}},
			[][3]string{{"10.05", "2.21", "12.26"}, {"0.35", "0.08", "0.43"}, {"1.25", "0.28", "1.53"}}, "14.22", "2.57", "14.22"},
		{"0.275 VAT rounds up", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "1.25", "22")}},
			[][3]string{{"1.25", "0.28", "1.53"}}, "1.53", "0.28", "1.53"},
		{"gross 0.125 → 0.13", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "0.125", "22")}},
			[][3]string{{"0.13", "0.03", "0.16"}}, "0.16", "0.03", "0.16"},
		{"3 × 0.335 = 1.005 → 1.01", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("3", "0.335", "22")}},
			[][3]string{{"1.01", "0.22", "1.23"}}, "1.23", "0.22", "1.23"},
		{"12.5% of 10.10 = 1.2625 → 1.26", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{withPct(line("1", "10.10", "22"), "12.5")}},
			[][3]string{{"8.84", "1.94", "10.78"}}, "10.78", "1.94", "10.78"},
		{"12.5% of 10.00 = 1.25", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{withPct(line("1", "10.00", "10"), "12.5")}},
			[][3]string{{"8.75", "0.88", "9.63"}}, "9.63", "0.88", "9.63"},
		{"10% of 0.05 = 0.005 → 0.01", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "0.05", "10")}},
			[][3]string{{"0.05", "0.01", "0.06"}}, "0.06", "0.01", "0.06"},
		{"22% of 2.25 = 0.495 → 0.50", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "2.25", "22")}},
			[][3]string{{"2.25", "0.50", "2.75"}}, "2.75", "0.50", "2.75"},
		{"1.5 × 333.33 = 499.995 → 500.00", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1.5", "333.33", "22")}},
			[][3]string{{"500.00", "110.00", "610.00"}}, "610.00", "110.00", "610.00"},
		{"0.001 × 1.00 → 0.00", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("0.001", "1", "22")}},
			[][3]string{{"0.00", "0.00", "0.00"}}, "0.00", "0.00", "0.00"},
		{"included 10% of 1.10", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "1.10", "10")}},
			[][3]string{{"1.00", "0.10", "1.10"}}, "1.10", "0.10", "1.10"},
		{"included 22% of 0.61", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "0.61", "22")}},
			[][3]string{{"0.50", "0.11", "0.61"}}, "0.61", "0.11", "0.61"},
		{"included 7% of 10.70", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "10.70", "7")}},
			[][3]string{{"10.00", "0.70", "10.70"}}, "10.70", "0.70", "10.70"},
		{"included 5% of 21.00", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "21.00", "5")}},
			[][3]string{{"20.00", "1.00", "21.00"}}, "21.00", "1.00", "21.00"},
		{"included 22% of 100.00 = 18.0328 → 18.03", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Lines: []core.TotalsLine{line("1", "100", "22")}},
			[][3]string{{"81.97", "18.03", "100.00"}}, "100.00", "18.03", "100.00"},
		{"mixed rates on top", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Lines: []core.TotalsLine{line("1", "100", "22"), line("1", "100", "10"), line("1", "100", "none"), line("1", "100", "0")}},
			[][3]string{{"100.00", "22.00", "122.00"}, {"100.00", "10.00", "110.00"}, {"100.00", "0", "100.00"}, {"100.00", "0", "100.00"}},
			"432.00", "32.00", "432.00"},
		{"mixed rates included", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026,
			Lines: []core.TotalsLine{line("1", "122", "22"), line("1", "110", "10"), line("1", "105", "5")}},
			[][3]string{{"100.00", "22.00", "122.00"}, {"100.00", "10.00", "110.00"}, {"100.00", "5.00", "105.00"}},
			"337.00", "37.00", "337.00"},
		{"100% line discount", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{withPct(line("2", "50", "22"), "100")}},
			[][3]string{{"0.00", "0.00", "0.00"}}, "0.00", "0.00", "0.00"},
		{"discount amount = the whole line", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{withAmt(line("2", "50", "22"), "100")}},
			[][3]string{{"0.00", "0.00", "0.00"}}, "0.00", "0.00", "0.00"},
		{"zero-price line", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("5", "0", "22"), line("1", "10", "22")}},
			[][3]string{{"0.00", "0.00", "0.00"}, {"10.00", "2.20", "12.20"}}, "12.20", "2.20", "12.20"},
		{"overall amount discount leaves line VAT (individual)", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026,
			Discount: core.Discount{Amount: pd("22")}, Lines: []core.TotalsLine{line("1", "100", "22")}},
			[][3]string{{"100.00", "22.00", "122.00"}}, "122.00", "22.00", "100.00"},
		{"group: amount discount before the tax", core.TotalsDoc{TaxMode: core.TaxGroup, Date: in2026,
			Discount: core.Discount{Amount: pd("30")}, Lines: []core.TotalsLine{line("1", "100", "22"), line("1", "50", "22")}},
			[][3]string{{"100.00", "0", "100.00"}, {"50.00", "0", "50.00"}}, "150.00", "26.40", "146.40"},
		{"default rate 2026 is 22", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: []core.TotalsLine{line("1", "100", "")}},
			[][3]string{{"100.00", "22.00", "122.00"}}, "122.00", "22.00", "122.00"},
		{"default rate 2025 is 20", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2025, Lines: []core.TotalsLine{line("1", "100", "")}},
			[][3]string{{"100.00", "20.00", "120.00"}}, "120.00", "20.00", "120.00"},
		{"shipping без НДС", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Shipping: d("300"), ShippingRate: "none",
			Lines: []core.TotalsLine{line("1", "100", "22")}},
			[][3]string{{"100.00", "22.00", "122.00"}}, "122.00", "22.00", "422.00"},
		{"shipping at 22% included", core.TotalsDoc{TaxMode: core.TaxInclusive, Date: in2026, Shipping: d("122"),
			Lines: []core.TotalsLine{line("1", "100", "none")}},
			[][3]string{{"100.00", "0", "100.00"}}, "100.00", "22.00", "222.00"},
		{"negative adjustment", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Adjustment: d("-0.50"),
			Lines: []core.TotalsLine{line("1", "100", "none")}},
			[][3]string{{"100.00", "0", "100.00"}}, "100.00", "0", "99.50"},
		{"no lines: shipping and adjustment", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Shipping: d("100"), Adjustment: d("1")},
			nil, "0", "22.00", "123.00"},
		{"overall 5% of 99.99 = 4.9995 → 5.00", core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Discount: core.Discount{Percent: pd("5")},
			Lines: []core.TotalsLine{line("1", "99.99", "none")}},
			[][3]string{{"99.99", "0", "99.99"}}, "99.99", "0", "94.99"},
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
			eq(t, tc.subtotal, r.Subtotal, "subtotal")
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
	} {
		_, err := core.ComputeTotals(tc.doc)
		var ce *core.Error
		require.True(t, errors.As(err, &ce), "%s: %v", tc.field, err)
		require.Equal(t, core.EINVALID, ce.Code)
		require.Equal(t, tc.field, ce.Fields[0].Field)
	}
}

// genDoc draws a valid document: kopeck prices, quantities with up to 3
// decimals, discounts within bounds, one rate in group mode.
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
	if rapid.Bool().Draw(t, "overall") {
		p := decimal.New(rapid.Int64Range(0, 100_000).Draw(t, "op"), -3)
		doc.Discount.Percent = &p
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
		sum, vat, disc := decimal.Zero, decimal.Zero, r.OverallDisc
		for i, l := range r.Lines {
			sum = sum.Add(l.Total)
			vat = vat.Add(l.VAT)
			disc = disc.Add(l.Discount)
			if l.Net.IsNegative() || l.VAT.IsNegative() || l.Total.IsNegative() {
				t.Fatalf("line %d: negative amounts %+v", i, l)
			}
			after := l.Gross.Sub(l.Discount)
			switch doc.TaxMode {
			case core.TaxInclusive: // the extracted VAT and the net make up the gross
				if !l.Net.Add(l.VAT).Equal(after) || !l.Total.Equal(after) {
					t.Fatalf("line %d: extracted VAT + net != gross after discount: %+v", i, l)
				}
			case core.TaxIndividual:
				if !l.Net.Equal(after) || !l.Net.Add(l.VAT).Equal(l.Total) {
					t.Fatalf("line %d: net + VAT != total: %+v", i, l)
				}
			case core.TaxGroup:
				if !l.Net.Equal(after) || !l.Total.Equal(after) || !l.VAT.IsZero() {
					t.Fatalf("line %d: group line carries VAT: %+v", i, l)
				}
			}
			if l.Total.Exponent() < -2 || l.VAT.Exponent() < -2 {
				t.Fatalf("line %d: not rounded to kopecks", i)
			}
		}
		if !sum.Equal(r.Subtotal) {
			t.Fatalf("lines sum to %s, subtotal %s", sum, r.Subtotal)
		}
		if !disc.Equal(r.DiscountTotal) {
			t.Fatalf("discounts sum to %s, total %s", disc, r.DiscountTotal)
		}
		if doc.TaxMode != core.TaxGroup && !vat.Add(r.ShippingVAT).Equal(r.VATTotal) {
			t.Fatalf("line VAT sums to %s (+ S&H %s), total %s", vat, r.ShippingVAT, r.VATTotal)
		}
		if r.GrandTotal.IsNegative() || r.VATTotal.IsNegative() || r.Subtotal.IsNegative() {
			t.Fatalf("negative totals: %+v", r)
		}
		byRate := decimal.Zero
		for _, rt := range r.ByRate {
			byRate = byRate.Add(rt.VAT)
		}
		if !byRate.Equal(r.VATTotal) {
			t.Fatalf("VAT by rate sums to %s, total %s", byRate, r.VATTotal)
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
