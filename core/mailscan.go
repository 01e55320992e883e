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

// Mail scanner actions: create a record from the sender
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
	// ConfigMailboxes are the mailboxes of the config file and the
	// environment (read-only in the API; passwords left out).
	ConfigMailboxes() []MailboxConfig
	// Check validates a mailbox definition as the scanner would take it.
	// Errors: EINVALID.
	Check(m MailboxConfig) error
	// Reload starts, restarts and stops scanners to match the stored
	// mailboxes.
	Reload(ctx context.Context) error
}

// MailCondition tests one part of a message: field from, to (any
// recipient), cc, subject or body; operator contains, not_contains,
// equals, not_equals, begins_with, ends_with or regex (RE2,
// case-insensitive).
type MailCondition struct {
	Field    string `yaml:"field" json:"field"`
	Operator string `yaml:"operator" json:"operator"`
	Value    string `yaml:"value" json:"value"`
}

// MailRule is a mailbox's rule: conditions combined with all (AND, the
// default) or any (OR), and one action (MailActions). A rule without
// conditions matches only in any mode.
type MailRule struct {
	Name       string          `yaml:"name" json:"name"`
	Match      string          `yaml:"match" json:"match"`
	Conditions []MailCondition `yaml:"conditions" json:"conditions"`
	Action     string          `yaml:"action" json:"action"`
	// Owner is the user id owning what the rule creates ("": the
	// mailbox's owner).
	Owner string `yaml:"owner" json:"owner"`
	// DocumentPattern, for link_deal, finds a document number in the
	// subject (default: the hub's numbering, such as СЧ-2026-000123).
	DocumentPattern string `yaml:"document_pattern" json:"document_pattern"`
}

// MailboxConfig defines a watched mailbox, in the config file or through
// the admin API.
type MailboxConfig struct {
	Name               string `yaml:"name" json:"name"`
	Host               string `yaml:"host" json:"host"`
	Port               int    `yaml:"port" json:"port"`
	TLS                string `yaml:"tls" json:"tls"` // tls (default), starttls, none (loopback only)
	CAFile             string `yaml:"ca_file" json:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify" json:"insecure_skip_verify"`
	Username           string `yaml:"username" json:"username"`
	// Password is write-only in the API; PasswordEnv names an environment
	// variable holding it (config file only).
	Password      string     `yaml:"password" json:"password,omitempty"`
	PasswordEnv   string     `yaml:"password_env" json:"-"`
	Folders       []string   `yaml:"folders" json:"folders"`
	After         string     `yaml:"after" json:"after"` // seen (default), leave, move:<folder>
	PollInterval  Duration   `yaml:"poll_interval" json:"poll_interval"`
	IDLE          *bool      `yaml:"idle" json:"idle"`
	Owner         string     `yaml:"owner" json:"owner"`
	Rules         []MailRule `yaml:"rules" json:"rules"`
	DefaultAction string     `yaml:"default_action" json:"default_action"`
	MaxAttachment int64      `yaml:"max_attachment" json:"max_attachment"`
	// Managed: "config" (read-only) or "api".
	Managed   string     `yaml:"-" json:"managed"`
	CreatedAt *time.Time `yaml:"-" json:"created_at,omitempty"`
	UpdatedAt *time.Time `yaml:"-" json:"updated_at,omitempty"`
	Version   int64      `yaml:"-" json:"version,omitempty"`
}

// Duration is a time.Duration written as "90s" or "1m" in JSON and YAML.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MailboxStore keeps the mailboxes managed through the admin API.
type MailboxStore interface {
	Mailboxes(ctx context.Context) ([]MailboxConfig, error)
	// Mailbox returns one. Errors: ENOTFOUND.
	Mailbox(ctx context.Context, name string) (*MailboxConfig, error)
	// PutMailbox creates a mailbox (ifVersion 0; ECONFLICT when it exists)
	// or replaces it (ifVersion its version; EPRECONDITION otherwise). A
	// replacement without a password keeps the stored one.
	PutMailbox(ctx context.Context, m MailboxConfig, ifVersion int64) (*MailboxConfig, error)
	// DeleteMailbox deletes one (ifVersion 0: any version).
	DeleteMailbox(ctx context.Context, name string, ifVersion int64) error
}
