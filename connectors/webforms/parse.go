package webforms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/crmhub/crmhub/core"
)

// Limits bounds what one submission may carry.
type Limits struct {
	MaxFields     int   // inputs per submission (default 200)
	MaxValue      int   // bytes per value (default 20,000)
	MaxFiles      int   // files per submission (default 5)
	MaxFileSize   int64 // bytes per file (default 10 MiB)
	MaxTotalFiles int64 // bytes of all files (default 20 MiB)
}

func (l *Limits) setDefaults() {
	if l.MaxFields <= 0 {
		l.MaxFields = 200
	}
	if l.MaxValue <= 0 {
		l.MaxValue = 20_000
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = 5
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = 10 << 20
	}
	if l.MaxTotalFiles <= 0 {
		l.MaxTotalFiles = 20 << 20
	}
}

// input is one posted input with all its values (checkboxes repeat).
type input struct {
	name   string
	values []string
}

// form is a parsed body: inputs in the order they came, and files.
type form struct {
	inputs []input
	index  map[string]int
	files  []core.FormFile
}

func (f *form) add(name, value string) {
	if f.index == nil {
		f.index = map[string]int{}
	}
	if i, ok := f.index[name]; ok {
		f.inputs[i].values = append(f.inputs[i].values, value)
		return
	}
	f.index[name] = len(f.inputs)
	f.inputs = append(f.inputs, input{name: name, values: []string{value}})
}

// get returns the first value of an input ("" when absent).
func (f *form) get(name string) string {
	if i, ok := f.index[name]; ok && len(f.inputs[i].values) > 0 {
		return f.inputs[i].values[0]
	}
	return ""
}

func (f *form) has(name string) bool { _, ok := f.index[name]; return ok }

// without is the form less the inputs drop says to leave out (and its
// files kept).
func (f *form) without(drop func(input) bool) *form {
	out := &form{files: f.files}
	for _, in := range f.inputs {
		if drop(in) {
			continue
		}
		for _, v := range in.values {
			out.add(in.name, v)
		}
	}
	return out
}

// urlencoded is the form's inputs as an application/x-www-form-urlencoded
// body, in their order.
func (f *form) urlencoded() []byte {
	var pairs []string
	for _, in := range f.inputs {
		for _, v := range in.values {
			pairs = append(pairs, url.QueryEscape(in.name)+"="+url.QueryEscape(v))
		}
	}
	return []byte(strings.Join(pairs, "&"))
}

// errBadBody is a body that cannot be read as a form (400).
type errBadBody struct{ msg string }

func (e errBadBody) Error() string { return e.msg }

func badBody(format string, args ...any) error { return errBadBody{fmt.Sprintf(format, args...)} }

// parseBody reads a urlencoded, multipart or JSON body within the limits.
func parseBody(contentType string, body []byte, lim Limits) (*form, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "application/x-www-form-urlencoded", nil
	}
	if err != nil {
		return nil, badBody("unreadable Content-Type %q", contentType)
	}
	f := &form{}
	switch {
	case mt == "application/x-www-form-urlencoded":
		err = parseURLEncoded(f, body)
	case mt == "multipart/form-data":
		err = parseMultipart(f, body, params["boundary"], lim)
	case mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		(mt == "text/plain" && len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] == '{'):
		err = parseJSON(f, body)
	default:
		return nil, errUnsupported{mt}
	}
	if err != nil {
		return nil, err
	}
	if len(f.inputs) > lim.MaxFields {
		return nil, badBody("too many fields: %d (at most %d)", len(f.inputs), lim.MaxFields)
	}
	for _, in := range f.inputs {
		if !utf8.ValidString(in.name) {
			return nil, badBody("a field name is not UTF-8")
		}
		for _, v := range in.values {
			if len(v) > lim.MaxValue {
				return nil, badBody("field %q: longer than %d bytes", in.name, lim.MaxValue)
			}
			if !utf8.ValidString(v) {
				return nil, badBody("field %q: not UTF-8", in.name)
			}
		}
	}
	return f, nil
}

// errUnsupported is a body of a media type forms do not take (415).
type errUnsupported struct{ mt string }

func (e errUnsupported) Error() string {
	return fmt.Sprintf("unsupported Content-Type %q: post application/x-www-form-urlencoded, multipart/form-data or JSON", e.mt)
}

func parseURLEncoded(f *form, body []byte) error {
	// url.ParseQuery would reorder the inputs: walk the pairs in order.
	for _, pair := range strings.Split(string(body), "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return badBody("the body is not valid application/x-www-form-urlencoded")
		}
		f.add(key, val)
	}
	return nil
}

func parseMultipart(f *form, body []byte, boundary string, lim Limits) error {
	if boundary == "" {
		return badBody("multipart/form-data without a boundary")
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var total int64
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return badBody("the multipart body is malformed: %v", err)
		}
		name := p.FormName()
		if name == "" {
			continue
		}
		if p.FileName() == "" {
			v, err := io.ReadAll(io.LimitReader(p, int64(lim.MaxValue)+1))
			if err != nil {
				return badBody("the multipart body is malformed: %v", err)
			}
			if len(v) > lim.MaxValue {
				return badBody("field %q: longer than %d bytes", name, lim.MaxValue)
			}
			f.add(name, string(v))
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, lim.MaxFileSize+1))
		if err != nil {
			return badBody("the multipart body is malformed: %v", err)
		}
		if int64(len(data)) > lim.MaxFileSize {
			return tooLarge{fmt.Sprintf("file %q is larger than %d bytes", p.FileName(), lim.MaxFileSize)}
		}
		if len(data) == 0 {
			continue // an empty file input
		}
		total += int64(len(data))
		if len(f.files) >= lim.MaxFiles || total > lim.MaxTotalFiles {
			return tooLarge{fmt.Sprintf("at most %d files of %d bytes in all", lim.MaxFiles, lim.MaxTotalFiles)}
		}
		ct := p.Header.Get("Content-Type")
		if ct == "" || ct == "application/octet-stream" {
			ct = http.DetectContentType(data)
		}
		f.files = append(f.files, core.FormFile{Name: cleanFileName(p.FileName()), ContentType: ct, Data: data})
	}
}

// tooLarge is a submission over a size limit (413).
type tooLarge struct{ msg string }

func (e tooLarge) Error() string { return e.msg }

// cleanFileName keeps the base name of an uploaded file without control
// characters, cut to 200 characters (whole ones, not bytes); "file" when
// nothing is left.
func cleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = core.Clip(name, 200)
	if !utf8.ValidString(name) || name == "" {
		return "file"
	}
	return name
}

// parseJSON reads one JSON object: strings, numbers and booleans become
// values, arrays several values, nested objects their JSON text.
func parseJSON(f *form, body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return badBody("the body must be a JSON object")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return badBody("the body is not valid JSON: %v", err)
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return badBody("the body is not valid JSON: %v", err)
		}
		vals, err := jsonValues(raw)
		if err != nil {
			return badBody("field %q: %v", key, err)
		}
		for _, v := range vals {
			f.add(key, v)
		}
	}
	if _, err := dec.Token(); err != nil {
		return badBody("the body is not valid JSON: %v", err)
	}
	if dec.More() {
		return badBody("data after the JSON object")
	}
	return nil
}

func jsonValues(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return []string{s}, err
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		var out []string
		for _, it := range items {
			vs, err := jsonValues(it)
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		}
		return out, nil
	case 'n':
		return nil, nil
	case 't', 'f':
		b, err := strconv.ParseBool(string(raw))
		if err != nil {
			return nil, err
		}
		return []string{map[bool]string{true: "да", false: "нет"}[b]}, nil
	case '{':
		return []string{string(raw)}, nil
	default:
		return []string{string(raw)}, nil // a number, as written
	}
}
