package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestTextProblem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in        string
		multiline bool
		want      string
	}{
		{"Иванов\tИван", false, ""}, {"a\x00b", false, "control_character"}, {"a\x00b", true, "control_character"},
		{"a\nb", false, "control_character"}, {"a\nb\r\n", true, ""}, {"\x1b[31m", true, "control_character"},
		{"\xff", false, "invalid_utf8"}, {"", false, ""},
	} {
		require.Equal(t, tc.want, core.TextProblem(tc.in, tc.multiline), "%q", tc.in)
	}
	for raw, want := range map[string][2]string{
		`{"a":[1,"x",{"b":"\u0000"}]}`: {".a[2].b", "control_character"},
		`["ok","line\nbreak"]`:         {"", ""},
		`{"\u0001":"x"}`:               {"", "control_character"},
		`"\u0000"`:                     {"", "control_character"},
		`[1, true, null, 2.5]`:         {"", ""},
		`not json`:                     {"", ""},
	} {
		path, code := core.JSONTextProblem([]byte(raw))
		require.Equal(t, want, [2]string{path, code}, raw)
	}
}

// TestReportValuesAreText: a NUL in a report's filter value, a schedule's
// parameter or a run's parameter is the 422 a body field gets, before
// PostgreSQL refuses it (SQLSTATE 22021, 22P05 in jsonb).
func TestReportValuesAreText(t *testing.T) {
	t.Parallel()
	p, err := core.DecodePatch([]byte(`{"name":"x","entity":"lead","columns":["company"],` +
		`"filters":{"op":"and","conditions":[{"field":"company","operator":"in","value":["ok","a\u0000b"]}]}}`))
	require.NoError(t, err)
	var r core.Report
	errs := core.ReportSchema().Apply(&r, p, "")
	require.Equal(t, []core.FieldError{{Field: "filters.conditions[0].value[1]", Code: "control_character", Message: "must be printable UTF-8 text"}}, errs)

	d := core.ReportDefinition{Entity: "lead", Columns: []string{"company"}, Filters: &core.ReportFilter{Op: "and",
		Conditions: []core.ReportCondition{{Field: "company", Operator: "equals", Value: []byte(`"\u0000"`)}}}}
	require.Equal(t, []core.FieldError{{Field: "filters.conditions[0].value", Code: "control_character", Message: "must be printable UTF-8 text"}}, d.Check(),
		"a definition that did not come through the API is checked too")

	p, err = core.DecodePatch([]byte(`{"parameters":{"company":"\u0000"}}`))
	require.NoError(t, err)
	var s core.ReportSchedule
	require.Equal(t, "control_character", core.ReportScheduleSchema().Apply(&s, p, "")[0].Code)

	run := core.ReportRun{Parameters: map[string]string{"company": "Ромашка\x00", "ok": "Ромашка", "a\x01": "x"}}
	require.Equal(t, []core.FieldError{{Field: "parameters", Code: "control_character", Message: "must be printable UTF-8 text"},
		{Field: "company", Code: "control_character", Message: "must be printable UTF-8 text"}}, run.Check())
}

// TestWebFormTextIsChecked: a form definition is stored as one JSON
// document, so a NUL in any of its texts is named, not a database error.
func TestWebFormTextIsChecked(t *testing.T) {
	t.Parallel()
	f := core.WebForm{Slug: "contact", Defaults: map[string]string{"description": "a\x00"}}
	f.Normalize()
	require.Equal(t, []core.FieldError{{Field: "defaults.description", Code: "control_character", Message: "must be printable UTF-8 text"}},
		core.ErrorFields(f.Validate()))
}
