package xlsx

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

// customPrefix begins the key of a custom field's column: "custom.segment"
// is the name field rules, filters and errors give the field, and a header
// an import matches.
const customPrefix = "custom."

// CustomColumns are the columns of a kind's custom fields, in the order
// given (the definitions' position): each headed by its Russian label,
// with its English label as a synonym, keyed custom.<key>.
func CustomColumns(defs []core.CustomField) []Column {
	cols := make([]Column, 0, len(defs))
	for i := range defs {
		d := &defs[i]
		c := Column{Key: customPrefix + d.Key, Header: d.Label.RU, Kind: customKind(d.Type), Width: customWidth(d.Type), Custom: d}
		if d.Label.EN != "" {
			c.Synonyms = []string{d.Label.EN}
		}
		cols = append(cols, c)
	}
	return cols
}

// withCustom returns the entity's built-in columns followed by its custom
// fields' (nil for an entity without columns). A custom column is headed
// by its Russian label when an import reads that header back as the
// field; when the label names another column (a built-in one wins, then
// the earlier field), it is headed custom.<key> instead: a workbook
// exported and imported again keeps each value in its field, and the
// table's header names stay distinct, as Excel requires.
func withCustom(entity string, custom []core.CustomField) []Column {
	cols := Columns(entity)
	if cols == nil || len(custom) == 0 {
		return cols
	}
	cols = append(cols, CustomColumns(custom)...)
	idx := headerIndex(cols)
	for i, c := range cols {
		if c.Custom != nil && idx[normHeader(c.Header)].Key != c.Key {
			cols[i].Header = c.Key
		}
	}
	return cols
}

// customKind is how a custom field's values are written: the cell type of
// its type, text for the rest.
func customKind(t core.FieldType) Kind {
	switch t {
	case core.FieldInteger:
		return Int
	case core.FieldDecimal:
		return Number
	case core.FieldMoney:
		return Money
	case core.FieldDate:
		return Date
	case core.FieldDateTime:
		return DateTime
	case core.FieldBoolean:
		return Bool
	case core.FieldPhone:
		return Phone
	}
	return Text
}

func customWidth(t core.FieldType) float64 {
	switch t {
	case core.FieldTextarea:
		return 30
	case core.FieldLink:
		return 38
	case core.FieldBoolean, core.FieldInteger:
		return 10
	case core.FieldDate:
		return 12
	case core.FieldDateTime:
		return 17
	}
	return 16
}

// customCell turns a stored custom value into what Writer.cell writes: a
// number for integers, decimals and money, a date or time, a bool (да or
// нет), a picklist's Russian label, or its code when codes is set (joined
// with ", " for a multi-picklist), text for the rest (a link as its id).
// A value that is not of its field's type (left from before a type
// change) is written as text rather than lost.
func customCell(f *core.CustomField, v any, codes bool) any {
	if v == nil {
		return nil
	}
	switch f.Type {
	case core.FieldInteger:
		if n, ok := wholeNumber(v); ok {
			return n
		}
	case core.FieldDecimal, core.FieldMoney:
		if d, ok := decimalOf(v); ok {
			return d
		}
	case core.FieldDate:
		if s, ok := v.(string); ok {
			if d, err := core.ParseDate(s); err == nil {
				return d
			}
		}
	case core.FieldDateTime:
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t
			}
		}
	case core.FieldBoolean:
		if b, ok := v.(bool); ok {
			return b
		}
	case core.FieldPicklist:
		if s, ok := v.(string); ok && !codes {
			return optionLabel(f, s)
		}
	case core.FieldMultiPicklist:
		if list, ok := v.([]any); ok {
			out := make([]string, 0, len(list))
			for _, c := range list {
				if codes {
					out = append(out, fmt.Sprint(c))
				} else {
					out = append(out, optionLabel(f, fmt.Sprint(c)))
				}
			}
			return strings.Join(out, ", ")
		}
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// wholeNumber reads an integer as JSON decoding left it: a float64 from
// the database's JSON, an int64 from a fresh write, a json.Number.
func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// decimalOf reads a decimal or money value (stored as a string; a number
// is taken too).
func decimalOf(v any) (decimal.Decimal, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		return decimal.NewFromFloat(x), true
	case json.Number:
		s = x.String()
	default:
		return decimal.Zero, false
	}
	d, err := decimal.NewFromString(s)
	return d, err == nil
}

// optionLabel is the Russian label of a picklist's option (its code when
// the option is unknown or has no label).
func optionLabel(f *core.CustomField, code string) string {
	for _, o := range f.Options {
		if o.Code == code && o.Label.RU != "" {
			return o.Label.RU
		}
	}
	return code
}

// customNumFmt is the number format of a custom decimal: its scale's
// fraction digits, at most, with group separators (nil: the kind's own).
func customNumFmt(f *core.CustomField) *string {
	if f == nil || f.Type != core.FieldDecimal {
		return nil
	}
	format := "#,##0"
	if f.Scale > 0 {
		format += "." + strings.Repeat("#", f.Scale)
	}
	return &format
}

// customText turns a cell's text into the JSON value of the column's
// custom field, as a person writes it (core.CustomField.FromText), after
// undoing what a sheet does to typed cells (cellText); errors name the
// column, as a built-in column's do.
func customText(c Column, raw string) (json.RawMessage, []core.FieldError) {
	v, errs := c.Custom.FromText(cellText(c.Custom.Type, raw))
	if len(errs) == 0 {
		return v, nil
	}
	out := make([]core.FieldError, len(errs))
	for i, e := range errs {
		out[i] = core.FieldError{Field: c.Header, Code: e.Code, Message: e.Message}
	}
	return nil, out
}

// cellText is the text a person sees in a typed cell, whose raw value a
// sheet gives: a date or time cell holds a serial number (read as the
// date, or the wall-clock time FromText reads in Moscow time, as exports
// write it), and a number cell a double's every digit (read as the 15
// significant digits Excel shows: 0.30000000000000004 is 0.3). Other
// text is left as it is.
func cellText(t core.FieldType, raw string) string {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return raw
	}
	switch {
	case t == core.FieldDate || t == core.FieldDateTime:
		tm, err := ParseTime(raw)
		if err != nil {
			return raw
		}
		if t == core.FieldDate {
			return tm.Format(time.DateOnly)
		}
		return tm.Format(time.DateTime)
	case t.Numeric() && strings.ContainsAny(raw, ".eE") && significantDigits(raw) > 15:
		shown, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
		return strconv.FormatFloat(shown, 'f', -1, 64)
	}
	return raw
}

// significantDigits counts the digits of a number's text from its first
// non-zero one, up to its exponent.
func significantDigits(s string) int {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	n := 0
	for _, r := range s {
		if r >= '1' && r <= '9' || r == '0' && n > 0 {
			n++
		}
	}
	return n
}

// customSample is a template's sample value of a custom field.
func customSample(f *core.CustomField) string {
	switch f.Type {
	case core.FieldPicklist, core.FieldMultiPicklist:
		for _, o := range f.Options {
			if !o.Retired {
				return o.Label.RU
			}
		}
	case core.FieldEmail:
		return "info@example.ru"
	case core.FieldURL:
		return "example.ru"
	}
	return ""
}
