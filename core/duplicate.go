package core

import (
	"context"
	"strings"
)

// DuplicateKeys are what makes two records the same party: normalized
// phones (E.164), e-mails and an ИНН.
type DuplicateKeys struct {
	Phones []string
	Emails []string
	INN    string
}

// Empty reports whether there is nothing to match on.
func (k DuplicateKeys) Empty() bool { return len(k.Phones) == 0 && len(k.Emails) == 0 && k.INN == "" }

// DuplicateMatch is an existing record that shares a key.
type DuplicateMatch struct {
	Entity    string   `json:"entity"` // lead, contact, account
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	MatchedOn []string `json:"matched_on"` // phone, email, inn
	OwnerID   string   `json:"-"`          // the record's owner (for tasks about it)
}

// Duplicate policies.
const (
	DupCreate = "create" // create anyway
	DupReject = "reject" // refuse with the matches (409)
	DupMerge  = "merge"  // use the existing record of the same kind instead
)

// DuplicatePolicy chooses what a create does about duplicates, by the
// source of the write ("api", "webform", "telephony:mango"…): an exact
// source, then its part before ":", then Default.
type DuplicatePolicy struct {
	Default string            `yaml:"default" json:"default"`
	Sources map[string]string `yaml:"sources" json:"sources"`
}

// For returns the policy of a source.
func (p DuplicatePolicy) For(source string) string {
	if v, ok := p.Sources[source]; ok {
		return v
	}
	if base, _, ok := strings.Cut(source, ":"); ok {
		if v, ok := p.Sources[base]; ok {
			return v
		}
	}
	if p.Default == "" {
		return DupCreate
	}
	return p.Default
}

// Validate checks every policy is create, reject or merge.
func (p DuplicatePolicy) Validate() error {
	ok := func(v string) bool { return v == DupCreate || v == DupReject || v == DupMerge }
	if p.Default != "" && !ok(p.Default) {
		return Errorf(EINVALID, "default: %q is not create, reject or merge", p.Default)
	}
	for src, v := range p.Sources {
		if !ok(v) {
			return Errorf(EINVALID, "sources.%s: %q is not create, reject or merge", src, v)
		}
	}
	return nil
}

// DuplicateFinder finds records sharing keys.
type DuplicateFinder interface {
	// Duplicates returns the live leads (not converted), contacts and
	// accounts that share any key, at most 50.
	Duplicates(ctx context.Context, k DuplicateKeys) ([]DuplicateMatch, error)
}

// DuplicatesError is the ECONFLICT of a create refused by the reject policy.
type DuplicatesError struct {
	Matches []DuplicateMatch
}

func (e *DuplicatesError) Error() string { return "conflict: the record duplicates existing ones" }

// Unwrap gives the core error, so that ErrorCode says conflict.
func (e *DuplicatesError) Unwrap() error {
	return Errorf(ECONFLICT, "the record duplicates %d existing record(s); see duplicates", len(e.Matches))
}

// OpMerged names the event of a record merged into another (its data
// carries merged_into).
const OpMerged = "merged"

// Merger merges duplicates.
type Merger interface {
	// Merge merges the duplicate into the target, both of kind entity
	// (lead, contact or account), in one transaction: the target keeps its
	// values and takes the duplicate's where it has none (external ids are
	// united), every link to the duplicate moves to the target, and the
	// duplicate is retired with a "<kind>.merged" event naming the target.
	// It returns the target. Errors: ENOTFOUND, EINVALID (the same record,
	// or a merged value the target's rules refuse), ECONFLICT (a converted
	// lead).
	Merge(ctx context.Context, entity, targetID, duplicateID string) (any, error)
}

// Has reports whether the record matched on key (phone, email, inn).
func (m DuplicateMatch) Has(key string) bool {
	for _, k := range m.MatchedOn {
		if k == key {
			return true
		}
	}
	return false
}

// PhoneOwner picks, among matches, the record a phone number belongs to:
// a contact, else an account, else a lead, matched on the phone.
func PhoneOwner(matches []DuplicateMatch) (DuplicateMatch, bool) {
	for _, kind := range []string{EntityContact, EntityAccount, EntityLead} {
		for _, m := range matches {
			if m.Entity == kind && m.Has("phone") {
				return m, true
			}
		}
	}
	return DuplicateMatch{}, false
}
