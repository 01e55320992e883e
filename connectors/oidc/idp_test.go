package oidc_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const audience = "crmhub"

// idp is an identity provider on loopback: a discovery document and a
// key set of keys the test generates.
type idp struct {
	srv *httptest.Server

	mu   sync.Mutex
	keys []jose.JSONWebKey // published (public) keys
	// discoveryStatus and jwksStatus, when not 0, are answered instead.
	discoveryStatus, jwksStatus int
	discoveryIssuer             string        // when set, the document claims it
	jwksURI                     string        // when set, the document names it
	hang                        chan struct{} // when set, discovery waits for it
	jwksBody                    []byte        // when set, served as the key set

	discoveryHits, jwksHits atomic.Int32
}

// signer is one signing key.
type signer struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	p := &idp{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.discoveryHits.Add(1)
		p.mu.Lock()
		status, iss, jwks, hang := p.discoveryStatus, p.discoveryIssuer, p.jwksURI, p.hang
		p.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		if status != 0 {
			http.Error(w, "down", status)
			return
		}
		if iss == "" {
			iss = p.srv.URL
		}
		if jwks == "" {
			jwks = p.srv.URL + "/keys"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "jwks_uri": jwks,
			"authorization_endpoint": p.srv.URL + "/auth", "token_endpoint": p.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		p.mu.Lock()
		status, body := p.jwksStatus, p.jwksBody
		set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), p.keys...)}
		p.mu.Unlock()
		if status != 0 {
			http.Error(w, "down", status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if body != nil {
			_, _ = w.Write(body)
			return
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) issuer() string { return p.srv.URL }

func (p *idp) set(f func(p *idp)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// publish adds s's public key to the key set.
func (p *idp) publish(s signer) {
	p.set(func(p *idp) {
		p.keys = append(p.keys, jose.JSONWebKey{Key: s.key.Public(), KeyID: s.kid, Algorithm: string(s.alg), Use: "sig"})
	})
}

func rsaSigner(t *testing.T, kid string) signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signer{kid: kid, alg: jose.RS256, key: k}
}

func ecSigner(t *testing.T, kid string) signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer{kid: kid, alg: jose.ES256, key: k}
}

// claims are a token's claims, valid for p by default.
func (p *idp) claims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": p.issuer(), "aud": audience, "sub": "u-1001",
		"email": "anna@example.ru", "email_verified": true,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// sign makes a compact JWS of claims with s (kid in the header unless
// s.kid is empty).
func sign(t *testing.T, s signer, claims map[string]any) string {
	t.Helper()
	return signWith(t, jose.SigningKey{Algorithm: s.alg, Key: jose.JSONWebKey{Key: s.key, KeyID: s.kid}}, claims)
}

func signWith(t *testing.T, key jose.SigningKey, claims map[string]any) string {
	t.Helper()
	sg, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := sg.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
