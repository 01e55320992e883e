package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// requireUnavailable checks err is the store's answer to a database out of
// reach: EUNAVAILABLE, retry after store.RetryAfter, no driver text shown.
func requireUnavailable(t *testing.T, err error) {
	t.Helper()
	require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err), "%v", err)
	require.Equal(t, store.RetryAfter, core.ErrorRetryAfter(err))
	require.Equal(t, "the database is not reachable at the moment; retry shortly", core.ErrorMessage(err))
}

func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("NoServer", func(t *testing.T) {
		t.Parallel()
		// A socket folder with no server in it: every connect fails.
		pool, err := pgxpool.New(ctx, "postgres://crmhub@/crmhub?host="+t.TempDir()+"&port=5999&sslmode=disable")
		require.NoError(t, err)
		defer pool.Close()
		st := store.New(pool, nil)
		defer st.Close()
		_, err = st.Authenticate(ctx, "crm_0123456789abcdef0123456789abcdef")
		requireUnavailable(t, err)
		_, err = st.Leads().Get(ctx, "0190a5c0-0000-7000-8000-000000000000")
		requireUnavailable(t, err)
		_, err = st.Leads().Create(apiCtx(), patch(t, `{"last_name":"Иванов","company":"ООО"}`))
		requireUnavailable(t, err)
	})
	t.Run("ConnectionsTerminated", func(t *testing.T) {
		t.Parallel()
		// The server ends the store's connections (as a shutdown or a crash
		// does) in the middle of a transaction.
		cfg, err := pgxpool.ParseConfig(storetest.NewDatabase(t))
		require.NoError(t, err)
		cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true } // dead idle conns are dropped
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		defer pool.Close()
		st := store.New(pool, nil)
		defer st.Close()
		_, _, err = st.EnsureAdmin(ctx, "Administrator")
		require.NoError(t, err)
		admin, err := pgx.Connect(ctx, pool.Config().ConnString())
		require.NoError(t, err)
		defer admin.Close(ctx)
		err = st.Atomically(apiCtx(), func(ctx context.Context) error {
			if _, err := st.Leads().Create(ctx, patch(t, `{"last_name":"Первый","company":"ООО"}`)); err != nil {
				return err
			}
			if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
				return err
			}
			_, err := st.Leads().Create(ctx, patch(t, `{"last_name":"Второй","company":"ООО"}`))
			return err
		})
		requireUnavailable(t, err)

		// The pool reconnects: the next writes go through.
		_, err = st.Leads().Create(apiCtx(), patch(t, `{"last_name":"Третий","company":"ООО"}`))
		require.NoError(t, err)
		var n int
		require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM leads`).Scan(&n))
		require.Equal(t, 1, n, "the broken transaction wrote nothing")
	})
	t.Run("OtherErrorsUnchanged", func(t *testing.T) {
		t.Parallel()
		st := storetest.NewStore(t)
		_, err := st.Leads().Get(ctx, "0190a5c0-0000-7000-8000-000000000000")
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
		require.Zero(t, core.ErrorRetryAfter(err))
	})
}
