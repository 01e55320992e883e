package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/outbox"
)

var _ core.CallService = (*Store)(nil)

const callColumns = `id, provider, provider_call_id, direction, from_number, to_number, extension, answered_extension,
	pbx_user, started_at, answered_at, ended_at, duration, disposition, recording_url, final,
	lead_id, contact_id, account_id, activity_id, owner_id, created_at, updated_at, version`

func scanCall(row pgx.Row) (*core.Call, error) {
	var c core.Call
	err := row.Scan(&c.ID, &c.Provider, &c.CallID, &c.Direction, &c.From, &c.To, &c.Extension, &c.AnsweredBy,
		&c.PBXUser, &c.StartedAt, &c.AnsweredAt, &c.EndedAt, &c.Duration, &c.Disposition, &c.RecordingURL, &c.Final,
		&c.LeadID, &c.ContactID, &c.AccountID, &c.ActivityID, &c.OwnerID, &c.CreatedAt, &c.UpdatedAt, &c.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "call not found")
	}
	for _, t := range []*time.Time{c.StartedAt, c.AnsweredAt, c.EndedAt, &c.CreatedAt, &c.UpdatedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
	return &c, err
}

// GetCall implements core.CallService.
func (s *Store) GetCall(ctx context.Context, id string) (*core.Call, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "call not found")
	}
	c, err := scanCall(s.db(ctx).QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE id = $1`, id))
	return c, wrap("get call", err)
}

// ReportCall implements core.CallService.
func (s *Store) ReportCall(ctx context.Context, r core.CallReport, p core.CallPolicy) (*core.Call, bool, error) {
	return s.ReportCalls(ctx, []core.CallReport{r}, p)
}

// ReportCalls implements core.CallService: a batch of one call.
func (s *Store) ReportCalls(ctx context.Context, rs []core.CallReport, p core.CallPolicy) (*core.Call, bool, error) {
	w := &callWork{reports: rs}
	if w.err = prepareReports(rs); w.err == nil {
		w.err = s.applyCalls(ctx, []*callWork{w}, p)
	}
	if w.err != nil {
		return nil, false, wrap("report calls", w.err)
	}
	return w.call, w.changed, nil
}

// ReportCallBatch implements core.CallService. The batch's calls are
// locked in one order (provider, call id), and so are their client numbers,
// so concurrent batches wait for each other rather than deadlock; the first
// reports of a new call may race another batch to insert it, and then the
// batch runs again and merges into the winner's row. A batch that fails as
// a whole runs again call by call, so only the call at fault fails.
func (s *Store) ReportCallBatch(ctx context.Context, calls []core.CallReports, p core.CallPolicy) []error {
	errs := make([]error, len(calls))
	of := make([]*callWork, len(calls))
	at := map[string]*callWork{}
	var work []*callWork
	for i, cr := range calls {
		if errs[i] = prepareReports(cr.Reports); errs[i] != nil {
			continue
		}
		w := &callWork{reports: append([]core.CallReport(nil), cr.Reports...), correlation: cr.CorrelationID}
		if first, ok := at[w.key()]; ok { // the same call twice: one write
			first.reports = append(first.reports, cr.Reports...)
			of[i] = first
			continue
		}
		at[w.key()], of[i] = w, w
		work = append(work, w)
	}
	if err := s.applyCalls(ctx, work, p); err != nil {
		if len(work) == 1 {
			work[0].err = err
		} else {
			for _, w := range work {
				w.err = s.applyCalls(ctx, []*callWork{w}, p)
			}
		}
	}
	for i, w := range of {
		if w != nil {
			errs[i] = w.err
		}
	}
	return errs
}

// callWork is one call of a batch: its reports in, its outcome out.
type callWork struct {
	reports     []core.CallReport
	correlation string
	old, call   *core.Call // the stored call (nil when new) and the merged one
	changed     bool
	err         error
}

func (w *callWork) key() string { return w.reports[0].Provider + "\x00" + w.reports[0].CallID }

// ctx is the context of the call's changes: its correlation id.
func (w *callWork) ctx(ctx context.Context) context.Context {
	if w.correlation == "" {
		return ctx
	}
	return core.NewContextWithCorrelationID(ctx, w.correlation)
}

// prepareReports checks the reports of one call and truncates their times
// to what PostgreSQL keeps (microseconds, rounding): a stored time and the
// report it came from then compare equal, so a repeat stays one.
func prepareReports(rs []core.CallReport) error {
	if len(rs) == 0 {
		return core.Errorf(core.EINVALID, "no report")
	}
	for i := range rs {
		r := &rs[i]
		if err := core.ValidateCallReport(r); err != nil {
			return err
		}
		if r.Provider != rs[0].Provider || r.CallID != rs[0].CallID {
			return core.Errorf(core.EINVALID, "reports of different calls")
		}
		for _, t := range []**time.Time{&r.StartedAt, &r.AnsweredAt, &r.EndedAt} {
			if *t != nil {
				v := (*t).Truncate(time.Microsecond)
				*t = &v
			}
		}
	}
	return nil
}

var errCallRace = errors.New("call inserted concurrently")

// applyCalls applies the calls in one transaction, again when another
// transaction inserted one of them first or a lock wait turned out a
// deadlock.
func (s *Store) applyCalls(ctx context.Context, work []*callWork, p core.CallPolicy) error {
	if len(work) == 0 {
		return nil
	}
	sort.Slice(work, func(i, j int) bool { return work[i].key() < work[j].key() })
	for range 3 {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			return s.applyCallsTx(ctx, tx, work, p)
		})
		var pg *pgconn.PgError
		if !errors.Is(err, errCallRace) && !(errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")) {
			return err
		}
	}
	return core.Errorf(core.ECONFLICT, "calls changed concurrently; retry")
}

// applyCallsTx merges each call's reports into its stored state and writes
// what changed: the calls, and for each call that finished, its lead,
// activity and call-back task, with their events; a few statements
// whatever the number of calls.
func (s *Store) applyCallsTx(ctx context.Context, tx pgx.Tx, work []*callWork, p core.CallPolicy) error {
	stored, err := lockCalls(ctx, tx, work)
	if err != nil {
		return err
	}
	now := s.now()
	changed := mergeCalls(work, stored, now)
	if len(changed) == 0 {
		return nil
	}
	if err := s.assignCallOwners(ctx, tx, changed, p); err != nil {
		return err
	}

	var out newRecords
	var finishing []*callWork
	for _, w := range changed {
		if w.call.Final && w.call.ActivityID == nil {
			finishing = append(finishing, w)
		}
	}
	if err := s.finishCalls(ctx, tx, finishing, p, now, &out); err != nil {
		return err
	}
	if err := copyRows(ctx, tx, s.tables.lead, out.leads); err != nil {
		return fmt.Errorf("leads: %w", err)
	}
	if err := copyRows(ctx, tx, s.tables.activity, out.activities); err != nil {
		return fmt.Errorf("activities: %w", err)
	}
	if err := s.writeCalls(ctx, tx, changed, &out); err != nil {
		return err
	}
	return copyEvents(ctx, tx, out.events)
}

// lockCalls reads and locks the stored calls of the work, by key, and
// clears the work's outcome of an earlier try.
func lockCalls(ctx context.Context, tx pgx.Tx, work []*callWork) (map[string]*core.Call, error) {
	providers, ids := make([]string, len(work)), make([]string, len(work))
	for i, w := range work {
		providers[i], ids[i] = w.reports[0].Provider, w.reports[0].CallID
		w.old = nil
		w.call = nil
		w.changed = false
	}
	rows, err := tx.Query(ctx, `SELECT `+callColumns+` FROM calls
		WHERE (provider, provider_call_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY provider, provider_call_id FOR UPDATE`, providers, ids)
	if err != nil {
		return nil, err
	}
	calls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*core.Call, error) { return scanCall(r) })
	if err != nil {
		return nil, err
	}
	stored := make(map[string]*core.Call, len(calls))
	for _, c := range calls {
		stored[c.Provider+"\x00"+c.CallID] = c
	}
	return stored, nil
}

// mergeCalls merges each call's reports into its stored state (a new
// call when none) and returns the calls they changed, with a new version
// at now; a repeat, or nothing new, keeps the stored call.
func mergeCalls(work []*callWork, stored map[string]*core.Call, now time.Time) []*callWork {
	var changed []*callWork
	for _, w := range work {
		w.old = stored[w.key()]
		c := &core.Call{}
		if w.old != nil {
			*c = *w.old
		}
		for _, r := range w.reports {
			c.Merge(r)
		}
		if w.old != nil && c.CallState.Equal(&w.old.CallState) {
			w.call = w.old // a repeat, or nothing new
			continue
		}

		if w.old == nil {
			c.ID = uuid.Must(uuid.NewV7()).String()
			c.CreatedAt = now
			c.Version = 0
		}
		c.UpdatedAt = now
		c.Version++
		w.call = c
		w.changed = true
		changed = append(changed, w)
	}
	return changed
}

// newRecords are the rows and events a batch writes by COPY.
type newRecords struct {
	leads, activities, events [][]any
}

// event adds the event of a change.
func (n *newRecords) event(ctx context.Context, entity, op, id string, version int64, data any, changed []string, now time.Time) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", entity, id, err)
	}
	n.events = append(n.events, outbox.Values(outbox.NewEvent(ctx, entity, op, id, version, b, changed, now)))
	return nil
}

// assignCallOwners gives each call to the active user with its extension
// (the one who answered, else one it reached), else keeps its owner, else
// the policy's owner (or the next of its owners in turn), else the hub's
// default owner.
func (s *Store) assignCallOwners(ctx context.Context, tx pgx.Tx, work []*callWork, p core.CallPolicy) error {
	var exts []string
	for _, w := range work {
		if e := w.call.Employee(); e != "" {
			exts = append(exts, e)
		}
	}
	byExt := map[string]string{}
	if len(exts) > 0 {
		rows, err := tx.Query(ctx, `SELECT DISTINCT ON (e) e, id::text FROM users, unnest(phone_extensions) e
			WHERE phone_extensions && $1::text[] AND e = ANY($1::text[]) AND active AND deleted_at IS NULL
			ORDER BY e, created_at`, exts)
		if err != nil {
			return err
		}
		var e, id string
		if _, err := pgx.ForEachRow(rows, []any{&e, &id}, func() error { byExt[e] = id; return nil }); err != nil {
			return err
		}
	}
	unowned := map[string][]*core.Call{} // by provider: each has its own turns
	var providers []string
	for _, w := range work {
		c := w.call
		if id := byExt[c.Employee()]; id != "" {
			c.OwnerID = id
		} else if c.OwnerID == "" {
			if unowned[c.Provider] == nil {
				providers = append(providers, c.Provider)
			}
			unowned[c.Provider] = append(unowned[c.Provider], c)
		}
	}
	for _, prov := range providers {
		calls := unowned[prov]
		ids, err := s.nextOwners(ctx, tx, "telephony:"+prov, p.Owners, len(calls))
		if err != nil {
			return err
		}
		for i, c := range calls {
			if ids != nil {
				c.OwnerID = ids[i]
			} else if c.OwnerID, err = s.defaultOwner(ctx, tx); err != nil {
				return err
			}
		}
	}
	return nil
}

// finishCalls attaches each finished call to its client's record (or a new
// lead), logs it as a call activity and, for a missed incoming call, plans
// a call back; the new records go to out. It runs in the calls'
// transaction, once per call: the call keeps the activity's id.
func (s *Store) finishCalls(ctx context.Context, tx pgx.Tx, work []*callWork, p core.CallPolicy, now time.Time, out *newRecords) error {
	if len(work) == 0 {
		return nil
	}
	owners, err := clientOwners(ctx, tx, work)
	if err != nil {
		return err
	}
	f := &callFinish{s: s, tx: tx, policy: p, now: now, owners: owners, newLeads: map[string]string{}, out: out}
	for _, w := range work {
		if err := f.finish(w.ctx(ctx), w.call); err != nil {
			return fmt.Errorf("call %s:%s: %w", w.call.Provider, w.call.CallID, err)
		}
	}
	return nil
}

// clientOwners returns the record each finishing call's client number
// belongs to, the numbers locked for the rest of the transaction.
func clientOwners(ctx context.Context, tx pgx.Tx, work []*callWork) (map[string]core.DuplicateMatch, error) {
	var numbers []string
	for _, w := range work {
		if client, ok := w.call.ClientPhone(); ok {
			numbers = append(numbers, client)
		}
	}
	if len(numbers) == 0 {
		return map[string]core.DuplicateMatch{}, nil
	}
	// Two calls from one new number finishing at once must not make two
	// leads: their lookups and creations go one after the other (locks
	// taken in one order: batches wait, never deadlock).
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended('crmhub.call.client:' || n, 0) AS k
		FROM unnest($1::text[]) n ORDER BY 1) l`, numbers); err != nil {
		return nil, err
	}
	return phoneOwners(ctx, tx, numbers)
}

// callFinish finishes the calls of one batch: what a finished call
// produces is core's (core.CallLead, core.CallActivities); it makes the
// records and their events.
type callFinish struct {
	s        *Store
	tx       pgx.Tx
	policy   core.CallPolicy
	now      time.Time
	owners   map[string]core.DuplicateMatch // client number → its record
	newLeads map[string]string              // client number → the lead this batch made for it
	out      *newRecords
}

// finish attaches the call c and logs its activities; ctx is the call's.
func (f *callFinish) finish(ctx context.Context, c *core.Call) error {
	if err := f.attach(ctx, c); err != nil {
		return fmt.Errorf("lead: %w", err)
	}
	for _, a := range core.CallActivities(c, f.policy, f.now) {
		act, err := newRecord(ctx, f.tx, f.s.tables.activity, a, c.OwnerID, f.now)
		if err == nil {
			err = f.s.completeActivity(nil, act)
		}
		if err != nil {
			return fmt.Errorf("activity: %w", err)
		}
		f.out.activities = append(f.out.activities, f.s.tables.activity.args(act))
		if err := f.out.event(ctx, core.EntityActivity, core.OpCreated, act.ID, 1, act, nil, f.now); err != nil {
			return err
		}
		if c.ActivityID == nil {
			c.ActivityID = &act.ID // the call's own activity comes first
		}
	}
	return nil
}

// attach links the call to the record its client's number belongs to,
// else to the lead the batch made for the number, else to a new lead when
// the policy makes one.
func (f *callFinish) attach(ctx context.Context, c *core.Call) error {
	client, ok := c.ClientPhone()
	if !ok {
		return nil
	}
	if m, ok := f.owners[client]; ok {
		c.AttachTo(m)
		return nil
	}
	if id, ok := f.newLeads[client]; ok {
		c.LeadID = &id
		return nil
	}

	patch, ok := core.CallLead(c, f.policy)
	if !ok {
		return nil
	}
	lead, err := newRecord(ctx, f.tx, f.s.tables.lead, patch, c.OwnerID, f.now)
	if err != nil {
		return err
	}
	f.out.leads = append(f.out.leads, f.s.tables.lead.args(lead))
	if err := f.out.event(ctx, core.EntityLead, core.OpCreated, lead.ID, 1, lead, nil, f.now); err != nil {
		return err
	}
	f.newLeads[client] = lead.ID
	c.LeadID = &lead.ID
	return nil
}

// phoneOwnersSQL finds the live records with any of the numbers ($1) among
// their phones, oldest first, through each kind's dup_keys index.
const phoneOwnersSQL = `
SELECT 'contact', id::text, ARRAY[phone, mobile, other_phone], owner_id::text, created_at FROM contacts
WHERE deleted_at IS NULL AND array_remove(ARRAY[phone, mobile, other_phone, email, secondary_email], '') && $1::text[]
UNION ALL
SELECT 'account', id::text, ARRAY[phone, other_phone, fax], owner_id::text, created_at FROM accounts
WHERE deleted_at IS NULL AND array_remove(ARRAY[phone, other_phone, fax, email, other_email, inn], '') && $1::text[]
UNION ALL
SELECT 'lead', id::text, ARRAY[phone, mobile], owner_id::text, created_at FROM leads
WHERE deleted_at IS NULL AND NOT converted AND array_remove(ARRAY[phone, mobile, email, secondary_email], '') && $1::text[]
ORDER BY 5, 2`

// phoneOwners returns, for each number that has one, the record it belongs
// to (core.PhoneOwner: a contact, else an account, else a lead; the
// oldest of a kind).
func phoneOwners(ctx context.Context, db dbtx, numbers []string) (map[string]core.DuplicateMatch, error) {
	rows, err := db.Query(ctx, phoneOwnersSQL, numbers)
	if err != nil {
		return nil, fmt.Errorf("phone owners: %w", err)
	}
	want := map[string]bool{}
	for _, n := range numbers {
		want[n] = true
	}
	matches := map[string][]core.DuplicateMatch{}
	var m core.DuplicateMatch
	var phones []string
	var created time.Time
	if _, err := pgx.ForEachRow(rows, []any{&m.Entity, &m.ID, &phones, &m.OwnerID, &created}, func() error {
		for _, ph := range phones {
			if want[ph] {
				matches[ph] = append(matches[ph], core.DuplicateMatch{Entity: m.Entity, ID: m.ID, OwnerID: m.OwnerID,
					MatchedOn: []string{"phone"}})
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("phone owners: %w", err)
	}
	out := make(map[string]core.DuplicateMatch, len(matches))
	for n, ms := range matches {
		if m, ok := core.PhoneOwner(ms); ok {
			out[n] = m
		}
	}
	return out, nil
}

// callsInsertSQL and callsUpdateSQL write many calls with one statement,
// each column an array (callArrays).
const (
	callArrayCols = `id, direction, from_number, to_number, client_number, extension, answered_extension, pbx_user,
		started_at, answered_at, ended_at, duration, disposition, recording_url, final, owner_id, lead_id, contact_id,
		account_id, activity_id, updated_at, provider, provider_call_id`
	callUnnest = `unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::int[], $13::text[], $14::text[], $15::bool[],
		$16::uuid[], $17::uuid[], $18::uuid[], $19::uuid[], $20::uuid[], $21::timestamptz[], $22::text[], $23::text[])
		AS u(` + callArrayCols + `)`
	// New calls are inserted in the order their rows are locked.
	callsInsertSQL = `INSERT INTO calls (` + callArrayCols + `, created_at, version)
		SELECT *, updated_at, 1 FROM ` + callUnnest + ` ORDER BY provider, provider_call_id
		ON CONFLICT (provider, provider_call_id) DO NOTHING`
	callsUpdateSQL = `UPDATE calls c SET direction = u.direction, from_number = u.from_number, to_number = u.to_number,
		client_number = u.client_number, extension = u.extension, answered_extension = u.answered_extension,
		pbx_user = u.pbx_user, started_at = u.started_at, answered_at = u.answered_at, ended_at = u.ended_at,
		duration = u.duration, disposition = u.disposition, recording_url = u.recording_url, final = u.final,
		owner_id = u.owner_id, lead_id = u.lead_id, contact_id = u.contact_id, account_id = u.account_id,
		activity_id = u.activity_id, updated_at = u.updated_at, version = c.version + 1
		FROM ` + callUnnest + ` WHERE c.id = u.id`
)

// callArrays holds calls column by column, for callUnnest.
type callArrays struct {
	id, direction, from, to, client, ext, answered, pbxUser []string
	started, answeredAt, ended                              []*time.Time
	duration                                                []int
	disposition, recording                                  []string
	final                                                   []bool
	owner                                                   []string
	lead, contact, account, activity                        []*string
	updated                                                 []time.Time
	provider, callID                                        []string
}

func (a *callArrays) add(c *core.Call) {
	a.id, a.direction, a.from, a.to = append(a.id, c.ID), append(a.direction, c.Direction), append(a.from, c.From), append(a.to, c.To)
	a.client, a.ext, a.answered = append(a.client, c.ClientNumber()), append(a.ext, c.Extension), append(a.answered, c.AnsweredBy)
	a.pbxUser, a.started, a.answeredAt = append(a.pbxUser, c.PBXUser), append(a.started, c.StartedAt), append(a.answeredAt, c.AnsweredAt)
	a.ended, a.duration, a.disposition = append(a.ended, c.EndedAt), append(a.duration, c.Duration), append(a.disposition, c.Disposition)
	a.recording, a.final, a.owner = append(a.recording, c.RecordingURL), append(a.final, c.Final), append(a.owner, c.OwnerID)
	a.lead, a.contact, a.account = append(a.lead, c.LeadID), append(a.contact, c.ContactID), append(a.account, c.AccountID)
	a.activity, a.updated = append(a.activity, c.ActivityID), append(a.updated, c.UpdatedAt)
	a.provider, a.callID = append(a.provider, c.Provider), append(a.callID, c.CallID)
}

func (a *callArrays) args() []any {
	return []any{a.id, a.direction, a.from, a.to, a.client, a.ext, a.answered, a.pbxUser, a.started, a.answeredAt, a.ended,
		a.duration, a.disposition, a.recording, a.final, a.owner, a.lead, a.contact, a.account, a.activity, a.updated,
		a.provider, a.callID}
}

// writeCalls inserts the new calls and updates the changed ones, one
// statement each, and adds their events to out. A new call another
// transaction inserted first is errCallRace: the batch runs again.
func (s *Store) writeCalls(ctx context.Context, tx pgx.Tx, work []*callWork, out *newRecords) error {
	var ins, upd callArrays
	for _, w := range work {
		c := w.call
		if w.old == nil {
			ins.add(c)
			if err := out.event(w.ctx(ctx), core.EntityCall, core.OpCreated, c.ID, 1, c, nil, c.UpdatedAt); err != nil {
				return err
			}
			continue
		}
		upd.add(c)
		changed, err := core.ChangedFields(w.old, c, "updated_at", "version")
		if err != nil {
			return err
		}
		if err := out.event(w.ctx(ctx), core.EntityCall, core.OpUpdated, c.ID, c.Version, c, changed, c.UpdatedAt); err != nil {
			return err
		}
	}
	if n := len(ins.id); n > 0 {
		tag, err := tx.Exec(ctx, callsInsertSQL, ins.args()...)
		if err != nil {
			return translate(err, core.EntityCall)
		}
		if tag.RowsAffected() != int64(n) {
			return errCallRace // another batch inserted one first: merge into its row
		}
	}
	if n := len(upd.id); n > 0 {
		tag, err := tx.Exec(ctx, callsUpdateSQL, upd.args()...)
		if err != nil {
			return translate(err, core.EntityCall)
		}
		if tag.RowsAffected() != int64(n) {
			return core.Errorf(core.ECONFLICT, "a call changed concurrently; retry")
		}
	}
	return nil
}

// PBXLogin returns the PBX login last seen on the user's calls.
func (s *Store) PBXLogin(ctx context.Context, userID string) (string, error) {
	var login string
	err := s.db(ctx).QueryRow(ctx, `SELECT pbx_user FROM calls WHERE owner_id = $1 AND pbx_user <> ''
		ORDER BY updated_at DESC LIMIT 1`, userID).Scan(&login)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return login, wrap("pbx login", err)
}

// OwnerOf returns the owner of a lead, contact or account.
func (s *Store) OwnerOf(ctx context.Context, entity, id string) (string, error) {
	table := map[string]string{core.EntityLead: "leads", core.EntityContact: "contacts", core.EntityAccount: "accounts"}[entity]
	if table == "" {
		return "", core.Errorf(core.EINVALID, "no owner lookup for %q", entity)
	}
	var owner string
	err := s.db(ctx).QueryRow(ctx, `SELECT owner_id::text FROM `+table+` WHERE id = $1`, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", core.Errorf(core.ENOTFOUND, "%s not found", entity)
	}
	return owner, wrap("owner of", err)
}

// ListCalls implements core.CallService.
func (s *Store) ListCalls(ctx context.Context, f core.CallFilter) (core.Page[core.Call], error) {
	page := core.Page[core.Call]{Items: []core.Call{}}
	q := &query{}
	if len(f.Directions) > 0 {
		q.where("direction = ANY(" + q.arg(f.Directions) + ")")
	}
	if len(f.Dispositions) > 0 {
		q.where("disposition = ANY(" + q.arg(f.Dispositions) + ")")
	}
	for col, v := range map[string]string{"provider": f.Provider, "client_number": f.Phone, "owner_id": f.OwnerID,
		"lead_id": f.LeadID, "contact_id": f.ContactID, "account_id": f.AccountID} {
		if v != "" {
			q.where(col + " = " + q.arg(v))
		}
	}
	if f.Extension != "" {
		q.anyEqual(f.Extension, "extension", "answered_extension")
	}
	if f.Query != "" {
		q.anyLike(f.Query, "from_number", "to_number", "extension", "answered_extension")
	}
	if !f.CreatedFrom.IsZero() {
		q.where("created_at >= " + q.arg(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		q.where("created_at < " + q.arg(f.CreatedTo))
	}

	dir, cmp := "ASC", ">"
	if f.Sort.Desc {
		dir, cmp = "DESC", "<"
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, f.Sort)
		if err != nil {
			return page, err
		}
		tm, err := time.Parse(time.RFC3339Nano, c.Value)
		if err != nil {
			return page, badCursor()
		}
		q.where(fmt.Sprintf("(created_at, id) %s (%s, %s)", cmp, q.arg(tm), q.arg(c.ID)))
	}

	where := "true"
	if len(q.conds) > 0 {
		where = strings.Join(q.conds, " AND ")
	}

	rows, err := s.db(ctx).Query(ctx, fmt.Sprintf(`SELECT `+callColumns+` FROM calls WHERE %s ORDER BY created_at %s, id %s LIMIT %d`,
		where, dir, dir, f.Limit+1), q.args...)
	if err != nil {
		return page, fmt.Errorf("list calls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return page, fmt.Errorf("list calls: %w", err)
		}
		page.Items = append(page.Items, *c)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list calls: %w", err)
	}

	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		last := page.Items[f.Limit-1]
		page.NextCursor = encodeCursor(f.Sort, last.CreatedAt.Format(time.RFC3339Nano), last.ID)
	}
	return page, nil
}
