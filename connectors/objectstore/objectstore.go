// Package objectstore keeps attachments' bytes in an S3-compatible object
// store (attachments.store: s3), one object per attachment named by its
// id, PostgreSQL keeping their rows. It implements core.BlobStore with
// minio-go.
//
// An upload is streamed: it is read a part (Config.PartSize) at a time
// into one buffer, so the memory it holds is one part whatever the file's
// size. A file that fits in a part is stored in one PUT; a larger one as
// a multipart upload, aborted when the upload or the store fails. (A hub
// that dies mid-upload leaves its parts behind: give the bucket a
// lifecycle rule that aborts incomplete multipart uploads after a day.)
//
// A download reads a range at a time: each ReadAt is one ranged GET of
// exactly the bytes asked for, so a client that reads part of a file, or
// goes away, costs no more than what it read.
package objectstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/crmhub/crmhub/core"
)

var _ core.BlobStore = (*Store)(nil)

// Time limits of the requests no caller's context bounds: a download's
// reads and the abort of a failed upload.
const (
	readTimeout  = time.Minute
	abortTimeout = 30 * time.Second
)

// Store keeps attachments' bytes in one bucket. It is safe for concurrent
// use.
type Store struct {
	s3       minio.Core
	bucket   string
	partSize int64
	logger   *slog.Logger
	// buffers holds uploads' part buffers (*[]byte of partSize) between
	// uploads.
	buffers sync.Pool
}

// New connects to the object store and checks that the bucket exists and
// the keys are accepted, creating the bucket when cfg.CreateBucket says
// so. Its errors name the configuration key at fault; none carries the
// secret key.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseSSL,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("attachments.s3.endpoint %s: %w", cfg.url(), err)
	}
	s := &Store{s3: minio.Core{Client: client}, bucket: cfg.Bucket, partSize: cfg.PartSize, logger: logger}
	s.buffers.New = func() any {
		b := make([]byte, s.partSize)
		return &b
	}

	if err := s.checkBucket(ctx, cfg); err != nil {
		return nil, err
	}
	logger.Info("objectstore_ready", "endpoint", cfg.url(), "bucket", cfg.Bucket, "part_size", cfg.PartSize)
	return s, nil
}

// checkBucket makes sure the bucket exists, creating it when cfg says so
// (a bucket another replica has just created is no error).
func (s *Store) checkBucket(ctx context.Context, cfg Config) error {
	exists, err := s.s3.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return bucketError(cfg, "check", err)
	}
	if exists {
		return nil
	}
	if !cfg.CreateBucket {
		return fmt.Errorf("object store %s has no bucket %q (attachments.s3.bucket): create it, or set attachments.s3.create_bucket", cfg.url(), cfg.Bucket)
	}

	err = s.s3.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
	if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
		return bucketError(cfg, "create", err)
	}
	s.logger.Info("objectstore_bucket_created", "endpoint", cfg.url(), "bucket", cfg.Bucket)
	return nil
}

// bucketError explains a failed check or creation (op) of the bucket:
// refused keys are named as such (minio-go's errors carry the store's
// message, never the secret).
func bucketError(cfg Config, op string, err error) error {
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.StatusCode == http.StatusForbidden, resp.Code == "AccessDenied", resp.Code == "SignatureDoesNotMatch",
		resp.Code == "InvalidAccessKeyId", resp.Code == "XAdminUserNotFound": // versitygw's unknown key
		return fmt.Errorf("object store %s refused access to bucket %q with attachments.s3.access_key %q: check it, attachments.s3.secret_key and the key's permissions: %w",
			cfg.url(), cfg.Bucket, cfg.AccessKey, err)
	}
	return fmt.Errorf("%s bucket %q at %s: %w", op, cfg.Bucket, cfg.url(), err)
}

// Put implements core.BlobStore: it reads r a part at a time into one
// buffer and stores a file that fits in it with one PUT, a larger one as
// a multipart upload. r's errors are returned wrapped, so a *core.Error
// (a file too large) stays one.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (_ int64, err error) {
	bufp := s.buffers.Get().(*[]byte)
	defer func() {
		if err == nil { // a failed request's body may still be read by its connection
			s.buffers.Put(bufp)
		}
	}()
	buf := *bufp

	n, err := readPart(r, buf)
	if err != nil {
		return 0, fmt.Errorf("put object %s: read: %w", key, err)
	}
	if n == len(buf) {
		return s.putParts(ctx, key, r, buf)
	}

	body, sum := payload(buf[:n])
	_, err = s.s3.PutObject(ctx, s.bucket, key, body, int64(n), "", sum, minio.PutObjectOptions{DisableContentSha256: true})
	if err != nil {
		return 0, fmt.Errorf("put object %s: %w", key, err)
	}
	return int64(n), nil
}

// putParts stores a file as a multipart upload, buf holding its first
// part, full; it aborts the upload when anything fails.
func (s *Store) putParts(ctx context.Context, key string, r io.Reader, buf []byte) (size int64, err error) {
	id, err := s.s3.NewMultipartUpload(ctx, s.bucket, key, minio.PutObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("put object %s: start upload: %w", key, err)
	}
	defer func() {
		if err != nil {
			s.abort(ctx, key, id)
		}
	}()

	var parts []minio.CompletePart
	for n := len(buf); n > 0; {
		body, sum := payload(buf[:n])
		part, err := s.s3.PutObjectPart(ctx, s.bucket, key, id, len(parts)+1, body, int64(n),
			minio.PutObjectPartOptions{Sha256Hex: sum, DisableContentSha256: true})
		if err != nil {
			return 0, fmt.Errorf("put object %s: part %d: %w", key, len(parts)+1, err)
		}
		parts = append(parts, minio.CompletePart{PartNumber: part.PartNumber, ETag: part.ETag})
		size += int64(n)
		if n < len(buf) {
			break
		}
		if n, err = readPart(r, buf); err != nil {
			return 0, fmt.Errorf("put object %s: read: %w", key, err)
		}
	}

	if _, err := s.s3.CompleteMultipartUpload(ctx, s.bucket, key, id, parts, minio.PutObjectOptions{}); err != nil {
		return 0, fmt.Errorf("put object %s: complete upload: %w", key, err)
	}
	return size, nil
}

// payload is a request's body with its SHA-256, which signs it whole and
// lets the store check it. (minio-go would otherwise sign it in aws-chunked
// encoding over plain HTTP, which S3-compatible stores implement unevenly:
// versitygw misreads an empty body so.)
func payload(b []byte) (io.Reader, string) {
	sum := sha256.Sum256(b)
	return bytes.NewReader(b), hex.EncodeToString(sum[:])
}

// readPart fills buf from r as far as r goes: n < len(buf) means r ended.
func readPart(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return n, err
}

// abort drops a failed upload's parts, even when ctx is cancelled (the
// client went away); a failure is logged, the upload's own error being
// the one returned.
func (s *Store) abort(ctx context.Context, key, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	if err := s.s3.AbortMultipartUpload(ctx, s.bucket, key, id); err != nil {
		s.logger.Warn("objectstore_abort_failed", "key", key, "upload_id", id, "error", err)
	}
}

// Open implements core.BlobStore: it checks that the object is there
// with size bytes (one HEAD); the blob then reads it with ranged GETs.
func (s *Store) Open(ctx context.Context, key string, size int64) (core.Blob, error) {
	info, err := s.s3.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if isNotFound(err) {
		return nil, core.Errorf(core.ENOTFOUND, "the attachment's file is not in the object store")
	}
	if err != nil {
		return nil, fmt.Errorf("open object %s: %w", key, err)
	}
	if info.Size != size {
		return nil, fmt.Errorf("open object %s: it has %d bytes, the attachment %d", key, info.Size, size)
	}
	return &blob{ctx: context.WithoutCancel(ctx), s: s, key: key, size: size}, nil
}

// blob reads an object, each ReadAt one ranged GET. It keeps the context
// of the request that opened it: a download is read after its handler
// returns, as the response is written.
type blob struct {
	ctx  context.Context
	s    *Store
	key  string
	size int64
}

// ReadAt reads the len(p) bytes at off, fewer with io.EOF at the end of
// the object. Concurrent calls are safe.
func (b *blob) ReadAt(p []byte, off int64) (int, error) {
	switch {
	case off < 0:
		return 0, fmt.Errorf("read object %s: negative offset %d", b.key, off)
	case off >= b.size:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	}
	end := min(off+int64(len(p)), b.size)

	ctx, cancel := context.WithTimeout(b.ctx, readTimeout)
	defer cancel()
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, end-1); err != nil {
		return 0, fmt.Errorf("read object %s at %d: %w", b.key, off, err)
	}
	body, info, _, err := b.s.s3.GetObject(ctx, b.s.bucket, b.key, opts)
	if err != nil {
		return 0, fmt.Errorf("read object %s at %d: %w", b.key, off, err)
	}
	defer body.Close()
	if info.Size != end-off {
		return 0, fmt.Errorf("read object %s at %d: %d bytes sent for a range of %d", b.key, off, info.Size, end-off)
	}

	n, err := io.ReadFull(body, p[:end-off])
	if err != nil {
		return n, fmt.Errorf("read object %s at %d: %w", b.key, off, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close implements core.Blob; a blob holds no connection between reads.
func (b *blob) Close() error { return nil }

// Delete implements core.BlobStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.s3.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	return nil
}

// isNotFound reports whether the store said the object does not exist.
func isNotFound(err error) bool {
	var resp minio.ErrorResponse
	return errors.As(err, &resp) && resp.Code == minio.NoSuchKey
}
