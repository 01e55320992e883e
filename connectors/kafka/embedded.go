package kafka

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// EmbeddedConfig configures the embedded broker.
type EmbeddedConfig struct {
	// Addr is host:port to listen on (port 0 picks one). Default
	// 127.0.0.1:9092.
	Addr string
	// DataDir keeps topics and group offsets across restarts.
	DataDir string
	// SyncWrites fsyncs every produced batch.
	SyncWrites bool
	// SASL, when Mechanism is set, requires clients to authenticate as
	// User (tests of the production settings).
	SASL Security
}

func (c *EmbeddedConfig) setDefaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:9092"
	}
}

// Validate checks the settings as an operator gave them, before
// StartEmbedded fills defaults; its message names the key relative to the
// broker's settings (addr).
func (c EmbeddedConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr: must be host:port, got %q", c.Addr)
	}
	return nil
}

// Embedded is a single-broker Kafka-protocol cluster in the hub's process
// (franz-go's kfake): enough for `make run`, development and tests;
// production points kafka.brokers at Apache Kafka or Redpanda.
type Embedded struct {
	c *kfake.Cluster
}

// StartEmbedded starts the broker.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	cfg.setDefaults()
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("kafka.embedded.addr: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("kafka.embedded.addr: bad port %q", portStr)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		// kfake listens on 127.0.0.1; honour the configured host.
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(address)
			l, err := net.Listen(network, net.JoinHostPort(host, p))
			if err != nil {
				return nil, err
			}
			return mendingListener{l}, nil
		}),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if cfg.SyncWrites {
		opts = append(opts, kfake.SyncWrites())
	}
	if cfg.SASL.SASLMechanism != "" {
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser(cfg.SASL.SASLMechanism, cfg.SASL.User, cfg.SASL.Password))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka on %s: %w", cfg.Addr, err)
	}
	return &Embedded{c: c}, nil
}

// Addr is the address clients connect to.
func (e *Embedded) Addr() string { return e.c.ListenAddrs()[0] }

// Close stops the broker, flushing its data.
func (e *Embedded) Close() { e.c.Close() }
