package core

// SQLInputError is the EINVALID of a database error the input caused
// rather than the hub, by its SQLSTATE: 22003 (numeric_value_out_of_range:
// an amount beyond its column), 22021 and 22P05 (a NUL or invalid UTF-8 in
// text or JSON). Any other state is nil. The checks in core refuse such
// values first; this keeps one they miss a 422, never a 500.
func SQLInputError(state string) error {
	switch state {
	case "22003":
		return Invalid([]FieldError{{Field: "", Code: "out_of_range",
			Message: "a number is beyond what the hub stores (amounts up to " + FormatLimit(MaxTotal) + ")"}})
	case "22021", "22P05":
		return Invalid([]FieldError{TextFieldError("", "control_character")})
	}
	return nil
}
