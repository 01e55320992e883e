package core

import (
	"errors"
	"fmt"
	"time"
)

// Error codes: the closed set every crmhub error maps to. The API turns each
// into one HTTP status; connectors turn them into their protocol's replies.
const (
	EINVALID      = "invalid"             // the input is wrong; Fields says where
	ENOTFOUND     = "not_found"           // the record does not exist (or was deleted)
	ECONFLICT     = "conflict"            // the write clashes with existing state
	EPRECONDITION = "precondition_failed" // an expected version did not match
	EUNAUTHORIZED = "unauthorized"        // no valid credentials
	EFORBIDDEN    = "forbidden"           // valid credentials without the right
	EUNAVAILABLE  = "unavailable"         // a service the request needs is not configured or not reachable
	EINTERNAL     = "internal"            // anything else; its text never reaches a client
)

// Error is a domain error with a code from the closed set, a message that is
// safe to show to a client, and, for EINVALID, the offending fields.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// RetryAfter, for EUNAVAILABLE, is when the request may succeed again
	// (an outage that passes, such as the database restarting); 0 when
	// retrying soon will not help (a service that is not configured).
	RetryAfter time.Duration
}

// FieldError names one invalid field: its JSON path, a machine code such as
// "required", "too_long", "invalid_phone" or "unknown_field", and a message.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Field, e.Fields[0].Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error listing the field errors, or nil when
// there are none.
func Invalid(fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "the request has invalid fields", Fields: fields}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the message of an
// *Error, or a generic text for an internal error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorRetryAfter returns when a request that failed with err may be
// retried (the RetryAfter of its *Error), 0 when that is not known.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ErrorFields returns the field errors carried by err, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
