package core_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestPatchOf(t *testing.T) {
	t.Parallel()
	t.Run("MarshalsEachMember", func(t *testing.T) {
		t.Parallel()
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		p := core.PatchOf(map[string]any{"name": "Иван", "active": true, "tags": []string{"a"}, "at": at,
			"raw": json.RawMessage(`{"x": 1}`)})
		require.Equal(t, core.Patch{"name": json.RawMessage(`"Иван"`), "active": json.RawMessage(`true`),
			"tags": json.RawMessage(`["a"]`), "at": json.RawMessage(`"2026-03-01T10:00:00Z"`),
			"raw": json.RawMessage(`{"x":1}`)}, p)
	})
	t.Run("SetAddsAndReplaces", func(t *testing.T) {
		t.Parallel()
		p := core.PatchOf(map[string]any{"name": "a"}).Set("name", "b").Set("owner_id", nil)
		require.Equal(t, core.Patch{"name": json.RawMessage(`"b"`), "owner_id": json.RawMessage(`null`)}, p)
	})
	t.Run("PanicsOnAValueThatDoesNotEncode", func(t *testing.T) {
		t.Parallel()
		require.PanicsWithValue(t, "core: patch member amount: json: unsupported value: NaN", func() {
			core.PatchOf(map[string]any{"amount": math.NaN()})
		})
	})
}
