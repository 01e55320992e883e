package core_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestBankStatusAndKind(t *testing.T) {
	t.Parallel()
	require.Equal(t, core.BankActive, core.Bank{ParticipantType: "20", ParticipantStatus: "PSAC"}.Status())
	require.Equal(t, core.BankLiquidating, core.Bank{ParticipantType: "90"}.Status())
	require.Equal(t, core.BankLiquidating, core.Bank{ParticipantType: "20", Restrictions: "URRS,LWRS"}.Status())
	require.Equal(t, core.BankLiquidated, core.Bank{DateOut: core.NewDate(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))}.Status())
	require.Equal(t, core.BankLiquidated, core.Bank{ParticipantStatus: "PSDL"}.Status())
	require.Equal(t, "BANK", core.Bank{ParticipantType: "20", Name: "ПАО СБЕРБАНК"}.Kind())
	require.Equal(t, "NKO", core.Bank{ParticipantType: "20", Name: "НКО АО НРД"}.Kind())
	require.Equal(t, "TREASURY", core.Bank{ParticipantType: "52"}.Kind())
	require.Equal(t, "OTHER", core.Bank{ParticipantType: "99"}.Kind())
}

// matches is the store's rule: every word typed begins a word of the
// bank's search text.
func matches(text, query string) bool {
	words := core.SearchWords(query)
	for _, w := range words {
		if !strings.Contains(text, " "+w) {
			return false
		}
	}
	return len(words) > 0
}

func TestBankWords(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"ао", "альфа", "банк", "объединенный"}, core.SearchWords(`АО "Альфа-Банк" Объединённый`))
	b := core.Bank{Name: `АО "Альфа-Банк" Объединённый`, Settlement: "Москва", SWIFT: "ALFARUMM", BIC: "044525593"}
	text := b.SearchText()
	require.Equal(t, " ао альфа банк объединенный москва alfarumm 044525593", text)
	require.True(t, matches(text, "банк альф"), "any order, prefixes")
	require.True(t, matches(text, "объединён"), "ё/е")
	require.True(t, matches(text, "0445255"), "a БИК's first digits")
	require.False(t, matches(text, "сбер"))
	require.False(t, matches(text, ""))
}

func TestBankRank(t *testing.T) {
	t.Parallel()
	closed := core.Bank{BIC: "1", Name: "А", ParticipantType: "20", DateOut: core.NewDate(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))}
	ku := core.Bank{BIC: "2", Name: "Б", ParticipantType: "90"}
	branch := core.Bank{BIC: "3", Name: "В", ParticipantType: "30"}
	bank := core.Bank{BIC: "4", Name: "Г", ParticipantType: "20"}
	banks := []core.Bank{closed, ku, branch, bank}
	slices.SortStableFunc(banks, func(a, b core.Bank) int { return cmp.Compare(a.Rank(), b.Rank()) })
	var got []string
	for _, b := range banks {
		got = append(got, b.BIC)
	}
	require.Equal(t, []string{"4", "3", "2", "1"}, got, "live banks first, the closed one last")
}
