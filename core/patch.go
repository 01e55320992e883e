package core

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Patch is a JSON merge patch (RFC 7396) of one record, split into its
// top-level members. A create is a patch applied to an empty record.
type Patch map[string]json.RawMessage

// DecodePatch parses a request body that must be one JSON object.
func DecodePatch(body []byte) (Patch, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, &Error{Code: EINVALID, Message: "the body must be a JSON object",
			Fields: []FieldError{{Field: "", Code: "invalid_json", Message: "expected a JSON object"}}}
	}
	var p Patch // json.Unmarshal also refuses data after the object
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, &Error{Code: EINVALID, Message: "the body is not valid JSON",
			Fields: []FieldError{{Field: "", Code: "invalid_json", Message: err.Error()}}}
	}
	return p, nil
}

// PatchOf builds a patch from Go values, for the records crmhub writes
// itself (a lead from a call, a product from 1C): each member is its
// value marshalled to JSON, as Set does.
func PatchOf(members map[string]any) Patch {
	p := make(Patch, len(members))
	for name, v := range members {
		p.Set(name, v)
	}
	return p
}

// Set sets member name of p (not nil) to v marshalled to JSON and returns
// p, so optional members read as steps after PatchOf. v is plain data —
// strings, numbers, bools, times, slices and maps of them, a type with its
// own MarshalJSON, or json.RawMessage as it is — so a value that does not
// encode is a programmer error and Set panics rather than store an empty
// member.
func (p Patch) Set(name string, v any) Patch {
	b, err := json.Marshal(v)
	if err != nil {
		panic("core: patch member " + name + ": " + err.Error())
	}
	p[name] = b
	return p
}

// Setter applies one patch member, named path, to a record. raw is never
// empty; "null" clears the field. It returns the field errors, if any.
type Setter[T any] func(rec *T, raw json.RawMessage, path string) []FieldError

func fail(path, code, msg string) []FieldError {
	return []FieldError{{Field: path, Code: code, Message: msg}}
}

// Schema lists the writable members of a record type and the read-only ones
// (which a patch may not set).
type Schema[T any] struct {
	setters  map[string]Setter[T]
	readOnly map[string]bool
}

// NewSchema returns an empty schema whose read-only members are named.
func NewSchema[T any](readOnly ...string) *Schema[T] {
	s := &Schema[T]{setters: map[string]Setter[T]{}, readOnly: map[string]bool{}}
	for _, n := range readOnly {
		s.readOnly[n] = true
	}
	return s
}

// Has reports whether name is a writable member.
func (s *Schema[T]) Has(name string) bool { _, ok := s.setters[name]; return ok }

// Knows reports whether name is a member, writable or read-only.
func (s *Schema[T]) Knows(name string) bool { return s.Has(name) || s.readOnly[name] }

// Field registers a writable member.
func (s *Schema[T]) Field(name string, set Setter[T]) *Schema[T] {
	s.setters[name] = set
	return s
}

// Apply applies every member of p to rec, in name order, and returns one
// error per unknown, read-only or invalid member. prefix is prepended to
// field names (for nested objects).
func (s *Schema[T]) Apply(rec *T, p Patch, prefix string) []FieldError {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []FieldError
	for _, n := range names {
		set, ok := s.setters[n]
		switch {
		case s.readOnly[n]:
			errs = append(errs, FieldError{Field: prefix + n, Code: "read_only", Message: "the field cannot be set"})
		case !ok:
			errs = append(errs, FieldError{Field: prefix + n, Code: "unknown_field", Message: "no such field"})
		default:
			errs = append(errs, set(rec, p[n], prefix+n)...)
		}
	}
	return errs
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func decodeString(raw json.RawMessage) (string, bool) {
	var s string
	if isNull(raw) {
		return "", true
	}
	return s, json.Unmarshal(raw, &s) == nil
}

// Text sets a plain text member of at most max characters.
func Text[T any](max int, multiline bool, field func(*T) *string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		s, ok := decodeString(raw)
		if !ok {
			return fail(path, "invalid_type", "must be a string")
		}
		clean, code := CleanText(s, max, multiline)
		switch code {
		case "too_long":
			return fail(path, code, "must be at most "+itoa(max)+" characters")
		case "":
			*field(rec) = clean
			return nil
		default:
			return []FieldError{TextFieldError(path, code)}
		}
	}
}

// Normalized sets a text member through a normalizing function (phone,
// e-mail, website); an empty string or null clears it.
func Normalized[T any](code, msg string, norm func(string) (string, bool), field func(*T) *string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		s, ok := decodeString(raw)
		if !ok {
			return fail(path, "invalid_type", "must be a string")
		}
		if strings.TrimSpace(s) == "" {
			*field(rec) = ""
			return nil
		}
		n, ok := norm(s)
		if !ok {
			return fail(path, code, msg)
		}
		*field(rec) = n
		return nil
	}
}

// Phone sets a phone number, stored in E.164.
func Phone[T any](field func(*T) *string) Setter[T] {
	return Normalized("invalid_phone", "must be a phone number, e.g. +7 912 345-67-89", NormalizePhone, field)
}

// Email sets an e-mail address, stored lower-cased.
func Email[T any](field func(*T) *string) Setter[T] {
	return Normalized("invalid_email", "must be an e-mail address", NormalizeEmail, field)
}

// Website sets a web address.
func Website[T any](field func(*T) *string) Setter[T] {
	return Normalized("invalid_url", "must be a web address such as example.ru", NormalizeWebsite, field)
}

// OneOf sets a picklist member to one of the picklist's codes.
func OneOf[T any](pl *Picklist, field func(*T) *string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		s, ok := decodeString(raw)
		if !ok {
			return fail(path, "invalid_type", "must be a string")
		}
		if s != "" && !pl.Has(s) {
			return fail(path, "invalid_choice", "must be one of: "+strings.Join(pl.Codes(), ", "))
		}
		*field(rec) = s
		return nil
	}
}

// ID sets a member holding a record id (a UUID string).
func ID[T any](field func(*T) *string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		s, ok := decodeString(raw)
		if !ok {
			return fail(path, "invalid_type", "must be a string")
		}
		if s == "" {
			*field(rec) = ""
			return nil
		}
		u, err := uuid.Parse(s)
		if err != nil {
			return fail(path, "invalid_id", "must be a UUID")
		}
		*field(rec) = u.String()
		return nil
	}
}

// Int sets an optional integer member within [min, max].
func Int[T any](min, max int64, field func(*T) **int64) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = nil
			return nil
		}
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return fail(path, "invalid_type", "must be an integer")
		}
		if n < min || n > max {
			return fail(path, "out_of_range", "must be between "+itoa(int(min))+" and "+itoa(int(max)))
		}
		*field(rec) = &n
		return nil
	}
}

// Amount sets an optional non-negative decimal amount given as a string
// ("1234.50") with at most 2 fraction digits and 15 integer digits.
func Amount[T any](field func(*T) **Money) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = nil
			return nil
		}
		d, errs := amountOf(raw, path)
		if errs == nil && len(d.Truncate(0).String()) > 15 {
			errs = fail(path, "out_of_range", "must be at most 999,999,999,999,999.99")
		}
		if errs != nil {
			return errs
		}
		*field(rec) = &Money{d}
		return nil
	}
}

// Object sets a nested object member through its own schema (a merge patch
// of the nested object; null clears it).
func Object[T, N any](sub *Schema[N], field func(*T) *N) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			var zero N
			*field(rec) = zero
			return nil
		}
		var p Patch
		if err := json.Unmarshal(raw, &p); err != nil || p == nil {
			return fail(path, "invalid_type", "must be an object")
		}
		return sub.Apply(field(rec), p, path+".")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Requisite sets a digits-only requisite (ИНН, КПП, БИК, account numbers),
// ignoring spaces people paste in, checked by valid.
func Requisite[T any](code, msg string, valid func(string) bool, field func(*T) *string) Setter[T] {
	return Normalized(code, msg, func(s string) (string, bool) {
		s = strings.Join(strings.Fields(s), "")
		return s, valid(s)
	}, field)
}

// Bool sets a boolean member; null means false.
func Bool[T any](field func(*T) *bool) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = false
			return nil
		}
		if err := json.Unmarshal(raw, field(rec)); err != nil {
			return fail(path, "invalid_type", "must be true or false")
		}
		return nil
	}
}

// Link sets an optional link to another record (its UUID); null or ""
// removes it.
func Link[T any](field func(*T) **string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		s, ok := decodeString(raw)
		if !ok {
			return fail(path, "invalid_type", "must be a string or null")
		}
		if s == "" {
			*field(rec) = nil
			return nil
		}
		u, err := uuid.Parse(s)
		if err != nil {
			return fail(path, "invalid_id", "must be a UUID")
		}
		id := u.String()
		*field(rec) = &id
		return nil
	}
}

// ExternalIDs sets a record's ids in other systems as a merge patch of a
// map: {"onec": "a1b2…"} adds or replaces, {"onec": null} removes.
func ExternalIDs[T any](field func(*T) *map[string]string) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		m := field(rec)
		if isNull(raw) {
			*m = map[string]string{}
			return nil
		}
		var p map[string]*string
		if err := json.Unmarshal(raw, &p); err != nil || p == nil {
			return fail(path, "invalid_type", "must be an object of system name to id")
		}
		next := make(map[string]string, len(*m)+len(p))
		for k, v := range *m {
			next[k] = v
		}
		for k, v := range p {
			if !validSystem(k) {
				return fail(path+"."+k, "invalid_key", "system names are 1 to 50 of a-z, 0-9, _ . : -")
			}
			if v == nil {
				delete(next, k)
				continue
			}
			id, code := CleanText(*v, 200, false)
			if code != "" || id == "" {
				return fail(path+"."+k, "invalid", "must be a non-empty id of at most 200 characters")
			}
			next[k] = id
		}
		if len(next) > 20 {
			return fail(path, "too_many", "at most 20 external ids")
		}
		*m = next
		return nil
	}
}

func validSystem(k string) bool {
	if k == "" || len(k) > 50 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("_.:-", c)) {
			return false
		}
	}
	return true
}
