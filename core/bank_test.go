package core_test

import (
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

func TestBankWords(t *testing.T) {
	t.Parallel()
	name := core.SearchWords(`АО "Альфа-Банк" Объединённый`)
	require.Equal(t, []string{"ао", "альфа", "банк", "объединенный"}, name)
	require.True(t, core.MatchesWords(name, core.SearchWords("банк альф")), "any order, prefixes")
	require.True(t, core.MatchesWords(name, core.SearchWords("объединён")), "ё/е")
	require.False(t, core.MatchesWords(name, core.SearchWords("сбер")))
	require.False(t, core.MatchesWords(name, nil))
}

func TestRankBanks(t *testing.T) {
	t.Parallel()
	closed := core.Bank{BIC: "1", Name: "А", ParticipantType: "20", DateOut: core.NewDate(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))}
	ku := core.Bank{BIC: "2", Name: "Б", ParticipantType: "90"}
	branch := core.Bank{BIC: "3", Name: "В", ParticipantType: "30"}
	bank := core.Bank{BIC: "4", Name: "Г", ParticipantType: "20"}
	banks := []core.Bank{closed, ku, branch, bank}
	core.RankBanks(banks)
	var got []string
	for _, b := range banks {
		got = append(got, b.BIC)
	}
	require.Equal(t, []string{"4", "3", "2", "1"}, got, "live banks first, the closed one last")
}
