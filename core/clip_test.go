package core_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestClip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"Short", "Иван", 10, "Иван"},
		{"Exact", "Иван", 4, "Иван"},
		{"ASCII", "abcdef", 3, "abc"},
		{"CountsCharactersNotBytes", "Иванов", 3, "Ива"},
		{"KeepsFourByteCharacters", "a😀b", 2, "a😀"},
		{"Zero", "Иван", 0, ""},
		{"Negative", "Иван", -1, ""},
		{"Empty", "", 5, ""},
		{"InvalidByteIsOneCharacter", "a\xffbc", 2, "a\xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, core.Clip(tc.in, tc.n))
		})
	}
}

// TestClipCyrillicAtFullLimit is the webforms case: a 200-character limit
// keeps 200 Cyrillic letters (400 bytes), and the result is valid UTF-8.
func TestClipCyrillicAtFullLimit(t *testing.T) {
	t.Parallel()
	got := core.Clip(strings.Repeat("Ж", 300), 200)
	require.Equal(t, 200, utf8.RuneCountInString(got))
	require.True(t, utf8.ValidString(got))
	require.Empty(t, core.TextProblem(got, false))
}
