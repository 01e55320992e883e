package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/ed807"
)

// loadDirectory imports one of the ED807 decoder's real directories.
func loadDirectory(t *testing.T, st *store.Store, file string) (core.BankImportResult, error) {
	t.Helper()
	f, err := os.Open("../../exchange/ed807/testdata/" + file)
	require.NoError(t, err)
	defer f.Close()
	d, err := ed807.NewDecoder(f)
	require.NoError(t, err)
	require.NoError(t, d.Root())
	date, err := core.ParseDate(d.EDDate)
	require.NoError(t, err)
	return st.ReplaceBanks(context.Background(), core.BankImport{Date: date}, d.NextBank)
}

func TestBankDirectory(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()

	res, err := loadDirectory(t, st, "20220630_ED807_full.xml")
	require.NoError(t, err)
	require.Equal(t, core.BankImportResult{Banks: 1725, Added: 1725}, res)

	// Sberbank by its БИК, by its SWIFT and by words typed in any order.
	got, err := st.FindBanks(ctx, "044525225", 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	sber := got[0]
	require.Equal(t, "ПАО СБЕРБАНК", sber.Name)
	require.Equal(t, "30101810400000000225", sber.CorrespondentAccount)
	require.Equal(t, "SABRRUMM", sber.SWIFT)
	require.Equal(t, "г. Москва", sber.PaymentCity())
	require.Equal(t, core.BankActive, sber.Status())
	got, err = st.FindBanks(ctx, "sabrrumm", 0)
	require.NoError(t, err)
	require.Equal(t, "044525225", got[0].BIC)
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "москва сбер"})
	require.NoError(t, err)
	require.NotEmpty(t, got)
	require.Equal(t, "044525225", got[0].BIC, "the bank before its branches")
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "0445252", Count: 100})
	require.NoError(t, err)
	require.LessOrEqual(t, len(got), core.MaxBankSuggestions)
	for _, b := range got {
		require.Contains(t, b.SearchText(), " 0445252")
	}
	got, err = st.SuggestBanks(ctx, core.BankQuery{Query: "уфк", Kinds: []string{"TREASURY"}, Count: 3})
	require.NoError(t, err)
	require.Len(t, got, 3)
	for _, b := range got {
		require.Equal(t, "TREASURY", b.Kind())
		require.NotEmpty(t, b.TreasuryAccounts)
	}

	// The next directory: banks it no longer lists are kept, liquidated
	// on its date; a reload of the same one changes nothing.
	res, err = loadDirectory(t, st, "20220819_ED807_full.xml")
	require.NoError(t, err)
	require.Equal(t, 1800, res.Banks)
	require.Positive(t, res.Added)
	require.Positive(t, res.Removed)
	require.Equal(t, 1725+res.Added-res.Removed, res.Banks)
	gone, err := st.SuggestBanks(ctx, core.BankQuery{Query: "а", Statuses: []string{core.BankLiquidated}, Count: 20})
	require.NoError(t, err)
	require.NotEmpty(t, gone)
	for _, b := range gone {
		require.Equal(t, core.BankLiquidated, b.Status())
	}
	again, err := loadDirectory(t, st, "20220819_ED807_full.xml")
	require.NoError(t, err)
	require.Equal(t, core.BankImportResult{Banks: 1800}, again)

	// An older directory would retire the banks opened since.
	_, err = loadDirectory(t, st, "20220630_ED807_full.xml")
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "%v", err)
	got, err = st.FindBanks(ctx, "044525225", 0)
	require.NoError(t, err)
	require.Equal(t, core.BankActive, got[0].Status())
}
