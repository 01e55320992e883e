package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// quickStart returns the first sh block after the README's quick start
// heading.
func quickStart(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(b), "## Quick start with curl")
	require.True(t, ok)
	_, block, ok := strings.Cut(after, "```sh\n")
	require.True(t, ok)
	script, _, ok := strings.Cut(block, "```")
	require.True(t, ok)
	return script
}

// TestReadmeQuickStartWorksAsWritten runs the README's curl quick start
// against a live hub, changing only its address and folders.
func TestReadmeQuickStartWorksAsWritten(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	env := testEnv(dir)
	env["CRMHUB_DATABASE_EMBEDDED_PORT"] = "5435"
	addr := serveInProcess(t, env).addr

	script := quickStart(t)
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", "http://"+addr)
	script = strings.ReplaceAll(script, "var/admin.key", filepath.Join(dir, "admin.key"))
	script = strings.ReplaceAll(script, "/tmp/lead.json", filepath.Join(dir, "lead.json"))
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	got, err := cmd.CombinedOutput()
	require.NoError(t, err, string(got))
	s := string(got)
	require.Contains(t, s, `"phone":"+79123456789"`)
	require.Contains(t, s, `"email":"ivan@romashka.ru"`)
	require.Equal(t, 3, strings.Count(s, `"last_name":"Петров"`), "created, listed by phone, patched: %s", s)
	require.Contains(t, s, `"status":"hot"`)
	require.Contains(t, s, `"version":2`)
	require.True(t, strings.HasSuffix(strings.TrimSpace(s), "204"), s)
}
