package core

import "strconv"

// CopyText builds rows in PostgreSQL's COPY text format (tab-separated,
// \N for NULL, backslash escapes), the cheapest a bulk loader can send:
// the server parses the values, the client only appends bytes.
type CopyText struct {
	b     []byte
	inRow bool
}

func (c *CopyText) sep() {
	if c.inRow {
		c.b = append(c.b, '\t')
	}
	c.inRow = true
}

// Int appends an integer column.
func (c *CopyText) Int(n int64) {
	c.sep()
	c.b = strconv.AppendInt(c.b, n, 10)
}

// Text appends a text column, escaping what the format must.
func (c *CopyText) Text(s string) {
	c.sep()
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\':
			c.b = append(c.b, '\\', '\\')
		case '\t':
			c.b = append(c.b, '\\', 't')
		case '\n':
			c.b = append(c.b, '\\', 'n')
		case '\r':
			c.b = append(c.b, '\\', 'r')
		default:
			c.b = append(c.b, ch)
		}
	}
}

// Bool appends a boolean column.
func (c *CopyText) Bool(b bool) {
	c.sep()
	if b {
		c.b = append(c.b, 't')
	} else {
		c.b = append(c.b, 'f')
	}
}

// TextOrNull appends s, or NULL when it is empty.
func (c *CopyText) TextOrNull(s string) {
	if s == "" {
		c.Null()
		return
	}
	c.Text(s)
}

// Null appends a NULL column.
func (c *CopyText) Null() {
	c.sep()
	c.b = append(c.b, '\\', 'N')
}

// End ends the row.
func (c *CopyText) End() {
	c.b = append(c.b, '\n')
	c.inRow = false
}

// Bytes are the rows built since the last Reset.
func (c *CopyText) Bytes() []byte { return c.b }

// Len is how many bytes are built.
func (c *CopyText) Len() int { return len(c.b) }

// Reset empties the buffer, keeping its memory.
func (c *CopyText) Reset() { c.b, c.inRow = c.b[:0], false }
