package core

import (
	"context"
	"net/http"
	"net/url"
)

// WebhookRequest is an HTTP request from a provider (a PBX, a site
// builder), with its raw body: signatures are checked over exact bytes.
type WebhookRequest struct {
	Method   string
	SubPath  string // the path after the webhook's own, e.g. "events/summary"
	Query    url.Values
	RawQuery string // the query as sent, its parameters in their order
	Header   http.Header
	Body     []byte
	RemoteIP string
}

// WebhookResponse is the answer in the provider's expected shape.
type WebhookResponse struct {
	Status      int
	ContentType string
	Header      http.Header // more headers (Location, CORS, Retry-After); may be nil
	Body        []byte
}

// Webhook is a connector's HTTP endpoint, served under /hooks/<Path>.
type Webhook interface {
	// Path is the endpoint's path under /hooks, e.g. "telephony/generic".
	Path() string
	// Handle answers a request. It must not block on slow work: connectors
	// store the delivery and answer, and process it afterwards.
	Handle(ctx context.Context, r WebhookRequest) WebhookResponse
}
