package telephony

import (
	"bufio"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestClipText checks what clipText adds to core.Clip (whose own test
// counts the characters): a cut is marked with "…", an uncut quote is not,
// and a cut Cyrillic quote stays whole characters (a byte cut at 3 would
// split «ш»).
func TestClipText(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Ошибка", clipText("Ошибка", 6), "not cut, not marked")
	got := clipText("Ошибка", 3)
	require.Equal(t, "Оши…", got)
	require.True(t, utf8.ValidString(got))
}

// TestMalformedAMILineQuotesWholeCharacters: the error for a long
// Cyrillic line quotes 80 characters, none of them split.
func TestMalformedAMILineQuotesWholeCharacters(t *testing.T) {
	t.Parallel()
	line := strings.Repeat("ж", 100)
	_, err := readAMIMessage(bufio.NewReader(strings.NewReader(line + "\r\n\r\n")))
	require.EqualError(t, err, `ami: malformed line "`+strings.Repeat("ж", 80)+`…"`)
}
