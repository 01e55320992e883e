package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmhub/crmhub/core"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the advisory lock that serializes concurrent migrators.
const migrationLockKey = 0x63726d6875620001 // "crmhub" + 1

// Migration is one numbered SQL file embedded in the binary.
type Migration struct {
	Version  int
	Name     string
	SQL      string
	Checksum string
}

// MigrationStatus is a migration with its applied time, if applied.
type MigrationStatus struct {
	Migration
	AppliedAt *time.Time
	// Modified is set when the applied file's checksum differs from the
	// embedded one: merged migrations must not change.
	Modified bool
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: want NNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: name, SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version     integer PRIMARY KEY,
	name        text NOT NULL,
	checksum    text NOT NULL,
	applied_at  timestamptz NOT NULL DEFAULT now()
)`

// Migrate applies every pending migration, each in its own transaction,
// holding an advisory lock so that concurrent starters apply each once.
// It returns the versions it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) ([]int, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockKey)); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrationLockKey))
	}()
	if _, err := conn.Exec(ctx, migrationsTable); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied, err := appliedMigrations(ctx, conn.Conn())
	if err != nil {
		return nil, err
	}
	var done []int
	for _, m := range all {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		err := pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			if after := afterMigration[m.Version]; after != nil {
				if err := after(ctx, tx); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
				m.Version, m.Name, m.Checksum)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("migration %03d_%s: %w", m.Version, m.Name, err)
		}
		log.Info("migration_applied", "version", m.Version, "name", m.Name)
		done = append(done, m.Version)
	}
	return done, nil
}

// afterMigration completes a migration with data its SQL cannot hold
// without repeating a definition the code has: run in the migration's
// transaction.
var afterMigration = map[int]func(ctx context.Context, tx pgx.Tx) error{
	46: seedRoles,
	48: grantArea(core.RoleAdminID, core.AreaFields),
}

type appliedRow struct {
	checksum string
	at       time.Time
}

func appliedMigrations(ctx context.Context, conn *pgx.Conn) (map[int]appliedRow, error) {
	rows, err := conn.Query(ctx, "SELECT version, checksum, applied_at FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	out := map[int]appliedRow{}
	var v int
	var r appliedRow
	_, err = pgx.ForEachRow(rows, []any{&v, &r.checksum, &r.at}, func() error {
		out[v] = r
		return nil
	})
	return out, err
}

// MigrationsStatus lists the embedded migrations with their state.
func MigrationsStatus(ctx context.Context, pool *pgxpool.Pool) ([]MigrationStatus, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return nil, err
	}
	applied := map[int]appliedRow{}
	if exists {
		if applied, err = appliedMigrations(ctx, conn.Conn()); err != nil {
			return nil, err
		}
	}
	out := make([]MigrationStatus, len(all))
	for i, m := range all {
		out[i].Migration = m
		if a, ok := applied[m.Version]; ok {
			at := a.at
			out[i].AppliedAt = &at
			out[i].Modified = a.checksum != m.Checksum
		}
	}
	return out, nil
}

// MigrationsCurrent reports whether every embedded migration is applied.
func MigrationsCurrent(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	st, err := MigrationsStatus(ctx, pool)
	if err != nil {
		return false, err
	}
	for _, m := range st {
		if m.AppliedAt == nil {
			return false, nil
		}
	}
	return true, nil
}
