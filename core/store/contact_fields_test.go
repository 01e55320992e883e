package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestContactFields(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	boss, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Петров"}`))
	require.NoError(t, err)

	t.Run("RoundTrip", func(t *testing.T) {
		c, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Иванов","birthday":"1980-03-15","home_phone":"8 495 111-22-33",
			"fax":"8 (495) 111-22-34","assistant":" Мария ","assistant_phone":"8 912 000 00 01","reports_to_id":"`+boss.ID+`",
			"address":{"city":"Москва"},"other_address":{"city":"Тула","street":"пр. Мира, 2"}}`))
		require.NoError(t, err)
		got, err := s.Contacts().Get(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, "1980-03-15", got.Birthday.String())
		require.Equal(t, []string{"+74951112233", "+74951112234", "Мария", "+79120000001"},
			[]string{got.HomePhone, got.Fax, got.Assistant, got.AssistantPhone})
		require.Equal(t, boss.ID, *got.ReportsToID)
		require.Equal(t, core.Address{City: "Москва"}, got.Address)
		require.Equal(t, core.Address{City: "Тула", Street: "пр. Мира, 2"}, got.OtherAddress)
		ev := events(t, s, c.ID)
		require.Equal(t, "1980-03-15", ev[0].Data["birthday"])
		require.Equal(t, boss.ID, ev[0].Data["reports_to_id"])

		got, err = s.Contacts().Update(ctx, c.ID, 0, patch(t, `{"birthday":null,"reports_to_id":null,"other_address":{"city":"Орёл"}}`))
		require.NoError(t, err)
		require.True(t, got.Birthday.IsZero())
		require.Nil(t, got.ReportsToID)
		require.Equal(t, core.Address{City: "Орёл", Street: "пр. Мира, 2"}, got.OtherAddress, "a merge patch of the address")
		got, err = s.Contacts().Get(ctx, c.ID)
		require.NoError(t, err)
		require.True(t, got.Birthday.IsZero(), "stored as NULL")
	})

	t.Run("ReportsToMustExist", func(t *testing.T) {
		_, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Сидоров","reports_to_id":"0190a5c0-0000-7000-8000-000000000000"}`))
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
		require.Equal(t, "reports_to_id", core.ErrorFields(err)[0].Field)

		gone, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Уволенный"}`))
		require.NoError(t, err)
		require.NoError(t, s.Contacts().Delete(ctx, gone.ID, 0))
		_, err = s.Contacts().Create(ctx, patch(t, `{"last_name":"Сидоров","reports_to_id":"`+gone.ID+`"}`))
		require.Equal(t, core.EINVALID, core.ErrorCode(err), "a deleted contact is no manager")
	})

	t.Run("NotToItself", func(t *testing.T) {
		_, err := s.Contacts().Update(ctx, boss.ID, 0, patch(t, `{"reports_to_id":"`+boss.ID+`"}`))
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
		require.Equal(t, []core.FieldError{{Field: "reports_to_id", Code: "self_reference", Message: "a contact cannot report to itself"}},
			core.ErrorFields(err))
	})

	t.Run("InvalidValues", func(t *testing.T) {
		_, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Сидоров","birthday":"15.03.1980","home_phone":"12"}`))
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
		var fields []string
		for _, f := range core.ErrorFields(err) {
			fields = append(fields, f.Field)
		}
		require.Equal(t, []string{"birthday", "home_phone"}, fields)
	})
}
