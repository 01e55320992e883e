package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/core/outbox"
)

// KafkaConfig configures the change stream.
type KafkaConfig struct {
	Brokers     string        `yaml:"brokers"` // comma-separated; empty: the embedded broker
	TopicPrefix string        `yaml:"topic_prefix"`
	ClientID    string        `yaml:"client_id"`
	Partitions  int           `yaml:"partitions"`
	Compression string        `yaml:"compression"`
	Linger      time.Duration `yaml:"linger"`
	AutoCreate  bool          `yaml:"auto_create_topics"`
	StateTopics bool          `yaml:"state_topics"`
	// MaxEventBytes bounds a change event's message; a larger record is
	// streamed as a reference event (ce_truncated). Below the brokers'
	// max.message.bytes.
	MaxEventBytes int                 `yaml:"max_event_bytes"`
	SASL          SASLConfig          `yaml:"sasl"`
	TLS           TLSConfig           `yaml:"tls"`
	Embedded      KafkaEmbeddedConfig `yaml:"embedded"`
	Relay         RelayConfig         `yaml:"relay"`
	Commands      CommandsConfig      `yaml:"commands"`
}

// CommandsConfig configures the inbound command consumer.
type CommandsConfig struct {
	Enabled     bool   `yaml:"enabled"`
	Group       string `yaml:"group"`
	MaxAttempts int    `yaml:"max_attempts"`
}

// SASLConfig is the brokers' authentication.
type SASLConfig struct {
	Mechanism string `yaml:"mechanism"`
	User      string `yaml:"user"`
	Password  string `yaml:"password"`
}

// TLSConfig is the brokers' encryption.
type TLSConfig struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// security builds the clients' security settings.
func (k KafkaConfig) security() (kafka.Security, error) {
	sec := kafka.Security{SASLMechanism: k.SASL.Mechanism, User: k.SASL.User, Password: k.SASL.Password}
	if !k.TLS.Enabled {
		return sec, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: k.TLS.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
	if k.TLS.CAFile != "" {
		pem, err := os.ReadFile(k.TLS.CAFile)
		if err != nil {
			return sec, fmt.Errorf("kafka.tls.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return sec, fmt.Errorf("kafka.tls.ca_file: no certificates in %s", k.TLS.CAFile)
		}
	}
	if k.TLS.CertFile != "" || k.TLS.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(k.TLS.CertFile, k.TLS.KeyFile)
		if err != nil {
			return sec, fmt.Errorf("kafka.tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	sec.TLS = tc
	return sec, nil
}

// KafkaEmbeddedConfig configures the embedded broker.
type KafkaEmbeddedConfig struct {
	Addr       string `yaml:"addr"`
	SyncWrites bool   `yaml:"sync_writes"`
}

// RelayConfig configures the outbox relay.
type RelayConfig struct {
	Enabled      bool          `yaml:"enabled"`
	BatchSize    int           `yaml:"batch_size"`
	PollInterval time.Duration `yaml:"poll_interval"`
	Retention    time.Duration `yaml:"retention"`
}

// publisher is the publisher's settings from these keys, SASL included
// (the caller replaces the brokers and the security for the embedded
// broker, adds TLS and the logger).
func (k KafkaConfig) publisher() kafka.Config {
	return kafka.Config{Brokers: k.brokers(), TopicPrefix: k.TopicPrefix, ClientID: k.ClientID,
		Partitions: int32(min(max(k.Partitions, math.MinInt32), math.MaxInt32)), Compression: k.Compression,
		Linger: k.Linger, AutoCreateTopics: k.AutoCreate, StateTopics: k.StateTopics, MaxEventBytes: k.MaxEventBytes,
		Security: kafka.Security{SASLMechanism: k.SASL.Mechanism, User: k.SASL.User, Password: k.SASL.Password}}
}

// relay is the outbox relay's settings (the caller adds the metrics and
// the logger).
func (k KafkaConfig) relay() outbox.RelayConfig {
	return outbox.RelayConfig{BatchSize: k.Relay.BatchSize, PollInterval: k.Relay.PollInterval, Retention: k.Relay.Retention}
}

// commands is the command consumer's settings (the caller adds the
// brokers, the topic, the security, the metrics and the logger).
func (k KafkaConfig) commands() kafka.CommandConfig {
	return kafka.CommandConfig{Group: k.Commands.Group, MaxAttempts: k.Commands.MaxAttempts}
}

// brokers returns the configured brokers, none for the embedded one.
func (k KafkaConfig) brokers() []string {
	var out []string
	for _, b := range strings.Split(k.Brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}
