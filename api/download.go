package api

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// contentDisposition is an attachment's Content-Disposition in RFC 6266
// form: filename*=UTF-8”… (RFC 8187 percent-encoding) for every client
// that reads it, after a plain filename="…" with the characters beyond
// printable ASCII, quotes and backslashes as "_" for those that do not.
func contentDisposition(name string) string {
	var plain, ext strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%':
			plain.WriteByte('_')
		default:
			plain.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			ext.WriteByte(b)
		} else {
			ext.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(b)|0x100, 16)[1:]))
		}
	}
	return `attachment; filename="` + plain.String() + `"; filename*=UTF-8''` + ext.String()
}

// isAttrChar is RFC 8187's attr-char: what a filename* value keeps as it is.
func isAttrChar(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}

// byteRange reads a Range header for a file of size bytes: the one range
// it asks for (from, to inclusive) and ranged; not ranged when there is
// none, it is not in bytes or asks for several (the whole file is sent
// then, as RFC 9110 allows); not ok when it is beyond the file (416).
func byteRange(h string, size int64) (from, to int64, ranged, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, true
	}
	if first == "" { // the last n bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false, true
		}
		if n == 0 || size == 0 {
			return 0, 0, false, false
		}
		return max(size-n, 0), size - 1, true, true
	}
	from, err := strconv.ParseInt(first, 10, 64)
	if err != nil || from < 0 {
		return 0, 0, false, true
	}
	to = size - 1
	if last != "" {
		if to, err = strconv.ParseInt(last, 10, 64); err != nil || to < from {
			return 0, 0, false, true
		}
	}
	if from >= size {
		return 0, 0, false, false
	}
	return from, min(to, size-1), true, true
}

// boolQuery reads an optional true/false query parameter.
func boolQuery(c *fiber.Ctx, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, core.Invalid([]core.FieldError{{Field: name, Code: "invalid_type", Message: "must be true or false"}})
	}
	return b, nil
}
