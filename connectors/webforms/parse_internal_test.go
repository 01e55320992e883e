package webforms

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestCleanFileNameCutsWholeCharacters: a long Cyrillic file name keeps
// 200 characters; a cut at 200 bytes would have split «ж» (the leading
// "a" puts byte 200 inside a letter) and lost the name to "file".
func TestCleanFileNameCutsWholeCharacters(t *testing.T) {
	t.Parallel()
	name := "a" + strings.Repeat("ж", 250) + ".pdf"
	got := cleanFileName(`C:\Documents\` + name)
	require.True(t, utf8.ValidString(got))
	require.Equal(t, 200, utf8.RuneCountInString(got))
	require.Equal(t, "a"+strings.Repeat("ж", 199), got)
}

func TestCleanFileName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Договор №5.pdf", cleanFileName("/tmp/Договор №5.pdf"))
	require.Equal(t, "ab.txt", cleanFileName("a\x00b\x7f.txt"))
	require.Equal(t, "file", cleanFileName(`dir\`))
}
