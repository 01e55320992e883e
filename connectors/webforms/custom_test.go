package webforms_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/webforms"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// defineField adds a custom field as an admin does.
func defineField(t *testing.T, r *rig, entity, js string) {
	t.Helper()
	p, err := core.DecodePatch([]byte(js))
	require.NoError(t, err)
	_, err = r.st.CreateCustomField(context.Background(), entity, p)
	require.NoError(t, err)
}

// putForm saves a form as the admin API does.
func putForm(r *rig, f core.WebForm) error {
	_, err := r.st.PutWebForm(context.Background(), f, 0)
	return err
}

// fieldErrors reads the fields and codes of a form's 422 problem.
func fieldErrors(t *testing.T, resp core.WebhookResponse) []string {
	t.Helper()
	require.Equal(t, 422, resp.Status, string(resp.Body))
	require.Equal(t, "application/problem+json", resp.ContentType)
	var p struct {
		Errors []core.FieldError `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(resp.Body, &p))
	var out []string
	for _, e := range p.Errors {
		require.NotEmpty(t, e.Message)
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

func customJSON(t *testing.T, v core.CustomValues) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// leadCustom reads the custom values of the lead with phone, as stored.
func leadCustom(t *testing.T, r *rig, phone string) string {
	t.Helper()
	var custom []byte
	require.NoError(t, r.st.Pool().QueryRow(context.Background(), `SELECT custom FROM leads WHERE phone = $1`, phone).Scan(&custom))
	return string(custom)
}

// body encodes a urlencoded form of name, value pairs (a name may repeat).
func body(kv ...string) []byte {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return []byte(q.Encode())
}

// TestCustomFieldMapping: a form maps its inputs to a lead's custom
// fields as to built-in ones; their text is read as the field's type.
func TestCustomFieldMapping(t *testing.T) {
	t.Parallel()
	r := newRig(t, webforms.Config{})
	defineField(t, r, core.EntityLead, `{"key": "segment", "label": {"ru": "Сегмент", "en": "Segment"}, "type": "picklist",
		"options": [{"code": "retail", "label": {"ru": "Розница", "en": "Retail"}}, {"code": "b2b", "label": {"ru": "Опт", "en": "Wholesale"}}]}`)
	defineField(t, r, core.EntityLead, `{"key": "staff", "label": {"ru": "Штат"}, "type": "integer"}`)
	defineField(t, r, core.EntityLead, `{"key": "channels", "label": {"ru": "Каналы"}, "type": "multi_picklist",
		"options": [{"code": "shop", "label": {"ru": "Магазин", "en": "Shop"}}, {"code": "web", "label": {"ru": "Сайт, маркетплейсы", "en": "Online"}}]}`)
	defineField(t, r, core.EntityLead, `{"key": "callback", "label": {"ru": "Перезвонить"}, "type": "boolean"}`)

	t.Run("RefusesFieldsTheTargetLacks", func(t *testing.T) {
		err := putForm(r, core.WebForm{Slug: "nope", Fields: map[string]string{"Отрасль": "custom.nope"},
			Required: []string{"custom.nope"}, Defaults: map[string]string{"custom.gone": "1"},
			Hidden: map[string]string{"custom.staff": "много"}})
		require.Equal(t, core.EINVALID, core.ErrorCode(err), err)
		require.ElementsMatch(t, []string{"fields.Отрасль:unknown_field", "required[0]:unknown_field",
			"defaults.custom.gone:unknown_field", "hidden.custom.staff:invalid_type"}, problemFields(err))
		err = putForm(r, core.WebForm{Slug: "badkey", Fields: map[string]string{"Отрасль": "custom.Bad-Key"}})
		require.Equal(t, []string{"fields.Отрасль:unknown_field"}, problemFields(err))
		err = putForm(r, core.WebForm{Slug: "contact", Target: core.FormTargetContact, Fields: map[string]string{"Отрасль": "custom.segment"}})
		require.Equal(t, []string{"fields.Отрасль:unknown_field"}, problemFields(err), "segment is a lead's field, not a contact's")
		_, err = r.st.WebForm(context.Background(), "nope")
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err), "nothing saved")
	})

	require.NoError(t, putForm(r, core.WebForm{Slug: "dealers", Fields: map[string]string{"Отрасль": "custom.segment", "Штат": "custom.staff"}}))
	require.NoError(t, putForm(r, core.WebForm{Slug: "full", Fields: map[string]string{"Отрасль": "custom.segment",
		"Штат": "custom.staff", "Каналы": "custom.channels", "Перезвонить": "custom.callback"},
		Required: []string{"custom.segment"}, Defaults: map[string]string{"custom.callback": "нет"}}))

	t.Run("LabelAndNumber", func(t *testing.T) {
		resp := r.post(t, "dealers", urlencoded, body("name", "Иван Петров", "phone", "+79160000001", "Отрасль", "Опт", "Штат", "12"))
		require.Equal(t, 200, resp.Status, string(resp.Body))
		l := r.onlyLead(t)
		require.JSONEq(t, `{"segment":"b2b","staff":12}`, customJSON(t, l.Custom))
		require.Equal(t, "Петров", l.LastName)
		require.NotContains(t, l.Description, "Отрасль", "a mapped input is not kept as text")
	})

	t.Run("BadValueIsTheVisitors422", func(t *testing.T) {
		resp := r.post(t, "dealers", urlencoded, body("name", "Пётр", "phone", "+79160000002", "Отрасль", "Опт", "Штат", "много"))
		require.Equal(t, []string{"custom.staff:invalid_type"}, fieldErrors(t, resp))
		require.Contains(t, string(resp.Body), "whole number")
		resp = r.post(t, "dealers", urlencoded, body("name", "Пётр", "phone", "+79160000002", "email", "нет", "Отрасль", "Мелкий опт"))
		require.ElementsMatch(t, []string{"email:invalid_email", "custom.segment:invalid_choice"}, fieldErrors(t, resp),
			"a custom field's error comes with the built-in ones")
		resp = r.post(t, "full", urlencoded, body("name", "Пётр", "phone", "+79160000002"))
		require.Equal(t, []string{"custom.segment:required"}, fieldErrors(t, resp))
		resp = r.post(t, "full", urlencoded, body("name", "Пётр", "phone", "+79160000002"), "Accept", "text/html")
		require.Equal(t, 422, resp.Status)
		require.Contains(t, string(resp.Body), "<li>Отрасль: обязательное поле</li>", "a browser's page names it too, as the form does")
		require.Equal(t, 1, r.count(t, "leads"))
		require.Equal(t, 2.0, r.outcome("dealers", "invalid"))
	})

	t.Run("RepeatedInputsAndWords", func(t *testing.T) {
		resp := r.post(t, "full", urlencoded, body("name", "Анна", "phone", "+79160000003", "Отрасль", "retail",
			"Штат", "1 200", "Каналы", "Сайт, маркетплейсы", "Каналы", "shop", "Перезвонить", "да"))
		require.Equal(t, 200, resp.Status, string(resp.Body))
		require.JSONEq(t, `{"segment":"retail","staff":1200,"channels":["web","shop"],"callback":true}`, leadCustom(t, r, "+79160000003"))
		resp = r.post(t, "full", urlencoded, body("name", "Борис", "phone", "+79160000005", "Отрасль", "Retail"))
		require.Equal(t, 200, resp.Status, string(resp.Body))
		require.JSONEq(t, `{"segment":"retail","callback":false}`, leadCustom(t, r, "+79160000005"), "the form's default")
	})

	t.Run("DeletedFieldKeepsItsText", func(t *testing.T) {
		_, err := r.st.DeleteCustomField(context.Background(), core.EntityLead, "staff")
		require.NoError(t, err)
		resp := r.post(t, "dealers", urlencoded, body("name", "Олег", "phone", "+79160000004", "Отрасль", "Розница", "Штат", "много"))
		require.Equal(t, 200, resp.Status, string(resp.Body))
		require.JSONEq(t, `{"segment":"retail"}`, leadCustom(t, r, "+79160000004"))
		var description string
		require.NoError(t, r.st.Pool().QueryRow(context.Background(),
			`SELECT description FROM leads WHERE phone = '+79160000004'`).Scan(&description))
		require.Contains(t, description, "custom.staff: много", "kept for a person, as an unmapped input")
	})
}

// TestCustomFieldMappingOfDealsAndBitrix24: a deal form fills the deal's
// custom fields, and a Bitrix24 form maps its UF_CRM_ fields by code.
func TestCustomFieldMappingOfDealsAndBitrix24(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	r := newRigWith(t, st, st, webforms.Config{Forms: []core.WebForm{
		{Slug: "b24", Format: core.FormatBitrix24, Fields: map[string]string{"UF_CRM_SEGMENT": "custom.segment"}}}})
	defineField(t, r, core.EntityDeal, `{"key": "budget", "label": {"ru": "Бюджет"}, "type": "money"}`)
	defineField(t, r, core.EntityDeal, `{"key": "start", "label": {"ru": "Начало"}, "type": "date"}`)
	defineField(t, r, core.EntityLead, `{"key": "segment", "label": {"ru": "Сегмент"}, "type": "picklist",
		"options": [{"code": "retail", "label": {"ru": "Розница"}}, {"code": "b2b", "label": {"ru": "Опт"}}]}`)
	require.NoError(t, putForm(r, core.WebForm{Slug: "order", Target: core.FormTargetDeal,
		Fields: map[string]string{"budget": "custom.budget", "start": "custom.start"}}))

	t.Run("Deal", func(t *testing.T) {
		resp := r.post(t, "order", urlencoded, body("name", "Иван Петров", "phone", "+79160000011", "budget", "1 234,50 ₽", "start", "15.01.2027"))
		require.Equal(t, 200, resp.Status, string(resp.Body))
		var custom []byte
		require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT custom FROM deals`).Scan(&custom))
		require.JSONEq(t, `{"budget":"1234.50","start":"2027-01-15"}`, string(custom))

		resp = r.post(t, "order", urlencoded, body("name", "Пётр", "phone", "+79160000012", "start", "31.02.2027"))
		require.Equal(t, []string{"custom.start:invalid_date"}, fieldErrors(t, resp))
	})

	t.Run("Bitrix24", func(t *testing.T) {
		resp := r.post(t, "b24", urlencoded, body("fields[NAME]", "Иван", "fields[LAST_NAME]", "Петров",
			"fields[PHONE][0][VALUE]", "+79160000013", "fields[UF_CRM_SEGMENT]", "Розница"))
		require.Equal(t, 200, resp.Status, string(resp.Body))
		l := r.onlyLead(t)
		require.JSONEq(t, `{"segment":"retail"}`, customJSON(t, l.Custom))
		require.NotContains(t, l.Description, "UF_CRM_SEGMENT")
	})
}

// problemFields names the fields and codes of an invalid error.
func problemFields(err error) []string {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return nil
	}
	var out []string
	for _, f := range ce.Fields {
		out = append(out, f.Field+":"+f.Code)
	}
	return out
}
