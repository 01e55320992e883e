package telephony

import (
	"bufio"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestClipText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"Short", "Response: Error", 80, "Response: Error"},
		{"ASCIICut", "abcdef", 3, "abc…"},
		{"CyrillicCutOnACharacter", "Ошибка", 3, "Оши…"}, // a byte cut at 3 split «ш»
		{"Exact", "Ошибка", 6, "Ошибка"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := clipText(tc.in, tc.n)
			require.Equal(t, tc.want, got)
			require.True(t, utf8.ValidString(got))
		})
	}
}

// TestMalformedAMILineQuotesWholeCharacters: the error for a long
// Cyrillic line quotes 80 characters, none of them split.
func TestMalformedAMILineQuotesWholeCharacters(t *testing.T) {
	t.Parallel()
	line := strings.Repeat("ж", 100)
	_, err := readAMIMessage(bufio.NewReader(strings.NewReader(line + "\r\n\r\n")))
	require.EqualError(t, err, `ami: malformed line "`+strings.Repeat("ж", 80)+`…"`)
}
