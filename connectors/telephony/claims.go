package telephony

import (
	"context"
	"sync"
	"time"
)

// CallClaims binds what a provider signed to the one call it belongs to:
// a provider whose signature leaves the call id out (Zadarma) cannot
// otherwise tell a captured notification replayed under another call id
// from a new call. core/store keeps claims in the database, shared by the
// hub's replicas; NewCallClaimsInMemory keeps them in this process.
type CallClaims interface {
	// ClaimCall binds claim to value until expires, unless claim is bound
	// already and not expired at now; it returns the value claim is bound
	// to (value itself when this call bound it).
	ClaimCall(ctx context.Context, provider, claim, value string, now, expires time.Time) (string, error)
}

// CallClaimsInMemory keeps claims in this process (for one hub, and tests).
type CallClaimsInMemory struct {
	mu sync.Mutex
	m  map[string]memoryClaim
}

type memoryClaim struct {
	value   string
	expires time.Time
}

var _ CallClaims = (*CallClaimsInMemory)(nil)

// NewCallClaimsInMemory returns an empty set of claims.
func NewCallClaimsInMemory() *CallClaimsInMemory {
	return &CallClaimsInMemory{m: map[string]memoryClaim{}}
}

// ClaimCall implements CallClaims; expired claims are dropped as the set
// grows.
func (c *CallClaimsInMemory) ClaimCall(_ context.Context, provider, claim, value string, now, expires time.Time) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := provider + "\x00" + claim
	if old, ok := c.m[k]; ok && old.expires.After(now) {
		return old.value, nil
	}
	if len(c.m) >= 100_000 {
		for k, old := range c.m {
			if !old.expires.After(now) {
				delete(c.m, k)
			}
		}
	}
	c.m[k] = memoryClaim{value: value, expires: expires}
	return value, nil
}

// claimCacheSize bounds each of the claim cache's two generations.
const claimCacheSize = 50_000

// cachedClaims answers repeated claims in this process: a binding the
// claims confirmed does not change before it expires, so the notifications
// of one call that sign alike (Zadarma's START, INTERNAL and END) reach
// the database once. The cache keeps the latest bindings, two generations
// of at most claimCacheSize.
type cachedClaims struct {
	next     CallClaims
	mu       sync.Mutex
	cur, old map[string]memoryClaim
}

func newCachedClaims(next CallClaims) *cachedClaims {
	return &cachedClaims{next: next, cur: map[string]memoryClaim{}}
}

// ClaimCall implements CallClaims.
func (c *cachedClaims) ClaimCall(ctx context.Context, provider, claim, value string, now, expires time.Time) (string, error) {
	k := provider + "\x00" + claim
	c.mu.Lock()
	hit, ok := c.cur[k]
	if !ok {
		hit, ok = c.old[k]
	}
	c.mu.Unlock()
	if ok && hit.expires.After(now) {
		return hit.value, nil
	}
	bound, err := c.next.ClaimCall(ctx, provider, claim, value, now, expires)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.cur) >= claimCacheSize {
		c.old, c.cur = c.cur, make(map[string]memoryClaim, claimCacheSize)
	}
	c.cur[k] = memoryClaim{value: bound, expires: expires}
	c.mu.Unlock()
	return bound, nil
}
