package core_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// TestOneCText writes each type's stored value as 1C reads it, and reads
// what it wrote back to the same value (the exchange's round trip).
func TestOneCText(t *testing.T) {
	t.Parallel()
	options := `"options": [{"code": "retail", "label": {"ru": "Розница"}}, {"code": "b2b", "label": {"ru": "Опт"}}]`
	for _, tc := range []struct {
		name, def string
		stored    any // as a record read from the database holds it
		want      string
	}{
		{"Text", `"type": "text"`, "сталь", "сталь"},
		{"Integer", `"type": "integer"`, float64(1234), "1234"},
		{"Decimal", `"type": "decimal", "scale": 2`, "1234.50", "1234.50"},
		{"Money", `"type": "money"`, "-0.50", "-0.50"},
		{"Date", `"type": "date"`, "2027-01-15", "2027-01-15"},
		{"DateTime", `"type": "datetime"`, "2026-12-03T07:00:00Z", "2026-12-03T10:00:00"},
		{"True", `"type": "boolean"`, true, "true"},
		{"False", `"type": "boolean"`, false, "false"},
		{"Picklist", `"type": "picklist", ` + options, "b2b", "Опт"},
		{"MultiPicklist", `"type": "multi_picklist", ` + options, []any{"retail", "b2b"}, "Розница, Опт"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mustDefine(t, `{"key": "f", "label": {"ru": "Поле"}, `+tc.def+`}`)
			got, ok := core.OneCText(&f, tc.stored)
			require.True(t, ok)
			require.Equal(t, tc.want, got)
			raw, errs := f.FromText(got)
			require.Empty(t, errs)
			want, err := json.Marshal(tc.stored)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(raw), "read back as stored")
		})
	}
	t.Run("NoValue", func(t *testing.T) {
		f := mustDefine(t, `{"key": "f", "label": {"ru": "Поле"}, "type": "text"}`)
		_, ok := core.OneCText(&f, nil)
		require.False(t, ok)
	})
}

// TestOneCCustom reads the values 1C sent for the mapped live fields: a
// value not sent leaves its field alone, a blank one clears it, a refused
// one is an error naming custom.key, a field not live is left out.
func TestOneCCustom(t *testing.T) {
	t.Parallel()
	maps, err := core.ParseOneCRequisites(core.EntityAccount, map[string]string{
		"ОКВЭД": "custom.okved", "Численность": "custom.staff", "Сайт": "custom.site", "Прочее": "custom.gone"})
	require.NoError(t, err)
	okved := mustDefine(t, `{"key": "okved", "label": {"ru": "ОКВЭД"}, "type": "text"}`)
	staff := mustDefine(t, `{"key": "staff", "label": {"ru": "Штат"}, "type": "integer"}`)
	site := mustDefine(t, `{"key": "site", "label": {"ru": "Сайт"}, "type": "url"}`)
	defs := map[string]*core.CustomField{"okved": &okved, "staff": &staff, "site": &site}
	sent := map[string]string{"ОКВЭД": "62.01", "Численность": "много", "Прочее": "x", "Сайт": " "}
	vals, errs := core.OneCCustom(maps, defs, func(m core.OneCRequisite) (string, bool) {
		v, ok := sent[m.Name]
		return v, ok
	})
	require.Equal(t, map[string]json.RawMessage{"okved": json.RawMessage(`"62.01"`), "site": json.RawMessage(`null`)}, vals)
	require.Len(t, errs, 1)
	require.Equal(t, "custom.staff", errs[0].Field)
}
