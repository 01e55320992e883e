package core

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar date without time or zone, "2026-11-27" in JSON and a
// date column in the database.
type Date struct{ time.Time }

// NewDate returns the date of t in its location.
func NewDate(t time.Time) Date {
	y, m, d := t.Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	return Date{t}, err
}

// String renders the date as YYYY-MM-DD.
func (d Date) String() string { return d.Format(time.DateOnly) }

// MarshalJSON renders the date as "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// Scan reads a date column.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = NewDate(v)
	case nil:
		*d = Date{}
	default:
		return fmt.Errorf("cannot scan %T into a date", src)
	}
	return nil
}

// Value writes a date column (NULL for the zero date).
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.Time, nil
}

// DateField sets a date member from "YYYY-MM-DD"; null clears it.
func DateField[T any](field func(*T) *Date) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		s, ok := decodeString(raw)
		if !ok {
			return fail(path, "invalid_type", "must be a date string YYYY-MM-DD")
		}
		if s == "" {
			*field(rec) = Date{}
			return nil
		}
		d, err := ParseDate(s)
		if err != nil || d.Year() < 1900 || d.Year() > 2200 {
			return fail(path, "invalid_date", "must be a date YYYY-MM-DD between 1900 and 2200")
		}
		*field(rec) = d
		return nil
	}
}
