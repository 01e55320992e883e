package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/oidc"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

// AuthConfig is how users sign in: sessions, passwords and their lockout,
// an identity provider (OIDC), and how long the audit log is kept.
type AuthConfig struct {
	// SessionTTL is how long a session token from POST /auth/login lasts.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// PasswordMinLength is the fewest characters a password has.
	PasswordMinLength int `yaml:"password_min_length"`
	// Lockout holds back password guessing at /auth/login (and at a
	// password change's current password).
	Lockout ThrottleConfig `yaml:"lockout"`
	// AuditRetention is how long audit entries are kept.
	AuditRetention time.Duration `yaml:"audit_retention"`
	// OIDC accepts an identity provider's tokens as Bearer credentials.
	OIDC oidc.Config `yaml:"oidc"`
}

func defaultAuth() AuthConfig {
	c := AuthConfig{SessionTTL: 12 * time.Hour, PasswordMinLength: 10, Lockout: defaultThrottle(),
		AuditRetention: 365 * 24 * time.Hour}
	c.OIDC.SetDefaults()
	return c
}

func (a AuthConfig) validate() error {
	switch {
	case a.SessionTTL < time.Minute || a.SessionTTL > 90*24*time.Hour:
		return errors.New("session_ttl: must be 1m to 2160h (90 days)")
	case a.PasswordMinLength < 8 || a.PasswordMinLength > 128:
		return errors.New("password_min_length: must be 8 to 128")
	case a.AuditRetention < 24*time.Hour:
		return errors.New("audit_retention: must be at least 24h")
	}
	tc := a.Lockout.core("api")
	if err := tc.Validate(); err != nil {
		return fmt.Errorf("lockout: %s", strings.TrimPrefix(err.Error(), "login throttle: "))
	}
	o := a.OIDC
	o.SetDefaults()
	if err := o.Validate(); err != nil {
		return fmt.Errorf("oidc.%w", err)
	}
	return nil
}

// api is the API server's sign-in settings.
func (a AuthConfig) api() api.AuthConfig {
	return api.AuthConfig{SessionTTL: a.SessionTTL, PasswordMinLength: a.PasswordMinLength, OIDCClaim: a.OIDC.UserClaim}
}

// authDeps completes the API's sign-in dependencies: the login throttle
// with its records in the database, and the identity provider's verifier
// when auth.oidc.issuer is set.
func authDeps(ctx context.Context, a AuthConfig, st *store.Store, d *api.Deps, log *slog.Logger) error {
	th, err := core.NewLoginThrottle(a.Lockout.core("api"), st)
	if err != nil {
		return fmt.Errorf("auth.lockout: %w", err)
	}
	d.LoginThrottle = th
	if !a.OIDC.Enabled() {
		return nil
	}
	o := a.OIDC
	o.Logger = log
	v, err := oidc.New(ctx, o, &http.Client{})
	if err != nil {
		return fmt.Errorf("auth.oidc: %w", err)
	}
	d.OIDC = func(ctx context.Context, token string) (string, error) {
		id, err := v.Verify(ctx, token)
		if errors.Is(err, oidc.ErrUnavailable) {
			return "", &core.Error{Code: core.EUNAVAILABLE, Message: "the identity provider cannot be reached to check the token",
				RetryAfter: 10 * time.Second}
		}
		return id.Value, err
	}
	return nil
}

// pruneAuth deletes sessions that ended a day ago, sign-in failures the
// throttle has forgotten and audit entries older than retention.
func pruneAuth(ctx context.Context, st *store.Store, th *core.LoginThrottle, retention time.Duration, log *slog.Logger) {
	if n, err := st.PruneSessions(ctx, time.Now().Add(-24*time.Hour)); err != nil {
		log.Warn("sessions_prune", "error", err)
	} else if n > 0 {
		log.Info("sessions_pruned", "sessions", n)
	}
	if _, err := th.Prune(ctx); err != nil {
		log.Warn("login_failures_prune", "error", err)
	}
	if n, err := st.PruneAudit(ctx, time.Now().Add(-retention)); err != nil {
		log.Warn("audit_prune", "error", err)
	} else if n > 0 {
		log.Info("audit_pruned", "entries", n)
	}
}
