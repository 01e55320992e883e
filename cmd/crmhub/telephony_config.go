package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
)

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

// CallPolicyConfig is what a provider's finished calls do in the CRM
// (core.CallPolicy); every provider has these keys.
type CallPolicyConfig struct {
	// CreateLeads makes an incoming call from an unknown number a lead.
	CreateLeads bool `yaml:"create_leads"`
	// CallbackAfter is when the call-back task of a missed call is due
	// (0: no task).
	CallbackAfter time.Duration `yaml:"callback_after"`
	// Owners (user ids) own calls no extension maps to a user: one is the
	// default owner, several take turns. Empty: the first administrator.
	Owners []string `yaml:"owners"`
}

// defaultCallPolicy is every provider's policy with nothing set.
func defaultCallPolicy() CallPolicyConfig {
	return CallPolicyConfig{CreateLeads: true, CallbackAfter: 30 * time.Minute, Owners: []string{}}
}

// policy is the one way the keys become a core.CallPolicy.
func (p CallPolicyConfig) policy() core.CallPolicy {
	return core.CallPolicy{CreateLeads: p.CreateLeads, CallbackAfter: p.CallbackAfter, Owners: p.Owners}
}

// TelephonyProviderConfig is the generic webhook's settings: the secret
// its requests are signed with and a provider's policy.
type TelephonyProviderConfig struct {
	Secret           string `yaml:"secret"`
	CallPolicyConfig `yaml:",inline"`
}

// ZadarmaConfig is Zadarma's settings: a provider's, and the account's time
// zone (Zadarma sends local times without an offset).
type ZadarmaConfig struct {
	Secret   string `yaml:"secret"`
	Timezone string `yaml:"timezone"`
	// MaxAge is how long after its call_start a notification is accepted:
	// Zadarma's signature leaves the call id and figures out, so a
	// captured notification is refused once it is older.
	MaxAge           time.Duration `yaml:"max_age"`
	CallPolicyConfig `yaml:",inline"`
}

// MangoConfig is MANGO OFFICE's settings: the product's API key and salt
// (both sign every event) and a provider's policy.
type MangoConfig struct {
	APIKey           string `yaml:"api_key"`
	APISalt          string `yaml:"api_salt"`
	CallPolicyConfig `yaml:",inline"`
}

// VATSConfig is the universal VATS protocol's settings: the crm_token the
// PBX sends (typed into the PBX cabinet) and a provider's policy.
type VATSConfig struct {
	Token string `yaml:"token"`
	// APIURL and APIKey are the PBX's side, for click-to-call (makeCall):
	// the legacy command URL (…/sys/crm_api.wcgp) or a REST v1 base
	// (…/crmapi/v1), and the PBX key.
	APIURL           string `yaml:"api_url"`
	APIKey           string `yaml:"api_key"`
	CallPolicyConfig `yaml:",inline"`
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
	Context          string `yaml:"context"`
	ChannelPrefix    string `yaml:"channel_prefix"`
	CallPolicyConfig `yaml:",inline"`
}

func defaultTelephony() TelephonyConfig {
	return TelephonyConfig{
		Generic: TelephonyProviderConfig{CallPolicyConfig: defaultCallPolicy()},
		Zadarma: ZadarmaConfig{Timezone: "Europe/Moscow", MaxAge: 24 * time.Hour, CallPolicyConfig: defaultCallPolicy()},
		Mango:   MangoConfig{CallPolicyConfig: defaultCallPolicy()},
		VATS:    VATSConfig{CallPolicyConfig: defaultCallPolicy()},
		Asterisk: AsteriskConfig{Username: "crmhub", Timezone: "Europe/Moscow", Context: "from-internal",
			ChannelPrefix: "PJSIP/", CallPolicyConfig: defaultCallPolicy()},
	}
}

// connector is the generic webhook's settings (the caller adds the
// logger).
func (g TelephonyProviderConfig) connector() telephony.Config {
	return telephony.Config{Secret: g.Secret, Policy: g.policy()}
}

// connector is Zadarma's settings (the caller adds the logger, claims and
// metric).
func (z ZadarmaConfig) connector() telephony.Config {
	return telephony.Config{Secret: z.Secret, MaxAge: z.MaxAge, Policy: z.policy()}
}

// connector is Mango's settings: the salt is the secret, the API key goes
// to telephony.NewMango on its own.
func (m MangoConfig) connector() telephony.Config {
	return telephony.Config{Secret: m.APISalt, Policy: m.policy()}
}

// connector is the VATS webhook's settings: the crm_token is the secret.
func (v VATSConfig) connector() telephony.Config {
	return telephony.Config{Secret: v.Token, Policy: v.policy()}
}

// dialer is the VATS click-to-call client (the caller adds the logins).
func (v VATSConfig) dialer() *telephony.VATSDialer {
	return &telephony.VATSDialer{APIURL: v.APIURL, APIKey: v.APIKey}
}

// enabled reports whether the AMI client is configured: addr or secret
// set (a valid config then has both, and the username).
func (a AsteriskConfig) enabled() bool { return a.Addr != "" || a.Secret != "" }

// connector is the AMI client's settings, its time zone loaded (the caller
// adds the logger).
func (a AsteriskConfig) connector() (telephony.AsteriskConfig, error) {
	cfg := telephony.AsteriskConfig{Addr: a.Addr, Username: a.Username, Secret: a.Secret, Context: a.Context,
		ChannelPrefix: a.ChannelPrefix, Policy: a.policy()}
	if !a.enabled() {
		return cfg, nil
	}
	loc, err := loadZone(a.Timezone)
	if err != nil {
		return cfg, fmt.Errorf("timezone: %w", err)
	}
	cfg.Location = loc
	if a.TLS {
		host, _, _ := net.SplitHostPort(a.Addr)
		cfg.TLS = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// location is the Zadarma account's time zone.
func (z ZadarmaConfig) location() (*time.Location, error) {
	loc, err := loadZone(z.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	return loc, nil
}

// validate checks each provider with the telephony package's rules; its
// message names the key relative to telephony.
func (t TelephonyConfig) validate() error {
	if err := telephony.ValidateGeneric(t.Generic.connector()); err != nil {
		return fmt.Errorf("generic.%w", err)
	}
	if err := t.Zadarma.validate(); err != nil {
		return fmt.Errorf("zadarma.%w", err)
	}
	if err := telephony.ValidateMango(t.Mango.connector(), t.Mango.APIKey); err != nil {
		return fmt.Errorf("mango.%w", err)
	}
	if err := t.VATS.validate(); err != nil {
		return fmt.Errorf("vats.%w", err)
	}
	if err := t.Asterisk.validate(); err != nil {
		return fmt.Errorf("asterisk.%w", err)
	}
	return nil
}

func (z ZadarmaConfig) validate() error {
	if err := telephony.ValidateZadarma(z.connector()); err != nil {
		return err
	}
	if z.Secret == "" {
		return nil
	}
	_, err := z.location()
	return err
}

func (v VATSConfig) validate() error {
	if err := v.connector().Validate(); err != nil {
		return err
	}
	if v.APIURL == "" {
		return nil
	}
	// Checked redacted, as the message quotes it (redaction keeps the
	// scheme and the host the check looks at).
	d := v.dialer()
	d.APIURL = redactURL(d.APIURL)
	return d.Validate()
}

func (a AsteriskConfig) validate() error {
	cfg, zoneErr := a.connector()
	if err := cfg.Validate(); err != nil {
		return err
	}
	return zoneErr
}

// loadZone loads a time zone by name (an empty name is not UTC here).
func loadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		return nil, fmt.Errorf("must be a time zone such as Europe/Moscow, got %q", name)
	}
	return loc, nil
}
