package telephony

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
)

// intake stores a webhook provider's deliveries in the inbox before the
// provider is answered.
type intake struct {
	inbox *inbox.Inbox
	log   *slog.Logger
}

// receive stores a delivery and answers the provider: accepted, or
// duplicate for a retry; 503 (the provider retries) when it cannot be
// stored.
func (t intake) receive(ctx context.Context, d inbox.Delivery) core.WebhookResponse {
	_, isNew, err := t.inbox.Receive(ctx, d)
	if err != nil {
		t.log.Error("telephony_receive", "source", d.Source, "error", err)
		return refuse(503, "could not store the event; retry")
	}
	if !isNew {
		return reply(200, map[string]string{"status": "duplicate"})
	}
	return reply(200, map[string]string{"status": "accepted"})
}

func reply(status int, v any) core.WebhookResponse {
	b, _ := json.Marshal(v)
	return core.WebhookResponse{Status: status, ContentType: "application/json", Body: b}
}

func refuse(status int, msg string) core.WebhookResponse {
	return reply(status, map[string]string{"error": msg})
}
