package core_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// fieldsOf maps a computation's or a patch's field errors: field → message.
func fieldsOf(err error, errs ...core.FieldError) map[string]string {
	out := map[string]string{}
	for _, e := range append(core.ErrorFields(err), errs...) {
		out[e.Field] = e.Code + ": " + e.Message
	}
	return out
}

func lines(n int, qty, price, rate string) []core.TotalsLine {
	out := make([]core.TotalsLine, n)
	for i := range out {
		out[i] = line(qty, price, rate)
	}
	return out
}

// TestMoneyLimitEdges: the largest valid inputs compute exactly; one
// kopeck (or one unit) more is refused naming the field and the limit.
func TestMoneyLimitEdges(t *testing.T) {
	t.Parallel()
	doc := func(ls []core.TotalsLine, shipping string) core.TotalsDoc {
		return core.TotalsDoc{TaxMode: core.TaxIndividual, Date: in2026, Lines: ls, Shipping: d(shipping), ShippingRate: "none"}
	}
	for _, tc := range []struct {
		name  string
		doc   core.TotalsDoc
		field string // "" when it passes
		msg   string
		grand string
	}{
		{"MaxPrice", doc([]core.TotalsLine{line("1", "1000000000000.00", "none")}, "0"), "", "", "1000000000000.00"},
		{"OverMaxPrice", doc([]core.TotalsLine{line("1", "1000000000000.01", "none")}, "0"), "lines[0].price", "at most 1,000,000,000,000.00", ""},
		{"PriceOfTheIssue", doc([]core.TotalsLine{line("1", "9999999999999.99", "none")}, "0"), "lines[0].price", "at most 1,000,000,000,000.00", ""},
		{"MaxQuantityTimesPrice", doc([]core.TotalsLine{line("1000000000", "1000.00", "none")}, "0"), "", "", "1000000000000.00"},
		{"OverMaxAmount", doc([]core.TotalsLine{line("1000000000", "1000.01", "none")}, "0"), "lines[0].amount", "at most 1,000,000,000,000.00", ""},
		{"QuantityOfTheIssue", doc([]core.TotalsLine{line("1000000000", "1000000.00", "22")}, "0"), "lines[0].amount", "quantity × price is 1000000000000000.00", ""},
		{"OverMaxQuantity", doc([]core.TotalsLine{line("1000000000.001", "1", "none")}, "0"), "lines[0].quantity", "0 to 1,000,000,000", ""},
		{"MaxTotal", doc(lines(100, "1", "1000000000000.00", "none"), "0"), "", "", "100000000000000.00"},
		{"OverMaxTotal", doc(lines(100, "1", "1000000000000.00", "none"), "0.01"), "grand_total", "at most 100,000,000,000,000.00", ""},
		{"OverMaxTotalByVAT", doc(lines(82, "1", "1000000000000.00", "22"), "0"), "grand_total", "would be 100040000000000.00", ""},
		{"MaxShipping", doc(nil, "1000000000000.00"), "", "", "1000000000000.00"},
		{"OverMaxShipping", doc(nil, "1000000000000.01"), "shipping_amount", "at most 1,000,000,000,000.00", ""},
		{"NegativeShipping", doc(nil, "-0.01"), "shipping_amount", "must not be negative", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := core.ComputeTotals(tc.doc)
			if tc.field == "" {
				require.NoError(t, err)
				require.Equal(t, tc.grand, res.GrandTotal.StringFixed(2))
				return
			}
			require.Equal(t, core.EINVALID, core.ErrorCode(err), "%v", err)
			got := fieldsOf(err)
			require.Contains(t, got, tc.field, "%v", got)
			require.Contains(t, got[tc.field], "out_of_range: ")
			require.Contains(t, got[tc.field], tc.msg)
		})
	}
}

// TestAmountFieldsSayTheirLimit: prices, payments and amounts are refused
// above their limits with a message naming it (never "must not be
// negative" for a large one).
func TestAmountFieldsSayTheirLimit(t *testing.T) {
	t.Parallel()
	quote := func(p core.Patch) []core.FieldError {
		var q core.Quote
		return core.QuoteSchema().Apply(&q, p, "")
	}
	payment := func(p core.Patch) []core.FieldError {
		var pm core.Payment
		return core.PaymentSchema().Apply(&pm, p, "")
	}
	product := func(p core.Patch) []core.FieldError {
		var pr core.Product
		return core.ProductSchema().Apply(&pr, p, "")
	}
	for _, tc := range []struct {
		apply func(core.Patch) []core.FieldError
		body  string
		want  map[string]string
	}{
		{product, `{"name":"Диван","price":"1000000000000.00"}`, map[string]string{}},
		{product, `{"name":"Диван","price":"1000000000000.01"}`, map[string]string{"price": "out_of_range: must be at most 1,000,000,000,000.00"}},
		{product, `{"name":"Диван","price":"9999999999999.99"}`, map[string]string{"price": "out_of_range: must be at most 1,000,000,000,000.00"}},
		{product, `{"name":"Диван","price":"-1"}`, map[string]string{"price": "invalid_decimal: must not be negative"}},
		{quote, `{"lines":[{"name":"a","price":"1000000000000.00","quantity":"1000000000"}]}`, map[string]string{}},
		{quote, `{"lines":[{"name":"a","price":"1000000000000.01"}]}`, map[string]string{"lines[0].price": "out_of_range: must be at most 1,000,000,000,000.00"}},
		{quote, `{"lines":[{"name":"a","price":"1","discount_amount":"1000000000000.01"}]}`,
			map[string]string{"lines[0].discount_amount": "out_of_range: must be at most 1,000,000,000,000.00"}},
		{quote, `{"lines":[{"name":"a","price":"1","quantity":"1000000000.001"}]}`,
			map[string]string{"lines[0].quantity": "invalid_quantity: must be a non-negative decimal with at most 3 fraction digits, up to 1,000,000,000"}},
		{quote, `{"shipping_amount":"1000000000000.01"}`, map[string]string{"shipping_amount": "out_of_range: must be at most 1,000,000,000,000.00"}},
		{quote, `{"adjustment":"-1000000000000.01"}`, map[string]string{"adjustment": "out_of_range: must be at most 1,000,000,000,000.00 either way"}},
		{quote, `{"discount_amount":"100000000000000.01"}`, map[string]string{"discount_amount": "out_of_range: must be at most 100,000,000,000,000.00"}},
		{payment, `{"amount":"100000000000000.00"}`, map[string]string{}},
		{payment, `{"amount":"100000000000000.01"}`, map[string]string{"amount": "out_of_range: must be at most 100,000,000,000,000.00"}},
	} {
		p, err := core.DecodePatch([]byte(tc.body))
		require.NoError(t, err)
		require.Equal(t, tc.want, fieldsOf(nil, tc.apply(p)...), tc.body)
	}
	for _, tc := range []struct{ in, want string }{{"1000000000000.00", ""}, {"1000000000000.01", "out_of_range"},
		{"-0.01", "invalid_decimal"}, {"1.001", "invalid_decimal"}} {
		fe := core.CheckPrice("price", d(tc.in))
		if tc.want == "" {
			require.Nil(t, fe, tc.in)
			continue
		}
		require.Equal(t, tc.want, fe.Code, tc.in)
	}
}

func TestPaidBalance(t *testing.T) {
	t.Parallel()
	paid, bal, err := core.PaidBalance(d("100000000000000.00"), d("100000000000000.00"))
	require.NoError(t, err)
	require.Equal(t, []string{"100000000000000.00", "0.00"}, []string{paid.StringFixed(2), bal.StringFixed(2)})
	_, bal, err = core.PaidBalance(d("10.00"), d("15.00"))
	require.NoError(t, err)
	require.True(t, bal.Equal(decimal.NewFromInt(-5)), "overpaid")
	_, _, err = core.PaidBalance(d("100000000000000.00"), d("100000000000000.01"))
	require.Equal(t, map[string]string{"amount": "out_of_range: the document's payments would add up to more than 100,000,000,000,000.00"}, fieldsOf(err))
}

func TestSQLInputError(t *testing.T) {
	t.Parallel()
	require.Equal(t, core.EINVALID, core.ErrorCode(core.SQLInputError("22003")))
	require.Equal(t, "out_of_range", core.ErrorFields(core.SQLInputError("22003"))[0].Code)
	require.Equal(t, "control_character", core.ErrorFields(core.SQLInputError("22021"))[0].Code)
	require.Equal(t, "control_character", core.ErrorFields(core.SQLInputError("22P05"))[0].Code)
	require.NoError(t, core.SQLInputError("23505"), "not the input's: translated elsewhere")
	require.NoError(t, core.SQLInputError("08006"))
}
