package core

import (
	"context"
	"time"
)

// IdempotencyTTL is how long an Idempotency-Key and its response are kept.
const IdempotencyTTL = 24 * time.Hour

// IdempotentRequest identifies a request made with an Idempotency-Key.
type IdempotentRequest struct {
	Owner       string // who may replay it: the API key id
	Key         string // the client's Idempotency-Key
	Fingerprint []byte // hash of method, path and body
}

// StoredResponse is the response remembered for a key.
type StoredResponse struct {
	Status      int
	ContentType string
	Location    string
	Body        []byte
}

// Idempotency makes a request's effect happen once per key.
type Idempotency interface {
	// Do runs fn unless the key was used before. fn runs in a transaction
	// carried by the ctx it receives: every store write made with that ctx
	// commits together with the remembered response, so a crash can neither
	// lose the response of a committed write nor keep one of a lost write.
	// When fn reports keep=false (a failed request) nothing is remembered
	// and its writes are rolled back. A key seen before with the same
	// fingerprint returns the stored response and replayed=true; with another
	// fingerprint, ECONFLICT. Concurrent requests with one key wait for each
	// other.
	Do(ctx context.Context, req IdempotentRequest,
		fn func(ctx context.Context) (resp StoredResponse, keep bool, err error)) (StoredResponse, bool, error)
}
