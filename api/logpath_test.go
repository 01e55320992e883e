package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/core"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAccessLogRedactsBearerSecretsInPaths(t *testing.T) {
	t.Parallel()
	var access lockedBuffer
	b := setupConfig(t, func(c *api.Config) {
		c.AccessLog = true
		c.AccessLogger = slog.New(slog.NewTextHandler(&access, nil))
	})
	r := b.do(t, "GET", "/api/v1/users?sort=name", b.reader, "")
	adminID := r.json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	r = b.do(t, "POST", "/api/v1/users/"+adminID+"/calendar-token", b.admin, "")
	require.Equal(t, 201, r.status, string(r.body))
	var tok struct{ Token, URL string }
	require.NoError(t, json.Unmarshal(r.body, &tok))
	require.True(t, strings.HasPrefix(tok.Token, "crm_"))

	b.do(t, "GET", tok.URL, "", "")
	b.do(t, "GET", "/calendar/"+tok.Token, "", "")                                       // no route: still a token
	b.do(t, "GET", "/api/v1/leads/"+strings.TrimPrefix(tok.Token, "crm_"), b.reader, "") // a key's random part, anywhere
	b.do(t, "GET", "/api/v1/leads/0190a5c0-0000-7000-8000-000000000000", b.reader, "")

	out := access.String()
	require.NotContains(t, out, tok.Token)
	require.NotContains(t, out, strings.TrimPrefix(tok.Token, "crm_"))
	require.Contains(t, out, `path=/calendar/REDACTED.ics route=/calendar/:token.ics`)
	require.Contains(t, out, `path=/calendar/REDACTED route=unmatched`)
	require.Contains(t, out, `path=/api/v1/leads/REDACTED route=/api/v1/leads/:id`)
	require.Contains(t, out, `path=/api/v1/leads/0190a5c0-0000-7000-8000-000000000000 `, "record ids stay readable")
	require.Contains(t, out, `path=/api/v1/users/`+adminID+`/calendar-token`)
}

func TestSecretLikePathSegments(t *testing.T) {
	t.Parallel()
	key, _ := core.NewAPIKeySecret()
	for seg, want := range map[string]bool{
		key:                                    true,
		strings.TrimPrefix(key, "crm_"):        true,
		"crm_Zx81Lq":                           true,
		"0123456789abcdef0123456789abcdef":     true, // a session id, a digest
		"Xk3P9zQ2Lm7Rt8Vb1Nc4Wd6Ye5":           true,
		"0190a5c0-0000-7000-8000-000000000000": false, // a record id
		"quarterly-sales-by-manager-2026":      false, // a slug
		"0123456789abcdef":                     false, // a job id
		"calendar-token":                       false,
		"errors.xlsx":                          false,
	} {
		require.Equal(t, want, api.SecretLike(seg), seg)
	}
}
