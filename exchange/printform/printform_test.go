package printform_test

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	o.Bank.Name = "ПАО Сбербанк, г. Москва"
	o.Bank.BIK = "044525225"
	o.Bank.Account = "40702810938000012345"
	o.Bank.CorrespondentAccount = "30101810400000000225"
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
	d.Number = "СЧ-2026-000057"
	d.TaxMode = string(mode)
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
// pdfTitle is the document's Title as pdfinfo reads it.
func pdfTitle(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	out, err := exec.Command("pdfinfo", path).Output()
	require.NoError(t, err)
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "Title:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

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
	q.Number = "КП-2026-000003"
	q.Subject = "Мебель для офиса"
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

// goodsDoc is a realization of n product lines with their catalog details.
func goodsDoc(t testing.TB, n int) (*core.DocumentBody, map[string]printform.Goods) {
	d := document(t, n, core.TaxIndividual)
	d.Number = "РЛ-2026-000031"
	goods := map[string]printform.Goods{}
	for i := range d.Lines {
		id := fmt.Sprintf("0190a5c0-0000-7000-8000-%012d", i%4)
		d.Lines[i].ProductID, d.Lines[i].UnitCode = &id, "796"
		goods[id] = printform.Goods{Code: fmt.Sprintf("D-%02d", i%4), CountryCode: "156", CountryName: "Китай",
			Customs: "10702070/250126/3012345/1"}
	}
	return d, goods
}

func TestTaxForms(t *testing.T) {
	t.Parallel()
	d, goods := goodsDoc(t, 4)
	in := printform.Input{Doc: d, Seller: org(), Buyer: buyer(), Goods: goods, Basis: "Счёт на оплату № СЧ-2026-000057 от 27 ноября 2026 г.",
		SchetFakturaNumber: "412"}
	vat := core.FormatAmount(d.VATTotal.Decimal)
	net := core.FormatAmount(d.GrandTotal.Sub(d.VATTotal.Decimal))

	in.Form = printform.FormSchetFaktura
	pdf, err := printform.Render(in)
	require.NoError(t, err)
	text := pdfText(t, pdf)
	for _, want := range []string{"Приложение № 1 к постановлению Правительства Российской Федерации от 26 декабря 2011 г. № 1137",
		printform.DefaultEdition, "СЧЁТ-ФАКТУРА № 412 от 27 ноября 2026 г.", "(1а)", "ИНН/КПП продавца: 7707083893/773601001",
		"Грузоотправитель и его адрес: он же", "Документ об отгрузке № п/п 1-4 № РЛ-2026-000031 от 27 ноября 2026 г.", "(5б)",
		"ИНН/КПП покупателя: 500100732259", "Российский рубль, 643", "без акциза", "22%", "10%", "156", "Китай",
		"10702070/250126/3012345/1", "Всего к оплате", net, vat, core.FormatAmount(d.GrandTotal.Decimal),
		"Руководитель организации или иное уполномоченное лицо", "Главный бухгалтер или иное уполномоченное лицо"} {
		require.Contains(t, text, want)
	}
	golden(t, "schet-faktura", text)
	require.Equal(t, "Счёт-фактура № 412 от 27 ноября 2026 г.", pdfTitle(t, pdf), "the title a viewer shows: the form's name")

	in.Form = printform.FormUPD
	pdf, err = printform.Render(in)
	require.NoError(t, err)
	text = pdfText(t, pdf)
	for _, want := range []string{"Универсальный\nпередаточный\nдокумент", "Статус: 1", "СЧЁТ-ФАКТУРА № 412 от", "Код товара", "D-00", "[10]", "[12]", "[17]", "[21]",
		"Дата отгрузки, передачи (сдачи): 27 ноября 2026 г.", "Счёт на оплату № СЧ-2026-000057"} {
		require.Contains(t, text, want)
	}
	golden(t, "upd", text)
	in.UPDStatus = 2
	pdf, err = printform.Render(in)
	require.NoError(t, err)
	text = pdfText(t, pdf)
	require.Contains(t, text, "Статус: 2")
	require.Contains(t, text, "№ РЛ-2026-000031 от 27 ноября 2026 г.", "a transfer document only keeps the realization's number")
	require.NotContains(t, text, "№ 412")
	in.UPDStatus = 0

	in.Form = printform.FormTorg12
	pdf, err = printform.Render(in)
	require.NoError(t, err)
	text = pdfText(t, pdf)
	for _, want := range []string{"Унифицированная форма № ТОРГ-12", "Форма по ОКУД 0330212", "ТОВАРНАЯ НАКЛАДНАЯ", "РЛ-2026-000031",
		"27.11.2026", "Грузоотправитель", "Плательщик", "Всего по накладной", "содержит четыре порядковых номера записей",
		"Всего отпущено на сумму: " + core.AmountInWords(d.GrandTotal.Decimal), "Отпуск груза разрешил", "Груз получил грузополучатель"} {
		require.Contains(t, text, want)
	}
	golden(t, "torg12", text)

	// Group mode prints VAT per line like individual mode.
	group := document(t, 2, core.TaxGroup)
	group.Lines[1].VATRate = "22"
	require.NoError(t, group.Compute())
	pdf, err = printform.Render(printform.Input{Form: printform.FormSchetFaktura, Doc: group, Seller: org()})
	require.NoError(t, err)
	text = pdfText(t, pdf)
	for _, l := range group.Lines {
		require.Contains(t, text, core.FormatAmount(l.VATAmount.Decimal))
	}
	require.Contains(t, text, core.FormatAmount(group.VATTotal.Decimal))
}

func TestLongTorg12SpansPages(t *testing.T) {
	t.Parallel()
	d, goods := goodsDoc(t, 120)
	pdf, err := printform.Render(printform.Input{Form: printform.FormTorg12, Doc: d, Seller: org(), Buyer: buyer(), Goods: goods})
	require.NoError(t, err)
	pages := strings.Split(pdfText(t, pdf), "\f")
	if strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	require.Greater(t, len(pages), 2)
	for i, p := range pages {
		require.Contains(t, p, "Товар: наименование, характеристика", "page %d repeats the header", i+1)
	}
	require.Contains(t, pages[len(pages)-1], "Всего по накладной")
	require.Contains(t, pages[len(pages)-1], "сто двадцать порядковых номеров")
	// Each page ends its part of the table with «Итого» over its own lines
	// (column 15, the last amount); the pages add up to the whole.
	var sum decimal.Decimal
	lastAmount := func(line string) decimal.Decimal {
		f := strings.Fields(line)
		// the amount is the trailing "1 234,56" (its groups split by spaces)
		amount := f[len(f)-1]
		for i := len(f) - 2; i >= 0 && len(f[i]) <= 3 && strings.Trim(f[i], "0123456789") == ""; i-- {
			amount = f[i] + amount
		}
		return decimal.RequireFromString(strings.ReplaceAll(amount, ",", "."))
	}
	for i, p := range pages {
		var itogo []string
		for _, l := range strings.Split(p, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "Итого") {
				itogo = append(itogo, l)
			}
		}
		require.Len(t, itogo, 1, "page %d has one «Итого»", i+1)
		sum = sum.Add(lastAmount(itogo[0]))
	}
	var want decimal.Decimal
	for _, l := range d.Lines {
		want = want.Add(l.NetAmount.Add(l.VATAmount.Decimal))
	}
	require.Equal(t, want.StringFixed(2), sum.StringFixed(2))
}

func BenchmarkTorg12_120Lines(b *testing.B) {
	d, goods := goodsDoc(b, 120)
	in := printform.Input{Form: printform.FormTorg12, Doc: d, Seller: org(), Buyer: buyer(), Goods: goods}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := printform.Render(in); err != nil {
			b.Fatal(err)
		}
	}
}

// picture encodes a w×h picture as PNG or JPEG.
func picture(t *testing.T, w, h int, asPNG bool) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 160, A: 255})
		}
	}
	var b bytes.Buffer
	if asPNG {
		require.NoError(t, png.Encode(&b, img))
	} else {
		require.NoError(t, jpeg.Encode(&b, img, nil))
	}
	return b.Bytes()
}

func TestImages(t *testing.T) {
	t.Parallel()
	logo, stamp, sig := picture(t, 120, 40, true), picture(t, 90, 90, false), picture(t, 80, 30, true)
	for _, b := range [][]byte{logo, stamp, sig} {
		require.NoError(t, printform.CheckImage(b))
	}
	require.ErrorContains(t, printform.CheckImage([]byte("GIF89a....")), "not a PNG or JPEG")
	require.ErrorContains(t, printform.CheckImage(make([]byte, printform.MaxImage+1)), "at most")

	pdf, err := printform.Render(printform.Input{Form: printform.FormInvoice, Doc: document(t, 3, core.TaxIndividual),
		Seller: org(), Buyer: buyer(), Images: printform.Images{Logo: logo, Stamp: stamp, Signature: sig}})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"120x40", "90x90", "80x30"}, pdfImages(t, pdf))
	// Without pictures, none.
	pdf, err = printform.Render(printform.Input{Form: printform.FormAct, Doc: document(t, 3, core.TaxIndividual), Seller: org(), Buyer: buyer()})
	require.NoError(t, err)
	require.Empty(t, pdfImages(t, pdf))
}

// pdfImages lists the pixel sizes of the pictures a PDF holds, with
// poppler's pdfimages.
func pdfImages(t *testing.T, pdf []byte) []string {
	path := filepath.Join(t.TempDir(), "doc.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	out, err := exec.Command("pdfimages", "-list", path).Output()
	require.NoError(t, err, "pdfimages (poppler-utils)")
	var sizes []string
	for _, l := range strings.Split(string(out), "\n")[2:] {
		if f := strings.Fields(l); len(f) > 4 {
			sizes = append(sizes, f[3]+"x"+f[4])
		}
	}
	return sizes
}

// TestConcurrentRendersAgree renders one document from several goroutines:
// every PDF reads the same (the renders share no mutable state; run with
// -race, which caught gofpdf padding the shared font bytes). The tax forms
// also read the fonts' metrics, and the УПД lays itself out twice.
func TestConcurrentRendersAgree(t *testing.T) {
	t.Parallel()
	d, goods := goodsDoc(t, 5)
	for _, form := range []string{printform.FormInvoice, printform.FormTorg12, printform.FormUPD} {
		t.Run(form, func(t *testing.T) {
			t.Parallel()
			in := printform.Input{Form: form, Doc: d, Seller: org(), Buyer: buyer(), Goods: goods}
			first, err := printform.Render(in)
			require.NoError(t, err)
			out := make([][]byte, 6)
			errs := make([]error, len(out))
			var wg sync.WaitGroup
			for i := range out {
				wg.Go(func() { out[i], errs[i] = printform.Render(in) })
			}
			wg.Wait()
			want := pdfText(t, first)
			for i := range out {
				require.NoError(t, errs[i])
				require.Equal(t, want, pdfText(t, out[i]), "render %d", i)
			}
		})
	}
}
