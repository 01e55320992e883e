package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestMergeAccounts(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	target, err := s.Accounts().Create(ctx, patch(t, `{"name":"ПАО Сбербанк","inn":"7707083893","kpp":"773601001","external_ids":{"onec":"A"}}`))
	require.NoError(t, err)
	dup, err := s.Accounts().Create(ctx, patch(t, `{"name":"Сбербанк","phone":"+7 495 500-55-50","website":"sberbank.ru","external_ids":{"onec":"B","bitrix":"7"}}`))
	require.NoError(t, err)
	c, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Иванов","account_id":"`+dup.ID+`"}`))
	require.NoError(t, err)
	d, err := s.Deals().Create(ctx, patch(t, `{"name":"Кредит","account_id":"`+dup.ID+`","contact_id":"`+c.ID+`"}`))
	require.NoError(t, err)
	start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	a, err := s.Activities().Create(ctx, patch(t, `{"kind":"call","subject":"Звонок","start_at":"`+start+`","end_at":"`+start+`","account_id":"`+dup.ID+`"}`))
	require.NoError(t, err)

	got, err := s.Merge(ctx, core.EntityAccount, target.ID, dup.ID)
	require.NoError(t, err)
	m := got.(*core.Account)
	require.Equal(t, "ПАО Сбербанк", m.Name, "the target keeps its values")
	require.Equal(t, "+74955005550", m.Phone, "and takes the duplicate's where it has none")
	require.Equal(t, "sberbank.ru", m.Website)
	require.Equal(t, map[string]string{"onec": "A", "bitrix": "7"}, m.ExternalIDs)

	cc, err := s.Contacts().Get(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, target.ID, *cc.AccountID)
	dd, err := s.Deals().Get(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, target.ID, *dd.AccountID)
	aa, err := s.Activities().Get(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, target.ID, *aa.AccountID)

	_, err = s.Accounts().Get(ctx, dup.ID)
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err), "the duplicate is retired")
	h, err := s.History(ctx, core.EntityAccount, dup.ID)
	require.NoError(t, err)
	last := h[len(h)-1]
	require.Equal(t, "account.merged", last.Type)
	require.Equal(t, core.FieldChange{Field: "merged_into", From: nil, To: target.ID}, last.Changes[0])

	_, err = s.Merge(ctx, core.EntityAccount, target.ID, target.ID)
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	_, err = s.Merge(ctx, core.EntityAccount, target.ID, dup.ID)
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err), "a retired duplicate cannot be merged again")
}

func TestMergeIsAtomic(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	// An ИП's ИНН on the target; the duplicate brings a КПП, which an ИП
	// cannot have: the merge fails as a whole.
	target, err := s.Accounts().Create(ctx, patch(t, `{"name":"ИП Иванов","inn":"500100732259"}`))
	require.NoError(t, err)
	dup, err := s.Accounts().Create(ctx, patch(t, `{"name":"Иванов","kpp":"773601001"}`))
	require.NoError(t, err)
	_, err = s.Contacts().Create(ctx, patch(t, `{"last_name":"Иванов","account_id":"`+dup.ID+`"}`))
	require.NoError(t, err)
	before := count(t, s, "SELECT count(*) FROM outbox")
	_, err = s.Merge(ctx, core.EntityAccount, target.ID, dup.ID)
	require.Equal(t, map[string]string{"merged.kpp": "not_allowed"}, fieldCodes(err))
	require.Equal(t, before, count(t, s, "SELECT count(*) FROM outbox"))
	require.Equal(t, 1, count(t, s, "SELECT count(*) FROM contacts WHERE account_id = '"+dup.ID+"'"))
}
