package api

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// A record's notes, files and timeline are not records of its kind: its
// field rules do not strip their members (an activity's hidden kind would
// take every timeline item's kind).
func TestRouteEntity(t *testing.T) {
	t.Parallel()
	require.Equal(t, core.EntityActivity, routeEntity("/api/v1/activities/0190a5c0-0000-7000-8000-000000000000"))
	require.Equal(t, core.EntityDeal, routeEntity("/api/v1/deals"))
	require.Equal(t, core.EntityDeal, routeEntity("/api/v1/deals/0190a5c0-0000-7000-8000-000000000000/history"))
	for _, sub := range []string{"timeline", "notes", "attachments"} {
		require.Empty(t, routeEntity("/api/v1/activities/0190a5c0-0000-7000-8000-000000000000/"+sub), sub)
	}
	require.Empty(t, routeEntity("/healthz"))
}
