package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var (
	_ core.EmailService         = emails{}
	_ core.EmailTemplateService = (*Store)(nil)
)

func newEmailTable() *table[core.EmailMessage, *core.EmailMessage] {
	return (&table[core.EmailMessage, *core.EmailMessage]{
		entity: core.EntityEmail, name: "emails",
		// No field of an e-mail is written through a patch.
		schema: func() *core.Schema[core.EmailMessage] { return core.NewSchema[core.EmailMessage]() },
		cols: func(e *core.EmailMessage) []col {
			return []col{{"document_kind", &e.DocumentKind}, {"document_id", &e.DocumentID}, {"form", &e.Form},
				{"from_addr", &e.From}, {"to_addrs", &e.To}, {"cc_addrs", &e.Cc}, {"subject", &e.Subject},
				{"body", &e.Body}, {"attachment_id", &e.AttachmentID}, {"attachment_name", &e.AttachmentName},
				{"message_id", &e.MessageID}, {"status", &e.Status}, {"attempts", &e.Attempts},
				{"last_error", &e.LastError}, {"next_attempt_at", &e.NextAttemptAt}, {"sent_at", &e.SentAt},
				{"account_id", &e.AccountID}, {"contact_id", &e.ContactID}, {"deal_id", &e.DealID},
				{"activity_id", &e.ActivityID}}
		},
		validate: func(*core.EmailMessage) error { return nil },
		sorts:    commonSorts[core.EmailMessage](nil),
	}).init()
}

// emails keeps outgoing e-mails; Store.Emails returns it.
type emails struct {
	s *Store
	t *table[core.EmailMessage, *core.EmailMessage]
}

// Emails returns the outgoing e-mail store.
func (s *Store) Emails() core.EmailService { return emails{s: s, t: s.tables.email} }

// Queue implements core.EmailService.
func (r emails) Queue(ctx context.Context, q core.QueuedEmail, lease time.Duration) (*core.EmailMessage, bool, error) {
	var (
		out      *core.EmailMessage
		replayed bool
	)
	err := r.s.inTx(ctx, func(tx pgx.Tx) error {
		owner, err := r.s.defaultOwner(ctx, tx)
		if err != nil {
			return err
		}
		if q.IdempotencyKey != "" {
			var id, fingerprint string
			err := tx.QueryRow(ctx, `SELECT id::text, fingerprint FROM emails WHERE owner_id = $1 AND idempotency_key = $2`,
				owner, q.IdempotencyKey).Scan(&id, &fingerprint)
			switch {
			case err == nil && fingerprint != q.Fingerprint:
				return core.Errorf(core.ECONFLICT, "the Idempotency-Key was used for a different request")
			case err == nil:
				replayed = true
				rec, err := r.t.get(ctx, tx, id, "")
				out = (*core.EmailMessage)(rec)
				return err
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		e := q.Email
		now := r.s.now()
		if e.ID == "" {
			e.ID = uuid.Must(uuid.NewV7()).String()
		}
		e.OwnerID, e.CreatedAt, e.UpdatedAt, e.Version = owner, now, now, 1
		e.Status, e.Attempts, e.LastError, e.SentAt, e.ActivityID = core.EmailQueued, 0, "", nil, nil
		due := now.Add(lease)
		e.NextAttemptAt = &due
		if e.Cc == nil {
			e.Cc = []string{}
		}
		if e.MessageID == "" {
			e.MessageID = e.ID + "@crmhub"
		}
		if q.Attachment != nil {
			id, err := r.s.attach(ctx, tx, core.EntityEmail, e.ID, "email",
				core.FormFile{Name: e.AttachmentName, ContentType: core.FileContentType(e.AttachmentName), Data: q.Attachment})
			if err != nil {
				return err
			}
			e.AttachmentID = &id
		}
		var key *string
		if q.IdempotencyKey != "" {
			key = &q.IdempotencyKey
		}
		if err := r.s.write(ctx, tx, mutation{sql: r.t.insertSQL, args: r.t.args(&e), wantRows: 1,
			entity: core.EntityEmail, op: core.OpCreated, id: e.ID, version: 1, data: &e,
			extra: []queuedStmt{{`UPDATE emails SET idempotency_key = $2, fingerprint = $3 WHERE id = $1`,
				[]any{e.ID, key, q.Fingerprint}}}}); err != nil {
			return err
		}
		out = &e
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("queue email: %w", err)
	}
	return out, replayed, nil
}

// Get implements core.EmailService.
func (r emails) Get(ctx context.Context, id string) (*core.EmailMessage, error) {
	rec, err := r.t.getFor(ctx, r.s.db(ctx), id, core.ActView)
	return (*core.EmailMessage)(rec), wrap("get email", err)
}

// List implements core.EmailService.
func (r emails) List(ctx context.Context, f core.EmailFilter) (core.Page[core.EmailMessage], error) {
	q := &query{}
	if f.DocumentKind != "" {
		q.where("document_kind = " + q.arg(f.DocumentKind))
	}
	if f.DocumentID != "" {
		if _, err := uuid.Parse(f.DocumentID); err != nil {
			return core.Page[core.EmailMessage]{Items: []core.EmailMessage{}}, nil
		}
		q.where("document_id = " + q.arg(f.DocumentID))
	}
	if len(f.Statuses) > 0 {
		q.where("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	if f.Query != "" {
		q.anyLike(f.Query, "subject", "array_to_string(to_addrs, ' ')", "message_id")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}

// ClaimEmails implements core.EmailService: FOR UPDATE SKIP LOCKED, then a
// lease, committed at once (no lock is held while the caller talks SMTP).
func (r emails) ClaimEmails(ctx context.Context, limit int, lease time.Duration) ([]core.EmailMessage, error) {
	rows, err := r.s.db(ctx).Query(ctx, `UPDATE emails SET next_attempt_at = now() + make_interval(secs => $2)
		WHERE id IN (SELECT id FROM emails WHERE status = 'queued' AND next_attempt_at <= now() AND deleted_at IS NULL
			ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING `+strings.TrimPrefix(r.t.selectSQL[:strings.Index(r.t.selectSQL, " FROM ")], "SELECT "), limit, lease.Seconds())
	if err != nil {
		return nil, wrap("claim emails", err)
	}
	defer rows.Close()
	var out []core.EmailMessage
	for rows.Next() {
		rec, err := r.t.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *rec)
	}
	return out, rows.Err()
}

// maxErrorText bounds a stored SMTP reply.
const maxErrorText = 1000

// RecordAttempt implements core.EmailService.
func (r emails) RecordAttempt(ctx context.Context, id string, o core.EmailOutcome, maxAttempts int) (*core.EmailMessage, error) {
	var out *core.EmailMessage
	err := r.s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := r.t.get(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		rec := *old
		out = &rec
		if old.Status != core.EmailQueued {
			return nil // recorded already (a lease outlived by a slow server)
		}
		rec.Attempts++
		now := r.s.now()
		switch {
		case o.Sent:
			rec.Status, rec.SentAt, rec.LastError, rec.NextAttemptAt = core.EmailSent, &now, "", nil
			if rec.DocumentKind != core.EntityReportSchedule { // a report to colleagues is no customer activity
				act, err := r.s.tables.activity.createWith(ctx, r.s, emailActivity(&rec, now), writeOpts{tx: tx})
				if err != nil {
					return fmt.Errorf("activity: %w", err)
				}
				rec.ActivityID = &act.ID
			}
		default:
			rec.LastError = core.Clip(strings.ToValidUTF8(o.Error, "?"), maxErrorText)
			if o.Permanent || rec.Attempts >= maxAttempts {
				rec.Status, rec.NextAttemptAt = core.EmailFailed, nil
			} else {
				at := o.RetryAt.UTC().Truncate(time.Microsecond)
				rec.NextAttemptAt = &at
			}
		}
		return r.t.rewrite(ctx, r.s, tx, old, &rec, core.OpUpdated, func() {})
	})
	if err != nil {
		return nil, fmt.Errorf("record email attempt: %w", err)
	}
	return out, nil
}

// emailActivity is the activity recording a sent e-mail: an event at the
// moment the server accepted it, on the document's account, contact and
// deal, owned by the e-mail's owner.
func emailActivity(e *core.EmailMessage, at time.Time) core.Patch {
	desc := "Кому: " + strings.Join(e.To, ", ")
	if len(e.Cc) > 0 {
		desc += "\nКопия: " + strings.Join(e.Cc, ", ")
	}
	if e.AttachmentName != "" {
		desc += "\nВложение: " + e.AttachmentName
	}
	desc += "\nMessage-ID: <" + e.MessageID + ">\n\n" + e.Body
	subject := core.Clip(e.Subject, 250)
	if strings.TrimSpace(subject) == "" {
		subject = "Письмо"
	}
	p := core.PatchOf(map[string]any{"kind": core.KindEmail, "subject": subject, "status": "held",
		"start_at": at, "end_at": at, "owner_id": e.OwnerID, "description": core.Clip(desc, 32_000)})
	for k, v := range map[string]*string{"contact_id": e.ContactID, "account_id": e.AccountID, "deal_id": e.DealID} {
		if v != nil {
			p.Set(k, *v)
		}
	}
	return p
}

// RetryEmail implements core.EmailService.
func (r emails) RetryEmail(ctx context.Context, id string, lease time.Duration) (*core.EmailMessage, error) {
	var out *core.EmailMessage
	err := r.s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := r.t.get(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if old.Status != core.EmailFailed {
			return core.Errorf(core.ECONFLICT, "the e-mail is %s; only a failed one is retried", old.Status)
		}
		rec := *old
		due := r.s.now().Add(lease)
		rec.Status, rec.Attempts, rec.NextAttemptAt = core.EmailQueued, 0, &due
		out = &rec
		return r.t.rewrite(ctx, r.s, tx, old, &rec, core.OpUpdated, func() {})
	})
	return out, wrap("retry email", err)
}

// EmailTemplates implements core.EmailTemplateService.
func (s *Store) EmailTemplates(ctx context.Context) ([]core.EmailTemplate, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT name, subject, body, updated_at, version FROM email_templates ORDER BY name`)
	if err != nil {
		return nil, wrap("email templates", err)
	}
	stored, err := pgx.CollectRows(rows, scanEmailTemplate)
	if err != nil {
		return nil, wrap("email templates", err)
	}
	byName := map[string]core.EmailTemplate{}
	for _, t := range stored {
		byName[t.Name] = t
	}
	var out []core.EmailTemplate
	for _, d := range core.DefaultEmailTemplates() {
		if t, ok := byName[d.Name]; ok {
			out = append(out, t)
			delete(byName, d.Name)
			continue
		}
		out = append(out, d)
	}
	for _, t := range stored {
		if _, ok := byName[t.Name]; ok {
			out = append(out, t)
		}
	}
	return out, nil
}

func scanEmailTemplate(r pgx.CollectableRow) (core.EmailTemplate, error) {
	var t core.EmailTemplate
	var at time.Time
	err := r.Scan(&t.Name, &t.Subject, &t.Body, &at, &t.Version)
	at = at.UTC()
	t.UpdatedAt, t.Custom = &at, true
	return t, err
}

// EmailTemplate implements core.EmailTemplateService.
func (s *Store) EmailTemplate(ctx context.Context, name string) (*core.EmailTemplate, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT name, subject, body, updated_at, version FROM email_templates WHERE name = $1`, name)
	if err != nil {
		return nil, wrap("email template", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanEmailTemplate)
	if errors.Is(err, pgx.ErrNoRows) {
		if d, ok := core.DefaultEmailTemplate(name); ok {
			return &d, nil
		}
		return nil, core.Errorf(core.ENOTFOUND, "e-mail template %q not found", name)
	}
	return &t, wrap("email template", err)
}

// PutEmailTemplate implements core.EmailTemplateService.
func (s *Store) PutEmailTemplate(ctx context.Context, t core.EmailTemplate, ifVersion int64) (*core.EmailTemplate, error) {
	if !validTemplateName(t.Name) {
		return nil, core.Invalid([]core.FieldError{{Field: "name", Code: "invalid",
			Message: "1 to 64 lowercase letters, digits, '-' and '_'"}})
	}
	if err := t.Validate(); err != nil {
		return nil, wrap("put email template", err)
	}
	now := s.now()
	var version int64
	err := s.db(ctx).QueryRow(ctx, `INSERT INTO email_templates AS t (name, subject, body, updated_at, version)
		VALUES ($1, $2, $3, $4, 1)
		ON CONFLICT (name) DO UPDATE SET subject = $2, body = $3, updated_at = $4, version = t.version + 1
			WHERE $5 = 0 OR t.version = $5
		RETURNING version`, t.Name, t.Subject, t.Body, now, ifVersion).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.EPRECONDITION, "the template changed since version %d", ifVersion)
	}
	if err != nil {
		return nil, wrap("put email template", err)
	}
	t.UpdatedAt, t.Version, t.Custom = &now, version, true
	return &t, nil
}

// ResetEmailTemplate implements core.EmailTemplateService.
func (s *Store) ResetEmailTemplate(ctx context.Context, name string) error {
	tag, err := s.db(ctx).Exec(ctx, `DELETE FROM email_templates WHERE name = $1`, name)
	if err != nil {
		return wrap("reset email template", err)
	}
	if tag.RowsAffected() == 0 {
		return core.Errorf(core.ENOTFOUND, "e-mail template %q has no edits", name)
	}
	return nil
}

func validTemplateName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
