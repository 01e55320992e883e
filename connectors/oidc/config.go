package oidc

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/crmhub/crmhub/core"
)

// Config is the auth.oidc section: which issuer's tokens the hub accepts
// and how a token names its user. An empty Issuer turns OIDC off.
type Config struct {
	// Issuer is the identity provider's issuer URL, exactly as its tokens
	// carry it in "iss" (a trailing slash matters). It must be https, or
	// http on a loopback host.
	Issuer string `yaml:"issuer"`
	// Audience must be one of a token's "aud" values (the client id the
	// provider issues tokens for the hub under).
	Audience string `yaml:"audience"`
	// UserClaim is the top-level string claim that names the hub user:
	// "email" (default), "sub", or another such as "preferred_username".
	UserClaim string `yaml:"user_claim"`
	// JWKSURL, when set, is where the provider's signing keys are, and
	// discovery (Issuer/.well-known/openid-configuration) is skipped.
	JWKSURL string `yaml:"jwks_url"`
	// Timeout bounds one discovery or key-set fetch (default 5s).
	Timeout time.Duration `yaml:"timeout"`
	// Logger receives discovery and key-fetch failures (default: none).
	Logger *slog.Logger `yaml:"-"`
}

// DefaultTimeout is Config.Timeout's default.
const DefaultTimeout = 5 * time.Second

// Enabled reports whether OIDC is configured (an issuer is set).
func (c *Config) Enabled() bool { return c.Issuer != "" }

// SetDefaults fills the user claim ("email") and the timeout.
func (c *Config) SetDefaults() {
	if c.UserClaim == "" {
		c.UserClaim = "email"
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
}

// Validate checks the keys; a message starts with the key's name under
// the section ("issuer: …"), for the caller to prefix with its path. An
// empty configuration (OIDC off) is valid.
func (c *Config) Validate() error {
	if c.Issuer == "" {
		if c.Audience != "" || c.JWKSURL != "" {
			return errors.New("issuer: required when audience or jwks_url is set")
		}
		return nil
	}
	if err := checkEndpoint(c.Issuer); err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	if c.Audience == "" {
		return errors.New("audience: required when issuer is set")
	}
	if c.UserClaim != "" && !isClaimName(c.UserClaim) {
		return errors.New("user_claim: must be a claim name such as email, sub or preferred_username")
	}
	switch c.UserClaim {
	case "iss", "aud", "exp", "nbf", "iat", "jti", "azp", "email_verified":
		return fmt.Errorf("user_claim: %q does not name a user", c.UserClaim)
	}
	if c.JWKSURL != "" {
		if err := checkEndpoint(c.JWKSURL); err != nil {
			return fmt.Errorf("jwks_url: %w", err)
		}
	}
	if c.Timeout < 0 || c.Timeout > time.Minute || c.Timeout > 0 && c.Timeout < 100*time.Millisecond {
		return errors.New("timeout: must be between 100ms and 1m")
	}
	return nil
}

// isClaimName reports whether s is a top-level claim name: up to 128
// letters, digits and _ . : / - (not starting with a punctuation mark
// other than _). Dots and slashes are part of the name (namespaced
// claims such as "https://example.com/email"), never a path into nested
// objects.
func isClaimName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case i > 0 && (c == '.' || c == ':' || c == '/' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// checkEndpoint accepts an absolute https URL, or http on a loopback
// host, without credentials, query or fragment.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		!(u.Scheme == "https" || u.Scheme == "http" && core.IsLoopbackHost(u.Hostname())) {
		return errors.New("must be an https URL (http only on a loopback host), without credentials or query")
	}
	return nil
}
