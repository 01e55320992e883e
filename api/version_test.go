package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRecordAtVersion: GET {path}/{id}?version=N serves a record as it was
// at version N — where a reference event's data_ref points.
func TestRecordAtVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, http.MethodPost, "/api/v1/leads", b.writer, `{"last_name":"Первый","company":"ООО Версия"}`)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	id := r.json(t)["id"].(string)
	for _, name := range []string{"Второй", "Третий"} {
		r = b.do(t, http.MethodPatch, "/api/v1/leads/"+id, b.writer, `{"last_name":"`+name+`"}`)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
	}
	for v, want := range map[string]string{"1": "Первый", "2": "Второй", "3": "Третий"} {
		r = b.do(t, http.MethodGet, "/api/v1/leads/"+id+"?version="+v, b.reader, "")
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		require.Equal(t, want, r.json(t)["last_name"], "version "+v)
		require.Equal(t, `"`+v+`"`, r.header.Get("ETag"))
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
	}
	r = b.do(t, http.MethodGet, "/api/v1/leads/"+id+"?version=4", b.reader, "")
	require.Equal(t, http.StatusNotFound, r.status, string(r.body))
	require.Contains(t, string(r.body), "at version 3")
	for _, bad := range []string{"0", "x", "-1"} {
		r = b.do(t, http.MethodGet, "/api/v1/leads/"+id+"?version="+bad, b.reader, "")
		require.Equal(t, http.StatusUnprocessableEntity, r.status, bad)
		require.Contains(t, string(r.body), `"version"`)
	}
	// A pruned version says so.
	_, err := b.store.Pool().Exec(t.Context(), `DELETE FROM outbox WHERE entity_id = $1 AND entity_version = 1`, id)
	require.NoError(t, err)
	r = b.do(t, http.MethodGet, "/api/v1/leads/"+id+"?version=1", b.reader, "")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Contains(t, string(r.body), "retention")
}
