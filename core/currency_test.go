package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestAmountInWordsIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ amount, code, want string }{
		{"1234567.89", "RUB", "Один миллион двести тридцать четыре тысячи пятьсот шестьдесят семь рублей 89 копеек"},
		{"2.01", "RUB", "Два рубля 01 копейка"},
		{"1.01", "USD", "Один доллар США 01 цент"},
		{"22.02", "USD", "Двадцать два доллара США 02 цента"},
		{"111.11", "USD", "Сто одиннадцать долларов США 11 центов"},
		{"21.00", "EUR", "Двадцать один евро 00 центов"},
		{"3.05", "CNY", "Три юаня 05 фэней"},
		{"1.00", "CNY", "Один юань 00 фэней"},
		{"5000.00", "KZT", "Пять тысяч тенге 00 тиынов"},
		{"1.21", "BYN", "Один белорусский рубль 21 копейка"},
		{"2.00", "BYN", "Два белорусских рубля 00 копеек"},
		{"25.00", "BYN", "Двадцать пять белорусских рублей 00 копеек"},
		{"1.00", "TRY", "Одна турецкая лира 00 курушей"},
		{"10.50", "SEK", "Десять 50/100 SEK"},
	} {
		require.Equal(t, tc.want, core.AmountInWordsIn(d(tc.amount), tc.code), tc.code+" "+tc.amount)
	}
	require.Equal(t, core.AmountInWords(d("1001")), core.AmountInWordsIn(d("1001"), "RUB"))
}

func TestValidCurrency(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"RUB", "USD", "EUR", "CNY", "KZT", "BYN", "SEK"} {
		require.True(t, core.ValidCurrency(c), c)
	}
	for _, c := range []string{"XYZ", "rub", "RU", "RUBL", "XAU", "XDR", "ZZZ", ""} {
		require.False(t, core.ValidCurrency(c), c)
	}
	require.True(t, core.ISOCurrency("XDR"), "the Bank quotes drawing rights")
	require.Equal(t, "643", core.CurrencyOf("RUB").Numeric)
	require.Equal(t, "Доллар США", core.CurrencyOf("USD").Name)
}
