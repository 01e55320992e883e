package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func convReq(t *testing.T, account, contact, deal string) core.ConvertRequest {
	t.Helper()
	var r core.ConvertRequest
	if account != "" {
		r.Account = patch(t, account)
	}
	if contact != "" {
		r.Contact = patch(t, contact)
	}
	if deal != "" {
		r.Deal = patch(t, deal)
	}
	return r
}

func TestConvertNewAccountWithDeal(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	lead, err := s.Leads().Create(ctx, patch(t, `{"first_name":"Иван","last_name":"Петров","company":"ООО «Ромашка»","title":"Директор",
		"phone":"8 912 345-67-89","email":"ivan@romashka.ru","source":"web_site","address":{"city":"Тула","state":"Тульская обл."}}`))
	require.NoError(t, err)
	start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	act, err := s.Activities().Create(ctx, patch(t, `{"kind":"call","subject":"Первый звонок","start_at":"`+start+`","end_at":"`+start+`","lead_id":"`+lead.ID+`"}`))
	require.NoError(t, err)
	before := count(t, s, "SELECT count(*) FROM outbox")

	res, err := s.Convert(ctx, lead.ID, convReq(t, "", "", `{"amount":"250000","stage":"qualification"}`))
	require.NoError(t, err)
	require.False(t, res.AccountReused)
	require.Equal(t, "ООО «Ромашка»", res.Account.Name)
	require.Equal(t, "+79123456789", res.Account.Phone)
	require.Equal(t, "Тула", res.Account.ActualAddress.City)
	require.Equal(t, "Тульская обл.", res.Account.ActualAddress.Region)
	require.Equal(t, "Петров", res.Contact.LastName)
	require.Equal(t, "Директор", res.Contact.Title)
	require.Equal(t, res.Account.ID, *res.Contact.AccountID)
	require.NotNil(t, res.Deal)
	require.Equal(t, "ООО «Ромашка»", res.Deal.Name)
	require.Equal(t, "qualification", res.Deal.Stage)
	require.Equal(t, "web_site", res.Deal.Source)
	require.Equal(t, lead.ID, *res.Deal.LeadID)
	require.Equal(t, res.Contact.ID, *res.Deal.ContactID)
	require.Equal(t, []string{act.ID}, res.Relinked)
	require.True(t, res.Lead.Converted)
	require.Equal(t, res.Deal.ID, *res.Lead.ConvertedDealID)

	a, err := s.Activities().Get(ctx, act.ID)
	require.NoError(t, err)
	require.Equal(t, res.Account.ID, *a.AccountID)
	require.Equal(t, res.Contact.ID, *a.ContactID)
	require.Equal(t, lead.ID, *a.LeadID, "the lead keeps its history")

	// Events: account, contact, deal created; activity and lead updated.
	var types []string
	rows, err := s.Pool().Query(ctx, "SELECT type FROM outbox ORDER BY seq OFFSET $1", before)
	require.NoError(t, err)
	for rows.Next() {
		var ty string
		require.NoError(t, rows.Scan(&ty))
		types = append(types, ty)
	}
	require.Equal(t, []string{"account.created", "contact.created", "deal.created", "activity.updated", "lead.updated"}, types)
	require.Contains(t, events(t, s, lead.ID)[1].Changed, "converted")

	// The converted lead is read-only and stays.
	_, err = s.Leads().Update(ctx, lead.ID, 0, patch(t, `{"title":"X"}`))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(s.Leads().Delete(ctx, lead.ID, 0)))

	// A repeat returns the same result and creates nothing; another request conflicts.
	n := count(t, s, "SELECT count(*) FROM outbox")
	again, err := s.Convert(ctx, lead.ID, convReq(t, "", "", `{"stage":"qualification","amount":"250000"}`))
	require.NoError(t, err)
	require.True(t, again.Replayed)
	require.Equal(t, res.Deal.ID, again.Deal.ID)
	require.Equal(t, res.Contact.ID, again.Contact.ID)
	require.Equal(t, n, count(t, s, "SELECT count(*) FROM outbox"))
	_, err = s.Convert(ctx, lead.ID, core.ConvertRequest{})
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "converted into something else before")
}

func TestConvertReusesAccounts(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	byINN, err := s.Accounts().Create(ctx, patch(t, `{"name":"ПАО Сбербанк России","inn":"7707083893","kpp":"773601001"}`))
	require.NoError(t, err)
	byName, err := s.Accounts().Create(ctx, patch(t, `{"name":"ООО  «Ромашка» "}`))
	require.NoError(t, err)

	lead := func(company string) string {
		l, err := s.Leads().Create(ctx, patch(t, `{"last_name":"Петров","company":"`+company+`"}`))
		require.NoError(t, err)
		return l.ID
	}
	// By ИНН, even under another name.
	res, err := s.Convert(ctx, lead("Сбер"), convReq(t, `{"inn":"7707 083 893"}`, "", ""))
	require.NoError(t, err)
	require.True(t, res.AccountReused)
	require.Equal(t, byINN.ID, res.Account.ID)
	require.Nil(t, res.Deal)

	// By the normalized name: case, spaces and quotes do not matter.
	res, err = s.Convert(ctx, lead(`ооо \"Ромашка\"`), core.ConvertRequest{})
	require.NoError(t, err)
	require.True(t, res.AccountReused)
	require.Equal(t, byName.ID, res.Account.ID)

	// An explicit account.
	res, err = s.Convert(ctx, lead("Anything"), convReq(t, `{"id":"`+byINN.ID+`"}`, `{"title":"Бухгалтер"}`, ""))
	require.NoError(t, err)
	require.Equal(t, byINN.ID, res.Account.ID)
	require.Equal(t, "Бухгалтер", res.Contact.Title)

	accounts := count(t, s, "SELECT count(*) FROM accounts")
	require.Equal(t, 2, accounts, "no account was created")
}

func TestConvertIsAtomic(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	l, err := s.Leads().Create(ctx, patch(t, `{"last_name":"Петров","company":"ООО Новая"}`))
	require.NoError(t, err)
	before := count(t, s, "SELECT count(*) FROM outbox")

	// The deal fails after the account and contact were created in the transaction.
	_, err = s.Convert(ctx, l.ID, convReq(t, "", "", `{"stage":"no_such_stage"}`))
	require.Equal(t, map[string]string{"deal.stage": "invalid_choice"}, fieldCodes(err))
	_, err = s.Convert(ctx, l.ID, convReq(t, `{"inn":"7707083894"}`, "", ""))
	require.Equal(t, map[string]string{"account.inn": "invalid_inn"}, fieldCodes(err))
	require.Equal(t, 0, count(t, s, "SELECT count(*) FROM accounts"))
	require.Equal(t, 0, count(t, s, "SELECT count(*) FROM contacts"))
	require.Equal(t, before, count(t, s, "SELECT count(*) FROM outbox"))
	got, err := s.Leads().Get(ctx, l.ID)
	require.NoError(t, err)
	require.False(t, got.Converted)

	_, err = s.Convert(ctx, "0190a5c0-0000-7000-8000-000000000000", core.ConvertRequest{})
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
}
