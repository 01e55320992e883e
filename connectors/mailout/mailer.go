package mailout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/printform"
)

// Config configures the document mailer.
type Config struct {
	SMTP SMTPConfig
	// MaxAttempts bounds tries of one e-mail. Default 8.
	MaxAttempts int
	// Backoff is the wait after the first failed try, doubling up to an
	// hour. Default 1 minute.
	Backoff time.Duration
	// PollInterval is how often the worker looks for e-mails due a retry.
	// Default 5 s.
	PollInterval time.Duration
	// Lease keeps an e-mail being sent from other workers. Default 5 min.
	Lease    time.Duration
	Logger   *slog.Logger
	Registry prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate checks the settings as an operator gave them, before New fills
// defaults: the server's (SMTPConfig.Validate) and the retries. Its
// messages name the keys as the hub's configuration does (smtp.from,
// smtp.max_attempts), like SMTPConfig's.
func (c Config) Validate() error {
	if err := c.SMTP.Validate(); err != nil {
		return err
	}
	if c.MaxAttempts < 1 || c.Backoff <= 0 {
		return errors.New("smtp.max_attempts: max_attempts must be at least 1 and retry_backoff positive")
	}
	return nil
}

// Deps are the services the mailer reads and writes.
type Deps struct {
	Printer     *printform.Printer
	Emails      core.EmailService
	Templates   core.EmailTemplateService
	Attachments core.AttachmentService
	Contacts    core.ContactService
	Accounts    core.AccountService
	Org         core.Organization
}

// Mailer e-mails documents; it implements core.DocumentMailer.
type Mailer struct {
	cfg    Config
	deps   Deps
	sender *Sender
	log    *slog.Logger
	sent   *prometheus.CounterVec
}

var _ core.DocumentMailer = (*Mailer)(nil)

// New returns a mailer.
func New(cfg Config, deps Deps) (*Mailer, error) {
	if deps.Printer == nil || deps.Emails == nil || deps.Templates == nil || deps.Attachments == nil ||
		deps.Contacts == nil || deps.Accounts == nil {
		return nil, errors.New("mailout: every dependency is required")
	}
	sender, err := NewSender(cfg.SMTP)
	if err != nil {
		return nil, err
	}
	cfg.setDefaults()
	m := &Mailer{cfg: cfg, deps: deps, sender: sender, log: cfg.Logger,
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crmhub_emails_total",
			Help: "Delivery attempts of documents' e-mails by outcome (sent, retry, failed)."}, []string{"outcome"})}
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(m.sent); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Send implements core.DocumentMailer.
func (m *Mailer) Send(ctx context.Context, r core.SendDocument) (*core.EmailMessage, bool, error) {
	if err := m.check(&r); err != nil {
		return nil, false, err
	}
	doc, err := m.deps.Printer.Document(ctx, printform.Request{Kind: r.Kind, ID: r.ID, Form: r.Form, UPDStatus: r.UPDStatus})
	if err != nil {
		return nil, false, err
	}
	contact, account, err := m.parties(ctx, doc.Doc)
	if err != nil {
		return nil, false, err
	}
	to := r.To
	cc := r.Cc
	if len(to) == 0 {
		switch {
		case contact != nil && contact.Email != "":
			to = []string{core.FormatAddress(contactName(contact), contact.Email)}
		case account != nil && account.Email != "":
			to = []string{core.FormatAddress(account.Name, account.Email)}
		default:
			return nil, false, core.Invalid([]core.FieldError{{Field: "to", Code: "required",
				Message: "the document's contact and account have no e-mail: give the recipients"}})
		}
	}
	subject, body, err := m.texts(ctx, r, doc, contact, account)
	if err != nil {
		return nil, false, err
	}
	id := uuid.Must(uuid.NewV7()).String()
	e := core.EmailMessage{DocumentKind: r.Kind, DocumentID: r.ID, Form: doc.Form, From: m.sender.From(), To: to, Cc: cc,
		Subject: subject, Body: body, AttachmentName: doc.FileName, MessageID: id + "@" + m.sender.Domain(),
		AccountID: doc.Doc.AccountID, ContactID: doc.Doc.ContactID, DealID: doc.Doc.DealID}
	e.ID = id
	queued, replayed, err := m.deps.Emails.Queue(ctx, core.QueuedEmail{Email: e, Attachment: doc.PDF,
		IdempotencyKey: r.IdempotencyKey, Fingerprint: r.Fingerprint}, m.cfg.Lease)
	if err != nil || replayed {
		return queued, replayed, err
	}
	out, err := m.deliver(ctx, queued, doc.PDF)
	return out, false, err
}

// SendFile queues an e-mail with one file (a report's result) and tries
// to deliver it at once; the worker retries it like a document's.
func (m *Mailer) SendFile(ctx context.Context, f core.SendFile) (*core.EmailMessage, error) {
	to, errs := core.ParseRecipients("to", f.To)
	if len(to) == 0 && len(errs) == 0 {
		errs = append(errs, core.FieldError{Field: "to", Code: "required", Message: "at least one recipient"})
	}
	if len(errs) > 0 {
		return nil, core.Invalid(errs)
	}
	id := uuid.Must(uuid.NewV7()).String()
	e := core.EmailMessage{DocumentKind: f.Kind, DocumentID: f.ID, Form: strings.TrimPrefix(path.Ext(f.FileName), "."),
		From: m.sender.From(), To: to, Cc: []string{}, Subject: strings.Join(strings.Fields(f.Subject), " "), Body: f.Body,
		AttachmentName: f.FileName, MessageID: id + "@" + m.sender.Domain()}
	e.ID = id
	queued, replayed, err := m.deps.Emails.Queue(ctx, core.QueuedEmail{Email: e, Attachment: f.Data, IdempotencyKey: f.IdempotencyKey},
		m.cfg.Lease)
	if err != nil || replayed {
		return queued, err
	}
	return m.deliver(ctx, queued, f.Data)
}

// check validates a request's own fields.
func (m *Mailer) check(r *core.SendDocument) error {
	var errs []core.FieldError
	var fe []core.FieldError
	r.To, fe = core.ParseRecipients("to", r.To)
	errs = append(errs, fe...)
	r.Cc, fe = core.ParseRecipients("cc", r.Cc)
	errs = append(errs, fe...)
	if len(r.Subject) > core.MaxEmailSubject {
		errs = append(errs, core.FieldError{Field: "subject", Code: "too_long", Message: fmt.Sprintf("at most %d bytes", core.MaxEmailSubject)})
	}
	if len(r.Body) > core.MaxEmailBody {
		errs = append(errs, core.FieldError{Field: "body", Code: "too_long", Message: fmt.Sprintf("at most %d bytes", core.MaxEmailBody)})
	}
	return core.Invalid(errs)
}

// parties reads the document's contact and account (nil when it has none).
func (m *Mailer) parties(ctx context.Context, d *core.DocumentBody) (*core.Contact, *core.Account, error) {
	var (
		contact *core.Contact
		account *core.Account
		err     error
	)
	if d.ContactID != nil {
		if contact, err = m.deps.Contacts.Get(ctx, *d.ContactID); err != nil && core.ErrorCode(err) != core.ENOTFOUND {
			return nil, nil, err
		}
	}
	if d.AccountID != nil {
		if account, err = m.deps.Accounts.Get(ctx, *d.AccountID); err != nil && core.ErrorCode(err) != core.ENOTFOUND {
			return nil, nil, err
		}
	}
	return contact, account, nil
}

func contactName(c *core.Contact) string {
	return strings.Join(strings.Fields(c.LastName+" "+c.FirstName+" "+c.MiddleName), " ")
}

// texts renders the subject and body: the template's, each replaced by
// the request's when given.
func (m *Mailer) texts(ctx context.Context, r core.SendDocument, doc *printform.Printed, c *core.Contact, a *core.Account) (string, string, error) {
	if r.Subject != "" && r.Body != "" {
		return strings.Join(strings.Fields(r.Subject), " "), r.Body, nil
	}
	name := r.Template
	if name == "" {
		name = r.Kind
	}
	t, err := m.deps.Templates.EmailTemplate(ctx, name)
	if err != nil {
		if core.ErrorCode(err) == core.ENOTFOUND {
			return "", "", core.Invalid([]core.FieldError{{Field: "template", Code: "not_found", Message: err.Error()}})
		}
		return "", "", err
	}
	subject, body, err := t.Render(m.data(r.Kind, doc, c, a))
	if err != nil {
		return "", "", err
	}
	if r.Subject != "" {
		subject = strings.Join(strings.Fields(r.Subject), " ")
	}
	if r.Body != "" {
		body = r.Body
	}
	return subject, body, nil
}

// data is what templates see of a document.
func (m *Mailer) data(kind string, doc *printform.Printed, c *core.Contact, a *core.Account) core.EmailData {
	var d core.EmailData
	d.Document.Kind, d.Document.Title, d.Document.Number = kind, doc.Title, doc.Number
	d.Document.Date = core.FormatDateLong(doc.Doc.Date.Time)
	d.Document.Currency = doc.Doc.Currency
	d.Document.Total = core.FormatAmount(doc.Doc.GrandTotal.Decimal) + " " + currencySign(doc.Doc.Currency)
	if !doc.Until.IsZero() {
		d.Document.Until = core.FormatDateLong(doc.Until)
	}
	o := m.deps.Org
	d.Organization.Name = o.ShortName
	if d.Organization.Name == "" {
		d.Organization.Name = o.Name
	}
	d.Organization.Phone = o.Phone
	d.Organization.Email = o.Email
	if a != nil {
		d.Account.Name = a.Name
	}
	d.Greeting = "Здравствуйте!"
	if c != nil {
		d.Contact.FirstName, d.Contact.MiddleName, d.Contact.LastName = c.FirstName, c.MiddleName, c.LastName
		d.Contact.FullName = contactName(c)
		if n := strings.TrimSpace(c.FirstName + " " + c.MiddleName); n != "" {
			d.Greeting = "Здравствуйте, " + n + "!"
		}
	}
	d.FileName = doc.FileName
	return d
}

func currencySign(code string) string {
	switch code {
	case "", "RUB":
		return "₽"
	default:
		return code
	}
}

// Retry implements core.DocumentMailer.
func (m *Mailer) Retry(ctx context.Context, id string) (*core.EmailMessage, error) {
	e, err := m.deps.Emails.RetryEmail(ctx, id, m.cfg.Lease)
	if err != nil {
		return nil, err
	}
	return m.deliver(ctx, e, nil)
}

// deliver makes one attempt at an e-mail leased to the caller and records
// its outcome; pdf is the attachment when the caller has it at hand.
func (m *Mailer) deliver(ctx context.Context, e *core.EmailMessage, pdf []byte) (*core.EmailMessage, error) {
	msg := Message{To: e.To, Cc: e.Cc, Subject: e.Subject, Body: e.Body, MessageID: e.MessageID}
	if e.AttachmentID != nil {
		if pdf == nil {
			_, data, err := m.deps.Attachments.AttachmentContent(ctx, *e.AttachmentID)
			if err != nil {
				return nil, fmt.Errorf("email %s attachment: %w", e.ID, err)
			}
			pdf = data
		}
		msg.Attachments = []Attachment{{Name: e.AttachmentName, ContentType: core.FileContentType(e.AttachmentName), Data: pdf}}
	}
	var out core.EmailOutcome
	if err := m.sender.Send(ctx, msg); err != nil {
		var se *SendError
		if !errors.As(err, &se) {
			se = &SendError{Err: err}
		}
		wait := m.cfg.Backoff << min(e.Attempts, 20)
		if wait > time.Hour || wait <= 0 {
			wait = time.Hour
		}
		out = core.EmailOutcome{Error: se.Error(), Permanent: se.Permanent, RetryAt: time.Now().Add(wait)}
	} else {
		out.Sent = true
	}
	// Recorded even when the request was cancelled meanwhile: the server
	// has answered, and forgetting that would send the message twice.
	rec, err := m.deps.Emails.RecordAttempt(context.WithoutCancel(ctx), e.ID, out, m.cfg.MaxAttempts)
	if err != nil {
		return nil, err
	}
	outcome := rec.Status
	if outcome == core.EmailQueued {
		outcome = "retry"
	}
	m.sent.WithLabelValues(outcome).Inc()
	m.log.Info("email_attempt", "id", e.ID, "document", e.DocumentKind+"/"+e.DocumentID, "attempt", rec.Attempts,
		"status", rec.Status, "error", rec.LastError, "message_id", e.MessageID)
	return rec, nil
}

// Run retries queued e-mails until ctx ends: those whose first attempt
// failed temporarily, and those whose sender died mid-attempt (their lease
// expired).
func (m *Mailer) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.PollInterval)
	defer t.Stop()
	for {
		if _, err := m.RunOnce(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("email_worker", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce attempts the e-mails due now (a batch at most); it returns how
// many it attempted.
func (m *Mailer) RunOnce(ctx context.Context) (int, error) {
	due, err := m.deps.Emails.ClaimEmails(ctx, 20, m.cfg.Lease)
	if err != nil {
		return 0, err
	}
	for i := range due {
		if ctx.Err() != nil {
			return i, nil // the rest wait for their leases to expire
		}
		if _, err := m.deliver(ctx, &due[i], nil); err != nil {
			return i, err
		}
	}
	return len(due), nil
}
