package oidc

import "time"

// SetRetry shortens the discovery retry and the key-set refresh interval.
func SetRetry(v *Verifier, discovery, keys time.Duration) {
	v.retry = discovery
	v.tr.fetching.Lock()
	v.tr.minRefresh = keys
	v.tr.fetching.Unlock()
}

// SetKeysMaxAge shortens how long a key set is cached.
func SetKeysMaxAge(v *Verifier, d time.Duration) { v.maxAge = d }
