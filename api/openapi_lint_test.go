package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// spectral is the OpenAPI linter, pinned (npm; `make deps` installs Node).
const spectral = "@stoplight/spectral-cli@6.15.0"

// cleared are Spectral's warnings the document has none of: every
// operation has a description and tags the global list defines, the info
// a contact. The warnings left are logged: the Command schema (a Kafka
// message no path refers to), the security headers every response
// carries (components.headers, named in info), and DELETE /users/{id},
// which always answers 409 (users own records: they are deactivated).
var cleared = map[string]bool{"operation-description": true, "operation-tags": true, "operation-tag-defined": true,
	"info-contact": true, "operation-operationId": true, "operation-operationId-unique": true}

// TestOpenAPILintsWithoutErrors: Spectral's OpenAPI ruleset finds no
// error in the served document, nor a warning of the cleared kinds.
func TestOpenAPILintsWithoutErrors(t *testing.T) {
	t.Parallel()
	dir := servedDocIn(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".spectral.yaml"), []byte(`extends: ["spectral:oas"]`+"\n"), 0o600))
	// Into a file: Node cuts a large answer to a pipe short at exit.
	cmd := exec.Command("npx", "--yes", spectral, "lint", "openapi.json", "--ruleset", ".spectral.yaml", "-f", "json",
		"-o", "results.json", "--quiet")
	cmd.Dir = dir
	msg, err := cmd.CombinedOutput()
	out, rerr := os.ReadFile(filepath.Join(dir, "results.json"))
	if rerr != nil {
		t.Fatalf("spectral: %v\n%s", err, msg)
	}
	var results []struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Path     []any  `json:"path"`
		Severity int    `json:"severity"` // 0 error, 1 warning
	}
	require.NoError(t, json.Unmarshal(out, &results), "%s", out)
	warnings := 0
	for _, res := range results {
		if res.Severity == 0 || cleared[res.Code] {
			t.Errorf("%s at %v: %s", res.Code, res.Path, res.Message)
		} else {
			warnings++
			t.Logf("warning %s at %v: %s", res.Code, res.Path, res.Message)
		}
	}
	t.Logf("spectral:oas: %d other warnings", warnings)
}
