package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// transportResult classifies an attempt that got no response: a refused
// address is Failed; anything else (no connection, no answer in time, a
// TLS failure, the caller's cancellation) is Retry. The error leaves out
// *url.Error's text, which quotes the whole URL.
func transportResult(ctx context.Context, where string, timeout time.Duration, err error) Result {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var refused *RefusedAddressError
	switch {
	case errors.As(err, &refused):
		return Result{Outcome: Failed, Err: fmt.Errorf("webhooks: POST %s: %w", where, refused)}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return Result{Outcome: Retry, Err: fmt.Errorf("webhooks: POST %s: no response within %s: %w", where, timeout, context.DeadlineExceeded)}
	case errors.Is(ctx.Err(), context.Canceled):
		return Result{Outcome: Retry, Err: fmt.Errorf("webhooks: POST %s: the attempt was canceled: %w", where, context.Canceled)}
	}
	return Result{Outcome: Retry, Err: fmt.Errorf("webhooks: POST %s: %w", where, err)}
}

// classify is the outcome of a response: 2xx Delivered; 408, 429 and 5xx
// Retry (with the Retry-After of a 429 or 503); any other status Failed
// (redirects are not followed, a 4xx will be refused again).
func classify(resp *http.Response, now time.Time) Result {
	res := Result{Status: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		res.Outcome = Delivered
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500 && code <= 599:
		res.Outcome = Retry
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
		}
	default:
		res.Outcome = Failed
	}
	return res
}

// statusError says why a response is not a delivery, naming the status
// (and where a redirect pointed, without its query).
func statusError(where string, resp *http.Response) error {
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		to := "no Location"
		if loc, err := resp.Location(); err == nil {
			to = "Location " + safeURL(loc.String())
		}
		return fmt.Errorf("webhooks: POST %s: answered %s (%s): redirects are not followed", where, resp.Status, to)
	}
	return fmt.Errorf("webhooks: POST %s: answered %s", where, resp.Status)
}

// readBody returns the first 1 KiB of a response's body and reads on to
// 64 KiB, so that a short answer's connection is reused and a long one's
// is dropped (by closing the body) rather than read to its end. A read
// error (the receiver hung up, the timeout) keeps what came.
func readBody(r io.Reader) []byte {
	kept, _ := io.ReadAll(io.LimitReader(r, maxResponseKept))
	_, _ = io.Copy(io.Discard, io.LimitReader(r, maxResponseRead-int64(len(kept))))
	return kept
}

// parseRetryAfter reads a Retry-After header, delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3), as a wait from now of at most 1 h; 0 for
// none, a date past or a value that is neither.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil || !t.After(now) {
		return 0
	}
	return min(t.Sub(now), maxRetryAfter)
}
