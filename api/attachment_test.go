package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/objectstore"
	"github.com/crmhub/crmhub/connectors/objectstore/s3test"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

// upload is one part of a multipart upload.
type upload struct {
	field, name, declared string
	data                  []byte
}

// multipartBody encodes parts as multipart/form-data; it returns the
// body and its Content-Type.
func multipartBody(t *testing.T, parts ...upload) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := `form-data; name="` + p.field + `"`
		switch {
		case strings.HasPrefix(p.name, "UTF-8''"): // RFC 2231, the way to send any character
			disp += `; filename*=` + p.name
		case p.name != "": // as browsers send it: the bytes, quotes escaped
			disp += `; filename="` + strings.ReplaceAll(p.name, `"`, `\"`) + `"`
		}
		h.Set("Content-Disposition", disp)
		if p.declared != "" {
			h.Set("Content-Type", p.declared)
		}
		pw, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = pw.Write(p.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.String(), w.FormDataContentType()
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(r.Uint32())
	}
	return out
}

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

var (
	pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"), make([]byte, 64)...)
	exeBytes = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 128)...)
)

func attachmentsSetup(t *testing.T, maxSize int64) (*bundle, string) {
	t.Helper()
	b := setupConfig(t, func(c *api.Config) { c.AttachmentMaxSize = maxSize }, func(st *store.Store, _ *api.Deps) {
		st.SetAttachments(maxSize, nil)
	})
	deal := b.do(t, "POST", "/api/v1/deals", b.writer, `{"name":"Поставка мебели"}`)
	require.Equal(t, 201, deal.status, string(deal.body))
	return b, deal.json(t)["id"].(string)
}

func fileItems(t *testing.T, r reply) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, it := range r.json(t)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// TestAttachmentUpload uploads hostile names and types, a duplicate, and
// reads them back whole and in ranges.
func TestAttachmentUpload(t *testing.T) {
	t.Parallel()
	b, deal := attachmentsSetup(t, 1<<20)
	check := openAPIRouter(t).checker(t, b)
	path := "/api/v1/deals/" + deal + "/attachments"

	body, ct := multipartBody(t,
		upload{"file", "/home/ivan/Документы/../Договор №5 от 01.12.pdf", "image/png", pdfBytes},
		upload{"file", "UTF-8''..%2F..%2Fetc%2F%07%D1%81%D0%BA%D0%B0%D0%BD%E2%80%AEgnp.exe", "application/pdf", pngBytes},
		upload{"file", "CON.txt", "", exeBytes})
	got := fileItems(t, reply{body: check("POST", path, b.writer, body, 201, "Content-Type", ct)})
	require.Len(t, got, 3)
	require.Equal(t, "Договор №5 от 01.12.pdf", got[0]["file_name"], "the path is dropped, Cyrillic kept")
	require.Equal(t, "application/pdf", got[0]["content_type"], "the type is sniffed, not the client's word")
	require.Equal(t, "сканgnp.exe", got[1]["file_name"], "no control or bidi characters")
	require.Equal(t, "image/png", got[1]["content_type"])
	require.Equal(t, "_CON.txt", got[2]["file_name"], "not a Windows device name")
	require.Equal(t, "application/vnd.microsoft.portable-executable", got[2]["content_type"])
	require.Equal(t, sum(pdfBytes), got[0]["sha256"])
	require.EqualValues(t, len(pdfBytes), got[0]["size"])
	pdf := got[0]["id"].(string)

	// The same file again is stored once: the answer names the first.
	before := b.outboxCount(t)
	body, ct = multipartBody(t, upload{"file", "копия.pdf", "", pdfBytes})
	again := fileItems(t, reply{body: check("POST", path, b.writer, body, 201, "Content-Type", ct)})
	require.Equal(t, pdf, again[0]["id"])
	require.Equal(t, true, again[0]["duplicate"])
	require.Equal(t, before, b.outboxCount(t), "a duplicate writes nothing")
	require.Len(t, fileItems(t, reply{body: check("GET", path, b.reader, "", 200)}), 3)

	// The download: RFC 6266 name, the stored type, ranges.
	r := b.do(t, "GET", "/api/v1/attachments/"+pdf, b.reader, "")
	require.Equal(t, 200, r.status)
	require.Equal(t, pdfBytes, r.body)
	require.Equal(t, "application/pdf", r.header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="_______ _5 __ 01.12.pdf"; filename*=UTF-8''%D0%94%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80%20%E2%84%965%20%D0%BE%D1%82%2001.12.pdf`,
		r.header.Get("Content-Disposition"))
	require.Equal(t, "bytes", r.header.Get("Accept-Ranges"))
	require.Equal(t, `"`+sum(pdfBytes)+`"`, r.header.Get("ETag"))
	r = b.do(t, "GET", "/api/v1/attachments/"+pdf, b.reader, "", "Range", "bytes=0-7")
	require.Equal(t, 206, r.status)
	require.Equal(t, "%PDF-1.4", string(r.body))
	require.Equal(t, fmt.Sprintf("bytes 0-7/%d", len(pdfBytes)), r.header.Get("Content-Range"))
	r = b.do(t, "GET", "/api/v1/attachments/"+pdf, b.reader, "", "Range", "bytes=-6")
	require.Equal(t, 206, r.status)
	require.Equal(t, "%%EOF\n", string(r.body))
	r = b.do(t, "GET", "/api/v1/attachments/"+pdf, b.reader, "", "Range", fmt.Sprintf("bytes=%d-", len(pdfBytes)))
	require.Equal(t, 416, r.status)
	require.Equal(t, fmt.Sprintf("bytes */%d", len(pdfBytes)), r.header.Get("Content-Range"))
	r = b.do(t, "GET", "/api/v1/attachments/"+pdf, b.reader, "", "Range", "bytes=0-7", "If-Range", `"stale"`)
	require.Equal(t, 200, r.status, "a stale If-Range gets the whole file")
	require.Equal(t, pdfBytes, r.body)
}

// TestAttachmentConcurrentDuplicates: the same file sent at once by
// several clients is stored once, and each is told which.
func TestAttachmentConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	b, deal := attachmentsSetup(t, 1<<20)
	body, ct := multipartBody(t, upload{"file", "счёт.pdf", "", pdfBytes})
	ids := make(chan string, 6)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", "/api/v1/deals/"+deal+"/attachments", strings.NewReader(body))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+b.writer)
			resp, err := b.srv.App().Test(req, -1)
			if err != nil || resp.StatusCode != 201 {
				ids <- fmt.Sprintf("failed: %v %v", err, resp)
				return
			}
			defer resp.Body.Close()
			var out struct{ Items []struct{ ID string } }
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Items) != 1 {
				ids <- fmt.Sprintf("failed: %v", err)
				return
			}
			ids <- out.Items[0].ID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]int{}
	for id := range ids {
		seen[id]++
	}
	require.Len(t, seen, 1, "one attachment for six uploads: %v", seen)
	var rows int
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM attachments WHERE record_id = $1`, deal).Scan(&rows))
	require.Equal(t, 1, rows)
}

// TestAttachmentRefusals: what an upload refuses, each with a clear error
// and nothing written.
func TestAttachmentRefusals(t *testing.T) {
	t.Parallel()
	b, deal := attachmentsSetup(t, 64<<10)
	path := "/api/v1/deals/" + deal + "/attachments"
	before := b.outboxCount(t)
	send := func(key, ct, body string) reply {
		return b.do(t, "POST", path, key, body, "Content-Type", ct)
	}
	body, ct := multipartBody(t, upload{"file", "big.bin", "", randomBytes(64<<10+1, 1)})
	requireProblem(t, send(b.writer, ct, body), 422, "invalid", "files[0]:too_large")
	body, ct = multipartBody(t, upload{"file", "ok.pdf", "", pdfBytes}, upload{"file", "empty.txt", "", nil})
	requireProblem(t, send(b.writer, ct, body), 422, "invalid", "files[1]:empty")
	body, ct = multipartBody(t, upload{"comment", "", "", []byte("hello")})
	requireProblem(t, send(b.writer, ct, body), 422, "invalid", "comment:not_a_file")
	body, ct = multipartBody(t)
	requireProblem(t, send(b.writer, ct, body), 422, "invalid", "files:required")
	requireProblem(t, send(b.writer, "application/json", `{"file":"x"}`), 422, "invalid")
	requireProblem(t, send(b.writer, "multipart/form-data; boundary=zzz", "--zzz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nabc"), 422, "invalid",
		"files[0]:incomplete")
	body, ct = multipartBody(t, upload{"file", "ok.pdf", "", pdfBytes})
	requireProblem(t, send(b.reader, ct, body), 403, "forbidden")
	r := b.do(t, "POST", "/api/v1/deals/0190a5c0-0000-7000-8000-000000000000/attachments", b.writer, body, "Content-Type", ct)
	requireProblem(t, r, 404, "not_found")
	require.Equal(t, before, b.outboxCount(t), "no refused upload wrote anything")

	var chunks int
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM attachment_chunks`).Scan(&chunks))
	require.Zero(t, chunks, "a refused upload leaves no bytes behind")
}

// TestAttachmentDeleteRestore: a deleted file is out of the list and the
// download, restorable, and not restorable over its own copy.
func TestAttachmentDeleteRestore(t *testing.T) {
	t.Parallel()
	b, deal := attachmentsSetup(t, 1<<20)
	check := openAPIRouter(t).checker(t, b)
	path := "/api/v1/deals/" + deal + "/attachments"
	body, ct := multipartBody(t, upload{"file", "акт.pdf", "", pdfBytes})
	id := fileItems(t, reply{body: check("POST", path, b.writer, body, 201, "Content-Type", ct)})[0]["id"].(string)

	check("DELETE", "/api/v1/attachments/"+id, b.writer, "", 204)
	require.Empty(t, fileItems(t, reply{body: check("GET", path, b.reader, "", 200)}))
	deleted := fileItems(t, reply{body: check("GET", path+"?deleted=true", b.reader, "", 200)})
	require.Len(t, deleted, 1)
	require.NotNil(t, deleted[0]["deleted_at"])
	check("GET", "/api/v1/attachments/"+id, b.reader, "", 404)
	check("DELETE", "/api/v1/attachments/"+id, b.writer, "", 404)

	restored := check("POST", "/api/v1/attachments/"+id+"/restore", b.writer, "", 200)
	require.NotContains(t, string(restored), "deleted_at")
	require.Len(t, fileItems(t, reply{body: check("GET", path, b.reader, "", 200)}), 1)
	check("POST", "/api/v1/attachments/"+id+"/restore", b.writer, "", 404)

	// Deleted, uploaded again, then the old one restored: the record
	// would have the file twice.
	check("DELETE", "/api/v1/attachments/"+id, b.writer, "", 204)
	again := fileItems(t, reply{body: check("POST", path, b.writer, body, 201, "Content-Type", ct)})[0]
	require.NotEqual(t, id, again["id"])
	check("POST", "/api/v1/attachments/"+id+"/restore", b.writer, "", 409)

	var events []string
	rows, err := b.store.Pool().Query(context.Background(), `SELECT type FROM outbox WHERE entity = 'attachment' AND entity_id = $1 ORDER BY seq`, id)
	require.NoError(t, err)
	for rows.Next() {
		var typ string
		require.NoError(t, rows.Scan(&typ))
		events = append(events, typ)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"attachment.created", "attachment.updated", "attachment.updated", "attachment.updated"}, events)
}

// TestAttachmentLargeOverTCP streams a 25 MiB file through a real
// connection, the client sending as it goes, and reads it back whole and
// across a chunk boundary.
func TestAttachmentLargeOverTCP(t *testing.T) {
	t.Parallel()
	b, deal := attachmentsSetup(t, core.DefaultAttachmentMaxSize)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(func() { _ = b.srv.Shutdown(context.Background()) })
	base := "http://" + ln.Addr().String()

	data := randomBytes(core.DefaultAttachmentMaxSize, 7)
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		part, err := w.CreateFormFile("file", "scan.bin")
		if err == nil {
			for off := 0; off < len(data) && err == nil; off += 1 << 20 {
				_, err = part.Write(data[off:min(off+1<<20, len(data))])
			}
		}
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest("POST", base+"/api/v1/deals/"+deal+"/attachments", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+b.writer)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, 201, resp.StatusCode, string(out))
	require.False(t, resp.Close, "an upload read to its end keeps the connection")
	a := fileItems(t, reply{body: out})[0]
	require.EqualValues(t, len(data), a["size"])
	require.Equal(t, sum(data), a["sha256"])

	get := func(rng string) (int, []byte) {
		req, err := http.NewRequest("GET", base+"/api/v1/attachments/"+a["id"].(string), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+b.reader)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, body
	}
	status, whole := get("")
	require.Equal(t, 200, status)
	require.Equal(t, sum(data), sum(whole))
	const boundary = 256 << 10
	status, part := get(fmt.Sprintf("bytes=%d-%d", boundary-5, 3*boundary+4))
	require.Equal(t, 206, status)
	require.Equal(t, data[boundary-5:3*boundary+5], part)
}

// TestAttachmentS3 keeps uploads' bytes in a real S3-compatible server:
// the rows in PostgreSQL, no chunk; a duplicate leaves no object behind;
// ranges read from the object; a purge removes it.
func TestAttachmentS3(t *testing.T) {
	t.Parallel()
	blobs, err := objectstore.New(t.Context(), objectstore.Config{Endpoint: s3test.Start(t), Bucket: "files",
		AccessKey: s3test.Access, SecretKey: s3test.Secret, CreateBucket: true, PartSize: objectstore.MinPartSize}, nil)
	require.NoError(t, err)
	b := setup(t, func(st *store.Store, _ *api.Deps) { st.SetAttachments(core.DefaultAttachmentMaxSize, blobs) })
	deal := b.do(t, "POST", "/api/v1/deals", b.writer, `{"name":"Поставка"}`).json(t)["id"].(string)
	path := "/api/v1/deals/" + deal + "/attachments"

	data := randomBytes(12<<20+17, 3) // three parts of 5 MiB, the last short
	body, ct := multipartBody(t, upload{"file", "скан.bin", "", data}, upload{"file", "ещё раз.bin", "", data})
	r := b.do(t, "POST", path, b.writer, body, "Content-Type", ct)
	require.Equal(t, 201, r.status, string(r.body))
	got := fileItems(t, r)
	require.Equal(t, got[0]["id"], got[1]["id"], "the same file twice is stored once")
	id := got[0]["id"].(string)

	ctx := context.Background()
	var storage string
	var chunks int
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT storage, (SELECT count(*) FROM attachment_chunks) FROM attachments WHERE id = $1`, id).Scan(&storage, &chunks))
	require.Equal(t, "s3", storage)
	require.Zero(t, chunks)

	r = b.do(t, "GET", "/api/v1/attachments/"+id, b.reader, "")
	require.Equal(t, 200, r.status)
	require.Equal(t, sum(data), sum(r.body))
	r = b.do(t, "GET", "/api/v1/attachments/"+id, b.reader, "", "Range", fmt.Sprintf("bytes=%d-%d", 5<<20-3, 10<<20+2))
	require.Equal(t, 206, r.status)
	require.Equal(t, data[5<<20-3:10<<20+3], r.body)

	require.Equal(t, 204, b.do(t, "DELETE", "/api/v1/attachments/"+id, b.writer, "").status)
	_, err = b.store.Pool().Exec(ctx, `UPDATE attachments SET deleted_at = deleted_at - interval '31 days' WHERE id = $1`, id)
	require.NoError(t, err)
	n, err := b.store.PurgeAttachments(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = blobs.Open(ctx, id, int64(len(data)))
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err), "the purge removed the object")
}
