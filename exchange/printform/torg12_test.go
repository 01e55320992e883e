package printform_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/printform"
)

// torg12Text renders a ТОРГ-12 of n goods lines and extracts its text.
func torg12Text(t *testing.T, n int, edit func(*printform.Input)) string {
	t.Helper()
	d, goods := goodsDoc(t, n)
	in := printform.Input{Form: printform.FormTorg12, Doc: d, Seller: org(), Buyer: buyer(), Goods: goods,
		Basis: "Счёт на оплату № СЧ-2026-000057 от 27 ноября 2026 г."}
	if edit != nil {
		edit(&in)
	}
	pdf, err := printform.Render(in)
	require.NoError(t, err)
	return pdfText(t, pdf)
}

// lineWith is the index of the first line of text containing s.
func lineWith(t *testing.T, lines []string, s string) int {
	t.Helper()
	for i, l := range lines {
		if strings.Contains(l, s) {
			return i
		}
	}
	require.Failf(t, "no line", "no line contains %q", s)
	return -1
}

func TestTorg12Layout(t *testing.T) {
	t.Parallel()

	t.Run("CodesColumn", func(t *testing.T) {
		t.Parallel()
		text := torg12Text(t, 2, nil)
		for _, want := range []string{"Коды", "Форма по ОКУД 0330212", "по ОКПО", "Вид деятельности по ОКДП",
			"(структурное подразделение)", "(организация, адрес, телефон, факс, банковские реквизиты)", "(договор, заказ-наряд)",
			"Транспортная накладная", "номер", "дата", "Вид операции", "Номер документа", "Дата составления"} {
			require.Contains(t, text, want)
		}
		require.Equal(t, 4, strings.Count(text, "по ОКПО"), "the shipper, the consignee, the supplier and the payer")
	})

	t.Run("OKPOOfAnIssuedDocument", func(t *testing.T) {
		t.Parallel()
		text := torg12Text(t, 2, func(in *printform.Input) {
			in.Doc.Requisites = &core.Requisites{Shipper: core.PartyRequisites{OKPO: "57972160"},
				Consignee: core.PartyRequisites{OKPO: "12345678"}, Buyer: core.PartyRequisites{OKPO: "87654321"}}
		})
		lines := strings.Split(text, "\n")
		require.Contains(t, lines[lineWith(t, lines, "Грузоотправитель")], "по ОКПО 57972160")
		require.Contains(t, lines[lineWith(t, lines, "Грузополучатель")], "по ОКПО 12345678")
		require.Contains(t, lines[lineWith(t, lines, "Поставщик")], "по ОКПО 57972160")
		require.Contains(t, lines[lineWith(t, lines, "Плательщик")], "по ОКПО 87654321")
	})

	t.Run("Footer", func(t *testing.T) {
		t.Parallel()
		text := torg12Text(t, 2, nil)
		for _, want := range []string{"Товарная накладная имеет приложение на ______ листах и содержит", "Масса груза (нетто)",
			"Масса груза (брутто)", "(прописью)", "Всего мест", "Приложение (паспорта, сертификаты и т.п.) на ______ листах",
			"По доверенности №", "выданной", "(кем, кому (организация, должность, фамилия, и. о.))", "Груз принял",
			"Груз получил грузополучатель", "Отпуск груза произвёл", "М.П.", "«27» ноября 2026 г.", "«__» ____________ 20__ г."} {
			require.Contains(t, text, want)
		}
	})

	t.Run("CaptionsUnderTheLines", func(t *testing.T) {
		t.Parallel()
		lines := strings.Split(torg12Text(t, 2, nil), "\n")
		i := lineWith(t, lines, "Отпуск груза разрешил")
		require.Contains(t, lines[i], "Руководитель")
		require.Contains(t, lines[i], "Иванов И. И.")
		require.Contains(t, lines[i], "Груз принял")
		for _, c := range []string{"(должность)", "(подпись)", "(расшифровка подписи)"} {
			require.NotContains(t, lines[i], c, "the captions are under the lines")
			require.Equal(t, 2, strings.Count(lines[i+1], c), "under both sides' lines")
		}
		j := lineWith(t, lines, "Главный (старший) бухгалтер")
		require.Contains(t, lines[j], "Петрова А. А.")
		require.Contains(t, lines[j+1], "(расшифровка подписи)")
	})

	t.Run("RecordsInWords", func(t *testing.T) {
		t.Parallel()
		for n, want := range map[int]string{1: "содержит один порядковый номер записей", 2: "содержит два порядковых номера записей",
			5: "содержит пять порядковых номеров записей", 11: "содержит одиннадцать порядковых номеров записей",
			21: "содержит двадцать один порядковый номер записей", 22: "содержит двадцать два порядковых номера записей"} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				t.Parallel()
				require.Contains(t, torg12Text(t, n, nil), want)
			})
		}
	})
}

// TestTaxFormsPageNumbers: every page of a tax form carries its number
// of the real count (a filler row ending a hair beyond gofpdf's
// page-break line once made gofpdf break a 40-line УПД's page on its
// own; see nudge and TestNewPageKeepsTheFillerOnItsPage).
func TestTaxFormsPageNumbers(t *testing.T) {
	t.Parallel()
	for _, form := range []string{printform.FormTorg12, printform.FormUPD, printform.FormSchetFaktura} {
		for _, n := range []int{4, 40, 41, 90} {
			t.Run(fmt.Sprintf("%s%d", form, n), func(t *testing.T) {
				t.Parallel()
				d, goods := goodsDoc(t, n)
				pdf, err := printform.Render(printform.Input{Form: form, Doc: d, Seller: org(), Buyer: buyer(), Goods: goods})
				require.NoError(t, err)
				pages := textPages(t, pdf)
				for i, p := range pages {
					require.Contains(t, p, fmt.Sprintf("Страница %d из %d", i+1, len(pages)))
				}
			})
		}
	}
}

// textPages are a PDF's pages as text.
func textPages(t *testing.T, pdf []byte) []string {
	t.Helper()
	pages := strings.Split(pdfText(t, pdf), "\f")
	if strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	return pages
}
