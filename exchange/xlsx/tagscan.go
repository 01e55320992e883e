package xlsx

import (
	"bytes"
	"errors"
	"io"
)

// tagScanner reads an XML stream tag by tag, building nothing and decoding
// nothing: what counting a sheet's rows needs, at the speed of a byte scan
// (encoding/xml is some twenty times slower on a sheet).
type tagScanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	err      error
}

// maxTag bounds one tag (a row's or a cell's is some tens of bytes).
const maxTag = 1 << 20

var errTagTooLong = errors.New("an XML tag longer than 1 MiB")

func newTagScanner(r io.Reader) *tagScanner {
	return &tagScanner{r: r, buf: make([]byte, 256<<10)}
}

// fill keeps the unread bytes and reads more after them; false when no
// more come.
func (s *tagScanner) fill() bool {
	if s.eof {
		return false
	}
	n := copy(s.buf, s.buf[s.pos:s.end])
	s.pos, s.end = 0, n
	if s.end == len(s.buf) {
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	for {
		m, err := s.r.Read(s.buf[s.end:])
		s.end += m
		if err != nil {
			s.eof = true
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
		}
		if m > 0 || s.eof {
			return m > 0
		}
	}
}

// next passes the character data before the next tag to text (in pieces,
// each valid only during the call) and returns that tag: the bytes between
// < and >, valid until the next call. It returns false at the end of the
// stream or on an error (then in s.err).
func (s *tagScanner) next(text func([]byte)) ([]byte, bool) {
	for {
		i := bytes.IndexByte(s.buf[s.pos:s.end], '<')
		if i < 0 {
			text(s.buf[s.pos:s.end])
			s.pos = s.end
			if !s.fill() {
				return nil, false
			}
			continue
		}
		text(s.buf[s.pos : s.pos+i])
		s.pos += i + 1
		return s.tag()
	}
}

// tag reads up to the '>' that ends the tag: one outside quotes, or the
// end of a comment, CDATA section or processing instruction.
func (s *tagScanner) tag() ([]byte, bool) {
	scan := s.pos // the tag is searched for its end from here
	for {
		j := bytes.IndexByte(s.buf[scan:s.end], '>')
		if j < 0 {
			if s.end-s.pos > maxTag {
				s.err = errTagTooLong
				return nil, false
			}
			done := scan - s.pos
			if !s.fill() {
				return nil, false
			}
			scan = s.pos + done
			continue
		}
		t := s.buf[s.pos : scan+j+1]
		if tagComplete(t) {
			s.pos = scan + j + 1
			return t[:len(t)-1], true
		}
		scan += j + 1
	}
}

// skipTo moves past the next end tag of the element name (any prefix);
// false at the end of the stream. End tags carry no attributes, so those
// on the way are passed over by their name alone.
func (s *tagScanner) skipTo(name string) bool {
	for {
		i := bytes.Index(s.buf[s.pos:s.end], []byte("</"))
		if i < 0 {
			s.pos = max(s.pos, s.end-1) // a '<' may end the buffer
			if !s.fill() {
				return false
			}
			continue
		}
		s.pos += i + 2
		j := s.pos
		for j < s.end && j-s.pos <= maxName && !isSpace(s.buf[j]) && s.buf[j] != '>' {
			j++
		}
		if j == s.end && !s.eof { // the name is cut by the buffer's end
			s.pos -= 2
			if !s.fill() {
				return false
			}
			continue
		}
		if n, _, _ := tagName(s.buf[s.pos:j]); string(n) == name {
			_, ok := s.tag()
			return ok
		}
	}
}

// maxName bounds the prefixed name of an end tag skipTo looks at.
const maxName = 64

// tagComplete reports whether t (a tag's bytes up to a '>') is the whole tag.
func tagComplete(t []byte) bool {
	switch {
	case bytes.HasPrefix(t, []byte("!--")):
		return len(t) >= 6 && bytes.HasSuffix(t, []byte("-->"))
	case bytes.HasPrefix(t, []byte("![CDATA[")):
		return len(t) >= 11 && bytes.HasSuffix(t, []byte("]]>"))
	case len(t) > 0 && t[0] == '?':
		return bytes.HasSuffix(t, []byte("?>"))
	}
	var quote byte
	for _, c := range t[:len(t)-1] {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		}
	}
	return quote == 0
}

// cdata returns the content of a CDATA section tag.
func cdata(t []byte) ([]byte, bool) {
	if !bytes.HasPrefix(t, []byte("![CDATA[")) || !bytes.HasSuffix(t, []byte("]]")) {
		return nil, false
	}
	return t[len("![CDATA[") : len(t)-2], true
}

// tagName returns a tag's local name (its namespace prefix dropped), whether
// it is an end tag and whether it closes itself.
func tagName(t []byte) (name []byte, end, empty bool) {
	if len(t) > 0 && t[0] == '/' {
		end, t = true, t[1:]
	}
	empty = len(t) > 0 && t[len(t)-1] == '/'
	i := 0
	for i < len(t) && !isSpace(t[i]) && t[i] != '/' {
		i++
	}
	name = t[:i]
	if j := bytes.IndexByte(name, ':'); j >= 0 {
		name = name[j+1:]
	}
	return name, end, empty
}

// attr returns the value of a tag's attribute (unprefixed name), as written.
func attr(t []byte, name string) ([]byte, bool) {
	i := 0
	for i < len(t) && !isSpace(t[i]) {
		i++
	}
	for i < len(t) {
		for i < len(t) && isSpace(t[i]) {
			i++
		}
		j := i
		for i < len(t) && t[i] != '=' && !isSpace(t[i]) {
			i++
		}
		key := t[j:i]
		for i < len(t) && isSpace(t[i]) {
			i++
		}
		if i >= len(t) || t[i] != '=' {
			return nil, false
		}
		i++
		for i < len(t) && isSpace(t[i]) {
			i++
		}
		if i >= len(t) || t[i] != '"' && t[i] != '\'' {
			return nil, false
		}
		q := t[i]
		i++
		k := bytes.IndexByte(t[i:], q)
		if k < 0 {
			return nil, false
		}
		if string(key) == name {
			return t[i : i+k], true
		}
		i += k + 1
	}
	return nil, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// atoi reads a decimal number, -1 when b is not one (or beyond 18 digits).
func atoi(b []byte) int {
	if len(b) == 0 || len(b) > 18 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// cellColumn reads the column number of a cell reference such as "AB12"
// (0 when it has none).
func cellColumn(ref []byte) int {
	col := 0
	for _, c := range ref {
		switch {
		case c >= 'A' && c <= 'Z':
			col = col*26 + int(c-'A') + 1
		case c >= 'a' && c <= 'z':
			col = col*26 + int(c-'a') + 1
		default:
			return col
		}
		if col > 1<<20 {
			return col
		}
	}
	return col
}
