package core

import "context"

// Actor is who makes a change: recorded on every outbox event.
type Actor struct {
	// ID identifies the actor: an API key id, or a connector name.
	ID string
	// Source is the channel: "api", "cli", "telephony:mango", "onec", "excel", …
	Source string
	// UserID is the CRM user acting, the default owner of what it creates.
	UserID string
	// Scopes are the rights the actor holds (API keys only).
	Scopes []Scope
}

// Has reports whether the actor holds scope s. Admin implies write, write
// implies read.
func (a Actor) Has(s Scope) bool {
	for _, have := range a.Scopes {
		if have.Implies(s) {
			return true
		}
	}
	return false
}

type ctxKey int

const (
	actorKey ctxKey = iota
	correlationKey
)

// NewContextWithActor returns a copy of ctx carrying the actor.
func NewContextWithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFromContext returns the actor in ctx, or a "system" actor when none
// was set.
func ActorFromContext(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey).(Actor); ok {
		return a
	}
	return Actor{ID: "system", Source: "system"}
}

// NewContextWithCorrelationID returns a copy of ctx carrying the correlation
// (request) id that ties a change to the request that made it.
func NewContextWithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey, id)
}

// CorrelationIDFromContext returns the correlation id in ctx, or "".
func CorrelationIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey).(string)
	return id
}
