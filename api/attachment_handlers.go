package api

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mountAttachments registers the files of records: a record's list and
// uploads, and a file's download, delete and restore.
func (s *Server) mountAttachments(v1 fiber.Router) {
	if s.deps.Attachments == nil {
		return
	}
	for path, entity := range recordPaths {
		v1.Get(path+"/:id/attachments", need(core.ScopeRead), s.listAttachments(entity))
		v1.Post(path+"/:id/attachments", need(core.ScopeWrite), s.uploadAttachments(entity))
	}
	v1.Get("/attachments/:id", need(core.ScopeRead), s.attachmentContent)
	v1.Delete("/attachments/:id", need(core.ScopeWrite), s.deleteAttachment)
	v1.Post("/attachments/:id/restore", need(core.ScopeWrite), s.restoreAttachment)
}

// isUpload says whether a request is an upload of files, whose body the
// handler streams (withRequest leaves it unread).
func isUpload(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && strings.HasPrefix(c.Path(), "/api/v1/") && strings.HasSuffix(c.Path(), "/attachments")
}

// uploadLimit is the largest body an upload may have: its files at the
// largest, with room for their part headers.
func (s *Server) uploadLimit() int64 {
	return int64(core.MaxUploadFiles) * (s.cfg.AttachmentMaxSize + 64<<10)
}

// listAttachments lists a record's files; ?deleted=true the deleted ones
// still restorable.
func (s *Server) listAttachments(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		deleted, err := boolQuery(c, "deleted")
		if err != nil {
			return err
		}
		items, err := s.deps.Attachments.Attachments(c.UserContext(), entity, c.Params("id"), deleted)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

// uploadAttachments takes a multipart/form-data body of files (any field
// name) and streams each to the store as it arrives: no file is held in
// memory whole.
func (s *Server) uploadAttachments(entity string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
		if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
			return core.Errorf(core.EINVALID, "send the files as multipart/form-data")
		}
		var body io.Reader = c.Context().RequestBodyStream()
		if body == nil {
			body = bytes.NewReader(c.Body())
		}
		in := bufio.NewReaderSize(body, 64<<10)
		defer finishBody(c, in)
		mr := multipart.NewReader(in, params["boundary"])
		next := func() (*core.Upload, error) {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			if err != nil {
				return nil, core.Errorf(core.EINVALID, "the multipart body is malformed: %v", err)
			}
			if part.FileName() == "" {
				return nil, core.Invalid([]core.FieldError{{Field: part.FormName(), Code: "not_a_file",
					Message: "an upload carries files only (parts with a filename)"}})
			}
			return &core.Upload{Name: part.FileName(), Content: part}, nil
		}
		items, err := s.deps.Attachments.Attach(c.UserContext(), entity, c.Params("id"), next)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"items": items})
	}
}

// finishBody reads what is left of an upload's body (after its closing
// boundary, a chunked body's last chunk) so that the connection can take
// the next request; when more is left than that (the upload was refused
// midway), it is not read through and the connection closes after the
// answer, as readBody set.
func finishBody(c *fiber.Ctx, body io.Reader) {
	const rest = 64 << 10
	if n, err := io.Copy(io.Discard, io.LimitReader(body, rest)); n < rest && err == nil {
		c.Response().Header.ResetConnectionClose()
	}
}

// attachmentContent sends a file as a download, in ranges when asked
// (Range: bytes=…, If-Range with its ETag): its type is the one sniffed
// when it was stored, never rendered inline (it came from a stranger).
func (s *Server) attachmentContent(c *fiber.Ctx) error {
	a, blob, err := s.deps.Attachments.OpenAttachment(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	ct := a.ContentType
	if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
		ct = "application/octet-stream"
	}
	tag := `"` + a.SHA256 + `"`
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(a.FileName))
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	c.Set(fiber.HeaderETag, tag)

	from, to, ranged, ok := byteRange(c.Get(fiber.HeaderRange), a.Size)
	if ir := c.Get(fiber.HeaderIfRange); ir != "" && ir != tag {
		ranged, ok = false, true // the file changed since the client's part: all of it
	}
	switch {
	case !ok:
		_ = blob.Close()
		c.Set(fiber.HeaderContentRange, "bytes */"+strconv.FormatInt(a.Size, 10))
		return fiber.NewError(fiber.StatusRequestedRangeNotSatisfiable, "the range is beyond the file's "+strconv.FormatInt(a.Size, 10)+" bytes")
	case ranged:
		c.Status(fiber.StatusPartialContent)
		c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", from, to, a.Size))
	default:
		from, to = 0, a.Size-1
	}
	section := io.NewSectionReader(blob, from, to-from+1)
	c.Context().SetBodyStream(&blobReader{Reader: bufio.NewReaderSize(section, 256<<10), blob: blob}, int(to-from+1))
	return nil
}

// blobReader reads a download and closes its blob when the response is
// written.
type blobReader struct {
	*bufio.Reader
	blob core.Blob
}

func (b *blobReader) Close() error { return b.blob.Close() }

func (s *Server) deleteAttachment(c *fiber.Ctx) error {
	if _, err := s.deps.Attachments.DeleteAttachment(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) restoreAttachment(c *fiber.Ctx) error {
	a, err := s.deps.Attachments.RestoreAttachment(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(a)
}
