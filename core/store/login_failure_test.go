package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// TestLoginFailuresInTheDatabase runs the throttle on the table: what two
// replicas (two throttles on one database) see together.
func TestLoginFailuresInTheDatabase(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	replica := func() *core.LoginThrottle {
		th, err := core.NewLoginThrottle(core.ThrottleConfig{Scope: "onec", Now: clock}, st)
		require.NoError(t, err)
		return th
	}
	a, b := replica(), replica()

	t.Run("ConcurrentGuessesOnTwoReplicasAreCountedOneByOne", func(t *testing.T) {
		var through atomic.Int32
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				th := a
				if i%2 == 1 {
					th = b
				}
				at, err := th.Begin(ctx, "1c", "10.0.0.1")
				if err == nil && at.Wait == 0 {
					through.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(5), through.Load())
		at, err := b.Begin(ctx, "1c", "10.0.0.2")
		require.NoError(t, err)
		require.Equal(t, time.Second, at.Wait, "the other replica sees the user waiting")
	})

	t.Run("SuccessClearsTheUserAndGivesTheAddressItsAttemptBack", func(t *testing.T) {
		mu.Lock()
		now = now.Add(time.Second)
		mu.Unlock()
		at, err := a.Begin(ctx, "1c", "10.0.0.3")
		require.NoError(t, err)
		require.Zero(t, at.Wait)
		require.Equal(t, 6, at.Failures)
		require.NoError(t, at.Succeeded(ctx))
		var users, addr int
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE key = 'onec/user/1c'),
			count(*) FILTER (WHERE key = 'onec/ip/10.0.0.3') FROM login_failures`).Scan(&users, &addr))
		require.Equal(t, []int{0, 0}, []int{users, addr}, "both rows deleted")
		at, err = b.Begin(ctx, "1c", "10.0.0.3")
		require.NoError(t, err)
		require.Equal(t, 1, at.Failures)
	})

	t.Run("PruneDeletesKeysLeftAloneLongerThanForget", func(t *testing.T) {
		mu.Lock()
		now = now.Add(25 * time.Hour)
		mu.Unlock()
		_, err := a.Begin(ctx, "fresh", "10.0.0.9")
		require.NoError(t, err)
		n, err := a.Prune(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(3), n, "1c, 10.0.0.1 and 10.0.0.3 (the refused attempt from .2 left nothing)")
		var left int
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM login_failures`).Scan(&left))
		require.Equal(t, 2, left, "fresh and 10.0.0.9")
	})
}
