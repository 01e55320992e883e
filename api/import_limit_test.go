package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/imports"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/xlsx"
)

// leadsBook is a workbook of a header and n leads.
func leadsBook(t *testing.T, n int) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	require.NoError(t, f.SetSheetRow("Sheet1", "A1", &[]any{"Фамилия", "Компания", "E-mail"}))
	for i := range n {
		require.NoError(t, f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &[]any{fmt.Sprintf("Клиент %d", i), "ООО", fmt.Sprintf("l%d@firm.ru", i)}))
	}
	var b bytes.Buffer
	_, err := f.WriteTo(&b)
	require.NoError(t, err)
	return b.Bytes()
}

// importForm is the multipart body of POST /api/v1/imports.
func importForm(t *testing.T, file []byte, fields ...string) (body, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", "Лиды.xlsx")
	require.NoError(t, err)
	_, err = fw.Write(file)
	require.NoError(t, err)
	for i := 0; i+1 < len(fields); i += 2 {
		require.NoError(t, mw.WriteField(fields[i], fields[i+1]))
	}
	require.NoError(t, mw.Close())
	return b.String(), mw.FormDataContentType()
}

func TestImportRowLimit(t *testing.T) {
	t.Parallel()
	const limit = 3
	var deps *api.Deps
	var runner *imports.Runner
	b := setup(t, func(st *store.Store, d *api.Deps) {
		runner = imports.New(imports.Config{PollInterval: 20 * time.Millisecond, Limits: xlsx.Limits{MaxRows: limit}}, st)
		d.Imports = st
		d.ImportQueued = runner.Wake
		deps = d
	})
	srv, err := api.New(api.Config{BodyLimit: 64 << 10, ImportMaxRows: limit, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, *deps)
	require.NoError(t, err)
	limited := *b
	limited.srv = srv
	check := openAPIChecker(t, &limited)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = runner.Run(ctx) }()
	count := func(table string) int {
		var n int
		require.NoError(t, b.store.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
		return n
	}

	for _, dry := range []string{"false", "true"} {
		body, ct := importForm(t, leadsBook(t, limit+1), "entity", "leads", "dry_run", dry)
		var p map[string]any
		require.NoError(t, json.Unmarshal(check("POST", "/api/v1/imports", b.writer, body, 422, "Content-Type", ct), &p))
		require.Equal(t, "the sheet has more than 3 rows below its header: row 5 is one too many (split the file into parts of at most 3 rows)",
			p["detail"], "dry run %s: refused at once, naming the limit and the row", dry)
		require.Equal(t, "too_many_rows", p["errors"].([]any)[0].(map[string]any)["code"])
	}
	require.Zero(t, count("imports"), "no job queued")
	require.Zero(t, count("leads"), "nothing written")

	// At the limit, a dry run is queued; its job states the limit.
	body, ct := importForm(t, leadsBook(t, limit), "entity", "leads", "dry_run", "true")
	var im map[string]any
	require.NoError(t, json.Unmarshal(check("POST", "/api/v1/imports", b.writer, body, 202, "Content-Type", ct), &im))
	require.EqualValues(t, limit, im["row_limit"])
	id := im["id"].(string)
	require.Eventually(t, func() bool {
		require.NoError(t, json.Unmarshal(check("GET", "/api/v1/imports/"+id, b.reader, "", 200), &im))
		return im["status"] == "done"
	}, time.Minute, 20*time.Millisecond)
	require.EqualValues(t, limit, im["row_limit"])
	require.EqualValues(t, limit, im["created"], "a dry run counts what it would create")
	require.Zero(t, count("leads"))
}
