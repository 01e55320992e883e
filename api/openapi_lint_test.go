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

// TestOpenAPILintsWithoutErrors: Spectral's OpenAPI ruleset finds no
// error in the served document (warnings are logged: descriptions and
// tags of operations).
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
		if res.Severity == 0 {
			t.Errorf("%s at %v: %s", res.Code, res.Path, res.Message)
		} else {
			warnings++
		}
	}
	t.Logf("spectral:oas: %d warnings", warnings)
}
