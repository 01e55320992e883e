package core

import (
	"context"
	"fmt"
	"time"
)

// Record is what every CRM record has: embedded first in each entity, so
// these members lead its JSON form.
type Record struct {
	ID      string `json:"id"`
	OwnerID string `json:"owner_id,omitempty"` // empty only for users
	// TeamID, when set, is the team the record belongs to besides its
	// owner: every member reaches it as their own.
	TeamID    *string   `json:"team_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
	// Custom holds the values of the kind's custom fields (the kinds of
	// CustomFieldEntities), key → value; omitted when there are none.
	Custom CustomValues `json:"custom,omitempty"`
}

// Base returns the record's common members.
func (r *Record) Base() *Record { return r }

// Repository keeps one kind of record. Every write records its outbox event
// in the same transaction, with the actor and correlation id from ctx.
type Repository[E any] interface {
	// Create validates and stores a record built by applying patch to an
	// empty one. An empty owner defaults to the actor's user. Under the
	// merge duplicate policy it may return an existing record instead (one
	// created before the call). Errors: EINVALID (also for links to missing
	// records), ECONFLICT (a *DuplicatesError under the reject policy).
	Create(ctx context.Context, patch Patch) (*E, error)
	// Get returns one record. Errors: ENOTFOUND.
	Get(ctx context.Context, id string) (*E, error)
	// Update applies a merge patch. ifVersion > 0 must equal the stored
	// version. Errors: ENOTFOUND, EINVALID, EPRECONDITION.
	Update(ctx context.Context, id string, ifVersion int64, patch Patch) (*E, error)
	// Delete deletes a record. Errors: ENOTFOUND, EPRECONDITION.
	Delete(ctx context.Context, id string, ifVersion int64) error
}

// ListParams are the list parameters every record kind shares.
type ListParams struct {
	OwnerID     string
	CreatedFrom time.Time
	CreatedTo   time.Time
	Query       string // text match; what it searches depends on the kind
	Custom      []CustomFilter
	Sort        Sort
	Limit       int
	Cursor      string
}

// MaxRecordBytes bounds one record's stored JSON (a document with all its
// lines, an e-mail with its body): a write stays within reason, and its
// change event within what a stream message takes as a reference at worst.
const MaxRecordBytes = 1 << 20

// CheckRecordSize refuses a record whose JSON takes more than
// MaxRecordBytes. Errors: EINVALID.
func CheckRecordSize(entity string, size int) error {
	if size <= MaxRecordBytes {
		return nil
	}
	return Invalid([]FieldError{{Field: "record", Code: "too_large",
		Message: fmt.Sprintf("the %s would take %d bytes stored, at most %d (1 MiB): fewer lines or shorter texts", entity, size, MaxRecordBytes)}})
}
