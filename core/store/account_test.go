package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// A real bank and company from the reference's worked examples.
const validAccount = `{"name":"ПАО Сбербанк","legal_form":"ПАО","inn":"7707083893","kpp":"773601001","ogrn":"1027700132195",
	"bank_name":"ПАО Сбербанк","bik":"044525225","correspondent_account":"30101810400000000225",
	"settlement_account":"40702810938000012345","phone":"8 (495) 500-55-50",
	"legal_address":{"postcode":"117312","city":"Москва","street":"ул. Вавилова","house":"19"}}`

func fieldCodes(err error) map[string]string {
	out := map[string]string{}
	for _, f := range core.ErrorFields(err) {
		out[f.Field] = f.Code
	}
	return out
}

func TestAccountRequisites(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	a, err := s.Accounts().Create(ctx, patch(t, validAccount))
	require.NoError(t, err)
	require.Equal(t, "customer", a.Type, "the default type")
	require.Equal(t, "+74955005550", a.Phone)
	require.Equal(t, "Москва", a.LegalAddress.City)
	ev := events(t, s, a.ID)
	require.Len(t, ev, 1)
	require.Equal(t, "account.created", ev[0].Type)
	require.Equal(t, "7707083893", ev[0].Data["inn"])

	got, err := s.Accounts().Get(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, a, got, "what is read back equals what was written")

	before := count(t, s, "SELECT count(*) FROM outbox")
	for _, tc := range []struct {
		body string
		want map[string]string
	}{
		{`{"name":"X","inn":"7707083894","kpp":"773601001"}`, map[string]string{"inn": "invalid_inn"}},
		{`{"name":"X","inn":"7707 083 893"}`, map[string]string{"kpp": "required"}},
		{`{"name":"ИП Иванов","inn":"500100732259","kpp":"773601001"}`, map[string]string{"kpp": "not_allowed"}},
		{`{"name":"ИП Иванов","inn":"500100732259","ogrn":"1027700132195"}`, map[string]string{"ogrn": "mismatch"}},
		{`{"name":"X","ogrn":"1027700132194"}`, map[string]string{"ogrn": "invalid_ogrn"}},
		{`{"name":"X","kpp":"7736ab001"}`, map[string]string{"kpp": "invalid_kpp"}},
		{`{"name":"X","bik":"044525225","settlement_account":"40702810938000012346"}`, map[string]string{"settlement_account": "invalid_check_digit"}},
		{`{"name":"X","bik":"044525225","correspondent_account":"30101810400000000226"}`, map[string]string{"correspondent_account": "invalid_check_digit"}},
		{`{"name":"X","settlement_account":"40702810938000012345"}`, map[string]string{"bik": "required"}},
		{`{"name":"X","type":"supplier"}`, map[string]string{"type": "invalid_choice"}},
		{`{"name":"X","external_ids":{"1C Ид":"x"}}`, map[string]string{"external_ids.1C Ид": "invalid_key"}},
		{`{"inn":"7707083893","kpp":"773601001"}`, map[string]string{"name": "required"}},
	} {
		_, err := s.Accounts().Create(ctx, patch(t, tc.body))
		require.Equal(t, core.EINVALID, core.ErrorCode(err), tc.body)
		require.Equal(t, tc.want, fieldCodes(err), tc.body)
	}
	require.Equal(t, before, count(t, s, "SELECT count(*) FROM outbox"), "nothing written")
}

func TestAccountExternalIDsAndFilters(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	a, err := s.Accounts().Create(ctx, patch(t, `{"name":"ООО Ромашка","type":"vendor","external_ids":{"onec":"8a1b-2c"}}`))
	require.NoError(t, err)
	_, err = s.Accounts().Create(ctx, patch(t, `{"name":"ООО Лютик","inn":"7707083893","kpp":"773601001"}`))
	require.NoError(t, err)

	a, err = s.Accounts().Update(ctx, a.ID, 0, patch(t, `{"external_ids":{"bitrix":"17"}}`))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"onec": "8a1b-2c", "bitrix": "17"}, a.ExternalIDs, "a merge patch adds")
	a, err = s.Accounts().Update(ctx, a.ID, 0, patch(t, `{"external_ids":{"bitrix":null}}`))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"onec": "8a1b-2c"}, a.ExternalIDs, "null removes")

	list := func(f core.AccountFilter) []string {
		f.Sort, f.Limit = core.Sort{Field: "name"}, 10
		p, err := s.Accounts().List(ctx, f)
		require.NoError(t, err)
		var names []string
		for _, a := range p.Items {
			names = append(names, a.Name)
		}
		return names
	}
	require.Equal(t, []string{"ООО Ромашка"}, list(core.AccountFilter{ExternalID: [2]string{"onec", "8a1b-2c"}}))
	require.Empty(t, list(core.AccountFilter{ExternalID: [2]string{"onec", "other"}}))
	require.Equal(t, []string{"ООО Лютик"}, list(core.AccountFilter{INN: "7707083893"}))
	require.Equal(t, []string{"ООО Ромашка"}, list(core.AccountFilter{Types: []string{"vendor"}}))
	require.Equal(t, []string{"ООО Лютик", "ООО Ромашка"}, list(core.AccountFilter{ListParams: core.ListParams{Query: "ооо"}}),
		"text search is case-insensitive in Cyrillic")
}

func TestContactLinks(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	acc, err := s.Accounts().Create(ctx, patch(t, `{"name":"ООО Ромашка"}`))
	require.NoError(t, err)
	c, err := s.Contacts().Create(ctx, patch(t, `{"first_name":"Иван","middle_name":"Петрович","last_name":"Сидоров","mobile":"+7 (912) 3456789","account_id":"`+acc.ID+`"}`))
	require.NoError(t, err)
	require.Equal(t, acc.ID, *c.AccountID)

	// Duplicates and lookups find the number in any format.
	p, err := s.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 5}, Phone: mustPhone(t, "8 912 345-67-89")})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	p, err = s.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "created_at"}, Limit: 5}, AccountID: acc.ID})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)

	before := count(t, s, "SELECT count(*) FROM outbox")
	_, err = s.Contacts().Create(ctx, patch(t, `{"last_name":"X","account_id":"0190a5c0-0000-7000-8000-000000000000"}`))
	require.Equal(t, map[string]string{"account_id": "not_found"}, fieldCodes(err))

	require.NoError(t, s.Accounts().Delete(ctx, acc.ID, 0))
	_, err = s.Contacts().Create(ctx, patch(t, `{"last_name":"X","account_id":"`+acc.ID+`"}`))
	require.Equal(t, map[string]string{"account_id": "not_found"}, fieldCodes(err), "a deleted account cannot be linked")
	_, err = s.Contacts().Update(ctx, c.ID, 0, patch(t, `{"title":"Директор"}`))
	require.Equal(t, map[string]string{"account_id": "not_found"}, fieldCodes(err), "nor kept on a write")
	require.Equal(t, before+1, count(t, s, "SELECT count(*) FROM outbox"), "only the account's deletion was written")

	c, err = s.Contacts().Update(ctx, c.ID, 0, patch(t, `{"title":"Директор","account_id":null}`))
	require.NoError(t, err)
	require.Nil(t, c.AccountID)
	require.Equal(t, []string{"title", "account_id"}, events(t, s, c.ID)[1].Changed)
}

func mustPhone(t *testing.T, s string) string {
	t.Helper()
	p, ok := core.NormalizePhone(s)
	require.True(t, ok)
	return p
}
