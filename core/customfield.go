package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// EntityCustomField is the kind of a custom field's definition.
const EntityCustomField = "custom_field"

// CustomFieldEntities are the kinds whose records carry custom fields.
func CustomFieldEntities() []string {
	return []string{EntityLead, EntityContact, EntityAccount, EntityDeal, EntityActivity, EntityProduct, EntityService,
		EntityQuote, EntitySalesOrder, EntityInvoice, EntityAct, EntityRealization, EntityPayment}
}

// FieldType is what a custom field holds.
type FieldType string

// The custom field types.
const (
	FieldText          FieldType = "text"           // one line, max_length characters
	FieldTextarea      FieldType = "textarea"       // several lines
	FieldInteger       FieldType = "integer"        // a whole number (JSON number)
	FieldDecimal       FieldType = "decimal"        // a decimal with at most scale fraction digits (JSON string)
	FieldMoney         FieldType = "money"          // an amount with two fraction digits (JSON string)
	FieldDate          FieldType = "date"           // YYYY-MM-DD
	FieldDateTime      FieldType = "datetime"       // RFC 3339, kept in UTC to the second
	FieldBoolean       FieldType = "boolean"        // true or false
	FieldPicklist      FieldType = "picklist"       // one option's code
	FieldMultiPicklist FieldType = "multi_picklist" // option codes, each once
	FieldPhone         FieldType = "phone"          // normalized to E.164 like built-in phones
	FieldEmail         FieldType = "email"          // lower-cased
	FieldURL           FieldType = "url"            // a web address
	FieldLink          FieldType = "link"           // the id of a record of link_entity
)

// FieldTypes lists the custom field types.
func FieldTypes() []FieldType {
	return []FieldType{FieldText, FieldTextarea, FieldInteger, FieldDecimal, FieldMoney, FieldDate, FieldDateTime,
		FieldBoolean, FieldPicklist, FieldMultiPicklist, FieldPhone, FieldEmail, FieldURL, FieldLink}
}

// Limits of custom fields.
const (
	MaxCustomFields    = 500       // per entity
	MaxCustomText      = 65536     // characters of a text or textarea value
	MaxCustomOptions   = 500       // options of a picklist
	MaxMultiValues     = 100       // codes in one multi-picklist value
	maxCustomScale     = 6         // fraction digits of a decimal
	maxSafeInteger     = 1<<53 - 1 // the largest integer every JSON reader keeps exact
	defaultTextLength  = 255
	maxIndexedText     = 1000
	maxCustomKeyLength = 40 // the index names built from it stay within PostgreSQL's 63 bytes
)

// customTimeLayout is how a datetime value is stored: in UTC, to the
// second, one width for all, so that stored values compare as text in
// time order (as dates YYYY-MM-DD do).
const customTimeLayout = "2006-01-02T15:04:05Z"

// Labels are a name in Russian and English.
type Labels struct {
	RU string `json:"ru"`
	EN string `json:"en"`
}

// FieldOption is one choice of a picklist. A retired option stays on the
// records that hold it but cannot be chosen again.
type FieldOption struct {
	Code    string `json:"code"`
	Label   Labels `json:"label"`
	Retired bool   `json:"retired"`
}

// CustomField is an admin-defined field of an entity; its values live in
// the record's custom object under Key.
type CustomField struct {
	ID          string          `json:"id"`
	Entity      string          `json:"entity"`
	Key         string          `json:"key"`
	Label       Labels          `json:"label"`
	Type        FieldType       `json:"type"`
	MaxLength   int             `json:"max_length,omitempty"`
	Scale       int             `json:"scale,omitempty"`
	Options     []FieldOption   `json:"options,omitempty"`
	LinkEntity  string          `json:"link_entity,omitempty"`
	Required    bool            `json:"required"`
	Default     json.RawMessage `json:"default,omitempty"`
	Unique      bool            `json:"unique"`
	Filterable  bool            `json:"filterable"`
	Sortable    bool            `json:"sortable"`
	Searchable  bool            `json:"searchable"`
	Description string          `json:"description"`
	Position    int             `json:"position"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Version     int64           `json:"version"`
}

var (
	customKeyRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	optionCodeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_\-]*$`)
)

// CustomKeyValid says whether key has the form of a custom field's key.
func CustomKeyValid(key string) bool {
	return len(key) <= maxCustomKeyLength && customKeyRE.MatchString(key)
}

// CustomFieldSchema returns the writable members of a definition. The key
// and the type are set on creation only (type changes convert stored
// values and are their own operation).
func CustomFieldSchema() *Schema[CustomField] {
	return NewSchema[CustomField]("id", "entity", "created_at", "updated_at", "version").
		Field("key", Text(maxCustomKeyLength, false, func(f *CustomField) *string { return &f.Key })).
		Field("label", setLabels).
		Field("type", func(f *CustomField, raw json.RawMessage, path string) []FieldError {
			s, ok := decodeString(raw)
			if !ok {
				return fail(path, "invalid_type", "must be a string")
			}
			f.Type = FieldType(s)
			return nil
		}).
		Field("max_length", setInt(func(f *CustomField) *int { return &f.MaxLength })).
		Field("scale", setInt(func(f *CustomField) *int { return &f.Scale })).
		Field("options", func(f *CustomField, raw json.RawMessage, path string) []FieldError {
			var opts []FieldOption
			if err := json.Unmarshal(raw, &opts); err != nil {
				return fail(path, "invalid_type", "must be an array of {code, label: {ru, en}, retired}")
			}
			f.Options = opts
			return nil
		}).
		Field("link_entity", Text(50, false, func(f *CustomField) *string { return &f.LinkEntity })).
		Field("required", Bool(func(f *CustomField) *bool { return &f.Required })).
		Field("default", func(f *CustomField, raw json.RawMessage, path string) []FieldError {
			if isNull(raw) {
				f.Default = nil
			} else {
				f.Default = slices.Clone(raw)
			}
			return nil
		}).
		Field("unique", Bool(func(f *CustomField) *bool { return &f.Unique })).
		Field("filterable", Bool(func(f *CustomField) *bool { return &f.Filterable })).
		Field("sortable", Bool(func(f *CustomField) *bool { return &f.Sortable })).
		Field("searchable", Bool(func(f *CustomField) *bool { return &f.Searchable })).
		Field("description", Text(2000, true, func(f *CustomField) *string { return &f.Description })).
		Field("position", setInt(func(f *CustomField) *int { return &f.Position }))
}

func setLabels(f *CustomField, raw json.RawMessage, path string) []FieldError {
	var l Labels
	if err := json.Unmarshal(raw, &l); err != nil {
		return fail(path, "invalid_type", "must be an object {ru, en}")
	}
	f.Label = l
	return nil
}

func setInt(field func(*CustomField) *int) Setter[CustomField] {
	return func(f *CustomField, raw json.RawMessage, path string) []FieldError {
		var n int
		if isNull(raw) {
			*field(f) = 0
			return nil
		}
		if err := json.Unmarshal(raw, &n); err != nil || n < 0 || n > math.MaxInt32 {
			return fail(path, "invalid_type", "must be a whole number, 0 or more")
		}
		*field(f) = n
		return nil
	}
}

// Validate checks a definition of entity. builtin says whether a name is a
// built-in field of the entity (a key may not take it); links are the
// kinds a link field may point at.
func (f *CustomField) Validate(builtin func(string) bool, links []string) []FieldError {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	switch {
	case !customKeyRE.MatchString(f.Key):
		bad("key", "invalid_key", "must be lowercase latin letters, digits and _, starting with a letter")
	case builtin(f.Key) || f.Key == "custom":
		bad("key", "builtin_field", "is a built-in field of "+f.Entity)
	}
	f.Label.RU, f.Label.EN = strings.TrimSpace(f.Label.RU), strings.TrimSpace(f.Label.EN)
	if f.Label.RU == "" {
		bad("label.ru", "required", "the Russian label is required")
	}
	for _, l := range []struct{ path, s string }{{"label.ru", f.Label.RU}, {"label.en", f.Label.EN}} {
		if _, code := CleanText(l.s, 200, false); code != "" {
			bad(l.path, code, "must be printable text of at most 200 characters")
		}
	}
	if !slices.Contains(FieldTypes(), f.Type) {
		bad("type", "invalid_choice", "must be one of: "+joinTypes())
		return errs
	}
	errs = append(errs, f.validateShape(links)...)
	if f.Unique && !f.Type.uniqueable() {
		bad("unique", "not_supported", "a "+string(f.Type)+" field cannot be unique")
	}
	if f.Searchable && f.Type != FieldText && f.Type != FieldTextarea && f.Type != FieldEmail && f.Type != FieldPhone && f.Type != FieldURL {
		bad("searchable", "not_supported", "only text, e-mail, phone and url fields are searched")
	}
	if f.Sortable && (f.Type == FieldMultiPicklist || f.Type == FieldTextarea) {
		bad("sortable", "not_supported", "a "+string(f.Type)+" field cannot be sorted by")
	}
	// An index entry holds at most ~2.7 KB: a text indexed whole stays
	// within it at two bytes a Cyrillic letter.
	if (f.Unique || f.Sortable) && f.Type == FieldText && f.MaxLength > maxIndexedText {
		bad("max_length", "too_large", fmt.Sprintf("a unique or sortable text holds at most %d characters", maxIndexedText))
	}
	if len(f.Default) > 0 {
		if f.Type == FieldLink {
			bad("default", "not_supported", "a link field has no default")
		} else if _, ferrs := f.value(f.Default, nil, "default"); len(ferrs) > 0 {
			errs = append(errs, ferrs...)
		}
	}
	return errs
}

// validateShape checks the members that depend on the type.
func (f *CustomField) validateShape(links []string) []FieldError {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	switch f.Type {
	case FieldText, FieldTextarea:
		if f.MaxLength == 0 {
			f.MaxLength = defaultTextLength
			if f.Type == FieldTextarea {
				f.MaxLength = MaxCustomText
			}
		}
		if f.MaxLength > MaxCustomText {
			bad("max_length", "too_large", fmt.Sprintf("must be at most %d", MaxCustomText))
		}
	case FieldDecimal:
		if f.Scale > maxCustomScale {
			bad("scale", "too_large", fmt.Sprintf("must be at most %d", maxCustomScale))
		}
	case FieldPicklist, FieldMultiPicklist:
		if len(f.Options) == 0 || len(f.Options) > MaxCustomOptions {
			bad("options", "invalid_length", fmt.Sprintf("must list 1 to %d options", MaxCustomOptions))
		}
		seen := map[string]bool{}
		for i, o := range f.Options {
			p := fmt.Sprintf("options[%d].", i)
			switch {
			case len(o.Code) > 100 || !optionCodeRE.MatchString(o.Code):
				bad(p+"code", "invalid_code", "must be lowercase latin letters, digits, _ and -")
			case seen[o.Code]:
				bad(p+"code", "duplicate", "another option has this code")
			}
			seen[o.Code] = true
			if strings.TrimSpace(o.Label.RU) == "" {
				bad(p+"label.ru", "required", "the Russian label is required")
			}
		}
	case FieldLink:
		if !slices.Contains(links, f.LinkEntity) {
			bad("link_entity", "invalid_choice", "must be one of: "+strings.Join(links, ", "))
		}
	}
	if f.Type != FieldText && f.Type != FieldTextarea && f.MaxLength != 0 {
		bad("max_length", "not_supported", "only text fields have a maximum length")
	}
	if f.Type != FieldDecimal && f.Scale != 0 {
		bad("scale", "not_supported", "only decimal fields have a scale")
	}
	if f.Type != FieldPicklist && f.Type != FieldMultiPicklist && len(f.Options) > 0 {
		bad("options", "not_supported", "only picklists have options")
	}
	if f.Type != FieldLink && f.LinkEntity != "" {
		bad("link_entity", "not_supported", "only link fields point at records")
	}
	return errs
}

// CheckUpdate refuses what an edit of a definition may not do: change the
// key, point a link at another kind, or drop an option of a picklist that
// stays one (retire it instead: records keep it). A change of the type,
// the scale or a shorter text is allowed when every stored value converts
// (Reshapes, Convert): the store checks them first.
func (f *CustomField) CheckUpdate(old *CustomField) []FieldError {
	var errs []FieldError
	if f.Key != old.Key {
		errs = append(errs, FieldError{Field: "key", Code: "read_only", Message: "a field's key cannot change"})
	}
	if f.Type == FieldLink && old.Type == FieldLink && f.LinkEntity != old.LinkEntity {
		errs = append(errs, FieldError{Field: "link_entity", Code: "read_only", Message: "a link's entity cannot change"})
	}
	if f.Unique && !f.Type.uniqueable() {
		errs = append(errs, FieldError{Field: "type", Code: "not_supported", Message: "a unique field keeps a type that can be unique"})
	}
	if !old.Type.picked() || !f.Type.picked() {
		return errs
	}
	for _, o := range old.Options {
		if !slices.ContainsFunc(f.Options, func(n FieldOption) bool { return n.Code == o.Code }) {
			errs = append(errs, FieldError{Field: "options", Code: "option_removed",
				Message: "option " + o.Code + " cannot be removed: set retired to true, records keep it"})
		}
	}
	if f.Unique != old.Unique {
		errs = append(errs, FieldError{Field: "unique", Code: "read_only", Message: "uniqueness is set when the field is created"})
	}
	return errs
}

func (t FieldType) picked() bool { return t == FieldPicklist || t == FieldMultiPicklist }

// Reshapes says whether the edit from old changes how values are stored:
// another type or scale, or a text that holds fewer characters; then
// every stored value must convert.
func (f *CustomField) Reshapes(old *CustomField) bool {
	return f.Type != old.Type || f.Scale != old.Scale || f.MaxLength < old.MaxLength
}

// Convert returns a stored value of another definition of the field as
// this one stores it, read from its text as FromText reads text (so a
// text "12" becomes the integer 12, a date its midnight in Moscow, codes
// of a multi-picklist a picklist's one), or the errors naming custom.key.
func (f *CustomField) Convert(v any) (any, []FieldError) {
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case []any:
		parts := make([]string, 0, len(x))
		for _, c := range x {
			parts = append(parts, fmt.Sprint(c))
		}
		text = strings.Join(parts, ", ")
	default:
		b, _ := json.Marshal(x)
		text = string(b)
	}
	raw, errs := f.FromText(text)
	if len(errs) > 0 {
		return nil, errs
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fail("custom."+f.Key, "invalid_type", "cannot be stored")
	}
	return out, nil
}

func (t FieldType) uniqueable() bool {
	switch t {
	case FieldText, FieldInteger, FieldDecimal, FieldPhone, FieldEmail, FieldURL:
		return true
	}
	return false
}

func joinTypes() string {
	var s []string
	for _, t := range FieldTypes() {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

// CustomValues are a record's custom field values: key → value as JSON
// holds it (strings for decimals, money, dates and codes; numbers for
// integers; booleans; arrays of codes).
type CustomValues map[string]any

// ApplyCustom applies raw, a JSON merge patch of custom values, to cur
// under defs and returns the new values and one error per bad member
// (named custom.key). On create (creating), missing fields take their
// defaults and required ones must be given. Links are checked against the
// database by the store.
func ApplyCustom(defs []CustomField, cur CustomValues, raw json.RawMessage, creating bool) (CustomValues, []FieldError) {
	out := CustomValues{}
	for k, v := range cur {
		out[k] = v
	}
	var patch map[string]json.RawMessage
	if len(raw) > 0 {
		if isNull(raw) || json.Unmarshal(raw, &patch) != nil {
			return out, fail("custom", "invalid_type", "must be an object of custom field keys to values")
		}
	}
	byKey := make(map[string]*CustomField, len(defs))
	for i := range defs {
		byKey[defs[i].Key] = &defs[i]
	}
	keys := make([]string, 0, len(patch))
	for k := range patch {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []FieldError
	for _, k := range keys {
		def, ok := byKey[k]
		path := "custom." + k
		if !ok {
			errs = append(errs, FieldError{Field: path, Code: "unknown_field", Message: "no such custom field"})
			continue
		}
		if isNull(patch[k]) {
			if def.Required {
				errs = append(errs, FieldError{Field: path, Code: "required", Message: "the field is required"})
			}
			delete(out, k)
			continue
		}
		v, ferrs := def.value(patch[k], cur[k], path)
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		out[k] = v
	}
	if creating {
		for i := range defs {
			d := &defs[i]
			if _, set := out[d.Key]; set {
				continue
			}
			if len(d.Default) > 0 {
				if v, ferrs := d.value(d.Default, nil, "custom."+d.Key); len(ferrs) == 0 {
					out[d.Key] = v
					continue
				}
			}
			if d.Required {
				errs = append(errs, FieldError{Field: "custom." + d.Key, Code: "required", Message: "the field is required"})
			}
		}
	}
	return out, errs
}

// value checks one value of the field and returns it as stored; prev is
// the value the record holds (a retired option may stay).
func (f *CustomField) value(raw json.RawMessage, prev any, path string) (any, []FieldError) {
	str := func() (string, []FieldError) {
		s, ok := decodeString(raw)
		if !ok || isNull(raw) {
			return "", fail(path, "invalid_type", "must be a string")
		}
		return s, nil
	}
	switch f.Type {
	case FieldText, FieldTextarea:
		s, errs := str()
		if errs != nil {
			return nil, errs
		}
		clean, code := CleanText(s, f.MaxLength, f.Type == FieldTextarea)
		switch code {
		case "":
			return clean, nil
		case "too_long":
			return nil, fail(path, code, fmt.Sprintf("must be at most %d characters", f.MaxLength))
		}
		return nil, []FieldError{TextFieldError(path, code)}
	case FieldInteger:
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&n) != nil {
			return nil, fail(path, "invalid_type", "must be a whole number")
		}
		i, err := n.Int64()
		if err != nil || i > maxSafeInteger || i < -maxSafeInteger {
			return nil, fail(path, "invalid_type", fmt.Sprintf("must be a whole number within ±%d", int64(maxSafeInteger)))
		}
		return i, nil
	case FieldDecimal, FieldMoney:
		return f.decimal(raw, path)
	case FieldDate:
		s, errs := str()
		if errs != nil {
			return nil, errs
		}
		d, err := ParseDate(s)
		if err != nil {
			return nil, fail(path, "invalid_date", "must be a date YYYY-MM-DD")
		}
		return d.Format(time.DateOnly), nil
	case FieldDateTime:
		s, errs := str()
		if errs != nil {
			return nil, errs
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fail(path, "invalid_datetime", "must be a date and time in RFC 3339, e.g. 2026-12-03T10:00:00+03:00")
		}
		return t.UTC().Format(customTimeLayout), nil
	case FieldBoolean:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return nil, fail(path, "invalid_type", "must be true or false")
		}
		return b, nil
	case FieldPicklist:
		s, errs := str()
		if errs != nil {
			return nil, errs
		}
		if !f.choosable(s, prev == s) {
			return nil, fail(path, "invalid_choice", "must be one of: "+strings.Join(f.codes(), ", "))
		}
		return s, nil
	case FieldMultiPicklist:
		return f.multi(raw, prev, path)
	case FieldPhone, FieldEmail, FieldURL:
		s, errs := str()
		if errs != nil {
			return nil, errs
		}
		norm, code, msg := NormalizePhone, "invalid_phone", "must be a phone number, e.g. +7 912 345-67-89"
		if f.Type == FieldEmail {
			norm, code, msg = NormalizeEmail, "invalid_email", "must be an e-mail address"
		} else if f.Type == FieldURL {
			norm, code, msg = NormalizeWebsite, "invalid_url", "must be a web address such as example.ru"
		}
		n, ok := norm(s)
		if !ok {
			return nil, fail(path, code, msg)
		}
		return n, nil
	case FieldLink:
		s, errs := str()
		if errs != nil {
			return nil, errs
		}
		if _, err := uuid.Parse(s); err != nil {
			return nil, fail(path, "invalid_id", "must be the id of a "+f.LinkEntity)
		}
		return strings.ToLower(s), nil
	}
	return nil, fail(path, "invalid_type", "unknown field type")
}

func (f *CustomField) decimal(raw json.RawMessage, path string) (any, []FieldError) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return nil, fail(path, "invalid_type", "must be a decimal number, e.g. \"1234.50\"")
		}
		s = n.String()
	}
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return nil, fail(path, "invalid_type", "must be a decimal number, e.g. \"1234.50\"")
	}
	scale := int32(f.Scale)
	if f.Type == FieldMoney {
		scale = 2
	}
	if -d.Exponent() > scale {
		return nil, fail(path, "too_precise", fmt.Sprintf("must have at most %d fraction digits", scale))
	}
	if d.Abs().GreaterThan(decimal.New(1, 15)) {
		return nil, fail(path, "too_large", "must be at most 1,000,000,000,000,000 in absolute value")
	}
	return d.StringFixed(scale), nil
}

func (f *CustomField) multi(raw json.RawMessage, prev any, path string) (any, []FieldError) {
	var codes []string
	if json.Unmarshal(raw, &codes) != nil {
		return nil, fail(path, "invalid_type", "must be an array of option codes")
	}
	if len(codes) > MaxMultiValues {
		return nil, fail(path, "too_many", fmt.Sprintf("must hold at most %d codes", MaxMultiValues))
	}
	held := map[string]bool{}
	if p, ok := prev.([]any); ok {
		for _, c := range p {
			if s, ok := c.(string); ok {
				held[s] = true
			}
		}
	}
	out := make([]any, 0, len(codes))
	seen := map[string]bool{}
	for _, c := range codes {
		if seen[c] {
			continue
		}
		if !f.choosable(c, held[c]) {
			return nil, fail(path, "invalid_choice", "must be of: "+strings.Join(f.codes(), ", "))
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, nil
}

// choosable says whether code may be stored: a live option, or a retired
// one the record holds already.
func (f *CustomField) choosable(code string, held bool) bool {
	for _, o := range f.Options {
		if o.Code == code {
			return !o.Retired || held
		}
	}
	return false
}

func (f *CustomField) codes() []string {
	var out []string
	for _, o := range f.Options {
		if !o.Retired {
			out = append(out, o.Code)
		}
	}
	return out
}

// FilterValue turns a query parameter's text into the stored form of a
// value of the field, for an equality filter; a multi-picklist matches a
// record holding the code.
func (f *CustomField) FilterValue(s string) (any, []FieldError) {
	path := "custom." + f.Key
	if f.Type == FieldMultiPicklist {
		if !f.choosable(s, true) {
			return nil, fail(path, "invalid_choice", "must be one of: "+strings.Join(f.codes(), ", "))
		}
		return []any{s}, nil
	}
	var raw json.RawMessage
	switch f.Type {
	case FieldInteger, FieldBoolean:
		raw = json.RawMessage(s)
	default:
		b, _ := json.Marshal(s)
		raw = b
	}
	v, errs := f.value(raw, s, path)
	return v, errs
}

// Ranged says whether the field's values have an order a list may filter
// by range (from, to).
func (t FieldType) Ranged() bool {
	switch t {
	case FieldInteger, FieldDecimal, FieldMoney, FieldDate, FieldDateTime:
		return true
	}
	return false
}

// Numeric says whether the field holds numbers (compared as numbers, not
// as text).
func (t FieldType) Numeric() bool {
	return t == FieldInteger || t == FieldDecimal || t == FieldMoney
}

// CustomFilter is a list's condition on one custom field, in the text a
// query string gives: the records holding Value (for a picklist, any of
// the codes it lists separated by commas), with a value within From and
// To (each inclusive, "" for open), or both.
type CustomFilter struct {
	Key      string
	Value    string
	From, To string
}

// FilterValues splits a filter's value into the values it matches any
// of: a picklist's codes, else the value itself.
func (f *CustomField) FilterValues(s string) []string {
	if f.Type != FieldPicklist && f.Type != FieldMultiPicklist {
		return []string{s}
	}
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// FilterBound turns a range bound's text into the stored form it is
// compared with: a number's canonical text, a date, or a datetime (a
// date alone is its midnight UTC; as the upper bound, the day's last
// second).
func (f *CustomField) FilterBound(s string, upper bool) (string, []FieldError) {
	path := "custom." + f.Key
	switch {
	case f.Type.Numeric():
		d, err := decimal.NewFromString(strings.TrimSpace(s))
		if err != nil {
			return "", fail(path, "invalid_type", "must be a number")
		}
		return d.String(), nil
	case f.Type == FieldDate:
		d, err := ParseDate(s)
		if err != nil {
			return "", fail(path, "invalid_date", "must be a date YYYY-MM-DD")
		}
		return d.Format(time.DateOnly), nil
	case f.Type == FieldDateTime:
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			if upper {
				d = d.Add(24*time.Hour - time.Second)
			}
			return d.Format(customTimeLayout), nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return "", fail(path, "invalid_datetime", "must be an RFC 3339 time or a date YYYY-MM-DD")
		}
		return t.UTC().Format(customTimeLayout), nil
	}
	return "", fail(path, "not_ranged", "a "+string(f.Type)+" field has no range: filter by its value")
}

// CustomFieldService keeps the custom field definitions.
type CustomFieldService interface {
	// CustomFields returns entity's live definitions in position order.
	CustomFields(ctx context.Context, entity string) ([]CustomField, error)
	// AllCustomFields returns every kind's live definitions, by kind and
	// position.
	AllCustomFields(ctx context.Context) ([]CustomField, error)
	// CustomField returns one live definition.
	CustomField(ctx context.Context, entity, key string) (*CustomField, error)
	// CreateCustomField adds a field to entity.
	CreateCustomField(ctx context.Context, entity string, p Patch) (*CustomField, error)
	// UpdateCustomField edits a definition (ifVersion 0: any version).
	UpdateCustomField(ctx context.Context, entity, key string, ifVersion int64, p Patch) (*CustomField, error)
	// DeleteCustomField removes a field: its values leave the records and
	// are kept 30 days, until RestoreCustomField puts them back or the
	// janitor purges them.
	DeleteCustomField(ctx context.Context, entity, key string) (*CustomField, error)
	// RestoreCustomField brings a field deleted less than 30 days ago back
	// with its values.
	RestoreCustomField(ctx context.Context, entity, key string) (*CustomField, error)
}
