package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/connectors/mailout"
	"github.com/crmhub/crmhub/connectors/mailscan"
	"github.com/crmhub/crmhub/connectors/objectstore"
	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/connectors/ratesfeed"
	"github.com/crmhub/crmhub/connectors/webforms"
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
	Auth         AuthConfig        `yaml:"auth"`
	Attachments  AttachmentsConfig `yaml:"attachments"`
	Suggestions  SuggestionsConfig `yaml:"suggestions"`
}

// SuggestionsConfig configures the DaData-compatible lookups of
// /suggestions/api/4_1/rs, which web pages' widgets call from the browser.
type SuggestionsConfig struct {
	// AllowedOrigins are the pages' origins (https://shop.example.ru) whose
	// browsers may call them; "*" allows any. Empty: no browser may (servers
	// still can, with a key).
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// AttachmentsConfig bounds the files uploaded to records and says where
// their bytes are kept.
type AttachmentsConfig struct {
	// MaxSize is the largest file an upload takes, in bytes (1 KiB to 5 GiB).
	MaxSize int64 `yaml:"max_size"`
	// Store is db (PostgreSQL keeps the bytes) or s3 (an S3-compatible
	// object store keeps them, PostgreSQL their rows). Files stored before a
	// switch stay where they are and are still served.
	Store string   `yaml:"store"`
	S3    S3Config `yaml:"s3"`
}

// S3Config is the object store of attachments.store: s3.
type S3Config struct {
	// Endpoint is host[:port], without a scheme; UseSSL says https.
	Endpoint string `yaml:"endpoint"`
	UseSSL   bool   `yaml:"use_ssl"`
	Region   string `yaml:"region"`
	Bucket   string `yaml:"bucket"`
	// AccessKey and SecretKey are the credentials (a secret: set it through
	// $CRMHUB_ATTACHMENTS_S3_SECRET_KEY rather than in the file).
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// PartSize is the part of a large file an upload holds in memory and
	// sends at a time (5 MiB to 5 GiB; default 8 MiB).
	PartSize int64 `yaml:"part_size"`
	// CreateBucket makes the bucket at start when it is missing.
	CreateBucket bool `yaml:"create_bucket"`
}

// objectStore is the object store's own configuration.
func (c S3Config) objectStore() objectstore.Config {
	return objectstore.Config{Endpoint: c.Endpoint, Bucket: c.Bucket, AccessKey: c.AccessKey, SecretKey: c.SecretKey,
		Region: c.Region, UseSSL: c.UseSSL, PartSize: c.PartSize, CreateBucket: c.CreateBucket}
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

// ratesFeed is the rates feed's settings (the caller adds the logger).
func (c Config) ratesFeed() ratesfeed.Config {
	return ratesfeed.Config{URL: c.Rates.URL, Interval: c.Rates.Interval}
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
	// RequisitesMap maps goods' and counterparties' requisites and
	// properties onto custom fields of products and accounts, both ways.
	RequisitesMap onec.RequisitesMap `yaml:"requisites_map"`
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

// exchange is the 1C exchange's settings from these keys (the caller adds
// the work folder, the throttle, the job log and the logger).
func (o OneCConfig) exchange() onec.Config {
	return onec.Config{User: o.User, Password: o.Password, FileLimit: o.FileLimit, CRMFields: o.CRMFields, Zip: o.Zip,
		Documents: o.Documents, SessionTTL: o.SessionTTL, Requisites: o.RequisitesMap}
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

// mailer is the document mailer's settings (the caller adds the logger
// and the registry).
func (c Config) mailer() mailout.Config {
	return mailout.Config{SMTP: c.mailout(), MaxAttempts: c.SMTP.MaxAttempts, Backoff: c.SMTP.RetryBackoff}
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
	// Bitrix24REST are Bitrix24 inbound webhooks the hub answers in the
	// portal's place: crm.lead.add at /rest/{user}/{token}/, captured by a
	// bitrix24 form.
	Bitrix24REST []Bitrix24HookConfig `yaml:"bitrix24_rest"`
}

// Bitrix24HookConfig is a Bitrix24 inbound webhook: the user id and the
// secret token of its URL, and the form that captures its leads.
type Bitrix24HookConfig struct {
	User  string `yaml:"user"`
	Token string `yaml:"token"`
	Form  string `yaml:"form"`
}

// forms is the forms endpoint's settings (the caller adds the registry and
// the logger). A captcha secret without a verify_url makes a Captcha that
// Validate refuses.
func (w WebFormsConfig) forms() webforms.Config {
	cfg := webforms.Config{Forms: w.Forms,
		Limits:    webforms.Limits{MaxFileSize: w.MaxFileSize, MaxFiles: w.MaxFiles, MaxTotalFiles: w.MaxTotalFiles},
		RateLimit: webforms.RateLimit{PerMinute: w.RateLimit.PerMinute, Burst: w.RateLimit.Burst}}
	if w.Captcha.VerifyURL != "" || w.Captcha.Secret != "" {
		cfg.Captcha = &webforms.Captcha{VerifyURL: w.Captcha.VerifyURL, Secret: w.Captcha.Secret, Timeout: w.Captcha.Timeout}
	}
	for _, k := range w.Bitrix24REST {
		cfg.Bitrix24REST = append(cfg.Bitrix24REST, webforms.Bitrix24Hook{User: k.User, Token: k.Token, Form: k.Form})
	}
	return cfg
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
	// Pprof serves Go's profiles (/debug/pprof/) beside /metrics, behind
	// the same token: on metrics.addr only, never on the API's port.
	Pprof bool `yaml:"pprof"`
}

// validate checks the metrics keys; apiAddr is http.addr.
func (m MetricsConfig) validate(apiAddr string) error {
	if m.Token != "" && (len(m.Token) < 16 || strings.ContainsFunc(m.Token, func(r rune) bool { return r <= ' ' || r > '~' })) {
		return errors.New("token: must be at least 16 printable ASCII characters without spaces")
	}
	if m.Addr == "" {
		if m.Pprof {
			return errors.New("pprof: needs metrics.addr (the profiles are never served on http.addr)")
		}
		return nil
	}
	if err := validAddr(m.Addr); err != nil {
		return fmt.Errorf("addr: %w", err)
	}
	if m.Addr == apiAddr {
		return errors.New("addr: must differ from http.addr (leave it empty to serve /metrics there)")
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
		Kafka: KafkaConfig{TopicPrefix: "crm", ClientID: "crmhub", Partitions: 6, Compression: "none",
			Linger: 5 * time.Millisecond, AutoCreate: true, MaxEventBytes: kafka.DefaultMaxEventBytes,
			Embedded: KafkaEmbeddedConfig{Addr: "127.0.0.1:9092"},
			Relay:    RelayConfig{Enabled: true, BatchSize: 5000, PollInterval: time.Second, Retention: 90 * 24 * time.Hour},
			Commands: CommandsConfig{Enabled: true, Group: "crmhub-commands", MaxAttempts: 5}},
		Pipelines:  []PipelineConfig{pipelineConfig(core.DefaultPipeline())},
		Conversion: core.DefaultConversionMapping(),
		Duplicates: core.DuplicatePolicy{Default: core.DupCreate, Sources: map[string]string{}},
		Telephony:  defaultTelephony(),
		WebForms:   defaultWebForms(),
		Documents: DocumentsConfig{Numbering: core.DefaultNumbering(), PaidOnFullPayment: true,
			SchetFakturaEdition: "(в ред. постановления Правительства РФ от 16 августа 2024 г. № 1096)",
			ShippingClosedBy:    core.DefaultClosingRules().ShippingClosedBy, ShippingLineName: core.DefaultClosingRules().ShippingLineName},
		SMTP:     SMTPConfig{TLS: mailout.TLSStartTLS, Timeout: 15 * time.Second, MaxAttempts: 8, RetryBackoff: time.Minute},
		MailScan: MailScanConfig{Mailboxes: []core.MailboxConfig{}},
		Reports:  ReportsConfig{MaxRows: 100_000, StatementTimeout: 30 * time.Second, TimeZone: "Europe/Moscow"},
		Rates:    RatesConfig{Interval: 6 * time.Hour},
		Imports:  ImportsConfig{MaxRows: 1_000_000, Workers: 2},
		Attachments: AttachmentsConfig{MaxSize: core.DefaultAttachmentMaxSize, Store: core.StorageDB,
			S3: S3Config{PartSize: objectstore.DefaultPartSize}},
		Suggestions: SuggestionsConfig{AllowedOrigins: []string{}},
		Auth:        defaultAuth(),
		OneC: OneCConfig{Path: "/1c/exchange", FileLimit: 8 << 20, CRMFields: []string{}, Zip: true,
			Documents: []string{onec.DocSalesOrders}, SessionTTL: 2 * time.Hour, Throttle: defaultThrottle(),
			RequisitesMap: onec.RequisitesMap{}},
	}
}

func defaultWebForms() WebFormsConfig {
	w := WebFormsConfig{Forms: []core.WebForm{}, Bitrix24REST: []Bitrix24HookConfig{}, MaxBody: 25 << 20, MaxFileSize: 10 << 20,
		MaxFiles: 5, MaxTotalFiles: 20 << 20}
	w.RateLimit.PerMinute = 20
	w.RateLimit.Burst = 5
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
		if f.Anonymous { // inlined: its keys are the parent's
			if err := applyEnv(fv, envPrefix, keyPrefix, getenv); err != nil {
				return err
			}
			continue
		}
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "-" {
			continue // not a key (a component's logger)
		}
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
