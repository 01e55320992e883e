package core

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The rules of outbound webhooks (issue 21): their secrets, URLs, extra
// headers, event patterns and retry schedule. Delivery itself (signing,
// sending, refusing private addresses) is connectors/webhooks.

// webhookSecretPrefix starts a secret in the Standard Webhooks form.
const webhookSecretPrefix = "whsec_"

// Bounds of a webhook secret's key, in bytes: Standard Webhooks
// recommends 24 to 64; the hub generates 32.
const (
	webhookSecretBytes    = 32
	minWebhookSecretBytes = 24
	maxWebhookSecretBytes = 64
)

// NewWebhookSecret returns a new signing secret in the Standard Webhooks
// form: "whsec_" and the standard, padded base64 of 32 bytes from
// crypto/rand.
func NewWebhookSecret() (string, error) {
	key := make([]byte, webhookSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("new webhook secret: %w", err)
	}
	return webhookSecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ValidWebhookSecret reports whether s is a secret in the Standard
// Webhooks form: "whsec_" and the standard, padded base64 of a key of 24
// to 64 bytes (the hub's own are 32; a longer or shorter one may come from
// a system a subscription moved from).
func ValidWebhookSecret(s string) bool {
	b64, ok := strings.CutPrefix(s, webhookSecretPrefix)
	if !ok {
		return false
	}
	key, err := base64.StdEncoding.Strict().DecodeString(b64)
	return err == nil && len(key) >= minWebhookSecretBytes && len(key) <= maxWebhookSecretBytes
}

// MaxWebhookURLLength bounds a webhook URL, in bytes.
const MaxWebhookURLLength = 2000

// ValidateWebhookURL checks a subscription's URL: absolute https (http
// only when allowHTTP), with a host, without a user name or password (a
// password in a URL would be a secret kept in a plain field of the
// record), without a fragment (never sent), at most 2000 bytes. It returns
// an EINVALID *Error whose message quotes no part of the URL but its
// scheme, since a query may hold a token. Where the host points is not
// checked here: that is known only when the name is resolved, at delivery.
func ValidateWebhookURL(raw string, allowHTTP bool) error {
	if raw == "" {
		return Errorf(EINVALID, "the webhook URL is required")
	}
	if len(raw) > MaxWebhookURLLength {
		return Errorf(EINVALID, "the webhook URL is %d bytes long, more than %d", len(raw), MaxWebhookURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Errorf(EINVALID, "the webhook URL is not a valid URL")
	}
	switch {
	case u.Scheme == "http" && !allowHTTP:
		return Errorf(EINVALID, "the webhook URL must use https (http is allowed only when the hub is configured to allow it)")
	case u.Scheme != "https" && u.Scheme != "http":
		return Errorf(EINVALID, "the webhook URL must be an absolute https URL, not %q", u.Scheme)
	case u.Opaque != "" || u.Hostname() == "":
		return Errorf(EINVALID, "the webhook URL has no host")
	case u.User != nil:
		return Errorf(EINVALID, "the webhook URL must not hold a user name or password: send credentials in a header")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return Errorf(EINVALID, "the webhook URL must not have a fragment (#…)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return Errorf(EINVALID, "the webhook URL's port must be 1 to 65535")
		}
	}
	return nil
}

// Bounds of a subscription's extra headers.
const (
	MaxWebhookHeaders     = 20
	MaxWebhookHeaderBytes = 1024 // a header's name and value together
)

// reservedWebhookHeader reports whether a header (its lower-case name) is
// one the sender sets or HTTP itself owns, which a subscription's extra
// headers may not replace.
func reservedWebhookHeader(lower string) bool {
	switch lower {
	case "content-type", "content-length", "content-encoding", "host", "user-agent",
		"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade":
		return true
	}
	return strings.HasPrefix(lower, "webhook-")
}

// ValidateExtraHeaders checks the extra headers a subscription sends with
// every delivery (an Authorization token, a tenant key): at most 20, each
// name an HTTP token that is not one of the sender's or HTTP's own
// (webhook-*, Content-Type, Content-Length, Content-Encoding, Host,
// User-Agent, the hop-by-hop ones), each value without control
// characters (no CR or LF to smuggle a header), name and value at most
// 1024 bytes. It returns an EINVALID *Error naming the first bad header in
// name order; it never quotes a value, which may be a credential.
func ValidateExtraHeaders(h map[string]string) error {
	if len(h) > MaxWebhookHeaders {
		return Errorf(EINVALID, "a webhook may have at most %d extra headers, got %d", MaxWebhookHeaders, len(h))
	}
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := validateExtraHeader(name, h[name]); err != nil {
			return err
		}
	}
	return nil
}

func validateExtraHeader(name, value string) error {
	switch {
	case !isHTTPToken(name):
		return Errorf(EINVALID, "extra header %q: the name must be an HTTP token (letters, digits and !#$%%&'*+-.^_`|~)", Clip(name, 64))
	case reservedWebhookHeader(strings.ToLower(name)):
		return Errorf(EINVALID, "extra header %q: the sender sets it, a subscription may not", name)
	case len(name)+len(value) > MaxWebhookHeaderBytes:
		return Errorf(EINVALID, "extra header %q: name and value are more than %d bytes", name, MaxWebhookHeaderBytes)
	case strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }):
		return Errorf(EINVALID, "extra header %q: the value must not contain control characters (CR, LF…)", name)
	}
	return nil
}

// isHTTPToken reports whether s is a token of RFC 9110 §5.6.2, the form
// of a header name.
func isHTTPToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// The retry schedule of a delivery.
const (
	webhookBackoffBase = 5 * time.Second
	webhookBackoffCap  = time.Hour
)

// WebhookBackoff is how long to wait before retrying a delivery after its
// attempt-th failed attempt (1 for the wait after the first): an
// exponential base of 5 s doubling per attempt, capped at 1 h, with "equal
// jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): half
// the base is kept and jitter, a number in [0, 1) the caller draws, adds
// up to the other half, so the wait is in [base/2, base). Keeping half
// means a failing receiver is never hammered; the random half spreads the
// retries of deliveries that failed together (a receiver's outage). An
// attempt below 1 counts as 1; jitter outside [0, 1) is clamped.
func WebhookBackoff(attempt int, jitter float64) time.Duration {
	base := webhookBackoffBase
	for i := 1; i < attempt && base < webhookBackoffCap; i++ {
		base *= 2
	}
	base = min(base, webhookBackoffCap)
	jitter = max(0, min(jitter, 1))
	half := base / 2
	return half + time.Duration(jitter*float64(base-half))
}

// MaxEventPatternLength bounds an event pattern, in bytes.
const MaxEventPatternLength = 200

// ValidEventPattern reports whether p is an event type pattern a
// subscription may name: "*" (every event), or dot-separated segments of
// a-z, 0-9, _ and - starting with "crm" (the types are
// "crm.<entity>.<operation>"), of which only the last may be "*" (any
// rest: "crm.*", "crm.invoice.*"). A pattern that could match no event,
// such as "deal.updated" without "crm.", is refused rather than kept
// silently matching nothing.
func ValidEventPattern(p string) bool {
	if p == "*" {
		return true
	}
	if len(p) > MaxEventPatternLength {
		return false
	}
	segs := strings.Split(p, ".")
	if len(segs) < 2 || segs[0] != "crm" {
		return false
	}
	for i, s := range segs {
		if s == "*" && i == len(segs)-1 {
			continue
		}
		if s == "" || strings.ContainsFunc(s, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-')
		}) {
			return false
		}
	}
	return true
}

// MatchEventType reports whether an event type (as sent, e.g.
// "crm.deal.updated") matches a pattern: equal to it, or, for a pattern
// ending in ".*", starting with what comes before the "*" ("crm.invoice.*"
// matches "crm.invoice.paid" but not "crm.invoice" nor
// "crm.invoices.paid"); "*" matches every type. The comparison is exact
// (types are lower case); patterns are not validated here.
func MatchEventType(pattern, typ string) bool {
	if pattern == "*" {
		return typ != ""
	}
	if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
		rest, found := strings.CutPrefix(typ, prefix+".")
		return found && rest != ""
	}
	return pattern == typ
}
