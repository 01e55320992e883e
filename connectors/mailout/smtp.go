// Package mailout is crmhub's outgoing mail: documents go to customers by
// e-mail through the company's SMTP server, with their print form attached.
//
// A request renders the PDF and the template, queues the e-mail (with the
// PDF, in one transaction) and tries to deliver it at once, so the caller
// hears the server's answer; a temporary failure (a 4xx reply, a refused
// or broken connection) is retried by a worker with backoff, a permanent
// one (5xx) fails the e-mail with the server's reason. A sent e-mail is
// recorded as an activity on the document's account, contact and deal.
//
// Delivery is at least once: SMTP has no idempotency, so a hub that dies
// after the server accepted a message and before recording it sends it
// again when the lease expires, with the same Message-ID.
package mailout

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/crmhub/crmhub/core"
)

// TLS modes.
const (
	TLSNone     = "none"     // plain SMTP (loopback or a trusted network only)
	TLSStartTLS = "starttls" // STARTTLS required (submission on 587)
	TLSImplicit = "tls"      // TLS from the first byte (465)
)

// SMTPConfig is how the hub reaches its SMTP server.
type SMTPConfig struct {
	Host string
	// Port defaults to 587 (starttls), 465 (tls) or 25 (none).
	Port int
	// TLS is none, starttls (default) or tls. Certificates are verified
	// against the system roots, or CAFile when set.
	TLS    string
	CAFile string
	// Username and Password authenticate (none when Username is empty).
	Username, Password string
	// From is the sender address; FromName its display name.
	From, FromName string
	// ReplyTo, when set, is where answers go.
	ReplyTo string
	// HELO is the name the hub introduces itself with (default: the
	// From address's domain).
	HELO string
	// Timeout bounds one connection's dial and each command. Default 15 s.
	Timeout time.Duration
}

// Validate checks a configuration and fills its defaults.
func (c *SMTPConfig) Validate() error {
	c.TLS = strings.ToLower(strings.TrimSpace(c.TLS))
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Host == "" {
		return errors.New("smtp.host is required")
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("smtp.tls must be none, starttls or tls, not %q", c.TLS)
	}
	if c.Port == 0 {
		c.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[c.TLS]
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("smtp.port %d is out of range", c.Port)
	}
	a, err := mail.ParseAddress(c.From)
	if err != nil || a.Name != "" {
		return fmt.Errorf("smtp.from must be an e-mail address such as sales@example.ru, not %q", c.From)
	}
	if c.ReplyTo != "" {
		if _, err := mail.ParseAddress(c.ReplyTo); err != nil {
			return fmt.Errorf("smtp.reply_to: %w", err)
		}
	}
	if c.TLS == TLSNone && c.Username != "" && !core.IsLoopbackHost(c.Host) {
		return errors.New("smtp: a password is sent only over TLS (smtp.tls starttls or tls) or to a loopback server")
	}
	if c.HELO == "" {
		c.HELO = c.From[strings.LastIndexByte(c.From, '@')+1:]
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	return nil
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// Message is one e-mail to send.
type Message struct {
	To, Cc        []string
	Subject, Body string
	// MessageID is the Message-ID without angle brackets.
	MessageID   string
	Attachments []Attachment
}

// Sender sends messages over SMTP, a connection each (documents go out
// one at a time, at a human pace).
type Sender struct {
	cfg  SMTPConfig
	opts []gomail.Option
}

// NewSender checks cfg and returns a sender.
func NewSender(cfg SMTPConfig) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp.ca_file %s holds no PEM certificate", cfg.CAFile)
		}
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout), gomail.WithHELO(cfg.HELO),
		gomail.WithTLSConfig(tc)}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if cfg.TLS == TLSNone { // loopback only (Validate)
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return &Sender{cfg: cfg, opts: opts}, nil
}

// From is the sender's address as it appears in messages.
func (s *Sender) From() string {
	if s.cfg.FromName == "" {
		return s.cfg.From
	}
	return (&mail.Address{Name: s.cfg.FromName, Address: s.cfg.From}).String()
}

// Domain is the sender address's domain (for Message-IDs).
func (s *Sender) Domain() string { return s.cfg.From[strings.LastIndexByte(s.cfg.From, '@')+1:] }

// SendError is a failed delivery: the server's reply (or the connection
// error) and whether retrying cannot help.
type SendError struct {
	Permanent bool
	Code      int // the SMTP reply code, 0 when there was none
	Err       error
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Send delivers m; a failure is a *SendError.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	var errs []error
	if s.cfg.FromName != "" {
		errs = append(errs, msg.FromFormat(s.cfg.FromName, s.cfg.From))
	} else {
		errs = append(errs, msg.From(s.cfg.From))
	}
	errs = append(errs, msg.To(m.To...))
	if len(m.Cc) > 0 {
		errs = append(errs, msg.Cc(m.Cc...))
	}
	if s.cfg.ReplyTo != "" {
		errs = append(errs, msg.ReplyTo(s.cfg.ReplyTo))
	}
	if err := errors.Join(errs...); err != nil {
		return &SendError{Permanent: true, Err: fmt.Errorf("addresses: %w", err)}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	msg.SetUserAgent("crmhub")
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	for _, a := range m.Attachments {
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data),
			gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return &SendError{Permanent: true, Err: fmt.Errorf("attachment %s: %w", a.Name, err)}
		}
	}
	c, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return &SendError{Permanent: true, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*s.cfg.Timeout+30*time.Second)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(err)
	}
	return nil
}

// classify tells a permanent refusal (a 5xx reply to the message or its
// recipients) from what may pass on a later try: 4xx replies, refused or
// broken connections, timeouts, and authentication or TLS trouble (an
// operator can mend those while the e-mail waits).
func classify(err error) *SendError {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		return &SendError{Permanent: !se.IsTemp() && code >= 500, Code: code, Err: err}
	}
	return &SendError{Err: err}
}
