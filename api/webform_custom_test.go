package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// TestWebFormCustomFields: a form the admin API saves may map inputs to
// the target's custom fields, and only to fields the target has.
func TestWebFormCustomFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "POST", "/api/v1/fields/lead", b.admin, `{"key": "segment", "label": {"ru": "Сегмент"}, "type": "picklist",
		"options": [{"code": "retail", "label": {"ru": "Розница"}}, {"code": "b2b", "label": {"ru": "Опт"}}]}`)
	require.Equal(t, 201, r.status, string(r.body))

	requireProblem(t, b.do(t, "POST", "/api/v1/webforms", b.admin, `{"slug": "dealers", "fields": {"Отрасль": "custom.nope"}}`),
		422, core.EINVALID, "fields.Отрасль:unknown_field")
	requireProblem(t, b.do(t, "POST", "/api/v1/webforms", b.admin, `{"slug": "dealers", "target": "contact", "fields": {"Отрасль": "custom.segment"}}`),
		422, core.EINVALID, "fields.Отрасль:unknown_field")

	r = b.do(t, "POST", "/api/v1/webforms", b.admin, `{"slug": "dealers", "fields": {"Отрасль": "custom.segment"}, "hidden": {"custom.segment": "Опт"}}`)
	require.Equal(t, 201, r.status, string(r.body))
	require.Equal(t, map[string]any{"Отрасль": "custom.segment"}, r.json(t)["fields"])
	requireProblem(t, b.do(t, "PUT", "/api/v1/webforms/dealers", b.admin, `{"slug": "dealers", "hidden": {"custom.segment": "Мелкий опт"}}`),
		422, core.EINVALID, "hidden.custom.segment:invalid_choice")
	require.Equal(t, 403, b.do(t, "POST", "/api/v1/webforms", b.writer, `{"slug": "other", "fields": {"Отрасль": "custom.segment"}}`).status)

	// A field a form fills is not deleted from under it.
	r = b.do(t, "DELETE", "/api/v1/fields/lead/segment", b.admin, "")
	requireProblem(t, r, 409, core.ECONFLICT)
	require.Contains(t, r.json(t)["detail"], "dealers")
	require.Equal(t, 200, b.do(t, "PUT", "/api/v1/webforms/dealers", b.admin, `{"slug": "dealers", "fields": {"Имя": "last_name"}}`).status)
	r = b.do(t, "DELETE", "/api/v1/fields/lead/segment", b.admin, "")
	require.Less(t, r.status, 300, string(r.body))
}
