package oidc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// maxDocument bounds a discovery document or key set (go-oidc reads the
// whole body).
const maxDocument = 1 << 20

// fetchError is a failed fetch from the provider: unreachable, an error
// status or an oversized body. go-oidc wraps it with %w, so a Verify
// failure can tell "the provider is down" from "the token is bad".
type fetchError struct{ msg string }

func (e *fetchError) Error() string { return e.msg }

// jwksRequest marks the context go-oidc's key set fetches with (it keeps
// the context's values), so the transport knows a key-set fetch from
// discovery, through redirects too.
type jwksRequest struct{}

// transport is the provider client's round tripper. Every response is
// bounded and a status of 400 or more becomes a fetchError. For the key
// set it also remembers the key ids the provider last published, and
// answers a fetch within minRefresh of the previous one with that
// previous answer: go-oidc refetches on every unknown kid, and a stream
// of forged tokens must not become a stream of requests to the provider.
type transport struct {
	base       http.RoundTripper
	log        *slog.Logger
	minRefresh time.Duration

	fetching sync.Mutex  // one key-set fetch at a time; guards:
	fetched  time.Time   // when the key set was last fetched (or tried)
	body     []byte      // its last good body
	header   http.Header // and headers
	err      error       // or why the last try failed

	mu   sync.Mutex
	kids map[string]bool // the key ids of the last good key set
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Context().Value(jwksRequest{}) == nil {
		return t.fetch(req)
	}
	t.fetching.Lock()
	defer t.fetching.Unlock()
	if !t.fetched.IsZero() && time.Since(t.fetched) < t.minRefresh {
		if t.err != nil {
			return nil, t.err
		}
		return replay(req, t.header, t.body), nil
	}
	prev := t.fetched
	t.fetched = time.Now()
	resp, err := t.fetch(req)
	if err != nil {
		t.err = err
		t.log.Warn("oidc_keys_fetch_failed", "url", req.URL.Redacted(), "error", err)
		return nil, err
	}
	if resp.StatusCode != http.StatusOK { // a redirect: the client follows it now
		t.fetched = prev
		return resp, nil
	}
	body, _ := io.ReadAll(resp.Body) // fetch buffered it
	t.err, t.body, t.header = nil, body, resp.Header.Clone()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if json.Unmarshal(body, &set) == nil {
		kids := make(map[string]bool, len(set.Keys))
		for _, k := range set.Keys {
			kids[k.Kid] = true
		}
		t.mu.Lock()
		t.kids = kids
		t.mu.Unlock()
	}
	return replay(req, resp.Header, body), nil
}

// fetch makes the request, bounds and buffers a 200 body and turns an
// error status into a fetchError.
func (t *transport) fetch(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, &fetchError{fmt.Sprintf("%s %s: %v", req.Method, req.URL.Redacted(), err)}
	}
	if resp.StatusCode >= 400 {
		resp.Body.Close()
		return nil, &fetchError{fmt.Sprintf("%s %s: %s", req.Method, req.URL.Redacted(), resp.Status)}
	}
	if resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	switch {
	case err != nil:
		return nil, &fetchError{fmt.Sprintf("%s %s: %v", req.Method, req.URL.Redacted(), err)}
	case len(body) > maxDocument:
		return nil, &fetchError{fmt.Sprintf("%s %s: response over %d bytes", req.Method, req.URL.Redacted(), maxDocument)}
	}
	return replay(req, resp.Header, body), nil
}

// knowsKid reports whether the last key set fetched lists kid; ok is
// false when no key set was fetched yet.
func (t *transport) knowsKid(kid string) (known, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.kids[kid], t.kids != nil
}

// replay is a 200 response with body.
func replay(req *http.Request, h http.Header, body []byte) *http.Response {
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h.Clone(), Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}
}
