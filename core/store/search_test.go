package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestSearch(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	acc, err := s.Accounts().Create(ctx, patch(t, `{"name":"ООО «Северсталь-Инвест»","inn":"7707083893","kpp":"773601001","phone":"+7 495 111-22-33"}`))
	require.NoError(t, err)
	ivanov, err := s.Contacts().Create(ctx, patch(t, `{"first_name":"Пётр","middle_name":"Сергеевич","last_name":"Иванов","mobile":"+7 (912) 3456789","email":"p.ivanov@severstal.ru"}`))
	require.NoError(t, err)
	lead, err := s.Leads().Create(ctx, patch(t, `{"first_name":"Анна","last_name":"Кузнецова","company":"ИП Кузнецова","phone":"8 903 765-43-21"}`))
	require.NoError(t, err)
	deal, err := s.Deals().Create(ctx, patch(t, `{"name":"Поставка металлопроката"}`))
	require.NoError(t, err)
	_, err = s.Contacts().Create(ctx, patch(t, `{"last_name":"Петров"}`))
	require.NoError(t, err)

	first := func(q string) (string, string) {
		t.Helper()
		hits, err := s.Search(ctx, q, 10)
		require.NoError(t, err)
		require.NotEmpty(t, hits, q)
		return hits[0].Entity, hits[0].ID
	}
	for q, want := range map[string]string{
		"Ивановым":              ivanov.ID, // Russian morphology
		"иванов пётр":           ivanov.ID,
		"Иван":                  ivanov.ID, // a partial name
		"8 912 345-67-89":       ivanov.ID, // a phone in another format
		"912 345":               ivanov.ID, // a fragment
		"89123":                 ivanov.ID, // a fragment with the trunk prefix
		"P.Ivanov@Severstal.ru": ivanov.ID,
		"7707083893":            acc.ID,
		"северсталь":            acc.ID,
		"Кузнецовой":            lead.ID,
		"765-43":                lead.ID,
		"металлопрокат":         deal.ID,
	} {
		_, id := first(q)
		require.Equal(t, want, id, q)
	}
	hits, err := s.Search(ctx, "Сидоров", 10)
	require.NoError(t, err)
	require.Empty(t, hits)
	_, err = s.Search(ctx, "я", 10)
	require.Error(t, err)
}
