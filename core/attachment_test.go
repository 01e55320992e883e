package core_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestSanitizeFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`C:\Users\ivan\Договор №5.pdf`:          "Договор №5.pdf",
		"../../etc/passwd":                      "passwd",
		"счёт\u202Efdp.exe":                     "счётfdp.exe",
		"a\x00b\x1fc\x7f.txt":                   "abc.txt",
		"  ..скан   договора..  ":               "скан договора",
		`what?<is>this:"file"|*.doc`:            "what__is_this__file___.doc",
		"CON.txt":                               "_CON.txt",
		"lpt1":                                  "_lpt1",
		"":                                      "file",
		"....":                                  "file",
		".bashrc":                               "bashrc",
		"\xff\xfeотчёт.xlsx":                    "_отчёт.xlsx", // a run of bad bytes is one "_"
		"и\u0306ogurt.txt":                      "йogurt.txt",  // decomposed (a Mac) becomes one letter
		"zero\u200bwidth\ufeff.txt":             "zerowidth.txt",
		"tab\tand\nnewline.txt":                 "tab and newline.txt",
		"name.with.many.dots.tar.gz":            "name.with.many.dots.tar.gz",
		"a" + strings.Repeat("б", 200) + ".pdf": "a" + strings.Repeat("б", 125) + ".pdf",
	} {
		got := core.SanitizeFileName(in)
		require.Equal(t, want, got, "%q", in)
		require.LessOrEqual(t, len(got), 255)
	}
}

func TestSniffContentType(t *testing.T) {
	t.Parallel()
	require.Equal(t, "application/pdf", core.SniffContentType([]byte("%PDF-1.7\n%âãÏÓ\n")))
	require.Equal(t, "image/jpeg", core.SniffContentType([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")))
	require.Equal(t, "text/plain; charset=utf-8", core.SniffContentType([]byte("Привет, это текст")))
	require.Equal(t, "application/octet-stream", core.SniffContentType([]byte{0, 1, 2, 3, 250, 251}))
}
