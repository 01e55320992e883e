package core_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// define builds a definition of a lead's field from JSON as the API gets
// it, and validates it.
func define(t *testing.T, js string) (core.CustomField, []core.FieldError) {
	t.Helper()
	p, err := core.DecodePatch([]byte(js))
	require.NoError(t, err)
	f := core.CustomField{Entity: core.EntityLead}
	errs := core.CustomFieldSchema().Apply(&f, p, "")
	if len(errs) > 0 {
		return f, errs
	}
	builtin := func(name string) bool { return name == "company" || name == "phone" }
	return f, f.Validate(builtin, []string{core.EntityAccount, core.EntityContact})
}

func mustDefine(t *testing.T, js string) core.CustomField {
	t.Helper()
	f, errs := define(t, js)
	require.Empty(t, errs)
	return f
}

func codes(errs []core.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

func TestCustomFieldDefinitions(t *testing.T) {
	t.Parallel()
	t.Run("TheIssuesPicklist", func(t *testing.T) {
		t.Parallel()
		f := mustDefine(t, `{"key": "segment", "label": {"ru": "Сегмент", "en": "Segment"}, "type": "picklist",
			"options": [{"code": "retail", "label": {"ru": "Розница", "en": "Retail"}}, {"code": "b2b", "label": {"ru": "Опт", "en": "Wholesale"}}],
			"filterable": true}`)
		require.Equal(t, core.FieldPicklist, f.Type)
		require.Len(t, f.Options, 2)
		require.True(t, f.Filterable)
	})
	t.Run("TextTakesADefaultLength", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, 255, mustDefine(t, `{"key": "inn2", "label": {"ru": "ИНН"}, "type": "text"}`).MaxLength)
		require.Equal(t, core.MaxCustomText, mustDefine(t, `{"key": "memo", "label": {"ru": "Памятка"}, "type": "textarea"}`).MaxLength)
	})
	for name, c := range map[string]struct{ js, want string }{
		"KeyForm":         {`{"key": "Segment", "label": {"ru": "С"}, "type": "text"}`, "key:invalid_key"},
		"KeyTooLong":      {`{"key": "` + strings.Repeat("k", 41) + `", "label": {"ru": "С"}, "type": "text"}`, "key:too_long"},
		"KeyIsBuiltIn":    {`{"key": "company", "label": {"ru": "С"}, "type": "text"}`, "key:builtin_field"},
		"KeyIsCustom":     {`{"key": "custom", "label": {"ru": "С"}, "type": "text"}`, "key:builtin_field"},
		"RussianLabel":    {`{"key": "x", "label": {"en": "X"}, "type": "text"}`, "label.ru:required"},
		"UnknownType":     {`{"key": "x", "label": {"ru": "Х"}, "type": "color"}`, "type:invalid_choice"},
		"NoOptions":       {`{"key": "x", "label": {"ru": "Х"}, "type": "picklist"}`, "options:invalid_length"},
		"OptionTwice":     {`{"key": "x", "label": {"ru": "Х"}, "type": "picklist", "options": [{"code": "a", "label": {"ru": "А"}}, {"code": "a", "label": {"ru": "Б"}}]}`, "options[1].code:duplicate"},
		"OptionCode":      {`{"key": "x", "label": {"ru": "Х"}, "type": "picklist", "options": [{"code": "А", "label": {"ru": "А"}}]}`, "options[0].code:invalid_code"},
		"LinkEntity":      {`{"key": "x", "label": {"ru": "Х"}, "type": "link", "link_entity": "pipeline"}`, "link_entity:invalid_choice"},
		"ScaleOnText":     {`{"key": "x", "label": {"ru": "Х"}, "type": "text", "scale": 2}`, "scale:not_supported"},
		"ScaleTooLarge":   {`{"key": "x", "label": {"ru": "Х"}, "type": "decimal", "scale": 9}`, "scale:too_large"},
		"TextTooLong":     {`{"key": "x", "label": {"ru": "Х"}, "type": "text", "max_length": 70000}`, "max_length:too_large"},
		"SearchNumber":    {`{"key": "x", "label": {"ru": "Х"}, "type": "integer", "searchable": true}`, "searchable:not_supported"},
		"SortTextarea":    {`{"key": "x", "label": {"ru": "Х"}, "type": "textarea", "sortable": true}`, "sortable:not_supported"},
		"IndexLongText":   {`{"key": "x", "label": {"ru": "Х"}, "type": "text", "max_length": 5000, "unique": true}`, "max_length:too_large"},
		"UniqueBoolean":   {`{"key": "x", "label": {"ru": "Х"}, "type": "boolean", "unique": true}`, "unique:not_supported"},
		"DefaultOfWrong":  {`{"key": "x", "label": {"ru": "Х"}, "type": "integer", "default": "много"}`, "default:invalid_type"},
		"DefaultNotAnOpt": {`{"key": "x", "label": {"ru": "Х"}, "type": "picklist", "options": [{"code": "a", "label": {"ru": "А"}}], "default": "b"}`, "default:invalid_choice"},
	} {
		t.Run("Refuses"+name, func(t *testing.T) {
			t.Parallel()
			_, errs := define(t, c.js)
			require.Contains(t, codes(errs), c.want)
		})
	}
	t.Run("AnEditKeepsKeyAndOptions", func(t *testing.T) {
		t.Parallel()
		old := mustDefine(t, `{"key": "x", "label": {"ru": "Х"}, "type": "picklist", "options": [{"code": "a", "label": {"ru": "А"}}, {"code": "b", "label": {"ru": "Б"}}]}`)
		edit := old
		edit.Key = "y"
		edit.Type = core.FieldMultiPicklist
		edit.Options = []core.FieldOption{{Code: "b", Label: core.Labels{RU: "Б"}}}
		require.ElementsMatch(t, []string{"key:read_only", "options:option_removed"}, codes(edit.CheckUpdate(&old)))
		require.True(t, edit.Reshapes(&old), "a type change converts the stored values")

		retire := old
		retire.Options = []core.FieldOption{{Code: "a", Label: core.Labels{RU: "А"}, Retired: true}, {Code: "b", Label: core.Labels{RU: "Б"}}}
		require.Empty(t, retire.CheckUpdate(&old), "retiring an option keeps it")
	})
}

// TestCustomValues runs every type's values, good and bad, through a
// merge patch as a record's write applies it.
func TestCustomValues(t *testing.T) {
	t.Parallel()
	defs := []core.CustomField{
		mustDefine(t, `{"key": "note", "label": {"ru": "Заметка"}, "type": "text", "max_length": 5}`),
		mustDefine(t, `{"key": "memo", "label": {"ru": "Памятка"}, "type": "textarea"}`),
		mustDefine(t, `{"key": "staff", "label": {"ru": "Штат"}, "type": "integer"}`),
		mustDefine(t, `{"key": "rate", "label": {"ru": "Ставка"}, "type": "decimal", "scale": 3}`),
		mustDefine(t, `{"key": "limit", "label": {"ru": "Лимит"}, "type": "money"}`),
		mustDefine(t, `{"key": "since", "label": {"ru": "С"}, "type": "date"}`),
		mustDefine(t, `{"key": "seen", "label": {"ru": "Виден"}, "type": "datetime"}`),
		mustDefine(t, `{"key": "vip", "label": {"ru": "VIP"}, "type": "boolean", "default": false}`),
		mustDefine(t, `{"key": "segment", "label": {"ru": "Сегмент"}, "type": "picklist", "options": [{"code": "retail", "label": {"ru": "Розница"}}, {"code": "old", "label": {"ru": "Старый"}, "retired": true}]}`),
		mustDefine(t, `{"key": "tags", "label": {"ru": "Метки"}, "type": "multi_picklist", "options": [{"code": "a", "label": {"ru": "А"}}, {"code": "b", "label": {"ru": "Б"}}]}`),
		mustDefine(t, `{"key": "hotline", "label": {"ru": "Телефон"}, "type": "phone"}`),
		mustDefine(t, `{"key": "billing", "label": {"ru": "Почта"}, "type": "email"}`),
		mustDefine(t, `{"key": "site", "label": {"ru": "Сайт"}, "type": "url"}`),
		mustDefine(t, `{"key": "partner", "label": {"ru": "Партнёр"}, "type": "link", "link_entity": "account"}`),
		mustDefine(t, `{"key": "region", "label": {"ru": "Регион"}, "type": "text", "required": true, "default": "Москва"}`),
	}
	apply := func(cur core.CustomValues, js string, creating bool) (core.CustomValues, []string) {
		v, errs := core.ApplyCustom(defs, cur, json.RawMessage(js), creating)
		return v, codes(errs)
	}

	t.Run("StoredForms", func(t *testing.T) {
		t.Parallel()
		v, errs := apply(nil, `{"note": " Да ", "memo": "строка 1\nстрока 2", "staff": 12, "rate": "1.5", "limit": 1000,
			"since": "2026-12-03", "seen": "2026-12-03T10:00:00.123+03:00", "segment": "retail", "tags": ["b", "a", "b"],
			"hotline": "8 (912) 345-67-89", "billing": "Info@Example.RU", "site": "example.ru",
			"partner": "0190A8E2-0000-7000-8000-000000000001"}`, true)
		require.Empty(t, errs)
		require.Equal(t, core.CustomValues{"note": "Да", "memo": "строка 1\nстрока 2", "staff": int64(12), "rate": "1.500",
			"limit": "1000.00", "since": "2026-12-03", "seen": "2026-12-03T07:00:00Z", "vip": false, "segment": "retail",
			"tags": []any{"b", "a"}, "hotline": "+79123456789", "billing": "info@example.ru", "site": "example.ru",
			"partner": "0190a8e2-0000-7000-8000-000000000001", "region": "Москва"}, v)
	})
	for name, c := range map[string]struct{ js, want string }{
		"UnknownKey":     {`{"nope": 1}`, "custom.nope:unknown_field"},
		"NotAnObject":    {`[1]`, "custom:invalid_type"},
		"TextTooLong":    {`{"note": "шесть!"}`, "custom.note:too_long"},
		"ControlChars":   {`{"note": "a\u0007"}`, "custom.note:control_character"},
		"IntegerWithDot": {`{"staff": 1.5}`, "custom.staff:invalid_type"},
		"IntegerUnsafe":  {`{"staff": 9007199254740993}`, "custom.staff:invalid_type"},
		"TooPrecise":     {`{"rate": "1.2345"}`, "custom.rate:too_precise"},
		"MoneyKopecks":   {`{"limit": "1.005"}`, "custom.limit:too_precise"},
		"NotADecimal":    {`{"rate": "один"}`, "custom.rate:invalid_type"},
		"BadDate":        {`{"since": "2026-02-30"}`, "custom.since:invalid_date"},
		"BadDateTime":    {`{"seen": "вчера"}`, "custom.seen:invalid_datetime"},
		"NotBoolean":     {`{"vip": "да"}`, "custom.vip:invalid_type"},
		"NotAnOption":    {`{"segment": "wholesale"}`, "custom.segment:invalid_choice"},
		"RetiredOption":  {`{"segment": "old"}`, "custom.segment:invalid_choice"},
		"MultiNotArray":  {`{"tags": "a"}`, "custom.tags:invalid_type"},
		"MultiUnknown":   {`{"tags": ["a", "z"]}`, "custom.tags:invalid_choice"},
		"BadPhone":       {`{"hotline": "12"}`, "custom.hotline:invalid_phone"},
		"BadEmail":       {`{"billing": "нет"}`, "custom.billing:invalid_email"},
		"BadLink":        {`{"partner": "42"}`, "custom.partner:invalid_id"},
		"RequiredNulled": {`{"region": null}`, "custom.region:required"},
	} {
		t.Run("Refuses"+name, func(t *testing.T) {
			t.Parallel()
			_, errs := apply(core.CustomValues{"region": "Тула"}, c.js, false)
			require.Equal(t, []string{c.want}, errs)
		})
	}
	t.Run("TooManyCodes", func(t *testing.T) {
		t.Parallel()
		many := `["a"` + strings.Repeat(`, "a"`, core.MaxMultiValues) + `]`
		_, errs := apply(nil, `{"tags": `+many+`}`, false)
		require.Equal(t, []string{"custom.tags:too_many"}, errs)
	})
	t.Run("MergePatch", func(t *testing.T) {
		t.Parallel()
		cur := core.CustomValues{"note": "a", "staff": int64(3), "segment": "old", "region": "Тула"}
		v, errs := apply(cur, `{"note": null, "staff": 4, "segment": "old"}`, false)
		require.Empty(t, errs, "a retired option the record holds may stay")
		require.Equal(t, core.CustomValues{"staff": int64(4), "segment": "old", "region": "Тула"}, v)
		require.Equal(t, "a", cur["note"], "the current values are not touched")
	})
	t.Run("RequiredOnCreate", func(t *testing.T) {
		t.Parallel()
		req := []core.CustomField{mustDefine(t, `{"key": "inn2", "label": {"ru": "ИНН"}, "type": "text", "required": true}`)}
		_, errs := core.ApplyCustom(req, nil, nil, true)
		require.Equal(t, []string{"custom.inn2:required"}, codes(errs))
		_, errs = core.ApplyCustom(req, core.CustomValues{}, nil, false)
		require.Empty(t, errs, "an update that does not touch custom values is not refused")
	})
}

func TestCustomFilters(t *testing.T) {
	t.Parallel()
	seen := mustDefine(t, `{"key": "seen", "label": {"ru": "Виден"}, "type": "datetime"}`)
	from, errs := seen.FilterBound("2026-12-01", false)
	require.Empty(t, errs)
	require.Equal(t, "2026-12-01T00:00:00Z", from)
	to, _ := seen.FilterBound("2026-12-01", true)
	require.Equal(t, "2026-12-01T23:59:59Z", to, "a date as the upper bound takes its whole day")
	at, _ := seen.FilterBound("2026-12-01T12:00:00+03:00", false)
	require.Equal(t, "2026-12-01T09:00:00Z", at)
	require.Less(t, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z", "stored datetimes compare in time order as text")

	staff := mustDefine(t, `{"key": "staff", "label": {"ru": "Штат"}, "type": "integer"}`)
	n, errs := staff.FilterBound(" 10 ", false)
	require.Empty(t, errs)
	require.Equal(t, "10", n)
	_, errs = staff.FilterBound("много", false)
	require.Equal(t, []string{"custom.staff:invalid_type"}, codes(errs))

	seg := mustDefine(t, `{"key": "seg", "label": {"ru": "С"}, "type": "picklist", "options": [{"code": "a", "label": {"ru": "А"}}, {"code": "b", "label": {"ru": "Б"}}]}`)
	require.Equal(t, []string{"a", "b"}, seg.FilterValues("a, b,"))
	_, errs = seg.FilterBound("a", false)
	require.Equal(t, []string{"custom.seg:not_ranged"}, codes(errs))
	v, errs := seg.FilterValue("a")
	require.Empty(t, errs)
	require.Equal(t, "a", v)
	_, errs = seg.FilterValue("z")
	require.Equal(t, []string{"custom.seg:invalid_choice"}, codes(errs))

	note := mustDefine(t, `{"key": "note", "label": {"ru": "З"}, "type": "text"}`)
	require.Equal(t, []string{"a, b"}, note.FilterValues("a, b"), "a text's value is itself, commas and all")
	vip := mustDefine(t, `{"key": "vip", "label": {"ru": "V"}, "type": "boolean"}`)
	b, errs := vip.FilterValue("true")
	require.Empty(t, errs)
	require.Equal(t, true, b)
}
