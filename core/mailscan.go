package core

import (
	"context"
	"time"
)

// InboundMail is an incoming e-mail as the mail scanner parsed it.
type InboundMail struct {
	// MessageID is the Message-ID without angle brackets (a digest of the
	// message when it has none); References are the In-Reply-To and
	// References ids, nearest first.
	MessageID  string
	References []string
	FromName   string
	From       string // the sender's address, normalized
	To, Cc     []string
	Subject    string
	Date       time.Time
	// Text is the body as plain text (HTML reduced to text), without the
	// signature and the quoted reply, which are kept apart.
	Text, Signature, Quoted string
	// Phone is a phone number found in the signature (E.164), if any.
	Phone       string
	Attachments []FormFile
	// Skipped names attachments left out (over the size limits).
	Skipped []string
}

// Mail scanner actions (crm-model.md §4): create a record from the sender
// (or attach to the one that has the sender's address), or attach to the
// record matched by the sender, the recipients, or a document number in
// the subject (and the sent e-mail a reply refers to).
const (
	MailCreateLead    = "create_lead"
	MailCreateContact = "create_contact"
	MailCreateAccount = "create_account"
	MailLinkFrom      = "link_from"
	MailLinkTo        = "link_to"
	MailLinkDeal      = "link_deal"
	MailSkip          = "skip"
)

// MailActions lists the actions, for validation and documentation.
var MailActions = []string{MailCreateLead, MailCreateContact, MailCreateAccount, MailLinkFrom, MailLinkTo, MailLinkDeal, MailSkip}

// MailStep is one matching rule's action.
type MailStep struct {
	Rule   string
	Action string
	// OwnerID owns created records ("": the mailbox's owner, else the
	// default owner).
	OwnerID string
	// DocumentNumber, for link_deal, is the document number the rule found
	// in the subject.
	DocumentNumber string
}

// MailOrigin says where a message was read.
type MailOrigin struct {
	Mailbox, Folder string
	UIDValidity     uint32
	UID             uint32
}

// MailResult is what became of a message.
type MailResult struct {
	// Outcome: created (a new record), attached (to an existing one),
	// duplicate (processed before, under another UID), unmatched (no rule
	// found a record), skipped (a skip rule).
	Outcome    string `json:"outcome"`
	Rule       string `json:"rule"`
	Entity     string `json:"entity"`
	RecordID   string `json:"record_id"`
	ActivityID string `json:"activity_id"`
}

// MailFolderState is what the scanner knows of a folder.
type MailFolderState struct {
	UIDValidity uint32
	LastUID     uint32
}

// MailStore keeps the mail scanner's state and applies messages to the
// CRM, each in one transaction with the record that it was processed.
type MailStore interface {
	// MailFolder returns a folder's state (zero when never scanned).
	MailFolder(ctx context.Context, mailbox, folder string) (MailFolderState, error)
	// ResetMailFolder starts a folder over under a new UIDVALIDITY: the
	// messages are read again and recognized by their Message-ID.
	ResetMailFolder(ctx context.Context, mailbox, folder string, uidValidity uint32) error
	// IngestMail applies a message: the first step that finds or makes a
	// record gets the message as an activity (with its attachments), and
	// the message is recorded as processed and the folder's last UID
	// advanced, all in one transaction. A message processed before (same
	// mailbox and Message-ID) changes nothing but the folder's last UID.
	IngestMail(ctx context.Context, o MailOrigin, m *InboundMail, steps []MailStep) (MailResult, error)
	// FailMail records a message that could not be processed (the reason
	// kept) and advances the folder past it.
	FailMail(ctx context.Context, o MailOrigin, messageID, reason string) error
}

// MailboxStatus is what an operator sees of a scanned mailbox.
type MailboxStatus struct {
	Name      string     `json:"name"`
	Host      string     `json:"host"`
	Username  string     `json:"username"`
	Folders   []string   `json:"folders"`
	After     string     `json:"after"`
	Connected bool       `json:"connected"`
	IDLE      bool       `json:"idle"`
	LastPoll  *time.Time `json:"last_poll"`
	LastError string     `json:"last_error"`
	ErrorAt   *time.Time `json:"last_error_at"`
	Processed int64      `json:"processed"`
	Failed    int64      `json:"failed"`
}

// MailScanner is the running mail scanner, as the API sees it.
type MailScanner interface {
	// MailboxStatuses returns every mailbox's status, by name.
	MailboxStatuses() []MailboxStatus
	// ScanNow wakes a mailbox's scanner; false when there is no such
	// mailbox.
	ScanNow(name string) bool
}
