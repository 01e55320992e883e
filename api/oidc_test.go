package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/oidc"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

// TestIdentityProviderTokens signs users in with tokens of an identity
// provider served on loopback (its discovery document and key set): a
// valid one acts as the user its e-mail names, with that user's rights;
// expired, foreign-audience, unknown-user and unsigned ones are a 401.
func TestIdentityProviderTokens(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	v, err := oidc.New(context.Background(), oidc.Config{Issuer: srv.URL, Audience: "crmhub"}, srv.Client())
	require.NoError(t, err)
	b := setupConfig(t, func(c *api.Config) { c.Auth.OIDCClaim = "email" }, func(_ *store.Store, d *api.Deps) {
		d.OIDC = func(ctx context.Context, token string) (string, error) {
			id, err := v.Verify(ctx, token)
			return id.Value, err
		}
	})
	r := b.do(t, "POST", "/api/v1/users", b.admin, `{"name":"Ольга","email":"olga@example.ru"}`)
	require.Equal(t, 201, r.status, string(r.body))
	olga := r.json(t)["id"].(string)
	r = b.do(t, "POST", "/api/v1/leads", b.admin, `{"last_name":"Чужой","company":"Админ"}`)
	require.Equal(t, 201, r.status, string(r.body))

	sign := func(claims map[string]any) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		require.NoError(t, err)
		payload, _ := json.Marshal(claims)
		obj, err := s.Sign(payload)
		require.NoError(t, err)
		out, err := obj.CompactSerialize()
		require.NoError(t, err)
		return out
	}
	now := time.Now()
	claims := func(email, aud string, exp time.Time) map[string]any {
		return map[string]any{"iss": srv.URL, "aud": aud, "sub": "u-" + email, "email": email, "email_verified": true,
			"iat": now.Unix(), "exp": exp.Unix()}
	}

	token := sign(claims("olga@example.ru", "crmhub", now.Add(time.Hour)))
	r = b.do(t, "GET", "/api/v1/auth/me", token, "")
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, olga, r.json(t)["user"].(map[string]any)["id"])
	require.Equal(t, "Менеджер", r.json(t)["role"].(map[string]any)["name"])
	r = b.do(t, "GET", "/api/v1/leads", token, "")
	require.Equal(t, 200, r.status, string(r.body))
	require.Empty(t, r.json(t)["items"], "the token acts with the user's rights: no one else's leads")

	for name, bad := range map[string]string{
		"expired":        sign(claims("olga@example.ru", "crmhub", now.Add(-time.Minute))),
		"wrong audience": sign(claims("olga@example.ru", "another-app", now.Add(time.Hour))),
		"unknown user":   sign(claims("nobody@example.ru", "crmhub", now.Add(time.Hour))),
		"unsigned":       token[:len(token)-20] + "AAAAAAAAAAAAAAAAAAAA",
	} {
		t.Run(name, func(t *testing.T) {
			requireProblem(t, b.do(t, "GET", "/api/v1/auth/me", bad, ""), 401, core.EUNAUTHORIZED)
		})
	}
}
