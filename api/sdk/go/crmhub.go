package crmhub

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strings"
)

// New is a client of the hub at server (e.g. "http://127.0.0.1:8080")
// that sends token, an API key or a user's session or OIDC token, as
// its bearer credentials on every request.
func New(server, token string, opts ...ClientOption) (*ClientWithResponses, error) {
	if strings.TrimSpace(token) == "" {
		return nil, fmt.Errorf("crmhub: no token")
	}
	auth := WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
	return NewClientWithResponses(strings.TrimSuffix(server, "/"), append([]ClientOption{auth}, opts...)...)
}

// Page fetches one page of a list: its items and the cursor of the next
// page ("" after the last).
type Page[T any] func(ctx context.Context, cursor string) (items []T, next string, err error)

// All walks a cursor-paginated list from its first page, yielding each
// item; an error ends the walk, yielded with the zero item.
func All[T any](ctx context.Context, page Page[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := ""
		for {
			items, next, err := page(ctx, cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" || next == cursor {
				return
			}
			cursor = next
		}
	}
}

// Error is an answer that was not the one the caller wanted: its status
// and, when the hub sent one, its RFC 9457 problem.
type Error struct {
	Status  int
	Problem *Problem
}

func (e *Error) Error() string {
	if e.Problem == nil {
		return fmt.Sprintf("crmhub: HTTP %d", e.Status)
	}
	msg := fmt.Sprintf("crmhub: HTTP %d: %s", e.Status, e.Problem.Title)
	if e.Problem.Detail != "" {
		msg += ": " + e.Problem.Detail
	}
	if e.Problem.RequestId != nil {
		msg += " (request " + *e.Problem.RequestId + ")"
	}
	return msg
}

// Unexpected makes an Error of a response and its body.
func Unexpected(resp *http.Response, body []byte) error {
	e := &Error{}
	if resp != nil {
		e.Status = resp.StatusCode
	}
	var p Problem
	if json.Unmarshal(body, &p) == nil && p.Title != "" {
		e.Problem = &p
	}
	return e
}
