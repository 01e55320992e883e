package xlsx_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// contactFields are custom fields of contacts of every cell type, and one
// («Должность») whose label is a built-in column's header.
func contactFields() []core.CustomField {
	return []core.CustomField{
		{Key: "segment", Label: core.Labels{RU: "Сегмент", EN: "Segment"}, Type: core.FieldPicklist, Options: []core.FieldOption{
			{Code: "retail", Label: core.Labels{RU: "Розница", EN: "Retail"}}, {Code: "b2b", Label: core.Labels{RU: "Опт", EN: "Wholesale"}}}},
		{Key: "staff", Label: core.Labels{RU: "Сотрудники", EN: "Staff"}, Type: core.FieldInteger},
		{Key: "budget", Label: core.Labels{RU: "Бюджет", EN: "Budget"}, Type: core.FieldMoney},
		{Key: "share", Label: core.Labels{RU: "Доля", EN: "Share"}, Type: core.FieldDecimal, Scale: 4},
		{Key: "since", Label: core.Labels{RU: "Клиент с", EN: "Customer since"}, Type: core.FieldDate},
		{Key: "vip", Label: core.Labels{RU: "VIP", EN: "VIP client"}, Type: core.FieldBoolean},
		{Key: "channels", Label: core.Labels{RU: "Каналы", EN: "Channels"}, Type: core.FieldMultiPicklist, Options: []core.FieldOption{
			{Code: "mail", Label: core.Labels{RU: "Почта", EN: "Mail"}}, {Code: "phone", Label: core.Labels{RU: "Звонки", EN: "Calls"}}}},
		{Key: "post", Label: core.Labels{RU: "Должность", EN: "Post"}, Type: core.FieldText, MaxLength: 100},
		{Key: "note", Label: core.Labels{RU: "Заметка"}, Type: core.FieldTextarea},
	}
}

func mappedKeys(m xlsx.Mapping) []string {
	keys := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		keys[i] = c.Key
	}
	return keys
}

func TestCustomHeadersMatchLabelsAndKeys(t *testing.T) {
	t.Parallel()
	defs := contactFields()
	m, err := xlsx.MatchHeader(core.EntityContact,
		[]string{"Фамилия", " сегмент ", "STAFF", "custom.budget", "Клиент  с", "vip client", "Должность", "Post", "Каналы"}, nil, defs...)
	require.NoError(t, err)
	require.Equal(t, []string{"last_name", "custom.segment", "custom.staff", "custom.budget", "custom.since", "custom.vip",
		"title", "custom.post", "custom.channels"}, mappedKeys(m), "a built-in header wins over a custom label")
	require.Empty(t, m.Unmapped)
	require.True(t, xlsx.FindHeader(core.EntityContact, []string{"Сегмент", "Staff"}, defs...))
	require.False(t, xlsx.FindHeader(core.EntityContact, []string{"Сегмент", "Staff"}), "without the definitions these name nothing")

	m, err = xlsx.MatchHeader(core.EntityContact, []string{"Фамилия", "Размер"}, map[string]string{"Размер": "custom.staff"}, defs...)
	require.NoError(t, err)
	require.Equal(t, "custom.staff", m.Columns[1].Key, "an explicit mapping may name a custom field")
}

func TestCustomCellsParseByType(t *testing.T) {
	t.Parallel()
	m, err := xlsx.MatchHeader(core.EntityContact,
		[]string{"Фамилия", "Сегмент", "Staff", "Бюджет", "Доля", "Клиент с", "VIP", "Каналы", "Post"}, nil, contactFields()...)
	require.NoError(t, err)

	t.Run("TextAsPeopleWriteIt", func(t *testing.T) {
		p, errs := m.Patch([]string{"Иванов", "Розница", "1 200", "1 234,50", "0,125", "03.12.2026", "да", "Почта, Звонки", "Директор"}, 1000)
		require.Empty(t, errs)
		require.JSONEq(t, `{"segment":"retail","staff":1200,"budget":"1234.50","share":"0.1250","since":"2026-12-03","vip":true,
			"channels":["mail","phone"],"post":"Директор"}`, string(p["custom"]))
		require.JSONEq(t, `"Иванов"`, string(p["last_name"]))
	})
	t.Run("TypedCellsAsASheetHoldsThem", func(t *testing.T) {
		// A date cell's serial, a double's every digit, a code.
		p, errs := m.Patch([]string{"Иванов", "b2b", "12", "0.30000000000000004", "", "46359", "0"}, 1000)
		require.Empty(t, errs)
		require.JSONEq(t, `{"segment":"b2b","staff":12,"budget":"0.30","since":"2026-12-03","vip":false}`, string(p["custom"]))
	})
	t.Run("BadValuesNameTheColumn", func(t *testing.T) {
		p, errs := m.Patch([]string{"Иванов", "Ярмарка", "много", "", "", "вчера"}, 1000)
		require.Len(t, errs, 3)
		fields := []string{errs[0].Field, errs[1].Field, errs[2].Field}
		require.Equal(t, []string{"Сегмент", "Сотрудники", "Клиент с"}, fields)
		require.Equal(t, "invalid_choice", errs[0].Code)
		require.Contains(t, errs[0].Message, "Розница", "the message lists the options")
		require.NotContains(t, p, "custom")
	})
}

// TestCustomColumnsExportTypedAndImportBack writes contacts with custom
// values as the store reads them (JSON numbers as float64), reads the
// workbook with excelize, then imports it back to the same values.
func TestCustomColumnsExportTypedAndImportBack(t *testing.T) {
	t.Parallel()
	defs := contactFields()
	values := core.CustomValues{"segment": "retail", "staff": float64(12), "budget": "1234.50", "share": "0.1250", "since": "2026-12-03",
		"vip": true, "channels": []any{"mail", "phone"}, "post": "Директор", "note": "тайна"}
	w, err := xlsx.NewWriterCustom(core.EntityContact, defs, nil, "custom.note")
	require.NoError(t, err)
	require.NoError(t, w.Write(&core.Contact{Record: core.Record{ID: "c1", Custom: values}, LastName: "Иванов", Title: "Менеджер"}))
	require.NoError(t, w.Write(core.Contact{Record: core.Record{ID: "c2"}, LastName: "Петров"}))
	var b bytes.Buffer
	require.NoError(t, w.Close(&b))

	f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows(xlsx.SheetName)
	require.NoError(t, err)
	head := rows[0]
	col := func(name string) int {
		t.Helper()
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %q in %v", name, head)
		return -1
	}
	require.Less(t, col("Изменено (МСК, UTC+3)"), col("Сегмент"), "the custom columns follow the built-in ones")
	require.NotContains(t, head, "Заметка", "a hidden custom field has no column")
	require.Equal(t, "custom.post", head[col("custom.post")], "a label a built-in header takes is replaced by the key")
	require.Equal(t, "Розница", rows[1][col("Сегмент")])
	require.Equal(t, "Почта, Звонки", rows[1][col("Каналы")])
	require.Equal(t, "да", rows[1][col("VIP")])
	require.Equal(t, "03.12.2026", rows[1][col("Клиент с")])
	require.Equal(t, "1,234.50", rows[1][col("Бюджет")])
	require.Equal(t, "0.125", rows[1][col("Доля")], "a decimal shows its scale's digits at most")
	for name, want := range map[string]string{"Сотрудники": "12", "Бюджет": "1234.5", "Клиент с": "46359", "Доля": "0.125"} {
		cell, err := excelize.CoordinatesToCellName(col(name)+1, 2)
		require.NoError(t, err)
		typ, err := f.GetCellType(xlsx.SheetName, cell)
		require.NoError(t, err)
		require.NotEqual(t, excelize.CellTypeSharedString, typ, name)
		require.NotEqual(t, excelize.CellTypeInlineString, typ, name)
		raw, err := f.GetCellValue(xlsx.SheetName, cell, excelize.Options{RawCellValue: true})
		require.NoError(t, err)
		require.Equal(t, want, raw, name)
	}

	book, err := xlsx.Open(bytes.NewReader(b.Bytes()), xlsx.Limits{})
	require.NoError(t, err)
	defer book.Close()
	var m xlsx.Mapping
	var patches []core.Patch
	require.NoError(t, book.Rows("", func(r xlsx.Row, wide bool) error {
		if r.Number == 1 {
			m, err = xlsx.MatchHeader(core.EntityContact, r.Cells, nil, defs...)
			return err
		}
		p, errs := m.Patch(r.Cells, 1000)
		require.Empty(t, errs)
		patches = append(patches, p)
		return nil
	}))
	require.Len(t, patches, 2)
	want, err := json.Marshal(map[string]any{"segment": "retail", "staff": 12, "budget": "1234.50", "share": "0.1250", "since": "2026-12-03", "vip": true,
		"channels": []string{"mail", "phone"}, "post": "Директор"})
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(patches[0]["custom"]))
	require.JSONEq(t, `"Менеджер"`, string(patches[0]["title"]), "the built-in «Должность» stays the title")
	require.NotContains(t, patches[1], "custom")
}

func TestTemplateHasCustomColumns(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, xlsx.Template(&b, core.EntityContact, contactFields()...))
	f, err := excelize.OpenReader(&b)
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows(xlsx.SheetName)
	require.NoError(t, err)
	require.Contains(t, rows[0], "Сегмент")
	require.Contains(t, rows[0], "Сотрудники")
	require.Contains(t, rows[1], "Розница", "a picklist's sample is its first option's label")
}
