package telephony

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/crmhub/crmhub/core"
)

// amiMessage is one AMI block: "Key: Value" lines ended by an empty line.
// Keys are case-insensitive and may repeat (ChanVariable, Variable), so
// values are kept in order per key.
type amiMessage struct {
	keys []string            // as written, in order
	vals map[string][]string // by lower-cased key
}

// Get returns the first value of key ("" when absent).
func (m amiMessage) Get(key string) string {
	if v := m.vals[strings.ToLower(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Has reports whether key is present.
func (m amiMessage) Has(key string) bool { _, ok := m.vals[strings.ToLower(key)]; return ok }

func (m *amiMessage) add(key, val string) {
	if m.vals == nil {
		m.vals = map[string][]string{}
	}
	lk := strings.ToLower(key)
	if _, ok := m.vals[lk]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[lk] = append(m.vals[lk], val)
}

// Limits of what the server may send: a block of more lines or longer
// lines than any real event is a broken or hostile peer.
const (
	amiMaxLine  = 8 << 10
	amiMaxLines = 500
)

var errAMITooLong = errors.New("ami: message too long")

// readAMILine reads one line without its CR LF (or LF: captures are often
// stored with LF only).
func readAMILine(r *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return "", err
		}
		buf = append(buf, chunk...)
		if len(buf) > amiMaxLine {
			return "", errAMITooLong
		}
		if !isPrefix {
			return string(bytes.TrimRight(buf, "\r")), nil
		}
	}
}

// readAMIMessage reads the next block; blank lines between blocks are
// skipped. Each line splits on its first ": " (values may hold colons).
func readAMIMessage(r *bufio.Reader) (amiMessage, error) {
	var m amiMessage
	lines := 0
	for {
		line, err := readAMILine(r)
		if err != nil {
			if errors.Is(err, io.EOF) && lines > 0 {
				return m, io.ErrUnexpectedEOF
			}
			return m, err
		}
		if line == "" {
			if lines == 0 {
				continue
			}
			return m, nil
		}
		lines++
		if lines > amiMaxLines {
			return m, errAMITooLong
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return m, fmt.Errorf("ami: malformed line %q", clipText(line, 80))
		}
		m.add(strings.TrimSpace(k), strings.TrimPrefix(v, " "))
	}
}

// writeAMIAction writes an action block; values must not hold line breaks.
func writeAMIAction(w io.Writer, fields [][2]string) error {
	var b bytes.Buffer
	for _, f := range fields {
		if strings.ContainsAny(f[0]+f[1], "\r\n") {
			return fmt.Errorf("ami: line break in %s", f[0])
		}
		b.WriteString(f[0])
		b.WriteString(": ")
		b.WriteString(f[1])
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	_, err := w.Write(b.Bytes())
	return err
}

// clipText quotes at most n characters of what a PBX sent, for an error
// or a log line read by people, marking a cut with "…".
func clipText(s string, n int) string {
	if c := core.Clip(s, n); c != s {
		return c + "…"
	}
	return s
}
