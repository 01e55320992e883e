package core

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OneCPropertyPrefix marks a 1C name that is a Свойство's (a good's
// ЗначенияСвойств, named through the classifier's Свойства) rather than a
// ЗначениеРеквизита's Наименование.
const OneCPropertyPrefix = "property:"

// OneCRequisite maps one value 1C sends about a good or a counterparty
// onto a custom field of the record it becomes, both ways.
type OneCRequisite struct {
	// Name is the ЗначениеРеквизита's Наименование, or the Свойство's
	// Наименование when Property; 1C's names match in any case.
	Name     string
	Property bool
	// Key is the custom field's key (the target custom.<key>).
	Key string
}

// OneCRequisiteKinds are the kinds a requisites map may target: goods
// become products, counterparties accounts.
func OneCRequisiteKinds() []string { return []string{EntityProduct, EntityAccount} }

// ParseOneCRequisites reads a kind's map of 1C names ("Материал", or
// "property:Цвет" for a Свойство) to targets ("custom.material"), in name
// order. A kind other than product or account, a blank name, a target
// that is not custom.<key> of a valid key, a Свойство of a counterparty
// (CommerceML gives them none) and a field or a name (in any case) mapped
// twice are errors whose message starts with the kind and the name.
func ParseOneCRequisites(kind string, m map[string]string) ([]OneCRequisite, error) {
	if !slices.Contains(OneCRequisiteKinds(), kind) {
		return nil, fmt.Errorf("%s: must be product or account (goods, counterparties)", kind)
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]OneCRequisite, 0, len(m))
	byKey, byName := map[string]string{}, map[string]string{}
	for _, n := range names {
		r, err := parseOneCRequisite(kind, n, m[n])
		if err != nil {
			return nil, err
		}
		if other, ok := byKey[r.Key]; ok {
			return nil, fmt.Errorf("%s.%q: custom.%s is already the target of %q", kind, n, r.Key, other)
		}
		fold := strings.ToLower(strings.TrimPrefix(n, OneCPropertyPrefix))
		if r.Property {
			fold = OneCPropertyPrefix + fold
		}
		if other, ok := byName[fold]; ok {
			return nil, fmt.Errorf("%s.%q: names the same 1C value as %q (names match in any case)", kind, n, other)
		}
		byKey[r.Key], byName[fold] = n, n
		out = append(out, r)
	}
	return out, nil
}

func parseOneCRequisite(kind, name, target string) (OneCRequisite, error) {
	r := OneCRequisite{Name: strings.TrimSpace(name)}
	if rest, ok := strings.CutPrefix(r.Name, OneCPropertyPrefix); ok {
		r.Name, r.Property = strings.TrimSpace(rest), true
	}
	switch {
	case r.Name == "":
		return r, fmt.Errorf("%s.%q: a 1C name must not be blank", kind, name)
	case r.Property && kind != EntityProduct:
		return r, fmt.Errorf("%s.%q: only goods have properties (Свойства): map a counterparty's ЗначениеРеквизита by its name", kind, name)
	}
	key, ok := strings.CutPrefix(strings.TrimSpace(target), "custom.")
	if !ok || !CustomKeyValid(key) {
		return r, fmt.Errorf("%s.%q: target %q must be custom.<key> of a %s custom field (lowercase latin letters, digits and _)",
			kind, name, target, kind)
	}
	r.Key = key
	return r, nil
}

// OneCCustom reads the mapped values of a good or a counterparty as a
// write's custom member (key → JSON): each through its field's FromText,
// as 1C writes text (1 234,50, 15.01.2027, да/нет, an option by code or
// label). value gives what 1C sent under a mapping's name, and whether it
// sent it; a value 1C did not send leaves the field as it is, a blank one
// clears it. A mapping whose key is not among defs (the live fields by
// key) is left out: the caller has said so once. The errors are the
// values the fields refuse, each named custom.key; the others still apply.
func OneCCustom(maps []OneCRequisite, defs map[string]*CustomField, value func(OneCRequisite) (string, bool)) (map[string]json.RawMessage, []FieldError) {
	out := map[string]json.RawMessage{}
	var errs []FieldError
	for _, m := range maps {
		def, live := defs[m.Key]
		if !live {
			continue
		}
		text, sent := value(m)
		if !sent {
			continue
		}
		raw, ferrs := def.FromText(text)
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		out[m.Key] = raw
	}
	return out, errs
}

// OneCText writes a stored custom value as 1C reads a ЗначениеРеквизита
// (CommerceML writes numbers with a decimal point and booleans as
// true/false): numbers as they are stored (1234.5), a date YYYY-MM-DD, a
// date and time in Moscow time YYYY-MM-DDThh:mm:ss, true or false, a
// picklist's option by its Russian label (several joined by ", "), any
// other value as its text. False for no value.
func OneCText(f *CustomField, v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= maxSafeInteger {
			return strconv.FormatInt(int64(x), 10), true
		}
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case json.Number:
		return x.String(), true
	case []any:
		labels := make([]string, 0, len(x))
		for _, c := range x {
			if s, ok := c.(string); ok {
				labels = append(labels, f.optionLabel(s))
			}
		}
		return strings.Join(labels, ", "), len(labels) > 0
	case []string:
		labels := make([]string, len(x))
		for i, c := range x {
			labels[i] = f.optionLabel(c)
		}
		return strings.Join(labels, ", "), len(labels) > 0
	case string:
		switch f.Type {
		case FieldPicklist:
			return f.optionLabel(x), x != ""
		case FieldDateTime:
			if t, err := time.Parse(time.RFC3339, x); err == nil {
				return t.In(moscowTime()).Format("2006-01-02T15:04:05"), true
			}
		}
		return x, x != ""
	}
	b, err := json.Marshal(v)
	return string(b), err == nil
}

// optionLabel is an option's Russian label, the code itself when the
// field has no such option.
func (f *CustomField) optionLabel(code string) string {
	for _, o := range f.Options {
		if o.Code == code && o.Label.RU != "" {
			return o.Label.RU
		}
	}
	return code
}
