package core

import (
	"context"
	"encoding/json"
)

// Command types accepted from other systems on the commands topic.
const (
	CmdUpsertAccount = "account.upsert" // match by external id, update or create
	CmdUpsertContact = "contact.upsert" // match by external id, update or create
	CmdCreateLead    = "lead.create"
	CmdDealStage     = "deal.stage" // move a deal (by id or external id) to a stage
)

// Command is an instruction from another system, applied exactly once in
// effect: its ID is remembered with its effects.
type Command struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Source  string          `json:"source"` // the sending system ("onec", "telephony"…): the changes' source
	Payload json.RawMessage `json:"payload"`
}

// UpsertPayload is the payload of account.upsert and contact.upsert:
// the record with external id system:id gets the fields (a merge patch),
// or is created with them.
type UpsertPayload struct {
	ExternalID string `json:"external_id"` // "system:id", e.g. "onec:8a1b…"
	Fields     Patch  `json:"fields"`
}

// DealStagePayload is the payload of deal.stage.
type DealStagePayload struct {
	DealID     string `json:"deal_id,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Stage      string `json:"stage"`
}

// StreamPosition is where a message was read: kept with the command's
// effects so that a consumer resumes after it.
type StreamPosition struct {
	Group     string
	Topic     string
	Partition int32
	Offset    int64
}

// CommandService applies commands.
type CommandService interface {
	// ApplyCommand applies a command and records its id and position in the
	// same transaction. A command seen before changes nothing (applied is
	// false). Errors: EINVALID (malformed, unknown type), ENOTFOUND (a
	// record it names is missing) — permanent; any other error is
	// transient.
	ApplyCommand(ctx context.Context, cmd Command, pos StreamPosition) (applied bool, err error)
	// ApplyCommands applies commands read in order from one partition in
	// one transaction, each as ApplyCommand would, up to the first that
	// fails: it returns how many were applied (and committed) and that
	// command's error, the rest not attempted.
	ApplyCommands(ctx context.Context, cmds []Command, pos []StreamPosition) (int, error)
	// SkipCommand records a position whose message was set aside (sent to
	// the dead-letter topic), so that it is not read again.
	SkipCommand(ctx context.Context, pos StreamPosition, commandID, reason string) error
	// StreamOffsets returns the next offset to read per partition of a
	// topic for a consumer group.
	StreamOffsets(ctx context.Context, group, topic string) (map[int32]int64, error)
}
