package core

import (
	"context"
	"time"
)

// FunnelFilter selects the deals of a funnel: a pipeline (default: the
// default one), an owner, and deals created in [From, To).
type FunnelFilter struct {
	PipelineID string
	OwnerID    string
	From, To   time.Time
}

// Funnel is the sales funnel of one pipeline.
type Funnel struct {
	PipelineID string        `json:"pipeline_id"`
	FunnelPart               // all owners together
	ByOwner    []OwnerFunnel `json:"by_owner"`
}

// OwnerFunnel is one owner's part of a funnel.
type OwnerFunnel struct {
	OwnerID string `json:"owner_id"`
	FunnelPart
}

// FunnelPart holds the figures of a funnel for a set of deals.
type FunnelPart struct {
	Stages []FunnelStage `json:"stages"`
	Won    Tally         `json:"won"`
	Lost   Tally         `json:"lost"`
	Total  Tally         `json:"total"`
}

// FunnelStage is one open stage: the deals in it now, the deals that got
// at least this far (won deals went all the way), and the share of the
// previous stage's deals that got here.
type FunnelStage struct {
	Code       string   `json:"code"`
	LabelRU    string   `json:"label_ru"`
	LabelEN    string   `json:"label_en"`
	Current    Tally    `json:"current"`
	Reached    Tally    `json:"reached"`
	Conversion *float64 `json:"conversion"` // null for the first stage or when none reached the previous one
}

// Tally is a count of deals and the sum of their amounts.
type Tally struct {
	Count  int64 `json:"count"`
	Amount Money `json:"amount"`
}

// FunnelService computes funnels.
type FunnelService interface {
	// Funnel returns the funnel of the filtered deals. Errors: EINVALID
	// (no such pipeline).
	Funnel(ctx context.Context, f FunnelFilter) (*Funnel, error)
}
