package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	admin, created, err := s.EnsureAdmin(context.Background(), "Someone else")
	require.NoError(t, err)
	require.False(t, created, "the first administrator exists already")
	require.True(t, admin.IsAdmin)
	require.Equal(t, "Administrator", admin.Name)

	u, err := s.Users().Create(ctx, patch(t, `{"name":"Пётр","email":"Petr@Example.ru","phone_extensions":["101"," 102 ","101"]}`))
	require.NoError(t, err)
	require.True(t, u.Active)
	require.Equal(t, "petr@example.ru", u.Email)
	require.Equal(t, []string{"101", "102"}, u.PhoneExtensions)
	require.Empty(t, u.OwnerID, "users have no owner")
	require.Equal(t, "user.created", events(t, s, u.ID)[0].Type)

	_, err = s.Users().Create(ctx, patch(t, `{"name":"Анна","phone_extensions":["102"]}`))
	require.Equal(t, map[string]string{"phone_extensions": "taken"}, fieldCodes(err))
	_, err = s.Users().Create(ctx, patch(t, `{"name":"Анна","email":"PETR@example.ru"}`))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "one e-mail, one user")
	_, err = s.Users().Create(ctx, patch(t, `{"name":"Анна","phone_extensions":["1"]}`))
	require.Equal(t, map[string]string{"phone_extensions": "invalid_extension"}, fieldCodes(err))
	_, err = s.Users().Create(ctx, patch(t, `{"name":"Анна","owner_id":"`+admin.ID+`"}`))
	require.Equal(t, map[string]string{"owner_id": "unknown_field"}, fieldCodes(err))

	// An inactive user's extensions are free for someone else.
	u, err = s.Users().Update(ctx, u.ID, 0, patch(t, `{"active":false}`))
	require.NoError(t, err)
	require.False(t, u.Active)
	anna, err := s.Users().Create(ctx, patch(t, `{"name":"Анна","phone_extensions":["102"]}`))
	require.NoError(t, err)

	p, err := s.Users().List(ctx, core.UserFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "name"}, Limit: 10}, Extension: "102"})
	require.NoError(t, err)
	require.Len(t, p.Items, 2)
	active := true
	p, err = s.Users().List(ctx, core.UserFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "name"}, Limit: 10}, Extension: "102", Active: &active})
	require.NoError(t, err)
	require.Equal(t, anna.ID, p.Items[0].ID)

	require.Equal(t, core.ECONFLICT, core.ErrorCode(s.Users().Delete(ctx, anna.ID, 0)), "users are deactivated, not deleted")

	// Records created by a key's user belong to that user.
	l, err := s.Leads().Create(core.NewContextWithActor(ctx, core.Actor{ID: "k", Source: "api", UserID: anna.ID}),
		patch(t, `{"last_name":"X","company":"Y"}`))
	require.NoError(t, err)
	require.Equal(t, anna.ID, l.OwnerID)
}
