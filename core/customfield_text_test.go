package core_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// TestFromText reads each type's text as forms and spreadsheets write it.
func TestFromText(t *testing.T) {
	t.Parallel()
	options := `"options": [{"code": "retail", "label": {"ru": "Розница", "en": "Retail"}},
		{"code": "b2b", "label": {"ru": "Опт", "en": "Wholesale"}},
		{"code": "gov", "label": {"ru": "Госзаказ, тендеры", "en": "Government"}},
		{"code": "old", "label": {"ru": "Старый", "en": "Legacy"}, "retired": true}]`
	fields := map[string]core.CustomField{
		"text":     mustDefine(t, `{"key": "f", "label": {"ru": "Т"}, "type": "text", "max_length": 10}`),
		"textarea": mustDefine(t, `{"key": "f", "label": {"ru": "Т"}, "type": "textarea"}`),
		"integer":  mustDefine(t, `{"key": "f", "label": {"ru": "Ч"}, "type": "integer"}`),
		"decimal":  mustDefine(t, `{"key": "f", "label": {"ru": "Д"}, "type": "decimal", "scale": 2}`),
		"money":    mustDefine(t, `{"key": "f", "label": {"ru": "С"}, "type": "money"}`),
		"date":     mustDefine(t, `{"key": "f", "label": {"ru": "Д"}, "type": "date"}`),
		"datetime": mustDefine(t, `{"key": "f", "label": {"ru": "В"}, "type": "datetime"}`),
		"boolean":  mustDefine(t, `{"key": "f", "label": {"ru": "Б"}, "type": "boolean"}`),
		"picklist": mustDefine(t, `{"key": "f", "label": {"ru": "С"}, "type": "picklist", `+options+`}`),
		"multi":    mustDefine(t, `{"key": "f", "label": {"ru": "С"}, "type": "multi_picklist", `+options+`}`),
		"phone":    mustDefine(t, `{"key": "f", "label": {"ru": "Т"}, "type": "phone"}`),
		"email":    mustDefine(t, `{"key": "f", "label": {"ru": "П"}, "type": "email"}`),
		"url":      mustDefine(t, `{"key": "f", "label": {"ru": "С"}, "type": "url"}`),
		"link":     mustDefine(t, `{"key": "f", "label": {"ru": "С"}, "type": "link", "link_entity": "account"}`),
	}
	for _, tc := range []struct {
		name, field, text string
		want              string // the JSON; "" when the text is refused
		code              string // the refusal's code
	}{
		{"BlankIsNull", "integer", "  ", `null`, ""},
		{"Text", "text", " Иван ", `"Иван"`, ""},
		{"TextLinesJoined", "text", "a\r\nb", `"a b"`, ""},
		{"TextTooLong", "text", "12345678901", "", "too_long"},
		{"TextareaKeepsLines", "textarea", "a\nb", `"a\nb"`, ""},
		{"Integer", "integer", "12", `12`, ""},
		{"IntegerSigned", "integer", "-7", `-7`, ""},
		{"IntegerGrouped", "integer", "1 234 567", `1234567`, ""},
		{"IntegerNoBreakSpace", "integer", "12\u00a0000", `12000`, ""},
		{"IntegerZeroFraction", "integer", "12,00", `12`, ""},
		{"IntegerWord", "integer", "много", "", "invalid_type"},
		{"IntegerFraction", "integer", "1,5", "", "invalid_type"},
		{"IntegerTooLarge", "integer", "99999999999999999999", "", "invalid_type"},
		{"DecimalComma", "decimal", "1 234,5", `"1234.50"`, ""},
		{"DecimalDot", "decimal", "0.25", `"0.25"`, ""},
		{"DecimalCommaGroups", "decimal", "1,234.50", `"1234.50"`, ""},
		{"DecimalDotGroups", "decimal", "1.234.567,89", `"1234567.89"`, ""},
		{"DecimalLeadingPoint", "decimal", ",5", `"0.50"`, ""},
		{"DecimalTrailingZeros", "decimal", "3,1400", `"3.14"`, ""},
		{"DecimalTooPrecise", "decimal", "3,141", "", "too_precise"},
		{"DecimalBadGroups", "decimal", "1.23.4", "", "invalid_type"},
		{"DecimalTwoPoints", "decimal", "1,2,3.4,5", "", "invalid_type"},
		{"DecimalNotNumber", "decimal", "1e5", "", "invalid_type"},
		{"MoneyRubles", "money", "1 234,50 ₽", `"1234.50"`, ""},
		{"MoneyRub", "money", "-99 руб.", `"-99.00"`, ""},
		{"MoneyMinusSign", "money", "−5", `"-5.00"`, ""},
		{"DateRussian", "date", "03.12.2026", `"2026-12-03"`, ""},
		{"DateShort", "date", "3.2.2026", `"2026-02-03"`, ""},
		{"DateISO", "date", "2026-12-03", `"2026-12-03"`, ""},
		{"DateImpossible", "date", "31.02.2026", "", "invalid_date"},
		{"DateWord", "date", "завтра", "", "invalid_date"},
		{"DateTimeRFC3339", "datetime", "2026-12-03T10:00:00+03:00", `"2026-12-03T07:00:00Z"`, ""},
		{"DateTimeSpace", "datetime", "2026-12-03 10:00:00Z", `"2026-12-03T10:00:00Z"`, ""},
		{"DateTimeMoscow", "datetime", "03.12.2026 10:00", `"2026-12-03T07:00:00Z"`, ""},
		{"DateTimeSeconds", "datetime", "2026-12-03 10:00:30", `"2026-12-03T07:00:30Z"`, ""},
		{"DateTimeDateAlone", "datetime", "03.12.2026", `"2026-12-02T21:00:00Z"`, ""},
		{"DateTimeBad", "datetime", "10:00", "", "invalid_datetime"},
		{"BooleanDa", "boolean", "Да", `true`, ""},
		{"BooleanOne", "boolean", "1", `true`, ""},
		{"BooleanOn", "boolean", "on", `true`, ""},
		{"BooleanTrue", "boolean", "TRUE", `true`, ""},
		{"BooleanNet", "boolean", "нет", `false`, ""},
		{"BooleanZero", "boolean", "0", `false`, ""},
		{"BooleanOff", "boolean", "off", `false`, ""},
		{"BooleanBad", "boolean", "может быть", "", "invalid_type"},
		{"PicklistCode", "picklist", "b2b", `"b2b"`, ""},
		{"PicklistRussianLabel", "picklist", "опт", `"b2b"`, ""},
		{"PicklistEnglishLabel", "picklist", "WHOLESALE", `"b2b"`, ""},
		{"PicklistLabelSpaces", "picklist", "Госзаказ,  тендеры", `"gov"`, ""},
		{"PicklistRetired", "picklist", "Старый", `"old"`, ""},
		{"PicklistUnknown", "picklist", "Мелкий опт", "", "invalid_choice"},
		{"MultiOne", "multi", "Розница", `["retail"]`, ""},
		{"MultiCommas", "multi", "Розница, Опт,b2b", `["retail","b2b"]`, ""},
		{"MultiSemicolonsAndLines", "multi", "retail;\nWholesale", `["retail","b2b"]`, ""},
		{"MultiLabelWithComma", "multi", "Госзаказ, тендеры", `["gov"]`, ""},
		{"MultiUnknown", "multi", "Розница, Мелкий", "", "invalid_choice"},
		{"Phone", "phone", "8 (916) 123-45-67", `"+79161234567"`, ""},
		{"PhoneBad", "phone", "звоните", "", "invalid_phone"},
		{"Email", "email", "Ivan@Example.RU", `"ivan@example.ru"`, ""},
		{"URL", "url", " example.ru ", `"example.ru"`, ""},
		{"Link", "link", "0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", `"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"`, ""},
		{"LinkBad", "link", "ООО Ромашка", "", "invalid_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := fields[tc.field]
			got, errs := f.FromText(tc.text)
			if tc.want == "" {
				require.Nil(t, got)
				require.Equal(t, []string{"custom.f:" + tc.code}, codes(errs))
				require.NotEmpty(t, errs[0].Message)
				return
			}
			require.Empty(t, errs)
			require.JSONEq(t, tc.want, string(got))
		})
	}
}

// TestFromTextIn reads a time without an offset in the zone given.
func TestFromTextIn(t *testing.T) {
	t.Parallel()
	f := mustDefine(t, `{"key": "visit", "label": {"ru": "Визит"}, "type": "datetime"}`)
	got, errs := f.FromTextIn("03.12.2026 10:00", time.FixedZone("NSK", 7*60*60))
	require.Empty(t, errs)
	require.JSONEq(t, `"2026-12-03T03:00:00Z"`, string(got))
	got, errs = f.FromTextIn("2026-12-03T10:00:00+03:00", time.UTC)
	require.Empty(t, errs)
	require.JSONEq(t, `"2026-12-03T07:00:00Z"`, string(got), "an offset written wins")
}

// TestFromTextIsAWriteValue: what FromText gives, a record's write takes.
func TestFromTextIsAWriteValue(t *testing.T) {
	t.Parallel()
	defs := []core.CustomField{
		mustDefine(t, `{"key": "staff", "label": {"ru": "Штат"}, "type": "integer"}`),
		mustDefine(t, `{"key": "budget", "label": {"ru": "Бюджет"}, "type": "money"}`),
		mustDefine(t, `{"key": "segment", "label": {"ru": "Сегмент"}, "type": "multi_picklist",
			"options": [{"code": "retail", "label": {"ru": "Розница"}}, {"code": "b2b", "label": {"ru": "Опт"}}]}`),
	}
	patch := map[string]string{"staff": "1 200", "budget": "15 000,5", "segment": "Опт, Розница"}
	raw := []byte("{")
	for i, d := range defs {
		v, errs := d.FromText(patch[d.Key])
		require.Empty(t, errs)
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = append(raw, `"`+d.Key+`":`...)
		raw = append(raw, v...)
	}
	raw = append(raw, '}')
	vals, errs := core.ApplyCustom(defs, nil, raw, true)
	require.Empty(t, errs)
	require.Equal(t, core.CustomValues{"staff": int64(1200), "budget": "15000.50", "segment": []any{"b2b", "retail"}}, vals)
}
