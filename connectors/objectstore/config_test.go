package objectstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/objectstore"
	"github.com/crmhub/crmhub/connectors/objectstore/s3test"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := objectstore.Config{Endpoint: "minio:9000", Bucket: "attachments", AccessKey: s3test.Access, SecretKey: s3test.Secret}

	for _, c := range []struct {
		name   string
		change func(*objectstore.Config)
		want   string // "" for valid
	}{
		{"Valid", func(*objectstore.Config) {}, ""},
		{"ValidPartSize", func(c *objectstore.Config) { c.PartSize = objectstore.MinPartSize }, ""},
		{"NoEndpoint", func(c *objectstore.Config) { c.Endpoint = "" }, "attachments.s3.endpoint is required"},
		{"EndpointScheme", func(c *objectstore.Config) { c.Endpoint = "https://s3.example.com" }, "attachments.s3.use_ssl"},
		{"EndpointPath", func(c *objectstore.Config) { c.Endpoint = "s3.example.com/bucket" }, "without a path"},
		{"EndpointCredentials", func(c *objectstore.Config) { c.Endpoint = s3test.Access + ":" + s3test.Secret + "@s3.example.com" }, "must not carry credentials"},
		{"NoBucket", func(c *objectstore.Config) { c.Bucket = "" }, "attachments.s3.bucket is required"},
		{"BadBucket", func(c *objectstore.Config) { c.Bucket = "a" }, "attachments.s3.bucket \"a\""},
		{"NoAccessKey", func(c *objectstore.Config) { c.AccessKey = "" }, "attachments.s3.access_key is required"},
		{"NoSecretKey", func(c *objectstore.Config) { c.SecretKey = "" }, "attachments.s3.secret_key is required"},
		{"PartTooSmall", func(c *objectstore.Config) { c.PartSize = objectstore.MinPartSize - 1 }, "attachments.s3.part_size"},
		{"PartTooLarge", func(c *objectstore.Config) { c.PartSize = objectstore.MaxPartSize + 1 }, "attachments.s3.part_size"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			c.change(&cfg)

			err := cfg.Validate()
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), s3test.Secret)

			_, err = objectstore.New(t.Context(), cfg, nil)
			require.ErrorContains(t, err, c.want, "New validates first")
		})
	}
}
