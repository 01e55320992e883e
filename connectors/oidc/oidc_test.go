package oidc_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/crmhub/crmhub/connectors/oidc"
)

// settle lets go-oidc's key set finish its last refresh: it answers the
// waiting Verify before it forgets that refresh, so a Verify in the next
// instant shares the old answer instead of fetching again.
func settle() { time.Sleep(50 * time.Millisecond) }

func newVerifier(t *testing.T, cfg oidc.Config) *oidc.Verifier {
	t.Helper()
	if cfg.Audience == "" {
		cfg.Audience = audience
	}
	v, err := oidc.New(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustVerify(t *testing.T, v *oidc.Verifier, raw string) oidc.Identity {
	t.Helper()
	id, err := v.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return id
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  oidc.Config
		want string // "" valid, else a substring of the error
	}{
		{"off", oidc.Config{}, ""},
		{"https", oidc.Config{Issuer: "https://id.example.ru/realms/sales", Audience: "crmhub"}, ""},
		{"loopback v4", oidc.Config{Issuer: "http://127.0.0.1:8080", Audience: "crmhub"}, ""},
		{"loopback name", oidc.Config{Issuer: "http://localhost:8080/", Audience: "crmhub"}, ""},
		{"loopback v6", oidc.Config{Issuer: "http://[::1]:8080", Audience: "crmhub"}, ""},
		{"jwks", oidc.Config{Issuer: "https://id.example.ru", Audience: "crmhub", JWKSURL: "https://id.example.ru/certs"}, ""},
		{"sub", oidc.Config{Issuer: "https://id.example.ru", Audience: "crmhub", UserClaim: "sub"}, ""},
		{"namespaced claim", oidc.Config{Issuer: "https://id.example.ru", Audience: "crmhub", UserClaim: "https://crm.example.ru/login"}, ""},
		{"audience alone", oidc.Config{Audience: "crmhub"}, "issuer: required"},
		{"jwks alone", oidc.Config{JWKSURL: "https://id.example.ru/certs"}, "issuer: required"},
		{"plain http", oidc.Config{Issuer: "http://id.example.ru", Audience: "crmhub"}, "issuer: must be an https URL"},
		{"not a url", oidc.Config{Issuer: "id.example.ru", Audience: "crmhub"}, "issuer: must be"},
		{"ftp", oidc.Config{Issuer: "ftp://id.example.ru", Audience: "crmhub"}, "issuer: must be"},
		{"credentials", oidc.Config{Issuer: "https://u:p@id.example.ru", Audience: "crmhub"}, "issuer: must be"},
		{"query", oidc.Config{Issuer: "https://id.example.ru/?x=1", Audience: "crmhub"}, "issuer: must be"},
		{"no audience", oidc.Config{Issuer: "https://id.example.ru"}, "audience: required"},
		{"claim with space", oidc.Config{Issuer: "https://id.example.ru", Audience: "crmhub", UserClaim: "e mail"}, "user_claim: must be"},
		{"claim path", oidc.Config{Issuer: "https://id.example.ru", Audience: "crmhub", UserClaim: `["email"]`}, "user_claim: must be"},
		{"claim aud", oidc.Config{Issuer: "https://id.example.ru", Audience: "crmhub", UserClaim: "aud"}, "user_claim: \"aud\" does not name a user"},
		{"jwks http", oidc.Config{Issuer: "https://id.example.ru", Audience: "crmhub", JWKSURL: "http://id.example.ru/certs"}, "jwks_url: must be"},
		{"timeout", oidc.Config{Issuer: "https://id.example.ru", Audience: "crmhub", Timeout: 2 * time.Minute}, "timeout: must be"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.SetDefaults()
			err := cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("want %q, got %v", c.want, err)
			case err != nil && err.Error() != strings.ToLower(err.Error()[:1])+err.Error()[1:]:
				t.Fatalf("message not lowercase: %v", err)
			}
		})
	}
	var cfg oidc.Config
	cfg.SetDefaults()
	if cfg.UserClaim != "email" || cfg.Timeout != oidc.DefaultTimeout || cfg.Enabled() {
		t.Fatalf("defaults: %+v", cfg)
	}
	if _, err := oidc.New(t.Context(), oidc.Config{}, nil); err == nil {
		t.Fatal("New without an issuer: want an error")
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln": true,
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.":      true, // unsigned: a JWT to refuse
		"a.b.c":                                     true,
		"crm_0123456789abcdef":                      false, // the hub's own token
		"":                                          false,
		"a.b":                                       false,
		"a.b.c.d.e":                                 false, // JWE
		".b.c":                                      false,
		"a..c":                                      false,
		"a.b.c.":                                    false,
		"eyJ+.eyJ/.c2ln":                            false, // standard, not URL-safe, base64
		"eyJh.eyJz.c2ln==":                          false, // padding
		"eyJh.eyJz.c2ln\n":                          false,
		`{"alg":"none"}.e30.`:                       false,
		"Bearer eyJh.eyJz.c2ln":                     false,
	} {
		if got := oidc.LooksLikeJWT(s); got != want {
			t.Errorf("LooksLikeJWT(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestAcceptsRS256AndES256(t *testing.T) {
	p := newIDP(t)
	rs, es := rsaSigner(t, "rsa-1"), ecSigner(t, "ec-1")
	p.publish(rs)
	p.publish(es)
	v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
	for _, s := range []signer{rs, es} {
		t.Run(string(s.alg), func(t *testing.T) {
			c := p.claims()
			c["aud"] = []string{"other", audience} // an array holding ours
			id := mustVerify(t, v, sign(t, s, c))
			if id.Subject != "u-1001" || id.Email != "anna@example.ru" || id.Value != "anna@example.ru" {
				t.Fatalf("identity: %+v", id)
			}
			if want := time.Unix(c["exp"].(int64), 0); !id.Expiry.Equal(want) {
				t.Fatalf("expiry %v, want %v", id.Expiry, want)
			}
		})
	}
	if n := p.discoveryHits.Load(); n != 1 {
		t.Fatalf("discovery fetched %d times, want 1", n)
	}
	if n := p.jwksHits.Load(); n != 1 {
		t.Fatalf("key set fetched %d times, want 1 (cached)", n)
	}
}

func TestJWKSURLSkipsDiscovery(t *testing.T) {
	p := newIDP(t)
	rs := rsaSigner(t, "rsa-1")
	p.publish(rs)
	p.set(func(p *idp) { p.discoveryStatus = http.StatusNotFound })
	v := newVerifier(t, oidc.Config{Issuer: p.issuer(), JWKSURL: p.issuer() + "/keys"})
	if err := v.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, v, sign(t, rs, p.claims()))
	if n := p.discoveryHits.Load(); n != 0 {
		t.Fatalf("discovery fetched %d times, want 0", n)
	}
}

func TestUserClaims(t *testing.T) {
	p := newIDP(t)
	rs := rsaSigner(t, "rsa-1")
	p.publish(rs)

	v := newVerifier(t, oidc.Config{Issuer: p.issuer(), UserClaim: "sub"})
	c := p.claims()
	delete(c, "email")
	c["email_verified"] = false // not the user claim: not looked at
	if id := mustVerify(t, v, sign(t, rs, c)); id.Value != "u-1001" || id.Email != "" {
		t.Fatalf("sub: %+v", id)
	}

	v = newVerifier(t, oidc.Config{Issuer: p.issuer(), UserClaim: "preferred_username"})
	c = p.claims()
	c["preferred_username"] = "anna"
	if id := mustVerify(t, v, sign(t, rs, c)); id.Value != "anna" || id.Email != "anna@example.ru" {
		t.Fatalf("preferred_username: %+v", id)
	}

	v = newVerifier(t, oidc.Config{Issuer: p.issuer()})
	for name, ev := range map[string]any{"absent": nil, "true": true, `"true"`: "true"} {
		c = p.claims()
		if ev == nil {
			delete(c, "email_verified")
		} else {
			c["email_verified"] = ev
		}
		if id := mustVerify(t, v, sign(t, rs, c)); id.Value != "anna@example.ru" {
			t.Fatalf("email_verified %s: %+v", name, id)
		}
	}
}

// TestRefusals refuses each kind of bad token with its reason, and the
// message carries nothing of the token.
func TestRefusals(t *testing.T) {
	p := newIDP(t)
	rs, es := rsaSigner(t, "rsa-1"), ecSigner(t, "ec-1")
	p.publish(rs)
	p.publish(es)
	v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
	oidc.SetRetry(v, 0, 0) // every unknown kid refetches: counted below
	mustVerify(t, v, sign(t, rs, p.claims()))

	with := func(f func(c map[string]any)) map[string]any {
		c := p.claims()
		f(c)
		return c
	}
	now := time.Now()
	pubDER, err := x509.MarshalPKIXPublicKey(rs.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs := func(secret []byte) string {
		return signWith(t, jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: secret, KeyID: rs.kid}}, p.claims())
	}
	unsigned := func(header string) string {
		b, _ := json.Marshal(p.claims())
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
	}
	attacker := rsaSigner(t, "")
	embedded, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: attacker.key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(p.claims())
	obj, err := embedded.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	withJWK, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, rs, p.claims())
	parts := strings.Split(good, ".")
	forged, _ := json.Marshal(with(func(c map[string]any) { c["email"] = "boss@example.ru" }))

	for _, c := range []struct {
		name   string
		token  string
		reason error
		fetch  bool // the key set is fetched again (an unknown kid)
	}{
		{"expired", sign(t, rs, with(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), oidc.ErrExpired, false},
		{"no exp", sign(t, rs, with(func(c map[string]any) { delete(c, "exp") })), oidc.ErrMalformed, false},
		{"not yet valid", sign(t, rs, with(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() })), oidc.ErrNotYetValid, false},
		{"wrong audience", sign(t, rs, with(func(c map[string]any) { c["aud"] = "billing" })), oidc.ErrAudience, false},
		{"wrong audiences", sign(t, rs, with(func(c map[string]any) { c["aud"] = []string{"billing", "hr"} })), oidc.ErrAudience, false},
		{"wrong issuer", sign(t, rs, with(func(c map[string]any) { c["iss"] = "https://evil.example.com" })), oidc.ErrIssuer, false},
		{"issuer with slash", sign(t, rs, with(func(c map[string]any) { c["iss"] = p.issuer() + "/" })), oidc.ErrIssuer, false},
		{"other key, known kid", sign(t, signer{kid: rs.kid, alg: jose.RS256, key: attacker.key}, p.claims()), oidc.ErrSignature, true},
		{"other key, no kid", sign(t, attacker, p.claims()), oidc.ErrSignature, true},
		{"other key, embedded jwk", withJWK, oidc.ErrSignature, true},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2], oidc.ErrSignature, true},
		{"rsa kid, ec signature", sign(t, signer{kid: rs.kid, alg: jose.ES256, key: es.key}, p.claims()), oidc.ErrSignature, true},
		{"unknown kid", sign(t, rsaSigner(t, "rsa-2"), p.claims()), oidc.ErrUnknownKey, true},
		{"alg none", unsigned(`{"alg":"none","typ":"JWT"}`), oidc.ErrAlgorithm, false},
		{"alg None", unsigned(`{"alg":"None","kid":"rsa-1"}`), oidc.ErrAlgorithm, false},
		{"no alg", unsigned(`{"kid":"rsa-1"}`), oidc.ErrAlgorithm, false},
		{"HS256 with the public key PEM", hs(pubPEM), oidc.ErrAlgorithm, false},
		{"HS256 with the public key DER", hs(pubDER), oidc.ErrAlgorithm, false},
		{"RS256 without a signature", unsigned(`{"alg":"RS256","kid":"rsa-1"}`), oidc.ErrSignature, true},
		{"no user claim", sign(t, rs, with(func(c map[string]any) { delete(c, "email") })), oidc.ErrUserClaim, false},
		{"empty user claim", sign(t, rs, with(func(c map[string]any) { c["email"] = " " })), oidc.ErrUserClaim, false},
		{"user claim not a string", sign(t, rs, with(func(c map[string]any) { c["email"] = []string{"a@example.ru"} })), oidc.ErrUserClaim, false},
		{"email_verified false", sign(t, rs, with(func(c map[string]any) { c["email_verified"] = false })), oidc.ErrEmailUnverified, false},
		{`email_verified "false"`, sign(t, rs, with(func(c map[string]any) { c["email_verified"] = "false" })), oidc.ErrEmailUnverified, false},
		{"email_verified odd", sign(t, rs, with(func(c map[string]any) { c["email_verified"] = 0 })), oidc.ErrMalformed, false},
		{"no sub", sign(t, rs, with(func(c map[string]any) { delete(c, "sub") })), oidc.ErrMalformed, false},
		{"over 16 KiB", sign(t, rs, with(func(c map[string]any) { c["pad"] = strings.Repeat("x", oidc.MaxTokenSize) })), oidc.ErrTooLarge, false},
		{"not a jwt", "crm_0123456789abcdef", oidc.ErrMalformed, false},
		{"garbage segments", "a.b.c", oidc.ErrMalformed, false},
		{"header not json", base64.RawURLEncoding.EncodeToString([]byte("alg")) + "." + parts[1] + "." + parts[2], oidc.ErrMalformed, false},
		{"payload not json", parts[0] + ".bm90IGpzb24." + parts[2], oidc.ErrSignature, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			settle()
			before := p.jwksHits.Load()
			_, err := v.Verify(t.Context(), c.token)
			if !errors.Is(err, oidc.ErrRefused) || !errors.Is(err, c.reason) {
				t.Fatalf("want refused (%v), got %v", c.reason, err)
			}
			if errors.Is(err, oidc.ErrUnavailable) {
				t.Fatalf("refusal reads as unavailable: %v", err)
			}
			msg := err.Error()
			for _, secret := range []string{"u-1001", "anna@", "boss@", "billing", "evil", "rsa-", c.token[:min(len(c.token), 12)]} {
				if strings.Contains(msg, secret) {
					t.Fatalf("message %q carries token contents %q", msg, secret)
				}
			}
			if fetched := p.jwksHits.Load() - before; fetched != map[bool]int32{false: 0, true: 1}[c.fetch] {
				t.Fatalf("key set fetched %d times, want fetch=%v", fetched, c.fetch)
			}
		})
	}
}

// TestKeyRotation: a key the provider publishes after the hub started is
// accepted once the set is refetched for its kid; the old key keeps
// working while it is published, from the cache.
//
// go-oidc's RemoteKeySet hands a fetch's result to its waiters before it
// clears the in-flight request (jwks.go), so a Verify just after a fetch
// may join the finished one instead of fetching: the test waits for the
// fetch it expects rather than counting on the very next call.
func TestKeyRotation(t *testing.T) {
	p := newIDP(t)
	old, next := rsaSigner(t, "2026-01"), ecSigner(t, "2026-02")
	p.publish(old)
	v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
	oidc.SetRetry(v, 0, 0)
	mustVerify(t, v, sign(t, old, p.claims()))

	// Before the rotation an unknown kid is refused, after a refetch.
	eventually(t, "a refetch for an unknown kid", func() bool {
		before := p.jwksHits.Load()
		if _, err := v.Verify(t.Context(), sign(t, next, p.claims())); !errors.Is(err, oidc.ErrUnknownKey) {
			t.Fatalf("before rotation: want unknown key, got %v", err)
		}
		return p.jwksHits.Load() > before
	})
	p.publish(next)
	eventually(t, "the published key verifying", func() bool {
		_, err := v.Verify(t.Context(), sign(t, next, p.claims()))
		if err != nil && !errors.Is(err, oidc.ErrUnknownKey) {
			t.Fatalf("after rotation: %v", err)
		}
		return err == nil
	})
	fetches := p.jwksHits.Load()
	for range 3 {
		mustVerify(t, v, sign(t, old, p.claims()))
		mustVerify(t, v, sign(t, next, p.claims()))
	}
	if n := p.jwksHits.Load(); n != fetches {
		t.Fatalf("known keys fetched the key set again: %d fetches, then %d", fetches, n)
	}
}

// eventually calls ok until it reports true, settling between calls,
// and fails the test after 100 calls (5 seconds of settling).
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for range 100 {
		if ok() {
			return
		}
		settle()
	}
	t.Fatalf("no %s after 100 tries", what)
}

// TestWithdrawnKey: once the cached key set is older than its maximum
// age, a fresh one replaces it when the provider answers: a key it no
// longer publishes stops verifying. While the provider is down, the old
// cache goes on serving.
func TestWithdrawnKey(t *testing.T) {
	p := newIDP(t)
	old, next := rsaSigner(t, "2026-01"), ecSigner(t, "2026-02")
	p.publish(old)
	v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
	oidc.SetRetry(v, 0, 0)
	tok := sign(t, old, p.claims())
	mustVerify(t, v, tok)
	p.set(func(p *idp) { p.keys = nil })
	p.publish(next)
	mustVerify(t, v, tok) // cached
	oidc.SetKeysMaxAge(v, 0)
	p.set(func(p *idp) { p.jwksStatus = http.StatusServiceUnavailable })
	mustVerify(t, v, tok) // the fresh cache cannot fetch: the old one serves
	p.set(func(p *idp) { p.jwksStatus = 0 })
	// Until the failed fetch is cleared (see TestKeyRotation) a call may
	// join it and be served by the old cache still.
	eventually(t, "refusal of the withdrawn key", func() bool {
		_, err := v.Verify(t.Context(), tok)
		if err != nil && !errors.Is(err, oidc.ErrUnknownKey) {
			t.Fatalf("withdrawn key: want unknown key, got %v", err)
		}
		return err != nil
	})
	mustVerify(t, v, sign(t, next, p.claims()))
}

// TestKeySetRefreshLimited: within the refresh interval, unknown kids do
// not reach the provider; after it, one does.
func TestKeySetRefreshLimited(t *testing.T) {
	p := newIDP(t)
	rs := rsaSigner(t, "rsa-1")
	p.publish(rs)
	v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
	mustVerify(t, v, sign(t, rs, p.claims()))
	for i := range 20 {
		tok := sign(t, ecSigner(t, fmt.Sprintf("forged-%d", i)), p.claims())
		if _, err := v.Verify(t.Context(), tok); !errors.Is(err, oidc.ErrUnknownKey) {
			t.Fatalf("want unknown key, got %v", err)
		}
	}
	if n := p.jwksHits.Load(); n != 1 {
		t.Fatalf("key set fetched %d times within the interval, want 1", n)
	}
	// A key published now is picked up once the interval has passed.
	next := ecSigner(t, "ec-2")
	p.publish(next)
	oidc.SetRetry(v, 0, 50*time.Millisecond)
	time.Sleep(60 * time.Millisecond)
	mustVerify(t, v, sign(t, next, p.claims()))
	if n := p.jwksHits.Load(); n != 2 {
		t.Fatalf("key set fetched %d times, want 2", n)
	}
}

// TestDiscoveryUnavailableAtStart: New succeeds while the provider is
// down, Verify says unavailable (and does not hammer it within the retry
// interval), and once the provider is up tokens are accepted.
func TestDiscoveryUnavailableAtStart(t *testing.T) {
	p := newIDP(t)
	rs := rsaSigner(t, "rsa-1")
	p.publish(rs)
	p.set(func(p *idp) { p.discoveryStatus = http.StatusServiceUnavailable })
	var logs bytes.Buffer
	var mu sync.Mutex
	v := newVerifier(t, oidc.Config{Issuer: p.issuer(), Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))})
	tok := sign(t, rs, p.claims())
	for range 3 {
		if _, err := v.Verify(t.Context(), tok); !errors.Is(err, oidc.ErrUnavailable) || errors.Is(err, oidc.ErrRefused) {
			t.Fatalf("want unavailable, got %v", err)
		}
	}
	if err := v.Ready(t.Context()); !errors.Is(err, oidc.ErrUnavailable) {
		t.Fatalf("Ready: want unavailable, got %v", err)
	}
	if n := p.discoveryHits.Load(); n != 1 {
		t.Fatalf("discovery tried %d times within the retry interval, want 1", n)
	}
	mu.Lock()
	if !strings.Contains(logs.String(), "oidc_discovery_failed") {
		t.Fatalf("no warning logged: %s", logs.String())
	}
	mu.Unlock()

	p.set(func(p *idp) { p.discoveryStatus = 0 })
	oidc.SetRetry(v, 20*time.Millisecond, 0)
	time.Sleep(30 * time.Millisecond)
	// Concurrent first requests: one discovery, all accepted.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := v.Verify(t.Context(), tok)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := p.discoveryHits.Load(); n != 2 {
		t.Fatalf("discovery tried %d times, want 2", n)
	}
}

// TestDiscoveryTimeout: a provider that does not answer costs a request
// at most the timeout.
func TestDiscoveryTimeout(t *testing.T) {
	release := make(chan struct{})
	p := newIDP(t)
	p.set(func(p *idp) { p.hang = release })
	defer close(release)
	rs := rsaSigner(t, "rsa-1")
	p.publish(rs)
	start := time.Now()
	v := newVerifier(t, oidc.Config{Issuer: p.issuer(), Timeout: 200 * time.Millisecond})
	oidc.SetRetry(v, 0, 0)
	if _, err := v.Verify(t.Context(), sign(t, rs, p.claims())); !errors.Is(err, oidc.ErrUnavailable) {
		t.Fatalf("want unavailable, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("New and Verify took %v with a 200ms timeout", d)
	}
	// The caller's context bounds it too.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := v.Verify(ctx, sign(t, rs, p.claims())); !errors.Is(err, oidc.ErrUnavailable) {
		t.Fatalf("want unavailable, got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Verify took %v with a 50ms context", d)
	}
}

// TestProviderFaults: a key set that cannot be had, and a discovery
// document that names another issuer or a plain-http key set, read as
// unavailable, never as a bad token.
func TestProviderFaults(t *testing.T) {
	t.Run("key set down", func(t *testing.T) {
		p := newIDP(t)
		rs := rsaSigner(t, "rsa-1")
		p.publish(rs)
		p.set(func(p *idp) { p.jwksStatus = http.StatusBadGateway })
		v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
		_, err := v.Verify(t.Context(), sign(t, rs, p.claims()))
		if !errors.Is(err, oidc.ErrUnavailable) || !strings.Contains(err.Error(), "502") {
			t.Fatalf("want unavailable (502), got %v", err)
		}
		// Within the refresh interval the failure is answered at once.
		if _, err := v.Verify(t.Context(), sign(t, rs, p.claims())); !errors.Is(err, oidc.ErrUnavailable) {
			t.Fatalf("want unavailable, got %v", err)
		}
		if n := p.jwksHits.Load(); n != 1 {
			t.Fatalf("key set tried %d times, want 1", n)
		}
		p.set(func(p *idp) { p.jwksStatus = 0 })
		oidc.SetRetry(v, 0, 0)
		// go-oidc lets a fetch that is still finishing answer the next
		// caller once more (its in-flight request is cleared after the
		// waiters are told): the provider's recovery shows within a few
		// tries, never as a bad token.
		var err2 error
		for range 50 {
			if _, err2 = v.Verify(t.Context(), sign(t, rs, p.claims())); err2 == nil {
				break
			}
			if !errors.Is(err2, oidc.ErrUnavailable) {
				t.Fatalf("a recovered provider's token read as %v", err2)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err2 != nil {
			t.Fatalf("Verify after the key set came back: %v", err2)
		}
	})
	t.Run("key set too large", func(t *testing.T) {
		p := newIDP(t)
		rs := rsaSigner(t, "rsa-1")
		p.set(func(p *idp) { p.jwksBody = []byte(`{"keys":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`) })
		v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
		if _, err := v.Verify(t.Context(), sign(t, rs, p.claims())); !errors.Is(err, oidc.ErrUnavailable) {
			t.Fatalf("want unavailable, got %v", err)
		}
	})
	t.Run("key set not json", func(t *testing.T) {
		p := newIDP(t)
		rs := rsaSigner(t, "rsa-1")
		p.set(func(p *idp) { p.jwksBody = []byte(`<html>`) })
		v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
		if _, err := v.Verify(t.Context(), sign(t, rs, p.claims())); !errors.Is(err, oidc.ErrUnavailable) {
			t.Fatalf("want unavailable, got %v", err)
		}
	})
	t.Run("issuer mismatch", func(t *testing.T) {
		p := newIDP(t)
		p.set(func(p *idp) { p.discoveryIssuer = "https://evil.example.com" })
		v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
		if err := v.Ready(t.Context()); !errors.Is(err, oidc.ErrUnavailable) {
			t.Fatalf("want unavailable, got %v", err)
		}
	})
	t.Run("discovery names plain http keys", func(t *testing.T) {
		p := newIDP(t)
		p.set(func(p *idp) { p.jwksURI = "http://id.example.com/keys" })
		v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
		if err := v.Ready(t.Context()); !errors.Is(err, oidc.ErrUnavailable) || !strings.Contains(err.Error(), "jwks_uri") {
			t.Fatalf("want unavailable (jwks_uri), got %v", err)
		}
	})
}

// TestConcurrentVerify runs verifications in parallel (for -race) while
// keys rotate.
func TestConcurrentVerify(t *testing.T) {
	p := newIDP(t)
	rs := rsaSigner(t, "rsa-1")
	p.publish(rs)
	v := newVerifier(t, oidc.Config{Issuer: p.issuer()})
	oidc.SetRetry(v, 0, 0)
	tokens := []string{sign(t, rs, p.claims())}
	for i := range 3 {
		s := ecSigner(t, fmt.Sprintf("ec-%d", i))
		p.publish(s)
		tokens = append(tokens, sign(t, s, p.claims()))
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if _, err := v.Verify(t.Context(), tokens[i%len(tokens)]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
