package pgembed_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core/pgembed"
)

func TestStartLockStopRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pgembed-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	cfg := pgembed.Config{Dir: filepath.Join(dir, "pg"), Port: 5491}

	srv, err := pgembed.Start(ctx, cfg)
	require.NoError(t, err)
	_, err = pgembed.Start(ctx, cfg)
	require.True(t, errors.Is(err, pgembed.ErrLocked), "a second manager of the same cluster is refused: %v", err)
	url, err := pgembed.Attach(cfg.Dir, cfg.Port, "")
	require.NoError(t, err)
	require.Equal(t, srv.URL(), url, "others attach to the running server")

	require.NoError(t, srv.Stop(ctx))
	require.NoError(t, srv.Stop(ctx), "Stop is idempotent")
	_, err = os.Stat(filepath.Join(cfg.Dir, "data", "postmaster.pid"))
	require.ErrorIs(t, err, os.ErrNotExist)

	srv, err = pgembed.Start(ctx, cfg) // restarts on the existing cluster
	require.NoError(t, err)
	require.NoError(t, srv.Stop(ctx))
}

func TestSocketPathTooLong(t *testing.T) {
	t.Parallel()
	_, err := pgembed.Start(context.Background(), pgembed.Config{Dir: "/tmp/" +
		"a-very-long-folder-name-that-goes-on-and-on-and-on-for-the-unix-socket-limit-of-about-one-hundred-bytes/pg"})
	require.ErrorContains(t, err, "too long for a Unix socket")
}

// logBuffer collects a logger's lines for the test to look into.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestKilledPostmasterIsRestarted kills the postmaster with SIGKILL while
// its data folder cannot be entered, so that restarts fail (and the server
// is seen down) until the folder is given back; then it comes back by
// itself, with what was committed before.
func TestKilledPostmasterIsRestarted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pgembed-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	var logs logBuffer
	// Durable: with synchronous_commit off, a killed server loses the
	// commits still in its WAL buffers.
	srv, err := pgembed.Start(ctx, pgembed.Config{Dir: filepath.Join(dir, "pg"), Port: 5492, Durable: true, RestartBackoff: 50 * time.Millisecond,
		MaxRestartBackoff: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(ctx) })
	require.True(t, srv.Up())
	conn, err := pgx.Connect(ctx, srv.URL())
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)`)
	require.NoError(t, err)
	conn.Close(ctx)

	data := filepath.Join(dir, "pg", "data")
	pid, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	require.NoError(t, err)
	var pgPid int
	_, err = fmt.Sscan(string(pid), &pgPid)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(data, 0o000))
	require.NoError(t, syscall.Kill(pgPid, syscall.SIGKILL))

	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "pg_restart_failed") }, time.Minute, 10*time.Millisecond,
		"restarts are tried while the folder is closed")
	require.False(t, srv.Up(), "down while it cannot start")
	require.Zero(t, srv.Restarts())
	require.Contains(t, logs.String(), "pg_exited")

	require.NoError(t, os.Chmod(data, 0o700))
	require.Eventually(t, srv.Up, time.Minute, 10*time.Millisecond, "back by itself")
	require.EqualValues(t, 1, srv.Restarts())
	require.Contains(t, logs.String(), "pg_restarted")
	conn, err = pgx.Connect(ctx, srv.URL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM kept`).Scan(&n))
	require.Equal(t, 1, n, "nothing committed was lost")

	require.NoError(t, srv.Stop(ctx))
	require.False(t, srv.Up())
}
