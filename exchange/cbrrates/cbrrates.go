// Package cbrrates decodes the Bank of Russia's daily rates
// (XML_daily.asp: ValCurs/Valute with CharCode, Nominal and Value with a
// decimal comma, VunitRate in files since 2022) into core's rates. Files
// come from the Bank in windows-1251 or re-encoded as UTF-8; one whose
// declaration says one and whose bytes are the other is refused, not
// read as mojibake. The decoder streams and is bounded.
package cbrrates

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

// MaxSize bounds a file: a day of the Bank's rates is about 5 KB.
const MaxSize = 1 << 20

// maxRates bounds the currencies of one file.
const maxRates = 500

type valute struct {
	CharCode  string `xml:"CharCode"`
	Nominal   string `xml:"Nominal"`
	Value     string `xml:"Value"`
	VunitRate string `xml:"VunitRate"`
}

// Decode reads one day's rates. Errors say what is wrong with the file.
func Decode(r io.Reader) ([]core.CurrencyRate, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("the file is over %d bytes: not a day of the Bank of Russia's rates", MaxSize)
	}
	if err := core.CheckXMLEncoding(data); err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bufio.NewReader(bytes.NewReader(data)))
	d.Strict = true
	d.CharsetReader = core.XMLCharsetReader
	var day time.Time
	var out []core.CurrencyRate
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "ValCurs":
			for _, a := range se.Attr {
				if a.Name.Local == "Date" {
					if day, err = time.Parse("02.01.2006", a.Value); err != nil {
						return nil, fmt.Errorf("ValCurs Date %q is not DD.MM.YYYY", a.Value)
					}
				}
			}
			if day.IsZero() {
				return nil, errors.New("ValCurs has no Date")
			}
		case "Valute":
			if day.IsZero() {
				return nil, errors.New("not the Bank of Russia's daily rates: no ValCurs with a Date around the Valute")
			}
			var v valute
			if err := d.DecodeElement(&v, &se); err != nil {
				return nil, fmt.Errorf("valute: %w", err)
			}
			rate, err := v.rate(day)
			if err != nil {
				return nil, err
			}
			if len(out) == maxRates {
				return nil, fmt.Errorf("more than %d currencies", maxRates)
			}
			out = append(out, rate)
		}
	}
	if day.IsZero() {
		return nil, errors.New("not the Bank of Russia's daily rates: no ValCurs element")
	}
	return out, nil
}

func (v valute) rate(day time.Time) (core.CurrencyRate, error) {
	code := strings.TrimSpace(v.CharCode)
	if !core.ISOCurrency(code) {
		return core.CurrencyRate{}, fmt.Errorf("valute %q: not an ISO 4217 currency code", code)
	}
	nominal, err := strconv.Atoi(strings.TrimSpace(v.Nominal))
	if err != nil || nominal < 1 || nominal > 1_000_000 {
		return core.CurrencyRate{}, fmt.Errorf("valute %s: Nominal %q is not a whole number from 1 to 1000000", code, v.Nominal)
	}
	value, err := commaDecimal(v.Value)
	if err != nil {
		return core.CurrencyRate{}, fmt.Errorf("valute %s: Value %q: %w", code, v.Value, err)
	}
	if v.VunitRate != "" { // the rate of one unit, since 2022: it must agree
		unit, err := commaDecimal(v.VunitRate)
		if err != nil {
			return core.CurrencyRate{}, fmt.Errorf("valute %s: VunitRate %q: %w", code, v.VunitRate, err)
		}
		per := value.Div(decimal.NewFromInt(int64(nominal)))
		if per.Sub(unit).Abs().GreaterThan(decimal.New(1, -4)) {
			return core.CurrencyRate{}, fmt.Errorf("valute %s: VunitRate %s is not Value %s / Nominal %d", code, unit, value, nominal)
		}
	}
	return core.CurrencyRate{Currency: code, Nominal: nominal, Rate: value, Date: core.NewDate(day)}, nil
}

// commaDecimal reads the Bank's decimals: «93,2801».
func commaDecimal(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.ReplaceAll(strings.TrimSpace(s), ",", "."))
	if err != nil || !d.IsPositive() || d.GreaterThan(decimal.NewFromInt(1_000_000_000)) {
		return decimal.Decimal{}, errors.New("not a positive decimal such as 93,2801")
	}
	return d, nil
}
