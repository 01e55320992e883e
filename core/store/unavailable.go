package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmhub/crmhub/core"
)

// RetryAfter is how long a client is told to wait while PostgreSQL is out
// of reach: about what a restart of the embedded cluster takes.
const RetryAfter = 5 * time.Second

// unreachable reports whether err means that PostgreSQL could not be
// reached or went away: a failed connect (hence a failed pool acquire; the
// server refusing it too, starting up or out of connection slots), a broken
// connection, or the server ending it as it shuts down or after a crash
// (SQLSTATE class 08, 57P01, 57P02, 57P03, 53300).
func unreachable(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true // whatever the server said: not accepting us now
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller gave up (context errors look like net.Error)
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// unavailable turns a failure to reach PostgreSQL into an EUNAVAILABLE error
// that tells clients to retry after RetryAfter (the cause stays in the
// chain, for the logs); other errors pass unchanged. Every error the store
// gets from PostgreSQL goes through it: the pool and the transactions the
// store hands out are guarded, and translate calls it.
func unavailable(err error) error {
	if err == nil || !unreachable(err) || core.ErrorCode(err) == core.EUNAVAILABLE {
		return err
	}
	return fmt.Errorf("%w: %w", &core.Error{Code: core.EUNAVAILABLE,
		Message: "the database is not reachable at the moment; retry shortly", RetryAfter: RetryAfter}, err)
}

// guarded is a dbtx (the pool) whose failures go through unavailable.
type guarded struct{ db dbtx }

func (g guarded) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := g.db.Exec(ctx, sql, args...)
	return tag, unavailable(err)
}

func (g guarded) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := g.db.Query(ctx, sql, args...)
	if err != nil {
		return rows, unavailable(err)
	}
	return guardedRows{rows}, nil
}

func (g guarded) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return guardedRow{g.db.QueryRow(ctx, sql, args...)}
}

func (g guarded) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return guardedBatch{g.db.SendBatch(ctx, b)}
}

func (g guarded) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := g.db.Begin(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	return guardedTx{tx}, nil
}

// guardedTx is a transaction whose failures go through unavailable.
type guardedTx struct{ pgx.Tx }

func (t guardedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := t.Tx.Begin(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	return guardedTx{tx}, nil
}

func (t guardedTx) Commit(ctx context.Context) error { return unavailable(t.Tx.Commit(ctx)) }

func (t guardedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.Tx.Exec(ctx, sql, args...)
	return tag, unavailable(err)
}

func (t guardedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := t.Tx.Query(ctx, sql, args...)
	if err != nil {
		return rows, unavailable(err)
	}
	return guardedRows{rows}, nil
}

func (t guardedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return guardedRow{t.Tx.QueryRow(ctx, sql, args...)}
}

func (t guardedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return guardedBatch{t.Tx.SendBatch(ctx, b)}
}

func (t guardedTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	n, err := t.Tx.CopyFrom(ctx, table, columns, src)
	return n, unavailable(err)
}

type guardedRow struct{ row pgx.Row }

func (r guardedRow) Scan(dest ...any) error { return unavailable(r.row.Scan(dest...)) }

type guardedRows struct{ pgx.Rows }

func (r guardedRows) Err() error { return unavailable(r.Rows.Err()) }

type guardedBatch struct{ pgx.BatchResults }

func (b guardedBatch) Exec() (pgconn.CommandTag, error) {
	tag, err := b.BatchResults.Exec()
	return tag, unavailable(err)
}

func (b guardedBatch) Query() (pgx.Rows, error) {
	rows, err := b.BatchResults.Query()
	if err != nil {
		return rows, unavailable(err)
	}
	return guardedRows{rows}, nil
}

func (b guardedBatch) QueryRow() pgx.Row { return guardedRow{b.BatchResults.QueryRow()} }

func (b guardedBatch) Close() error { return unavailable(b.BatchResults.Close()) }
