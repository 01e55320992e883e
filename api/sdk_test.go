package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	crmhub "github.com/crmhub/crmhub/api/sdk/go"
)

// The client generators behind `make sdk`, pinned as the Makefile pins them.
const (
	sdkGoGenerator = oapiCodegen
	sdkTSGenerator = "openapi-typescript@7.13.0"
)

// TestSDKIsCurrent: the generated clients are what `make sdk` makes of
// api/openapi.json now (a change to the document without `make sdk`
// fails here).
func TestSDKIsCurrent(t *testing.T) {
	t.Parallel()
	doc, err := filepath.Abs("openapi.json")
	require.NoError(t, err)
	dir := t.TempDir()
	goOut := filepath.Join(dir, "client.gen.go")
	run(t, ".", "go", "run", sdkGoGenerator, "-generate", "types,client", "-package", "crmhub", "-o", goOut, doc)
	requireSameFile(t, "sdk/go/client.gen.go", goOut)
	tsOut := filepath.Join(dir, "schema.d.ts")
	run(t, dir, "npx", "--yes", sdkTSGenerator, doc, "-o", tsOut)
	requireSameFile(t, "sdk/ts/src/schema.d.ts", tsOut)
}

func requireSameFile(t *testing.T, committed, fresh string) {
	t.Helper()
	want, err := os.ReadFile(fresh)
	require.NoError(t, err)
	got, err := os.ReadFile(committed)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "api/%s is stale: run make sdk", committed)
}

// run runs a command in dir and returns its standard output; a failure
// fails the test with its standard error.
func run(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), stderr.String())
	return out
}

// TestSDKQuickStart runs the README's quick start through both clients
// against a hub on a TCP port: a lead created once for an
// Idempotency-Key, found by a phone written another way, updated with a
// merge patch on its version (a stale one refused), the list walked page
// by page, the lead deleted.
func TestSDKQuickStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	origin := serveHub(t, b)
	t.Run("Go", func(t *testing.T) { goQuickStart(t, origin, b.writer) })
	t.Run("TypeScript", func(t *testing.T) { tsQuickStart(t, origin, b.writer) })
}

func goQuickStart(t *testing.T, origin, key string) {
	ctx := t.Context()
	c, err := crmhub.New(origin, key)
	require.NoError(t, err)
	idem, first, email, phone := "quickstart-go-1", "Иван", "Ivan@Romashka.ru", "8 (912) 345-67-89"
	source := crmhub.LeadCreateSource("web_site")
	body := crmhub.LeadCreate{FirstName: &first, LastName: "Петров", Company: "ООО Ромашка", Phone: &phone, Email: &email, Source: &source}
	created, err := c.CreateLeadWithResponse(ctx, &crmhub.CreateLeadParams{IdempotencyKey: &idem}, body)
	require.NoError(t, err)
	require.NotNil(t, created.JSON201, "%s", created.Body)
	lead := *created.JSON201
	require.Equal(t, "+79123456789", lead.Phone)
	require.Equal(t, "ivan@romashka.ru", lead.Email)
	again, err := c.CreateLeadWithResponse(ctx, &crmhub.CreateLeadParams{IdempotencyKey: &idem}, body)
	require.NoError(t, err)
	require.NotNil(t, again.JSON201, "%s", again.Body)
	require.Equal(t, lead.Id, again.JSON201.Id, "the same key creates once")
	require.Equal(t, "true", again.HTTPResponse.Header.Get("Idempotent-Replayed"))

	byPhone, limit := "+7 912 345 67 89", 10
	found, err := c.ListLeadsWithResponse(ctx, &crmhub.ListLeadsParams{Phone: &byPhone, Limit: &limit})
	require.NoError(t, err)
	require.NotNil(t, found.JSON200, "%s", found.Body)
	require.Len(t, found.JSON200.Items, 1)
	require.Equal(t, lead.Id, found.JSON200.Items[0].Id)

	version, hot, title := fmt.Sprintf("%q", fmt.Sprint(lead.Version)), crmhub.LeadPatchStatus("hot"), "Директор"
	patched, err := c.UpdateLeadWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, lead.Id, &crmhub.UpdateLeadParams{IfMatch: &version},
		crmhub.LeadPatch{Status: &hot, Title: &title})
	require.NoError(t, err)
	require.NotNil(t, patched.JSON200, "%s", patched.Body)
	require.Equal(t, crmhub.LeadStatus("hot"), patched.JSON200.Status)
	require.Equal(t, "Директор", patched.JSON200.Title)
	stale, err := c.UpdateLeadWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, lead.Id, &crmhub.UpdateLeadParams{IfMatch: &version},
		crmhub.LeadPatch{Title: &title})
	require.NoError(t, err)
	require.Equal(t, 412, stale.StatusCode())
	err = crmhub.Unexpected(stale.HTTPResponse, stale.Body)
	require.ErrorContains(t, err, "HTTP 412")
	require.ErrorContains(t, err, "(request ", "the problem names the request")

	// A second lead, so the walk takes two pages of one.
	other := body
	other.LastName, other.Phone, other.Email = "Сидоров", nil, nil
	second, err := c.CreateLeadWithResponse(ctx, nil, other)
	require.NoError(t, err)
	require.NotNil(t, second.JSON201, "%s", second.Body)
	one := 1
	var walked []string
	for l, err := range crmhub.All(ctx, func(ctx context.Context, cursor string) ([]crmhub.Lead, string, error) {
		p := &crmhub.ListLeadsParams{Limit: &one}
		if cursor != "" {
			p.Cursor = &cursor
		}
		r, err := c.ListLeadsWithResponse(ctx, p)
		if err != nil {
			return nil, "", err
		}
		if r.JSON200 == nil {
			return nil, "", crmhub.Unexpected(r.HTTPResponse, r.Body)
		}
		return r.JSON200.Items, r.JSON200.NextCursor, nil
	}) {
		require.NoError(t, err)
		walked = append(walked, l.Id.String())
	}
	require.ElementsMatch(t, []string{lead.Id.String(), second.JSON201.Id.String()}, walked)

	deleted, err := c.DeleteLeadWithResponse(ctx, lead.Id, nil)
	require.NoError(t, err)
	require.Equal(t, 204, deleted.StatusCode())
	gone, err := c.GetLeadWithResponse(ctx, lead.Id, nil)
	require.NoError(t, err)
	require.Equal(t, 404, gone.StatusCode())
	_, err = c.DeleteLeadWithResponse(ctx, second.JSON201.Id, nil)
	require.NoError(t, err)
}

func tsQuickStart(t *testing.T, origin, key string) {
	dir := t.TempDir()
	sdk := filepath.Join(dir, "sdk")
	for _, f := range []string{"package.json", "package-lock.json", "tsconfig.json", "src/index.ts", "src/schema.d.ts"} {
		data, err := os.ReadFile(filepath.Join("sdk/ts", f))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(sdk, f)), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(sdk, f), data, 0o600))
	}
	script, err := os.ReadFile("testdata/sdk-quickstart.mjs")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "quickstart.mjs"), script, 0o600))
	// npm ci installs the lock file's versions (make deps installs Node).
	run(t, sdk, "npm", "ci", "--no-audit", "--no-fund", "--silent")
	run(t, sdk, "npm", "run", "--silent", "build")
	out := run(t, dir, "node", "quickstart.mjs", origin, key)
	var got struct {
		ID            string   `json:"id"`
		SameForTheKey bool     `json:"sameForTheKey"`
		Phone         string   `json:"phone"`
		Email         string   `json:"email"`
		FoundByPhone  []string `json:"foundByPhone"`
		Status        string   `json:"status"`
		Title         string   `json:"title"`
		StaleStatus   int      `json:"staleStatus"`
		StaleProblem  int      `json:"staleProblem"`
		Walked        []string `json:"walked"`
		DeleteStatus  int      `json:"deleteStatus"`
		AfterDelete   any      `json:"afterDelete"`
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	require.True(t, got.SameForTheKey, "the same key creates once")
	require.Equal(t, "+79123456780", got.Phone)
	require.Equal(t, "ivan.ts@romashka.ru", got.Email)
	require.Equal(t, []string{got.ID}, got.FoundByPhone)
	require.Equal(t, "hot", got.Status)
	require.Equal(t, "Директор", got.Title)
	require.Equal(t, 412, got.StaleStatus)
	require.Equal(t, 412, got.StaleProblem, "the problem came typed")
	require.Contains(t, got.Walked, got.ID)
	require.Equal(t, 204, got.DeleteStatus)
	require.Equal(t, float64(404), got.AfterDelete)
}
