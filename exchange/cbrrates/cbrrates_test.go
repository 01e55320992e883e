package cbrrates_test

import (
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/cbrrates"
)

func decodeFile(t *testing.T, name string) ([]core.CurrencyRate, error) {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	require.NoError(t, err)
	defer f.Close()
	return cbrrates.Decode(f)
}

func find(rates []core.CurrencyRate, code string) core.CurrencyRate {
	for _, r := range rates {
		if r.Currency == code {
			return r
		}
	}
	return core.CurrencyRate{}
}

// TestRealFiles: the Bank's files as other systems saved them, in
// windows-1251 and in UTF-8.
func TestRealFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, date string
		n          int
	}{
		{"base_cbrf_currencies-XML_daily.xml", "2020-04-25", 34},
		{"cbrXMLdaily-XML_daily.xml", "2022-03-15", 34},
		{"canalservice-testwork-XML_daily.xml", "2022-07-23", 34},
		{"Weather-XML_daily.asp", "2021-11-24", 34},
	} {
		rates, err := decodeFile(t, tc.file)
		require.NoError(t, err, tc.file)
		require.Len(t, rates, tc.n, tc.file)
		usd := find(rates, "USD")
		require.Equal(t, 1, usd.Nominal)
		require.True(t, usd.Rate.IsPositive())
		require.Equal(t, tc.date, usd.Date.Format("2006-01-02"))
		// Rates per Nominal units, as the Bank publishes them.
		for _, r := range rates {
			require.True(t, core.ISOCurrency(r.Currency), r.Currency)
			require.True(t, r.Nominal >= 1)
		}
	}
	rates, err := decodeFile(t, "base_cbrf_currencies-XML_daily.xml")
	require.NoError(t, err)
	kzt := find(rates, "KZT")
	require.Equal(t, 100, kzt.Nominal, "tenge are quoted per 100")
	require.Equal(t, kzt.Rate.DivRound(decimal.NewFromInt(100), 6).String(), kzt.PerUnit().String(), "one tenge")
}

// TestLyingDeclaration: UTF-8 bytes under a windows-1251 declaration are
// refused with the reason, not read as mojibake.
func TestLyingDeclaration(t *testing.T) {
	t.Parallel()
	_, err := decodeFile(t, "diplom-pipeline-cbr.xml")
	require.ErrorContains(t, err, "declares encoding windows-1251 but its bytes are UTF-8")
}

func TestHostileInput(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"not xml":        "hello",
		"no ValCurs":     `<?xml version="1.0"?><Foo/>`,
		"bad date":       `<ValCurs Date="2020-04-25"><Valute><CharCode>USD</CharCode><Nominal>1</Nominal><Value>1,0</Value></Valute></ValCurs>`,
		"unknown code":   `<ValCurs Date="25.04.2020"><Valute><CharCode>XYZ</CharCode><Nominal>1</Nominal><Value>1,0</Value></Valute></ValCurs>`,
		"bad value":      `<ValCurs Date="25.04.2020"><Valute><CharCode>USD</CharCode><Nominal>1</Nominal><Value>-1</Value></Valute></ValCurs>`,
		"bad nominal":    `<ValCurs Date="25.04.2020"><Valute><CharCode>USD</CharCode><Nominal>0</Nominal><Value>1,0</Value></Valute></ValCurs>`,
		"vunit disagree": `<ValCurs Date="25.04.2020"><Valute><CharCode>KZT</CharCode><Nominal>100</Nominal><Value>17,0</Value><VunitRate>1,7</VunitRate></Valute></ValCurs>`,
		"entity":         `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "USD">]><ValCurs Date="25.04.2020"><Valute><CharCode>&e;</CharCode></Valute></ValCurs>`,
		"too big":        "<ValCurs>" + strings.Repeat(" ", cbrrates.MaxSize) + "</ValCurs>",
	} {
		_, err := cbrrates.Decode(strings.NewReader(in))
		require.Error(t, err, name)
	}
	r, err := cbrrates.Decode(strings.NewReader(`<ValCurs Date="02.11.2023"><Valute><CharCode>USD</CharCode><Nominal>1</Nominal><Value>93,2801</Value><VunitRate>93,2801</VunitRate></Valute></ValCurs>`))
	require.NoError(t, err)
	require.Equal(t, "93.2801", r[0].Rate.StringFixed(4))
}
