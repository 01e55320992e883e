package xlsx_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// sheet is an exported workbook's rows as Excel shows them, with a
// column's index by its header.
type sheet struct {
	t    *testing.T
	rows [][]string
}

func export(t *testing.T, entity string, cfg xlsx.ExportConfig, recs ...any) (*sheet, []byte) {
	t.Helper()
	w, err := xlsx.NewExport(entity, cfg)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	var b bytes.Buffer
	require.NoError(t, w.Close(&b))
	f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows(xlsx.SheetName)
	require.NoError(t, err)
	return &sheet{t: t, rows: rows}, b.Bytes()
}

func (s *sheet) cell(header string, row int) string {
	s.t.Helper()
	for i, h := range s.rows[0] {
		if h == header {
			if i >= len(s.rows[row]) {
				return ""
			}
			return s.rows[row][i]
		}
	}
	s.t.Fatalf("no column %q in %v", header, s.rows[0])
	return ""
}

func TestExportWritesPicklistLabelsOrCodes(t *testing.T) {
	t.Parallel()
	defs := contactFields()
	lead := &core.Lead{Record: core.Record{ID: "l1"}, LastName: "Иванов", Status: "qualified", Source: "trade_show"}
	old := &core.Lead{Record: core.Record{ID: "l2"}, LastName: "Петров", Status: "lukewarm"}
	contact := &core.Contact{Record: core.Record{ID: "c1", Custom: core.CustomValues{"segment": "retail", "channels": []any{"mail", "phone"}}},
		LastName: "Иванов", Source: "web_site"}
	payment := &core.Payment{Record: core.Record{ID: "p1"}, Direction: core.PaymentIncoming, Status: "executed", Method: core.PaymentBankTransfer}
	task := &core.Activity{Record: core.Record{ID: "a1"}, Kind: core.KindTask, Subject: "Позвонить", Status: "in_progress", Priority: "high"}

	t.Run("LabelsByDefault", func(t *testing.T) {
		s, _ := export(t, core.EntityLead, xlsx.ExportConfig{}, lead, old)
		require.Equal(t, "Классифицирован", s.cell("Статус", 1))
		require.Equal(t, "Выставка", s.cell("Источник", 1))
		require.Equal(t, "lukewarm", s.cell("Статус", 2), "a code the picklist lacks is written as it is")
		require.Empty(t, s.cell("Источник", 2))

		s, _ = export(t, core.EntityContact, xlsx.ExportConfig{Custom: defs}, contact)
		require.Equal(t, "Веб-сайт", s.cell("Источник", 1))
		require.Equal(t, "Розница", s.cell("Сегмент", 1))
		require.Equal(t, "Почта, Звонки", s.cell("Каналы", 1))

		s, _ = export(t, core.EntityPayment, xlsx.ExportConfig{}, payment)
		require.Equal(t, []string{"Приход", "Выполнен", "Безналичный расчет"},
			[]string{s.cell("Направление", 1), s.cell("Статус", 1), s.cell("Способ", 1)})
		s, _ = export(t, core.EntityActivity, xlsx.ExportConfig{}, task)
		require.Equal(t, []string{"Задача", "В прогрессе", "Высокий"}, []string{s.cell("Вид", 1), s.cell("Статус", 1), s.cell("Приоритет", 1)})
	})

	t.Run("CodesForMachines", func(t *testing.T) {
		s, _ := export(t, core.EntityLead, xlsx.ExportConfig{Codes: true}, lead)
		require.Equal(t, "qualified", s.cell("Статус", 1))
		require.Equal(t, "trade_show", s.cell("Источник", 1))

		s, _ = export(t, core.EntityContact, xlsx.ExportConfig{Custom: defs, Codes: true}, contact)
		require.Equal(t, "web_site", s.cell("Источник", 1))
		require.Equal(t, "retail", s.cell("Сегмент", 1))
		require.Equal(t, "mail, phone", s.cell("Каналы", 1))
	})
}

// Every label an export writes imports back as its code: the picklists'
// labels are distinct, so none is read as another code.
func TestEveryExportedLabelImportsAsItsCode(t *testing.T) {
	t.Parallel()
	for _, entity := range xlsx.Kinds {
		for _, c := range xlsx.Columns(entity) {
			if c.Choices == nil {
				continue
			}
			for _, code := range c.Choices.Codes() {
				got, ok := c.Choices.Lookup(c.Choices.Label(code))
				require.True(t, ok, "%s %s %s", entity, c.Key, code)
				require.Equal(t, code, got, "%s %s: «%s»", entity, c.Key, c.Choices.Label(code))
			}
		}
	}
}

func TestExportHeaderNamesTheZoneOfItsTimes(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 7, 30, 0, 0, time.UTC)
	deal := &core.Deal{Record: core.Record{ID: "d1", CreatedAt: at, UpdatedAt: at}, Name: "Поставка",
		CloseDate: core.Date{Time: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}}
	yekaterinburg, err := time.LoadLocation("Asia/Yekaterinburg")
	require.NoError(t, err)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	moscow, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	for _, c := range []struct {
		cfg          xlsx.ExportConfig
		header, time string
	}{
		{xlsx.ExportConfig{}, "Создано (МСК, UTC+3)", "01.03.2026 10:30"},
		{xlsx.ExportConfig{Location: yekaterinburg}, "Создано (Asia/Yekaterinburg, UTC+5)", "01.03.2026 12:30"},
		{xlsx.ExportConfig{Location: time.UTC}, "Создано (UTC)", "01.03.2026 07:30"},
		{xlsx.ExportConfig{Location: berlin}, "Создано (Europe/Berlin)", "01.03.2026 08:30"},
		// Moscow was UTC+4 all year from 2011 to 2014: the header gives the
		// offset of the time of the export.
		{xlsx.ExportConfig{Location: moscow, Now: time.Date(2012, 7, 1, 0, 0, 0, 0, time.UTC)}, "Создано (МСК, UTC+4)", "01.03.2026 10:30"},
		{xlsx.ExportConfig{Location: moscow}, "Создано (МСК, UTC+3)", "01.03.2026 10:30"},
		{xlsx.ExportConfig{Location: time.FixedZone("", -(3*3600 + 1800))}, "Создано (UTC-3:30)", "01.03.2026 04:00"},
	} {
		s, _ := export(t, core.EntityDeal, c.cfg, deal)
		require.Equal(t, c.time, s.cell(c.header, 1))
		require.Equal(t, "01.04.2026", s.cell("Дата закрытия", 1), "a date has no zone")
	}
}

// A workbook exported with labels and zoned headers imports back: labels
// as their codes, a custom date-time under its zoned header as the same
// instant; the hub's own times are not imported.
func TestExportWithLabelsImportsBack(t *testing.T) {
	t.Parallel()
	defs := []core.CustomField{{Key: "meet", Label: core.Labels{RU: "Встреча"}, Type: core.FieldDateTime}}
	at := time.Date(2026, 3, 1, 7, 30, 0, 0, time.UTC)
	lead := &core.Lead{Record: core.Record{ID: "l1", CreatedAt: at, UpdatedAt: at, Custom: core.CustomValues{"meet": "2026-05-04T06:15:00Z"}},
		LastName: "Иванов", Status: "qualified", Source: "trade_show"}
	s, data := export(t, core.EntityLead, xlsx.ExportConfig{Custom: defs}, lead)
	require.Equal(t, "04.05.2026 09:15", s.cell("Встреча (МСК, UTC+3)", 1))

	book, err := xlsx.Open(bytes.NewReader(data), xlsx.Limits{})
	require.NoError(t, err)
	defer book.Close()
	var m xlsx.Mapping
	var patches []core.Patch
	require.NoError(t, book.Rows("", func(r xlsx.Row, wide bool) error {
		if r.Number == 1 {
			require.True(t, xlsx.FindHeader(core.EntityLead, r.Cells, defs...))
			m, err = xlsx.MatchHeader(core.EntityLead, r.Cells, nil, defs...)
			return err
		}
		p, errs := m.Patch(r.Cells, 1000)
		require.Empty(t, errs)
		patches = append(patches, p)
		return nil
	}))
	require.Equal(t, []string{"Создано (МСК, UTC+3)", "Изменено (МСК, UTC+3)"}, m.Unmapped)
	for _, h := range []string{"Встреча (Europe/Berlin)", "Встреча (UTC)", "Встреча (Asia/Yekaterinburg, UTC+5)", "Встреча (UTC-3:30)"} {
		zoned, err := xlsx.MatchHeader(core.EntityLead, []string{"Фамилия", h}, nil, defs...)
		require.NoError(t, err)
		require.Equal(t, "custom.meet", zoned.Columns[1].Key, h)
	}
	require.Len(t, patches, 1)
	require.JSONEq(t, `"qualified"`, string(patches[0]["status"]))
	require.JSONEq(t, `"trade_show"`, string(patches[0]["source"]))
	var custom map[string]string
	require.NoError(t, json.Unmarshal(patches[0]["custom"], &custom))
	meet, err := time.Parse(time.RFC3339, custom["meet"])
	require.NoError(t, err)
	require.True(t, meet.Equal(time.Date(2026, 5, 4, 6, 15, 0, 0, time.UTC)), meet)
}
