package core

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// EntityDeal names deals in events, topics and errors.
const EntityDeal = "deal"

// Deal is a sales opportunity («сделка») moving through a pipeline's stages.
type Deal struct {
	Record
	Name       string `json:"name"`
	PipelineID string `json:"pipeline_id"`
	Stage      string `json:"stage"`
	// FurthestStage is the furthest open stage the deal has reached (kept
	// when it moves back or closes), for the funnel.
	FurthestStage string            `json:"furthest_stage"`
	Probability   int64             `json:"probability"`
	Amount        *Money            `json:"amount"`
	Currency      string            `json:"currency"`
	CloseDate     Date              `json:"close_date"`
	AccountID     *string           `json:"account_id"`
	ContactID     *string           `json:"contact_id"`
	Source        string            `json:"source"`
	Type          string            `json:"type"`
	NextStep      string            `json:"next_step"`
	Description   string            `json:"description"`
	ClosedAt      *time.Time        `json:"closed_at"` // set when the deal is won or lost
	LeadID        *string           `json:"lead_id"`   // the lead it was converted from
	ExternalIDs   map[string]string `json:"external_ids"`

	probabilitySet bool // the last patch set probability explicitly
}

// ProbabilityGiven reports whether the patch applied last set the
// probability; otherwise a stage change takes the stage's default.
func (d *Deal) ProbabilityGiven() bool { return d.probabilitySet }

func setProbability(d *Deal, raw json.RawMessage, path string) []FieldError {
	if isNull(raw) {
		d.probabilitySet = false // back to the stage's default
		return nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil || n < 0 || n > 100 {
		return fail(path, "out_of_range", "must be an integer from 0 to 100")
	}
	d.Probability, d.probabilitySet = n, true
	return nil
}

// DealTypes is the deal type picklist.
func DealTypes() *Picklist { return dealTypes() }

var dealTypes = sync.OnceValue(func() *Picklist {
	return NewPicklist("deal_type",
		Choice{"new_business", "Новый бизнес", "New Business"},
		Choice{"existing_business", "Существующий бизнес", "Existing Business"},
	)
})

// DealSchema returns the writable fields of a deal. The stage is changed
// like any field; a won or lost deal is closed and needs a reopen first.
func DealSchema() *Schema[Deal] { return dealSchema() }

var dealSchema = sync.OnceValue(func() *Schema[Deal] {
	return NewSchema[Deal]("id", "created_at", "updated_at", "version", "closed_at", "lead_id", "furthest_stage").
		Field("name", Text(250, false, func(d *Deal) *string { return &d.Name })).
		Field("pipeline_id", ID(func(d *Deal) *string { return &d.PipelineID })).
		Field("stage", Text(50, false, func(d *Deal) *string { return &d.Stage })).
		Field("probability", setProbability).
		Field("amount", Amount(func(d *Deal) **Money { return &d.Amount })).
		Field("currency", Normalized("invalid_currency", "must be an ISO 4217 code such as RUB", currencyOK,
			func(d *Deal) *string { return &d.Currency })).
		Field("close_date", DateField(func(d *Deal) *Date { return &d.CloseDate })).
		Field("account_id", Link(func(d *Deal) **string { return &d.AccountID })).
		Field("contact_id", Link(func(d *Deal) **string { return &d.ContactID })).
		Field("source", OneOf(LeadSources(), func(d *Deal) *string { return &d.Source })).
		Field("type", OneOf(DealTypes(), func(d *Deal) *string { return &d.Type })).
		Field("next_step", Text(250, false, func(d *Deal) *string { return &d.NextStep })).
		Field("description", Text(32_000, true, func(d *Deal) *string { return &d.Description })).
		Field("owner_id", ID(func(d *Deal) *string { return &d.OwnerID })).
		Field("team_id", Link(func(d *Deal) **string { return &d.TeamID })).
		Field("external_ids", ExternalIDs(func(d *Deal) *map[string]string { return &d.ExternalIDs }))
})

func currencyOK(s string) (string, bool) {
	if len(s) != 3 {
		return "", false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return "", false
		}
	}
	return s, true
}

// Validate checks a deal's own fields: a name is required.
func (d *Deal) Validate() error {
	if d.Name == "" {
		return Invalid([]FieldError{{Field: "name", Code: "required", Message: "is required"}})
	}
	return nil
}

// DealFilter selects deals for a list.
type DealFilter struct {
	ListParams
	PipelineID string
	Stages     []string
	AccountID  string
	ContactID  string
	Open       *bool // only open (true) or closed (false) deals
	CloseFrom  Date
	CloseTo    Date
}

// StageChange is one entry of a deal's stage history.
type StageChange struct {
	DealID      string    `json:"deal_id"`
	PipelineID  string    `json:"pipeline_id"`
	From        string    `json:"from"` // "" when the deal was created
	To          string    `json:"to"`
	Amount      *Money    `json:"amount"`
	Probability int64     `json:"probability"`
	Actor       string    `json:"actor"`
	UserID      string    `json:"user_id"`
	At          time.Time `json:"at"`
}

// DealService keeps deals and their stage history.
type DealService interface {
	Repository[Deal]
	// List returns one page of deals; Query matches the name.
	List(ctx context.Context, f DealFilter) (Page[Deal], error)
	// Reopen moves a won or lost deal back to an open stage (stage, or the
	// last open stage it was in). Errors: ENOTFOUND, EPRECONDITION,
	// ECONFLICT (not closed), EINVALID (not an open stage).
	Reopen(ctx context.Context, id string, ifVersion int64, stage string) (*Deal, error)
	// StageHistory lists a deal's stage changes, oldest first.
	StageHistory(ctx context.Context, id string) ([]StageChange, error)
}
