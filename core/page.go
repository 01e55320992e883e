package core

import "strings"

// Page is one page of a list, with the cursor of the next page ("" at the end).
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// Sort is a list order: a field name and a direction.
type Sort struct {
	Field string
	Desc  bool
}

// ParseSort reads "field" or "-field" and checks the field is one of allowed.
// An empty string gives def.
func ParseSort(s string, def Sort, allowed ...string) (Sort, error) {
	if s == "" {
		return def, nil
	}
	out := Sort{Field: strings.TrimPrefix(s, "-"), Desc: strings.HasPrefix(s, "-")}
	if key, ok := strings.CutPrefix(out.Field, "custom."); ok && CustomKeyValid(key) {
		return out, nil // the store says whether the kind has such a sortable field
	}
	for _, a := range allowed {
		if a == out.Field {
			return out, nil
		}
	}
	return Sort{}, Invalid([]FieldError{{Field: "sort", Code: "invalid_choice",
		Message: "must be one of " + strings.Join(allowed, ", ") + ", optionally prefixed with -"}})
}

// String returns the sort in its query form.
func (s Sort) String() string {
	if s.Desc {
		return "-" + s.Field
	}
	return s.Field
}

// Page size limits.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)
