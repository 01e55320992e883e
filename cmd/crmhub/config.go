package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/connectors/mailout"
	"github.com/crmhub/crmhub/connectors/mailscan"
	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/connectors/ratesfeed"
	"github.com/crmhub/crmhub/core"
)

// Config is the hub's whole configuration. Every key is documented in
// configs/crmhub.example.yaml and can be overridden by an environment
// variable named CRMHUB_ plus the key's path in upper case joined by "_"
// (http.addr → CRMHUB_HTTP_ADDR).
type Config struct {
	DataDir  string         `yaml:"data_dir"`
	Log      LogConfig      `yaml:"log"`
	HTTP     HTTPConfig     `yaml:"http"`
	API      APIConfig      `yaml:"api"`
	Metrics  MetricsConfig  `yaml:"metrics"`
	Database DatabaseConfig `yaml:"database"`
	Kafka    KafkaConfig    `yaml:"kafka"`
	// Pipelines are created at serve start when no pipeline with their code
	// exists; afterwards they are edited through the admin API.
	Pipelines []PipelineConfig `yaml:"pipelines"`
	// Conversion maps lead fields onto the account, contact and deal a lead
	// converts into.
	Conversion core.ConversionMapping `yaml:"conversion"`
	// Duplicates says, per source of a write, what creating a lead, contact
	// or account that shares a phone, e-mail or ИНН with existing records does.
	Duplicates core.DuplicatePolicy `yaml:"duplicates"`
	Telephony  TelephonyConfig      `yaml:"telephony"`
	WebForms   WebFormsConfig       `yaml:"webforms"`
	Documents  DocumentsConfig      `yaml:"documents"`
	// Organization is our company's requisites, printed on documents.
	Organization core.Organization `yaml:"organization"`
	SMTP         SMTPConfig        `yaml:"smtp"`
	MailScan     MailScanConfig    `yaml:"mailscan"`
	OneC         OneCConfig        `yaml:"onec"`
	Reports      ReportsConfig     `yaml:"reports"`
	Rates        RatesConfig       `yaml:"rates"`
	Imports      ImportsConfig     `yaml:"imports"`
}

// RatesConfig is where the Bank of Russia's daily rates are fetched from
// (off while URL is empty; crmhub rates import loads a file by hand).
type RatesConfig struct {
	// URL serves the daily rates XML (the Bank's XML_daily.asp or a
	// mirror).
	URL string `yaml:"url"`
	// Interval between fetches.
	Interval time.Duration `yaml:"interval"`
}

// OneCConfig is the 1C:Enterprise exchange endpoint ("обмен с сайтом"),
// enabled when user and password are set.
type OneCConfig struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	// Path is where 1C is pointed (the site address in its exchange node).
	Path string `yaml:"path"`
	// FileLimit is the largest chunk 1C sends (file_limit).
	FileLimit int64 `yaml:"file_limit"`
	// CRMFields are product fields 1C never overwrites.
	CRMFields []string `yaml:"crm_fields"`
	// Zip lets 1C send one zip archive (unpacked within limits).
	Zip bool `yaml:"zip"`
	// Documents are what 1C is sent on mode=query: sales_orders and/or
	// invoices.
	Documents []string `yaml:"documents"`
	// SessionTTL ends an exchange session after so long without a request
	// from 1C; its uploaded files are removed then (or at mode=complete),
	// once its imports have ended.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// Throttle holds back password guessing at checkauth.
	Throttle ThrottleConfig `yaml:"throttle"`
}

// ThrottleConfig is a password login's throttle (core.LoginThrottle): a
// user name or a client address may fail UserFailures or IPFailures times
// in a row, then each attempt waits Delay, doubling up to Lockout; a key
// is forgotten after Forget without an attempt.
type ThrottleConfig struct {
	UserFailures int           `yaml:"user_failures"`
	IPFailures   int           `yaml:"ip_failures"`
	Delay        time.Duration `yaml:"delay"`
	Lockout      time.Duration `yaml:"lockout"`
	Forget       time.Duration `yaml:"forget"`
}

func defaultThrottle() ThrottleConfig {
	return ThrottleConfig{UserFailures: 5, IPFailures: 20, Delay: time.Second, Lockout: 15 * time.Minute, Forget: 24 * time.Hour}
}

// core is the throttle's configuration for the login named scope.
func (t ThrottleConfig) core(scope string) core.ThrottleConfig {
	return core.ThrottleConfig{Scope: scope, UserFailures: t.UserFailures, IPFailures: t.IPFailures, Delay: t.Delay,
		Lockout: t.Lockout, Forget: t.Forget}
}

// ImportsConfig bounds Excel imports and says how many run at once.
type ImportsConfig struct {
	// MaxRows is the most data rows an import's sheet may have (1 to
	// 1,048,575, all Excel allows): a larger one is refused at once.
	MaxRows int `yaml:"max_rows"`
	// Workers is how many imports run at once (1 to 32); the imports of one
	// user or API key run one after another.
	Workers int `yaml:"workers"`
}

// ReportsConfig bounds report runs and says which time zone their dates
// are in.
type ReportsConfig struct {
	// MaxRows is the most rows a run returns (1 to 1,000,000).
	MaxRows int `yaml:"max_rows"`
	// StatementTimeout stops a run's query (1s to 10m).
	StatementTimeout time.Duration `yaml:"statement_timeout"`
	// TimeZone is where "today", date groups and printed times are.
	TimeZone string `yaml:"time_zone"`
}

// Location is the reports' time zone (checked by validate).
func (r ReportsConfig) Location() *time.Location {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// MailScanConfig lists the mailboxes the mail scanner watches (more are
// added through the admin API).
type MailScanConfig struct {
	// URL is one mailbox in a line, for operators and scripts:
	// imap://user:password@host:port/INBOX?tls=none|starttls|tls&after=seen|move:Processed
	// (its default rule makes a lead of each message from an unknown sender).
	URL       string               `yaml:"url"`
	Mailboxes []core.MailboxConfig `yaml:"mailboxes"`
}

// mailboxes returns the configured mailboxes, the URL's first.
func (c Config) mailboxes() ([]core.MailboxConfig, error) {
	var out []core.MailboxConfig
	if c.MailScan.URL != "" {
		m, err := mailscan.ParseURL(c.MailScan.URL)
		if err != nil {
			return nil, fmt.Errorf("mailscan.url: %w", err)
		}
		out = append(out, m)
	}
	return append(out, c.MailScan.Mailboxes...), nil
}

// DocumentsConfig configures the sales documents.
type DocumentsConfig struct {
	// Numbering is each kind's number format: a prefix ("{year}" is the
	// document's year) and the zero-padded width of the year's sequence.
	Numbering map[string]core.NumberFormat `yaml:"numbering"`
	// PaidOnFullPayment moves an invoice to paid when its executed
	// payments cover it.
	PaidOnFullPayment bool `yaml:"paid_on_full_payment"`
	// SchetFakturaEdition is the счёт-фактура's edition caption.
	SchetFakturaEdition string `yaml:"schet_faktura_edition"`
	// ShippingClosedBy is the closing document that bills an invoice's
	// shipping and handling as a service line: act (the default) or
	// realization (the first one carries it).
	ShippingClosedBy string `yaml:"shipping_closed_by"`
	// ShippingLineName names that line («Доставка»).
	ShippingLineName string `yaml:"shipping_line_name"`
	// Images are files (PNG or JPEG) printed on the счёт, акт and
	// коммерческое предложение: the logo on top, the signature and the
	// stamp under the signatures.
	Images struct {
		Logo      string `yaml:"logo"`
		Stamp     string `yaml:"stamp"`
		Signature string `yaml:"signature"`
	} `yaml:"images"`
}

// SMTPConfig is the server documents are e-mailed through; sending is off
// while Host is empty.
type SMTPConfig struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	TLS      string `yaml:"tls"`
	CAFile   string `yaml:"ca_file"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	From     string `yaml:"from"`
	FromName string `yaml:"from_name"`
	ReplyTo  string `yaml:"reply_to"`
	HELO     string `yaml:"helo"`
	// Timeout bounds a connection's dial and each SMTP command.
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts and RetryBackoff: temporary failures are retried after
	// RetryBackoff, doubling (up to an hour), MaxAttempts tries in all.
	MaxAttempts  int           `yaml:"max_attempts"`
	RetryBackoff time.Duration `yaml:"retry_backoff"`
}

// mailout returns the mailer's SMTP settings (the From name defaults to
// the organization's short name).
func (c Config) mailout() mailout.SMTPConfig {
	s := c.SMTP
	name := s.FromName
	if name == "" {
		name = c.Organization.ShortName
	}
	return mailout.SMTPConfig{Host: s.Host, Port: s.Port, TLS: s.TLS, CAFile: s.CAFile, Username: s.Username,
		Password: s.Password, From: s.From, FromName: name, ReplyTo: s.ReplyTo, HELO: s.HELO, Timeout: s.Timeout}
}

// WebFormsConfig configures the website forms endpoint (POST /forms/{slug}).
// Forms are listed here or created through the admin API.
type WebFormsConfig struct {
	Forms []core.WebForm `yaml:"forms"`
	// MaxBody bounds a whole form post; MaxFileSize, MaxFiles and
	// MaxTotalFiles its files.
	MaxBody       int   `yaml:"max_body"`
	MaxFileSize   int64 `yaml:"max_file_size"`
	MaxFiles      int   `yaml:"max_files"`
	MaxTotalFiles int64 `yaml:"max_total_files"`
	// RateLimit is per client IP across forms (0 per minute: off).
	RateLimit struct {
		PerMinute float64 `yaml:"per_minute"`
		Burst     int     `yaml:"burst"`
	} `yaml:"rate_limit"`
	// Captcha is the server-side check of forms with captcha: true.
	Captcha struct {
		VerifyURL string        `yaml:"verify_url"`
		Secret    string        `yaml:"secret"`
		Timeout   time.Duration `yaml:"timeout"`
	} `yaml:"captcha"`
}

// TelephonyConfig configures the PBX connectors; a provider is enabled
// when its secret is set.
type TelephonyConfig struct {
	Generic TelephonyProviderConfig `yaml:"generic"`
	Zadarma ZadarmaConfig           `yaml:"zadarma"`
	Mango   MangoConfig             `yaml:"mango"`
	VATS    VATSConfig              `yaml:"vats"`
	// Asterisk is an AMI client rather than a webhook: enabled when addr
	// and secret are set.
	Asterisk AsteriskConfig `yaml:"asterisk"`
}

// AsteriskConfig is the Asterisk manager interface to listen to.
type AsteriskConfig struct {
	Addr     string `yaml:"addr"`
	Username string `yaml:"username"`
	Secret   string `yaml:"secret"`
	TLS      bool   `yaml:"tls"`
	// Timezone is the Asterisk server's: Cdr times come without an offset.
	Timezone string `yaml:"timezone"`
	// Context and ChannelPrefix make click-to-call: the employee's phone
	// is ChannelPrefix + extension (e.g. PJSIP/101), the number is dialled
	// in Context.
	Context       string        `yaml:"context"`
	ChannelPrefix string        `yaml:"channel_prefix"`
	CreateLeads   bool          `yaml:"create_leads"`
	CallbackAfter time.Duration `yaml:"callback_after"`
	// Owners (user ids) own calls no extension maps to a user: one is the
	// default owner, several take turns. Empty: the first administrator.
	Owners []string `yaml:"owners"`
}

// VATSConfig is the universal VATS protocol's settings: the crm_token the
// PBX sends (typed into the PBX cabinet) and a provider's policy.
type VATSConfig struct {
	Token string `yaml:"token"`
	// APIURL and APIKey are the PBX's side, for click-to-call (makeCall):
	// the legacy command URL (…/sys/crm_api.wcgp) or a REST v1 base
	// (…/crmapi/v1), and the PBX key.
	APIURL        string        `yaml:"api_url"`
	APIKey        string        `yaml:"api_key"`
	CreateLeads   bool          `yaml:"create_leads"`
	CallbackAfter time.Duration `yaml:"callback_after"`
	// Owners (user ids) own calls no extension maps to a user: one is the
	// default owner, several take turns. Empty: the first administrator.
	Owners []string `yaml:"owners"`
}

// MangoConfig is MANGO OFFICE's settings: the product's API key and salt
// (both sign every event) and a provider's policy.
type MangoConfig struct {
	APIKey        string        `yaml:"api_key"`
	APISalt       string        `yaml:"api_salt"`
	CreateLeads   bool          `yaml:"create_leads"`
	CallbackAfter time.Duration `yaml:"callback_after"`
	// Owners (user ids) own calls no extension maps to a user: one is the
	// default owner, several take turns. Empty: the first administrator.
	Owners []string `yaml:"owners"`
}

// ZadarmaConfig is Zadarma's settings: a provider's, and the account's time
// zone (Zadarma sends local times without an offset).
type ZadarmaConfig struct {
	Secret        string        `yaml:"secret"`
	CreateLeads   bool          `yaml:"create_leads"`
	CallbackAfter time.Duration `yaml:"callback_after"`
	Timezone      string        `yaml:"timezone"`
	// MaxAge is how long after its call_start a notification is accepted:
	// Zadarma's signature leaves the call id and figures out, so a
	// captured notification is refused once it is older.
	MaxAge time.Duration `yaml:"max_age"`
	// Owners (user ids) own calls no extension maps to a user: one is the
	// default owner, several take turns. Empty: the first administrator.
	Owners []string `yaml:"owners"`
}

func (z ZadarmaConfig) provider() TelephonyProviderConfig {
	return TelephonyProviderConfig{Secret: z.Secret, CreateLeads: z.CreateLeads, CallbackAfter: z.CallbackAfter, Owners: z.Owners}
}

// TelephonyProviderConfig is one provider's settings.
type TelephonyProviderConfig struct {
	Secret string `yaml:"secret"`
	// CreateLeads makes an incoming call from an unknown number a lead.
	CreateLeads bool `yaml:"create_leads"`
	// CallbackAfter is when the call-back task of a missed call is due
	// (0: no task).
	CallbackAfter time.Duration `yaml:"callback_after"`
	// Owners (user ids) own calls no extension maps to a user: one is the
	// default owner, several take turns. Empty: the first administrator.
	Owners []string `yaml:"owners"`
}

func (p TelephonyProviderConfig) policy() core.CallPolicy {
	return core.CallPolicy{CreateLeads: p.CreateLeads, CallbackAfter: p.CallbackAfter, Owners: p.Owners}
}

// PipelineConfig is a deal pipeline in the configuration.
type PipelineConfig struct {
	Code    string        `yaml:"code"`
	Name    string        `yaml:"name"`
	Default bool          `yaml:"default"`
	Stages  []StageConfig `yaml:"stages"`
}

// StageConfig is one stage of a configured pipeline.
type StageConfig struct {
	Code        string `yaml:"code"`
	LabelRU     string `yaml:"label_ru"`
	LabelEN     string `yaml:"label_en"`
	Probability int    `yaml:"probability"`
	Kind        string `yaml:"kind"`
}

func (p PipelineConfig) pipeline() core.Pipeline {
	out := core.Pipeline{Code: p.Code, Name: p.Name, Default: p.Default, Active: true}
	for _, s := range p.Stages {
		out.Stages = append(out.Stages, core.Stage{Code: s.Code, LabelRU: s.LabelRU, LabelEN: s.LabelEN,
			Probability: s.Probability, Kind: s.Kind})
	}
	return out
}

func pipelineConfig(p core.Pipeline) PipelineConfig {
	out := PipelineConfig{Code: p.Code, Name: p.Name, Default: p.Default}
	for _, s := range p.Stages {
		out.Stages = append(out.Stages, StageConfig{s.Code, s.LabelRU, s.LabelEN, s.Probability, s.Kind})
	}
	return out
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// HTTPConfig configures the API server.
type HTTPConfig struct {
	Addr            string        `yaml:"addr"`
	BodyLimit       int           `yaml:"body_limit"`
	AccessLog       bool          `yaml:"access_log"`
	ReadTimeout     time.Duration `yaml:"read_timeout"`
	WriteTimeout    time.Duration `yaml:"write_timeout"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// APIConfig tunes the API's conventions.
type APIConfig struct {
	// RequireIfMatch refuses a PATCH, PUT or DELETE of a versioned record
	// without If-Match (428): no blind, last-write-wins writes.
	RequireIfMatch bool `yaml:"require_if_match"`
}

// MetricsConfig says where /metrics is served and to whom.
type MetricsConfig struct {
	// Addr, when set, serves /metrics there (host:port) and not on
	// http.addr: a port the scraper reaches and the Internet does not.
	Addr string `yaml:"addr"`
	// Token, when set, is the bearer token /metrics asks for (at least 16
	// characters), wherever it is served.
	Token string `yaml:"token"`
}

// validate checks the metrics keys; apiAddr is http.addr.
func (m MetricsConfig) validate(apiAddr string) error {
	if m.Token != "" && (len(m.Token) < 16 || strings.ContainsFunc(m.Token, func(r rune) bool { return r <= ' ' || r > '~' })) {
		return errors.New("metrics.token: must be at least 16 printable ASCII characters without spaces")
	}
	if m.Addr == "" {
		return nil
	}
	if err := validAddr(m.Addr); err != nil {
		return fmt.Errorf("metrics.addr: %w", err)
	}
	if m.Addr == apiAddr {
		return errors.New("metrics.addr: must differ from http.addr (leave it empty to serve /metrics there)")
	}
	return nil
}

// validAddr accepts host:port where the host is an IP address, localhost
// or empty (every interface).
func validAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("must be host:port such as 127.0.0.1:9090, got %q", addr)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return fmt.Errorf("the host must be an IP address or localhost, got %q", host)
	}
	return nil
}

// DatabaseConfig configures PostgreSQL.
type DatabaseConfig struct {
	URL            string         `yaml:"url" secret:"url"`
	MaxConns       int            `yaml:"max_conns"`
	MigrateOnStart bool           `yaml:"migrate_on_start"`
	Embedded       EmbeddedConfig `yaml:"embedded"`
}

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

// EmbeddedConfig configures the private cluster used when url is empty.
type EmbeddedConfig struct {
	Port    int    `yaml:"port"`
	Listen  bool   `yaml:"listen"`
	Durable bool   `yaml:"durable"`
	OSUser  string `yaml:"os_user"`
}

// defaultConfig is the configuration with nothing set.
func defaultConfig() Config {
	return Config{
		DataDir: "./var",
		Log:     LogConfig{Level: "info", Format: "text"},
		HTTP: HTTPConfig{Addr: "127.0.0.1:8080", BodyLimit: 1 << 20, AccessLog: true,
			ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, ShutdownTimeout: 15 * time.Second},
		Database: DatabaseConfig{MaxConns: 32, MigrateOnStart: true,
			Embedded: EmbeddedConfig{Port: 5432, Durable: true, OSUser: "postgres"}},
		Kafka: KafkaConfig{TopicPrefix: "crm", ClientID: "crmhub", Partitions: 6, Compression: "snappy",
			Linger: 5 * time.Millisecond, AutoCreate: true, MaxEventBytes: kafka.DefaultMaxEventBytes,
			Embedded: KafkaEmbeddedConfig{Addr: "127.0.0.1:9092"},
			Relay:    RelayConfig{Enabled: true, BatchSize: 5000, PollInterval: time.Second, Retention: 90 * 24 * time.Hour},
			Commands: CommandsConfig{Enabled: true, Group: "crmhub-commands", MaxAttempts: 5}},
		Pipelines:  []PipelineConfig{pipelineConfig(core.DefaultPipeline())},
		Conversion: core.DefaultConversionMapping(),
		Duplicates: core.DuplicatePolicy{Default: core.DupCreate, Sources: map[string]string{}},
		Telephony: TelephonyConfig{
			Generic: TelephonyProviderConfig{CreateLeads: true, CallbackAfter: 30 * time.Minute, Owners: []string{}},
			Zadarma: ZadarmaConfig{CreateLeads: true, CallbackAfter: 30 * time.Minute, Timezone: "Europe/Moscow", MaxAge: 24 * time.Hour, Owners: []string{}},
			Mango:   MangoConfig{CreateLeads: true, CallbackAfter: 30 * time.Minute, Owners: []string{}},
			VATS:    VATSConfig{CreateLeads: true, CallbackAfter: 30 * time.Minute, Owners: []string{}},
			Asterisk: AsteriskConfig{Username: "crmhub", Timezone: "Europe/Moscow", Context: "from-internal",
				ChannelPrefix: "PJSIP/", CreateLeads: true, CallbackAfter: 30 * time.Minute, Owners: []string{}}},
		WebForms: defaultWebForms(),
		Documents: DocumentsConfig{Numbering: core.DefaultNumbering(), PaidOnFullPayment: true,
			SchetFakturaEdition: "(в ред. постановления Правительства РФ от 16 августа 2024 г. № 1096)",
			ShippingClosedBy:    core.DefaultClosingRules().ShippingClosedBy, ShippingLineName: core.DefaultClosingRules().ShippingLineName},
		SMTP:     SMTPConfig{TLS: mailout.TLSStartTLS, Timeout: 15 * time.Second, MaxAttempts: 8, RetryBackoff: time.Minute},
		MailScan: MailScanConfig{Mailboxes: []core.MailboxConfig{}},
		Reports:  ReportsConfig{MaxRows: 100_000, StatementTimeout: 30 * time.Second, TimeZone: "Europe/Moscow"},
		Rates:    RatesConfig{Interval: 6 * time.Hour},
		Imports:  ImportsConfig{MaxRows: 1_000_000, Workers: 2},
		OneC: OneCConfig{Path: "/1c/exchange", FileLimit: 8 << 20, CRMFields: []string{}, Zip: true,
			Documents: []string{onec.DocSalesOrders}, SessionTTL: 2 * time.Hour, Throttle: defaultThrottle()},
	}
}

func defaultWebForms() WebFormsConfig {
	w := WebFormsConfig{Forms: []core.WebForm{}, MaxBody: 25 << 20, MaxFileSize: 10 << 20, MaxFiles: 5, MaxTotalFiles: 20 << 20}
	w.RateLimit.PerMinute, w.RateLimit.Burst = 20, 5
	w.Captcha.Timeout = 5 * time.Second
	return w
}

// defaultConfigPath is read when present and no other file is named.
const defaultConfigPath = "configs/crmhub.yaml"

// loadConfig reads the file (flagPath, else CRMHUB_CONFIG, else the default
// path when it exists), applies the environment and validates.
func loadConfig(flagPath string, getenv func(string) string) (Config, error) {
	cfg := defaultConfig()
	path, must := flagPath, true
	if path == "" {
		path = getenv("CRMHUB_CONFIG")
	}
	if path == "" {
		path, must = defaultConfigPath, false
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := decodeYAML(data, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	case must || !errors.Is(err, os.ErrNotExist):
		return cfg, fmt.Errorf("config: %w", err)
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), "CRMHUB", "", getenv); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func decodeYAML(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// applyEnv walks the config struct and overrides each key from its
// environment variable.
func applyEnv(v reflect.Value, envPrefix, keyPrefix string, getenv func(string) string) error {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		key, env := keyPrefix+name, envPrefix+"_"+strings.ToUpper(name)
		if f.Type.Kind() == reflect.Slice || f.Type.Kind() == reflect.Map {
			continue // lists are configured in the file only
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			if err := applyEnv(fv, env, key+".", getenv); err != nil {
				return err
			}
			continue
		}
		raw := getenv(env)
		if raw == "" {
			continue
		}
		if err := setValue(fv, raw); err != nil {
			return fmt.Errorf("config: %s (from %s): %w", key, env, err)
		}
	}
	return nil
}

func setValue(v reflect.Value, raw string) error {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("must be a duration such as 15s, got %q", raw)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("must be an integer, got %q", raw)
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", raw)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// Validate checks every key and names the first wrong one.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
	}
	switch {
	case c.DataDir == "":
		return bad("data_dir", "must not be empty")
	case !oneOf(c.Log.Level, "debug", "info", "warn", "error"):
		return bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	case !oneOf(c.Log.Format, "text", "json"):
		return bad("log.format", "must be text or json, got %q", c.Log.Format)
	case c.HTTP.BodyLimit < 1024 || c.HTTP.BodyLimit > 1<<30:
		return bad("http.body_limit", "must be between 1024 and 1073741824 bytes, got %d", c.HTTP.BodyLimit)
	case c.HTTP.ReadTimeout <= 0 || c.HTTP.WriteTimeout <= 0:
		return bad("http.read_timeout", "read and write timeouts must be positive")
	case c.HTTP.ShutdownTimeout <= 0 || c.HTTP.ShutdownTimeout > 10*time.Minute:
		return bad("http.shutdown_timeout", "must be between 1ns and 10m, got %s", c.HTTP.ShutdownTimeout)
	case c.Database.MaxConns < 2 || c.Database.MaxConns > 1000:
		return bad("database.max_conns", "must be between 2 and 1000, got %d", c.Database.MaxConns)
	case c.Database.Embedded.Port < 1 || c.Database.Embedded.Port > 65535:
		return bad("database.embedded.port", "must be a port number, got %d", c.Database.Embedded.Port)
	}
	if host, port, err := net.SplitHostPort(c.HTTP.Addr); err != nil || port == "" {
		return bad("http.addr", "must be host:port such as 127.0.0.1:8080, got %q", c.HTTP.Addr)
	} else if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return bad("http.addr", "the host must be an IP address or localhost, got %q", host)
	}
	if err := c.Metrics.validate(c.HTTP.Addr); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	for _, b := range c.Kafka.brokers() {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return bad("kafka.brokers", "must be host:port[,host:port…], got %q", b)
		}
	}
	if _, _, err := net.SplitHostPort(c.Kafka.Embedded.Addr); err != nil {
		return bad("kafka.embedded.addr", "must be host:port, got %q", c.Kafka.Embedded.Addr)
	}
	if !core.ValidCode(c.Kafka.TopicPrefix) {
		return bad("kafka.topic_prefix", "must be 1 to 50 of a-z, 0-9, _, got %q", c.Kafka.TopicPrefix)
	}
	switch {
	case c.Kafka.Partitions < 1 || c.Kafka.Partitions > 1000:
		return bad("kafka.partitions", "must be 1 to 1000, got %d", c.Kafka.Partitions)
	case c.Kafka.Relay.BatchSize < 1 || c.Kafka.Relay.BatchSize > 100_000:
		return bad("kafka.relay.batch_size", "must be 1 to 100000, got %d", c.Kafka.Relay.BatchSize)
	case c.Kafka.Relay.PollInterval < time.Millisecond:
		return bad("kafka.relay.poll_interval", "must be at least 1ms, got %s", c.Kafka.Relay.PollInterval)
	case !kafka.ValidMechanism(c.Kafka.SASL.Mechanism):
		return bad("kafka.sasl.mechanism", "must be empty, PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q", c.Kafka.SASL.Mechanism)
	case c.Kafka.SASL.Mechanism != "" && c.Kafka.SASL.User == "":
		return bad("kafka.sasl.user", "is required with a SASL mechanism")
	case !oneOf(c.Kafka.Compression, "none", "gzip", "snappy", "lz4", "zstd"):
		return bad("kafka.compression", "must be none, gzip, snappy, lz4 or zstd, got %q", c.Kafka.Compression)
	case c.Kafka.MaxEventBytes < 4<<10 || c.Kafka.MaxEventBytes > 100<<20:
		return bad("kafka.max_event_bytes", "must be 4096 to 104857600 (below the brokers' max.message.bytes), got %d", c.Kafka.MaxEventBytes)
	case c.Kafka.Linger < 0 || c.Kafka.Linger > time.Second:
		return bad("kafka.linger", "must be between 0 and 1s, got %s", c.Kafka.Linger)
	case c.Kafka.Commands.Group == "":
		return bad("kafka.commands.group", "must not be empty")
	case c.Kafka.Commands.MaxAttempts < 1 || c.Kafka.Commands.MaxAttempts > 100:
		return bad("kafka.commands.max_attempts", "must be 1 to 100, got %d", c.Kafka.Commands.MaxAttempts)
	case c.Kafka.Relay.Retention < 0:
		return bad("kafka.relay.retention", "must be 0 (keep forever) or positive, got %s", c.Kafka.Relay.Retention)
	}
	for _, tp := range []struct {
		name string
		p    TelephonyProviderConfig
	}{{"generic", c.Telephony.Generic}, {"zadarma", c.Telephony.Zadarma.provider()},
		{"mango", TelephonyProviderConfig{Secret: c.Telephony.Mango.APISalt, CallbackAfter: c.Telephony.Mango.CallbackAfter}},
		{"vats", TelephonyProviderConfig{CallbackAfter: c.Telephony.VATS.CallbackAfter}}} {
		name, p, key := tp.name, tp.p, "telephony."+tp.name+"."
		switch {
		case name == "generic" && p.Secret != "" && len(p.Secret) < 16:
			return bad(key+"secret", "must be at least 16 characters (it signs the PBX's requests)")
		case p.CallbackAfter < 0 || p.CallbackAfter > 30*24*time.Hour:
			return bad(key+"callback_after", "must be between 0 (no task) and 720h, got %s", p.CallbackAfter)
		}
	}
	for name, owners := range map[string][]string{"generic": c.Telephony.Generic.Owners, "zadarma": c.Telephony.Zadarma.Owners,
		"mango": c.Telephony.Mango.Owners, "vats": c.Telephony.VATS.Owners, "asterisk": c.Telephony.Asterisk.Owners} {
		for i, id := range owners {
			if _, err := uuid.Parse(id); err != nil {
				return bad(fmt.Sprintf("telephony.%s.owners[%d]", name, i), "must be a user id, got %q", id)
			}
		}
	}
	if mg := c.Telephony.Mango; (mg.APIKey == "") != (mg.APISalt == "") {
		return bad("telephony.mango.api_key", "api_key and api_salt go together: set both or neither")
	}
	if v := c.Telephony.VATS; v.APIURL != "" {
		if u, err := url.Parse(v.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return bad("telephony.vats.api_url", "must be the PBX's https:// API address, got %q", redactURL(v.APIURL))
		}
		if v.APIKey == "" {
			return bad("telephony.vats.api_key", "is required with api_url")
		}
	}
	if as := c.Telephony.Asterisk; as.Addr != "" || as.Secret != "" {
		if _, _, err := net.SplitHostPort(as.Addr); err != nil {
			return bad("telephony.asterisk.addr", "must be host:port of the manager interface (5038), got %q", as.Addr)
		}
		if as.Secret == "" || as.Username == "" {
			return bad("telephony.asterisk.secret", "username and secret are required with an addr")
		}
		if _, err := time.LoadLocation(as.Timezone); err != nil || as.Timezone == "" {
			return bad("telephony.asterisk.timezone", "must be a time zone such as Europe/Moscow, got %q", as.Timezone)
		}
		if as.CallbackAfter < 0 || as.CallbackAfter > 30*24*time.Hour {
			return bad("telephony.asterisk.callback_after", "must be between 0 (no task) and 720h, got %s", as.CallbackAfter)
		}
	}
	if z := c.Telephony.Zadarma; z.Secret != "" {
		if _, err := time.LoadLocation(z.Timezone); err != nil || z.Timezone == "" {
			return bad("telephony.zadarma.timezone", "must be a time zone such as Europe/Moscow, got %q", z.Timezone)
		}
		if z.MaxAge < 10*time.Minute || z.MaxAge > 30*24*time.Hour {
			return bad("telephony.zadarma.max_age", "must be between 10m and 720h, got %s", z.MaxAge)
		}
	}
	w := c.WebForms
	switch {
	case w.MaxBody < 1<<10 || w.MaxBody > 1<<30:
		return bad("webforms.max_body", "must be 1 KiB to 1 GiB, got %d", w.MaxBody)
	case w.MaxFileSize < 1 || w.MaxTotalFiles < w.MaxFileSize || int64(w.MaxBody) < w.MaxFileSize:
		return bad("webforms.max_file_size", "must be positive and at most max_total_files and max_body")
	case w.MaxFiles < 0 || w.MaxFiles > 100:
		return bad("webforms.max_files", "must be 0 to 100, got %d", w.MaxFiles)
	case w.RateLimit.PerMinute < 0 || w.RateLimit.Burst < 0:
		return bad("webforms.rate_limit", "per_minute and burst must not be negative")
	case w.Captcha.Secret != "" && w.Captcha.VerifyURL == "":
		return bad("webforms.captcha.verify_url", "is required with a captcha secret")
	}
	if u := w.Captcha.VerifyURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return bad("webforms.captcha.verify_url", "must be an http(s) URL such as https://smartcaptcha.yandexcloud.net/validate")
		}
	}
	defaults := 0
	for i, p := range c.Pipelines {
		pl := p.pipeline()
		if err := pl.Validate(); err != nil {
			f := core.ErrorFields(err)[0]
			return bad(fmt.Sprintf("pipelines[%d].%s", i, f.Field), "%s", f.Message)
		}
		if p.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return bad("pipelines", "at most one pipeline is the default")
	}
	for kind, f := range c.Documents.Numbering {
		if _, ok := core.DefaultNumbering()[kind]; !ok {
			return bad("documents.numbering."+kind, "is not a numbered kind (quote, sales_order, purchase_order, invoice, act, realization, payment, schet_faktura)")
		}
		if f.Width < 1 || f.Width > 12 || len(f.Prefix) > 40 {
			return bad("documents.numbering."+kind, "width must be 1 to 12 and the prefix at most 40 bytes")
		}
	}
	if c.Rates.URL != "" {
		if err := (ratesfeed.Config{URL: c.Rates.URL, Interval: c.Rates.Interval}).Validate(); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	switch c.Documents.ShippingClosedBy {
	case core.EntityAct, core.EntityRealization:
	default:
		return bad("documents.shipping_closed_by", "must be act or realization")
	}
	if n := strings.TrimSpace(c.Documents.ShippingLineName); n == "" || len(n) > 500 {
		return bad("documents.shipping_line_name", "must be a name of 1 to 500 bytes")
	}
	if err := c.Organization.Validate(); err != nil {
		f := core.ErrorFields(err)[0]
		return bad("organization."+f.Field, "%s", f.Message)
	}
	boxes, err := c.mailboxes()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if (c.OneC.User == "") != (c.OneC.Password == "") {
		return bad("onec.password", "set both onec.user and onec.password (CRMHUB_ONEC_USER, CRMHUB_ONEC_PASSWORD), or neither")
	}
	if !strings.HasPrefix(c.OneC.Path, "/") || strings.HasPrefix(c.OneC.Path, "/api/") || c.OneC.Path == "/" {
		return bad("onec.path", "must be a path such as /1c/exchange (not under /api/)")
	}
	if c.OneC.FileLimit < 1<<20 || c.OneC.FileLimit > 24<<20 {
		return bad("onec.file_limit", "must be 1 MiB to 24 MiB")
	}
	if c.OneC.SessionTTL < time.Minute || c.OneC.SessionTTL > 7*24*time.Hour {
		return bad("onec.session_ttl", "must be between 1m and 168h, got %s", c.OneC.SessionTTL)
	}
	if tc := c.OneC.Throttle.core("onec"); tc.Validate() != nil {
		return bad("onec.throttle", "%s", strings.TrimPrefix(tc.Validate().Error(), "login throttle: "))
	}
	if c.Reports.MaxRows < 1 || c.Reports.MaxRows > 1_000_000 {
		return bad("reports.max_rows", "must be 1 to 1000000")
	}
	if c.Imports.MaxRows < 1 || c.Imports.MaxRows > 1_048_575 {
		return bad("imports.max_rows", "must be 1 to 1048575, got %d", c.Imports.MaxRows)
	}
	if c.Imports.Workers < 1 || c.Imports.Workers > 32 {
		return bad("imports.workers", "must be 1 to 32, got %d", c.Imports.Workers)
	}
	if c.Reports.StatementTimeout < time.Second || c.Reports.StatementTimeout > 10*time.Minute {
		return bad("reports.statement_timeout", "must be 1s to 10m")
	}
	if _, err := time.LoadLocation(c.Reports.TimeZone); err != nil || c.Reports.TimeZone == "" {
		return bad("reports.time_zone", "must be a time zone such as Europe/Moscow, got %q", c.Reports.TimeZone)
	}
	if len(c.OneC.Documents) == 0 {
		return bad("onec.documents", "must name sales_orders and/or invoices")
	}
	for _, d := range c.OneC.Documents {
		if d != onec.DocSalesOrders && d != onec.DocInvoices {
			return bad("onec.documents", "%q is not sales_orders or invoices", d)
		}
	}
	if _, err := mailscan.NewGroup(boxes, nil, nil, nil, nil, nil); err != nil { // passwords are read at serve start
		return fmt.Errorf("config: %w", err)
	}
	if c.SMTP.Host != "" {
		m := c.mailout()
		if err := m.Validate(); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if c.SMTP.MaxAttempts < 1 || c.SMTP.RetryBackoff <= 0 {
			return bad("smtp.max_attempts", "max_attempts must be at least 1 and retry_backoff positive")
		}
	}
	if err := c.Duplicates.Validate(); err != nil {
		return bad("duplicates", "%s", core.ErrorMessage(err))
	}
	if err := c.Conversion.Validate(); err != nil {
		return bad("conversion", "%s", core.ErrorMessage(err))
	}
	if u := c.Database.URL; u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
			return bad("database.url", "must be a postgres:// URL")
		}
	}
	return nil
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// Redacted returns a copy safe to print (config show): every key whose
// name says it holds a secret (secretKey: passwords, secrets, tokens,
// salts, API keys), here and in lists, is replaced, and addresses (url,
// …_url) lose their passwords and secret parameters. A new secret key
// needs no change here; TestConfigShowRedactsEverySecretKey checks them
// all.
func (c Config) Redacted() Config {
	redact(reflect.ValueOf(&c).Elem(), "")
	return c
}
