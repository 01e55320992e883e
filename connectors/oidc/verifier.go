// Package oidc verifies bearer JWTs issued by the company's OpenID Connect
// provider (auth.oidc), with github.com/coreos/go-oidc/v3 doing the
// signature and the registered-claim checks.
//
// Keys: the provider's key set (its discovery document's jwks_uri, or
// Config.JWKSURL, which skips discovery) is fetched on first use and
// cached; a token with a key id not in the cache makes go-oidc fetch the
// set once more (key rotation), but the set is fetched at most once per
// 10 s: within that time a fetch is answered with the previous answer,
// so forged tokens with random kids cannot flood the provider, and a
// provider that is down fails requests at once instead of each waiting
// for the timeout. A cache older than an hour is replaced by a fresh one
// once the provider answers, so a key it withdrew stops verifying; while
// it cannot be reached, the old cache goes on serving.
//
// Discovery: New tries discovery once, bounded by Config.Timeout. If the
// provider cannot be reached (or its document is wrong), New still
// returns a Verifier, logs the failure, and Verify tries discovery again
// on use, at most once per 10 s, each try bounded by Config.Timeout and
// the caller's context; one try runs at a time and concurrent callers
// wait for it. Until discovery succeeds Verify fails with
// ErrUnavailable, so an identity provider that is down at start makes
// OIDC logins wait for it instead of making the hub unstartable.
//
// Refusals: a token over 16 KiB, not a compact JWS, signed with an
// algorithm other than RS/PS/ES 256-512 or EdDSA (so "none" and HS256
// with the public key as secret are refused before any key is used), with
// an unknown key id or a bad signature, from another issuer, for another
// audience, expired (no leeway) or not yet valid (5 min leeway, go-oidc's),
// without a "sub", without the configured user claim as a non-empty
// string, or, when that claim is "email", with "email_verified" false.
// The error wraps ErrRefused and the reason's sentinel, and never carries
// the token's contents.
package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// MaxTokenSize is the largest token Verify reads, in bytes.
const MaxTokenSize = 16 << 10

// Intervals: discovery retry after a failure, the least time between
// key-set fetches, the most a key set is cached.
const (
	discoveryRetry = 10 * time.Second
	keysRefresh    = 10 * time.Second
	keysMaxAge     = time.Hour
)

// algorithms are the signing algorithms accepted: asymmetric only.
func algorithms() []string {
	return []string{gooidc.RS256, gooidc.RS384, gooidc.RS512, gooidc.PS256, gooidc.PS384, gooidc.PS512,
		gooidc.ES256, gooidc.ES384, gooidc.ES512, gooidc.EdDSA}
}

// Errors. Every refusal wraps ErrRefused and one of the reasons below;
// ErrUnavailable means the provider (its discovery document or key set)
// could not be reached, so the token was not judged.
var (
	ErrRefused     = errors.New("oidc: token refused")
	ErrUnavailable = errors.New("oidc: identity provider unavailable")

	ErrTooLarge        = errors.New("token over 16 KiB")
	ErrMalformed       = errors.New("malformed token")
	ErrAlgorithm       = errors.New("signing algorithm not allowed")
	ErrUnknownKey      = errors.New("unknown signing key")
	ErrSignature       = errors.New("bad signature")
	ErrIssuer          = errors.New("wrong issuer")
	ErrAudience        = errors.New("wrong audience")
	ErrExpired         = errors.New("expired")
	ErrNotYetValid     = errors.New("not yet valid")
	ErrUserClaim       = errors.New("user claim missing or empty")
	ErrEmailUnverified = errors.New("email not verified")
)

func refused(reason error) error { return fmt.Errorf("%w: %w", ErrRefused, reason) }

// Identity is who a verified token names.
type Identity struct {
	// Subject is the "sub" claim, the provider's id of the user.
	Subject string
	// Email is the "email" claim when it is a string, else "".
	Email string
	// Value is the configured user claim's value, as the token has it
	// (compare e-mail addresses case-insensitively).
	Value string
	// Expiry is when the token expires.
	Expiry time.Time
}

// Verifier verifies tokens of one issuer. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	tr     *transport
	retry  time.Duration
	maxAge time.Duration

	ready atomic.Pointer[installed]
	// discovering holds one discovery attempt at a time, and guards:
	discovering chan struct{}
	tried       time.Time
	lastErr     error
}

// installed is go-oidc's verifier over one key-set cache.
type installed struct {
	idv  *gooidc.IDTokenVerifier
	jwks string
	at   time.Time
	// fresh is the cache that replaces this one, once this one is old
	// and fresh has reached the provider.
	fresh atomic.Pointer[installed]
}

// New makes a verifier for cfg (defaults filled, then validated). client
// carries the transport to the provider (a proxy, CA roots); nil means
// http.DefaultTransport. Its Timeout is replaced by cfg.Timeout. ctx
// bounds the first discovery attempt; see the package comment for what a
// failed one means. New fails only on a wrong configuration.
func New(ctx context.Context, cfg Config, client *http.Client) (*Verifier, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("issuer: required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := &http.Client{}
	if client != nil {
		*hc = *client
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	tr := &transport{base: base, log: log, minRefresh: keysRefresh}
	hc.Transport, hc.Timeout = tr, cfg.Timeout
	v := &Verifier{cfg: cfg, log: log, client: hc, tr: tr, retry: discoveryRetry, maxAge: keysMaxAge, discovering: make(chan struct{}, 1)}
	if cfg.JWKSURL != "" {
		v.ready.Store(v.keySet(cfg.JWKSURL))
		return v, nil
	}
	_, _ = v.verifier(ctx)
	return v, nil
}

// Ready reports whether discovery has succeeded, trying it if it has not
// and the last try is old enough; nil when JWKSURL is set. It does not
// fetch the key set.
func (v *Verifier) Ready(ctx context.Context) error {
	_, err := v.verifier(ctx)
	return err
}

// verifier returns the installed key-set cache, discovering the provider
// first if needed (see the package comment).
func (v *Verifier) verifier(ctx context.Context) (*installed, error) {
	if in := v.ready.Load(); in != nil {
		return in, nil
	}
	select {
	case v.discovering <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	defer func() { <-v.discovering }()
	if in := v.ready.Load(); in != nil {
		return in, nil
	}
	if !v.tried.IsZero() && time.Since(v.tried) < v.retry {
		return nil, v.lastErr
	}
	v.tried = time.Now()
	jwks, err := v.discover(ctx)
	if err != nil {
		v.lastErr = fmt.Errorf("%w: discovery: %v", ErrUnavailable, err)
		v.log.Warn("oidc_discovery_failed", "issuer", v.cfg.Issuer, "error", err, "retry_in", v.retry)
		return nil, v.lastErr
	}
	v.log.Info("oidc_discovered", "issuer", v.cfg.Issuer, "jwks_uri", jwks)
	in := v.keySet(jwks)
	v.ready.Store(in)
	return in, nil
}

// discover reads the issuer's discovery document and returns its jwks_uri.
func (v *Verifier) discover(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, v.client), v.cfg.Issuer)
	if err != nil {
		var fe *fetchError
		if errors.As(err, &fe) {
			return "", fe
		}
		return "", err
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil {
		return "", err
	}
	if err := checkEndpoint(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("jwks_uri %w", err)
	}
	return doc.JWKSURI, nil
}

// keySet makes go-oidc's verifier over a new cache of the key set at jwks.
func (v *Verifier) keySet(jwks string) *installed {
	// go-oidc keeps this context for the key set's fetches (ignoring its
	// cancellation): it carries the client and marks the fetches.
	kctx := context.WithValue(gooidc.ClientContext(context.Background(), v.client), jwksRequest{}, true)
	keys := &keySet{remote: gooidc.NewRemoteKeySet(kctx, jwks)}
	idv := gooidc.NewVerifier(v.cfg.Issuer, keys, &gooidc.Config{ClientID: v.cfg.Audience, SupportedSigningAlgs: algorithms()})
	return &installed{idv: idv, jwks: jwks, at: time.Now()}
}

// Verify checks a bearer token and returns whom it names. An error wraps
// ErrRefused and a reason (the token is not good), or ErrUnavailable
// (the provider could not be reached to judge it).
func (v *Verifier) Verify(ctx context.Context, raw string) (Identity, error) {
	if len(raw) > MaxTokenSize {
		return Identity{}, refused(ErrTooLarge)
	}
	if !LooksLikeJWT(raw) {
		return Identity{}, refused(ErrMalformed)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if b, err := base64.RawURLEncoding.DecodeString(raw[:strings.IndexByte(raw, '.')]); err != nil || json.Unmarshal(b, &h) != nil {
		return Identity{}, refused(ErrMalformed)
	}
	if !slices.Contains(algorithms(), h.Alg) {
		return Identity{}, refused(ErrAlgorithm)
	}
	in, err := v.verifier(ctx)
	if err != nil {
		return Identity{}, err
	}
	if time.Since(in.at) <= v.maxAge {
		id, _, err := v.verify(ctx, in.idv, raw, h.Kid)
		return id, err
	}
	fresh := in.fresh.Load()
	if fresh == nil {
		in.fresh.CompareAndSwap(nil, v.keySet(in.jwks))
		fresh = in.fresh.Load()
	}
	id, reached, err := v.verify(ctx, fresh.idv, raw, h.Kid)
	switch {
	case reached:
		v.ready.CompareAndSwap(in, fresh)
	case errors.Is(err, ErrUnavailable): // the provider is down: the old cache serves
		id, _, err = v.verify(ctx, in.idv, raw, h.Kid)
	}
	return id, err
}

// verify checks raw with idv and reads the identity; reached reports
// whether idv's key set has keys from the provider (the signature was
// checked against them).
func (v *Verifier) verify(ctx context.Context, idv *gooidc.IDTokenVerifier, raw, kid string) (id Identity, reached bool, err error) {
	c := &check{}
	tok, err := idv.Verify(context.WithValue(ctx, checkKey{}, c), raw)
	if err != nil {
		err = v.why(c, kid, err)
		return Identity{}, c.called && !errors.Is(err, ErrUnavailable), err
	}
	id, err = v.identity(tok)
	return id, true, err
}

// why names the reason go-oidc refused a token for.
func (v *Verifier) why(c *check, kid string, err error) error {
	if !c.called { // refused before the signature: the JWS did not parse
		return refused(ErrMalformed)
	}
	if c.sigErr != nil {
		var fe *fetchError
		switch {
		case errors.As(c.sigErr, &fe):
			return fmt.Errorf("%w: keys: %v", ErrUnavailable, fe)
		case errors.Is(c.sigErr, context.Canceled) || errors.Is(c.sigErr, context.DeadlineExceeded):
			return fmt.Errorf("%w: keys: %w", ErrUnavailable, c.sigErr)
		}
		known, ok := v.tr.knowsKid(kid)
		switch {
		case !ok:
			return fmt.Errorf("%w: keys: no usable key set", ErrUnavailable)
		case kid != "" && !known:
			return refused(ErrUnknownKey)
		}
		return refused(ErrSignature)
	}
	// The signature is good: a registered claim failed. go-oidc checks
	// issuer, audience, expiry, not-before in this order.
	var cl struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
		Exp *json.Number    `json:"exp"`
		Nbf *json.Number    `json:"nbf"`
	}
	if json.Unmarshal(c.payload, &cl) != nil {
		return refused(ErrMalformed)
	}
	now := time.Now()
	switch {
	case cl.Iss != v.cfg.Issuer:
		return refused(ErrIssuer)
	case !hasAudience(cl.Aud, v.cfg.Audience):
		return refused(ErrAudience)
	case cl.Exp == nil:
		return fmt.Errorf("%w: %w: no exp", ErrRefused, ErrMalformed)
	case !unixTime(*cl.Exp).After(now):
		return refused(ErrExpired)
	case cl.Nbf != nil && unixTime(*cl.Nbf).After(now.Add(5*time.Minute)):
		return refused(ErrNotYetValid)
	}
	return refused(ErrMalformed)
}

// identity reads the user from a verified token's claims.
func (v *Verifier) identity(tok *gooidc.IDToken) (Identity, error) {
	var claims map[string]json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return Identity{}, refused(ErrMalformed)
	}
	if strings.TrimSpace(tok.Subject) == "" {
		return Identity{}, fmt.Errorf("%w: %w: no sub", ErrRefused, ErrMalformed)
	}
	id := Identity{Subject: tok.Subject, Expiry: tok.Expiry}
	_ = json.Unmarshal(claims["email"], &id.Email)
	if err := json.Unmarshal(claims[v.cfg.UserClaim], &id.Value); err != nil || strings.TrimSpace(id.Value) == "" {
		return Identity{}, fmt.Errorf("%w: %w (%s)", ErrRefused, ErrUserClaim, v.cfg.UserClaim)
	}
	if v.cfg.UserClaim == "email" {
		switch ev := string(claims["email_verified"]); ev {
		case "", "null", "true", `"true"`:
		case "false", `"false"`:
			return Identity{}, refused(ErrEmailUnverified)
		default:
			return Identity{}, fmt.Errorf("%w: %w: email_verified not a boolean", ErrRefused, ErrMalformed)
		}
	}
	return id, nil
}

// hasAudience reports whether aud (a string or an array of them) holds want.
func hasAudience(aud json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(aud, &one) == nil {
		return one == want
	}
	var many []string
	return json.Unmarshal(aud, &many) == nil && slices.Contains(many, want)
}

// unixTime reads a NumericDate (seconds, possibly fractional).
func unixTime(n json.Number) time.Time {
	if s, err := n.Int64(); err == nil {
		return time.Unix(s, 0)
	}
	f, _ := n.Float64()
	return time.Unix(int64(f), 0)
}

// check records, for one Verify, what the key set saw.
type check struct {
	called  bool
	sigErr  error
	payload []byte
}

type checkKey struct{}

// keySet is go-oidc's remote key set, recording the outcome for Verify.
type keySet struct{ remote *gooidc.RemoteKeySet }

// VerifySignature implements go-oidc's KeySet.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	if c, ok := ctx.Value(checkKey{}).(*check); ok {
		c.called, c.sigErr, c.payload = true, err, payload
	}
	return payload, err
}

// LooksLikeJWT reports, cheaply, whether s has a compact JWS's shape:
// three base64url segments joined by dots, the first two not empty (the
// third may be: an unsigned token is a JWT to refuse, not an opaque
// token). It does not decode anything.
func LooksLikeJWT(s string) bool {
	seg, n := 0, 0 // segment index, its length so far
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if n == 0 || seg == 2 {
				return false
			}
			seg, n = seg+1, 0
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			n++
		default:
			return false
		}
	}
	return seg == 2
}
