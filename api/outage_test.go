package api_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestDatabaseOutOfReachIs503 closes the API's database to connections (as
// a restarting server is): requests get a 503 problem with Retry-After,
// as the document says, not a 500.
func TestDatabaseOutOfReachIs503(t *testing.T) {
	t.Parallel()
	b := setup(t)
	check := openAPIChecker(t, b)
	ctx := context.Background()
	cc := b.store.Pool().Config().ConnConfig.Copy()
	db := cc.Database
	cc.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cc)
	require.NoError(t, err)
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` WITH ALLOW_CONNECTIONS false`)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, db)
	require.NoError(t, err)

	for _, r := range []struct{ method, path, key, body string }{
		{"GET", "/api/v1/leads", b.reader, ""},
		{"POST", "/api/v1/leads", b.writer, `{"last_name":"Иванов","company":"ООО"}`},
		{"GET", "/api/v1/imports/0190a5c0-0000-7000-8000-000000000000", b.reader, ""},
	} {
		check(r.method, r.path, r.key, r.body, 503)
		reply := b.do(t, r.method, r.path, r.key, r.body)
		require.Equal(t, 503, reply.status, "%s %s: %s", r.method, r.path, reply.body)
		require.Equal(t, "5", reply.header.Get("Retry-After"))
		p := reply.json(t)
		require.Equal(t, "urn:crmhub:problem:unavailable", p["type"])
		require.Equal(t, "the database is not reachable at the moment; retry shortly", p["detail"], "no driver text")
	}
}
