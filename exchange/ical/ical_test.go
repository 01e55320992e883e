package ical

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFoldKeepsRunesWholeAndLinesShort(t *testing.T) {
	for _, s := range []string{
		"SUMMARY:" + strings.Repeat("я", 100),     // 2-byte runes
		"SUMMARY:a" + strings.Repeat("€", 60),     // 3-byte runes, odd offset
		"DESCRIPTION:" + strings.Repeat("x", 300), // ASCII
		"SUMMARY:short", // untouched
		"X:" + strings.Repeat("😀", 40) + "\r\nEND:X", // 4-byte runes and a second line
	} {
		out := fold([]byte(s + "\r\n"))
		for _, line := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
			if len(line) > 75 {
				t.Fatalf("line of %d octets: %q", len(line), line)
			}
			if !utf8.ValidString(line) {
				t.Fatalf("a rune was split: %q", line)
			}
		}
		unfolded := bytes.ReplaceAll(out, []byte("\r\n "), nil)
		if string(unfolded) != s+"\r\n" {
			t.Fatalf("unfolding does not give back the input:\n%q\n%q", unfolded, s)
		}
	}
}
