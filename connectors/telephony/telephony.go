// Package telephony turns PBX call events into calls, leads, activities and
// call-back tasks. Each provider speaks its own wire format at
// /hooks/telephony/<provider>; deliveries are stored in the inbox before
// they are answered and processed afterwards (core/inbox), so a provider's
// retries and a slow database never lose or double a call.
//
// The providers share their Config (here), how a delivery is stored and
// answered (intake.go) and how stored reports are applied (processor.go).
package telephony

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/crmhub/crmhub/core"
)

// Config configures a provider's connector.
type Config struct {
	Secret string
	// MaxSkew is how far a signed timestamp may be from now (replays older
	// than that are refused). Default 5 minutes.
	MaxSkew time.Duration
	// MaxAge is how old the start time a notification signs may be
	// (Zadarma's call_start): older ones are refused as replays. Default
	// 24 hours.
	MaxAge time.Duration
	// Claims remember which call each signed notification belongs to
	// (Zadarma); nil: in this process only.
	Claims CallClaims
	// OnRefused, when set, is told the reason of each notification refused
	// (Zadarma; for a metric).
	OnRefused func(reason string)
	Policy    core.CallPolicy
	Now       func() time.Time
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	if c.MaxSkew <= 0 {
		c.MaxSkew = 5 * time.Minute
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate checks what every provider's settings share, the call policy,
// as an operator gave it. Like every Validate of this package it checks
// the settings before the constructor fills defaults (a zero is refused
// where one is, not replaced), and its message names the key it is about
// relative to the provider's settings (callback_after, owners[0]), for the
// caller to prefix with where they are. The constructors refuse only what
// they cannot run without. ValidateGeneric, ValidateZadarma and
// ValidateMango add a provider's own rules.
func (c Config) Validate() error {
	return validatePolicy(c.Policy)
}

// maxCallbackAfter bounds a call-back task's delay.
const maxCallbackAfter = 30 * 24 * time.Hour

// validatePolicy checks a provider's call policy: a call-back delay
// within a month, owners that are user ids.
func validatePolicy(p core.CallPolicy) error {
	if p.CallbackAfter < 0 || p.CallbackAfter > maxCallbackAfter {
		return fmt.Errorf("callback_after: must be between 0 (no task) and 720h, got %s", p.CallbackAfter)
	}
	for i, id := range p.Owners {
		if _, err := uuid.Parse(id); err != nil {
			return fmt.Errorf("owners[%d]: must be a user id, got %q", i, id)
		}
	}
	return nil
}
