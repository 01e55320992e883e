// Package mailscan is the mail scanner: it watches IMAP mailboxes and
// turns each new message into a lead (or a contact or account), or files
// it on the record it belongs to, by rules evaluated in order (the first
// create or skip settles a message; links fall through to the next rule
// and the default action when they find no record).
//
// Scanning is exactly once in effect: a folder's UIDVALIDITY and last
// processed UID are kept in PostgreSQL and advanced in the transaction that
// applies a message to the CRM, so a crash between the two cannot happen;
// a UIDVALIDITY change rescans the folder and the Message-ID recognizes
// what was processed. The after-action (mark seen, move) runs once the
// message is recorded, and again over every recorded UID when the scanner
// reconnects, so a crash in between leaves nothing behind.
package mailscan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmhub/crmhub/core"
)

// TLS modes.
const (
	TLSNone     = "none" // loopback only
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// Mailbox is one watched mailbox.
type Mailbox struct {
	Name string
	Host string
	// Port defaults to 993 (tls) or 143.
	Port int
	// TLS is tls (default), starttls or none (loopback only). Certificates
	// are verified (against CAFile when set) unless InsecureSkipVerify.
	TLS                string
	CAFile             string
	InsecureSkipVerify bool
	Username, Password string
	// Folders to scan (default INBOX).
	Folders []string
	// After is what happens to a processed message: seen (default),
	// leave, or move:<folder>.
	After string
	// PollInterval is how often the folders are checked (default 1
	// minute); with IDLE (a single folder and a server that has it) new
	// mail is seen at once.
	PollInterval time.Duration
	IDLE         bool
	// Owner is the user owning what the mailbox creates ("": the default).
	Owner         string
	Rules         []Rule
	DefaultAction string
	Limits        Limits
	// MaxMessage bounds a message read (larger ones fail). Default 40 MiB.
	MaxMessage int64
	// BatchSize is how many messages are fetched at once. Default 50.
	BatchSize int
}

func (m *Mailbox) setDefaults() {
	if m.TLS == "" {
		m.TLS = TLSImplicit
	}
	if m.Port == 0 {
		m.Port = 143
		if m.TLS == TLSImplicit {
			m.Port = 993
		}
	}
	if len(m.Folders) == 0 {
		m.Folders = []string{"INBOX"}
	}
	if m.After == "" {
		m.After = "seen"
	}
	if m.PollInterval <= 0 {
		m.PollInterval = time.Minute
	}
	if m.MaxMessage <= 0 {
		m.MaxMessage = 40 << 20
	}
	if m.BatchSize <= 0 {
		m.BatchSize = 50
	}
	if m.Name == "" {
		m.Name = m.Username + "@" + m.Host
	}
}

// Validate checks a mailbox and fills its defaults.
func (m *Mailbox) Validate() error {
	m.setDefaults()
	switch {
	case m.Host == "" || m.Username == "":
		return errors.New("host and username are required")
	case m.TLS != TLSNone && m.TLS != TLSStartTLS && m.TLS != TLSImplicit:
		return fmt.Errorf("tls: none, starttls or tls, not %q", m.TLS)
	case m.TLS == TLSNone && !core.IsLoopbackHost(m.Host):
		return errors.New("tls none is allowed only to a loopback server (the password would cross the network in clear)")
	case m.Port < 1 || m.Port > 65535:
		return fmt.Errorf("port %d is out of range", m.Port)
	case m.After != "seen" && m.After != "leave" && !(strings.HasPrefix(m.After, "move:") && len(m.After) > 5):
		return fmt.Errorf("after: seen, leave or move:<folder>, not %q", m.After)
	}
	_, err := CompileRules(m.Rules, m.DefaultAction, m.Owner)
	return err
}

// ParseURL reads a mailbox from imap://user:password@host:port/FOLDER
// ?tls=none|starttls|tls&after=seen|leave|move:Processed (the form of
// CRMHUB_MAILSCAN_URL); its default rule creates a lead from each message
// whose sender is unknown.
func ParseURL(raw string) (core.MailboxConfig, error) {
	u, err := url.Parse(raw)
	if err != nil { // url's error quotes the URL, password and all
		return core.MailboxConfig{}, errors.New("not a URL such as imap://user:password@host:993/INBOX")
	}
	if u.Scheme != "imap" && u.Scheme != "imaps" {
		return core.MailboxConfig{}, fmt.Errorf("the scheme is imap:// (or imaps://), not %q", u.Scheme)
	}
	c := core.MailboxConfig{Host: u.Hostname(), DefaultAction: core.MailCreateLead}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil {
			return core.MailboxConfig{}, fmt.Errorf("port %q", p)
		}
	}
	if f := strings.Trim(u.Path, "/"); f != "" {
		c.Folders = []string{f}
	}
	q := u.Query()
	for k := range q {
		if k != "tls" && k != "after" && k != "poll" {
			return core.MailboxConfig{}, fmt.Errorf("unknown parameter %q (tls, after, poll)", k)
		}
	}
	c.TLS = q.Get("tls")
	c.After = q.Get("after")
	if c.TLS == "" && u.Scheme == "imaps" {
		c.TLS = TLSImplicit
	}
	if p := q.Get("poll"); p != "" {
		if err := c.PollInterval.UnmarshalText([]byte(p)); err != nil {
			return core.MailboxConfig{}, fmt.Errorf("poll: %w", err)
		}
	}
	m := FromConfig(c, nil)
	if err := m.Validate(); err != nil {
		return core.MailboxConfig{}, err
	}
	c.Name = m.Name
	return c, nil
}

// Metrics are the scanners' Prometheus metrics.
type Metrics struct {
	messages *prometheus.CounterVec
	errors   *prometheus.CounterVec
	lastPoll *prometheus.GaugeVec
}

// NewMetrics registers the metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhub_mailscan_messages_total",
			Help: "Messages scanned, by mailbox and outcome (created, attached, duplicate, unmatched, skipped, failed)."}, []string{"mailbox", "outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhub_mailscan_errors_total",
			Help: "Connection and scan errors, by mailbox."}, []string{"mailbox"}),
		lastPoll: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "crmhub_mailscan_last_poll_timestamp_seconds",
			Help: "When the mailbox was last scanned to the end."}, []string{"mailbox"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.messages, m.errors, m.lastPoll} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// Scanner watches one mailbox.
type Scanner struct {
	box     Mailbox
	rules   *Rules
	store   core.MailStore
	log     *slog.Logger
	metrics *Metrics

	mu     sync.Mutex
	status core.MailboxStatus
	kick   chan struct{}
}

// New returns a scanner of box, applying messages through store.
func New(box Mailbox, store core.MailStore, metrics *Metrics, log *slog.Logger) (*Scanner, error) {
	if err := box.Validate(); err != nil {
		return nil, fmt.Errorf("mailbox %s: %w", box.Name, err)
	}
	rules, err := CompileRules(box.Rules, box.DefaultAction, box.Owner)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if metrics == nil {
		if metrics, err = NewMetrics(nil); err != nil {
			return nil, err
		}
	}
	return &Scanner{box: box, rules: rules, store: store, log: log.With("mailbox", box.Name), metrics: metrics,
		status: core.MailboxStatus{Name: box.Name, Host: box.Host, Username: box.Username, Folders: box.Folders, After: box.After},
		kick:   make(chan struct{}, 1)}, nil
}

// Status returns the mailbox's status.
func (s *Scanner) Status() core.MailboxStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Folders = slices.Clone(st.Folders)
	return st
}

// ScanNow wakes the scanner for a scan ("Scan now").
func (s *Scanner) ScanNow() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Scanner) update(f func(*core.MailboxStatus)) {
	s.mu.Lock()
	f(&s.status)
	s.mu.Unlock()
}

// Run scans until ctx ends, reconnecting with backoff (1 s doubling to
// 2 minutes) after an error.
func (s *Scanner) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		started := time.Now()
		err := s.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		now := time.Now()
		s.metrics.errors.WithLabelValues(s.box.Name).Inc()
		s.update(func(st *core.MailboxStatus) { st.Connected, st.LastError, st.ErrorAt = false, err.Error(), &now })
		s.log.Warn("mailscan_error", "error", err, "retry_in", backoff)
		if time.Since(started) > 2*time.Minute {
			backoff = time.Second // it had been working: start over
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Minute)
	}
}

// dial connects and logs in; updates receives the new message counts the
// server announces (for IDLE).
func (s *Scanner) dial(updates chan<- uint32) (*imapclient.Client, error) {
	opts := &imapclient.Options{
		WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select { // the handler must not block the client
					case updates <- *d.NumMessages:
					default:
					}
				}
			},
		},
	}
	tc := &tls.Config{ServerName: s.box.Host, InsecureSkipVerify: s.box.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // an operator's explicit choice
	if s.box.CAFile != "" {
		pem, err := os.ReadFile(s.box.CAFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", s.box.CAFile)
		}
	}
	opts.TLSConfig = tc
	addr := net.JoinHostPort(s.box.Host, strconv.Itoa(s.box.Port))
	var (
		c   *imapclient.Client
		err error
	)
	switch s.box.TLS {
	case TLSImplicit:
		c, err = imapclient.DialTLS(addr, opts)
	case TLSStartTLS:
		c, err = imapclient.DialStartTLS(addr, opts)
	default:
		c, err = imapclient.DialInsecure(addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	if err := c.Login(s.box.Username, s.box.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("login as %s: %w", s.box.Username, err)
	}
	return c, nil
}

// session is one connection: scan every folder, then wait (IDLE or poll),
// until ctx ends or an error.
func (s *Scanner) session(ctx context.Context) error {
	updates := make(chan uint32, 16)
	c, err := s.dial(updates)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() }) // unblocks a pending command
	defer stop()
	idle := s.box.IDLE && len(s.box.Folders) == 1 && c.Caps().Has(imap.CapIdle)
	s.update(func(st *core.MailboxStatus) { st.Connected, st.IDLE = true, idle })
	repaired := map[string]bool{}
	for {
		for _, f := range s.box.Folders {
			if err := s.scanFolder(ctx, c, f, !repaired[f]); err != nil {
				return fmt.Errorf("folder %s: %w", f, err)
			}
			repaired[f] = true
		}
		now := time.Now()
		s.metrics.lastPoll.WithLabelValues(s.box.Name).Set(float64(now.Unix()))
		s.update(func(st *core.MailboxStatus) { st.LastPoll, st.LastError, st.ErrorAt = &now, "", nil })
		if err := s.wait(ctx, c, idle, updates); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// wait returns when there may be new mail: the server announced some
// (IDLE), the poll interval passed, or ScanNow was called.
func (s *Scanner) wait(ctx context.Context, c *imapclient.Client, idle bool, updates <-chan uint32) error {
	timer := time.NewTimer(s.box.PollInterval)
	defer timer.Stop()
	if !idle {
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-s.kick:
		}
		return nil
	}
	// Drain announcements of mail already scanned.
	for len(updates) > 0 {
		<-updates
	}
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-timer.C:
	case <-updates:
	case <-s.kick:
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("idle done: %w", err)
	}
	return cmd.Wait()
}

// scanFolder processes the folder's new messages in UID order, a batch
// at a time; repair first re-applies the after-action to every recorded
// message (a crash may have come between the record and the action).
func (s *Scanner) scanFolder(ctx context.Context, c *imapclient.Client, folder string, repair bool) error {
	sel, err := c.Select(folder, nil).Wait()
	if err != nil {
		return fmt.Errorf("select: %w", err)
	}
	st, err := s.store.MailFolder(ctx, s.box.Name, folder)
	if err != nil {
		return err
	}
	if st.UIDValidity != sel.UIDValidity {
		if st.UIDValidity != 0 {
			s.log.Warn("mailscan_uidvalidity_changed", "folder", folder, "was", st.UIDValidity, "now", sel.UIDValidity)
		}
		if err := s.store.ResetMailFolder(ctx, s.box.Name, folder, sel.UIDValidity); err != nil {
			return err
		}
		st = core.MailFolderState{UIDValidity: sel.UIDValidity}
	}
	if sel.NumMessages == 0 {
		return nil
	}
	if repair && st.LastUID > 0 {
		if err := s.after(c, imap.UIDSet{imap.UIDRange{Start: 1, Stop: imap.UID(st.LastUID)}}); err != nil {
			return err
		}
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(st.LastUID + 1), Stop: 0}}}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		if uint32(u) > st.LastUID { // "n:*" always names the last message
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	for len(uids) > 0 {
		n := min(len(uids), s.box.BatchSize)
		if err := s.batch(ctx, c, folder, sel.UIDValidity, uids[:n]); err != nil {
			return err
		}
		uids = uids[n:]
	}
	return nil
}

// batch fetches and applies messages, then runs the after-action on them.
func (s *Scanner) batch(ctx context.Context, c *imapclient.Client, folder string, uidValidity uint32, uids []imap.UID) error {
	sec := &imap.FetchItemBodySection{Peek: true}
	// The sizes first: a message over the limit is never downloaded.
	sizes, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return fmt.Errorf("fetch sizes: %w", err)
	}
	big := map[imap.UID]int64{}
	var small []imap.UID
	for _, m := range sizes {
		if m.RFC822Size > s.box.MaxMessage {
			big[m.UID] = m.RFC822Size
		} else {
			small = append(small, m.UID)
		}
	}
	bodies := map[imap.UID][]byte{}
	if len(small) > 0 {
		msgs, err := c.Fetch(imap.UIDSetNum(small...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		for _, m := range msgs {
			bodies[m.UID] = m.FindBodySection(sec)
		}
	}
	var done []imap.UID
	for _, uid := range uids {
		if ctx.Err() != nil {
			break
		}
		o := core.MailOrigin{Mailbox: s.box.Name, Folder: folder, UIDValidity: uidValidity, UID: uint32(uid)}
		raw, ok := bodies[uid]
		var reason string
		switch {
		case big[uid] > 0:
			reason = fmt.Sprintf("the message is %d bytes, over the limit of %d", big[uid], s.box.MaxMessage)
		case !ok:
			continue // expunged meanwhile
		}
		var m *core.InboundMail
		if reason == "" {
			if m, err = Parse(raw, s.box.Limits); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			id := fmt.Sprintf("uid-%d-%d@%s", uidValidity, uid, folder)
			if m != nil {
				id = m.MessageID
			}
			if err := s.store.FailMail(ctx, o, id, reason); err != nil {
				return err
			}
			s.metrics.messages.WithLabelValues(s.box.Name, "failed").Inc()
			s.update(func(st *core.MailboxStatus) { st.Failed++ })
			s.log.Warn("mailscan_message_failed", "folder", folder, "uid", uid, "reason", reason)
			done = append(done, uid)
			continue
		}
		res, err := s.store.IngestMail(ctx, o, m, s.rules.Steps(m))
		if err != nil {
			return err
		}
		s.metrics.messages.WithLabelValues(s.box.Name, res.Outcome).Inc()
		s.update(func(st *core.MailboxStatus) { st.Processed++ })
		s.log.Info("mailscan_message", "folder", folder, "uid", uid, "message_id", m.MessageID, "outcome", res.Outcome,
			"rule", res.Rule, "entity", res.Entity, "record_id", res.RecordID)
		done = append(done, uid)
	}
	if len(done) == 0 {
		return ctx.Err()
	}
	return s.after(c, imap.UIDSetNum(done...))
}

// after marks processed messages seen, moves them, or leaves them.
func (s *Scanner) after(c *imapclient.Client, set imap.UIDSet) error {
	switch {
	case s.box.After == "seen":
		if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
			return fmt.Errorf("mark seen: %w", err)
		}
	case strings.HasPrefix(s.box.After, "move:"):
		target := strings.TrimPrefix(s.box.After, "move:")
		if _, err := c.Move(set, target).Wait(); err != nil {
			var ie *imap.Error
			if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeTryCreate {
				return fmt.Errorf("move to %s: %w", target, err)
			}
			if err := c.Create(target, nil).Wait(); err != nil {
				return fmt.Errorf("create %s: %w", target, err)
			}
			if _, err := c.Move(set, target).Wait(); err != nil {
				return fmt.Errorf("move to %s: %w", target, err)
			}
		}
	}
	return nil
}

// FromConfig makes a mailbox of its definition; getenv reads PasswordEnv.
func FromConfig(c core.MailboxConfig, getenv func(string) string) Mailbox {
	m := Mailbox{Name: c.Name, Host: c.Host, Port: c.Port, TLS: c.TLS, CAFile: c.CAFile, InsecureSkipVerify: c.InsecureSkipVerify,
		Username: c.Username, Password: c.Password, Folders: slices.Clone(c.Folders), After: c.After,
		PollInterval: time.Duration(c.PollInterval), IDLE: c.IDLE == nil || *c.IDLE, Owner: c.Owner, Rules: slices.Clone(c.Rules),
		DefaultAction: c.DefaultAction, Limits: Limits{MaxAttachment: c.MaxAttachment}}
	if c.PasswordEnv != "" && getenv != nil {
		m.Password = getenv(c.PasswordEnv)
	}
	return m
}

// Group runs the mailboxes' scanners: those of the config file and the
// environment, and those managed through the admin API, which Reload
// starts, restarts and stops. It implements core.MailScanner.
type Group struct {
	config  []Mailbox
	defs    []core.MailboxConfig // the config's, as shown in the API
	store   core.MailStore
	boxes   core.MailboxStore // nil: config mailboxes only
	metrics *Metrics
	log     *slog.Logger
	mu      sync.Mutex
	ctx     context.Context // set by Run
	running map[string]*running
	wg      sync.WaitGroup
}

type running struct {
	s      *Scanner
	cancel context.CancelFunc
	done   chan struct{}
	key    string // the definition it runs, to see changes
}

var _ core.MailScanner = (*Group)(nil)

// NewGroup checks the config's mailboxes and returns a group of them and
// of those boxes keeps (nil: none).
func NewGroup(config []core.MailboxConfig, getenv func(string) string, store core.MailStore, boxes core.MailboxStore,
	metrics *Metrics, log *slog.Logger) (*Group, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if metrics == nil {
		var err error
		if metrics, err = NewMetrics(nil); err != nil {
			return nil, err
		}
	}
	if err := ValidateMailboxes(config); err != nil {
		return nil, err
	}
	g := &Group{store: store, boxes: boxes, metrics: metrics, log: log, running: map[string]*running{}}
	for _, c := range config {
		m := FromConfig(c, getenv)
		if err := m.Validate(); err != nil {
			return nil, err // it fills the defaults; ValidateMailboxes checked the rest
		}
		c.Name, c.Password, c.PasswordEnv, c.Managed = m.Name, "", "", "config"
		g.config, g.defs = append(g.config, m), append(g.defs, c)
	}
	return g, nil
}

// ValidateMailboxes checks the config's mailboxes (their passwords are
// read at start, not here). Its core.Invalid error names the first wrong
// one relative to the scanner's settings (field mailboxes[1]), or no field
// when two share a name, for the caller to prefix with where they are.
func ValidateMailboxes(config []core.MailboxConfig) error {
	seen := map[string]bool{}
	for i, c := range config {
		m := FromConfig(c, nil)
		if err := m.Validate(); err != nil {
			return core.Invalid([]core.FieldError{{Field: fmt.Sprintf("mailboxes[%d]", i), Code: "invalid", Message: err.Error()}})
		}
		if seen[m.Name] {
			return core.Invalid([]core.FieldError{{Code: "conflict", Message: fmt.Sprintf("two mailboxes are named %q", m.Name)}})
		}
		seen[m.Name] = true
	}
	return nil
}

// ConfigMailboxes implements core.MailScanner.
func (g *Group) ConfigMailboxes() []core.MailboxConfig { return slices.Clone(g.defs) }

// Check implements core.MailScanner.
func (g *Group) Check(c core.MailboxConfig) error {
	var errs []core.FieldError
	if c.Name == "" || len(c.Name) > 100 || strings.ContainsAny(c.Name, "/\\ ") {
		errs = append(errs, core.FieldError{Field: "name", Code: "invalid", Message: "1 to 100 characters without spaces or slashes"})
	}
	for _, m := range g.config {
		if m.Name == c.Name {
			errs = append(errs, core.FieldError{Field: "name", Code: "conflict", Message: "a mailbox of the config file has this name"})
		}
	}
	if c.CAFile != "" {
		errs = append(errs, core.FieldError{Field: "ca_file", Code: "not_allowed", Message: "files are named in the config file only"})
	}
	m := FromConfig(c, nil)
	if err := m.Validate(); err != nil {
		errs = append(errs, core.FieldError{Field: "", Code: "invalid", Message: err.Error()})
	}
	return core.Invalid(errs)
}

// Run runs the scanners until ctx ends.
func (g *Group) Run(ctx context.Context) {
	g.mu.Lock()
	g.ctx = ctx
	g.mu.Unlock()
	if err := g.Reload(ctx); err != nil {
		g.log.Warn("mailscan_reload", "error", err)
	}
	<-ctx.Done()
	g.mu.Lock()
	for name, r := range g.running {
		r.cancel()
		delete(g.running, name)
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// Reload implements core.MailScanner.
func (g *Group) Reload(ctx context.Context) error {
	want := slices.Clone(g.config)
	if g.boxes != nil {
		stored, err := g.boxes.Mailboxes(ctx)
		if err != nil {
			return err
		}
		for _, c := range stored {
			m := FromConfig(c, nil)
			if err := m.Validate(); err != nil {
				g.log.Warn("mailscan_mailbox_invalid", "mailbox", c.Name, "error", err)
				continue
			}
			if slices.ContainsFunc(want, func(w Mailbox) bool { return w.Name == m.Name }) {
				continue // the config's wins
			}
			want = append(want, m)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx == nil {
		return nil // Run starts them
	}
	keep := map[string]bool{}
	for _, m := range want {
		key := fmt.Sprintf("%+v", m)
		keep[m.Name] = true
		if r, ok := g.running[m.Name]; ok {
			if r.key == key {
				continue
			}
			r.cancel() // changed: restart it
			<-r.done
		}
		s, err := New(m, g.store, g.metrics, g.log)
		if err != nil {
			g.log.Warn("mailscan_mailbox_invalid", "mailbox", m.Name, "error", err)
			continue
		}
		rctx, cancel := context.WithCancel(g.ctx)
		r := &running{s: s, cancel: cancel, done: make(chan struct{}), key: key}
		g.running[m.Name] = r
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer close(r.done)
			_ = s.Run(rctx)
		}()
	}
	for name, r := range g.running {
		if !keep[name] {
			r.cancel()
			<-r.done
			delete(g.running, name)
		}
	}
	return nil
}

// MailboxStatuses implements core.MailScanner.
func (g *Group) MailboxStatuses() []core.MailboxStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]core.MailboxStatus, 0, len(g.running))
	for _, r := range g.running {
		out = append(out, r.s.Status())
	}
	slices.SortFunc(out, func(a, b core.MailboxStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ScanNow implements core.MailScanner.
func (g *Group) ScanNow(name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r, ok := g.running[name]; ok {
		r.s.ScanNow()
		return true
	}
	return false
}
