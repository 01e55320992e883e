package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/core"
)

// TestCustomFieldsThroughTheAPI defines fields as the issue spells it,
// writes and filters records by them, and validates every request and
// response against the OpenAPI document.
func TestCustomFieldsThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	check := openAPIChecker(t, b)
	decode := func(data []byte) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		return m
	}

	segment := `{"key": "segment", "label": {"ru": "Сегмент", "en": "Segment"}, "type": "picklist",
		"options": [{"code": "retail", "label": {"ru": "Розница", "en": "Retail"}}, {"code": "b2b", "label": {"ru": "Опт", "en": "Wholesale"}}],
		"filterable": true}`
	check("POST", "/api/v1/fields/lead", b.writer, segment, 403)
	created := decode(check("POST", "/api/v1/fields/lead", b.admin, segment, 201))
	require.Equal(t, "segment", created["key"])
	require.Equal(t, "lead", created["entity"])
	check("POST", "/api/v1/fields/lead", b.admin, segment, 409)
	check("POST", "/api/v1/fields/lead", b.admin, `{"key": "last_name", "label": {"ru": "Ф"}, "type": "text"}`, 422)
	check("POST", "/api/v1/fields/pipeline", b.admin, segment, 404)
	check("POST", "/api/v1/fields/deal", b.admin, `{"key": "signed", "label": {"ru": "Подписан"}, "type": "date", "filterable": true}`, 201)

	retail := decode(check("POST", "/api/v1/leads", b.writer, `{"last_name": "Тест", "company": "Т", "custom": {"segment": "retail"}}`, 201))
	require.Equal(t, map[string]any{"segment": "retail"}, retail["custom"])
	check("POST", "/api/v1/leads", b.writer, `{"last_name": "Опт", "company": "О", "custom": {"segment": "b2b"}}`, 201)
	check("POST", "/api/v1/leads", b.writer, `{"last_name": "Без", "company": "Б"}`, 201)
	bad := decode(check("POST", "/api/v1/leads", b.writer, `{"last_name": "Тест", "company": "Т", "custom": {"segment": "wholesale"}}`, 422))
	require.Contains(t, fmt.Sprint(bad["errors"]), "custom.segment")

	page := decode(check("GET", "/api/v1/leads?custom.segment=retail", b.reader, "", 200))
	items := page["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, retail["id"], items[0].(map[string]any)["id"])
	page = decode(check("GET", "/api/v1/leads?custom.segment=retail,b2b", b.reader, "", 200))
	require.Len(t, page["items"].([]any), 2)
	check("GET", "/api/v1/leads?custom.segment=wholesale", b.reader, "", 422)
	check("GET", "/api/v1/leads?custom.nope=1", b.reader, "", 422)
	check("GET", "/api/v1/leads?custom.Bad-Key=1", b.reader, "", 422)
	check("GET", "/api/v1/deals?custom.signed.from=2026-01-01&custom.signed.to=2026-12-31", b.reader, "", 200)
	check("GET", "/api/v1/deals?custom.signed.from=вчера", b.reader, "", 422)
	check("GET", "/api/v1/leads?sort=-custom.segment", b.reader, "", 422) // not sortable

	id := retail["id"].(string)
	up := decode(check("PATCH", "/api/v1/leads/"+id, b.writer, `{"custom": {"segment": null}}`, 200))
	require.Nil(t, up["custom"], "no values left")

	fields := decode(check("GET", "/api/v1/fields/lead", b.reader, "", 200))
	byKey := map[string]map[string]any{}
	for _, f := range fields["items"].([]any) {
		m := f.(map[string]any)
		byKey[m["key"].(string)] = m
	}
	require.Equal(t, true, byKey["last_name"]["required"])
	require.Equal(t, "text", byKey["last_name"]["type"])
	require.Equal(t, true, byKey["id"]["read_only"])
	require.Equal(t, "money", byKey["annual_revenue"]["type"])
	require.Equal(t, "picklist", byKey["status"]["type"])
	require.Equal(t, false, byKey["custom.segment"]["builtin"])
	require.Equal(t, "picklist", byKey["custom.segment"]["type"])
	require.Equal(t, "Сегмент", byKey["custom.segment"]["definition"].(map[string]any)["label"].(map[string]any)["ru"])
	require.NotContains(t, byKey, "custom")
	check("GET", "/api/v1/fields/pipeline", b.reader, "", 404)

	one := check("GET", "/api/v1/fields/lead/segment", b.reader, "", 200)
	require.Equal(t, "segment", decode(one)["key"])
	check("PATCH", "/api/v1/fields/lead/segment", b.admin, `{"description": "Розница или опт"}`, 412, "If-Match", `"7"`)
	edited := decode(check("PATCH", "/api/v1/fields/lead/segment", b.admin, `{"description": "Розница или опт"}`, 200, "If-Match", `"1"`))
	require.EqualValues(t, 2, edited["version"])
	check("PATCH", "/api/v1/fields/lead/segment", b.admin, `{"type": "text"}`, 422)
	check("PATCH", "/api/v1/fields/lead/segment", b.writer, `{"description": "x"}`, 403)

	check("DELETE", "/api/v1/fields/lead/segment", b.writer, "", 403)
	check("DELETE", "/api/v1/fields/lead/segment", b.admin, "", 204)
	check("GET", "/api/v1/fields/lead/segment", b.reader, "", 404)
	check("GET", "/api/v1/leads?custom.segment=b2b", b.reader, "", 422)
	check("POST", "/api/v1/fields/lead/segment/restore", b.admin, "", 200)
	page = decode(check("GET", "/api/v1/leads?custom.segment=b2b", b.reader, "", 200))
	require.Len(t, page["items"].([]any), 1, "the values came back")
	check("POST", "/api/v1/fields/lead/segment/restore", b.admin, "", 404)

	audit := decode(check("GET", "/api/v1/audit?action=field_change", b.admin, "", 200))
	require.Len(t, audit["items"].([]any), 5, "created twice (lead, deal), edited, deleted, restored")
}

// TestCustomFieldRules restricts custom fields by role as built-in ones
// are: a hidden one is neither shown, nor written, nor filtered by, nor in
// the history; a read-only one is shown and not written.
func TestCustomFieldRules(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	b := c.b
	for _, def := range []string{`{"key": "margin", "label": {"ru": "Маржа"}, "type": "money"}`,
		`{"key": "tier", "label": {"ru": "Уровень"}, "type": "text"}`} {
		r := b.do(t, "POST", "/api/v1/fields/lead", b.admin, def)
		require.Equal(t, 201, r.status, string(r.body))
	}
	role := c.role(t, "Стажёр по лидам", core.RoleManagerID, rightsJSON(core.LevelOwn),
		`{"lead":{"custom.margin":"hidden","custom.tier":"read_only"}}`)
	intern := c.user(t, "Стажёр лидов", role)
	id := c.create(t, intern, "/api/v1/leads", `{"last_name": "Лид", "company": "Л"}`)
	r := b.do(t, "PATCH", "/api/v1/leads/"+id, b.admin, `{"custom": {"margin": "1500.00", "tier": "A"}}`)
	require.Equal(t, 200, r.status, string(r.body))
	r = b.do(t, "PATCH", "/api/v1/leads/"+id, b.admin, `{"custom": {"margin": "1700.00"}}`)
	require.Equal(t, 200, r.status, string(r.body))

	r = b.do(t, "GET", "/api/v1/leads/"+id, intern.key, "")
	require.Equal(t, 200, r.status)
	require.Equal(t, map[string]any{"tier": "A"}, r.json(t)["custom"], "the margin is hidden")
	r = b.do(t, "GET", "/api/v1/leads", intern.key, "")
	require.NotContains(t, string(r.body), "1700")
	r = b.do(t, "GET", "/api/v1/leads?custom.margin=1700.00", intern.key, "")
	require.Equal(t, 422, r.status, "a hidden field filters nothing")
	r = b.do(t, "GET", "/api/v1/leads/"+id+"/history", intern.key, "")
	require.Equal(t, 200, r.status)
	require.NotContains(t, string(r.body), "1700")
	require.NotContains(t, string(r.body), "custom.margin")
	r = b.do(t, "GET", "/api/v1/leads/"+id+"/history", b.admin, "")
	require.Contains(t, string(r.body), `"field":"custom.margin","from":"1500.00","to":"1700.00"`, "the history names a custom field's change")

	r = b.do(t, "PATCH", "/api/v1/leads/"+id, intern.key, `{"custom": {"margin": "1.00"}}`)
	require.Equal(t, 422, r.status)
	require.Contains(t, string(r.body), "unknown_field")
	r = b.do(t, "PATCH", "/api/v1/leads/"+id, intern.key, `{"custom": {"tier": "B"}}`)
	require.Equal(t, 422, r.status)
	require.Contains(t, string(r.body), "read_only")
	r = b.do(t, "PATCH", "/api/v1/leads/"+id, intern.key, `{"title": "Директор"}`)
	require.Equal(t, 200, r.status, "what the role may write still goes")
}

// TestGeneratedDocumentKnowsCustomFields fetches /openapi.json after
// fields are defined and validates records carrying them against it: the
// document types each value, and refuses a key it does not list.
func TestGeneratedDocumentKnowsCustomFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, "GET", "/openapi.json", "", "")
	require.Equal(t, api.OpenAPI(), r.body, "without custom fields the document is the static one")

	for _, def := range []string{
		`{"key": "segment", "label": {"ru": "Сегмент", "en": "Segment"}, "type": "picklist", "options": [{"code": "retail", "label": {"ru": "Розница"}}, {"code": "b2b", "label": {"ru": "Опт"}}]}`,
		`{"key": "staff", "label": {"ru": "Штат"}, "type": "integer", "filterable": true}`,
		`{"key": "margin", "label": {"ru": "Маржа"}, "type": "money"}`,
		`{"key": "rate", "label": {"ru": "Ставка"}, "type": "decimal", "scale": 3}`,
		`{"key": "since", "label": {"ru": "Клиент с"}, "type": "date"}`,
		`{"key": "seen", "label": {"ru": "Виден"}, "type": "datetime"}`,
		`{"key": "vip", "label": {"ru": "VIP"}, "type": "boolean"}`,
		`{"key": "tags", "label": {"ru": "Метки"}, "type": "multi_picklist", "options": [{"code": "a", "label": {"ru": "А"}}, {"code": "b", "label": {"ru": "Б"}}]}`,
		`{"key": "note", "label": {"ru": "Заметка"}, "type": "textarea"}`,
		`{"key": "billing", "label": {"ru": "Почта счетов"}, "type": "email"}`,
		`{"key": "hotline", "label": {"ru": "Горячая линия"}, "type": "phone"}`,
		`{"key": "site", "label": {"ru": "Сайт"}, "type": "url"}`,
	} {
		r := b.do(t, "POST", "/api/v1/fields/lead", b.admin, def)
		require.Equal(t, 201, r.status, string(r.body))
	}
	acc := b.do(t, "POST", "/api/v1/accounts", b.writer, `{"name": "ООО Партнёр"}`).json(t)["id"].(string)
	r = b.do(t, "POST", "/api/v1/fields/lead", b.admin, `{"key": "partner", "label": {"ru": "Партнёр"}, "type": "link", "link_entity": "account"}`)
	require.Equal(t, 201, r.status, string(r.body))

	r = b.do(t, "GET", "/openapi.json", "", "")
	require.Equal(t, 200, r.status)
	doc := loadDocFrom(t, r.body)
	lead := doc.Components.Schemas["LeadCustom"].Value
	require.Len(t, lead.Properties, 13)
	require.Equal(t, []any{"retail", "b2b"}, lead.Properties["segment"].Value.Enum)
	require.Equal(t, "Сегмент / Segment", lead.Properties["segment"].Value.Description)
	require.NotNil(t, doc.Paths.Find("/api/v1/leads").Get.Parameters.GetByInAndName("query", "custom.staff.from"))
	require.Empty(t, doc.Components.Schemas["ContactCustom"].Value.Properties, "a kind without fields keeps the open object")

	check := routerOf(t, doc).checker(t, b)
	created := check("POST", "/api/v1/leads", b.writer, fmt.Sprintf(`{"last_name": "Полный", "company": "П", "custom": {"segment": "retail",
		"staff": 12, "margin": 1500, "rate": "0.125", "since": "2020-01-15", "seen": "2026-12-03T10:00:00+03:00", "vip": true,
		"tags": ["a"], "note": "строка 1\nстрока 2", "billing": "Buh@Example.RU", "hotline": "8 912 345 67 89", "site": "example.ru",
		"partner": %q}}`, acc), 201)
	var rec struct{ ID string }
	require.NoError(t, json.Unmarshal(created, &rec))
	id := rec.ID
	check("GET", "/api/v1/leads/"+id, b.reader, "", 200)
	check("GET", "/api/v1/leads?custom.segment=retail&custom.staff.from=10", b.reader, "", 200)
	check("PATCH", "/api/v1/leads/"+id, b.writer, `{"custom": {"margin": null, "tags": ["a", "b"]}}`, 200)
	check("GET", "/api/v1/fields/lead", b.reader, "", 200)
}
