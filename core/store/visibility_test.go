package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// A manager's list is the union of their own records, their team's and
// the ones shared with them, run as one branch each: every page is in
// the list's order, a record reached three ways appears once, and the
// cursor walks through all of them.
func TestListOfWhatAManagerSees(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	user := func(name string) string {
		u, err := s.Users().Create(ctx, patch(t, fmt.Sprintf(`{"name":%q}`, name)))
		require.NoError(t, err)
		return u.ID
	}
	me, colleague, stranger := user("Менеджер"), user("Коллега"), user("Посторонний")
	team, err := s.Teams().Create(ctx, patch(t, fmt.Sprintf(`{"name":"Север","member_ids":[%q]}`, me)))
	require.NoError(t, err)

	var visible, mine []string // mine: what a head over the colleague sees
	contact := func(name, owner string, inTeam, shared, seen bool) {
		js := fmt.Sprintf(`{"last_name":%q,"owner_id":%q`, name, owner)
		if inTeam {
			js += fmt.Sprintf(`,"team_id":%q`, team.ID)
		}
		c, err := s.Contacts().Create(ctx, patch(t, js+"}"))
		require.NoError(t, err)
		if shared {
			_, err := s.AddShare(ctx, core.EntityContact, c.ID, core.ShareInput{UserID: me, Access: "read"})
			require.NoError(t, err)
		}
		if seen {
			visible = append(visible, c.ID)
		}
		if owner != stranger {
			mine = append(mine, c.ID)
		}
	}
	for i := range 3 {
		contact(fmt.Sprintf("Свой %d", i), me, false, false, true)
		contact(fmt.Sprintf("Командный %d", i), colleague, true, false, true)
		contact(fmt.Sprintf("Чужой %d", i), colleague, false, false, false)
	}
	contact("Общий", colleague, false, true, true)
	contact("Трижды", me, true, true, true)
	contact("Посторонний", stranger, false, false, false)
	contact("Посторонний в команде", stranger, true, false, true)
	mine = append(mine, visible[len(visible)-1])

	acc, err := s.Access(ctx, me, core.ScopeWrite)
	require.NoError(t, err)
	as := core.NewContextWithAccess(ctx, acc)
	walk := func(sort core.Sort) []string {
		return walkAs(as, t, s, sort)
	}
	// Record ids are UUIDv7, so creation order is id order.
	require.Equal(t, visible, walk(core.Sort{Field: "created_at"}))
	desc := slices.Clone(visible)
	slices.Reverse(desc)
	require.Equal(t, desc, walk(core.Sort{Field: "created_at", Desc: true}))

	byName := walk(core.Sort{Field: "last_name"})
	require.ElementsMatch(t, visible, byName)
	requireByName(as, t, s, byName)

	// A head over the colleague: several owners, each one's page from
	// the owner index, merged.
	head := *acc
	head.Rights = core.Rights{core.EntityContact: {core.ActView: core.LevelSubordinates}}
	head.Subordinates = []string{colleague}
	as = core.NewContextWithAccess(ctx, &head)
	require.Equal(t, mine, walkAs(as, t, s, core.Sort{Field: "created_at"}))
	desc = slices.Clone(mine)
	slices.Reverse(desc)
	require.Equal(t, desc, walkAs(as, t, s, core.Sort{Field: "created_at", Desc: true}))
	byName = walkAs(as, t, s, core.Sort{Field: "last_name"})
	require.ElementsMatch(t, mine, byName)
	requireByName(as, t, s, byName)

	// A user who sees nothing lists nothing.
	none := *acc
	none.Rights = core.Rights{}
	page, err := s.Contacts().List(core.NewContextWithAccess(ctx, &none), core.ContactFilter{ListParams: core.ListParams{
		Sort: core.Sort{Field: "created_at"}, Limit: 50}})
	require.NoError(t, err)
	require.Empty(t, page.Items)
}

// walkAs lists contacts two at a time as ctx's user, following the
// cursor to the end, and returns the ids in the order listed.
func walkAs(ctx context.Context, t *testing.T, s *store.Store, sort core.Sort) []string {
	t.Helper()
	var ids []string
	p := core.ListParams{Sort: sort, Limit: 2}
	for range 30 {
		page, err := s.Contacts().List(ctx, core.ContactFilter{ListParams: p})
		require.NoError(t, err)
		for _, c := range page.Items {
			ids = append(ids, c.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		p.Cursor = page.NextCursor
	}
	t.Fatal("the cursor never ended")
	return nil
}

// requireByName checks that the contacts ids are in last-name order.
func requireByName(ctx context.Context, t *testing.T, s *store.Store, ids []string) {
	t.Helper()
	var names []string
	for _, id := range ids {
		c, err := s.Contacts().Get(ctx, id)
		require.NoError(t, err)
		names = append(names, c.LastName)
	}
	require.True(t, slices.IsSorted(names), names)
}
