// Package storetest gives tests a real PostgreSQL: the server in
// DATABASE_URL when set, else an embedded cluster started once per test
// binary in a temporary folder. Each test gets its own database cloned from
// a migrated template, so tests run in parallel without sharing rows.
//
// Import it from _test.go files only.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/pgembed"
	"github.com/crmhub/crmhub/core/store"
)

// env is the test binary's database server, set once by Main.
var env struct {
	adminURL string // maintenance database URL
	template string // name of the migrated template database
	mu       sync.Mutex
}

// Main starts the database server, migrates a template database, runs the
// tests and tears everything down. Call it from TestMain.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	var stop func()
	if u := os.Getenv("DATABASE_URL"); u != "" {
		env.adminURL = u
		stop = func() {}
	} else {
		dir, err := os.MkdirTemp("", "crmhub-pg-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		_ = os.Chmod(dir, 0o755) // the postgres user must reach its cluster
		srv, err := pgembed.Start(ctx, pgembed.Config{Dir: dir})
		if err != nil {
			fmt.Fprintln(os.Stderr, "storetest: embedded PostgreSQL:", err)
			return 1
		}
		env.adminURL = srv.AdminURL()
		stop = func() { _ = srv.Stop(context.Background()) }
	}
	defer stop()
	env.template = "crmhub_tmpl_" + randomSuffix()
	if err := createTemplate(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "storetest: template:", err)
		return 1
	}
	defer dropDatabase(env.template)
	return m.Run()
}

func createTemplate(ctx context.Context) error {
	if err := adminExec(ctx, "CREATE DATABASE "+env.template); err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, DatabaseURL(env.template))
	if err != nil {
		return err
	}
	defer pool.Close()
	_, err = store.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	return err
}

// DatabaseURL returns the URL of database name on the test server.
func DatabaseURL(name string) string {
	u, err := url.Parse(env.adminURL)
	if err != nil {
		panic(err) // programmer error: Main validated it
	}
	u.Path = "/" + name
	return u.String()
}

// NewDatabase creates a fresh migrated database for t, dropped when t ends,
// and returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	name := "crmhub_test_" + randomSuffix()
	env.mu.Lock() // CREATE DATABASE … TEMPLATE wants the template idle
	err := adminExec(context.Background(), fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, env.template))
	env.mu.Unlock()
	if err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(name) })
	return DatabaseURL(name)
}

// NewPool returns a pool on a fresh migrated database, closed when t ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewDatabase(t))
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewStore returns a store on a fresh migrated database with the first
// administrator created.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	s := store.New(NewPool(t), slog.New(slog.DiscardHandler))
	t.Cleanup(s.Close)
	if _, _, err := s.EnsureAdmin(context.Background(), "Administrator"); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	if _, err := s.Pipelines().Ensure(context.Background(), []core.Pipeline{core.DefaultPipeline()}); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return s
}

func adminExec(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, env.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func dropDatabase(name string) {
	_ = adminExec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
