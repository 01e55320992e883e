package core_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"8 (912) 345-67-89":   "+79123456789",
		"+7 912 345 67 89":    "+79123456789",
		"79123456789":         "+79123456789",
		"9123456789":          "+79123456789",
		"+7 (495) 123-45-67":  "+74951234567",
		"8-800-555-35-35":     "+78005553535",
		"+49 30 123456":       "+4930123456",
		"+375 29 123-45-67":   "+375291234567",
		"  8 912 345 67 89  ": "+79123456789",
	} {
		got, ok := core.NormalizePhone(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "12", "abc", "+7 912", "1234567890123456789012"} {
		_, ok := core.NormalizePhone(in)
		require.False(t, ok, in)
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	got, ok := core.NormalizeEmail(" Ivan.Petrov@Example.RU ")
	require.True(t, ok)
	require.Equal(t, "ivan.petrov@example.ru", got)
	for _, in := range []string{"a@b", "Ivan <ivan@example.ru>", "@example.ru", "ivan@", "ivan@.ru", "a b@c.ru", "ivan@example.ru."} {
		_, ok := core.NormalizeEmail(in)
		require.False(t, ok, in)
	}
}

func TestLeadSchemaApply(t *testing.T) {
	t.Parallel()
	var l core.Lead
	p, err := core.DecodePatch([]byte(`{"last_name":"  Иванов ","company":"X","employees":5,"annual_revenue":"10.1","address":{"city":"Тула"},"status":"hot"}`))
	require.NoError(t, err)
	require.Empty(t, core.LeadSchema().Apply(&l, p, ""))
	require.Equal(t, "Иванов", l.LastName, "trimmed")
	require.EqualValues(t, 5, *l.Employees)
	b, _ := json.Marshal(l.AnnualRevenue)
	require.Equal(t, `"10.10"`, string(b))
	require.NoError(t, l.Validate())

	p, _ = core.DecodePatch([]byte(`{"employees":null,"annual_revenue":null,"address":null,"status":""}`))
	require.Empty(t, core.LeadSchema().Apply(&l, p, ""))
	require.Nil(t, l.Employees)
	require.Nil(t, l.AnnualRevenue)
	require.Equal(t, core.Address{}, l.Address)
	require.Equal(t, "", l.Status)

	p, _ = core.DecodePatch([]byte(`{"description":"line1\nline2","title":"a\nb","employees":-1,"annual_revenue":"-5","owner_id":"nope"}`))
	errs := core.LeadSchema().Apply(&l, p, "")
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Code
	}
	require.Equal(t, map[string]string{"title": "control_character", "employees": "out_of_range",
		"annual_revenue": "invalid_decimal", "owner_id": "invalid_id"}, got, "multiline only where allowed")
}

func TestChangedFields(t *testing.T) {
	t.Parallel()
	a := core.Lead{LastName: "A", Company: "B", Record: core.Record{Version: 1}}
	b := a
	b.Company, b.Version, b.Address.City = "C", 2, "Тула"
	got, err := core.ChangedFields(&a, &b, "version")
	require.NoError(t, err)
	require.Equal(t, []string{"company", "address"}, got)
}

func TestScopes(t *testing.T) {
	t.Parallel()
	admin := core.Actor{Scopes: []core.Scope{core.ScopeAdmin}}
	reader := core.Actor{Scopes: []core.Scope{core.ScopeRead}}
	require.True(t, admin.Has(core.ScopeWrite))
	require.True(t, reader.Has(core.ScopeRead))
	require.False(t, reader.Has(core.ScopeWrite))
	require.False(t, core.Actor{Scopes: []core.Scope{"root"}}.Has(core.ScopeRead))
	_, err := core.ParseScopes("read, bogus")
	require.Error(t, err)
}

func TestCatalogAttributes(t *testing.T) {
	t.Parallel()
	p := core.Product{CatalogItem: core.NewCatalogItem()}
	patch, err := core.DecodePatch([]byte(`{"name":"Коврик","attributes":{" Цвет ":" синий ","Вес":"1,4"}}`))
	require.NoError(t, err)
	require.Empty(t, core.ProductSchema().Apply(&p, patch, ""))
	require.Equal(t, map[string]string{"Цвет": "синий", "Вес": "1,4"}, p.Attributes, "names and values trimmed")

	patch, _ = core.DecodePatch([]byte(`{"attributes":{"Размер":"42"}}`))
	require.Empty(t, core.ProductSchema().Apply(&p, patch, ""))
	require.Equal(t, map[string]string{"Размер": "42"}, p.Attributes, "a write replaces the set")
	patch, _ = core.DecodePatch([]byte(`{"attributes":null}`))
	require.Empty(t, core.ProductSchema().Apply(&p, patch, ""))
	require.Empty(t, p.Attributes)

	many := map[string]string{}
	for i := range 201 {
		many[fmt.Sprint("a", i)] = "x"
	}
	b, _ := json.Marshal(map[string]any{"attributes": many})
	for body, code := range map[string]string{
		`{"attributes":{"":"x"}}`:        "invalid_key",
		`{"attributes":{"a":1}}`:         "invalid_type",
		`{"attributes":["a"]}`:           "invalid_type",
		`{"attributes":{"a":"b\u0001"}}`: "control_character",
		string(b):                        "too_many",
	} {
		patch, err := core.DecodePatch([]byte(body))
		require.NoError(t, err)
		errs := core.ServiceSchema().Apply(&core.Service{CatalogItem: core.NewCatalogItem()}, patch, "")
		require.Len(t, errs, 1, body)
		require.Equal(t, code, errs[0].Code, body)
	}
}

func TestReportPeriods(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("MSK", 3*3600)
	now := time.Date(2026, 11, 27, 22, 30, 0, 0, time.UTC) // Saturday 01:30 in Moscow
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	for preset, want := range map[string][2]string{
		"today":        {"2026-11-28", "2026-11-29"},
		"yesterday":    {"2026-11-27", "2026-11-28"},
		"this_week":    {"2026-11-23", "2026-11-30"},
		"last_week":    {"2026-11-16", "2026-11-23"},
		"this_month":   {"2026-11-01", "2026-12-01"},
		"last_month":   {"2026-10-01", "2026-11-01"},
		"this_quarter": {"2026-10-01", "2027-01-01"},
		"last_quarter": {"2026-07-01", "2026-10-01"},
		"this_year":    {"2026-01-01", "2027-01-01"},
		"last_year":    {"2025-01-01", "2026-01-01"},
		"last_7_days":  {"2026-11-22", "2026-11-29"},
		"last_30_days": {"2026-10-30", "2026-11-29"},
	} {
		from, to, ok := core.Period(preset, now, msk)
		require.True(t, ok, preset)
		require.Equal(t, [2]time.Time{day(want[0]), day(want[1])}, [2]time.Time{from, to}, preset)
	}
	_, _, ok := core.Period("forever", now, msk)
	require.False(t, ok)
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	msk, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	at := func(s string) time.Time { v, _ := time.ParseInLocation("2006-01-02 15:04", s, msk); return v }
	for _, c := range []struct {
		s           core.ReportSchedule
		after, want string
	}{
		{core.ReportSchedule{Frequency: "daily", At: "09:00", TimeZone: "Europe/Moscow"}, "2026-11-27 08:59", "2026-11-27 09:00"},
		{core.ReportSchedule{Frequency: "daily", At: "09:00", TimeZone: "Europe/Moscow"}, "2026-11-27 09:00", "2026-11-28 09:00"},
		{core.ReportSchedule{Frequency: "weekly", Weekday: 1, At: "08:30", TimeZone: "Europe/Moscow"}, "2026-11-27 10:00", "2026-11-30 08:30"},
		{core.ReportSchedule{Frequency: "weekly", Weekday: 7, At: "23:00", TimeZone: "Europe/Moscow"}, "2026-11-29 23:00", "2026-12-06 23:00"},
		{core.ReportSchedule{Frequency: "monthly", Day: 1, At: "07:00", TimeZone: "Europe/Moscow"}, "2026-11-27 10:00", "2026-12-01 07:00"},
		{core.ReportSchedule{Frequency: "monthly", Day: 31, At: "18:00", TimeZone: "Europe/Moscow"}, "2026-11-27 10:00", "2026-11-30 18:00"},
		{core.ReportSchedule{Frequency: "monthly", Day: 31, At: "18:00", TimeZone: "Europe/Moscow"}, "2027-02-01 10:00", "2027-02-28 18:00"},
	} {
		require.Equal(t, at(c.want).UTC(), c.s.Next(at(c.after)).UTC(), "%+v after %s", c.s, c.after)
	}
	// In another zone: 09:00 in Vladivostok is 02:00 in Moscow.
	s := core.ReportSchedule{Frequency: "daily", At: "09:00", TimeZone: "Asia/Vladivostok"}
	require.Equal(t, at("2026-11-28 02:00").UTC(), s.Next(at("2026-11-27 10:00")).UTC())
}
