package kafka

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Security is how clients authenticate and encrypt: SASL PLAIN or SCRAM
// (SHA-256, SHA-512), over TLS or not.
type Security struct {
	SASLMechanism string // "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"
	User          string
	Password      string
	TLS           *tls.Config // nil: plaintext
}

// ValidMechanism reports whether m is a SASL mechanism crmhub speaks.
func ValidMechanism(m string) bool {
	switch m {
	case "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		return true
	}
	return false
}

// commonOpts are the client options every crmhub client uses.
func commonOpts(brokers []string, clientID string, sec Security) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ClientID(clientID)}
	switch sec.SASLMechanism {
	case "":
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: sec.User, Pass: sec.Password}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: sec.User, Pass: sec.Password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: sec.User, Pass: sec.Password}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("kafka: unknown SASL mechanism %q", sec.SASLMechanism)
	}
	if sec.TLS != nil {
		opts = append(opts, kgo.Dialer((&tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: sec.TLS}).DialContext))
	}
	return opts, nil
}

// Compression returns the producer compression named c: none, gzip,
// snappy, lz4 or zstd.
func compression(c string) (kgo.CompressionCodec, error) {
	switch c {
	case "", "none":
		return kgo.NoCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("kafka: unknown compression %q: none, gzip, snappy, lz4 or zstd", c)
}
