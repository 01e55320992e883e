package api_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

func TestExportLeads(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, body := range []string{
		`{"last_name":"Иванов","first_name":"Иван","company":"ООО «Ромашка»","phone":"8 912 345-67-89","status":"hot","annual_revenue":"1234567.5","employees":12,"address":{"city":"Москва"}}`,
		`{"last_name":"Петров","company":"ИП Петров","status":"cold"}`,
		`{"last_name":"Сидорова","company":"АО Вектор","email":"a@vector.ru","status":"hot"}`,
	} {
		r := b.do(t, "POST", "/api/v1/leads", b.writer, body)
		require.Equal(t, 201, r.status, string(r.body))
	}
	check := openAPIChecker(t, b)
	data := check("GET", "/api/v1/leads/export.xlsx?status=hot&sort=last_name", b.reader, "", 200)
	f, err := excelize.OpenReader(bytes.NewReader(data))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows("Данные")
	require.NoError(t, err)
	require.Len(t, rows, 3, "the header and the two hot leads, whatever a page holds")
	head := rows[0]
	col := func(name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %q in %v", name, head)
		return -1
	}
	require.Equal(t, "Иванов", rows[1][col("Фамилия")])
	require.Equal(t, "Сидорова", rows[2][col("Фамилия")])
	require.Equal(t, "+79123456789", rows[1][col("Телефон")])
	require.Equal(t, "Москва", rows[1][col("Адрес: город")])
	// Money is a number cell shown with two decimals and group separators.
	cell, err := excelize.CoordinatesToCellName(col("Годовой доход")+1, 2)
	require.NoError(t, err)
	typ, err := f.GetCellType("Данные", cell)
	require.NoError(t, err)
	require.NotEqual(t, excelize.CellTypeSharedString, typ)
	raw, err := f.GetCellValue("Данные", cell, excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	require.Equal(t, "1234567.5", raw)
	require.Equal(t, "1,234,567.50", rows[1][col("Годовой доход")])
	// The creation time is a date cell.
	cell, _ = excelize.CoordinatesToCellName(col("Создано")+1, 2)
	raw, err = f.GetCellValue("Данные", cell, excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	require.NotContains(t, raw, "-", "a serial date, not text")
	shown, err := f.GetCellValue("Данные", cell)
	require.NoError(t, err)
	_, err = time.Parse("02.01.2006 15:04", shown)
	require.NoError(t, err, shown)
	panes, err := f.GetPanes("Данные")
	require.NoError(t, err)
	require.True(t, panes.Freeze)
	tables, err := f.GetTables("Данные")
	require.NoError(t, err)
	require.Len(t, tables, 1, "the header has filter buttons")
	require.True(t, strings.HasPrefix(tables[0].Range, "A1:"))

	check("GET", "/api/v1/leads/export.xlsx?status=lukewarm", b.reader, "", 422)
	check("GET", "/api/v1/leads/export.xlsx", "", "", 401)
}
