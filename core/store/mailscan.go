package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.MailStore = (*Store)(nil)

// MailFolder implements core.MailStore.
func (s *Store) MailFolder(ctx context.Context, mailbox, folder string) (core.MailFolderState, error) {
	var st core.MailFolderState
	var uv, last int64
	err := s.db(ctx).QueryRow(ctx, `SELECT uid_validity, last_uid FROM mailscan_folders WHERE mailbox = $1 AND folder = $2`,
		mailbox, folder).Scan(&uv, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	st.UIDValidity = uint32(uv)
	st.LastUID = uint32(last)
	return st, wrap("mail folder", err)
}

// ResetMailFolder implements core.MailStore.
func (s *Store) ResetMailFolder(ctx context.Context, mailbox, folder string, uidValidity uint32) error {
	_, err := s.db(ctx).Exec(ctx, `INSERT INTO mailscan_folders (mailbox, folder, uid_validity, last_uid, updated_at)
		VALUES ($1, $2, $3, 0, now())
		ON CONFLICT (mailbox, folder) DO UPDATE SET uid_validity = $3, last_uid = 0, updated_at = now()`,
		mailbox, folder, int64(uidValidity))
	return wrap("reset mail folder", err)
}

// advanceFolder moves the folder's last UID up to the message's.
func advanceFolder(ctx context.Context, tx pgx.Tx, o core.MailOrigin) error {
	_, err := tx.Exec(ctx, `INSERT INTO mailscan_folders (mailbox, folder, uid_validity, last_uid, updated_at)
		VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (mailbox, folder) DO UPDATE SET last_uid = greatest(mailscan_folders.last_uid, $4), updated_at = now()
		WHERE mailscan_folders.uid_validity = $3`, o.Mailbox, o.Folder, int64(o.UIDValidity), int64(o.UID))
	return err
}

// IngestMail implements core.MailStore.
func (s *Store) IngestMail(ctx context.Context, o core.MailOrigin, m *core.InboundMail, steps []core.MailStep) (core.MailResult, error) {
	var res core.MailResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var seen string
		err := tx.QueryRow(ctx, `SELECT status FROM mailscan_messages WHERE mailbox = $1 AND message_id = $2`,
			o.Mailbox, m.MessageID).Scan(&seen)
		if err == nil {
			res = core.MailResult{Outcome: "duplicate"}
			return advanceFolder(ctx, tx, o)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if res, err = s.applyMail(ctx, tx, o.Mailbox, m, steps); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO mailscan_messages (mailbox, message_id, folder, uid_validity, uid, status,
			outcome, rule, entity, record_id, activity_id, processed_at)
			VALUES ($1, $2, $3, $4, $5, 'processed', $6, $7, $8, nullif($9, '')::uuid, nullif($10, '')::uuid, now())`,
			o.Mailbox, m.MessageID, o.Folder, int64(o.UIDValidity), int64(o.UID), res.Outcome, res.Rule, res.Entity,
			res.RecordID, res.ActivityID); err != nil {
			return err
		}
		return advanceFolder(ctx, tx, o)
	})
	if err != nil {
		return res, fmt.Errorf("ingest mail %s: %w", m.MessageID, err)
	}
	return res, nil
}

// FailMail implements core.MailStore.
func (s *Store) FailMail(ctx context.Context, o core.MailOrigin, messageID, reason string) error {
	reason = core.Clip(strings.ToValidUTF8(reason, "?"), 1000) // a byte cut could split a character PostgreSQL refuses
	return wrap("fail mail", s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO mailscan_messages (mailbox, message_id, folder, uid_validity, uid, status, error, processed_at)
			VALUES ($1, $2, $3, $4, $5, 'failed', $6, now()) ON CONFLICT (mailbox, message_id) DO NOTHING`,
			o.Mailbox, messageID, o.Folder, int64(o.UIDValidity), int64(o.UID), reason); err != nil {
			return err
		}
		return advanceFolder(ctx, tx, o)
	}))
}

// mailLinks are the records a message is filed under.
type mailLinks struct {
	entity, id                   string // the main record (attachments go there)
	lead, contact, account, deal *string
	owner                        string
}

func (l *mailLinks) set(entity, id string) {
	v := id
	switch entity {
	case core.EntityLead:
		l.lead = &v
	case core.EntityContact:
		l.contact = &v
	case core.EntityAccount:
		l.account = &v
	case core.EntityDeal:
		l.deal = &v
	}
	if l.entity == "" {
		l.entity, l.id = entity, id
	}
}

// applyMail runs the steps in order: the first that finds or makes a
// record gets the message.
func (s *Store) applyMail(ctx context.Context, tx pgx.Tx, mailbox string, m *core.InboundMail, steps []core.MailStep) (core.MailResult, error) {
	for _, st := range steps {
		var (
			links   *mailLinks
			found   bool
			created bool
			err     error
		)
		switch st.Action {
		case core.MailSkip:
			return core.MailResult{Outcome: "skipped", Rule: st.Rule}, nil
		case core.MailCreateLead, core.MailCreateContact, core.MailCreateAccount:
			if links, found, err = s.mailRecordByAddress(ctx, tx, m.From); err != nil {
				return core.MailResult{}, err
			}
			if !found {
				if links, err = s.createFromMail(ctx, tx, st, m); err != nil {
					return core.MailResult{}, err
				}
				found = true
				created = true
			}
		case core.MailLinkFrom:
			links, found, err = s.mailRecordByAddress(ctx, tx, m.From)
		case core.MailLinkTo:
			for _, a := range append(append([]string{}, m.To...), m.Cc...) {
				if links, found, err = s.mailRecordByAddress(ctx, tx, a); found || err != nil {
					break
				}
			}
		case core.MailLinkDeal:
			links, found, err = s.mailRecordByDocument(ctx, tx, m.References, st.DocumentNumber)
		default:
			return core.MailResult{}, fmt.Errorf("unknown mail action %q", st.Action)
		}
		if err != nil {
			return core.MailResult{}, err
		}
		if !found {
			continue // this rule found nothing: the next one tries
		}
		if links.owner == "" {
			links.owner = st.OwnerID
		}
		act, err := s.fileMail(ctx, tx, mailbox, m, links)
		if err != nil {
			return core.MailResult{}, err
		}
		outcome := "attached"
		if created {
			outcome = "created"
		}
		return core.MailResult{Outcome: outcome, Rule: st.Rule, Entity: links.entity, RecordID: links.id, ActivityID: act}, nil
	}
	return core.MailResult{Outcome: "unmatched"}, nil
}

// mailRecordByAddress finds the record with an e-mail address: a contact
// first, then a lead, then an account.
func (s *Store) mailRecordByAddress(ctx context.Context, db dbtx, addr string) (*mailLinks, bool, error) {
	if addr == "" {
		return nil, false, nil
	}
	matches, err := s.duplicates(ctx, db, core.DuplicateKeys{Emails: []string{addr}})
	if err != nil {
		return nil, false, err
	}
	for _, kind := range []string{core.EntityContact, core.EntityLead, core.EntityAccount} {
		for _, mt := range matches {
			if mt.Entity != kind || !containsString(mt.MatchedOn, "email") {
				continue
			}
			l := &mailLinks{owner: mt.OwnerID}
			l.set(kind, mt.ID)
			if kind == core.EntityContact {
				var acc *string
				if err := db.QueryRow(ctx, `SELECT account_id::text FROM contacts WHERE id = $1`, mt.ID).Scan(&acc); err != nil {
					return nil, false, err
				}
				l.account = acc
			}
			return l, true, nil
		}
	}
	return nil, false, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// mailRecordByDocument finds the deal (and customer) a message is about:
// a reply to an e-mail the hub sent (its References), else a document
// whose number the subject names.
func (s *Store) mailRecordByDocument(ctx context.Context, tx pgx.Tx, refs []string, number string) (*mailLinks, bool, error) {
	var kind, id string
	if len(refs) > 0 {
		err := tx.QueryRow(ctx, `SELECT document_kind, document_id::text FROM emails WHERE message_id = ANY($1) AND deleted_at IS NULL
			ORDER BY created_at DESC LIMIT 1`, refs).Scan(&kind, &id)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, false, err
		}
	}
	tables := map[string]string{core.EntityQuote: "quotes", core.EntityInvoice: "invoices", core.EntityAct: "acts",
		core.EntityRealization: "realizations", core.EntitySalesOrder: "sales_orders"}
	var deal, contact, account *string
	switch {
	case id != "" && tables[kind] != "":
		if err := tx.QueryRow(ctx, `SELECT deal_id::text, contact_id::text, account_id::text FROM `+tables[kind]+` WHERE id = $1`, id).
			Scan(&deal, &contact, &account); err != nil {
			return nil, false, err
		}
	case number != "":
		err := tx.QueryRow(ctx, `SELECT kind, id, deal_id, contact_id, account_id FROM (
				SELECT 'quote' AS kind, id::text AS id, deal_id::text, contact_id::text, account_id::text, created_at FROM quotes WHERE number = $1 AND deleted_at IS NULL
				UNION ALL SELECT 'invoice', id::text, deal_id::text, contact_id::text, account_id::text, created_at FROM invoices WHERE number = $1 AND deleted_at IS NULL
				UNION ALL SELECT 'act', id::text, deal_id::text, contact_id::text, account_id::text, created_at FROM acts WHERE number = $1 AND deleted_at IS NULL
				UNION ALL SELECT 'realization', id::text, deal_id::text, contact_id::text, account_id::text, created_at FROM realizations WHERE number = $1 AND deleted_at IS NULL
				UNION ALL SELECT 'sales_order', id::text, deal_id::text, contact_id::text, account_id::text, created_at FROM sales_orders WHERE number = $1 AND deleted_at IS NULL
			) d ORDER BY created_at DESC LIMIT 1`, number).Scan(&kind, &id, &deal, &contact, &account)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	default:
		return nil, false, nil
	}
	l := &mailLinks{contact: contact, account: account}
	switch {
	case deal != nil:
		l.deal = deal
		l.entity, l.id = core.EntityDeal, *deal
	case contact != nil:
		l.entity, l.id = core.EntityContact, *contact
	case account != nil:
		l.entity, l.id = core.EntityAccount, *account
	default:
		return nil, false, nil // a document without a customer: nothing to file it under
	}
	var owner string
	if err := tx.QueryRow(ctx, `SELECT owner_id::text FROM `+map[string]string{core.EntityDeal: "deals",
		core.EntityContact: "contacts", core.EntityAccount: "accounts"}[l.entity]+` WHERE id = $1`, l.id).Scan(&owner); err != nil {
		return nil, false, err
	}
	l.owner = owner
	return l, true, nil
}

// publicMailDomains name no company.
var publicMailDomains = map[string]bool{"mail.ru": true, "bk.ru": true, "inbox.ru": true, "list.ru": true, "internet.ru": true,
	"yandex.ru": true, "ya.ru": true, "yandex.com": true, "rambler.ru": true, "gmail.com": true, "googlemail.com": true,
	"outlook.com": true, "hotmail.com": true, "icloud.com": true, "me.com": true, "yahoo.com": true, "proton.me": true, "protonmail.com": true}

// createFromMail makes a lead, contact or account of the sender (name
// split from the display name: the first word is the first name, the rest
// the last name; no name: the address).
func (s *Store) createFromMail(ctx context.Context, tx pgx.Tx, st core.MailStep, m *core.InboundMail) (*mailLinks, error) {
	first, last := "", ""
	if f := strings.Fields(m.FromName); len(f) > 0 {
		first, last = f[0], strings.Join(f[1:], " ")
		if last == "" {
			first, last = "", f[0]
		}
	}
	if last == "" {
		last = m.From
	}

	domain := m.From[strings.LastIndexByte(m.From, '@')+1:]
	company := domain
	if publicMailDomains[domain] {
		company = strings.TrimSpace(m.FromName)
		if company == "" {
			company = m.From
		}
	}

	desc := mailText(m)
	p := core.PatchOf(map[string]any{"email": m.From, "description": core.Clip(desc, 32_000)})
	if st.OwnerID != "" {
		p.Set("owner_id", st.OwnerID)
	}
	if m.Phone != "" {
		p.Set("phone", m.Phone)
	}

	var (
		entity, id string
		err        error
	)
	switch st.Action {
	case core.MailCreateLead:
		p.Set("first_name", core.Clip(first, 80)).Set("last_name", core.Clip(last, 80))
		p.Set("company", core.Clip(company, 200)).Set("source", "email")
		var l *core.Lead
		if l, err = s.tables.lead.createWith(ctx, s, p, writeOpts{tx: tx}); err == nil {
			entity, id = core.EntityLead, l.ID
		}
	case core.MailCreateContact:
		p.Set("first_name", core.Clip(first, 80)).Set("last_name", core.Clip(last, 80))
		var c *core.Contact
		if c, err = s.tables.contact.createWith(ctx, s, p, writeOpts{tx: tx}); err == nil {
			entity, id = core.EntityContact, c.ID
		}
	default:
		name := strings.TrimSpace(m.FromName)
		if name == "" {
			name = company
		}
		p.Set("name", core.Clip(name, 250))
		var a *core.Account
		if a, err = s.tables.account.createWith(ctx, s, p, writeOpts{tx: tx}); err == nil {
			entity, id = core.EntityAccount, a.ID
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create %s from mail: %w", strings.TrimPrefix(st.Action, "create_"), err)
	}

	l := &mailLinks{owner: st.OwnerID}
	l.set(entity, id)
	return l, nil
}

// mailText is the stored text of a message: the body, then its signature
// and the quoted reply, each marked.
func mailText(m *core.InboundMail) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(m.Text))
	if m.Signature != "" {
		b.WriteString("\n\n[Подпись]\n" + strings.TrimSpace(m.Signature))
	}
	if m.Quoted != "" {
		b.WriteString("\n\n[Цитата]\n" + strings.TrimSpace(m.Quoted))
	}
	return b.String()
}

// fileMail stores the message as an activity (kind email) on the records
// and its attachments on the main record; it returns the activity's id.
func (s *Store) fileMail(ctx context.Context, tx pgx.Tx, mailbox string, m *core.InboundMail, l *mailLinks) (string, error) {
	at := m.Date
	if now := s.now(); at.IsZero() || at.After(now) {
		at = now // an event is held only once it has started
	}
	var head strings.Builder
	from := m.From
	if m.FromName != "" {
		from = core.FormatAddress(m.FromName, m.From)
	}
	fmt.Fprintf(&head, "От: %s\n", from)
	if len(m.To) > 0 {
		fmt.Fprintf(&head, "Кому: %s\n", strings.Join(m.To, ", "))
	}
	if len(m.Cc) > 0 {
		fmt.Fprintf(&head, "Копия: %s\n", strings.Join(m.Cc, ", "))
	}
	fmt.Fprintf(&head, "Дата: %s\nMessage-ID: <%s>\n", at.In(moscow).Format("02.01.2006 15:04 MST"), m.MessageID)
	var files []string
	for _, f := range m.Attachments {
		files = append(files, fmt.Sprintf("%s (%d байт)", f.Name, len(f.Data)))
	}
	for _, f := range m.Skipped {
		files = append(files, f+" (не сохранено: больше допустимого)")
	}
	if len(files) > 0 {
		fmt.Fprintf(&head, "Вложения: %s\n", strings.Join(files, ", "))
	}
	subject := strings.TrimSpace(m.Subject)
	if subject == "" {
		subject = "(без темы)"
	}
	p := core.PatchOf(map[string]any{"kind": core.KindEmail, "subject": core.Clip(subject, 250), "status": "held",
		"start_at": at, "end_at": at, "description": core.Clip(head.String()+"\n"+mailText(m), 32_000)})
	if l.owner != "" {
		p.Set("owner_id", l.owner)
	}
	for k, v := range map[string]*string{"lead_id": l.lead, "contact_id": l.contact, "account_id": l.account, "deal_id": l.deal} {
		if v != nil {
			p.Set(k, *v)
		}
	}
	act, err := s.tables.activity.createWith(ctx, s, p, writeOpts{tx: tx})
	if err != nil {
		return "", fmt.Errorf("mail activity: %w", err)
	}
	for _, f := range m.Attachments {
		if _, err := s.attach(ctx, tx, l.entity, l.id, "mailscan:"+mailbox, f); err != nil {
			return "", err
		}
	}
	return act.ID, nil
}

// moscow shows mail dates the way the office reads them.
var moscow = time.FixedZone("MSK", 3*60*60)

var _ core.MailboxStore = (*Store)(nil)

func scanMailbox(def []byte, created, updated time.Time, version int64) (core.MailboxConfig, error) {
	var m core.MailboxConfig
	if err := json.Unmarshal(def, &m); err != nil {
		return m, fmt.Errorf("stored mailbox: %w", err)
	}
	c, u := created.UTC(), updated.UTC()
	m.CreatedAt = &c
	m.UpdatedAt = &u
	m.Version = version
	m.Managed = "api"
	return m, nil
}

// Mailboxes implements core.MailboxStore.
func (s *Store) Mailboxes(ctx context.Context) ([]core.MailboxConfig, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT definition, created_at, updated_at, version FROM mailscan_mailboxes ORDER BY name`)
	if err != nil {
		return nil, wrap("mailboxes", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.MailboxConfig, error) {
		var (
			def              []byte
			created, updated time.Time
			version          int64
		)
		if err := r.Scan(&def, &created, &updated, &version); err != nil {
			return core.MailboxConfig{}, err
		}
		return scanMailbox(def, created, updated, version)
	})
	return out, wrap("mailboxes", err)
}

// Mailbox implements core.MailboxStore.
func (s *Store) Mailbox(ctx context.Context, name string) (*core.MailboxConfig, error) {
	var (
		def              []byte
		created, updated time.Time
		version          int64
	)
	err := s.db(ctx).QueryRow(ctx, `SELECT definition, created_at, updated_at, version FROM mailscan_mailboxes WHERE name = $1`, name).
		Scan(&def, &created, &updated, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "mailbox %q not found", name)
	}
	if err != nil {
		return nil, wrap("mailbox", err)
	}
	m, err := scanMailbox(def, created, updated, version)
	return &m, wrap("mailbox", err)
}

// PutMailbox implements core.MailboxStore (the caller has checked the
// definition with the scanner's rules).
func (s *Store) PutMailbox(ctx context.Context, m core.MailboxConfig, ifVersion int64) (*core.MailboxConfig, error) {
	m.Managed = ""
	m.CreatedAt = nil
	m.UpdatedAt = nil
	m.Version = 0
	m.PasswordEnv = ""
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if ifVersion == 0 {
			def, err := json.Marshal(m)
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO mailscan_mailboxes (name, definition, created_at, updated_at, version)
				VALUES ($1, $2, $3, $3, 1) ON CONFLICT (name) DO NOTHING`, m.Name, def, now)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return core.Errorf(core.ECONFLICT, "mailbox %q exists", m.Name)
			}
			return nil
		}

		var old []byte
		var version int64
		err := tx.QueryRow(ctx, `SELECT definition, version FROM mailscan_mailboxes WHERE name = $1 FOR UPDATE`, m.Name).Scan(&old, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			return core.Errorf(core.ENOTFOUND, "mailbox %q not found", m.Name)
		}
		if err != nil {
			return err
		}
		if version != ifVersion {
			return core.Errorf(core.EPRECONDITION, "mailbox %q changed since version %d", m.Name, ifVersion)
		}
		if m.Password == "" { // write-only: a replacement without it keeps it
			var prev core.MailboxConfig
			if err := json.Unmarshal(old, &prev); err != nil {
				return err
			}
			m.Password = prev.Password
		}
		def, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE mailscan_mailboxes SET definition = $2, updated_at = $3, version = version + 1 WHERE name = $1`,
			m.Name, def, now)
		return err
	})
	if err != nil {
		return nil, wrap("put mailbox", err)
	}
	return s.Mailbox(ctx, m.Name)
}

// DeleteMailbox implements core.MailboxStore.
func (s *Store) DeleteMailbox(ctx context.Context, name string, ifVersion int64) error {
	tag, err := s.db(ctx).Exec(ctx, `DELETE FROM mailscan_mailboxes WHERE name = $1 AND ($2 = 0 OR version = $2)`, name, ifVersion)
	if err != nil {
		return wrap("delete mailbox", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.Mailbox(ctx, name); err != nil {
			return wrap("delete mailbox", err)
		}
		return core.Errorf(core.EPRECONDITION, "mailbox %q changed since version %d", name, ifVersion)
	}
	return nil
}
