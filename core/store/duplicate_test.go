package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestDuplicates(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	c, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Иванов","mobile":"+7 (912) 3456789","email":"ivan@example.ru"}`))
	require.NoError(t, err)
	a, err := s.Accounts().Create(ctx, patch(t, `{"name":"ПАО Сбербанк","inn":"7707083893","kpp":"773601001","phone":"8 912 345 67 89"}`))
	require.NoError(t, err)

	phone := mustPhone(t, "8 912 345-67-89")
	m, err := s.Duplicates(ctx, core.DuplicateKeys{Phones: []string{phone}})
	require.NoError(t, err)
	require.ElementsMatch(t, []core.DuplicateMatch{
		{Entity: "contact", ID: c.ID, Title: "Иванов", MatchedOn: []string{"phone"}, OwnerID: c.OwnerID},
		{Entity: "account", ID: a.ID, Title: "ПАО Сбербанк", MatchedOn: []string{"phone"}, OwnerID: a.OwnerID},
	}, m)
	m, err = s.Duplicates(ctx, core.DuplicateKeys{Emails: []string{"ivan@example.ru"}, INN: "7707083893"})
	require.NoError(t, err)
	require.Len(t, m, 2)

	// Policies by source.
	s.SetDuplicatePolicy(core.DuplicatePolicy{Default: core.DupCreate,
		Sources: map[string]string{"webform": core.DupReject, "telephony": core.DupMerge}})
	web := core.NewContextWithActor(context.Background(), core.Actor{ID: "form-1", Source: "webform"})
	before := count(t, s, "SELECT count(*) FROM outbox")
	_, err = s.Leads().Create(web, patch(t, `{"last_name":"Иванов","company":"X","phone":"89123456789"}`))
	var dup *core.DuplicatesError
	require.ErrorAs(t, err, &dup)
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err))
	require.Len(t, dup.Matches, 2)
	require.Equal(t, before, count(t, s, "SELECT count(*) FROM outbox"))

	pbx := core.NewContextWithActor(context.Background(), core.Actor{ID: "mango", Source: "telephony:mango"})
	got, err := s.Contacts().Create(pbx, patch(t, `{"last_name":"Звонивший","mobile":"+79123456789"}`))
	require.NoError(t, err)
	require.Equal(t, c.ID, got.ID, "merge: the existing contact stands for the new one")
	require.Equal(t, before, count(t, s, "SELECT count(*) FROM outbox"))
	l, err := s.Leads().Create(pbx, patch(t, `{"last_name":"Звонивший","company":"?","phone":"+79123456789"}`))
	require.NoError(t, err, "merge with no lead to attach to creates one")
	require.NotEqual(t, c.ID, l.ID)

	_, err = s.Leads().Create(ctx, patch(t, `{"last_name":"Иванов","company":"X","phone":"89123456789"}`))
	require.NoError(t, err, "api keeps the default: create")

	// Converting that lead is not blocked by the lead itself or its twin.
	s.SetDuplicatePolicy(core.DuplicatePolicy{Default: core.DupReject})
	_, err = s.Convert(ctx, l.ID, core.ConvertRequest{})
	require.NoError(t, err)
}
