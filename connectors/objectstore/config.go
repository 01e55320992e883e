package objectstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// Part sizes of a multipart upload: S3 takes parts (all but the last)
// from MinPartSize to MaxPartSize; DefaultPartSize is what an upload
// holds in memory unless attachments.s3.part_size says otherwise.
const (
	MinPartSize     = 5 << 20
	MaxPartSize     = 5 << 30
	DefaultPartSize = 8 << 20
)

// Config is how the hub reaches the S3-compatible object store that keeps
// attachments' bytes (attachments.s3).
type Config struct {
	// Endpoint is the store's host[:port], without a scheme or a path
	// (attachments.s3.endpoint): s3.eu-central-1.amazonaws.com,
	// storage.yandexcloud.net, minio:9000.
	Endpoint string
	// Bucket holds the files, one object per attachment named by its id
	// (attachments.s3.bucket).
	Bucket string
	// AccessKey and SecretKey sign every request (attachments.s3.access_key,
	// attachments.s3.secret_key). The secret key is never logged nor put
	// in an error.
	AccessKey string
	SecretKey string
	// Region is the bucket's region (attachments.s3.region); when empty
	// the store is asked once, at the first request.
	Region string
	// UseSSL speaks HTTPS to the endpoint (attachments.s3.use_ssl).
	UseSSL bool
	// PartSize is the size of a multipart upload's parts and so the memory
	// one upload holds (attachments.s3.part_size; default 8 MiB, from
	// 5 MiB to 5 GiB). A file no larger is stored in one request; the
	// largest file is 10000 parts.
	PartSize int64
	// CreateBucket creates Bucket when it does not exist
	// (attachments.s3.create_bucket); without it New fails then.
	CreateBucket bool
}

// setDefaults fills what the configuration leaves out.
func (c *Config) setDefaults() {
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
}

// Validate checks a configuration, each error naming its key. It never
// quotes the secret key, nor an endpoint that carries credentials.
func (c Config) Validate() error {
	if err := validateEndpoint(c.Endpoint); err != nil {
		return err
	}

	if c.Bucket == "" {
		return errors.New("attachments.s3.bucket is required")
	}
	if err := s3utils.CheckValidBucketName(c.Bucket); err != nil {
		return fmt.Errorf("attachments.s3.bucket %q: %w", c.Bucket, err)
	}

	if c.AccessKey == "" {
		return errors.New("attachments.s3.access_key is required")
	}
	if c.SecretKey == "" {
		return errors.New("attachments.s3.secret_key is required")
	}

	if c.PartSize != 0 && (c.PartSize < MinPartSize || c.PartSize > MaxPartSize) {
		return fmt.Errorf("attachments.s3.part_size %d must be from %d (5 MiB) to %d (5 GiB)", c.PartSize, MinPartSize, MaxPartSize)
	}
	return nil
}

// validateEndpoint checks that an endpoint is a bare host[:port]: the
// scheme is UseSSL's, and credentials belong in their own keys.
func validateEndpoint(endpoint string) error {
	switch {
	case endpoint == "":
		return errors.New("attachments.s3.endpoint is required")
	case strings.Contains(endpoint, "@"):
		return errors.New("attachments.s3.endpoint must not carry credentials: set attachments.s3.access_key and secret_key")
	case strings.Contains(endpoint, "://"):
		return fmt.Errorf("attachments.s3.endpoint %q must be host[:port] without a scheme (attachments.s3.use_ssl picks https)", endpoint)
	case strings.ContainsAny(endpoint, "/?# "):
		return fmt.Errorf("attachments.s3.endpoint %q must be host[:port] without a path", endpoint)
	}
	return nil
}

// url is the endpoint as a URL, for logs and errors.
func (c Config) url() string {
	if c.UseSSL {
		return "https://" + c.Endpoint
	}
	return "http://" + c.Endpoint
}
