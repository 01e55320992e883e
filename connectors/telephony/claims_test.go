package telephony

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// countingClaims counts the claims that reach it.
type countingClaims struct {
	CallClaims
	n int
}

func (c *countingClaims) ClaimCall(ctx context.Context, provider, claim, value string, now, expires time.Time) (string, error) {
	c.n++
	return c.CallClaims.ClaimCall(ctx, provider, claim, value, now, expires)
}

func TestCachedClaimsAskTheStoreOncePerBinding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	store := &countingClaims{CallClaims: NewCallClaimsInMemory()}
	c := newCachedClaims(store)
	for range 3 { // START, INTERNAL, END
		v, err := c.ClaimCall(ctx, "zadarma", "in:x", "in_1", now, now.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, "in_1", v)
	}
	v, err := c.ClaimCall(ctx, "zadarma", "in:x", "in_forged", now, now.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, "in_1", v, "a replay is answered from the cache too")
	require.Equal(t, 1, store.n)

	v, err = c.ClaimCall(ctx, "zadarma", "in:x", "in_2", now.Add(2*time.Hour), now.Add(3*time.Hour))
	require.NoError(t, err)
	require.Equal(t, "in_2", v, "an expired binding is asked again")
	require.Equal(t, 2, store.n)

	for i := range claimCacheSize + 10 { // a generation rolls over
		_, err := c.ClaimCall(ctx, "zadarma", fmt.Sprint(i), "v", now, now.Add(time.Hour))
		require.NoError(t, err)
	}
	require.LessOrEqual(t, len(c.cur)+len(c.old), 2*claimCacheSize)
}
