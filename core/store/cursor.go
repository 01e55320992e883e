package store

import (
	"encoding/base64"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/crmhub/crmhub/core"
)

// cursor is the opaque position after the last item of a page.
type cursor struct {
	Sort  string `json:"s"`
	Value string `json:"v"`
	ID    string `json:"i"`
}

func encodeCursor(s core.Sort, value, id string) string {
	b, _ := json.Marshal(cursor{Sort: s.String(), Value: value, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, sort core.Sort) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, badCursor()
	}
	if _, err := uuid.Parse(c.ID); err != nil {
		return c, badCursor()
	}
	if c.Sort != sort.String() {
		return c, core.Invalid([]core.FieldError{{Field: "cursor", Code: "sort_mismatch",
			Message: "the cursor was made for sort " + c.Sort + "; keep the same sort while paging"}})
	}
	return c, nil
}

func badCursor() error {
	return core.Invalid([]core.FieldError{{Field: "cursor", Code: "invalid_cursor", Message: "is not a cursor this API returned"}})
}
