package objectstore_test

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/objectstore"
)

// TestPutMemory measures what a Put of 20 MiB from a generator holds and
// allocates, with 5 MiB parts. It does not run in parallel: the figures
// are the process's.
func TestPutMemory(t *testing.T) {
	store, _ := setup(t, objectstore.Config{PartSize: objectstore.MinPartSize})
	const size = 20 * mib
	key := uuid.NewString()
	src := io.LimitReader(rand.NewChaCha8([32]byte{7}), size)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := sampleHeap()
	n, err := store.Put(t.Context(), key, src)
	peak := stop()
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.EqualValues(t, size, n)

	alloc := after.TotalAlloc - before.TotalAlloc
	grown := int64(peak) - int64(before.HeapInuse)
	t.Logf("Put of 20 MiB with 5 MiB parts: allocated %.1f MiB in all, heap in use grew by %.1f MiB at most (sampled)",
		float64(alloc)/mib, float64(grown)/mib)
	require.Less(t, alloc, uint64(size/2), "Put allocates about one part, not the file")
	require.Less(t, grown, int64(size/2), "Put holds about one part, not the file")

	blob, err := store.Open(t.Context(), key, size)
	require.NoError(t, err)
	want := sha256.New()
	_, _ = io.Copy(want, io.LimitReader(rand.NewChaCha8([32]byte{7}), size))
	got := sha256.Sum256(readAll(t, blob, size))
	require.Equal(t, want.Sum(nil), got[:], "the bytes read back differ")
}

// sampleHeap samples the heap in use every millisecond until stop, which
// returns the most seen.
func sampleHeap() (stop func() uint64) {
	done := make(chan struct{})
	most := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				most <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-most
	}
}
