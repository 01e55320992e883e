package imports_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// book writes rows (the first ones may be titles) to a workbook.
func book(t testing.TB, rows ...[]any) []byte {
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(t, err)
		require.NoError(t, f.SetSheetRow("Sheet1", cell, &r))
	}
	var b bytes.Buffer
	_, err := f.WriteTo(&b)
	require.NoError(t, err)
	return b.Bytes()
}

func count(t *testing.T, st *store.Store, sql string, args ...any) int {
	var n int
	require.NoError(t, st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// run queues an import and runs it to its end.
func run(t *testing.T, st *store.Store, o core.ImportOptions, file []byte) *core.Import {
	ctx := context.Background()
	im, err := st.CreateImport(ctx, o, "test.xlsx", file)
	require.NoError(t, err)
	r := imports.New(imports.Config{BatchSize: 3}, st)
	ran, err := r.RunOnce(ctx, nil)
	require.NoError(t, err)
	require.True(t, ran)
	im, err = st.GetImport(ctx, im.ID)
	require.NoError(t, err)
	return im
}

func TestImportContacts(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()

	file := book(t,
		[]any{"Список клиентов на 27.11.2026"}, // a title above the header
		[]any{},
		[]any{"ФИО? нет:", "Фамилия", "Имя", "Тел.", "Моб.", "Эл. почта", "Не звонить", "Город", "Любимый цвет"},
		[]any{"", "Иванов", "Иван", "8 (912) 345-67-89", 79031112233, "Ivan@Romashka.RU", "да", "Москва", "синий"},
		[]any{},
		[]any{"", "Петров", "Пётр", "", "", "petr@vector.ru", "нет", "", ""},
		[]any{"", "", "Безымянный", "", "", "", "", "", ""},                 // no last name: a failed row
		[]any{"", "Сидоров", "Олег", "12", "", "", "", "", ""},              // a bad phone
		[]any{"", "Иванов", "Иван", "", "", "ivan@romashka.ru", "", "", ""}, // the same e-mail again: skipped
		[]any{"", "Кузнецов", "Кирилл", "", "", "k@firm.ru", "может быть", "", ""},
	)

	im := run(t, st, core.ImportOptions{Entity: core.EntityContact}, file)
	require.Equal(t, "done", im.Status, im.Error)
	require.EqualValues(t, 6, im.RowsTotal)
	require.EqualValues(t, 6, im.RowsDone)
	require.Equal(t, []int64{2, 0, 1, 3}, []int64{im.Created, im.Updated, im.Skipped, im.Failed}, "%+v", im)
	require.Equal(t, []string{"ФИО? нет:", "Любимый цвет"}, im.Unmapped)
	require.Equal(t, "phone", im.Mapping["Тел."])
	require.Equal(t, "mobile", im.Mapping["Моб."])

	var phone, mobile, email, city string
	var dnc bool
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT phone, mobile, email, address->>'city', do_not_call FROM contacts WHERE last_name = 'Иванов'`).
		Scan(&phone, &mobile, &email, &city, &dnc))
	require.Equal(t, []any{"+79123456789", "+79031112233", "ivan@romashka.ru", "Москва", true}, []any{phone, mobile, email, city, dnc})

	fails, err := st.ImportFailures(ctx, im.ID)
	require.NoError(t, err)
	require.Len(t, fails, 3)
	require.Equal(t, 7, fails[0].Row)
	require.Contains(t, fails[0].Reason, "last_name")
	require.Contains(t, fails[1].Reason, "phone")
	require.Contains(t, fails[2].Reason, "Не звонить")
	require.Equal(t, "Кузнецов", fails[2].Cells[1], "the original cells are kept for the error workbook")
}
