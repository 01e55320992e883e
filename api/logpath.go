package api

import "strings"

// logPath is a request path as the logs write it: a route's :token (the
// calendar feed's, a Bitrix24 webhook's), the segment after /rest/{user}/
// whatever matched, and any segment that looks like a bearer secret (a
// crmhub key, a long random string) are replaced, so that whoever reads
// the logs cannot replay them. Record ids (UUIDs) and slugs are kept.
func logPath(path, route string) string {
	segs := strings.Split(path, "/")
	routeSegs := strings.Split(route, "/")
	for i, seg := range segs {
		if i < len(routeSegs) {
			if rest, ok := strings.CutPrefix(routeSegs[i], ":token"); ok {
				segs[i] = "REDACTED" + rest
				continue
			}
		}
		if i == 3 && segs[1] == "rest" { // Bitrix24's webhook shape, /rest/{user}/{token}/…, even where no route matched
			segs[i] = "REDACTED"
			continue
		}
		name, ext := seg, ""
		if dot := strings.LastIndexByte(seg, '.'); dot > 0 && len(seg)-dot <= 6 {
			name, ext = seg[:dot], seg[dot:]
		}
		if secretLike(name) {
			segs[i] = "REDACTED" + ext
		}
	}
	return strings.Join(segs, "/")
}

// secretLike reports whether a path segment looks like a bearer secret:
// a crmhub key or token (crm_…), 32 or more hex digits that are not a
// UUID, or 20 or more base64url characters mixing upper and lower case
// (slugs and codes are lower case).
func secretLike(s string) bool {
	if strings.HasPrefix(s, "crm_") && len(s) > 8 {
		return true
	}
	if len(s) < 20 || isUUID(s) {
		return false
	}
	var upper, lower, other bool
	hex := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z':
			upper = true
			hex = hex && c <= 'F'
		case 'a' <= c && c <= 'z':
			lower = true
			hex = hex && c <= 'f'
		case '0' <= c && c <= '9':
		case c == '-' || c == '_':
			hex = false
		default:
			other = true
		}
	}
	return !other && (hex && len(s) >= 32 || upper && lower)
}

// isUUID reports whether s is a UUID in its canonical form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
