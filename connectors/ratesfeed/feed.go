// Package ratesfeed fetches the Bank of Russia's daily rates from a URL
// (the Bank's XML_daily.asp, or a mirror of it) and stores them, at start
// and then at an interval, so documents in foreign currencies find the rate
// of their date. A failed fetch is logged and tried again at the next
// tick; storing a day again replaces it, so several replicas may run it.
package ratesfeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/cbrrates"
)

// Config configures the feed.
type Config struct {
	// URL serves the daily rates XML (rates.url).
	URL string
	// Interval between fetches (default 6h: the Bank publishes once a
	// working day, and a replica started late still catches the day).
	Interval time.Duration
	// Timeout of one fetch (default 30s).
	Timeout time.Duration
	Client  *http.Client
	Logger  *slog.Logger
}

func (c *Config) withDefaults() {
	if c.Interval <= 0 {
		c.Interval = 6 * time.Hour
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate checks the URL.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("rates.url must be an http(s) URL")
	}
	if c.Interval != 0 && c.Interval < time.Minute {
		return errors.New("rates.interval must be at least 1m")
	}
	return nil
}

// Feed fetches and stores the rates.
type Feed struct {
	cfg   Config
	rates core.CurrencyRates
}

// New makes a feed.
func New(cfg Config, rates core.CurrencyRates) (*Feed, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.withDefaults()
	return &Feed{cfg: cfg, rates: rates}, nil
}

// Run fetches now and at every interval until ctx ends.
func (f *Feed) Run(ctx context.Context) error {
	t := time.NewTicker(f.cfg.Interval)
	defer t.Stop()
	for {
		if n, err := f.Fetch(ctx); err != nil {
			f.cfg.Logger.Warn("rates_fetch_failed", "error", err)
		} else {
			f.cfg.Logger.Info("rates_fetched", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Fetch fetches the rates once and stores them; it returns how many.
func (f *Feed) Fetch(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.cfg.URL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("fetch rates: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("fetch rates: %s", resp.Status)
	}
	rates, err := cbrrates.Decode(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("fetch rates: %w", err)
	}
	return f.rates.PutRates(ctx, rates)
}
