package telephony

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/crmhub/crmhub/core"
)

// AsteriskConfig configures the AMI client.
type AsteriskConfig struct {
	Addr     string // host:port of the manager interface (5038; 5039 with TLS)
	Username string
	Secret   string
	TLS      *tls.Config // nil: plain TCP
	// Events is the Login's event filter (default "call,cdr").
	Events string
	// Location is the Asterisk server's time zone: Cdr times come without
	// an offset. Default Europe/Moscow.
	Location *time.Location
	// PingInterval keeps the connection checked (default 20 s); a Ping not
	// answered within it drops the connection.
	PingInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnects
	// (defaults 1 s and 30 s), doubling after each failure.
	MinBackoff, MaxBackoff time.Duration
	DialTimeout            time.Duration // default 10 s
	// Click-to-call rings ChannelPrefix + the employee's extension
	// (default "PJSIP/") and dials the number in Context (default
	// "from-internal").
	ChannelPrefix, Context string
	Policy                 core.CallPolicy
	Now                    func() time.Time
	Logger                 *slog.Logger
}

func (c *AsteriskConfig) setDefaults() {
	if c.Events == "" {
		c.Events = "call,cdr"
	}
	if c.Location == nil {
		c.Location = time.FixedZone("MSK", 3*3600)
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 20 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = 30 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.ChannelPrefix == "" {
		c.ChannelPrefix = "PJSIP/"
	}
	if c.Context == "" {
		c.Context = "from-internal"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate checks the settings as an operator gave them, as Config.Validate
// does: the call policy and, when the client is on (Addr or Secret set),
// the manager interface's host:port and the login's user name and secret.
func (c AsteriskConfig) Validate() error {
	if c.Addr != "" || c.Secret != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			return fmt.Errorf("addr: must be host:port of the manager interface (5038), got %q", c.Addr)
		}
		if c.Secret == "" || c.Username == "" {
			return errors.New("secret: username and secret are required with an addr")
		}
	}
	return validatePolicy(c.Policy)
}
