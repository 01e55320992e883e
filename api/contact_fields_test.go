package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

func TestContactFieldsThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	check := openAPIChecker(t, b)
	idOf := func(data []byte) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		return m["id"].(string)
	}
	bossID := idOf(check("POST", "/api/v1/contacts", b.writer, `{"last_name":"Петров"}`, 201))

	data := check("POST", "/api/v1/contacts", b.writer, `{"last_name":"Иванов","birthday":"1980-03-15","home_phone":"8 495 111-22-33",`+
		`"fax":"8 495 111-22-34","assistant":"Мария","assistant_phone":"8 912 000-00-01","reports_to_id":"`+bossID+`",`+
		`"address":{"city":"Москва"},"other_address":{"city":"Тула"}}`, 201)
	id := idOf(data)
	var c map[string]any
	require.NoError(t, json.Unmarshal(check("GET", "/api/v1/contacts/"+id, b.reader, "", 200), &c))
	require.Equal(t, map[string]any{"birthday": "1980-03-15", "home_phone": "+74951112233", "fax": "+74951112234", "assistant": "Мария",
		"assistant_phone": "+79120000001", "reports_to_id": bossID, "other_city": "Тула"},
		map[string]any{"birthday": c["birthday"], "home_phone": c["home_phone"], "fax": c["fax"], "assistant": c["assistant"],
			"assistant_phone": c["assistant_phone"], "reports_to_id": c["reports_to_id"], "other_city": c["other_address"].(map[string]any)["city"]})

	data = check("PATCH", "/api/v1/contacts/"+id, b.writer, `{"birthday":null,"reports_to_id":null,"other_address":null}`, 200)
	require.Contains(t, string(data), `"birthday":null`)
	require.Contains(t, string(data), `"reports_to_id":null`)
	check("GET", "/api/v1/contacts?sort=-last_name", b.reader, "", 200)

	data = check("PATCH", "/api/v1/contacts/"+id, b.writer, `{"reports_to_id":"0190a5c0-0000-7000-8000-000000000000"}`, 422)
	require.Contains(t, string(data), `"reports_to_id"`)
	data = check("PATCH", "/api/v1/contacts/"+bossID, b.writer, `{"reports_to_id":"`+bossID+`"}`, 422)
	require.Contains(t, string(data), "self_reference")
	check("POST", "/api/v1/contacts", b.writer, `{"last_name":"Сидоров","birthday":"15.03.1980"}`, 422)
}

// TestImportLinksAccountsThroughTheAPI imports the issue-26 workbook: a
// source by its label and an «Организация» to create.
func TestImportLinksAccountsThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, func(st *store.Store, d *api.Deps) { d.Imports = st })
	check := openAPIChecker(t, b)
	_, err := b.store.Accounts().Create(context.Background(), core.Patch{"name": []byte(`"ООО «Ромашка»"`)})
	require.NoError(t, err)

	f := excelize.NewFile()
	for i, row := range [][]any{{"Фамилия", "E-mail", "Источник", "Организация", "Дата рождения", "Домашний телефон"},
		{"Иванов", "i@firm.ru", "Выставка", "ООО «Ромашка»", "15.03.1980", "8 495 111-22-33"},
		{"Петров", "p@firm.ru", "выставка", "ООО Новая", "", ""},
		{"Сидоров", "s@firm.ru", "Conference", "ООО Новая", "", ""}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(t, f.SetSheetRow("Sheet1", cell, &row))
	}
	var file bytes.Buffer
	_, err = f.WriteTo(&file)
	require.NoError(t, err)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "Контакты.xlsx")
	require.NoError(t, err)
	_, err = fw.Write(file.Bytes())
	require.NoError(t, err)
	require.NoError(t, mw.WriteField("entity", "contacts"))
	require.NoError(t, mw.WriteField("create_accounts", "true"))
	require.NoError(t, mw.Close())
	req := httptest.NewRequest("POST", "/api/v1/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+b.writer)
	resp, err := b.srv.App().Test(req, -1)
	require.NoError(t, err)
	require.Equal(t, 202, resp.StatusCode)
	var im map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&im))
	require.Equal(t, true, im["options"].(map[string]any)["create_accounts"])

	_, err = imports.New(imports.Config{}, b.store).RunJob(context.Background(), im["id"].(string), nil)
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for im["status"] != "done" {
		require.True(t, time.Now().Before(deadline), "%v", im)
		require.NoError(t, json.Unmarshal(check("GET", "/api/v1/imports/"+im["id"].(string), b.reader, "", 200), &im))
	}
	require.Equal(t, []any{3.0, 0.0, 3.0, 1.0}, []any{im["created"], im["failed"], im["accounts_linked"], im["accounts_created"]}, "%v", im)

	var page struct{ Items []map[string]any } // core.Date does not decode from JSON
	require.NoError(t, json.Unmarshal(check("GET", "/api/v1/contacts?sort=last_name", b.reader, "", 200), &page))
	require.Len(t, page.Items, 3)
	for _, c := range page.Items {
		require.NotNil(t, c["account_id"], c["last_name"])
	}
	ivanov := page.Items[0]
	require.Equal(t, []any{"Иванов", "trade_show", "1980-03-15", "+74951112233"},
		[]any{ivanov["last_name"], ivanov["source"], ivanov["birthday"], ivanov["home_phone"]})
	require.Equal(t, "conference", page.Items[2]["source"])
	require.Equal(t, page.Items[1]["account_id"], page.Items[2]["account_id"], "one new account for both")

	form := func(k, v string) int {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "x.xlsx")
		_, _ = fw.Write(file.Bytes())
		_ = mw.WriteField("entity", "contacts")
		_ = mw.WriteField(k, v)
		_ = mw.Close()
		req := httptest.NewRequest("POST", "/api/v1/imports", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+b.writer)
		resp, err := b.srv.App().Test(req, -1)
		require.NoError(t, err)
		return resp.StatusCode
	}
	require.Equal(t, 422, form("create_accounts", "maybe"))
	require.Equal(t, 202, form("dry_run", "true"), "the other options still work")
}
