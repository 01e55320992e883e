package core

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Russian number words and noun forms for amounts in words, as print
// forms write them («Двенадцать тысяч двести рублей 00 копеек»).
var (
	onesMasc = []string{"", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	onesFem  = []string{"", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	teens    = []string{"десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать",
		"семнадцать", "восемнадцать", "девятнадцать"}
	tens = []string{"", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят",
		"девяносто"}
	hundreds = []string{"", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот",
		"девятьсот"}
)

// Plural picks the form of a noun for n: one (1, 21…), few (2–4, 22…)
// or many (0, 5–20, 11–14, 25…).
func Plural(n int64, one, few, many string) string {
	if n < 0 {
		n = -n
	}
	switch {
	case n%100 >= 11 && n%100 <= 14:
		return many
	case n%10 == 1:
		return one
	case n%10 >= 2 && n%10 <= 4:
		return few
	}
	return many
}

// triad writes 1..999 in words, feminine for thousands.
func triad(n int64, feminine bool) []string {
	var out []string
	if h := n / 100; h > 0 {
		out = append(out, hundreds[h])
	}
	switch t := n % 100; {
	case t >= 10 && t <= 19:
		out = append(out, teens[t-10])
	default:
		if t/10 > 0 {
			out = append(out, tens[t/10])
		}
		if t%10 > 0 {
			if feminine {
				out = append(out, onesFem[t%10])
			} else {
				out = append(out, onesMasc[t%10])
			}
		}
	}
	return out
}

// NumberInWords writes a whole number in Russian words, masculine
// («двадцать один») or feminine («двадцать одна»); zero groups are left
// out.
func NumberInWords(n int64, feminine bool) string {
	if n == 0 {
		return "ноль"
	}
	var words []string
	if n < 0 {
		words, n = append(words, "минус"), -n
	}
	scales := []struct {
		div            int64
		one, few, many string
		feminine       bool
	}{
		{1_000_000_000_000, "триллион", "триллиона", "триллионов", false},
		{1_000_000_000, "миллиард", "миллиарда", "миллиардов", false},
		{1_000_000, "миллион", "миллиона", "миллионов", false},
		{1_000, "тысяча", "тысячи", "тысяч", true},
	}
	for _, sc := range scales {
		if g := n / sc.div % 1000; g > 0 {
			words = append(words, triad(g, sc.feminine)...)
			words = append(words, Plural(g, sc.one, sc.few, sc.many))
		}
	}
	words = append(words, triad(n%1000, feminine)...)
	return strings.Join(words, " ")
}

// AmountInWords writes a rouble amount as documents do: «Двенадцать тысяч
// двести рублей 00 копеек» (roubles in words with a capital letter, the
// kopecks in two digits).
func AmountInWords(amount decimal.Decimal) string { return AmountInWordsIn(amount, BaseCurrency) }

func twoDigits(n int64) string {
	s := decimal.NewFromInt(n).String()
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}

// FormatAmount writes money as documents do: a decimal comma, spaces
// between thousands, two fraction digits: «1 234 567,89».
func FormatAmount(d decimal.Decimal) string {
	s := d.StringFixed(2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	out := b.String() + "," + frac
	if neg {
		out = "-" + out
	}
	return out
}

// FormatQuantity writes a quantity with a decimal comma and no trailing
// zeros («12,5»).
func FormatQuantity(d decimal.Decimal) string {
	return strings.Replace(d.String(), ".", ",", 1)
}

var monthsGenitive = []string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
	"октября", "ноября", "декабря"}

// FormatDateLong writes a date as document titles do: «27 ноября 2026 г.».
func FormatDateLong(t time.Time) string {
	return decimal.NewFromInt(int64(t.Day())).String() + " " + monthsGenitive[t.Month()-1] + " " +
		decimal.NewFromInt(int64(t.Year())).String() + " г."
}

// FormatDateQuoted writes a date as signature blocks do: «"27" ноября 2026 г.»
// with guillemets and a zero-padded day.
func FormatDateQuoted(t time.Time) string {
	return "«" + t.Format("02") + "» " + monthsGenitive[t.Month()-1] + " " + t.Format("2006") + " г."
}
