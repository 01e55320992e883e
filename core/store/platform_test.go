package store_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestConcurrentMigratorsApplyEachMigrationOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// An empty database, not the migrated template.
	pool := storetest.NewPool(t)
	_, err := pool.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	ok, err := store.MigrationsCurrent(ctx, pool)
	require.NoError(t, err)
	require.False(t, ok)

	var wg sync.WaitGroup
	applied := make([][]int, 4)
	for i := range applied {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := pgxpool.New(ctx, pool.Config().ConnString())
			require.NoError(t, err)
			defer p.Close()
			applied[i], err = store.Migrate(ctx, p, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	all, err := store.Migrations()
	require.NoError(t, err)
	total := 0
	for _, a := range applied {
		total += len(a)
	}
	require.Equal(t, len(all), total, "each migration applied by exactly one migrator")
	ok, err = store.MigrationsCurrent(ctx, pool)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := context.Background()
	k, secret, err := s.CreateAPIKey(ctx, "ci", []core.Scope{core.ScopeRead}, "")
	require.NoError(t, err)
	require.Equal(t, secret[:core.APIKeyPrefixLen], k.Prefix)

	got, err := s.Authenticate(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, k.ID, got.ID)
	_, err = s.Authenticate(ctx, secret+"x")
	require.Equal(t, core.EUNAUTHORIZED, core.ErrorCode(err))

	var stored []byte
	require.NoError(t, s.Pool().QueryRow(ctx, "SELECT hash FROM api_keys WHERE id = $1", k.ID).Scan(&stored))
	require.Equal(t, core.HashAPIKey(secret), stored, "only the hash is stored")

	require.NoError(t, s.RevokeAPIKey(ctx, k.ID))
	_, err = s.Authenticate(ctx, secret)
	require.Equal(t, core.EUNAUTHORIZED, core.ErrorCode(err), "revocation applies at once, past the cache")
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(s.RevokeAPIKey(ctx, "0190a5c0-0000-7000-8000-000000000000")))

	_, _, err = s.CreateAPIKey(ctx, "", []core.Scope{"root"}, "")
	require.Len(t, core.ErrorFields(err), 2)
}

func TestIdempotencyRunsOnceAndReplays(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	req := core.IdempotentRequest{Owner: "key-1", Key: "k1", Fingerprint: []byte("body-a")}
	var calls atomic.Int32
	create := func(ctx context.Context) (core.StoredResponse, bool, error) {
		calls.Add(1)
		l, err := s.Leads().Create(ctx, patch(t, `{"last_name":"A","company":"B"}`))
		if err != nil {
			return core.StoredResponse{}, false, err
		}
		return core.StoredResponse{Status: 201, Body: []byte(l.ID)}, true, nil
	}
	r1, replayed, err := s.Do(ctx, req, create)
	require.NoError(t, err)
	require.False(t, replayed)
	r2, replayed, err := s.Do(ctx, req, create)
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, r1, r2)
	require.EqualValues(t, 1, calls.Load())
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads"))

	req.Fingerprint = []byte("body-b")
	_, _, err = s.Do(ctx, req, create)
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err))

	// A failed request is not remembered and its writes roll back.
	req2 := core.IdempotentRequest{Owner: "key-1", Key: "k2", Fingerprint: []byte("x")}
	_, _, err = s.Do(ctx, req2, func(ctx context.Context) (core.StoredResponse, bool, error) {
		_, err := s.Leads().Create(ctx, patch(t, `{"last_name":"A","company":"B"}`))
		require.NoError(t, err)
		return core.StoredResponse{Status: 500}, false, nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM outbox WHERE entity = 'lead'"), "one lead, one event: the failed request left none")

	// Concurrent requests with one key run the work once.
	var wg sync.WaitGroup
	req3 := core.IdempotentRequest{Owner: "key-1", Key: "k3", Fingerprint: []byte("y")}
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.Do(ctx, req3, create)
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Equal(t, 2, count(t, s, "SELECT count(*) FROM leads"))
}
