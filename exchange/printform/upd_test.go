package printform_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/exchange/printform"
)

// updPages renders a УПД of n lines and returns its pages' text.
func updPages(t *testing.T, n int) []string {
	t.Helper()
	d, goods := goodsDoc(t, n)
	pdf, err := printform.Render(printform.Input{Form: printform.FormUPD, Doc: d, Seller: org(), Buyer: buyer(), Goods: goods,
		Basis: "Счёт на оплату № СЧ-2026-000057 от 27 ноября 2026 г.", SchetFakturaNumber: "412"})
	require.NoError(t, err)
	return textPages(t, pdf)
}

func TestUPDLayout(t *testing.T) {
	t.Parallel()

	t.Run("LeftColumnBesideTheHeader", func(t *testing.T) {
		t.Parallel()
		lines := strings.Split(updPages(t, 4)[0], "\n")
		for _, beside := range [][2]string{{"документ", "СЧЁТ-ФАКТУРА № 412"}, {"Статус: 1", "Продавец:"},
			{"1 – счёт-фактура и передаточный", "ИНН/КПП продавца:"}, {"2 – передаточный документ (акт)", "Грузополучатель"}} {
			i := lineWith(t, lines, beside[0])
			require.Contains(t, lines[i], beside[1], "%q is beside the header's %q", beside[0], beside[1])
			require.Less(t, strings.Index(lines[i], beside[0]), strings.Index(lines[i], beside[1]))
		}
	})

	t.Run("SheetsCount", func(t *testing.T) {
		t.Parallel()
		for n, want := range map[int]string{4: "Документ составлен на 1 листе", 40: "Документ составлен на 2 листах"} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				t.Parallel()
				pages := updPages(t, n)
				require.Len(t, pages, map[int]int{4: 1, 40: 2}[n])
				require.Contains(t, strings.Join(pages, ""), want)
			})
		}
	})

	t.Run("SignaturesUnderTheirCaptions", func(t *testing.T) {
		t.Parallel()
		lines := strings.Split(strings.Join(updPages(t, 4), "\n"), "\n")
		i := lineWith(t, lines, "Руководитель организации или иное уполномоченное лицо")
		require.Contains(t, lines[i], "Главный бухгалтер или иное уполномоченное лицо")
		require.NotContains(t, lines[i], "Иванов И. И.", "the names are on the lines under the captions")
		require.Contains(t, lines[i+1], "Иванов И. И.")
		require.Contains(t, lines[i+1], "Петрова А. А.")
		require.Equal(t, 2, strings.Count(lines[i+2], "(подпись)"))
		require.Equal(t, 2, strings.Count(lines[i+2], "(ф.и.о.)"))

		j := lineWith(t, lines, "Товар (груз) передал / услуги, результаты работ, права сдал")
		require.Contains(t, lines[j], "Товар (груз) получил / услуги, результаты работ, права принял")
		require.Contains(t, lines[j+1], "Руководитель")
		require.Contains(t, lines[j+1], "[12]")
		require.Contains(t, lines[j+1], "[17]")
		require.Equal(t, 2, strings.Count(lines[j+2], "(должность)"))
		require.Equal(t, 2, strings.Count(lines[j+2], "(ф.и.о.)"))
		for _, want := range []string{"[15]", "[20]", "Петрова А. А.", "ООО «Ромашка», ИНН/КПП 7707083893/773601001",
			"ООО «Лютик», ИНН/КПП 500100732259"} {
			require.Contains(t, strings.Join(lines[j:], "\n"), want)
		}
	})
}

// BenchmarkUPD_120Lines: the УПД is laid out twice (once to count its
// sheets).
func BenchmarkUPD_120Lines(b *testing.B) {
	d, goods := goodsDoc(b, 120)
	in := printform.Input{Form: printform.FormUPD, Doc: d, Seller: org(), Buyer: buyer(), Goods: goods}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := printform.Render(in); err != nil {
			b.Fatal(err)
		}
	}
}
