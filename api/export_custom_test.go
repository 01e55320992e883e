package api_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
)

// exportSheet reads an export's workbook: its rows as shown, and a cell's
// type and raw value by header and row.
type exportSheet struct {
	t    *testing.T
	f    *excelize.File
	rows [][]string
}

func openExport(t *testing.T, data []byte) *exportSheet {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	rows, err := f.GetRows("Данные")
	require.NoError(t, err)
	return &exportSheet{t: t, f: f, rows: rows}
}

func (s *exportSheet) col(name string) int {
	s.t.Helper()
	for i, h := range s.rows[0] {
		if h == name {
			return i
		}
	}
	s.t.Fatalf("no column %q in %v", name, s.rows[0])
	return -1
}

// raw is the cell's type and its unformatted value.
func (s *exportSheet) raw(name string, row int) (excelize.CellType, string) {
	s.t.Helper()
	cell, err := excelize.CoordinatesToCellName(s.col(name)+1, row+1)
	require.NoError(s.t, err)
	typ, err := s.f.GetCellType("Данные", cell)
	require.NoError(s.t, err)
	v, err := s.f.GetCellValue("Данные", cell, excelize.Options{RawCellValue: true})
	require.NoError(s.t, err)
	return typ, v
}

func TestExportCustomFields(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	check := openAPIChecker(t, b)
	for _, def := range []string{
		`{"key":"segment","label":{"ru":"Сегмент","en":"Segment"},"type":"picklist",
			"options":[{"code":"retail","label":{"ru":"Розница","en":"Retail"}},{"code":"b2b","label":{"ru":"Опт","en":"Wholesale"}}]}`,
		`{"key":"staff","label":{"ru":"Сотрудники","en":"Staff"},"type":"integer"}`,
		`{"key":"budget","label":{"ru":"Бюджет","en":"Budget"},"type":"money"}`,
		`{"key":"since","label":{"ru":"Клиент с"},"type":"date"}`,
		`{"key":"vip","label":{"ru":"VIP"},"type":"boolean"}`,
		`{"key":"secret","label":{"ru":"Тайна"},"type":"text"}`,
	} {
		check("POST", "/api/v1/fields/contact", b.admin, def, 201)
	}
	check("POST", "/api/v1/contacts", b.writer, `{"last_name":"Иванов","custom":{"segment":"retail","staff":12,"budget":"1234.50",
		"since":"2026-12-03","vip":true,"secret":"пароль"}}`, 201)
	check("POST", "/api/v1/contacts", b.writer, `{"last_name":"Петров"}`, 201)

	t.Run("TypedCellsAfterTheBuiltInOnes", func(t *testing.T) {
		s := openExport(t, check("GET", "/api/v1/contacts/export.xlsx?sort=last_name", b.reader, "", 200))
		require.Len(t, s.rows, 3)
		require.Less(t, s.col("Изменено (МСК, UTC+3)"), s.col("Сегмент"), "the custom columns follow the built-in ones")
		require.Equal(t, "Иванов", s.rows[1][s.col("Фамилия")])
		require.Equal(t, "Розница", s.rows[1][s.col("Сегмент")], "a picklist by its option's Russian label")
		require.Equal(t, "да", s.rows[1][s.col("VIP")])
		require.Equal(t, "03.12.2026", s.rows[1][s.col("Клиент с")])
		require.Equal(t, "пароль", s.rows[1][s.col("Тайна")])
		for name, want := range map[string]string{"Сотрудники": "12", "Бюджет": "1234.5", "Клиент с": "46359"} {
			typ, raw := s.raw(name, 1)
			require.NotEqual(t, excelize.CellTypeSharedString, typ, "%s is a number cell", name)
			require.NotEqual(t, excelize.CellTypeInlineString, typ, "%s is a number cell", name)
			require.Equal(t, want, raw, name)
		}
		_, raw := s.raw("Сотрудники", 2)
		require.Empty(t, raw, "a record without the value has an empty cell")
	})

	t.Run("CodesForMachines", func(t *testing.T) {
		s := openExport(t, check("GET", "/api/v1/contacts/export.xlsx?sort=last_name&codes=true", b.reader, "", 200))
		require.Equal(t, "retail", s.rows[1][s.col("Сегмент")], "a custom picklist by its option's code")
	})

	t.Run("TheImportTemplateHasTheirColumns", func(t *testing.T) {
		header := templateHeader(t, b, b.reader)
		require.Contains(t, header, "Сегмент")
		require.Contains(t, header, "Сотрудники")
		require.Contains(t, header, "Тайна")
	})

	t.Run("AHiddenFieldHasNoColumn", func(t *testing.T) {
		role := c.role(t, "Без тайн", core.RoleAdminID, rightsJSON(core.LevelAll), `{"contact":{"custom.secret":"hidden"}}`)
		u := c.user(t, "Без тайн", role)
		r := b.do(t, "GET", "/api/v1/contacts/export.xlsx", u.key, "")
		require.Equal(t, 200, r.status, string(r.body))
		s := openExport(t, r.body)
		require.Len(t, s.rows, 3, "the role sees every contact")
		require.NotContains(t, s.rows[0], "Тайна")
		require.Contains(t, s.rows[0], "Сегмент")
		require.NotContains(t, templateHeader(t, b, u.key), "Тайна", "nor in the template")
	})
}

// templateHeader is the header row of the contacts' import template as
// the key's user gets it.
func templateHeader(t *testing.T, b *bundle, key string) []string {
	t.Helper()
	r := b.do(t, "GET", "/api/v1/imports/templates/contacts.xlsx", key, "")
	require.Equal(t, 200, r.status, string(r.body))
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	require.NoError(t, err)
	return rows[0]
}
