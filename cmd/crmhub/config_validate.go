package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/crmhub/crmhub/connectors/kafka"
	"github.com/crmhub/crmhub/connectors/mailscan"
	"github.com/crmhub/crmhub/core"
)

// Validate checks every key and names the first wrong one. Each section
// checks its own keys, a component's with the component's Validate; what
// is left here is their order and the rules across sections (a form's
// file within max_body, /metrics off http.addr, the 1C path off /api/).
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("config: data_dir: must not be empty")
	}
	for _, err := range []error{
		under("log", c.Log.validate()),
		under("http", c.HTTP.validate()),
		under("database", c.Database.validate()),
		under("metrics", c.Metrics.validate(c.HTTP.Addr)),
		under("kafka", c.Kafka.validate()),
		under("telephony", c.Telephony.validate()),
		under("webforms", c.WebForms.validate()),
		c.validatePipelines(),
		under("documents", c.Documents.validate()),
		c.validateRates(),
		under("organization", c.Organization.Validate()),
		c.validateMail(),
		under("onec", c.OneC.validate()),
		under("reports", c.Reports.validate()),
		under("imports", c.Imports.validate()),
		under("attachments", c.Attachments.validate()),
		under("auth", c.Auth.validate()),
		c.validatePolicies(),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// under names a section's wrong key by its path in the file: err's
// message starts with the key relative to the section ("partitions: …"
// under "kafka"), or err is a core.Invalid error whose first field is
// that key (none: the section as a whole). It returns nil for nil.
func under(path string, err error) error {
	if err == nil {
		return nil
	}
	if fields := core.ErrorFields(err); len(fields) > 0 {
		if f := fields[0]; f.Field != "" {
			path += "." + f.Field
		}
		return fmt.Errorf("config: %s: %s", path, fields[0].Message)
	}
	return fmt.Errorf("config: %s.%w", path, err)
}

func (l LogConfig) validate() error {
	switch {
	case !oneOf(l.Level, "debug", "info", "warn", "error"):
		return fmt.Errorf("level: must be debug, info, warn or error, got %q", l.Level)
	case !oneOf(l.Format, "text", "json"):
		return fmt.Errorf("format: must be text or json, got %q", l.Format)
	}
	return nil
}

func (h HTTPConfig) validate() error {
	switch {
	case h.BodyLimit < 1024 || h.BodyLimit > 1<<30:
		return fmt.Errorf("body_limit: must be between 1024 and 1073741824 bytes, got %d", h.BodyLimit)
	case h.ReadTimeout <= 0 || h.WriteTimeout <= 0:
		return errors.New("read_timeout: read and write timeouts must be positive")
	case h.ShutdownTimeout <= 0 || h.ShutdownTimeout > 10*time.Minute:
		return fmt.Errorf("shutdown_timeout: must be between 1ns and 10m, got %s", h.ShutdownTimeout)
	}
	host, port, err := net.SplitHostPort(h.Addr)
	if err != nil || port == "" {
		return fmt.Errorf("addr: must be host:port such as 127.0.0.1:8080, got %q", h.Addr)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return fmt.Errorf("addr: the host must be an IP address or localhost, got %q", host)
	}
	return nil
}

func (d DatabaseConfig) validate() error {
	switch {
	case d.MaxConns < 2 || d.MaxConns > 1000:
		return fmt.Errorf("max_conns: must be between 2 and 1000, got %d", d.MaxConns)
	case d.Embedded.Port < 1 || d.Embedded.Port > 65535:
		return fmt.Errorf("embedded.port: must be a port number, got %d", d.Embedded.Port)
	}
	if d.URL == "" {
		return nil
	}
	if p, err := url.Parse(d.URL); err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
		return errors.New("url: must be a postgres:// URL")
	}
	return nil
}

// validate checks the publisher's, the embedded broker's, the relay's and
// the command consumer's keys with their own Validate.
func (k KafkaConfig) validate() error {
	if err := k.publisher().Validate(); err != nil {
		return err
	}
	if err := (kafka.EmbeddedConfig{Addr: k.Embedded.Addr}).Validate(); err != nil {
		return fmt.Errorf("embedded.%w", err)
	}
	if err := k.relay().Validate(); err != nil {
		return fmt.Errorf("relay.%w", err)
	}
	if err := k.commands().Validate(); err != nil {
		return fmt.Errorf("commands.%w", err)
	}
	return nil
}

// validate checks max_body, which the API enforces on a whole post, and
// the rest with the forms' own Validate.
func (w WebFormsConfig) validate() error {
	if w.MaxBody < 1<<10 || w.MaxBody > 1<<30 {
		return fmt.Errorf("max_body: must be 1 KiB to 1 GiB, got %d", w.MaxBody)
	}
	if err := w.forms().Validate(); err != nil {
		return err
	}
	if int64(w.MaxBody) < w.MaxFileSize {
		return errors.New("max_file_size: must be positive and at most max_total_files and max_body")
	}
	return nil
}

// validatePipelines checks each pipeline and that at most one is the
// default.
func (c *Config) validatePipelines() error {
	defaults := 0
	for i, p := range c.Pipelines {
		pl := p.pipeline()
		if err := under(fmt.Sprintf("pipelines[%d]", i), pl.Validate()); err != nil {
			return err
		}
		if p.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return errors.New("config: pipelines: at most one pipeline is the default")
	}
	return nil
}

func (d DocumentsConfig) validate() error {
	for kind, f := range d.Numbering {
		if _, ok := core.DefaultNumbering()[kind]; !ok {
			return fmt.Errorf("numbering.%s: is not a numbered kind (quote, sales_order, purchase_order, invoice, act, realization, payment, schet_faktura)", kind)
		}
		if f.Width < 1 || f.Width > 12 || len(f.Prefix) > 40 {
			return fmt.Errorf("numbering.%s: width must be 1 to 12 and the prefix at most 40 bytes", kind)
		}
	}
	switch d.ShippingClosedBy {
	case core.EntityAct, core.EntityRealization:
	default:
		return errors.New("shipping_closed_by: must be act or realization")
	}
	if n := strings.TrimSpace(d.ShippingLineName); n == "" || len(n) > 500 {
		return errors.New("shipping_line_name: must be a name of 1 to 500 bytes")
	}
	return nil
}

// validateRates checks the rates feed, when on, with its own Validate
// (whose messages name rates.url and rates.interval).
func (c *Config) validateRates() error {
	if c.Rates.URL == "" {
		return nil
	}
	if err := c.ratesFeed().Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// validateMail checks the mail scanner's mailboxes and, when sending is
// on, the mailer's settings (whose messages name smtp.… keys).
func (c *Config) validateMail() error {
	boxes, err := c.mailboxes()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := under("mailscan", mailscan.ValidateMailboxes(boxes)); err != nil { // passwords are read at serve start
		return err
	}
	if c.SMTP.Host == "" {
		return nil
	}
	if err := c.mailer().Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// validate checks that user and password come together, the path (off the
// API's), the login throttle, and the rest with the exchange's Validate.
func (o OneCConfig) validate() error {
	if (o.User == "") != (o.Password == "") {
		return errors.New("password: set both onec.user and onec.password (CRMHUB_ONEC_USER, CRMHUB_ONEC_PASSWORD), or neither")
	}
	if !strings.HasPrefix(o.Path, "/") || strings.HasPrefix(o.Path, "/api/") || o.Path == "/" {
		return errors.New("path: must be a path such as /1c/exchange (not under /api/)")
	}
	if err := o.exchange().Validate(); err != nil {
		return err
	}
	tc := o.Throttle.core("onec")
	if err := tc.Validate(); err != nil {
		return fmt.Errorf("throttle: %s", strings.TrimPrefix(err.Error(), "login throttle: "))
	}
	return nil
}

func (r ReportsConfig) validate() error {
	switch {
	case r.MaxRows < 1 || r.MaxRows > 1_000_000:
		return errors.New("max_rows: must be 1 to 1000000")
	case r.StatementTimeout < time.Second || r.StatementTimeout > 10*time.Minute:
		return errors.New("statement_timeout: must be 1s to 10m")
	}
	if _, err := loadZone(r.TimeZone); err != nil {
		return fmt.Errorf("time_zone: %w", err)
	}
	return nil
}

func (i ImportsConfig) validate() error {
	switch {
	case i.MaxRows < 1 || i.MaxRows > 1_048_575:
		return fmt.Errorf("max_rows: must be 1 to 1048575, got %d", i.MaxRows)
	case i.Workers < 1 || i.Workers > 32:
		return fmt.Errorf("workers: must be 1 to 32, got %d", i.Workers)
	}
	return nil
}

func (a AttachmentsConfig) validate() error {
	switch {
	case a.MaxSize < 1<<10 || a.MaxSize > 5<<30:
		return fmt.Errorf("max_size: must be 1024 to 5368709120 bytes, got %d", a.MaxSize)
	case !oneOf(a.Store, core.StorageDB, core.StorageS3):
		return fmt.Errorf("store: must be db or s3, got %q", a.Store)
	case a.Store != core.StorageS3:
		return nil
	}
	return a.S3.objectStore().Validate()
}

// validatePolicies checks the duplicate policy and the conversion mapping.
func (c *Config) validatePolicies() error {
	if err := c.Duplicates.Validate(); err != nil {
		return fmt.Errorf("config: duplicates: %s", core.ErrorMessage(err))
	}
	if err := c.Conversion.Validate(); err != nil {
		return fmt.Errorf("config: conversion: %s", core.ErrorMessage(err))
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
