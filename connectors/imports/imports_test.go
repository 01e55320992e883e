package imports_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/xlsx"
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

	// The same file again: the known people are skipped, nothing doubles.
	again := run(t, st, core.ImportOptions{Entity: core.EntityContact}, file)
	require.Equal(t, []int64{0, 0, 3, 3}, []int64{again.Created, again.Updated, again.Skipped, again.Failed})
	require.Equal(t, 2, count(t, st, `SELECT count(*) FROM contacts`))
}

func TestDryRunWritesNothing(t *testing.T) {
	st := storetest.NewStore(t)
	file := book(t, []any{"Наименование", "ИНН", "КПП"}, []any{"ПАО Сбербанк", 7707083893, "773601001"}, []any{"ООО Плохой ИНН", "7707083894", ""})
	im := run(t, st, core.ImportOptions{Entity: core.EntityAccount, DryRun: true}, file)
	require.Equal(t, "done", im.Status, im.Error)
	require.Equal(t, []int64{1, 1}, []int64{im.Created, im.Failed})
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM accounts`))
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM outbox WHERE entity = 'account'`))
	fails, err := st.ImportFailures(context.Background(), im.ID)
	require.NoError(t, err)
	require.Contains(t, fails[0].Reason, "inn")
}

func TestAccountsDealsAndStrategies(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	// A 10-digit ИНН of region 05 that Excel stored as a number loses its zero.
	file := book(t, []any{"Наименование", "ИНН", "КПП", "Юридический адрес", "Банк"},
		[]any{"ООО Дагестан", 541018037, "054101001", "Махачкала, ул. Ленина, 1", "Сбербанк"},
		[]any{"ПАО Сбербанк", "7707083893", "773601001", "", ""})
	im := run(t, st, core.ImportOptions{Entity: core.EntityAccount}, file)
	fails, err := st.ImportFailures(ctx, im.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{2, 0}, []int64{im.Created, im.Failed}, "%v", fails)
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE inn = '0541018037'`))

	// Again with update: the same ИНН finds the record.
	file = book(t, []any{"Наименование", "ИНН", "КПП", "Банк"}, []any{"ООО «Дагестан»", "0541018037", "054101001", "Альфа-Банк"})
	im = run(t, st, core.ImportOptions{Entity: core.EntityAccount, OnDuplicate: core.ImportUpdate}, file)
	require.Equal(t, []int64{0, 1}, []int64{im.Created, im.Updated}, im.Error)
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE name = 'ООО «Дагестан»' AND bank_name = 'Альфа-Банк'`))
	// create: a second record despite the key.
	im = run(t, st, core.ImportOptions{Entity: core.EntityAccount, OnDuplicate: core.ImportCreate}, file)
	require.EqualValues(t, 1, im.Created)
	require.Equal(t, 2, count(t, st, `SELECT count(*) FROM accounts WHERE inn = '0541018037'`))

	// Deals: Russian money, dates as text and as serial numbers.
	file = book(t, []any{"Название", "Сумма", "Дата закрытия", "Вероятность, %"},
		[]any{"Поставка мебели", "1 234 567,89", "27.11.2026", 40},
		[]any{"Монтаж", 15000.5, 46353, ""},
		[]any{"Ошибка", "много", "31.02.2026", ""})
	im = run(t, st, core.ImportOptions{Entity: core.EntityDeal}, file)
	require.Equal(t, []int64{2, 1}, []int64{im.Created, im.Failed}, im.Error)
	var amount string
	var closeDate time.Time
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT amount::text, close_date FROM deals WHERE name = 'Поставка мебели'`).Scan(&amount, &closeDate))
	require.Equal(t, "1234567.89", amount)
	require.Equal(t, "2026-11-27", closeDate.Format("2006-01-02"))
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT amount::text, close_date FROM deals WHERE name = 'Монтаж'`).Scan(&amount, &closeDate))
	require.Equal(t, "15000.50", amount)
	require.Equal(t, "2026-11-27", closeDate.Format("2006-01-02"), "serial 46353")
	fails, err = st.ImportFailures(ctx, im.ID)
	require.NoError(t, err)
	require.Contains(t, fails[0].Reason, "Сумма")
	require.Contains(t, fails[0].Reason, "Дата закрытия")
}

func TestExportImportsBackUnchanged(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	for i := range 5 {
		_, err := st.Contacts().Create(ctx, core.Patch{"last_name": []byte(fmt.Sprintf(`"Фамилия %d"`, i)), "first_name": []byte(`"Имя"`),
			"phone": []byte(fmt.Sprintf(`"8 912 000-00-0%d"`, i)), "email": []byte(fmt.Sprintf(`"c%d@firm.ru"`, i)),
			"do_not_call": []byte(`true`), "address": []byte(`{"city":"Тула","postcode":"300000"}`),
			"source": []byte(`"trade_show"`)}) // exported as «Выставка», its label
		require.NoError(t, err)
	}
	page, err := st.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{Limit: 100, Sort: core.Sort{Field: "created_at"}}})
	require.NoError(t, err)
	w, err := xlsx.NewWriter(core.EntityContact, nil)
	require.NoError(t, err)
	for i := range page.Items {
		require.NoError(t, w.Write(&page.Items[i]))
	}
	var b bytes.Buffer
	require.NoError(t, w.Close(&b))
	before := count(t, st, `SELECT count(*) FROM outbox`)

	im := run(t, st, core.ImportOptions{Entity: core.EntityContact, Key: "id", OnDuplicate: core.ImportUpdate}, b.Bytes())
	require.Equal(t, "done", im.Status, im.Error)
	require.Equal(t, []int64{0, 5, 0}, []int64{im.Created, im.Updated, im.Failed}, "%+v", im)
	require.Equal(t, before, count(t, st, `SELECT count(*) FROM outbox`), "nothing changed, so no events")
	require.Equal(t, 5, count(t, st, `SELECT count(*) FROM contacts WHERE version = 1`))
}

// stopping cancels the import after n batches, as a killed process would.
type stopping struct {
	core.ImportService
	n      int
	cancel context.CancelFunc
}

func (s *stopping) ApplyImportRows(ctx context.Context, id string, rows []core.ImportRow, lease time.Duration) error {
	if s.n--; s.n < 0 {
		s.cancel()
		return ctx.Err()
	}
	return s.ImportService.ApplyImportRows(ctx, id, rows, lease)
}

func TestKilledImportResumes(t *testing.T) {
	st := storetest.NewStore(t)
	rows := [][]any{{"Фамилия", "Компания", "E-mail"}}
	for i := range 50 {
		rows = append(rows, []any{fmt.Sprintf("Клиент %d", i), "ООО", fmt.Sprintf("l%d@firm.ru", i)})
	}
	im, err := st.CreateImport(context.Background(), core.ImportOptions{Entity: core.EntityLead}, "leads.xlsx", book(t, rows...))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	killed := imports.New(imports.Config{BatchSize: 10, Lease: 50 * time.Millisecond}, &stopping{ImportService: st, n: 2, cancel: cancel})
	_, err = killed.RunOnce(ctx, nil)
	require.Error(t, err)
	require.Equal(t, 20, count(t, st, `SELECT count(*) FROM leads`), "two batches committed")

	time.Sleep(100 * time.Millisecond) // the dead runner's lease expires
	var seen []int64
	_, err = imports.New(imports.Config{BatchSize: 10}, st).RunOnce(context.Background(), func(done, total int64) { seen = append(seen, done) })
	require.NoError(t, err)
	im, err = st.GetImport(context.Background(), im.ID)
	require.NoError(t, err)
	require.Equal(t, "done", im.Status, im.Error)
	require.EqualValues(t, 50, im.Created)
	require.Equal(t, 50, count(t, st, `SELECT count(*) FROM leads`), "each row once")
	require.Equal(t, int64(30), seen[0], "it went on from row 21")
	require.Equal(t, int64(50), seen[len(seen)-1])
}

func TestHostileFiles(t *testing.T) {
	st := storetest.NewStore(t)
	for name, c := range map[string]struct {
		file []byte
		want string
	}{
		"xls":       {append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 100)...), "Excel 97–2003"},
		"csv":       {[]byte("Фамилия;Телефон\nИванов;123\n"), "not an .xlsx"},
		"corrupt":   {[]byte("PK\x03\x04 this is not really a zip"), "damaged"},
		"no header": {book(t, []any{"a", "b"}, []any{"1", "2"}), "no header row"},
	} {
		im := run(t, st, core.ImportOptions{Entity: core.EntityContact}, c.file)
		require.Equal(t, "failed", im.Status, name)
		require.Contains(t, im.Error, c.want, name)
	}
	// A zip bomb: a sheet that unpacks far beyond the limit.
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	require.NoError(t, err)
	require.NoError(t, sw.SetRow("A1", []any{"Фамилия", "Компания"}))
	for i := 2; i < 40000; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i)
		require.NoError(t, sw.SetRow(cell, []any{"ааааааааааааааааааааааааааааааааааааааааааааааааааааа", "ООО"}))
	}
	require.NoError(t, sw.Flush())
	var b bytes.Buffer
	_, err = f.WriteTo(&b)
	require.NoError(t, err)
	im, err := st.CreateImport(context.Background(), core.ImportOptions{Entity: core.EntityLead}, "bomb.xlsx", b.Bytes())
	require.NoError(t, err)
	_, err = imports.New(imports.Config{Limits: xlsx.Limits{MaxUnzipped: 1 << 20}}, st).RunOnce(context.Background(), nil)
	require.NoError(t, err)
	im, err = st.GetImport(context.Background(), im.ID)
	require.NoError(t, err)
	require.Equal(t, "failed", im.Status)
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM leads`), "nothing written")

	// A row 10,000 columns wide and a 1 MB cell: those rows fail, the rest go on.
	wide := make([]any, 10000)
	for i := range wide {
		wide[i] = "x"
	}
	wide[0], wide[1] = "Широкий", "ООО"
	file := book(t, []any{"Фамилия", "Компания", "Описание"}, wide, []any{"Большой", "ООО", string(bytes.Repeat([]byte("я"), 600_000))},
		[]any{"Нормальный", "ООО", "ok"})
	im = run(t, st, core.ImportOptions{Entity: core.EntityLead}, file)
	require.Equal(t, "done", im.Status, im.Error)
	require.Equal(t, []int64{1, 2}, []int64{im.Created, im.Failed})
}

// TestWorkbooksFromLibreOffice imports files LibreOffice wrote (see
// testdata/SOURCES.md): title rows, Russian headers, real number and date
// cells.
func TestWorkbooksFromLibreOffice(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		return b
	}
	im := run(t, st, core.ImportOptions{Entity: core.EntityContact}, read("contacts.xlsx"))
	require.Equal(t, "done", im.Status, im.Error)
	require.Equal(t, []int64{3, 0}, []int64{im.Created, im.Failed})
	var phone string
	var dnc bool
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT phone, do_not_call FROM contacts WHERE last_name = 'Иванов'`).Scan(&phone, &dnc))
	require.Equal(t, "+79123456789", phone)
	require.True(t, dnc)
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM contacts WHERE last_name = 'Петрова' AND phone = '+74951234567' AND NOT do_not_call`))

	im = run(t, st, core.ImportOptions{Entity: core.EntityDeal}, read("deals.xlsx"))
	require.Equal(t, "done", im.Status, im.Error)
	require.Equal(t, []int64{3, 0}, []int64{im.Created, im.Failed})
	var amount string
	var closeDate time.Time
	var prob int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT amount::text, close_date, probability FROM deals WHERE name = 'Поставка мебели'`).
		Scan(&amount, &closeDate, &prob))
	require.Equal(t, "1234567.89", amount)
	require.Equal(t, "2026-11-27", closeDate.Format("2006-01-02"))
	require.Equal(t, 40, prob)
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM deals WHERE name = 'Монтаж' AND amount = 15000.50 AND close_date = '2026-12-01'`))
}

func TestServicesAndPriceBookPrices(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	_, err := st.Products().Create(ctx, core.Patch{"name": []byte(`"Диван"`), "sku": []byte(`"D-1"`), "vat_rate": []byte(`"22"`)})
	require.NoError(t, err)
	_, err = st.PriceBooks().Create(ctx, core.Patch{"name": []byte(`"Розница"`)})
	require.NoError(t, err)
	im := run(t, st, core.ImportOptions{Entity: core.EntityService}, book(t,
		[]any{"Наименование", "Артикул", "Ставка НДС", "Цена"}, []any{"Сборка", "S-1", "22", "1 500,00"}))
	require.Equal(t, []int64{1, 0}, []int64{im.Created, im.Failed}, im.Error)

	prices := book(t, []any{"Прайс-лист", "Артикул", "Цена"},
		[]any{"Розница", "D-1", "45 990"}, []any{"Розница", "S-1", "1 200,50"},
		[]any{"Розница", "X-404", "1"}, []any{"Опт", "D-1", "40 000"})
	im = run(t, st, core.ImportOptions{Entity: core.EntityPrice}, prices)
	require.Equal(t, []int64{2, 0, 2}, []int64{im.Created, im.Updated, im.Failed}, im.Error)
	fails, err := st.ImportFailures(ctx, im.ID)
	require.NoError(t, err)
	require.Contains(t, fails[0].Reason, "X-404")
	require.Contains(t, fails[1].Reason, "Опт")
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM prices WHERE price = 45990`))
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM prices WHERE price = 1200.50 AND service_id IS NOT NULL`))
	im = run(t, st, core.ImportOptions{Entity: core.EntityPrice}, prices)
	require.Equal(t, []int64{0, 2}, []int64{im.Created, im.Updated}, "the same file again sets the same prices")
}

func TestMergedCellsFillTheirRows(t *testing.T) {
	st := storetest.NewStore(t)
	f := excelize.NewFile()
	rows := [][]any{{"Фамилия", "Компания", "Телефон"}, {"Иванов", "ООО «Ромашка»", "+7 495 111-11-11"}, {"Петров", nil, "+7 495 222-22-22"},
		{"Сидоров", nil, "+7 495 333-33-33"}, {"Кузнецов", "ИП Кузнецов", "+7 495 444-44-44"}}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(t, f.SetSheetRow("Sheet1", cell, &r))
	}
	require.NoError(t, f.MergeCell("Sheet1", "B2", "B4")) // one company over three people
	var b bytes.Buffer
	_, err := f.WriteTo(&b)
	require.NoError(t, err)
	im := run(t, st, core.ImportOptions{Entity: core.EntityLead}, b.Bytes())
	require.Equal(t, []int64{4, 0}, []int64{im.Created, im.Failed}, im.Error)
	require.Equal(t, 3, count(t, st, `SELECT count(*) FROM leads WHERE company = 'ООО «Ромашка»'`))
}

func TestExternalIDKey(t *testing.T) {
	st := storetest.NewStore(t)
	file := book(t, []any{"Наименование", "ИНН", "КПП", "Ид 1С"},
		[]any{"ПАО Сбербанк", "7707083893", "773601001", "b2c1f0a8-1c00-11ee-be56-0242ac120002"})
	im := run(t, st, core.ImportOptions{Entity: core.EntityAccount, Key: "external_id"}, file)
	require.EqualValues(t, 1, im.Created, im.Error)
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE external_ids->>'onec' = 'b2c1f0a8-1c00-11ee-be56-0242ac120002'`))
	file = book(t, []any{"Наименование", "Ид 1С"}, []any{"Сбербанк России", "b2c1f0a8-1c00-11ee-be56-0242ac120002"})
	im = run(t, st, core.ImportOptions{Entity: core.EntityAccount, Key: "external_id", OnDuplicate: core.ImportUpdate}, file)
	require.EqualValues(t, 1, im.Updated, im.Error)
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE name = 'Сбербанк России'`))
	_, err := st.CreateImport(context.Background(), core.ImportOptions{Entity: core.EntityLead, Key: "external_id"}, "x.xlsx", file)
	require.Equal(t, core.EINVALID, core.ErrorCode(err), "leads keep no external ids")
}

// failures returns the reasons of an import's failed rows by row number.
func failures(t *testing.T, st *store.Store, id string) map[int]string {
	t.Helper()
	fails, err := st.ImportFailures(context.Background(), id)
	require.NoError(t, err)
	out := map[int]string{}
	for _, f := range fails {
		out[f.Row] = f.Reason
	}
	return out
}

func TestImportPicklistLabels(t *testing.T) {
	st := storetest.NewStore(t)

	t.Run("ContactSources", func(t *testing.T) {
		// The workbook of issue 26: «Выставка» failed every row.
		file := book(t, []any{"Фамилия", "E-mail", "Источник"},
			[]any{"Иванов", "i@firm.ru", "Выставка"},
			[]any{"Петров", "p@firm.ru", "выставка"},
			[]any{"Сидоров", "s@firm.ru", "Trade Show"},
			[]any{"Кузнецов", "k@firm.ru", "TRADE_SHOW"},
			[]any{"Смирнов", "sm@firm.ru", "Веб сайт"},
			[]any{"Попов", "po@firm.ru", "Партнёр"},
			[]any{"Лебедев", "l@firm.ru", "Ярмарка"})
		im := run(t, st, core.ImportOptions{Entity: core.EntityContact}, file)
		require.Equal(t, "done", im.Status, im.Error)
		require.Equal(t, []int64{6, 1}, []int64{im.Created, im.Failed}, "%+v", failures(t, st, im.ID))
		require.Equal(t, 4, count(t, st, `SELECT count(*) FROM contacts WHERE source = 'trade_show'`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM contacts WHERE source = 'web_site'`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM contacts WHERE source = 'partner'`))
		reason := failures(t, st, im.ID)[8]
		require.Contains(t, reason, "Источник: «Ярмарка» is not one of: Холодный звонок")
		require.Contains(t, reason, "Выставка")
	})

	t.Run("LeadStatusesAndSources", func(t *testing.T) {
		file := book(t, []any{"Фамилия", "Компания", "Статус", "Источник"},
			[]any{"Иванов", "ООО", "Тёплый", "Конференция"},
			[]any{"Петров", "ООО", "HOT", "cold call"},
			[]any{"Сидоров", "ООО", "Холодный", "Холодный звонок"},
			[]any{"Кузнецов", "ООО", "Кипящий", ""})
		im := run(t, st, core.ImportOptions{Entity: core.EntityLead}, file)
		require.Equal(t, []int64{3, 1}, []int64{im.Created, im.Failed}, im.Error)
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM leads WHERE status = 'warm' AND source = 'conference'`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM leads WHERE status = 'hot' AND source = 'cold_call'`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM leads WHERE status = 'cold' AND source = 'cold_call'`))
		require.Contains(t, failures(t, st, im.ID)[5], "Статус: «Кипящий» is not one of: Попытка связаться")
	})

	t.Run("AccountTypes", func(t *testing.T) {
		file := book(t, []any{"Наименование", "Тип"}, []any{"ООО Альфа", "Партнер"}, []any{"ООО Бета", "Reseller"})
		im := run(t, st, core.ImportOptions{Entity: core.EntityAccount}, file)
		require.Equal(t, []int64{2, 0}, []int64{im.Created, im.Failed}, im.Error)
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE name = 'ООО Альфа' AND type = 'partner'`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE name = 'ООО Бета' AND type = 'reseller'`))
	})
}

func TestImportContactsLinkAccounts(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	romashka, err := st.Accounts().Create(ctx, core.Patch{"name": []byte(`"ООО «Ромашка»"`)})
	require.NoError(t, err)
	sber, err := st.Accounts().Create(ctx, core.Patch{"name": []byte(`"ПАО Сбербанк"`), "inn": []byte(`"7707083893"`),
		"kpp": []byte(`"773601001"`)})
	require.NoError(t, err)
	accountOf := func(email string) string {
		t.Helper()
		var id *string
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT account_id::text FROM contacts WHERE email = $1`, email).Scan(&id))
		if id == nil {
			return ""
		}
		return *id
	}

	t.Run("ExistingByNameAndINN", func(t *testing.T) {
		file := book(t, []any{"Фамилия", "E-mail", "Организация", "ИНН"},
			[]any{"Иванов", "i@firm.ru", `ооо  "Ромашка"`, ""}, // the name as people write it
			[]any{"Петров", "p@firm.ru", "Сбербанк России", 7707083893},
			[]any{"Сидоров", "s@firm.ru", "ООО Новая", ""},
			[]any{"Орлов", "o@firm.ru", "", ""})
		im := run(t, st, core.ImportOptions{Entity: core.EntityContact}, file)
		require.Equal(t, "done", im.Status, im.Error)
		require.Equal(t, []int64{3, 1, 2, 0}, []int64{im.Created, im.Failed, im.AccountsLinked, im.AccountsCreated}, "%+v", failures(t, st, im.ID))
		require.Equal(t, "account_name", im.Mapping["Организация"])
		require.Equal(t, romashka.ID, accountOf("i@firm.ru"))
		require.Equal(t, sber.ID, accountOf("p@firm.ru"), "the ИНН finds the account whatever its name")
		require.Equal(t, "", accountOf("o@firm.ru"))
		require.Contains(t, failures(t, st, im.ID)[4], "Организация: no account «ООО Новая»")
		require.Contains(t, failures(t, st, im.ID)[4], "create_accounts")
		require.Equal(t, 2, count(t, st, `SELECT count(*) FROM accounts`), "nothing created without create_accounts")
	})

	t.Run("CreateAccounts", func(t *testing.T) {
		file := book(t, []any{"Фамилия", "E-mail", "Телефон", "Организация", "ИНН", "КПП"},
			[]any{"Сидоров", "s@firm.ru", "", "ООО Новая", "", ""},
			[]any{"Кузнецов", "k@firm.ru", "", "ООО Новая", "", ""},                     // the same new account
			[]any{"Иванов", "i@firm.ru", "", "ООО Пропуск", "", ""},                     // a duplicate, skipped: no account for it
			[]any{"Смирнов", "sm@firm.ru", "", "ИП Смирнов", "7707083894", ""},          // a bad ИНН: the account cannot be created
			[]any{"Попов", "po@firm.ru", "12", "ООО Призрак", "", ""},                   // a bad phone: the row fails, no account
			[]any{"Волков", "v@firm.ru", "", "ООО «Вектор»", "7736050003", "773601001"}) // with its КПП
		im := run(t, st, core.ImportOptions{Entity: core.EntityContact, CreateAccounts: true}, file)
		require.Equal(t, "done", im.Status, im.Error)
		fails := failures(t, st, im.ID)
		require.Equal(t, []int64{3, 1, 2, 3, 2}, []int64{im.Created, im.Skipped, im.Failed, im.AccountsLinked, im.AccountsCreated}, "%+v", fails)
		require.True(t, im.Options.CreateAccounts)
		novaya := accountOf("s@firm.ru")
		require.NotEmpty(t, novaya)
		require.Equal(t, novaya, accountOf("k@firm.ru"))
		require.Equal(t, romashka.ID, accountOf("i@firm.ru"), "the skipped contact is unchanged")
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE name = 'ООО Новая' AND type = 'customer'`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE name = 'ООО «Вектор»' AND inn = '7736050003' AND kpp = '773601001'`))
		require.Equal(t, 0, count(t, st, `SELECT count(*) FROM accounts WHERE name IN ('ООО Пропуск', 'ИП Смирнов', 'ООО Призрак')`))
		require.Contains(t, fails[5], "Организация: the account cannot be created: inn")
		require.Contains(t, fails[6], "phone")
		require.Equal(t, 4, count(t, st, `SELECT count(*) FROM outbox WHERE entity = 'account' AND type LIKE '%created'`),
			"the two accounts made before and the two new ones have their events")

		// Again: the accounts are found now, none is created twice.
		im = run(t, st, core.ImportOptions{Entity: core.EntityContact, CreateAccounts: true, OnDuplicate: core.ImportUpdate}, file)
		require.Equal(t, []int64{0, 4, 2, 4, 1}, []int64{im.Created, im.Updated, im.Failed, im.AccountsLinked, im.AccountsCreated},
			"%+v", failures(t, st, im.ID))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE name = 'ООО Новая'`))
		require.Equal(t, 1, count(t, st, `SELECT count(*) FROM accounts WHERE name = 'ООО Пропуск'`), "the update links Иванов to it")
		require.NotEqual(t, romashka.ID, accountOf("i@firm.ru"))
		require.Equal(t, 0, count(t, st, `SELECT count(*) FROM accounts WHERE name IN ('ИП Смирнов', 'ООО Призрак')`))
	})

	t.Run("DryRun", func(t *testing.T) {
		before := count(t, st, `SELECT count(*) FROM accounts`)
		file := book(t, []any{"Фамилия", "E-mail", "Организация"}, []any{"Зайцев", "z@firm.ru", "ООО Сухая"},
			[]any{"Белов", "b@firm.ru", "ПАО Сбербанк"})
		im := run(t, st, core.ImportOptions{Entity: core.EntityContact, CreateAccounts: true, DryRun: true}, file)
		require.Equal(t, []int64{2, 0, 2, 1}, []int64{im.Created, im.Failed, im.AccountsLinked, im.AccountsCreated}, im.Error)
		require.Equal(t, before, count(t, st, `SELECT count(*) FROM accounts`), "a dry run creates nothing")
		require.Equal(t, 0, count(t, st, `SELECT count(*) FROM contacts WHERE email IN ('z@firm.ru', 'b@firm.ru')`))
	})
}

func TestImportContactFields(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	boss, err := st.Contacts().Create(ctx, core.Patch{"last_name": []byte(`"Петров"`), "first_name": []byte(`"Пётр"`),
		"middle_name": []byte(`"Ильич"`)})
	require.NoError(t, err)
	// The headers SalesPlatform's Russian export writes.
	file := book(t, []any{"Фамилия", "Имя", "Основной адрес электронной почты", "День рождения", "Домашний тел.", "Факс", "Ассистент",
		"Тел.ассистента", "Начальник:", "Улица", "Город", "Доп. адрес: город", "Доп. адрес: улица"},
		[]any{"Иванов", "Иван", "i@firm.ru", "15.03.1980", "8 (495) 111-22-33", "+7 495 111-22-34", "Мария", "8 912 000 00 01",
			"Петр Петров", "ул. Ленина, 1", "Москва", "Тула", "пр. Мира, 2"},
		[]any{"Сидоров", "", "s@firm.ru", 29295, "", "", "", "", boss.ID, "", "", "", ""}, // a serial date, an id
		[]any{"Кузнецов", "", "k@firm.ru", "", "", "", "", "", "Неизвестный Человек", "", "", "", ""},
		[]any{"Орлов", "", "o@firm.ru", "", "", "", "", "", "0190a5c0-0000-7000-8000-000000000000", "", "", "", ""},
		[]any{"Волков", "", "v@firm.ru", "31.02.1980", "", "", "", "", "", "", "", "", ""})
	im := run(t, st, core.ImportOptions{Entity: core.EntityContact}, file)
	require.Equal(t, "done", im.Status, im.Error)
	fails := failures(t, st, im.ID)
	require.Equal(t, []int64{2, 3}, []int64{im.Created, im.Failed}, "%+v", fails)
	require.Empty(t, im.Unmapped)

	var birthday time.Time
	var home, fax, assistant, assistantPhone, reportsTo, city, otherCity, otherStreet string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT birthday, home_phone, fax, assistant, assistant_phone, reports_to_id::text,
		address->>'city', other_address->>'city', other_address->>'street' FROM contacts WHERE email = 'i@firm.ru'`).
		Scan(&birthday, &home, &fax, &assistant, &assistantPhone, &reportsTo, &city, &otherCity, &otherStreet))
	require.Equal(t, []any{"1980-03-15", "+74951112233", "+74951112234", "Мария", "+79120000001", boss.ID, "Москва", "Тула", "пр. Мира, 2"},
		[]any{birthday.Format("2006-01-02"), home, fax, assistant, assistantPhone, reportsTo, city, otherCity, otherStreet},
		"«Петр Петров» is Петров Пётр Ильич")
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM contacts WHERE email = 's@firm.ru' AND birthday = '1980-03-15' AND reports_to_id = $1`, boss.ID))
	require.Contains(t, fails[4], "Руководитель: no contact is named «Неизвестный Человек»")
	require.Contains(t, fails[5], "reports_to_id")
	require.Contains(t, fails[6], "Дата рождения: \"31.02.1980\" is not a date")
}

func TestExportImportsNewContactFieldsBack(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	boss, err := st.Contacts().Create(ctx, core.Patch{"last_name": []byte(`"Петров"`)})
	require.NoError(t, err)
	_, err = st.Contacts().Create(ctx, core.Patch{"last_name": []byte(`"Иванов"`), "birthday": []byte(`"1980-03-15"`),
		"home_phone": []byte(`"8 495 111-22-33"`), "fax": []byte(`"8 495 111-22-34"`), "assistant": []byte(`"Мария"`),
		"assistant_phone": []byte(`"8 912 000-00-01"`), "reports_to_id": []byte(`"` + boss.ID + `"`),
		"address": []byte(`{"city":"Москва","country":"Россия","po_box":"12"}`), "other_address": []byte(`{"city":"Тула","street":"пр. Мира, 2"}`)})
	require.NoError(t, err)
	page, err := st.Contacts().List(ctx, core.ContactFilter{ListParams: core.ListParams{Limit: 100, Sort: core.Sort{Field: "created_at"}}})
	require.NoError(t, err)
	w, err := xlsx.NewWriter(core.EntityContact, nil)
	require.NoError(t, err)
	for i := range page.Items {
		require.NoError(t, w.Write(&page.Items[i]))
	}
	var b bytes.Buffer
	require.NoError(t, w.Close(&b))
	before := count(t, st, `SELECT count(*) FROM outbox`)

	im := run(t, st, core.ImportOptions{Entity: core.EntityContact, Key: "id", OnDuplicate: core.ImportUpdate}, b.Bytes())
	require.Equal(t, "done", im.Status, im.Error)
	require.Equal(t, []int64{0, 2, 0}, []int64{im.Created, im.Updated, im.Failed}, "%+v", failures(t, st, im.ID))
	require.Equal(t, []string{"Создано (МСК, UTC+3)", "Изменено (МСК, UTC+3)"}, im.Unmapped, "every exported field is read back but the hub's times")
	require.Equal(t, before, count(t, st, `SELECT count(*) FROM outbox`), "every field came back as it was")
}

// An import that fills a table analyzes it: the next lists are planned
// for the rows it holds, not for the empty table it was.
func TestLargeImportAnalyzesItsTable(t *testing.T) {
	st := storetest.NewStore(t)
	ctx := context.Background()
	rows := [][]any{{"Фамилия", "Компания", "Телефон"}}
	for i := range 1200 {
		rows = append(rows, []any{fmt.Sprintf("Клиент %d", i), "ООО Большой импорт", fmt.Sprintf("+7912%07d", i)})
	}
	reltuples := func() float64 {
		var n float64
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'leads'::regclass`).Scan(&n))
		return n
	}
	require.LessOrEqual(t, reltuples(), 0.0, "a new database has no statistics on leads")

	im, err := st.CreateImport(ctx, core.ImportOptions{Entity: core.EntityLead}, "leads.xlsx", book(t, rows...))
	require.NoError(t, err)
	ran, err := imports.New(imports.Config{BatchSize: 500}, st).RunOnce(ctx, nil)
	require.NoError(t, err)
	require.True(t, ran)
	im, err = st.GetImport(ctx, im.ID)
	require.NoError(t, err)
	require.Equal(t, []any{"done", int64(1200)}, []any{im.Status, im.Created}, im.Error)
	require.Equal(t, 1200.0, reltuples(), "ANALYZE counted the imported rows")
}
