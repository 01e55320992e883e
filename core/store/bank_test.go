package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// replaceBanks loads a directory of the given date from a list (the
// decoder of real ED807 files feeds it in the API's and CLI's tests).
func replaceBanks(t *testing.T, st *store.Store, date string, banks []core.Bank) (core.BankImportResult, error) {
	t.Helper()
	d, err := core.ParseDate(date)
	require.NoError(t, err)
	i := 0
	return st.ReplaceBanks(context.Background(), core.BankImport{Date: d}, func() (core.Bank, bool, error) {
		if i == len(banks) {
			return core.Bank{}, false, nil
		}
		i++
		return banks[i-1], true, nil
	})
}

func directory(extra ...core.Bank) []core.Bank {
	in := core.NewDate(time.Date(2015, 7, 16, 0, 0, 0, 0, time.UTC))
	banks := []core.Bank{
		{BIC: "044525225", Name: "ПАО СБЕРБАНК", EnglishName: "SBERBANK", SWIFT: "SABRRUMM", RegistrationNumber: "1481",
			CorrespondentAccount: "30101810400000000225", Postcode: "117312", SettlementType: "г", Settlement: "Москва",
			Address: "ул Вавилова, 19", ParticipantType: "20", ParticipantStatus: "PSAC", DateIn: in},
		{BIC: "044525201", Name: "ФИЛИАЛ ПАО СБЕРБАНК МОСКОВСКИЙ", RegistrationNumber: "1481/1", CorrespondentAccount: "30101810700000000201",
			SettlementType: "г", Settlement: "Москва", ParticipantType: "30", ParticipantStatus: "PSAC", DateIn: in},
		{BIC: "041280103", Name: "УФК по Астраханской области", SettlementType: "г", Settlement: "Астрахань", ParticipantType: "52",
			ParticipantStatus: "PSAC", TreasuryAccounts: []string{"40116810100000010010"}, DateIn: in},
	}
	return append(banks, extra...)
}

func TestBankDirectory(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	closing := core.Bank{BIC: "045004001", Name: "АО БАНК ЗАКРЫВАЕМЫЙ", SettlementType: "г", Settlement: "Новосибирск",
		ParticipantType: "20", ParticipantStatus: "PSAC"}
	many := make([]core.Bank, 0, 25)
	for i := range 25 {
		many = append(many, core.Bank{BIC: fmt.Sprintf("0460000%02d", i), Name: fmt.Sprintf("КБ РЕГИОН %d", i), ParticipantType: "20"})
	}

	res, err := replaceBanks(t, st, "2022-06-29", directory(append(many, closing)...))
	require.NoError(t, err)
	require.Equal(t, core.BankImportResult{Banks: 29, Added: 29}, res)

	// By its БИК, by its SWIFT code in any case; by words in any order,
	// the bank before its branch.
	got, err := st.FindBanks(ctx, "044525225", 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "ПАО СБЕРБАНК", got[0].Name)
	require.Equal(t, "30101810400000000225", got[0].CorrespondentAccount)
	require.Equal(t, "2015-07-16", got[0].DateIn.String())
	require.Equal(t, "2022-06-29", got[0].DirectoryDate.String())
	got, err = st.FindBanks(ctx, "sabrrumm", 0)
	require.NoError(t, err)
	require.Equal(t, "044525225", got[0].BIC)
	got, err = st.FindBanks(ctx, "30101810700000000201", 0)
	require.NoError(t, err)
	require.Equal(t, "044525201", got[0].BIC)
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "москва сбер"})
	require.NoError(t, err)
	require.Equal(t, []string{"044525225", "044525201"}, bics(got))
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "0445252"})
	require.NoError(t, err)
	require.Equal(t, []string{"044525225", "044525201"}, bics(got))
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "уфк", Kinds: []string{"TREASURY"}})
	require.NoError(t, err)
	require.Equal(t, []string{"041280103"}, bics(got))
	require.Equal(t, []string{"40116810100000010010"}, got[0].TreasuryAccounts)
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "кб регион", Count: 100})
	require.NoError(t, err)
	require.Len(t, got, core.MaxBankSuggestions)
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "   "})
	require.NoError(t, err)
	require.Empty(t, got)

	// The next directory: a bank it no longer lists is kept, liquidated on
	// its date; a reload of the same one changes nothing.
	res, err = replaceBanks(t, st, "2022-08-18", directory(many...))
	require.NoError(t, err)
	require.Equal(t, core.BankImportResult{Banks: 28, Removed: 1}, res)
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "закрыв"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, core.BankLiquidated, got[0].Status())
	require.Equal(t, "2022-08-18", got[0].DateOut.String())
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "банк", Statuses: []string{core.BankActive}})
	require.NoError(t, err)
	require.Empty(t, got, "a liquidated bank is left out when live ones are asked for")
	res, err = replaceBanks(t, st, "2022-08-18", directory(many...))
	require.NoError(t, err)
	require.Equal(t, core.BankImportResult{Banks: 28}, res)

	// An older directory would retire the banks opened since; a directory
	// naming a БИК twice is no directory. Neither changes anything.
	_, err = replaceBanks(t, st, "2022-06-29", directory())
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "%v", err)
	_, err = replaceBanks(t, st, "2022-09-01", directory(directory()[0]))
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "%v", err)
	require.ErrorContains(t, err, "044525225 more than once")
	got, err = st.FindBanks(ctx, "044525225", 0)
	require.NoError(t, err)
	require.Equal(t, core.BankActive, got[0].Status())
	require.Equal(t, "2022-08-18", got[0].DirectoryDate.String())
}

func bics(banks []core.Bank) []string {
	out := make([]string, len(banks))
	for i, b := range banks {
		out[i] = b.BIC
	}
	return out
}
