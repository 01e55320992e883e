package store_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// TestFunnelMatchesHandComputedFigures seeds five deals and compares the
// funnel with figures worked out by hand (see the comments).
func TestFunnelMatchesHandComputedFigures(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	bob, err := s.Users().Create(ctx, patch(t, `{"name":"Боб"}`))
	require.NoError(t, err)
	deal := func(amount, owner string, stages ...string) {
		body := `{"name":"D","amount":"` + amount + `"`
		if owner != "" {
			body += `,"owner_id":"` + owner + `"`
		}
		d, err := s.Deals().Create(ctx, patch(t, body+`}`))
		require.NoError(t, err)
		for _, st := range stages {
			_, err = s.Deals().Update(ctx, d.ID, 0, patch(t, `{"stage":"`+st+`"}`))
			require.NoError(t, err)
		}
	}
	deal("100", "")                                                   // D1: stays in prospecting (reach 0)
	deal("200", "", "qualification", "needs_analysis")                // D2: in needs_analysis (reach 2)
	deal("300", "", "qualification", "closed_won")                    // D3: won (went all the way)
	deal("400", "", "qualification", "needs_analysis", "closed_lost") // D4: lost after needs_analysis (reach 2)
	deal("500", bob.ID, "proposal_price_quote")                       // D5 (Боб): in proposal (reach 6)

	f, err := s.Funnel(ctx, core.FunnelFilter{})
	require.NoError(t, err)
	type row struct {
		code          string
		cur, reached  int64
		reachedAmount string
		conversion    any
	}
	want := []row{
		{"prospecting", 1, 5, "1500.00", nil},
		{"qualification", 0, 4, "1400.00", 0.8},
		{"needs_analysis", 1, 4, "1400.00", 1.0},
		{"value_proposition", 0, 2, "800.00", 0.5},
		{"id_decision_makers", 0, 2, "800.00", 1.0},
		{"perception_analysis", 0, 2, "800.00", 1.0},
		{"proposal_price_quote", 1, 2, "800.00", 1.0},
		{"negotiation_review", 0, 1, "300.00", 0.5},
	}
	require.Len(t, f.Stages, len(want))
	for i, w := range want {
		st := f.Stages[i]
		require.Equal(t, w.code, st.Code)
		require.Equal(t, w.cur, st.Current.Count, w.code)
		require.Equal(t, w.reached, st.Reached.Count, w.code)
		require.Equal(t, w.reachedAmount, st.Reached.Amount.StringFixed(2), w.code)
		if w.conversion == nil {
			require.Nil(t, st.Conversion, w.code)
		} else {
			require.InDelta(t, w.conversion, *st.Conversion, 1e-9, w.code)
		}
	}
	require.Equal(t, core.Tally{Count: 1, Amount: money(t, "300")}, f.Won)
	require.Equal(t, core.Tally{Count: 1, Amount: money(t, "400")}, f.Lost)
	require.Equal(t, core.Tally{Count: 5, Amount: money(t, "1500")}, f.Total)

	require.Len(t, f.ByOwner, 2)
	for _, o := range f.ByOwner {
		if o.OwnerID != bob.ID {
			continue
		}
		require.EqualValues(t, 1, o.Total.Count)
		require.EqualValues(t, 1, o.Stages[6].Reached.Count, "Боб's deal got to the proposal")
		require.EqualValues(t, 0, o.Stages[7].Reached.Count)
		require.InDelta(t, 0.0, *o.Stages[7].Conversion, 1e-9)
	}

	f, err = s.Funnel(ctx, core.FunnelFilter{OwnerID: bob.ID})
	require.NoError(t, err)
	require.EqualValues(t, 1, f.Total.Count)
	f, err = s.Funnel(ctx, core.FunnelFilter{From: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.EqualValues(t, 0, f.Total.Count)
	require.Nil(t, f.Stages[1].Conversion, "nothing reached the previous stage")
}

func money(t *testing.T, s string) core.Money {
	t.Helper()
	return core.NewMoney(decimal.RequireFromString(s).Round(2))
}
