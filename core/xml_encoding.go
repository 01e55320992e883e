package core

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// CheckXMLEncoding refuses an XML file whose declaration lies about its
// bytes, as far as head (its first bytes, or all of it) shows: a
// windows-1251 declaration over UTF-8 Cyrillic (a file re-encoded without
// fixing the declaration reads as mojibake), or a UTF-8 one (or none) over
// bytes that are not UTF-8. A multi-byte character cut at the end of head
// is not a lie.
func CheckXMLEncoding(head []byte) error {
	declared := "utf-8"
	if i := bytes.Index(head[:min(len(head), 200)], []byte("encoding=")); i >= 0 && bytes.HasPrefix(head, []byte("<?xml")) {
		rest := head[i+len("encoding="):]
		if len(rest) > 1 {
			if j := bytes.IndexByte(rest[1:], rest[0]); j >= 0 {
				declared = strings.ToLower(string(rest[1 : 1+j]))
			}
		}
	}
	for k := 0; k < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); k++ {
		head = head[:len(head)-1]
	}
	nonASCII := bytes.ContainsFunc(head, func(r rune) bool { return r >= utf8.RuneSelf })
	switch declared {
	case "windows-1251", "cp1251":
		if nonASCII && utf8.Valid(head) {
			return errors.New("the file declares encoding windows-1251 but its bytes are UTF-8 (re-encoded without fixing the declaration): fix the declaration or the bytes")
		}
	case "utf-8", "utf8":
		if !utf8.Valid(head) {
			return errors.New("the file declares encoding UTF-8 (or none) but its bytes are not UTF-8 (windows-1251?): fix the declaration or the bytes")
		}
	}
	return nil
}

// XMLCharsetReader is an encoding/xml CharsetReader for the encodings the
// Bank of Russia's and 1C's files come in: windows-1251 (also written
// cp1251, win-1251) and UTF-8; any other is refused by name.
func XMLCharsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "windows-1251", "cp1251", "win-1251":
		return charmap.Windows1251.NewDecoder().Reader(in), nil
	case "utf-8", "utf8":
		return in, nil
	}
	return nil, fmt.Errorf("encoding %q is not windows-1251 or UTF-8", label)
}
