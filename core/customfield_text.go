package core

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// FromText reads a value of the field from text as people and
// spreadsheets write it (a web form's input, a cell of an imported
// sheet) and returns it as a write's custom member takes it, or the
// errors naming custom.key:
//   - integer, decimal, money: "12", "1 234,50", "1,234.50", "1.234,50"
//     (spaces, a comma or a dot group thousands; the last comma or dot
//     of a number with both is its decimal point; a lone comma is one);
//     money may end with ₽, руб. or RUB;
//   - date: DD.MM.YYYY or YYYY-MM-DD;
//   - datetime: RFC 3339, or a date with HH:MM[:SS] in Moscow time (see
//     FromTextIn), or a date alone (its midnight);
//   - boolean: да/нет, yes/no, true/false, on/off, 1/0 in any case (д/н,
//     истина/ложь, вкл/выкл, y/n, t/f too; x or ✓ for yes);
//   - picklist: an option's code, or its Russian or English label, in
//     any case; multi_picklist: one such option, else several separated
//     by commas, semicolons or line breaks;
//   - text: the text (line breaks of a one-line field become spaces);
//     phone, e-mail, URL, link: the text, normalized as a write does.
//
// Blank text is null: no value. A retired option is read too: whether a
// record may hold it is its write's to say (one it holds already stays).
func (f *CustomField) FromText(s string) (json.RawMessage, []FieldError) {
	return f.FromTextIn(s, moscowTime())
}

// FromTextIn is FromText reading a date and time without an offset as
// the local time of loc (nil: Moscow).
func (f *CustomField) FromTextIn(s string, loc *time.Location) (json.RawMessage, []FieldError) {
	if loc == nil {
		loc = moscowTime()
	}
	path := "custom." + f.Key
	s = strings.TrimSpace(s)
	if s == "" {
		return json.RawMessage("null"), nil
	}
	raw, prev, errs := f.textRaw(s, loc, path)
	if len(errs) > 0 {
		return nil, errs
	}
	v, errs := f.value(raw, prev, path)
	if len(errs) > 0 {
		return nil, errs
	}
	out, err := json.Marshal(v)
	if err != nil { // value returns strings, numbers, booleans and arrays of strings
		return nil, fail(path, "invalid_type", "cannot be stored")
	}
	return out, nil
}

// moscowTime is the zone of a time written without an offset: Moscow,
// UTC+3 all year since 2014.
func moscowTime() *time.Location { return time.FixedZone("MSK", 3*60*60) }

// textRaw turns trimmed text into the JSON a write of the field takes,
// and the value to count as held (the options it names, retired or not).
func (f *CustomField) textRaw(s string, loc *time.Location, path string) (json.RawMessage, any, []FieldError) {
	switch f.Type {
	case FieldInteger:
		d, ok := textNumber(s)
		if !ok || !d.IsInteger() {
			return nil, nil, fail(path, "invalid_type", "must be a whole number, e.g. 12 or 1 234")
		}
		return json.RawMessage(d.String()), nil, nil
	case FieldDecimal, FieldMoney:
		if f.Type == FieldMoney {
			s = trimRubles(s)
		}
		d, ok := textNumber(s)
		if !ok {
			return nil, nil, fail(path, "invalid_type", "must be a number, e.g. 1 234,50")
		}
		return jsonString(d.String()), nil, nil
	case FieldDate:
		d, ok := textDate(s)
		if !ok {
			return nil, nil, fail(path, "invalid_date", "must be a date DD.MM.YYYY or YYYY-MM-DD")
		}
		return jsonString(d.Format(time.DateOnly)), nil, nil
	case FieldDateTime:
		t, ok := textDateTime(s, loc)
		if !ok {
			return nil, nil, fail(path, "invalid_datetime", "must be a date and time, e.g. 03.12.2026 10:00 or 2026-12-03T10:00:00+03:00")
		}
		return jsonString(t.Format(time.RFC3339)), nil, nil
	case FieldBoolean:
		b, ok := textBool(s)
		if !ok {
			return nil, nil, fail(path, "invalid_type", "must be да or нет (yes/no, true/false, 1/0)")
		}
		return json.RawMessage(strconv.FormatBool(b)), nil, nil
	case FieldPicklist:
		o := f.optionByText(s)
		if o == nil {
			return nil, nil, fail(path, "invalid_choice", "must be one of: "+f.choices())
		}
		return jsonString(o.Code), o.Code, nil
	case FieldMultiPicklist:
		return f.multiText(s, path)
	case FieldText:
		s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), " ")
	}
	return jsonString(s), nil, nil
}

// multiText reads the options of a multi-picklist: the whole text as one
// option (a label may hold a comma), else its parts.
func (f *CustomField) multiText(s, path string) (json.RawMessage, any, []FieldError) {
	var codes []string
	if o := f.optionByText(s); o != nil {
		codes = []string{o.Code}
	} else {
		var unknown []string
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(",;\n\r", r) }) {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			if o := f.optionByText(part); o != nil {
				codes = append(codes, o.Code)
			} else {
				unknown = append(unknown, part)
			}
		}
		if len(unknown) > 0 {
			return nil, nil, fail(path, "invalid_choice",
				"«"+strings.Join(unknown, "», «")+"» not among: "+f.choices())
		}
	}
	held := make([]any, len(codes))
	for i, c := range codes {
		held[i] = c
	}
	raw, err := json.Marshal(codes)
	if err != nil {
		return nil, nil, fail(path, "invalid_type", "cannot be stored")
	}
	return raw, held, nil
}

// optionByText finds the option text names: its code, else its code or a
// label in any case (spaces collapsed, ё as е); a live option before a
// retired one. Nil when none does.
func (f *CustomField) optionByText(s string) *FieldOption {
	for i := range f.Options {
		if f.Options[i].Code == s {
			return &f.Options[i]
		}
	}
	want := foldText(s)
	var retired *FieldOption
	for i := range f.Options {
		o := &f.Options[i]
		if foldText(o.Code) != want && foldText(o.Label.RU) != want && (o.Label.EN == "" || foldText(o.Label.EN) != want) {
			continue
		}
		if !o.Retired {
			return o
		}
		if retired == nil {
			retired = o
		}
	}
	return retired
}

// choices lists the live options for a person: "retail (Розница), b2b (Опт)".
func (f *CustomField) choices() string {
	var out []string
	for _, o := range f.Options {
		if !o.Retired {
			out = append(out, o.Code+" ("+o.Label.RU+")")
		}
	}
	return strings.Join(out, ", ")
}

// foldText is text as labels compare: lower case, single spaces, ё as е.
func foldText(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	return strings.ReplaceAll(s, "ё", "е")
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// trimRubles drops the ruble sign or abbreviation an amount ends with.
func trimRubles(s string) string {
	for _, suffix := range []string{"₽", "руб.", "руб", "р.", "rub"} {
		if n := len(s) - len(suffix); n >= 0 && strings.EqualFold(s[n:], suffix) {
			return strings.TrimSpace(s[:n])
		}
	}
	return s
}

// textNumber reads a number written with thousands grouped by spaces,
// commas or dots and a decimal comma or dot: "1 234,50", "1,234.50",
// "1.234,50", "-12", "0,5". One comma or one dot alone is the decimal
// point; several of one kind group thousands (then in threes).
func textNumber(s string) (decimal.Decimal, bool) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f', '\u2009', '\'':
			return -1
		case '−': // the minus sign
			return '-'
		}
		return r
	}, s)
	sign := ""
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		sign, s = "-", rest
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	whole, frac, ok := splitPoint(s)
	if !ok || !allDigits(whole+frac) {
		return decimal.Decimal{}, false
	}
	if whole == "" {
		whole = "0"
	}
	text := sign + whole
	if frac != "" {
		text += "." + frac
	}
	d, err := decimal.NewFromString(text)
	return d, err == nil
}

// splitPoint splits a number at its decimal point (one comma or dot
// alone, else the last of both kinds) and drops the separators grouping
// the whole part's thousands (the other kind, or several of one kind).
func splitPoint(s string) (whole, frac string, ok bool) {
	commas, dots := strings.Count(s, ","), strings.Count(s, ".")
	point, group := "", ""
	switch {
	case commas > 0 && dots > 0:
		point, group = ".", ","
		if strings.LastIndex(s, ",") > strings.LastIndex(s, ".") {
			point, group = ",", "."
		}
	case commas == 1:
		point = ","
	case dots == 1:
		point = "."
	case commas > 1:
		group = ","
	case dots > 1:
		group = "."
	}
	whole = s
	if point != "" {
		i := strings.LastIndex(s, point)
		whole, frac = s[:i], s[i+1:]
		if strings.Count(s, point) > 1 || (group != "" && strings.Contains(frac, group)) {
			return "", "", false
		}
	}
	if group == "" {
		return whole, frac, true
	}
	parts := strings.Split(whole, group)
	for i, p := range parts {
		if (i == 0 && (len(p) == 0 || len(p) > 3)) || (i > 0 && len(p) != 3) {
			return "", "", false
		}
	}
	return strings.Join(parts, ""), frac, true
}

// textDate reads DD.MM.YYYY (D.M.YYYY too) or YYYY-MM-DD.
func textDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.DateOnly, "2.1.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// textDateTime reads an RFC 3339 time, or a date (either form) with
// HH:MM or HH:MM:SS, or a date alone, the last two in loc.
func textDateTime(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.Replace(s, " ", "T", 1)); err == nil {
		return t, true
	}
	for _, date := range []string{time.DateOnly, "2.1.2006"} {
		for _, clock := range []string{"", " 15:04", " 15:04:05", "T15:04", "T15:04:05"} {
			if t, err := time.ParseInLocation(date+clock, s, loc); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// textBool reads yes or no in Russian or English, as words, 1/0 or on/off.
func textBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "да", "д", "истина", "вкл", "yes", "y", "true", "t", "on", "1", "x", "✓":
		return true, true
	case "нет", "н", "ложь", "выкл", "no", "n", "false", "f", "off", "0":
		return false, true
	}
	return false, false
}
