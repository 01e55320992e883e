package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// chunkSize is how much of an uploaded file one attachment_chunks row
// holds: an upload holds one chunk in memory, a range reads the chunks it
// covers.
const chunkSize = 256 << 10

// SetAttachments sets the largest file an upload takes (0: 25 MiB) and,
// when blobs is not nil, the object store that keeps uploads' bytes
// (attachments.store: s3; files stored before stay where they are).
func (s *Store) SetAttachments(maxSize int64, blobs core.BlobStore) {
	s.attachMax = maxSize
	s.blobs = blobs
}

func (s *Store) attachmentMax() int64 {
	if s.attachMax > 0 {
		return s.attachMax
	}
	return core.DefaultAttachmentMaxSize
}

// Attach implements core.AttachmentService. Attaching a file changes what
// a record has, so it needs the attachment create right and edit on the
// record; all the request's files are stored, or none.
func (s *Store) Attach(ctx context.Context, entity, recordID string, next func() (*core.Upload, error)) ([]core.Attachment, error) {
	if acc := core.AccessFromContext(ctx); acc != nil && acc.Level(core.EntityAttachment, core.ActCreate) == core.LevelNone {
		return nil, core.Forbidden(core.EntityAttachment, core.ActCreate)
	}
	var out []core.Attachment
	var stored []string // object store keys written: removed unless the upload commits
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.recordAccess(ctx, tx, entity, recordID, core.ActEdit); err != nil {
			return err
		}
		for {
			u, err := next()
			if err != nil || u == nil {
				return err
			}
			if len(out) == core.MaxUploadFiles {
				return core.Invalid([]core.FieldError{{Field: "files", Code: "too_many",
					Message: fmt.Sprintf("at most %d files an upload", core.MaxUploadFiles)}})
			}
			a, err := s.attachUpload(ctx, tx, entity, recordID, len(out), u, &stored)
			if err != nil {
				return err
			}
			out = append(out, *a)
		}
	})
	if err == nil && len(out) == 0 {
		err = core.Invalid([]core.FieldError{{Field: "files", Code: "required", Message: "the upload has no file"}})
	}
	if err != nil {
		s.dropBlobs(ctx, stored)
		return nil, err
	}
	return out, nil
}

// attachUpload stores the i-th file of an upload: its bytes streamed to
// the chunks (or the object store) while hashed, then its row with its
// event, unless the record has the same file already, whose row it then
// returns with Duplicate set (the bytes just written are dropped).
func (s *Store) attachUpload(ctx context.Context, tx pgx.Tx, entity, recordID string, i int, u *core.Upload, stored *[]string) (*core.Attachment, error) {
	field := fmt.Sprintf("files[%d]", i)
	a := core.Attachment{ID: uuid.Must(uuid.NewV7()).String(), Entity: entity, RecordID: recordID,
		FileName: core.SanitizeFileName(u.Name), Source: "api", CreatedAt: s.now(), Version: 1}
	if acc := core.AccessFromContext(ctx); acc != nil && acc.UserID != "" {
		a.AuthorID = &acc.UserID
	}

	in := &uploadReader{r: u.Content, h: sha256.New(), max: s.attachmentMax(), field: field, name: a.FileName}
	head := make([]byte, core.SniffLength)
	n, err := io.ReadFull(in, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	a.ContentType = core.SniffContentType(head[:n])
	content := io.MultiReader(bytes.NewReader(head[:n]), in)

	storage := core.StorageDB
	if s.blobs != nil {
		storage = core.StorageS3
		*stored = append(*stored, a.ID)
		_, err = s.blobs.Put(ctx, a.ID, content)
	} else {
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"attachment_chunks"}, []string{"attachment_id", "n", "data"},
			&chunkSource{r: content, id: a.ID, buf: make([]byte, chunkSize)})
	}
	if in.err != nil { // the client's, which COPY or the object store reports as its own
		return nil, in.err
	}
	if err != nil {
		return nil, wrap("store "+field, err)
	}
	if in.size == 0 {
		return nil, core.Invalid([]core.FieldError{{Field: field, Code: "empty", Message: a.FileName + " is empty"}})
	}
	a.Size = in.size
	a.SHA256 = hex.EncodeToString(in.h.Sum(nil))

	if same, err := s.sameFile(ctx, tx, a); err != nil || same != nil {
		if err == nil {
			err = s.dropUpload(ctx, tx, a.ID, storage, stored)
		}
		return same, err
	}
	return &a, s.write(ctx, tx, mutation{sql: `INSERT INTO attachments (id, entity, record_id, file_name, content_type, size,
		sha256, source, created_at, storage, author_id, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1)`,
		args:     []any{a.ID, a.Entity, a.RecordID, a.FileName, a.ContentType, a.Size, a.SHA256, a.Source, a.CreatedAt, storage, a.AuthorID},
		wantRows: 1, entity: core.EntityAttachment, op: core.OpCreated, id: a.ID, version: 1, data: a})
}

// sameFile returns the record's live file with a's SHA-256, nil if none.
// A transaction lock on (record, SHA-256) makes two concurrent uploads of
// one file store it once.
func (s *Store) sameFile(ctx context.Context, tx pgx.Tx, a core.Attachment) (*core.Attachment, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
		"attachment:"+a.Entity+":"+a.RecordID+":"+a.SHA256); err != nil {
		return nil, wrap("lock attachment", err)
	}
	rows, err := tx.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments
		WHERE entity = $1 AND record_id = $2 AND sha256 = $3 AND deleted_at IS NULL ORDER BY created_at LIMIT 1`,
		a.Entity, a.RecordID, a.SHA256)
	if err != nil {
		return nil, wrap("find same attachment", err)
	}
	same, err := pgx.CollectExactlyOneRow(rows, scanAttachment)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("find same attachment", err)
	}
	same.Duplicate = true
	return &same, nil
}

// dropUpload removes the bytes of an upload that turned out a duplicate.
func (s *Store) dropUpload(ctx context.Context, tx pgx.Tx, id, storage string, stored *[]string) error {
	if storage == core.StorageS3 {
		*stored = (*stored)[:len(*stored)-1]
		s.dropBlobs(ctx, []string{id})
		return nil
	}
	_, err := tx.Exec(ctx, `DELETE FROM attachment_chunks WHERE attachment_id = $1`, id)
	return wrap("drop duplicate upload", err)
}

// dropBlobs removes objects no row will name (a failed or duplicate
// upload); one left behind costs space, never a wrong file.
func (s *Store) dropBlobs(ctx context.Context, keys []string) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range keys {
		if err := s.blobs.Delete(ctx, k); err != nil {
			s.log.Warn("attachment_blob_delete", "key", k, "error", err)
		}
	}
}

// uploadReader reads an upload once: it hashes and counts what it reads,
// refuses a file over max, and keeps the first error of the client's
// side (a file too large, a connection that broke off) as a clear one.
type uploadReader struct {
	r           io.Reader
	h           hash.Hash
	size, max   int64
	field, name string
	err         error
}

func (u *uploadReader) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	n, err := u.r.Read(p)
	u.size += int64(n)
	u.h.Write(p[:n])
	switch {
	case u.size > u.max:
		u.err = core.Invalid([]core.FieldError{{Field: u.field, Code: "too_large",
			Message: fmt.Sprintf("%s is larger than %d MiB (attachments.max_size)", u.name, u.max>>20)}})
	case err != nil && !errors.Is(err, io.EOF):
		u.err = core.Invalid([]core.FieldError{{Field: u.field, Code: "incomplete",
			Message: fmt.Sprintf("%s did not arrive whole: %v", u.name, err)}})
	default:
		return n, err
	}
	return n, u.err
}

// chunkSource feeds COPY one chunk at a time, read as COPY asks for it.
type chunkSource struct {
	r   io.Reader
	id  string
	buf []byte
	n   int // chunks read
	len int // bytes in buf
	err error
}

func (c *chunkSource) Next() bool {
	c.len, c.err = io.ReadFull(c.r, c.buf)
	if errors.Is(c.err, io.ErrUnexpectedEOF) || errors.Is(c.err, io.EOF) {
		c.err = nil
		if c.len == 0 {
			return false
		}
	}
	if c.err != nil {
		return false
	}
	c.n++
	return true
}

func (c *chunkSource) Values() ([]any, error) { return []any{c.id, c.n - 1, c.buf[:c.len]}, nil }

func (c *chunkSource) Err() error { return c.err }

// OpenAttachment implements core.AttachmentService.
func (s *Store) OpenAttachment(ctx context.Context, id string) (*core.Attachment, core.Blob, error) {
	a, storage, inline, err := s.attachmentRow(ctx, id, false)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case inline != nil:
		return a, nopBlob{bytes.NewReader(inline)}, nil
	case storage == core.StorageS3 && s.blobs == nil:
		return nil, nil, core.Errorf(core.EUNAVAILABLE, "the file is in the object store, which this hub is not configured for (attachments.store)")
	case storage == core.StorageS3:
		b, err := s.blobs.Open(ctx, a.ID, a.Size)
		return a, b, err
	}
	return a, &chunkBlob{ctx: context.WithoutCancel(ctx), s: s, id: a.ID, size: a.Size}, nil
}

// AttachmentContent implements core.AttachmentService.
func (s *Store) AttachmentContent(ctx context.Context, id string) (*core.Attachment, []byte, error) {
	a, b, err := s.OpenAttachment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	defer b.Close()
	data := make([]byte, a.Size)
	if _, err := b.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, wrap("attachment content", err)
	}
	return a, data, nil
}

// attachmentRow reads a file's row the context's user may see: its
// storage and, for a file stored inline, its bytes. With deleted it reads
// a deleted one.
func (s *Store) attachmentRow(ctx context.Context, id string, deleted bool) (*core.Attachment, string, []byte, error) {
	notFound := core.Errorf(core.ENOTFOUND, "attachment not found")
	if _, err := uuid.Parse(id); err != nil {
		return nil, "", nil, notFound
	}
	var storage string
	var data []byte
	rows, err := s.db(ctx).Query(ctx, `SELECT `+attachmentColumns+`, storage, data FROM attachments
		WHERE id = $1 AND (deleted_at IS NULL) <> $2`, id, deleted)
	if err != nil {
		return nil, "", nil, wrap("read attachment", err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (core.Attachment, error) {
		return scanAttachmentInto(r, &storage, &data)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", nil, notFound
	}
	if err != nil {
		return nil, "", nil, wrap("read attachment", err)
	}
	if err := s.mayViewAttachments(ctx, a.Entity, a.RecordID); err != nil {
		return nil, "", nil, notFound
	}
	return &a, storage, data, nil
}

// nopBlob is a file held in memory.
type nopBlob struct{ *bytes.Reader }

func (nopBlob) Close() error { return nil }

// chunkBlob reads a file's chunks, those a read covers in one query. It
// keeps the context of the request that opened it: a download is read
// after its handler returns, as the response is written.
type chunkBlob struct {
	ctx  context.Context
	s    *Store
	id   string
	size int64
}

func (b *chunkBlob) Close() error { return nil }

func (b *chunkBlob) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), b.size)
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	rows, err := b.s.db(ctx).Query(ctx, `SELECT n, data FROM attachment_chunks
		WHERE attachment_id = $1 AND n BETWEEN $2 AND $3 ORDER BY n`, b.id, off/chunkSize, (end-1)/chunkSize)
	if err != nil {
		return 0, wrap("read attachment", err)
	}
	defer rows.Close()
	copied := 0
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n, nil); err != nil {
			return copied, wrap("read attachment", err)
		}
		data := rows.RawValues()[1] // the chunk as it came, copied once: a download allocates nothing per chunk
		start := n * chunkSize
		from := max(off+int64(copied)-start, 0)
		copied += copy(p[copied:end-off], data[min(from, int64(len(data))):])
	}
	if err := rows.Err(); err != nil {
		return copied, wrap("read attachment", err)
	}
	if int64(copied) < end-off {
		return copied, fmt.Errorf("read attachment %s: %d of %d bytes stored", b.id, copied, end-off)
	}
	if end == b.size && int64(copied) < int64(len(p)) {
		return copied, io.EOF
	}
	return copied, nil
}
