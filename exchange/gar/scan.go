package gar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits of the scanner. Every value and every element is bounded so a
// hostile file cannot make the decoder hold more than its buffer.
const (
	// MaxValue is the longest attribute value accepted, in bytes as stored.
	MaxValue = 4000
	// MaxAttrs is the most attributes one element may carry.
	MaxAttrs = 64
	// maxName bounds element and attribute names.
	maxName = 64
	// bufSize is the read buffer; a whole element must fit into it
	// (MaxAttrs values of MaxValue bytes do).
	bufSize = 256 << 10
)

// errShort means the element continues beyond the buffered bytes.
var errShort = errors.New("short buffer")

// element kinds returned by the scanner
const (
	elRoot = iota + 1
	elEmptyRoot
	elRecord
	elEnd
)

// fill moves the unread bytes to the front of the buffer and reads until
// the buffer is full or the input ends, so a record split across reads is
// re-scanned at most once per buffer.
func (d *Decoder) fill() error {
	copy(d.buf, d.buf[d.pos:d.end])
	d.end -= d.pos
	d.pos = 0
	for d.end < len(d.buf) && !d.eof {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		switch {
		case err == io.EOF:
			d.eof = true
		case err != nil:
			return d.errf(0, "reading: %w", err)
		case n == 0:
			d.zeroReads++
			if d.zeroReads > 100 {
				return d.errf(0, "reading: %w", io.ErrNoProgress)
			}
		}
	}
	return nil
}

// errf formats an error naming the file kind, the line (nl lines past the
// current one) and how many records were read before it.
func (d *Decoder) errf(nl int, format string, args ...any) error {
	return fmt.Errorf("%s line %d, after record %d: %w", d.info.kind, d.line+nl, d.count, fmt.Errorf(format, args...))
}

func (d *Decoder) truncated() error {
	return d.errf(0, "the file ends early (truncated?)")
}

// header skips the byte order mark and checks the XML declaration: GAR
// files are UTF-8 only, so any other declared encoding is refused.
func (d *Decoder) header() error {
	if err := d.fill(); err != nil {
		return err
	}
	b := d.buf[:d.end]
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		d.pos += 3
		b = b[3:]
	}
	if !bytes.HasPrefix(b, []byte("<?xml")) || len(b) < 6 || !isSpace(b[5]) {
		return nil // no declaration: XML then defaults to UTF-8
	}
	end := bytes.Index(b, []byte("?>"))
	if end < 0 || end > 1024 {
		return d.errf(0, "the XML declaration is not closed")
	}
	decl := b[6:end]
	d.line += bytes.Count(decl, []byte("\n"))
	if err := d.checkDecl(decl); err != nil {
		return err
	}
	d.pos += end + 2
	return nil
}

// checkDecl reads the pseudo-attributes version, encoding and standalone.
func (d *Decoder) checkDecl(decl []byte) error {
	for {
		decl = bytes.TrimLeft(decl, " \t\r\n")
		if len(decl) == 0 {
			return nil
		}
		eq := bytes.IndexByte(decl, '=')
		if eq < 0 {
			return d.errf(0, "malformed XML declaration")
		}
		name := string(bytes.TrimRight(decl[:eq], " \t\r\n"))
		rest := bytes.TrimLeft(decl[eq+1:], " \t\r\n")
		if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') {
			return d.errf(0, "malformed XML declaration")
		}
		q := bytes.IndexByte(rest[1:], rest[0])
		if q < 0 {
			return d.errf(0, "malformed XML declaration")
		}
		val := string(rest[1 : 1+q])
		decl = rest[2+q:]
		switch name {
		case "version", "standalone":
		case "encoding":
			if !equalFold(val, "utf-8") && !equalFold(val, "utf8") {
				return d.errf(0, "the declared encoding is %q; the GAR is UTF-8 only", val)
			}
		default:
			return d.errf(0, "unknown XML declaration attribute %q", name)
		}
	}
}

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isNameByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':'
}

// advance scans to the next record; it returns io.EOF after the root's end
// tag once the rest of the input proved to be whitespace.
func (d *Decoder) advance() error {
	for {
		for d.pos < d.end {
			c := d.buf[d.pos]
			if c == '\n' {
				d.line++
			} else if c != ' ' && c != '\t' && c != '\r' {
				break
			}
			d.pos++
		}
		if d.pos == d.end {
			if d.eof {
				if d.done {
					return io.EOF
				}
				return d.truncated()
			}
			if err := d.fill(); err != nil {
				return err
			}
			continue
		}
		if d.done {
			return d.errf(0, "unexpected content after the end of the root element <%s>", d.info.root)
		}
		if d.buf[d.pos] != '<' {
			return d.errf(0, "unexpected byte %q between elements (text content is not allowed)", d.buf[d.pos])
		}
		n, nl, el, err := d.element(d.buf[d.pos:d.end])
		if err == errShort {
			if d.eof {
				return d.truncated()
			}
			if d.pos == 0 && d.end == len(d.buf) {
				return d.errf(0, "an element is longer than %d bytes", bufSize)
			}
			if err := d.fill(); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		d.pos += n
		d.line += nl
		switch el {
		case elRoot:
			d.started = true
		case elEmptyRoot, elEnd:
			d.started, d.done = true, true
		case elRecord:
			d.count++
			return nil
		}
	}
}

// element scans one tag at the start of b. It returns the bytes used, the
// newlines inside, and what the tag was; errShort asks for more input.
func (d *Decoder) element(b []byte) (int, int, int, error) {
	if len(b) < 2 {
		return 0, 0, 0, errShort
	}
	switch b[1] {
	case '!':
		return 0, 0, 0, d.errf(0, "<! markup (DOCTYPE, entity declaration, comment, CDATA) is refused")
	case '?':
		return 0, 0, 0, d.errf(0, "processing instructions are refused after the XML declaration")
	case '/':
		return d.endTag(b)
	}
	i, name, err := d.name(b, 1, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	record := d.started
	if !record && string(name) != d.info.root {
		return 0, 0, 0, d.errf(0, "the root element is <%s>, expected <%s> for %s", name, d.info.root, d.info.kind)
	}
	if record && string(name) != d.info.elem {
		return 0, 0, 0, d.errf(0, "unexpected element <%s>, expected <%s> in %s", name, d.info.elem, d.info.kind)
	}
	if record {
		d.resetRecord()
	}
	nl, attrs := 0, 0
	for {
		j := i
		for j < len(b) && isSpace(b[j]) {
			if b[j] == '\n' {
				nl++
			}
			j++
		}
		if j == len(b) {
			return 0, 0, 0, errShort
		}
		c := b[j]
		if c == '/' || c == '>' {
			return d.closeTag(b, j, nl, record)
		}
		if j == i {
			return 0, 0, 0, d.errf(nl, "unexpected byte %q in <%s>", c, name)
		}
		attrs++
		if attrs > MaxAttrs {
			return 0, 0, 0, d.errf(nl, "more than %d attributes in <%s>", MaxAttrs, name)
		}
		var vnl int
		i, vnl, err = d.attr(b, j, nl, record)
		if err != nil {
			return 0, 0, 0, err
		}
		nl += vnl
	}
}

// closeTag finishes a start tag at b[j] ('/' or '>'). Records must be empty
// elements: GAR puts everything into attributes.
func (d *Decoder) closeTag(b []byte, j, nl int, record bool) (int, int, int, error) {
	if b[j] == '/' {
		if j+1 == len(b) {
			return 0, 0, 0, errShort
		}
		if b[j+1] != '>' {
			return 0, 0, 0, d.errf(nl, "unexpected byte %q after '/'", b[j+1])
		}
		if !record {
			return j + 2, nl, elEmptyRoot, nil
		}
		if err := d.finishRecord(nl); err != nil {
			return 0, 0, 0, err
		}
		return j + 2, nl, elRecord, nil
	}
	if record {
		return 0, 0, 0, d.errf(nl, "record element <%s> must be empty (<%s ... />)", d.info.elem, d.info.elem)
	}
	return j + 1, nl, elRoot, nil
}

func (d *Decoder) endTag(b []byte) (int, int, int, error) {
	i, name, err := d.name(b, 2, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	if !d.started || string(name) != d.info.root {
		return 0, 0, 0, d.errf(0, "unexpected end tag </%s>", name)
	}
	nl := 0
	for i < len(b) && isSpace(b[i]) {
		if b[i] == '\n' {
			nl++
		}
		i++
	}
	if i == len(b) {
		return 0, 0, 0, errShort
	}
	if b[i] != '>' {
		return 0, 0, 0, d.errf(nl, "unexpected byte %q in </%s>", b[i], name)
	}
	return i + 1, nl, elEnd, nil
}

// name scans an element or attribute name starting at b[i].
func (d *Decoder) name(b []byte, i, nl int) (int, []byte, error) {
	j := i
	for j < len(b) && isNameByte(b[j]) {
		j++
		if j-i > maxName {
			return 0, nil, d.errf(nl, "a name is longer than %d bytes", maxName)
		}
	}
	if j == len(b) {
		return 0, nil, errShort
	}
	if j == i || b[i] >= '0' && b[i] <= '9' || b[i] == '-' || b[i] == '.' {
		return 0, nil, d.errf(nl, "unexpected byte %q where a name was expected", b[j])
	}
	return j, b[i:j], nil
}

// attr scans name="value" at b[i], stores the value if the record needs
// it, and returns the position after the closing quote.
func (d *Decoder) attr(b []byte, i, nl int, record bool) (int, int, error) {
	i, name, err := d.name(b, i, nl)
	if err != nil {
		return 0, 0, err
	}
	for i < len(b) && isSpace(b[i]) {
		if b[i] == '\n' {
			nl++
		}
		i++
	}
	if i == len(b) {
		return 0, 0, errShort
	}
	if b[i] != '=' {
		return 0, 0, d.errf(nl, "attribute %s has no value", name)
	}
	i++
	vnl := 0
	for i < len(b) && isSpace(b[i]) {
		if b[i] == '\n' {
			vnl++
		}
		i++
	}
	if i == len(b) {
		return 0, 0, errShort
	}
	q := b[i]
	if q != '"' && q != '\'' {
		return 0, 0, d.errf(nl+vnl, "attribute %s: the value is not quoted", name)
	}
	i++
	j := bytes.IndexByte(b[i:], q)
	if j < 0 {
		if len(b)-i > MaxValue {
			return 0, 0, d.errf(nl+vnl, "attribute %s: the value is longer than %d bytes", name, MaxValue)
		}
		return 0, 0, errShort
	}
	v := b[i : i+j]
	if len(v) > MaxValue {
		return 0, 0, d.errf(nl+vnl, "attribute %s: the value is longer than %d bytes", name, MaxValue)
	}
	fi := -1
	if record {
		fi = d.field(name)
		if fi >= 0 && d.set&(1<<fi) != 0 {
			return 0, 0, d.errf(nl+vnl, "attribute %s appears twice", name)
		}
	}
	start := len(d.raw)
	n, err := d.value(v, name, nl+vnl)
	if err != nil {
		return 0, 0, err
	}
	if fi >= 0 {
		d.set |= 1 << fi
		d.spans[fi] = span{int32(start), int32(len(d.raw))}
	} else {
		d.raw = d.raw[:start]
	}
	return i + j + 1, vnl + n, nil
}

// field finds the record field an attribute name belongs to (-1: an
// attribute this package does not read, which is validated and skipped).
// The files keep a fixed order, so the search starts after the last match.
func (d *Decoder) field(name []byte) int {
	fs := d.info.fields
	for k := 0; k < len(fs); k++ {
		i := d.hint + k
		if i >= len(fs) {
			i -= len(fs)
		}
		if fs[i].name == string(name) {
			d.hint = i + 1
			return i
		}
	}
	return -1
}

// value appends the decoded value v to d.raw and returns the newlines in
// it. Plain ASCII is copied as is; anything else takes the careful path.
func (d *Decoder) value(v, name []byte, nl int) (int, error) {
	for _, c := range v {
		if c < 0x20 || c == '&' || c == '<' || c >= 0x80 {
			return d.slowValue(v, name, nl)
		}
	}
	d.raw = append(d.raw, v...)
	return 0, nil
}

// slowValue decodes references, normalises white space as XML requires
// (tab, CR, LF become a space) and checks UTF-8.
func (d *Decoder) slowValue(v, name []byte, nl int) (int, error) {
	n := 0
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == '<':
			return 0, d.errf(nl+n, "attribute %s: '<' in a value", name)
		case c == '&':
			r, used, err := reference(v[i:])
			if err != nil {
				return 0, d.errf(nl+n, "attribute %s: %w", name, err)
			}
			d.raw = utf8.AppendRune(d.raw, r)
			i += used
		case c == '\n':
			n++
			d.raw = append(d.raw, ' ')
			i++
		case c == '\r':
			if i+1 < len(v) && v[i+1] == '\n' {
				i++
				continue
			}
			d.raw = append(d.raw, ' ')
			i++
		case c == '\t':
			d.raw = append(d.raw, ' ')
			i++
		case c < 0x20:
			return 0, d.errf(nl+n, "attribute %s: control byte %#02x in a value", name, c)
		case c < 0x80:
			d.raw = append(d.raw, c)
			i++
		default:
			r, size := utf8.DecodeRune(v[i:])
			if r == utf8.RuneError && size <= 1 || !isXMLChar(r) {
				return 0, d.errf(nl+n, "attribute %s: the value is not valid UTF-8", name)
			}
			d.raw = append(d.raw, v[i:i+size]...)
			i += size
		}
	}
	return n, nil
}

// reference decodes an entity or character reference at the start of b.
// Only the five predefined entities exist without a DTD, and DTDs are
// refused, so every other name is an error.
func reference(b []byte) (rune, int, error) {
	end := bytes.IndexByte(b, ';')
	if end < 0 || end > 12 {
		return 0, 0, errors.New("an unterminated entity reference")
	}
	ref := string(b[1:end])
	switch ref {
	case "amp":
		return '&', end + 1, nil
	case "lt":
		return '<', end + 1, nil
	case "gt":
		return '>', end + 1, nil
	case "quot":
		return '"', end + 1, nil
	case "apos":
		return '\'', end + 1, nil
	}
	if len(ref) < 2 || ref[0] != '#' {
		return 0, 0, fmt.Errorf("unknown entity &%s; (only &amp; &lt; &gt; &quot; &apos; and character references are allowed)", ref)
	}
	digits, base := ref[1:], rune(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if digits == "" {
		return 0, 0, fmt.Errorf("malformed character reference &%s;", ref)
	}
	var r rune
	for i := 0; i < len(digits); i++ {
		v := hexVal(digits[i])
		if v < 0 || rune(v) >= base {
			return 0, 0, fmt.Errorf("malformed character reference &%s;", ref)
		}
		r = r*base + rune(v)
		if r > utf8.MaxRune {
			return 0, 0, fmt.Errorf("character reference &%s; is out of range", ref)
		}
	}
	if !isXMLChar(r) {
		return 0, 0, fmt.Errorf("character reference &%s; is not an XML character", ref)
	}
	return r, end + 1, nil
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// isXMLChar is the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= utf8.MaxRune
}
