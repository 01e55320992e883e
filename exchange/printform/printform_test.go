package printform_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/printform"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

func org() core.Organization {
	o := core.Organization{Name: "ООО «Ромашка»", INN: "7707083893", KPP: "773601001", OGRN: "1027700132195",
		LegalAddress: "117997, г. Москва, ул. Вавилова, д. 19", Phone: "+7 495 500-55-50",
		Director: "Иванов И. И.", ChiefAccountant: "Петрова А. А."}
	o.Bank.Name, o.Bank.BIK = "ПАО Сбербанк, г. Москва", "044525225"
	o.Bank.Account, o.Bank.CorrespondentAccount = "40702810938000012345", "30101810400000000225"
	return o
}

func buyer() printform.Party {
	return printform.Party{Name: "ООО «Лютик»", INN: "500100732259", Address: "г. Химки, ул. Ленина, д. 1"}
}

func price(s string) *core.Money { m := core.NewMoney(decimal.RequireFromString(s)); return &m }

// document is a seeded document of n lines, its amounts computed by the
// totals engine.
func document(t testing.TB, n int, mode core.TaxMode) *core.DocumentBody {
	d := core.NewDocumentBody(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), "sent")
	d.Number, d.TaxMode = "СЧ-2026-000057", string(mode)
	names := []string{"Диван «Уют»", "Кресло", "Монтаж мебели", "Доставка по Москве"}
	for i := range n {
		l := core.DocumentLine{Name: names[i%len(names)], Unit: "шт", Quantity: core.Quantity{Decimal: decimal.NewFromInt(int64(i%3 + 1))},
			Price: price(fmt.Sprintf("%d.%02d", 1000+i*10, i%100)), VATRate: "22"}
		if i%4 == 3 {
			l.VATRate = "10"
		}
		d.Lines = append(d.Lines, l)
	}
	require.NoError(t, d.Compute())
	return &d
}

// pdfText extracts a PDF's text with poppler's pdftotext -layout.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	require.NoError(t, err, "pdftotext (poppler-utils, installed by make deps)")
	return string(out)
}

// golden compares text with testdata/<name>.txt (rewritten by -update).
func golden(t *testing.T, name, text string) {
	t.Helper()
	path := filepath.Join("testdata", name+".txt")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update once to write %s", path)
	require.Equal(t, string(want), text, "the extracted text of %s changed (go test -update after checking it)", name)
}

func TestInvoiceForm(t *testing.T) {
	t.Parallel()
	d := document(t, 4, core.TaxIndividual)
	pdf, err := printform.Render(printform.Input{Form: printform.FormInvoice, Doc: d, Seller: org(), Buyer: buyer(),
		Until: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	text := pdfText(t, pdf)
	for _, want := range []string{
		"Счёт на оплату № СЧ-2026-000057 от 27 ноября 2026 г.",
		"ПАО Сбербанк, г. Москва", "044525225", "30101810400000000225", "40702810938000012345",
		"ИНН 7707083893", "КПП 773601001", "ООО «Лютик», ИНН 500100732259",
		"Товары (работы, услуги)", "Диван «Уют»",
		"Итого:", "Сумма НДС (22%):", "Сумма НДС (10%):", "Всего к оплате:",
		"Всего наименований 4, на сумму " + core.FormatAmount(d.GrandTotal.Decimal) + " руб.",
		core.AmountInWords(d.GrandTotal.Decimal),
		"Оплатить не позднее 4 декабря 2026 г.",
		"/Иванов И. И./", "/Петрова А. А./",
	} {
		require.Contains(t, text, want)
	}
	golden(t, "invoice", text)
}

func TestActAndQuoteForms(t *testing.T) {
	t.Parallel()
	d := document(t, 3, core.TaxInclusive)
	d.Number = "А-2026-000015"
	pdf, err := printform.Render(printform.Input{Form: printform.FormAct, Doc: d, Seller: org(), Buyer: buyer(),
		Basis: "Счёт на оплату № СЧ-2026-000057 от 27 ноября 2026 г."})
	require.NoError(t, err)
	text := pdfText(t, pdf)
	for _, want := range []string{"Акт № А-2026-000015 от 27 ноября 2026 г.", "Исполнитель:", "Заказчик:", "Основание:",
		"Наименование работ, услуг", "В том числе НДС (22%):", "Всего оказано услуг 3",
		core.AmountInWords(d.GrandTotal.Decimal), "претензий", "ИСПОЛНИТЕЛЬ", "ЗАКАЗЧИК"} {
		require.Contains(t, text, want)
	}
	golden(t, "act", text)

	q := document(t, 2, core.TaxIndividual)
	q.Number, q.Subject = "КП-2026-000003", "Мебель для офиса"
	q.Lines[0].VATRate = ""
	pdf, err = printform.Render(printform.Input{Form: printform.FormQuote, Doc: q, Seller: org(), Buyer: printform.Party{},
		Until: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	text = pdfText(t, pdf)
	for _, want := range []string{"Коммерческое предложение № КП-2026-000003", "Мебель для офиса",
		"Кому:", "--, ИНН --", "Предложение действительно до 31 декабря 2026 г."} {
		require.Contains(t, text, want, "an unknown customer prints -- for its requisites")
	}
	golden(t, "quote", text)
}

// TestLongInvoiceSpansPages: 120 lines take several pages; the table
// header starts every page and the totals end the last one.
func TestLongInvoiceSpansPages(t *testing.T) {
	t.Parallel()
	d := document(t, 120, core.TaxIndividual)
	pdf, err := printform.Render(printform.Input{Form: printform.FormInvoice, Doc: d, Seller: org(), Buyer: buyer()})
	require.NoError(t, err)
	text := pdfText(t, pdf)
	pages := strings.Split(text, "\f")
	if strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	require.Greater(t, len(pages), 2)
	for i, p := range pages {
		require.Contains(t, p, "Товары (работы, услуги)", "page %d repeats the header", i+1)
		require.Contains(t, p, fmt.Sprintf("Страница %d из %d", i+1, len(pages)))
	}
	last := pages[len(pages)-1]
	require.Contains(t, last, "Всего к оплате:")
	require.Contains(t, last, "120 ", "the last row is on the totals' page")
	require.Contains(t, last, core.AmountInWords(d.GrandTotal.Decimal))
	require.NotContains(t, strings.Join(pages[:len(pages)-1], ""), "Всего к оплате:")
}

func TestBadForm(t *testing.T) {
	t.Parallel()
	_, err := printform.Render(printform.Input{Form: "torg13", Doc: document(t, 1, core.TaxIndividual)})
	require.Error(t, err)
	_, err = printform.Render(printform.Input{Form: printform.FormInvoice})
	require.Error(t, err)
}

func BenchmarkInvoice10Lines(b *testing.B) {
	d := document(b, 10, core.TaxIndividual)
	in := printform.Input{Form: printform.FormInvoice, Doc: d, Seller: org(), Buyer: buyer()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := printform.Render(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInvoice120Lines(b *testing.B) {
	d := document(b, 120, core.TaxIndividual)
	in := printform.Input{Form: printform.FormInvoice, Doc: d, Seller: org(), Buyer: buyer()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := printform.Render(in); err != nil {
			b.Fatal(err)
		}
	}
}
