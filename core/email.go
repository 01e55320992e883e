package core

import (
	"context"
	"fmt"
	"net/mail"
	"path"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// EntityEmail names outgoing e-mails in events and topics.
const EntityEmail = "email"

// E-mail statuses: queued until the SMTP server accepts the message (sent),
// or until a permanent refusal or the last attempt (failed).
const (
	EmailQueued = "queued"
	EmailSent   = "sent"
	EmailFailed = "failed"
)

// EmailMessage is an outgoing message with a document's print form attached. Its
// Message-ID is fixed when it is queued, so a retry after a crash carries
// the same one (receivers can tell a repeat).
type EmailMessage struct {
	Record
	// DocumentKind and DocumentID name the document sent (quote, invoice,
	// act, realization); Form is the print form attached.
	DocumentKind   string     `json:"document_kind"`
	DocumentID     string     `json:"document_id"`
	Form           string     `json:"form"`
	From           string     `json:"from"`
	To             []string   `json:"to"`
	Cc             []string   `json:"cc"`
	Subject        string     `json:"subject"`
	Body           string     `json:"body"`
	AttachmentID   *string    `json:"attachment_id"`
	AttachmentName string     `json:"attachment_name"`
	MessageID      string     `json:"message_id"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"last_error"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	SentAt         *time.Time `json:"sent_at"`
	// The document's customer and deal; the activity recording the sent
	// message is linked to them.
	AccountID  *string `json:"account_id"`
	ContactID  *string `json:"contact_id"`
	DealID     *string `json:"deal_id"`
	ActivityID *string `json:"activity_id"`
}

// Limits of an e-mail.
const (
	MaxEmailRecipients = 50
	MaxEmailSubject    = 998 // RFC 5322's line length
	MaxEmailBody       = 100_000
)

// ParseRecipients checks and normalizes a list of addresses (each may carry
// a display name: «Иван Петров <ivan@example.ru>»); field names the list in
// errors.
func ParseRecipients(field string, list []string) ([]string, []FieldError) {
	var out []string
	var errs []FieldError
	if len(list) > MaxEmailRecipients {
		return nil, []FieldError{{Field: field, Code: "too_many", Message: fmt.Sprintf("at most %d recipients", MaxEmailRecipients)}}
	}
	for i, s := range list {
		a, err := mail.ParseAddress(strings.TrimSpace(s))
		var addr string
		if err == nil {
			addr, _ = NormalizeEmail(a.Address)
		}
		if addr == "" {
			errs = append(errs, FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Code: "invalid_email", Message: "must be an e-mail address"})
			continue
		}
		out = append(out, FormatAddress(a.Name, addr))
	}
	return out, errs
}

// FormatAddress writes a name and address as «Name <addr>», the name quoted
// when it holds anything but letters, digits, spaces, dots and hyphens
// (UTF-8 stays as is: encoding is the mail writer's job).
func FormatAddress(name, addr string) string {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return addr
	}
	plain := true
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && r != '.' && r != '-' {
			plain = false
			break
		}
	}
	if !plain {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + addr + ">"
}

// EmailFilter selects e-mails.
type EmailFilter struct {
	ListParams
	DocumentKind string
	DocumentID   string
	Statuses     []string
}

// SendDocument asks for a document to be e-mailed.
type SendDocument struct {
	Kind, ID string // the document
	// Form is the print form ("" for the document's own); UPDStatus is a
	// УПД's status (0: by the seller's VAT).
	Form      string
	UPDStatus int
	// To defaults to the document's contact's e-mail, then its account's.
	To, Cc []string
	// Subject and Body replace the template's when set.
	Subject, Body string
	// Template names the template ("" for the document kind's).
	Template string
	// IdempotencyKey makes a repeated request return the e-mail queued by
	// the first one instead of sending again; Fingerprint tells a repeat
	// from a different request with the same key.
	IdempotencyKey string
	Fingerprint    string
}

// QueuedEmail is a new e-mail with its attachment (a PDF named by the
// e-mail's AttachmentName), to store.
type QueuedEmail struct {
	Email          EmailMessage
	Attachment     []byte
	IdempotencyKey string
	Fingerprint    string
}

// EmailOutcome is what one delivery attempt came to.
type EmailOutcome struct {
	// Sent: the server accepted the message.
	Sent bool
	// Error is the server's reply or the connection error, when not sent.
	Error string
	// Permanent: the server refused for good (5xx); retrying cannot help.
	Permanent bool
	// RetryAt is when to try again after a temporary failure.
	RetryAt time.Time
}

// EmailService keeps outgoing e-mails and their delivery state.
type EmailService interface {
	// Queue stores a new e-mail (status queued, leased to the caller for
	// lease so that it can try at once) with its attachment and event, in
	// one transaction. A repeat of an idempotency key returns the stored
	// e-mail and replayed; a different request with the same key is
	// ECONFLICT.
	Queue(ctx context.Context, q QueuedEmail, lease time.Duration) (e *EmailMessage, replayed bool, err error)
	// Get returns one e-mail. Errors: ENOTFOUND.
	Get(ctx context.Context, id string) (*EmailMessage, error)
	// List returns one page of e-mails, newest first.
	List(ctx context.Context, f EmailFilter) (Page[EmailMessage], error)
	// ClaimEmails leases up to limit queued e-mails that are due to the
	// caller for lease, oldest due first.
	ClaimEmails(ctx context.Context, limit int, lease time.Duration) ([]EmailMessage, error)
	// RecordAttempt stores an attempt's outcome: a sent e-mail gets its
	// activity on the document's account, contact and deal; a permanent
	// failure, or a temporary one at the last attempt, fails it.
	RecordAttempt(ctx context.Context, id string, out EmailOutcome, maxAttempts int) (*EmailMessage, error)
	// RetryEmail puts a failed e-mail back in the queue with its attempts
	// reset, leased to the caller for lease. Errors: ENOTFOUND, ECONFLICT
	// (not failed).
	RetryEmail(ctx context.Context, id string, lease time.Duration) (*EmailMessage, error)
}

// DocumentMailer e-mails documents (implemented by the outgoing mail
// connector).
type DocumentMailer interface {
	// Send queues the document's e-mail and tries to deliver it at once;
	// the e-mail returned says how that went. replayed: an earlier request
	// with the same idempotency key had queued it.
	Send(ctx context.Context, r SendDocument) (e *EmailMessage, replayed bool, err error)
	// Retry sends a failed e-mail again.
	Retry(ctx context.Context, id string) (*EmailMessage, error)
}

// EmailTemplate is the subject and body of a document's e-mail, in Go's
// text/template language over EmailData.
type EmailTemplate struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	// Custom: edited (false: the built-in text).
	Custom    bool       `json:"custom"`
	UpdatedAt *time.Time `json:"updated_at"`
	Version   int64      `json:"version"`
}

// EmailData is what templates see.
type EmailData struct {
	Document struct {
		Kind, Title, Number, Date, Total, Currency string
		// Until is a quote's valid-until or an invoice's due date ("" if none).
		Until string
	}
	Organization struct{ Name, Phone, Email, Website string }
	Account      struct{ Name string }
	Contact      struct{ FirstName, MiddleName, LastName, FullName string }
	// Greeting is «Уважаемый Иван Петрович!», or «Здравствуйте!» without
	// a contact.
	Greeting string
	FileName string
}

// DefaultEmailTemplates are the built-in templates, one per document kind
// that prints.
func DefaultEmailTemplates() []EmailTemplate {
	sign := "\n\nС уважением,\n{{.Organization.Name}}{{if .Organization.Phone}}\nТел.: {{.Organization.Phone}}{{end}}{{if .Organization.Email}}\n{{.Organization.Email}}{{end}}\n"
	return []EmailTemplate{
		{Name: EntityQuote, Subject: "Коммерческое предложение № {{.Document.Number}} от {{.Document.Date}}",
			Body: "{{.Greeting}}\n\nНаправляем коммерческое предложение № {{.Document.Number}} от {{.Document.Date}} на сумму {{.Document.Total}}. {{if .Document.Until}}Предложение действительно до {{.Document.Until}} включительно. {{end}}Документ во вложении." + sign},
		{Name: EntityInvoice, Subject: "Счёт на оплату № {{.Document.Number}} от {{.Document.Date}}",
			Body: "{{.Greeting}}\n\nНаправляем счёт на оплату № {{.Document.Number}} от {{.Document.Date}} на сумму {{.Document.Total}}. {{if .Document.Until}}Просим оплатить его до {{.Document.Until}} включительно. {{end}}Счёт во вложении." + sign},
		{Name: EntityAct, Subject: "Акт № {{.Document.Number}} от {{.Document.Date}}",
			Body: "{{.Greeting}}\n\nНаправляем акт об оказании услуг № {{.Document.Number}} от {{.Document.Date}} на сумму {{.Document.Total}}. Просим подписать и вернуть один экземпляр." + sign},
		{Name: EntityRealization, Subject: "{{.Document.Title}} № {{.Document.Number}} от {{.Document.Date}}",
			Body: "{{.Greeting}}\n\nНаправляем документы по отгрузке № {{.Document.Number}} от {{.Document.Date}} ({{.Document.Title}}) на сумму {{.Document.Total}}. Документ во вложении." + sign},
	}
}

// DefaultEmailTemplate returns the built-in template of name, if any.
func DefaultEmailTemplate(name string) (EmailTemplate, bool) {
	for _, t := range DefaultEmailTemplates() {
		if t.Name == name {
			return t, true
		}
	}
	return EmailTemplate{}, false
}

// parse parses both parts; a missing key is an error, not "<no value>".
func (t EmailTemplate) parse() (subj, body *template.Template, errs []FieldError) {
	var err error
	if subj, err = parseTemplate("subject", t.Subject); err != nil {
		errs = append(errs, FieldError{Field: "subject", Code: "invalid_template", Message: err.Error()})
	}
	if body, err = parseTemplate("body", t.Body); err != nil {
		errs = append(errs, FieldError{Field: "body", Code: "invalid_template", Message: err.Error()})
	}
	return subj, body, errs
}

// parseTemplate parses one part and checks it stays within the bounds of
// email_bounds.go.
func parseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(templateFuncs()).Parse(text)
	if err != nil {
		return nil, err
	}
	return t, checkTemplate(t)
}

// Validate checks a template: both parts present, within limits, parsed,
// and executable over sample data (a misspelt field is caught here, not
// when a customer is waiting).
func (t EmailTemplate) Validate() error {
	var errs []FieldError
	switch {
	case strings.TrimSpace(t.Subject) == "":
		errs = append(errs, FieldError{Field: "subject", Code: "required", Message: "is required"})
	case len(t.Subject) > MaxEmailSubject:
		errs = append(errs, FieldError{Field: "subject", Code: "too_long", Message: fmt.Sprintf("at most %d bytes", MaxEmailSubject)})
	}
	switch {
	case strings.TrimSpace(t.Body) == "":
		errs = append(errs, FieldError{Field: "body", Code: "required", Message: "is required"})
	case len(t.Body) > MaxEmailBody:
		errs = append(errs, FieldError{Field: "body", Code: "too_long", Message: fmt.Sprintf("at most %d bytes", MaxEmailBody)})
	}
	if len(errs) > 0 {
		return Invalid(errs)
	}
	if _, _, errs := t.parse(); len(errs) > 0 {
		return Invalid(errs)
	}
	_, _, err := t.Render(EmailData{})
	return err
}

// Render executes the template. Errors: EINVALID naming the part.
func (t EmailTemplate) Render(d EmailData) (subject, body string, err error) {
	st, bt, errs := t.parse()
	if len(errs) > 0 {
		return "", "", Invalid(errs)
	}
	deadline := time.Now().Add(MaxRenderTime)
	sb := &boundedWriter{max: MaxRenderedEmail, deadline: deadline}
	bb := &boundedWriter{max: MaxRenderedEmail, deadline: deadline}
	if err := st.Execute(sb, d); err != nil {
		errs = append(errs, FieldError{Field: "subject", Code: "invalid_template", Message: err.Error()})
	}
	if err := bt.Execute(bb, d); err != nil {
		errs = append(errs, FieldError{Field: "body", Code: "invalid_template", Message: err.Error()})
	}
	if len(errs) > 0 {
		return "", "", Invalid(errs)
	}
	// A subject is one line.
	subject = strings.Join(strings.Fields(sb.String()), " ")
	if len(subject) > MaxEmailSubject {
		subject = subject[:MaxEmailSubject]
	}
	return subject, bb.String(), nil
}

// EmailTemplateService keeps the edited templates.
type EmailTemplateService interface {
	// EmailTemplates returns every template: the edited ones and the
	// built-in ones not edited.
	EmailTemplates(ctx context.Context) ([]EmailTemplate, error)
	// EmailTemplate returns one. Errors: ENOTFOUND.
	EmailTemplate(ctx context.Context, name string) (*EmailTemplate, error)
	// PutEmailTemplate stores an edited template (ifVersion > 0 must match).
	// Errors: EINVALID, EPRECONDITION.
	PutEmailTemplate(ctx context.Context, t EmailTemplate, ifVersion int64) (*EmailTemplate, error)
	// ResetEmailTemplate drops the edit of a built-in template (or deletes
	// a custom one). Errors: ENOTFOUND.
	ResetEmailTemplate(ctx context.Context, name string) error
}

// FileContentType is the media type of an attachment by its name's
// extension (PDF when unknown, as documents are).
func FileContentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".png":
		return "image/png"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	}
	return "application/pdf"
}
