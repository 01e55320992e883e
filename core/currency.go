package core

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/text/currency"
)

// Currency is how documents name a currency: its ISO 4217 letter and
// numeric codes, the name a счёт-фактура's line (7) prints, and the noun
// forms of its units and hundredths for amounts in words (one, few, many,
// as Plural takes them).
type Currency struct {
	Code, Numeric, Name string
	Major, Minor        [3]string
	// MinorFeminine: «одна копейка», but «один цент».
	MinorFeminine bool
}

// BaseCurrency is the currency of the books: rates are to it.
const BaseCurrency = "RUB"

var currencies = map[string]Currency{
	"RUB": {"RUB", "643", "Российский рубль", [3]string{"рубль", "рубля", "рублей"}, [3]string{"копейка", "копейки", "копеек"}, true},
	"USD": {"USD", "840", "Доллар США", [3]string{"доллар США", "доллара США", "долларов США"}, [3]string{"цент", "цента", "центов"}, false},
	"EUR": {"EUR", "978", "Евро", [3]string{"евро", "евро", "евро"}, [3]string{"цент", "цента", "центов"}, false},
	"CNY": {"CNY", "156", "Китайский юань", [3]string{"юань", "юаня", "юаней"}, [3]string{"фэнь", "фэня", "фэней"}, false},
	"KZT": {"KZT", "398", "Казахстанский тенге", [3]string{"тенге", "тенге", "тенге"}, [3]string{"тиын", "тиына", "тиынов"}, false},
	"BYN": {"BYN", "933", "Белорусский рубль", [3]string{"белорусский рубль", "белорусских рубля", "белорусских рублей"},
		[3]string{"копейка", "копейки", "копеек"}, true},
	"GBP": {"GBP", "826", "Фунт стерлингов", [3]string{"фунт стерлингов", "фунта стерлингов", "фунтов стерлингов"}, [3]string{"пенни", "пенни", "пенни"}, false},
	"CHF": {"CHF", "756", "Швейцарский франк", [3]string{"швейцарский франк", "швейцарских франка", "швейцарских франков"}, [3]string{"сантим", "сантима", "сантимов"}, false},
	"TRY": {"TRY", "949", "Турецкая лира", [3]string{"турецкая лира", "турецкие лиры", "турецких лир"}, [3]string{"куруш", "куруша", "курушей"}, false},
	"AED": {"AED", "784", "Дирхам ОАЭ", [3]string{"дирхам ОАЭ", "дирхама ОАЭ", "дирхамов ОАЭ"}, [3]string{"филс", "филса", "филсов"}, false},
	"UZS": {"UZS", "860", "Узбекский сум", [3]string{"узбекский сум", "узбекских сума", "узбекских сумов"}, [3]string{"тийин", "тийина", "тийинов"}, false},
	"KGS": {"KGS", "417", "Сом", [3]string{"сом", "сома", "сомов"}, [3]string{"тыйын", "тыйына", "тыйынов"}, false},
	"AMD": {"AMD", "051", "Армянский драм", [3]string{"армянский драм", "армянских драма", "армянских драмов"}, [3]string{"лума", "лумы", "лум"}, true},
	"INR": {"INR", "356", "Индийская рупия", [3]string{"индийская рупия", "индийские рупии", "индийских рупий"}, [3]string{"пайса", "пайсы", "пайс"}, true},
	"JPY": {"JPY", "392", "Иена", [3]string{"иена", "иены", "иен"}, [3]string{"сен", "сена", "сенов"}, false},
}

// feminine majors: «одна турецкая лира».
var feminineMajor = map[string]bool{"TRY": true, "INR": true, "JPY": true}

// CurrencyOf is how documents name a currency; a valid ISO code the hub
// has no words for is named by its code.
func CurrencyOf(code string) Currency {
	if c, ok := currencies[code]; ok {
		return c
	}
	return Currency{Code: code, Name: code}
}

// ValidCurrency reports whether code is an ISO 4217 currency code in use
// (RUB, USD, …; XYZ is not).
func ValidCurrency(code string) bool {
	// X… are precious metals, drawing rights (XDR), test and no-currency
	// codes: not a document's currency.
	return ISOCurrency(code) && code[0] != 'X'
}

// ISOCurrency reports whether code is in ISO 4217 at all (XDR included).
func ISOCurrency(code string) bool {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return false
	}
	u, err := currency.ParseISO(code)
	return err == nil && u.String() == code
}

// AmountInWordsIn writes an amount in a currency as documents do: «Сто
// долларов США 00 центов»; a currency without words is written «Сто 00/100
// CODE».
func AmountInWordsIn(amount decimal.Decimal, code string) string {
	c, ok := currencies[code]
	a := amount.Round(2)
	neg := a.IsNegative()
	a = a.Abs()
	whole := a.Truncate(0).IntPart()
	cents := a.Sub(a.Truncate(0)).Mul(decimal.NewFromInt(100)).Round(0).IntPart()
	words := NumberInWords(whole, feminineMajor[code])
	if neg {
		words = "минус " + words
	}
	r := []rune(words)
	r[0] = []rune(strings.ToUpper(string(r[0])))[0]
	if !ok {
		return string(r) + " " + twoDigits(cents) + "/100 " + code
	}
	return string(r) + " " + Plural(whole, c.Major[0], c.Major[1], c.Major[2]) + " " +
		twoDigits(cents) + " " + Plural(cents, c.Minor[0], c.Minor[1], c.Minor[2])
}

// CurrencyRate is the Bank of Russia's rate of a currency on a date: Rate
// roubles for Nominal units, as the Bank publishes it.
type CurrencyRate struct {
	Currency string          `json:"currency"`
	Nominal  int             `json:"nominal"`
	Rate     decimal.Decimal `json:"rate"`
	Date     Date            `json:"date"`
}

// MarshalJSON writes the rate with the Bank's four decimals: "93.2801".
func (r CurrencyRate) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Currency string `json:"currency"`
		Nominal  int    `json:"nominal"`
		Rate     string `json:"rate"`
		Date     Date   `json:"date"`
	}{r.Currency, r.Nominal, r.Rate.StringFixed(4), r.Date})
}

// PerUnit is the rate of one unit, the document's conversion_rate.
func (r CurrencyRate) PerUnit() decimal.Decimal {
	if r.Nominal <= 1 {
		return r.Rate
	}
	return r.Rate.DivRound(decimal.NewFromInt(int64(r.Nominal)), 6)
}

// CurrencyRates keeps the daily rates.
type CurrencyRates interface {
	// PutRates stores a day's rates (a repeat of the day replaces them);
	// it returns how many. Errors: EINVALID.
	PutRates(ctx context.Context, rates []CurrencyRate) (int, error)
	// Rates lists the rates of a date (the latest published on or before
	// it, as the Bank's rates stay in force until the next publication).
	Rates(ctx context.Context, date time.Time) ([]CurrencyRate, error)
	// Rate is one currency's rate in force on a date. Errors: ENOTFOUND.
	Rate(ctx context.Context, code string, date time.Time) (CurrencyRate, error)
}
