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
	"github.com/crmhub/crmhub/core/store"
)

func TestImportThroughTheAPI(t *testing.T) {
	t.Parallel()
	var runner *imports.Runner
	b := setup(t, func(st *store.Store, d *api.Deps) {
		runner = imports.New(imports.Config{PollInterval: 20 * time.Millisecond}, st)
		d.Imports = st
		d.ImportQueued = runner.Wake
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = runner.Run(ctx) }()

	// The template is a workbook with the expected headers.
	check := openAPIChecker(t, b)
	tpl := check("GET", "/api/v1/imports/templates/contacts.xlsx", b.reader, "", 200)
	f, err := excelize.OpenReader(bytes.NewReader(tpl))
	require.NoError(t, err)
	rows, err := f.GetRows("Данные")
	require.NoError(t, err)
	require.Contains(t, rows[0], "Фамилия")
	require.Contains(t, rows[0], "E-mail")
	check("GET", "/api/v1/imports/templates/tickets.xlsx", b.reader, "", 404)

	// Fill it in: one good row, one bad.
	require.NoError(t, f.SetSheetRow("Данные", "A3", &[]any{"Плохой"}))
	col := 0
	for i, h := range rows[0] {
		if h == "Телефон" {
			col = i
		}
	}
	cell, _ := excelize.CoordinatesToCellName(col+1, 3)
	require.NoError(t, f.SetCellValue("Данные", cell, "12"))
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
	require.NoError(t, mw.WriteField("on_duplicate", "update"))
	require.NoError(t, mw.Close())
	req := httptest.NewRequest("POST", "/api/v1/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+b.writer)
	resp, err := b.srv.App().Test(req, -1)
	require.NoError(t, err)
	require.Equal(t, 202, resp.StatusCode)
	var im map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&im))
	id := im["id"].(string)

	deadline := time.Now().Add(10 * time.Second)
	for im["status"] != "done" {
		require.True(t, time.Now().Before(deadline), "%v", im)
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, json.Unmarshal(check("GET", "/api/v1/imports/"+id, b.reader, "", 200), &im))
	}
	require.EqualValues(t, 1, im["created"])
	require.EqualValues(t, 1, im["failed"])
	errs := check("GET", "/api/v1/imports/"+id+"/errors.xlsx", b.reader, "", 200)
	ef, err := excelize.OpenReader(bytes.NewReader(errs))
	require.NoError(t, err)
	erows, err := ef.GetRows("Данные")
	require.NoError(t, err)
	require.Len(t, erows, 2)
	require.Equal(t, "Строка", erows[0][0])
	require.Equal(t, "Ошибка", erows[0][len(erows[0])-1])
	require.Equal(t, "3", erows[1][0])
	require.Equal(t, "Плохой", erows[1][1])
	require.Contains(t, erows[1][len(erows[1])-1], "phone")
	check("GET", "/api/v1/imports/0190a5c0-0000-7000-8000-000000000000", b.reader, "", 404)
}
