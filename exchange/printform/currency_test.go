package printform_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/printform"
)

// TestForeignCurrencyForms: a счёт-фактура in dollars names the currency
// in line (7); the ТОРГ-12 writes its sum in dollars.
func TestForeignCurrencyForms(t *testing.T) {
	t.Parallel()
	d := document(t, 2, core.TaxIndividual)
	d.Currency = "USD"
	d.ConversionRate = decimal.RequireFromString("93.2801")
	pdf, err := printform.Render(printform.Input{Form: printform.FormSchetFaktura, Doc: d, Seller: org(), Buyer: buyer()})
	require.NoError(t, err)
	require.Contains(t, pdfText(t, pdf), "Доллар США, 840")
	pdf, err = printform.Render(printform.Input{Form: printform.FormTorg12, Doc: d, Seller: org(), Buyer: buyer()})
	require.NoError(t, err)
	require.Contains(t, pdfText(t, pdf), core.AmountInWordsIn(d.GrandTotal.Decimal, "USD"))
}
