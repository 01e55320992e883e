package api_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
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
	cell, _ = excelize.CoordinatesToCellName(col("Создано (МСК, UTC+3)")+1, 2)
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

// An export is for people: a picklist field by its Russian label, the
// zone of its times in their headers; ?codes=true gives machines the
// codes.
func TestExportLabelsPicklistsAndNamesTheZone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "POST", "/api/v1/leads", b.writer, `{"last_name":"Иванов","company":"ООО «Ромашка»","status":"qualified","source":"trade_show"}`)
	require.Equal(t, 201, r.status, string(r.body))
	var lead struct {
		CreatedAt time.Time `json:"created_at"`
	}
	require.NoError(t, json.Unmarshal(r.body, &lead))
	check := openAPIChecker(t, b)

	s := openExport(t, check("GET", "/api/v1/leads/export.xlsx", b.reader, "", 200))
	require.Len(t, s.rows, 2)
	require.Equal(t, "Классифицирован", s.rows[1][s.col("Статус")])
	require.Equal(t, "Выставка", s.rows[1][s.col("Источник")])
	require.NotContains(t, s.rows[0], "Создано", "a time's header names its zone")
	msk := time.FixedZone("MSK", 3*3600)
	require.Equal(t, lead.CreatedAt.In(msk).Format("02.01.2006 15:04"), s.rows[1][s.col("Создано (МСК, UTC+3)")])
	require.Equal(t, lead.CreatedAt.In(msk).Format("02.01.2006 15:04"), s.rows[1][s.col("Изменено (МСК, UTC+3)")])

	s = openExport(t, check("GET", "/api/v1/leads/export.xlsx?codes=true&status=qualified", b.reader, "", 200))
	require.Len(t, s.rows, 2, "codes is no filter: the list's filters still apply")
	require.Equal(t, "qualified", s.rows[1][s.col("Статус")])
	require.Equal(t, "trade_show", s.rows[1][s.col("Источник")])
	s = openExport(t, check("GET", "/api/v1/leads/export.xlsx?codes=false&status=hot", b.reader, "", 200))
	require.Len(t, s.rows, 1, "the header only")

	requireProblem(t, b.do(t, "GET", "/api/v1/leads/export.xlsx?codes=maybe", b.reader, ""), 422, core.EINVALID, "codes:invalid_type")
}
