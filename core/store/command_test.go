package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// TestCommandAppliedOnceAcrossPartitions sends the same command in two
// batches at once (as if delivered to two partitions): one applies it, the
// other either sees it or fails and is retried one by one; it takes effect
// once either way.
func TestCommandAppliedOnceAcrossPartitions(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := context.Background()
	cmd := core.Command{ID: "dup-1", Type: core.CmdCreateLead, Source: "onec", Payload: []byte(`{"last_name":"Дубль","company":"C"}`)}
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pos := core.StreamPosition{Group: "g", Topic: "crm.commands", Partition: int32(p), Offset: 0}
			if n, err := s.ApplyCommands(ctx, []core.Command{cmd}, []core.StreamPosition{pos}); n == 0 || err != nil {
				_, err := s.ApplyCommand(ctx, cmd, pos) // what the consumer does next
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads WHERE last_name = 'Дубль'"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM inbound_commands WHERE id = 'dup-1'"))

	// A batch with the command twice, and one it has seen, applies nothing again.
	n, err := s.ApplyCommands(ctx, []core.Command{cmd, cmd}, []core.StreamPosition{{Group: "g", Topic: "t", Offset: 5}, {Group: "g", Topic: "t", Offset: 6}})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM leads WHERE last_name = 'Дубль'"))
	offsets, err := s.StreamOffsets(ctx, "g", "t")
	require.NoError(t, err)
	require.EqualValues(t, 7, offsets[0], "the position still moves past them")
}
