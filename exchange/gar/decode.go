package gar

import (
	"errors"
	"fmt"
	"io"
)

// ftype is how an attribute value is typed.
type ftype uint8

const (
	fStr  ftype = iota
	fInt        // int64, decimal digits
	fBool       // "1"/"0" or "true"/"false"
	fDate       // YYYY-MM-DD, kept as a string
)

// field is one attribute of a record element. Required ones are the keys a
// consumer cannot do without; the rest default to zero values when absent.
type field struct {
	name string
	typ  ftype
	req  bool
}

type span struct{ a, b int32 }

// Decoder reads the records of one GAR file. It is not safe for
// concurrent use. Records it returns own their strings (one allocation per
// record holds all of them), so a consumer may keep them.
type Decoder struct {
	r         io.Reader
	info      kindInfo
	buf       []byte
	pos, end  int
	eof       bool
	zeroReads int
	line      int
	count     int
	started   bool // root start tag seen
	done      bool // root end tag seen
	err       error

	// the record being decoded
	raw   []byte // decoded values, back to back
	spans [MaxAttrs]span
	set   uint64 // bit i: field i present
	hint  int
	nums  [MaxAttrs]int64
	sbuf  []byte // the string fields, back to back
	sspan [MaxAttrs]span
	str   string // sbuf as one string, sliced into the fields
}

// NewDecoder starts decoding r as a file of kind k. It reads the
// XML declaration at once, so an unacceptable encoding fails here.
func NewDecoder(r io.Reader, k Kind) (*Decoder, error) {
	info, _, ok := lookupKind(k)
	if !ok {
		return nil, fmt.Errorf("gar: files of kind %q are not read", k)
	}
	d := &Decoder{r: r, info: info, buf: make([]byte, bufSize), line: 1,
		raw: make([]byte, 0, 1024), sbuf: make([]byte, 0, 512)}
	if err := d.header(); err != nil {
		return nil, err
	}
	return d, nil
}

// Kind is the kind of file being decoded.
func (d *Decoder) Kind() Kind { return d.info.kind }

// Line is the current line (1-based) in the file.
func (d *Decoder) Line() int { return d.line }

// Count is how many records were decoded so far.
func (d *Decoder) Count() int { return d.count }

func (d *Decoder) resetRecord() {
	d.raw = d.raw[:0]
	d.set = 0
	d.hint = 0
}

// finishRecord checks required attributes and converts the values.
func (d *Decoder) finishRecord(nl int) error {
	d.sbuf = d.sbuf[:0]
	for i, f := range d.info.fields {
		if d.set&(1<<i) == 0 {
			if f.req {
				return d.errf(nl, "<%s> has no %s attribute", d.info.elem, f.name)
			}
			d.nums[i] = 0
			d.sspan[i] = span{}
			continue
		}
		v := d.raw[d.spans[i].a:d.spans[i].b]
		var err error
		switch f.typ {
		case fInt:
			d.nums[i], err = parseInt(v)
			if err == errEmpty && !f.req {
				d.nums[i], err = 0, nil
			}
		case fBool:
			d.nums[i], err = parseBool(v)
		case fDate:
			if len(v) > 0 && !isDate(v) {
				err = errors.New("not a YYYY-MM-DD date")
			}
		}
		if err != nil {
			return d.errf(nl, "<%s> attribute %s=%q: %w", d.info.elem, f.name, v, err)
		}
		if f.typ == fStr || f.typ == fDate {
			a := len(d.sbuf)
			d.sbuf = append(d.sbuf, v...)
			d.sspan[i] = span{int32(a), int32(len(d.sbuf))}
		}
	}
	d.str = string(d.sbuf)
	return nil
}

var errEmpty = errors.New("empty number")

func parseInt(v []byte) (int64, error) {
	if len(v) == 0 {
		return 0, errEmpty
	}
	neg := v[0] == '-'
	if neg {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 19 {
		return 0, errors.New("not an integer")
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, errors.New("not an integer")
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0, errors.New("integer out of range")
	}
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

func parseBool(v []byte) (int64, error) {
	switch string(v) {
	case "1", "true":
		return 1, nil
	case "0", "false", "":
		return 0, nil
	}
	return 0, errors.New("not a boolean (1/0, true/false)")
}

func isDate(v []byte) bool {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9} {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	m := (v[5]-'0')*10 + v[6] - '0'
	day := (v[8]-'0')*10 + v[9] - '0'
	return m >= 1 && m <= 12 && day >= 1 && day <= 31
}

// next decodes the next record for a caller expecting one of kinds.
// Errors are sticky: after one, every call returns it again.
func (d *Decoder) next(kinds ...Kind) error {
	if d.err != nil {
		return d.err
	}
	ok := false
	for _, k := range kinds {
		ok = ok || k == d.info.kind
	}
	if !ok {
		return fmt.Errorf("gar: the decoder reads %s, not %s", d.info.kind, kinds[0])
	}
	if err := d.advance(); err != nil {
		d.err = err
		return err
	}
	return nil
}

func (d *Decoder) n(i int) int64  { return d.nums[i] }
func (d *Decoder) b(i int) bool   { return d.nums[i] != 0 }
func (d *Decoder) s(i int) string { return d.str[d.sspan[i].a:d.sspan[i].b] }
func (d *Decoder) in(i int) int   { return int(d.nums[i]) }
func id(name string) field        { return field{name, fInt, true} }
func num(name string) field       { return field{name, fInt, false} }
func str(name string) field       { return field{name, fStr, false} }
func date(name string) field      { return field{name, fDate, false} }
func flag(name string) field      { return field{name, fBool, false} }
func reqStr(name string) field    { return field{name, fStr, true} }
