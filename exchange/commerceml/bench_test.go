package commerceml_test

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/crmhub/crmhub/exchange/commerceml"
)

// writeCatalog writes an import.xml of n goods, as 1C does (UTF-8 with a
// BOM, the 2.07 namespace), ~1.2 KB a good.
func writeCatalog(w io.Writer, n int) error {
	_, err := io.WriteString(w, "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация xmlns=\"urn:1C.ru:commerceml_2\" ВерсияСхемы=\"2.07\" ДатаФормирования=\"2026-11-27T10:00:00\">\n"+
		"<Классификатор><Ид>cls</Ид><Наименование>Классификатор</Наименование><Группы><Группа><Ид>g1</Ид><Наименование>Мебель</Наименование></Группа></Группы></Классификатор>\n"+
		"<Каталог СодержитТолькоИзменения=\"false\"><Ид>cat</Ид><ИдКлассификатора>cls</ИдКлассификатора><Наименование>Каталог</Наименование><Товары>\n")
	for i := 0; i < n && err == nil; i++ {
		_, err = fmt.Fprintf(w, `<Товар><Ид>%08d-0000-0000-0000-000000000000</Ид><Штрихкод>46%011d</Штрихкод><Артикул>A-%d</Артикул>`+
			`<Наименование>Товар номер %d с длинным наименованием</Наименование><БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>`+
			`<Группы><Ид>g1</Ид></Группы><Описание>Описание товара %d: удобный, прочный, недорогой.</Описание>`+
			`<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>22</Ставка></СтавкаНалога></СтавкиНалогов>`+
			`<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита>`+
			`<ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита>`+
			`<ЗначениеРеквизита><Наименование>Полное наименование</Наименование><Значение>Товар номер %d, полное наименование</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Товар>`+"\n",
			i, i, i, i, i, i)
	}
	if err == nil {
		_, err = io.WriteString(w, "</Товары></Каталог></КоммерческаяИнформация>\n")
	}
	return err
}

func peakRSS(b *testing.B) float64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func benchmarkDecode(b *testing.B, n int) {
	path := b.TempDir() + "/import.xml"
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeCatalog(f, n); err != nil {
		b.Fatal(err)
	}
	size, _ := f.Seek(0, io.SeekCurrent)
	f.Close()
	b.SetBytes(size)
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		d := commerceml.NewDecoder(f, commerceml.Limits{})
		goods := 0
		for {
			v, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := v.(*commerceml.Good); ok {
				goods++
			}
		}
		f.Close()
		if goods != n {
			b.Fatalf("decoded %d goods of %d", goods, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "goods/s")
	b.ReportMetric(peakRSS(b), "peak-RSS-MB")
}

// BenchmarkDecode10k and BenchmarkDecode100k decode a generated import.xml
// (decode only); run each alone to read its peak RSS.
func BenchmarkDecode10k(b *testing.B) { benchmarkDecode(b, 10_000) }

// BenchmarkDecode100k is BenchmarkDecode10k with 100,000 goods (~120 MB).
func BenchmarkDecode100k(b *testing.B) { benchmarkDecode(b, 100_000) }
