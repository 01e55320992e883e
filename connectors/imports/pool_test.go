package imports_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// asKey is the context of a request made with an API key that has no user.
func asKey(id string) context.Context {
	return core.NewContextWithActor(context.Background(), core.Actor{ID: id, Source: "api"})
}

// meeting holds every job after its first batch until each job has applied
// one: were the jobs run one at a time, the first would wait in vain. The
// last to come sees them all as stored, all of them mid-way.
type meeting struct {
	core.ImportService
	st   *store.Store
	jobs int

	mu      sync.Mutex
	started map[string]bool
	met     chan struct{}
	seen    []*core.Import // the jobs as stored when they met
}

func (m *meeting) ApplyImportRows(ctx context.Context, id string, rows []core.ImportRow, lease time.Duration) error {
	if err := m.ImportService.ApplyImportRows(ctx, id, rows, lease); err != nil {
		return err
	}
	m.mu.Lock()
	first := !m.started[id]
	m.started[id] = true
	var all []string
	if first && len(m.started) == m.jobs {
		for job := range m.started {
			all = append(all, job)
		}
	}
	m.mu.Unlock()
	switch {
	case !first:
		return nil
	case all != nil: // the others wait in their first batch
		for _, job := range all {
			im, err := m.st.GetImport(ctx, job)
			if err != nil {
				return err
			}
			m.mu.Lock()
			m.seen = append(m.seen, im)
			m.mu.Unlock()
		}
		close(m.met)
		return nil
	}
	select {
	case <-m.met:
		return nil
	case <-time.After(time.Minute):
		return errors.New("no other import made progress while this one was running")
	}
}

// waitDone waits until the jobs have ended and returns them.
func waitDone(t *testing.T, st *store.Store, ids ...string) []*core.Import {
	t.Helper()
	out := make([]*core.Import, len(ids))
	require.Eventually(t, func() bool {
		for i, id := range ids {
			im, err := st.GetImport(context.Background(), id)
			require.NoError(t, err)
			if im.Status != "done" && im.Status != "failed" {
				return false
			}
			out[i] = im
		}
		return true
	}, 2*time.Minute, 20*time.Millisecond)
	return out
}

func TestImportsOfDifferentKeysRunSideBySide(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	var ids []string
	for _, key := range []string{"key-a", "key-b"} {
		im, err := st.CreateImport(asKey(key), core.ImportOptions{Entity: core.EntityLead}, key+".xlsx", book(t, leadRows(10, key+".ru")...))
		require.NoError(t, err)
		ids = append(ids, im.ID)
	}
	m := &meeting{ImportService: st, st: st, jobs: 2, started: map[string]bool{}, met: make(chan struct{})}
	r := imports.New(imports.Config{BatchSize: 2, Workers: 2}, m)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	r.Wake()

	for _, im := range waitDone(t, st, ids...) {
		require.Equal(t, "done", im.Status, im.Error)
		require.EqualValues(t, 10, im.Created)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Len(t, m.seen, 2)
	for _, im := range m.seen {
		require.Equal(t, "running", im.Status, "both jobs were running at once")
		require.Positive(t, im.RowsDone, "both had committed rows")
		require.Less(t, im.RowsDone, int64(10), "neither had finished")
	}
}

func TestImportsOfOneKeyRunInOrder(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	first, err := st.CreateImport(asKey("key-a"), core.ImportOptions{Entity: core.EntityLead}, "1.xlsx", book(t, leadRows(4)...))
	require.NoError(t, err)
	second, err := st.CreateImport(asKey("key-a"), core.ImportOptions{Entity: core.EntityLead}, "2.xlsx", book(t, leadRows(4)...))
	require.NoError(t, err)
	other, err := st.CreateImport(asKey("key-b"), core.ImportOptions{Entity: core.EntityLead}, "3.xlsx", book(t, leadRows(4)...))
	require.NoError(t, err)

	im, _, err := st.ClaimImport(ctx, "", time.Minute)
	require.NoError(t, err)
	require.Equal(t, first.ID, im.ID, "the oldest job first")
	im, _, err = st.ClaimImport(ctx, "", time.Minute)
	require.NoError(t, err)
	require.Equal(t, other.ID, im.ID, "key-a's second job waits for its first; key-b's goes ahead")
	im, _, err = st.ClaimImport(ctx, "", time.Minute)
	require.NoError(t, err)
	require.Nil(t, im, "nothing else may run")

	require.NoError(t, st.FinishImport(ctx, first.ID, ""))
	im, _, err = st.ClaimImport(ctx, "", time.Minute)
	require.NoError(t, err)
	require.Equal(t, second.ID, im.ID, "then key-a's second")
}
