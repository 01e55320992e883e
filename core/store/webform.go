package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmhub/crmhub/core"
)

var (
	_ core.WebFormService    = (*Store)(nil)
	_ core.AttachmentService = (*Store)(nil)
)

// CaptureForm implements core.WebFormService. A submission that makes
// one record (a lead or contact, or a task on a known one) is written as
// one create with its submission row, through the group commit the API's
// creates share; a deal or files take a transaction of their own. The
// form's own duplicate policy decides (sub.Duplicates), so its records
// skip the store's.
func (s *Store) CaptureForm(ctx context.Context, sub core.FormSubmission) (*core.FormResult, error) {
	if sub.Form == "" || sub.Key == "" {
		return nil, core.Errorf(core.EINVALID, "a submission needs its form and key")
	}
	unlock, err := s.forms.lock(ctx, sub.Form+"\x00"+sub.Key)
	if err != nil {
		return nil, wrap("capture form", err)
	}
	defer unlock()
	var res *core.FormResult
	if _, inTx := s.db(ctx).(pgx.Tx); inTx || sub.Target == core.FormTargetDeal || len(sub.Files) > 0 {
		err = s.inTx(ctx, func(tx pgx.Tx) error {
			var err error
			res, err = s.captureForm(ctx, tx, sub)
			return err
		})
	} else {
		res, err = s.captureFormFast(ctx, sub)
	}
	var pgErr *pgconn.PgError
	if (errors.As(err, &pgErr) && pgErr.Code == "23505") || core.ErrorCode(err) == core.ECONFLICT {
		// The same submission captured concurrently: the other one won.
		if r, found, rerr := s.formRepeat(ctx, sub); rerr == nil && found {
			return r, nil
		}
	}
	return res, wrap("capture form", err)
}

// formRepeat reads the result of the submission's earlier capture; found
// is false when there was none.
func (s *Store) formRepeat(ctx context.Context, sub core.FormSubmission) (res *core.FormResult, found bool, err error) {
	res = &core.FormResult{Repeat: true}
	err = s.db(ctx).QueryRow(ctx, `SELECT entity, record_id::text, created, task_id::text FROM webform_submissions
		WHERE form = $1 AND submission_key = $2`, sub.Form, sub.Key).Scan(&res.Entity, &res.ID, &res.Created, &res.TaskID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return res, err == nil, err
}

// formLookups reads on db, in one round trip, whether the submission was
// captured before and which record its person matches (when the policy
// looks).
func (s *Store) formLookups(ctx context.Context, db dbtx, sub core.FormSubmission) (*core.FormResult, *core.DuplicateMatch, error) {
	var (
		repeat  *core.FormResult
		matches []core.DuplicateMatch
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT entity, record_id::text, created, task_id::text FROM webform_submissions
		WHERE form = $1 AND submission_key = $2`, sub.Form, sub.Key).QueryRow(func(row pgx.Row) error {
		r := &core.FormResult{Repeat: true}
		err := row.Scan(&r.Entity, &r.ID, &r.Created, &r.TaskID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		repeat = r
		return err
	})
	if !sub.Dup.Empty() && (sub.Duplicates == core.FormDupAttach || sub.Target == core.FormTargetDeal) {
		sql, args := dupQuery(ctx, sub.Dup)
		b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
			var err error
			matches, err = collectDuplicates(rows)
			return err
		})
	}
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, err
	}
	if m, ok := formMatch(sub.Target, matches); ok {
		return repeat, &m, nil
	}
	return repeat, nil, nil
}

// captureFormFast writes a submission that makes one record.
func (s *Store) captureFormFast(ctx context.Context, sub core.FormSubmission) (*core.FormResult, error) {
	repeat, match, err := s.formLookups(ctx, s.conn, sub)
	if repeat != nil || err != nil {
		return repeat, err
	}
	owner, err := s.formOwner(ctx, s.conn, sub)
	if err != nil {
		return nil, err
	}
	res := &core.FormResult{}
	// The submission's row goes in the record's own insert, given its id.
	in := func(record func(id string)) writeOpts {
		return writeOpts{skipDuplicates: true, extra: func(id string) []queuedStmt {
			record(id)
			return []queuedStmt{{`INSERT INTO webform_submissions (form, submission_key, entity, record_id, created, task_id, remote_ip, received_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, []any{sub.Form, sub.Key, res.Entity, res.ID, res.Created, res.TaskID, sub.RemoteIP, s.now()}}}
		}}
	}
	if match != nil && sub.Duplicates == core.FormDupAttach {
		res.Entity, res.ID = match.Entity, match.ID
		_, err = s.tables.activity.createWith(ctx, s, core.FormTask(sub, *match, s.now()), in(func(id string) { res.TaskID = &id }))
		return res, err
	}

	res.Created = true
	record := in(func(id string) { res.ID = id })
	if sub.Target == core.FormTargetContact {
		res.Entity = core.EntityContact
		_, err = s.tables.contact.createWith(ctx, s, withOwner(sub.Record, owner), record)
	} else {
		res.Entity = core.EntityLead
		_, err = s.tables.lead.createWith(ctx, s, withOwner(sub.Record, owner), record)
	}
	return res, err
}

func withOwner(p core.Patch, owner string) core.Patch {
	out := core.Patch{}
	for k, v := range p {
		out[k] = v
	}
	if owner != "" {
		out.Set("owner_id", owner)
	}
	return out
}

// captureForm writes a submission in tx: a deal with its contact, or a
// submission with files.
func (s *Store) captureForm(ctx context.Context, tx pgx.Tx, sub core.FormSubmission) (*core.FormResult, error) {
	// Two submissions of one person at once must not make two records:
	// their lookups and creations go one after the other.
	if k := firstKey(sub.Dup); k != "" {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('crmhub.person:' || $1, 0))`, k); err != nil {
			return nil, err
		}
	}
	repeat, match, err := s.formLookups(ctx, tx, sub)
	if repeat != nil || err != nil {
		return repeat, err
	}
	owner, err := s.formOwner(ctx, tx, sub)
	if err != nil {
		return nil, err
	}

	res, err := s.captureRecord(ctx, writeOpts{tx: tx, skipDuplicates: true}, sub, match, owner)
	if err != nil {
		return nil, err
	}
	for _, f := range sub.Files {
		if _, err := s.attach(ctx, tx, res.Entity, res.ID, "webform:"+sub.Form, f); err != nil {
			return nil, err
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO webform_submissions (form, submission_key, entity, record_id, created, task_id, remote_ip, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, sub.Form, sub.Key, res.Entity, res.ID, res.Created, res.TaskID, sub.RemoteIP, s.now())
	return res, err
}

// captureRecord makes the record of a submission with in's options: its
// deal (with its contact), a task on the known record it matches, or its
// contact or lead.
func (s *Store) captureRecord(ctx context.Context, in writeOpts, sub core.FormSubmission, match *core.DuplicateMatch, owner string) (*core.FormResult, error) {
	attach := match != nil && sub.Duplicates == core.FormDupAttach
	switch {
	case sub.Target == core.FormTargetDeal:
		deal := withOwner(sub.Record, owner)
		if attach {
			deal.Set(match.Entity+"_id", match.ID)
		} else if len(sub.Contact) > 0 {
			c, err := s.tables.contact.createWith(ctx, s, withOwner(sub.Contact, owner), in)
			if err != nil {
				return nil, fmt.Errorf("contact: %w", err)
			}
			deal.Set("contact_id", c.ID)
		}
		d, err := s.tables.deal.createWith(ctx, s, deal, in)
		if err != nil {
			return nil, err
		}
		return &core.FormResult{Entity: core.EntityDeal, ID: d.ID, Created: true}, nil
	case attach:
		a, err := s.tables.activity.createWith(ctx, s, core.FormTask(sub, *match, s.now()), in)
		if err != nil {
			return nil, fmt.Errorf("task: %w", err)
		}
		return &core.FormResult{Entity: match.Entity, ID: match.ID, TaskID: &a.ID}, nil
	case sub.Target == core.FormTargetContact:
		c, err := s.tables.contact.createWith(ctx, s, withOwner(sub.Record, owner), in)
		if err != nil {
			return nil, err
		}
		return &core.FormResult{Entity: core.EntityContact, ID: c.ID, Created: true}, nil
	}
	l, err := s.tables.lead.createWith(ctx, s, withOwner(sub.Record, owner), in)
	if err != nil {
		return nil, err
	}
	return &core.FormResult{Entity: core.EntityLead, ID: l.ID, Created: true}, nil
}

func firstKey(k core.DuplicateKeys) string {
	if len(k.Phones) > 0 {
		return k.Phones[0]
	}
	if len(k.Emails) > 0 {
		return k.Emails[0]
	}
	return ""
}

// formMatch picks the record a submission lands on: for a deal, the
// person (a contact, else an account); otherwise the phone's owner rule
// (contact, account, lead).
func formMatch(target string, matches []core.DuplicateMatch) (core.DuplicateMatch, bool) {
	if target == core.FormTargetDeal {
		for _, want := range []string{core.EntityContact, core.EntityAccount} {
			for _, m := range matches {
				if m.Entity == want {
					return m, true
				}
			}
		}
		return core.DuplicateMatch{}, false
	}
	return core.PhoneOwner(matches)
}

// formOwner picks the owner of a new record: the next active user of the
// round robin (the pointer is kept per form), else the form's owner.
func (s *Store) formOwner(ctx context.Context, db dbtx, sub core.FormSubmission) (string, error) {
	id, err := s.nextOwner(ctx, db, "webform:"+sub.Form, sub.RoundRobin)
	if id == "" && err == nil {
		id = sub.OwnerID
	}
	return id, err
}

// nextOwner takes the next turn of the round robin name among the active
// users of candidates ("" when none is active). One candidate is simply
// the owner.
func (s *Store) nextOwner(ctx context.Context, db dbtx, name string, candidates []string) (string, error) {
	ids, err := s.nextOwners(ctx, db, name, candidates, 1)
	if len(ids) == 0 {
		return "", err
	}
	return ids[0], err
}

// nextOwners takes the next n turns of the round robin name at once (nil
// when no candidate is active).
func (s *Store) nextOwners(ctx context.Context, db dbtx, name string, candidates []string, n int) ([]string, error) {
	if len(candidates) == 0 || n <= 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT id::text FROM users WHERE id = ANY($1::uuid[]) AND active AND deleted_at IS NULL
		ORDER BY array_position($1::uuid[], id)`, candidates)
	if err != nil {
		return nil, err
	}
	active, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(active) == 0 {
		return nil, err
	}
	out := make([]string, n)
	if len(active) == 1 {
		for i := range out {
			out[i] = active[0]
		}
		return out, nil
	}
	var first int64
	err = db.QueryRow(ctx, `INSERT INTO round_robin (name, next) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET next = round_robin.next + $2 RETURNING next - $2`, name, n).Scan(&first)
	for i := range out {
		out[i] = active[(first+int64(i))%int64(len(active))]
	}
	return out, err
}

// attach stores a file on a record, with its change event; it returns the
// attachment's id.
func (s *Store) attach(ctx context.Context, tx pgx.Tx, entity, recordID, source string, f core.FormFile) (string, error) {
	sum := sha256.Sum256(f.Data)
	a := core.Attachment{ID: uuid.Must(uuid.NewV7()).String(), Entity: entity, RecordID: recordID, FileName: f.Name,
		ContentType: f.ContentType, Size: int64(len(f.Data)), SHA256: hex.EncodeToString(sum[:]), Source: source,
		CreatedAt: s.now(), Version: 1}
	return a.ID, s.write(ctx, tx, mutation{sql: `INSERT INTO attachments (id, entity, record_id, file_name, content_type, size,
		sha256, data, source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		args:     []any{a.ID, a.Entity, a.RecordID, a.FileName, a.ContentType, a.Size, a.SHA256, f.Data, a.Source, a.CreatedAt},
		wantRows: 1, entity: core.EntityAttachment, op: core.OpCreated, id: a.ID, version: 1, data: a})
}

const attachmentColumns = `id::text, entity, record_id::text, file_name, content_type, size, sha256, source, created_at,
	author_id::text, note_id::text, deleted_at, version`

func scanAttachment(r pgx.CollectableRow) (core.Attachment, error) {
	return scanAttachmentInto(r)
}

// scanAttachmentInto scans attachmentColumns and then into more.
func scanAttachmentInto(r pgx.CollectableRow, more ...any) (core.Attachment, error) {
	var a core.Attachment
	err := r.Scan(append([]any{&a.ID, &a.Entity, &a.RecordID, &a.FileName, &a.ContentType, &a.Size, &a.SHA256, &a.Source,
		&a.CreatedAt, &a.AuthorID, &a.NoteID, &a.DeletedAt, &a.Version}, more...)...)
	a.CreatedAt = a.CreatedAt.UTC()
	if a.DeletedAt != nil {
		*a.DeletedAt = a.DeletedAt.UTC()
	}
	return a, err
}

// Attachments implements core.AttachmentService.
func (s *Store) Attachments(ctx context.Context, entity, recordID string, deleted bool) ([]core.Attachment, error) {
	if _, err := uuid.Parse(recordID); err != nil {
		return []core.Attachment{}, nil
	}
	if err := s.mayViewAttachments(ctx, entity, recordID); err != nil {
		return nil, err
	}
	rows, err := s.db(ctx).Query(ctx, `SELECT `+attachmentColumns+` FROM attachments
		WHERE entity = $1 AND record_id = $2 AND (deleted_at IS NULL) <> $3 ORDER BY created_at, id LIMIT 1000`,
		entity, recordID, deleted)
	if err != nil {
		return nil, wrap("attachments", err)
	}
	return pgx.CollectRows(rows, scanAttachment)
}

// mayViewAttachments says whether the context's user may see the files of
// a record: the attachment right and the record itself.
func (s *Store) mayViewAttachments(ctx context.Context, entity, recordID string) error {
	if acc := core.AccessFromContext(ctx); acc != nil && acc.Level(core.EntityAttachment, core.ActView) == core.LevelNone {
		return core.Forbidden(core.EntityAttachment, core.ActView)
	}
	return s.mayView(ctx, entity, recordID)
}

func scanWebForm(def []byte, created, updated time.Time, version int64) (*core.WebForm, error) {
	var f core.WebForm
	if err := json.Unmarshal(def, &f); err != nil {
		return nil, fmt.Errorf("stored web form: %w", err)
	}
	c, u := created.UTC(), updated.UTC()
	f.CreatedAt, f.UpdatedAt, f.Version, f.Managed = &c, &u, version, "api"
	return &f, nil
}

func (s *Store) webFormWhere(ctx context.Context, where string, arg any) (*core.WebForm, error) {
	var (
		def              []byte
		created, updated time.Time
		version          int64
	)
	err := s.db(ctx).QueryRow(ctx, `SELECT definition, created_at, updated_at, version FROM webforms WHERE `+where, arg).
		Scan(&def, &created, &updated, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "web form not found")
	}
	if err != nil {
		return nil, err
	}
	return scanWebForm(def, created, updated, version)
}

// WebForm implements core.WebFormService.
func (s *Store) WebForm(ctx context.Context, slug string) (*core.WebForm, error) {
	return s.webFormWhere(ctx, "slug = $1", slug)
}

// WebFormByPublicID implements core.WebFormService.
func (s *Store) WebFormByPublicID(ctx context.Context, publicID string) (*core.WebForm, error) {
	if publicID == "" {
		return nil, core.Errorf(core.ENOTFOUND, "web form not found")
	}
	return s.webFormWhere(ctx, "definition->>'public_id' = $1", publicID)
}

// WebForms implements core.WebFormService.
func (s *Store) WebForms(ctx context.Context) ([]core.WebForm, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT definition, created_at, updated_at, version FROM webforms ORDER BY slug`)
	if err != nil {
		return nil, wrap("web forms", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.WebForm, error) {
		var (
			def              []byte
			created, updated time.Time
			version          int64
		)
		if err := r.Scan(&def, &created, &updated, &version); err != nil {
			return core.WebForm{}, err
		}
		f, err := scanWebForm(def, created, updated, version)
		if err != nil {
			return core.WebForm{}, err
		}
		return *f, nil
	})
}

// PutWebForm implements core.WebFormService.
func (s *Store) PutWebForm(ctx context.Context, f core.WebForm, ifVersion int64) (*core.WebForm, error) {
	f.Normalize()
	if err := f.Validate(); err != nil {
		return nil, wrap("put web form", err)
	}
	if f.UsesCustomFields() {
		// Read now, not from the cache: a field defined a moment ago on
		// another replica is one the admin may name.
		defs, err := s.readCustomFields(ctx, s.db(ctx), f.Target)
		if err != nil {
			return nil, wrap("put web form", err)
		}
		if err := f.CheckCustomFields(defs); err != nil {
			return nil, wrap("put web form", err)
		}
	}
	f.Managed, f.CreatedAt, f.UpdatedAt, f.Version = "", nil, nil, 0
	def, err := json.Marshal(f)
	if err != nil {
		return nil, wrap("put web form", err)
	}
	now := s.now()
	if ifVersion == 0 {
		tag, err := s.db(ctx).Exec(ctx, `INSERT INTO webforms (slug, definition, created_at, updated_at, version)
			VALUES ($1, $2, $3, $3, 1) ON CONFLICT (slug) DO NOTHING`, f.Slug, def, now)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 0 {
			return nil, core.Errorf(core.ECONFLICT, "web form %q exists", f.Slug)
		}
		return s.WebForm(ctx, f.Slug)
	}
	tag, err := s.db(ctx).Exec(ctx, `UPDATE webforms SET definition = $2, updated_at = $3, version = version + 1
		WHERE slug = $1 AND version = $4`, f.Slug, def, now, ifVersion)
	if err != nil {
		return nil, wrap("put web form", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.WebForm(ctx, f.Slug); err != nil {
			return nil, err
		}
		return nil, core.Errorf(core.EPRECONDITION, "web form %q changed since version %d", f.Slug, ifVersion)
	}
	return s.WebForm(ctx, f.Slug)
}

// FormCustomFields implements core.WebFormService, from the definitions'
// cache (read on the context's transaction when it carries one).
func (s *Store) FormCustomFields(ctx context.Context, target string) ([]core.CustomField, error) {
	if err := checkCustomEntity(target); err != nil {
		return nil, err
	}
	defs, err := s.customFieldsFor(ctx, s.db(ctx), target)
	return defs, wrap("form custom fields", err)
}

// DeleteWebForm implements core.WebFormService.
func (s *Store) DeleteWebForm(ctx context.Context, slug string, ifVersion int64) error {
	tag, err := s.db(ctx).Exec(ctx, `DELETE FROM webforms WHERE slug = $1 AND ($2 = 0 OR version = $2)`, slug, ifVersion)
	if err != nil {
		return wrap("delete web form", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.WebForm(ctx, slug); err != nil {
			return err
		}
		return core.Errorf(core.EPRECONDITION, "web form %q changed since version %d", slug, ifVersion)
	}
	return nil
}
