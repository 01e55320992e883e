package core

import (
	"bytes"
	"encoding/json"
	"maps"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// DefaultPhoneRegion is the region assumed for numbers written without a
// country code: crmhub's users sell in Russia.
const DefaultPhoneRegion = "RU"

// NormalizePhone parses a phone number written in any common format
// ("8 (912) 345-67-89", "+7 912 345 67 89", "79123456789") and returns it
// in E.164 ("+79123456789"). Numbers without a country code are read in
// DefaultPhoneRegion. It fails on text that is not a possible number.
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return "", false
	}
	if e164, ok := russianFastPath(s); ok {
		return e164, true
	}
	if extension(s) {
		return "", false
	}
	num, err := phonenumbers.Parse(s, DefaultPhoneRegion)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// russianFastPath handles the shapes nearly every number here comes in,
// without the phone library's regular expressions (a tenth of the API's CPU
// before it): +7 or 8 followed by ten digits, or ten bare digits, with
// spaces, dashes, dots and parentheses; a bare 7 and ten digits (as PBXs
// send numbers) when the ten begin as Russian numbers do (3, 4, 8, 9: the
// library strips the 7 of those, and refuses others, which are left to
// it). Every other input, extensions included, goes to the library. A
// test checks that both agree.
func russianFastPath(s string) (string, bool) {
	var digits [16]byte
	n := 0
	plus := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(digits) {
				return "", false
			}
			digits[n] = c
			n++
		case c == '+' && i == 0:
			plus = true
		case c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
		default:
			return "", false
		}
	}
	d := digits[:n]
	switch {
	case n == 11 && d[0] == '7' && plus,
		n == 11 && d[0] == '8' && !plus && !(d[1] == '1' && d[2] == '0'),        // 8 10 dials abroad
		n == 11 && d[0] == '7' && !plus && strings.IndexByte("3489", d[1]) >= 0: // how PBXs send numbers
		return "+7" + string(d[1:]), true
	case n == 10 && !plus && d[0] != '7' && d[0] != '8':
		return "+7" + string(d), true
	}
	return "", false
}

// extension reports whether s is five digits or fewer and nothing else (an
// extension, a short code): never a possible number, which the library
// takes its regular expressions to find out (a test checks every one).
func extension(s string) bool {
	if len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizeEmail trims and lower-cases an e-mail address and checks that it
// is a bare address (no display name) with a dotted domain.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > 254 {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if at < 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	return s, true
}

// NormalizeWebsite trims a website address and accepts a host name with an
// optional http(s) scheme and path ("example.ru", "https://example.ru/x").
func NormalizeWebsite(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	probe := s
	if !strings.Contains(probe, "://") {
		probe = "http://" + probe
	}
	u, err := url.Parse(probe)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " \t") {
		return "", false
	}
	return s, true
}

// CleanText trims surrounding white space and reports whether the result is
// valid UTF-8 of at most max characters without control characters other
// than tab, newline and carriage return (multiline when allowed).
func CleanText(s string, max int, multiline bool) (string, string) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", "invalid_utf8"
	}
	if utf8.RuneCountInString(s) > max {
		return "", "too_long"
	}
	if code := TextProblem(s, multiline); code != "" {
		return "", code
	}
	return s, ""
}

// TextProblem names what makes s unfit as text, as CleanText checks it
// (without trimming or a length): "invalid_utf8", "control_character"
// (a NUL or another control character but tab, and newline and carriage
// return when multiline), or "" when it is fine. PostgreSQL refuses NUL
// in text and \u0000 in jsonb, so nothing the hub stores or queries with
// may carry one.
func TextProblem(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "invalid_utf8"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && !(multiline && (c == '\n' || c == '\r')) {
			return "control_character"
		}
	}
	return ""
}

// JSONTextProblem finds the first string or member name of a JSON value
// that TextProblem refuses (strings may be multiline): its path below the
// value ("[2].value", ".name") and the code; "" and "" when there is none
// (or the JSON does not parse: its own check says so).
func JSONTextProblem(raw []byte) (string, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return "", ""
	}
	return textIn(v, "")
}

func textIn(v any, path string) (string, string) {
	switch x := v.(type) {
	case string:
		return path, TextProblem(x, true)
	case []any:
		for i, e := range x {
			if p, code := textIn(e, path+"["+strconv.Itoa(i)+"]"); code != "" {
				return p, code
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if code := TextProblem(k, false); code != "" {
				return path, code
			}
			if p, code := textIn(x[k], path+"."+k); code != "" {
				return p, code
			}
		}
	}
	return path, ""
}

// TextFieldError is the error of field whose text has the TextProblem
// code, as every text field, query parameter and report value gets it.
func TextFieldError(field, code string) FieldError {
	return FieldError{Field: field, Code: code, Message: "must be printable UTF-8 text"}
}

// IsLoopbackHost reports whether host names this machine (localhost or a
// loopback address): plain-text protocols with passwords are allowed only
// there.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
