package imports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// runWithFields is run by a runner that knows the kinds' custom fields.
func runWithFields(t *testing.T, st *store.Store, o core.ImportOptions, file []byte) *core.Import {
	t.Helper()
	ctx := context.Background()
	im, err := st.CreateImport(ctx, o, "custom.xlsx", file)
	require.NoError(t, err)
	ran, err := imports.New(imports.Config{BatchSize: 2, Fields: st}, st).RunJob(ctx, im.ID, nil)
	require.NoError(t, err)
	require.True(t, ran)
	im, err = st.GetImport(ctx, im.ID)
	require.NoError(t, err)
	return im
}

// defineContactFields gives contacts the issue's «Сегмент» picklist and an
// integer «Сотрудники» (Staff).
func defineContactFields(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	for _, def := range []string{
		`{"key":"segment","label":{"ru":"Сегмент","en":"Segment"},"type":"picklist",
			"options":[{"code":"retail","label":{"ru":"Розница","en":"Retail"}},{"code":"b2b","label":{"ru":"Опт","en":"Wholesale"}}]}`,
		`{"key":"staff","label":{"ru":"Сотрудники","en":"Staff"},"type":"integer"}`,
	} {
		p, err := core.DecodePatch([]byte(def))
		require.NoError(t, err)
		_, err = st.CreateCustomField(ctx, core.EntityContact, p)
		require.NoError(t, err)
	}
}

func customOf(t *testing.T, st *store.Store, email string) string {
	t.Helper()
	var custom []byte
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT custom FROM contacts WHERE email = $1`, email).Scan(&custom))
	return string(custom)
}

func TestImportCustomFields(t *testing.T) {
	st := storetest.NewStore(t)
	defineContactFields(t, st)
	file := book(t,
		[]any{"Фамилия", "Имя", "E-mail", "Сегмент", "Staff"},
		[]any{"Иванов", "Иван", "ivan@firm.ru", "Розница", 12},
		[]any{"Петров", "Пётр", "petr@firm.ru", "wholesale", "1 200"},
		[]any{"Сидоров", "Олег", "oleg@firm.ru", "Розница", "много"},
		[]any{"Кузнецов", "", "k@firm.ru", "", ""},
	)

	im := runWithFields(t, st, core.ImportOptions{Entity: core.EntityContact}, file)
	require.Equal(t, "done", im.Status, im.Error)
	require.Equal(t, []int64{3, 0, 1}, []int64{im.Created, im.Updated, im.Failed}, "%+v", failures(t, st, im.ID))
	require.Equal(t, "custom.segment", im.Mapping["Сегмент"])
	require.Equal(t, "custom.staff", im.Mapping["Staff"], "the English label names the field")
	require.Empty(t, im.Unmapped)

	require.JSONEq(t, `{"segment":"retail","staff":12}`, customOf(t, st, "ivan@firm.ru"))
	require.JSONEq(t, `{"segment":"b2b","staff":1200}`, customOf(t, st, "petr@firm.ru"), "an English label, a grouped number")
	require.JSONEq(t, `{}`, customOf(t, st, "k@firm.ru"), "blank cells set nothing")
	fails := failures(t, st, im.ID)
	require.Len(t, fails, 1)
	require.Contains(t, fails[4], "Сотрудники: must be a whole number", "the row error names the column")
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM contacts WHERE email = 'oleg@firm.ru'`))

	t.Run("AnUpdateMergesTheCustomValues", func(t *testing.T) {
		again := runWithFields(t, st, core.ImportOptions{Entity: core.EntityContact, OnDuplicate: core.ImportUpdate},
			book(t, []any{"E-mail", "Фамилия", "custom.segment"}, []any{"ivan@firm.ru", "Иванов", "Опт"}))
		require.Equal(t, "done", again.Status, again.Error)
		require.Equal(t, []int64{0, 1, 0}, []int64{again.Created, again.Updated, again.Failed}, "%+v", failures(t, st, again.ID))
		require.JSONEq(t, `{"segment":"b2b","staff":12}`, customOf(t, st, "ivan@firm.ru"), "the staff the sheet does not name stays")
	})

	t.Run("ACustomFieldIsTheDuplicateKey", func(t *testing.T) {
		// A vtiger cf_ value or a 1C code finds the record an earlier
		// migration made: Иванов is 12 staff, found by them; 77 is new.
		byStaff := core.ImportOptions{Entity: core.EntityContact, Key: "custom.staff", OnDuplicate: core.ImportUpdate}
		again := runWithFields(t, st, byStaff, book(t, []any{"Фамилия", "Сотрудники", "Должность"},
			[]any{"Иванов", 12, "Директор"}, []any{"Новиков", 77, "Бухгалтер"}))
		require.Equal(t, "done", again.Status, again.Error)
		require.Equal(t, []int64{1, 1, 0}, []int64{again.Created, again.Updated, again.Failed}, "%+v", failures(t, st, again.ID))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM contacts WHERE email = 'ivan@firm.ru' AND title = 'Директор'`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM contacts WHERE last_name = 'Новиков' AND custom->>'staff' = '77'`))

		_, err := st.CreateImport(context.Background(), core.ImportOptions{Entity: core.EntityContact, Key: "custom.nope"}, "x.xlsx", book(t, []any{"Фамилия"}, []any{"Х"}))
		require.Equal(t, core.EINVALID, core.ErrorCode(err), "a key that is no custom field of the kind")
	})

	t.Run("WithoutTheDefinitionsTheColumnsAreIgnored", func(t *testing.T) {
		plain := run(t, st, core.ImportOptions{Entity: core.EntityContact},
			book(t, []any{"Фамилия", "E-mail", "Сегмент"}, []any{"Смирнов", "s@firm.ru", "Розница"}))
		require.Equal(t, "done", plain.Status, plain.Error)
		require.Equal(t, []string{"Сегмент"}, plain.Unmapped)
		require.JSONEq(t, `{}`, customOf(t, st, "s@firm.ru"))
	})
}

// TestExportImportsCustomValuesBack exports contacts with custom values
// and imports the workbook over them: each value is read back as it was.
func TestExportImportsCustomValuesBack(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	defineContactFields(t, st)
	for _, p := range []string{
		`{"last_name":"Иванов","email":"i@firm.ru","custom":{"segment":"retail","staff":12}}`,
		`{"last_name":"Петров","email":"p@firm.ru","custom":{"segment":"b2b"}}`,
	} {
		patch, err := core.DecodePatch([]byte(p))
		require.NoError(t, err)
		_, err = st.Contacts().Create(ctx, patch)
		require.NoError(t, err)
	}
	defs, err := st.CustomFields(ctx, core.EntityContact)
	require.NoError(t, err)
	page, err := st.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{Limit: 100, Sort: core.Sort{Field: "created_at"}}})
	require.NoError(t, err)
	w, err := xlsx.NewWriterCustom(core.EntityContact, defs, nil)
	require.NoError(t, err)
	for i := range page.Items {
		require.NoError(t, w.Write(&page.Items[i]))
	}
	var b bytes.Buffer
	require.NoError(t, w.Close(&b))
	before := count(t, st, `SELECT count(*) FROM outbox`)

	im := runWithFields(t, st, core.ImportOptions{Entity: core.EntityContact, Key: "id", OnDuplicate: core.ImportUpdate}, b.Bytes())
	require.Equal(t, "done", im.Status, im.Error)
	require.Equal(t, []int64{0, 2, 0}, []int64{im.Created, im.Updated, im.Failed}, "%+v", failures(t, st, im.ID))
	require.Equal(t, "custom.segment", im.Mapping["Сегмент"])
	require.Equal(t, before, count(t, st, `SELECT count(*) FROM outbox`), "every value came back as it was")

	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(customOf(t, st, "i@firm.ru")), &got))
	require.Equal(t, map[string]any{"segment": "retail", "staff": float64(12)}, got)
}
