package main

import (
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPackageDocListsEveryCommand keeps the package doc's list of
// commands in step with commands().
func TestPackageDocListsEveryCommand(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.PackageClauseOnly|parser.ParseComments)
	require.NoError(t, err)
	doc := f.Doc.Text()
	for _, c := range commands() {
		require.Regexp(t, `(?m)^\tcrmhub `+c.name+`( |$)`, doc, "the package doc does not list %q", c.name)
	}
}
