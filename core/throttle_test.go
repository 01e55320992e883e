package core_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// fakeClock is a settable clock for the throttle.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newThrottle(t *testing.T, store core.LoginFailures) (*core.LoginThrottle, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	th, err := core.NewLoginThrottle(core.ThrottleConfig{Scope: "test", Now: clock.Now}, store)
	require.NoError(t, err)
	return th, clock
}

// fail makes a failed attempt that the throttle lets through.
func fail(t *testing.T, th *core.LoginThrottle, user, ip string) *core.LoginAttempt {
	t.Helper()
	a, err := th.Begin(context.Background(), user, ip)
	require.NoError(t, err)
	require.Zero(t, a.Wait, "attempt %d of %s from %s is let through", a.Failures, user, ip)
	return a
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("FreeFailuresThenDoublingDelaysUpToTheLockout", func(t *testing.T) {
		t.Parallel()
		th, clock := newThrottle(t, nil)
		for i := 1; i <= 4; i++ {
			require.Zero(t, fail(t, th, "1c", "10.0.0.1").Penalty, "failure %d is free", i)
		}
		require.Equal(t, time.Second, fail(t, th, "1c", "10.0.0.1").Penalty, "the fifth failure costs a second")
		a, err := th.Begin(ctx, "1c", "10.0.0.1")
		require.NoError(t, err)
		require.Equal(t, time.Second, a.Wait)
		want := time.Second
		for range 12 {
			clock.Advance(want)
			a := fail(t, th, "1c", "10.0.0.1")
			want = min(2*want, 15*time.Minute)
			require.Equal(t, want, a.Penalty, "failure %d", a.Failures)
		}
		require.Equal(t, 15*time.Minute, want, "the wait stops at the lockout")
	})

	t.Run("LockedRefusesEvenTheRightPasswordAndCountsNothing", func(t *testing.T) {
		t.Parallel()
		th, clock := newThrottle(t, nil)
		for range 5 {
			fail(t, th, "1c", "10.0.0.1")
		}
		clock.Advance(500 * time.Millisecond)
		for range 3 {
			a, err := th.Begin(ctx, "1c", "10.0.0.9") // another address: the user waits
			require.NoError(t, err)
			require.Equal(t, 500*time.Millisecond, a.Wait)
			require.NoError(t, a.Succeeded(ctx), "a refused attempt has nothing to undo")
		}
		clock.Advance(500 * time.Millisecond)
		a := fail(t, th, "1c", "10.0.0.9")
		require.Equal(t, 6, a.Failures, "refused attempts were not counted")
	})

	t.Run("SuccessForgetsTheUsersFailures", func(t *testing.T) {
		t.Parallel()
		th, _ := newThrottle(t, nil)
		for range 4 {
			fail(t, th, "1c", "10.0.0.1")
		}
		require.NoError(t, fail(t, th, "1c", "10.0.0.1").Succeeded(ctx))
		for i := 1; i <= 4; i++ {
			require.Equal(t, i, fail(t, th, "1c", "10.0.0.1").Failures)
		}
	})

	t.Run("AnAddressFailingAcrossUsersWaits", func(t *testing.T) {
		t.Parallel()
		th, _ := newThrottle(t, nil)
		for i := range 20 {
			fail(t, th, fmt.Sprintf("user%d", i), "10.0.0.1")
		}
		a, err := th.Begin(ctx, "user-new", "10.0.0.1")
		require.NoError(t, err)
		require.Equal(t, time.Second, a.Wait)
		a, err = th.Begin(ctx, "user-new", "10.0.0.2")
		require.NoError(t, err)
		require.Zero(t, a.Wait, "another address is not held up")
	})

	t.Run("SuccessesDoNotAddUpAgainstAnAddress", func(t *testing.T) {
		t.Parallel()
		th, _ := newThrottle(t, nil)
		for i := range 100 {
			require.NoError(t, fail(t, th, fmt.Sprintf("user%d", i), "10.0.0.1").Succeeded(ctx))
		}
		fail(t, th, "user-new", "10.0.0.1")
	})

	t.Run("FailuresAreForgottenAfterAQuietDay", func(t *testing.T) {
		t.Parallel()
		th, clock := newThrottle(t, nil)
		for range 10 {
			clock.Advance(15 * time.Minute)
			fail(t, th, "1c", "10.0.0.1")
		}
		clock.Advance(24*time.Hour + time.Second)
		require.Equal(t, 1, fail(t, th, "1c", "10.0.0.1").Failures)
	})

	t.Run("ConcurrentGuessesAreCountedOneByOne", func(t *testing.T) {
		t.Parallel()
		th, _ := newThrottle(t, nil)
		var through atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := th.Begin(ctx, "1c", "10.0.0.1")
				if err == nil && a.Wait == 0 {
					through.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(5), through.Load())
	})

	t.Run("PruneForgetsOldKeysOfItsScope", func(t *testing.T) {
		t.Parallel()
		store := core.NewLoginFailuresInMemory()
		th, clock := newThrottle(t, store)
		fail(t, th, "old", "10.0.0.1")
		require.NoError(t, store.UpdateLoginFailures(ctx, []string{"other/user/x"}, func([]core.LoginFailure) []core.LoginFailure {
			return []core.LoginFailure{{Count: 1, Last: clock.Now()}}
		}))
		clock.Advance(25 * time.Hour)
		fail(t, th, "new", "10.0.0.2")
		n, err := th.Prune(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(2), n, "old's user and address keys; not the other scope's, not the new ones")
	})

	t.Run("ConfigIsChecked", func(t *testing.T) {
		t.Parallel()
		for _, cfg := range []core.ThrottleConfig{{}, {Scope: "a/b"}, {Scope: "x", UserFailures: -1},
			{Scope: "x", Delay: time.Hour, Lockout: time.Minute}, {Scope: "x", Lockout: 48 * time.Hour}} {
			_, err := core.NewLoginThrottle(cfg, nil)
			require.Error(t, err, "%+v", cfg)
		}
	})
}
