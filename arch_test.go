// Package crmhub_test holds repository-wide checks.
package crmhub_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/crmhub/crmhub"

// coreAllowed are the only third-party imports of the pure core package:
// I/O-free libraries for ids, phone numbers, decimals, the ISO 4217
// table (golang.org/x/text/currency: document currencies are validated
// against it, not a hand-kept list), password hashing (argon2id), Unicode
// normalization of file names, the sniffing of a file's type from its
// first bytes and the windows-1251 codec XML files from 1C and the Bank of
// Russia come in.
var coreAllowed = []string{"github.com/google/uuid", "github.com/nyaruka/phonenumbers", "github.com/shopspring/decimal",
	"golang.org/x/text/currency", "golang.org/x/crypto/argon2", "golang.org/x/text/unicode/norm",
	"github.com/gabriel-vasile/mimetype", "golang.org/x/text/encoding/charmap"}

// importRule returns why pkg (a module-relative dir) may not import imp, or
// "" when it may. Imports point inward to core, so the domain never
// depends on a database, a transport or a foreign format:
//   - core: the standard library and coreAllowed;
//   - core/* (store, outbox, inbox…): core packages (and pgx);
//   - exchange/* (codecs): core and their format library;
//   - connectors/*: core and exchange, not one another nor core/store;
//   - api: core and exchange, never core/store or connectors;
//   - api/wire: api and core/store, which it joins, imported only by
//     cmd and tests;
//   - cmd: everything, and nothing imports cmd.
//
// Test files may also wire real neighbours (the store, another connector).
// Test-support packages (a name ending in "test", or mock) are imported
// from _test.go files only.
func importRule(pkg, imp string, test bool) string {
	internal := strings.HasPrefix(imp, module+"/") || imp == module
	rel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
	isTestPkg := strings.HasSuffix(rel, "test") && strings.Contains(rel, "/") || strings.Contains(rel, "/mock")
	if internal && rel == pkg {
		return "" // an external test package imports the package it tests
	}
	switch {
	case internal && isTestPkg && !test:
		return "test-support packages are imported only from _test.go files"
	case pkg == "core":
		if internal && !(test && rel == "core") {
			return "core imports no other crmhub package"
		}
		if !test && strings.Contains(imp, ".") && !hasPrefixAny(imp, coreAllowed) {
			return "core imports only the standard library and " + strings.Join(coreAllowed, ", ")
		}
	case strings.HasPrefix(pkg, "core/"):
		if internal && rel != "core" && !strings.HasPrefix(rel, "core/") {
			return "core/* imports only core packages"
		}
	case strings.HasPrefix(pkg, "exchange/"):
		if internal && rel != "core" {
			return "exchange codecs import only core"
		}
	case strings.HasPrefix(pkg, "connectors/"):
		if internal && (!test && strings.HasPrefix(rel, "connectors/") && !strings.HasPrefix(rel, pkg) ||
			rel == "api" || strings.HasPrefix(rel, "api/") || !test && strings.HasPrefix(rel, "core/store") || strings.HasPrefix(rel, "cmd")) {
			return "connectors import core and exchange, not other connectors or core/store (tests may wire them), api or cmd"
		}
	case pkg == "api/wire":
		if internal && !test && rel != "api" && rel != "core" && rel != "core/store" {
			return "api/wire joins api and core/store and imports nothing else of crmhub"
		}
	case pkg == "api" || strings.HasPrefix(pkg, "api/"):
		if internal && !test && (strings.HasPrefix(rel, "core/") || strings.HasPrefix(rel, "connectors") || strings.HasPrefix(rel, "cmd")) {
			return "api imports core and exchange only (tests may use core/store)"
		}
	}
	if internal && rel == "api/wire" && !test && !strings.HasPrefix(pkg, "cmd/") {
		return "only cmd and tests wire the API to the store"
	}
	if internal && strings.HasPrefix(rel, "cmd") {
		return "nothing imports cmd"
	}
	return ""
}

func hasPrefixAny(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == p || strings.HasPrefix(s, p+"/") {
			return true
		}
	}
	return false
}

// TestImportRule parses every Go file and fails on an import across the
// layering rule.
func TestImportRule(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "var" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		test := strings.HasSuffix(path, "_test.go")
		for _, im := range f.Imports {
			imp := strings.Trim(im.Path.Value, `"`)
			if why := importRule(pkg, imp, test); why != "" {
				t.Errorf("%s imports %s: %s", path, imp, why)
			}
			checked++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d imports: is the walk broken?", checked)
	}
}

// TestImportRuleCatchesViolations proves the rule rejects what it must.
func TestImportRuleCatchesViolations(t *testing.T) {
	for _, c := range []struct{ pkg, imp string }{
		{"core", module + "/core/store"},
		{"core", "github.com/jackc/pgx/v5"},
		{"core", "github.com/gofiber/fiber/v2"},
		{"core/store", module + "/api"},
		{"api", module + "/core/store"},
		{"api", module + "/connectors/kafka"},
		{"connectors/telephony", module + "/connectors/kafka"},
		{"connectors/telephony", module + "/core/store"},
		{"exchange/xlsx", module + "/connectors/kafka"},
		{"core/store", module + "/core/store/storetest"},
		{"api", module + "/cmd/crmhub"},
		{"api", module + "/api/wire"},
		{"connectors/webforms", module + "/api/wire"},
		{"api/wire", module + "/connectors/kafka"},
		{"connectors/mailout", module + "/connectors/mailtest"},
	} {
		if importRule(c.pkg, c.imp, false) == "" {
			t.Errorf("%s importing %s was allowed", c.pkg, c.imp)
		}
	}
	for _, c := range []struct{ pkg, imp string }{
		{"core", "context"},
		{"core", "github.com/shopspring/decimal"},
		{"core/store", module + "/core"},
		{"core/store", "github.com/jackc/pgx/v5"},
		{"api", module + "/core"},
		{"connectors/kafka", module + "/core"},
		{"connectors/onec", module + "/exchange/commerceml"},
		{"cmd/crmhub", module + "/core/store"},
		{"cmd/crmhub", module + "/api/wire"},
		{"api/wire", module + "/api"},
		{"api/wire", module + "/core/store"},
	} {
		if why := importRule(c.pkg, c.imp, false); why != "" {
			t.Errorf("%s importing %s was refused: %s", c.pkg, c.imp, why)
		}
	}
	// A connector's test may wire a real neighbour (an SMTP sender, the store).
	if why := importRule("connectors/reportmail", module+"/connectors/mailout", true); why != "" {
		t.Errorf("a connector test wiring another connector was refused: %s", why)
	}
	// The API tests serve the store through the one wiring serve uses.
	if why := importRule("api", module+"/api/wire", true); why != "" {
		t.Errorf("an API test using api/wire was refused: %s", why)
	}
}
