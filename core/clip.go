package core

// Clip returns the longest prefix of s that has at most n characters
// (runes), so it never splits a UTF-8 sequence. Length limits on text
// for people (names, subjects, descriptions) count characters, as the
// validators do, so a value clipped to a field's limit passes it: a
// 200-character limit keeps 200 Cyrillic letters, not 100. An invalid
// byte counts as one character and is kept as it is. A limit of zero
// or less gives "".
func Clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}
