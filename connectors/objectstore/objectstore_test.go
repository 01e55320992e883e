package objectstore_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/objectstore"
	"github.com/crmhub/crmhub/connectors/objectstore/s3test"
	"github.com/crmhub/crmhub/core"
)

const (
	kib        = 1 << 10
	mib        = 1 << 20
	testBucket = "attachments"
	readSize   = 256 * kib // what a download reads at a time
)

// bundle is what a test inspects besides the store: the configuration and
// a client of its own on the bucket.
type bundle struct {
	cfg objectstore.Config
	s3  *minio.Core
}

// setup starts a gateway and a store on it with cfg's part size; the
// store's log goes to the test's and is checked for the secret at the end.
func setup(t *testing.T, cfg objectstore.Config) (*objectstore.Store, bundle) {
	t.Helper()
	cfg.Endpoint = s3test.Start(t)
	cfg.Bucket, cfg.AccessKey, cfg.SecretKey, cfg.CreateBucket = testBucket, s3test.Access, s3test.Secret, true

	store, err := objectstore.New(t.Context(), cfg, testLogger(t))
	require.NoError(t, err)

	s3, err := minio.NewCore(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3test.Access, s3test.Secret, "")})
	require.NoError(t, err)
	return store, bundle{cfg: cfg, s3: s3}
}

// testLogger logs to the test and fails it if the secret was logged.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	var buf bytes.Buffer
	t.Cleanup(func() { require.NotContains(t, buf.String(), s3test.Secret, "the secret key was logged") })
	return slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), &buf), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// pattern returns n pseudo-random bytes, the same for the same seed.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// pipeOf streams data through an io.Pipe, as an upload arrives: not
// seekable, of unknown length, in writes that do not line up with parts.
func pipeOf(t *testing.T, data []byte) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		for len(data) > 0 {
			n := min(len(data), 100_000)
			if _, err := pw.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
		}
		_ = pw.Close()
	}()
	t.Cleanup(func() { _ = pr.Close() })
	return pr
}

// putData stores data under a new key and returns the key.
func putData(t *testing.T, store *objectstore.Store, data []byte) string {
	t.Helper()
	key := uuid.NewString()
	n, err := store.Put(t.Context(), key, pipeOf(t, data))
	require.NoError(t, err)
	require.EqualValues(t, len(data), n)
	return key
}

// readAll reads a blob as a download does, readSize bytes at a time at
// increasing offsets.
func readAll(t *testing.T, blob core.Blob, size int64) []byte {
	t.Helper()
	out := make([]byte, 0, size)
	p := make([]byte, readSize)
	for off := int64(0); ; {
		n, err := blob.ReadAt(p, off)
		out = append(out, p[:n]...)
		off += int64(n)
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		require.Equal(t, readSize, n, "a read before the end is whole")
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	store, b := setup(t, objectstore.Config{}) // the default 8 MiB parts

	t.Run("PutStreamThenReadAt", func(t *testing.T) {
		data := pattern(20*mib, 1)
		start := time.Now()
		key := putData(t, store, data)
		putTime := time.Since(start)

		blob, err := store.Open(t.Context(), key, int64(len(data)))
		require.NoError(t, err)
		defer blob.Close()
		checkRanges(t, blob, data)

		start = time.Now()
		got := readAll(t, blob, int64(len(data)))
		readTime := time.Since(start)
		require.True(t, bytes.Equal(data, got), "the bytes read back differ")
		t.Logf("20 MiB on loopback: Put %v (%.0f MiB/s, 8 MiB parts), read in %d KiB ReadAts %v (%.0f MiB/s)",
			putTime.Round(time.Millisecond), 20/putTime.Seconds(), readSize/kib, readTime.Round(time.Millisecond), 20/readTime.Seconds())
	})

	t.Run("SmallFile", func(t *testing.T) {
		data := pattern(3000, 2)
		key := putData(t, store, data)

		blob, err := store.Open(t.Context(), key, int64(len(data)))
		require.NoError(t, err)
		require.Equal(t, data, readAll(t, blob, int64(len(data))))
	})

	t.Run("EmptyFile", func(t *testing.T) {
		key := uuid.NewString()
		n, err := store.Put(t.Context(), key, strings.NewReader(""))
		require.NoError(t, err)
		require.Zero(t, n)

		blob, err := store.Open(t.Context(), key, 0)
		require.NoError(t, err)
		n2, err := blob.ReadAt(make([]byte, 10), 0)
		require.Zero(t, n2)
		require.ErrorIs(t, err, io.EOF)
	})

	t.Run("OpenMissing", func(t *testing.T) {
		_, err := store.Open(t.Context(), uuid.NewString(), 10)
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err), "%v", err)
	})

	t.Run("OpenWrongSize", func(t *testing.T) {
		key := putData(t, store, pattern(100, 3))
		_, err := store.Open(t.Context(), key, 101)
		require.Equal(t, core.EINTERNAL, core.ErrorCode(err), "%v", err)
	})

	t.Run("DeleteTwice", func(t *testing.T) {
		key := putData(t, store, pattern(100, 4))
		require.NoError(t, store.Delete(t.Context(), key))
		require.NoError(t, store.Delete(t.Context(), key))
		require.NoError(t, store.Delete(t.Context(), uuid.NewString()), "a key never stored")

		_, err := store.Open(t.Context(), key, 100)
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err), "%v", err)
	})

	t.Run("ReaderErrorAborts", func(t *testing.T) {
		tooLarge := core.Errorf(core.EINVALID, "the file is too large")
		key := uuid.NewString()
		r := io.MultiReader(pipeOf(t, pattern(10*mib, 5)), errReader{tooLarge})

		_, err := store.Put(t.Context(), key, r)
		require.ErrorIs(t, err, tooLarge, "the reader's error stays in the chain")
		requireGone(t, store, b, key)
	})

	t.Run("CancelAborts", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		key := uuid.NewString()
		r := &cancelAfter{r: pipeOf(t, pattern(20*mib, 6)), n: 9 * mib, cancel: cancel}

		_, err := store.Put(ctx, key, r)
		require.ErrorIs(t, err, context.Canceled)
		requireGone(t, store, b, key)
	})
}

// checkRanges reads data's blob at offsets around its 8 MiB parts and at
// its end, with io.ReaderAt's io.EOF: a read that reaches past the end
// returns fewer bytes and io.EOF.
func checkRanges(t *testing.T, blob core.Blob, data []byte) {
	size := int64(len(data))
	for _, c := range []struct {
		name string
		off  int64
		len  int
		want int
		eof  bool
	}{
		{"Start", 0, readSize, readSize, false},
		{"AcrossFirstPart", 8*mib - 1000, readSize, readSize, false},
		{"AcrossSecondPart", 16*mib - 1, 2, 2, false},
		{"EndingAtEnd", size - readSize, readSize, readSize, false},
		{"PastEnd", size - 1000, readSize, 1000, true},
		{"AtEnd", size, 10, 0, true},
		{"BeyondEnd", size + 5, 10, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := make([]byte, c.len)
			n, err := blob.ReadAt(p, c.off)
			require.Equal(t, c.want, n)
			if c.eof {
				require.ErrorIs(t, err, io.EOF)
			} else {
				require.NoError(t, err)
			}
			from := min(c.off, size)
			require.Equal(t, data[from:from+int64(n)], p[:n])
		})
	}

	t.Run("Concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		got := make([][]byte, 8)
		for i := range got {
			wg.Go(func() {
				p := make([]byte, readSize)
				n, _ := blob.ReadAt(p, int64(i)*size/8)
				got[i] = p[:n]
			})
		}
		wg.Wait()
		for i, p := range got {
			off := int64(i) * size / 8
			require.Equal(t, data[off:off+readSize], p, "read %d", i)
		}
	})
}

// requireGone checks that a failed upload left neither an object nor an
// unfinished multipart upload.
func requireGone(t *testing.T, store *objectstore.Store, b bundle, key string) {
	t.Helper()
	_, err := store.Open(t.Context(), key, 1)
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err), "%v", err)

	uploads, err := b.s3.ListMultipartUploads(t.Context(), b.cfg.Bucket, key, "", "", "", 100)
	require.NoError(t, err)
	require.Empty(t, uploads.Uploads, "the multipart upload was not aborted")
}

// errReader fails with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// cancelAfter reads r and calls cancel once n bytes are read: the client
// goes away mid-upload.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestNew(t *testing.T) {
	t.Parallel()
	endpoint := s3test.Start(t)
	good := objectstore.Config{Endpoint: endpoint, Bucket: testBucket, AccessKey: s3test.Access, SecretKey: s3test.Secret}

	// With a region the first request is HEAD bucket, whose answer has no
	// body; without, GET ?location, whose answer says why.
	for name, region := range map[string]string{"RegionAsked": "", "RegionSet": "us-east-1"} {
		t.Run("WrongSecret"+name, func(t *testing.T) {
			const wrong = "wrong-s3cr3t-b5e0"
			cfg := good
			cfg.SecretKey, cfg.Region, cfg.CreateBucket = wrong, region, true

			_, err := objectstore.New(t.Context(), cfg, testLogger(t))
			require.Error(t, err)
			t.Log(err)
			require.Contains(t, err.Error(), "attachments.s3.secret_key")
			require.NotContains(t, err.Error(), wrong)
			require.NotContains(t, err.Error(), s3test.Secret)
		})

		t.Run("UnknownAccessKey"+name, func(t *testing.T) {
			cfg := good
			cfg.AccessKey, cfg.Region, cfg.CreateBucket = "nobody", region, true

			_, err := objectstore.New(t.Context(), cfg, testLogger(t))
			require.Error(t, err)
			t.Log(err)
			require.Contains(t, err.Error(), "attachments.s3.access_key")
			require.NotContains(t, err.Error(), s3test.Secret)
		})
	}

	t.Run("MissingBucket", func(t *testing.T) {
		cfg := good
		cfg.Bucket = "no-such-bucket"

		_, err := objectstore.New(t.Context(), cfg, testLogger(t))
		require.Error(t, err)
		t.Log(err)
		require.Contains(t, err.Error(), "attachments.s3.create_bucket")
	})

	t.Run("CreateBucket", func(t *testing.T) {
		cfg := good
		cfg.Bucket, cfg.CreateBucket = "created", true

		_, err := objectstore.New(t.Context(), cfg, testLogger(t))
		require.NoError(t, err)
		_, err = objectstore.New(t.Context(), cfg, testLogger(t))
		require.NoError(t, err, "a bucket that exists is no error")
		cfg.CreateBucket = false
		_, err = objectstore.New(t.Context(), cfg, testLogger(t))
		require.NoError(t, err)
	})

	t.Run("Unreachable", func(t *testing.T) {
		cfg := good
		cfg.Endpoint = freePort(t)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()

		_, err := objectstore.New(ctx, cfg, testLogger(t))
		require.Error(t, err)
		t.Log(err)
		require.Contains(t, err.Error(), cfg.Endpoint)
	})
}

// freePort returns a loopback host:port nobody listens on just now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}
