package xlsx_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

func TestParseNumber(t *testing.T) {
	for raw, want := range map[string]string{"1 234,56": "1234.56", "1\u00a0234\u00a0567": "1234567", "1234.5": "1234.5",
		"-5": "-5", "12 500 ₽": "12500", "0,1": "0.1", "1\u202f000": "1000"} {
		d, err := xlsx.ParseNumber(raw)
		require.NoError(t, err, raw)
		require.Equal(t, want, d.String(), raw)
	}
	for _, raw := range []string{"", "много", "1,2,3", "1.234,56"} {
		_, err := xlsx.ParseNumber(raw)
		require.Error(t, err, raw)
	}
}

func TestParseTime(t *testing.T) {
	for raw, want := range map[string]string{"27.11.2026": "2026-11-27 00:00", "27.11.26": "2026-11-27 00:00", "7/1/2026": "2026-01-07 00:00",
		"46353": "2026-11-27 00:00", "46353.5": "2026-11-27 12:00", "27.11.2026 15:04": "2026-11-27 15:04", "2026-11-27": "2026-11-27 00:00"} {
		tm, err := xlsx.ParseTime(raw)
		require.NoError(t, err, raw)
		require.Equal(t, want, tm.Format("2006-01-02 15:04"), raw)
	}
	for _, raw := range []string{"31.02.2026", "вчера", "0", "27.13.2026", "25:00"} {
		_, err := xlsx.ParseTime(raw)
		require.Error(t, err, raw)
	}
}

func TestMatchHeader(t *testing.T) {
	m, err := xlsx.MatchHeader(core.EntityContact, []string{"ФАМИЛИЯ ", "Тел.", "Моб. тел", "E-Mail:", "Почта", "", "Цвет"}, nil)
	require.NoError(t, err)
	keys := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		keys[i] = c.Key
	}
	// «Почта» would be the e-mail too, but a field takes one column.
	require.Equal(t, []string{"last_name", "phone", "", "email", "", "", ""}, keys)
	require.Equal(t, []string{"Моб. тел", "Почта", "Цвет"}, m.Unmapped)

	m, err = xlsx.MatchHeader(core.EntityContact, []string{"Клиент", "Сотовый"}, map[string]string{"Клиент": "last_name"})
	require.NoError(t, err)
	require.Equal(t, "last_name", m.Columns[0].Key)
	require.Equal(t, "mobile", m.Columns[1].Key)
	_, err = xlsx.MatchHeader(core.EntityContact, []string{"Клиент"}, map[string]string{"Клиент": "shoe_size"})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	_, err = xlsx.MatchHeader(core.EntityContact, []string{"a", "b"}, nil)
	require.Equal(t, core.EINVALID, core.ErrorCode(err))

	p, errs := m.Patch([]string{"Иванов", "8 912 345 67 89"}, 100)
	require.Empty(t, errs)
	require.JSONEq(t, `"Иванов"`, string(p["last_name"]))
	require.JSONEq(t, `"8 912 345 67 89"`, string(p["mobile"]), "phones are normalized by the record's own rules")
}

func TestPicklistColumnsTakeLabels(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		entity, header, cell, field, want string
	}{
		{core.EntityContact, "Источник", "Выставка", "source", "trade_show"},
		{core.EntityContact, "Lead Source", "trade show", "source", "trade_show"},
		{core.EntityContact, "Источник", "TRADE_SHOW", "source", "trade_show"},
		{core.EntityLead, "Источник", "Веб-сайт", "source", "web_site"},
		{core.EntityLead, "Статус", "Тёплый", "status", "warm"},
		{core.EntityLead, "Lead Status", "Hot", "status", "hot"},
		{core.EntityAccount, "Тип", "партнер", "type", "partner"},
		{core.EntityDeal, "Источник", "Холодный звонок", "source", "cold_call"},
	} {
		m, err := xlsx.MatchHeader(c.entity, []string{c.header}, nil)
		require.NoError(t, err)
		p, errs := m.Patch([]string{c.cell}, 100)
		require.Empty(t, errs, "%s %s %q", c.entity, c.header, c.cell)
		require.JSONEq(t, `"`+c.want+`"`, string(p[c.field]), "%s %s %q", c.entity, c.header, c.cell)
	}

	m, err := xlsx.MatchHeader(core.EntityContact, []string{"Фамилия", "Источник"}, nil)
	require.NoError(t, err)
	p, errs := m.Patch([]string{"Иванов", "Ярмарка"}, 100)
	require.Len(t, errs, 1)
	require.Equal(t, "Источник", errs[0].Field)
	require.Equal(t, "invalid_choice", errs[0].Code)
	require.Contains(t, errs[0].Message, "«Ярмарка»")
	require.Contains(t, errs[0].Message, "Выставка", "the message lists the labels")
	require.NotContains(t, p, "source")
}

func TestContactHeadersOfSalesPlatform(t *testing.T) {
	t.Parallel()
	header := []string{"Фамилия", "Дата рождения", "Домашний тел.", "Факс", "Ассистент", "Тел.ассистента", "Начальник:",
		"Организация", "ИНН", "Улица", "Город", "Индекс", "Страна", "Доп. адрес: улица", "Доп. адрес: город", "Доп. адрес: индекс",
		"Other Country", "Mailing Po Box", "Основной адрес электронной почты", "Рабочий тел.", "Мобильный тел.", "Другой тел."}
	m, err := xlsx.MatchHeader(core.EntityContact, header, nil)
	require.NoError(t, err)
	require.Empty(t, m.Unmapped)
	keys := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		keys[i] = c.Key
	}
	require.Equal(t, []string{"last_name", "birthday", "home_phone", "fax", "assistant", "assistant_phone", "reports_to_id",
		"account_name", "account_inn", "address.street", "address.city", "address.postcode", "address.country",
		"other_address.street", "other_address.city", "other_address.postcode", "other_address.country", "address.po_box",
		"email", "phone", "mobile", "other_phone"}, keys)

	p, errs := m.Patch([]string{"Иванов", "15.03.1980", "8 495 111-22-33", "", "Мария", "", "Петров Пётр",
		"ООО «Ромашка»", "541018037", "ул. Ленина, 1", "Москва", "101000", "Россия", "пр. Мира, 2", "Тула"}, 1000)
	require.Empty(t, errs)
	require.JSONEq(t, `"1980-03-15"`, string(p["birthday"]))
	require.JSONEq(t, `"0541018037"`, string(p["account_inn"]), "the zero Excel drops is back")
	require.JSONEq(t, `{"street":"ул. Ленина, 1","city":"Москва","postcode":"101000","country":"Россия"}`, string(p["address"]))
	require.JSONEq(t, `{"street":"пр. Мира, 2","city":"Тула"}`, string(p["other_address"]))

	m, err = xlsx.MatchHeader(core.EntityLead, []string{"Фамилия", "Компания", "Факс"}, nil)
	require.NoError(t, err)
	require.Equal(t, "fax", m.Columns[2].Key)
}
