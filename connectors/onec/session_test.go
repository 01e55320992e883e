package onec_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// sessionDirs lists the session folders in the work folder.
func sessionDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) == 32 {
			out = append(out, e.Name())
		}
	}
	return out
}

// run runs the exchange's sweeper until the test ends.
func runSweeper(t *testing.T, x *onec.Exchange) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = x.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func TestSessionFolderGoesWhenTheExchangeCompletes(t *testing.T) {
	st := storetest.NewStore(t)
	work := t.TempDir()
	x := newExchange(t, st, func(c *onec.Config) { c.WorkDir, c.ImportWait = work, 50*time.Millisecond })
	imp, err := os.ReadFile("testdata/import0_1.xml")
	require.NoError(t, err)

	t.Run("AfterItsImportEnded", func(t *testing.T) {
		c := login(t, x)
		require.Equal(t, "success", c.importFile("import0_1.xml", imp)[0])
		require.Len(t, sessionDirs(t, work), 1, "kept while 1C may import more")
		require.Equal(t, []string{"success", "ok"}, c.do("GET", "type=catalog&mode=complete", nil))
		// The import answered "success" a moment before its job marked
		// itself ended: the folder goes at once or when it has.
		require.Eventually(t, func() bool { return len(sessionDirs(t, work)) == 0 }, 10*time.Second, 10*time.Millisecond)
		require.Equal(t, "failure", c.do("GET", "type=catalog&mode=init", nil)[0], "the session is over")
	})

	t.Run("OnlyOnceAnImportStillRunningEnds", func(t *testing.T) {
		// Hold the products table so that the import cannot finish.
		tx, err := st.Pool().Begin(context.Background())
		require.NoError(t, err)
		_, err = tx.Exec(context.Background(), `LOCK TABLE products IN ACCESS EXCLUSIVE MODE`)
		require.NoError(t, err)
		c := login(t, x)
		require.Equal(t, "success", c.do("POST", "type=catalog&mode=file&filename=again.xml", imp)[0])
		require.Equal(t, "progress", c.do("GET", "type=catalog&mode=import&filename=again.xml", nil)[0])
		require.Equal(t, "success", c.do("GET", "type=catalog&mode=complete", nil)[0])
		require.Len(t, sessionDirs(t, work), 1, "the running import keeps its files")
		require.NoError(t, tx.Rollback(context.Background()))
		require.Eventually(t, func() bool { return len(sessionDirs(t, work)) == 0 }, 20*time.Second, 20*time.Millisecond,
			"removed when the import ended")
	})
}

func TestIdleSessionsAndLeftoversAreSwept(t *testing.T) {
	st := storetest.NewStore(t)
	work := t.TempDir()
	// What a previous process left: a session folder, and files that are
	// not a session's.
	stale := filepath.Join(work, "0123456789abcdef0123456789abcdef")
	require.NoError(t, os.MkdirAll(filepath.Join(stale, "import_files"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(stale, "import.xml"), []byte("<x/>"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(work, "README"), []byte("mine"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(work, "keep"), 0o700))

	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	x := newExchange(t, st, func(c *onec.Config) {
		c.WorkDir, c.Now, c.SessionTTL, c.SweepEvery = work, clock, time.Hour, 10*time.Millisecond
	})
	runSweeper(t, x)

	t.Run("AtStartTheFoldersOfNoSessionGo", func(t *testing.T) {
		require.Eventually(t, func() bool { _, err := os.Stat(stale); return os.IsNotExist(err) }, 5*time.Second, 10*time.Millisecond)
		require.FileExists(t, filepath.Join(work, "README"))
		require.DirExists(t, filepath.Join(work, "keep"))
	})

	t.Run("AnIdleSessionExpiresWithItsFolder", func(t *testing.T) {
		idle, busy := login(t, x), login(t, x)
		for _, c := range []*client{idle, busy} {
			require.Equal(t, "success", c.do("POST", "type=catalog&mode=file&filename=import_files/a/b.jpg", []byte("jpg"))[0])
		}
		require.Len(t, sessionDirs(t, work), 2)
		mu.Lock()
		now = now.Add(40 * time.Minute)
		mu.Unlock()
		require.Equal(t, "success", busy.do("POST", "type=catalog&mode=file&filename=import_files/a/c.jpg", []byte("jpg"))[0])
		mu.Lock()
		now = now.Add(21 * time.Minute) // idle: 61 minutes; busy: 21
		mu.Unlock()
		require.Eventually(t, func() bool { return len(sessionDirs(t, work)) == 1 }, 5*time.Second, 10*time.Millisecond)
		require.Equal(t, "failure", idle.do("GET", "type=catalog&mode=init", nil)[0], "expired")
		require.Equal(t, "success", busy.do("POST", "type=catalog&mode=file&filename=x.xml", []byte("<x/>"))[0], "still going")
	})
}
