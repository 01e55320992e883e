package pgembed_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

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
