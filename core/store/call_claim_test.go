package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestClaimCall(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

	got, err := st.ClaimCall(ctx, "zadarma", "in:abc", "in_1", now, now.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, "in_1", got, "the first claim binds")
	got, err = st.ClaimCall(ctx, "zadarma", "in:abc", "in_2", now.Add(time.Minute), now.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, "in_1", got, "a later one finds the binding")
	got, err = st.ClaimCall(ctx, "mango", "in:abc", "in_2", now, now.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, "in_2", got, "claims are per provider")
	got, err = st.ClaimCall(ctx, "zadarma", "in:abc", "in_3", now.Add(time.Hour), now.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, "in_3", got, "an expired binding is replaced")

	var wg sync.WaitGroup
	values := make([]string, 20)
	for i := range values {
		wg.Add(1)
		go func() {
			defer wg.Done()
			values[i], _ = st.ClaimCall(ctx, "zadarma", "race", string(rune('a'+i)), now, now.Add(time.Hour))
		}()
	}
	wg.Wait()
	for _, v := range values {
		require.Equal(t, values[0], v, "concurrent claims agree")
	}
	n, err := st.PruneCallClaims(ctx, now.Add(90*time.Minute))
	require.NoError(t, err)
	require.Equal(t, int64(2), n, "mango's and the race's")
}
