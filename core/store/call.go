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
	return scanCall(s.db(ctx).QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE id = $1`, id))
}

// ReportCall implements core.CallService.
func (s *Store) ReportCall(ctx context.Context, r core.CallReport, p core.CallPolicy) (*core.Call, bool, error) {
	return s.ReportCalls(ctx, []core.CallReport{r}, p)
}

// ReportCalls implements core.CallService. The call's row is locked while
// the reports are merged, so concurrent reports of one call (PBXs send them
// in parallel) are applied one after the other; the first two reports of a
// new call may race to insert it, and the loser merges into the winner's row.
func (s *Store) ReportCalls(ctx context.Context, rs []core.CallReport, p core.CallPolicy) (*core.Call, bool, error) {
	if len(rs) == 0 {
		return nil, false, core.Errorf(core.EINVALID, "no report")
	}
	for i := range rs {
		r := &rs[i]
		if err := core.ValidateCallReport(r); err != nil {
			return nil, false, err
		}
		if r.Provider != rs[0].Provider || r.CallID != rs[0].CallID {
			return nil, false, core.Errorf(core.EINVALID, "reports of different calls")
		}
		// PostgreSQL keeps microseconds (rounding): truncated here, a stored
		// time and the report it came from compare equal, so a repeat stays one.
		for _, t := range []**time.Time{&r.StartedAt, &r.AnsweredAt, &r.EndedAt} {
			if *t != nil {
				v := (*t).Truncate(time.Microsecond)
				*t = &v
			}
		}
	}
	var (
		call    *core.Call
		changed bool
	)
	for range 2 {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			var err error
			call, changed, err = s.reportCall(context.WithValue(ctx, txKey{}, tx), tx, rs, p)
			return err
		})
		if !errors.Is(err, errCallRace) {
			return call, changed, err
		}
	}
	return nil, false, core.Errorf(core.ECONFLICT, "call %s:%s changed concurrently; retry", rs[0].Provider, rs[0].CallID)
}

var errCallRace = errors.New("call inserted concurrently")

func (s *Store) reportCall(ctx context.Context, tx pgx.Tx, rs []core.CallReport, p core.CallPolicy) (*core.Call, bool, error) {
	old, err := scanCall(tx.QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE provider = $1 AND provider_call_id = $2 FOR UPDATE`,
		rs[0].Provider, rs[0].CallID))
	if err != nil && core.ErrorCode(err) != core.ENOTFOUND {
		return nil, false, err
	}
	c := &core.Call{}
	if old != nil {
		*c = *old
	}
	for _, r := range rs {
		c.Merge(r)
	}
	if old != nil && c.CallState.Equal(&old.CallState) {
		return old, false, nil // a repeat, or nothing new
	}
	if err := s.assignCallOwner(ctx, tx, c, p); err != nil {
		return nil, false, err
	}
	now := s.now()
	if old == nil {
		c.ID, c.CreatedAt, c.Version = uuid.Must(uuid.NewV7()).String(), now, 1
	}
	if c.Final && c.ActivityID == nil {
		if err := s.finishCall(ctx, c, p); err != nil {
			return nil, false, fmt.Errorf("call %s:%s: %w", c.Provider, c.CallID, err)
		}
	}
	c.UpdatedAt = now
	args := []any{c.Direction, c.From, c.To, c.ClientNumber(), c.Extension, c.AnsweredBy, c.PBXUser,
		c.StartedAt, c.AnsweredAt, c.EndedAt, c.Duration, c.Disposition, c.RecordingURL, c.Final, c.OwnerID, now,
		c.LeadID, c.ContactID, c.AccountID, c.ActivityID}
	if old == nil {
		err := s.write(ctx, tx, mutation{sql: `INSERT INTO calls (direction, from_number, to_number, client_number, extension,
			answered_extension, pbx_user, started_at, answered_at, ended_at, duration, disposition, recording_url, final, owner_id,
			updated_at, lead_id, contact_id, account_id, activity_id, id, provider, provider_call_id, created_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, 1)
			ON CONFLICT (provider, provider_call_id) DO NOTHING`, args: append(args, c.ID, c.Provider, c.CallID, now),
			wantRows: 1, entity: core.EntityCall, op: core.OpCreated, id: c.ID, version: 1, data: c})
		if core.ErrorCode(err) == core.ECONFLICT {
			return nil, false, errCallRace // another report created it first: merge into that
		}
		return c, err == nil, err
	}
	c.Version = old.Version + 1
	changed, err := core.ChangedFields(old, c, "updated_at", "version")
	if err != nil {
		return nil, false, err
	}
	return c, true, s.write(ctx, tx, mutation{sql: `UPDATE calls SET direction = $1, from_number = $2, to_number = $3,
		client_number = $4, extension = $5, answered_extension = $6, pbx_user = $7, started_at = $8, answered_at = $9,
		ended_at = $10, duration = $11, disposition = $12, recording_url = $13, final = $14, owner_id = $15, updated_at = $16,
		lead_id = $17, contact_id = $18, account_id = $19, activity_id = $20, version = version + 1 WHERE id = $21`, args: append(args, c.ID), wantRows: 1,
		entity: core.EntityCall, op: core.OpUpdated, id: c.ID, version: c.Version, data: c, changed: changed})
}

// assignCallOwner gives the call to the active user with its extension
// (the one who answered, else one it reached), else keeps its owner, else
// the policy's owner (or the next of its owners in turn), else the hub's
// default owner.
func (s *Store) assignCallOwner(ctx context.Context, tx pgx.Tx, c *core.Call, p core.CallPolicy) error {
	if ext := c.Employee(); ext != "" {
		var id string
		err := tx.QueryRow(ctx, `SELECT id FROM users WHERE phone_extensions @> ARRAY[$1]::text[] AND active AND deleted_at IS NULL
			ORDER BY created_at LIMIT 1`, ext).Scan(&id)
		switch {
		case err == nil:
			c.OwnerID = id
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
	}
	if c.OwnerID != "" {
		return nil
	}
	id, err := s.nextOwner(ctx, tx, "telephony:"+c.Provider, p.Owners)
	if id != "" || err != nil {
		c.OwnerID = id
		return err
	}
	id, err = s.defaultOwner(ctx)
	c.OwnerID = id
	return err
}

// finishCall attaches a finished call to its client's record (or a new
// lead), logs it as a call activity and, for a missed incoming call,
// plans a call back; it runs in the call's transaction, once: the call
// keeps the activity's id.
func (s *Store) finishCall(ctx context.Context, c *core.Call, p core.CallPolicy) error {
	client := c.ClientNumber()
	if _, ok := core.NormalizePhone(client); ok && c.Direction != core.CallInternal {
		// Two calls from one new number finishing at once must not make
		// two leads: their lookups and creations go one after the other.
		if _, err := s.db(ctx).Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('crmhub.call.client:' || $1, 0))`, client); err != nil {
			return err
		}
		matches, err := s.Duplicates(ctx, core.DuplicateKeys{Phones: []string{client}})
		if err != nil {
			return err
		}
		if m, ok := core.PhoneOwner(matches); ok {
			id := m.ID
			switch m.Entity {
			case core.EntityContact:
				c.ContactID = &id
			case core.EntityAccount:
				c.AccountID = &id
			case core.EntityLead:
				c.LeadID = &id
			}
		} else if c.Direction == core.CallIn && p.CreateLeads {
			lead, err := s.tables.lead.create(ctx, s, core.Patch{
				"last_name": mustMarshal(client), "company": mustMarshal("Не указана"), "phone": mustMarshal(client),
				"source": mustMarshal("incoming_call"), "owner_id": mustMarshal(c.OwnerID),
				"description": mustMarshal(fmt.Sprintf("Входящий звонок %s (%s)", client, c.Provider)),
			})
			if err != nil {
				return fmt.Errorf("lead: %w", err)
			}
			c.LeadID = &lead.ID
		}
	}
	start := c.StartedAt
	if start == nil {
		t := s.now()
		start = &t
	}
	end := c.EndedAt
	if end == nil || end.Before(*start) {
		end = start
	}
	subject := map[string]string{core.CallIn: "Входящий звонок", core.CallOut: "Исходящий звонок"}[c.Direction]
	if subject == "" {
		subject = "Звонок"
	}
	status := "held"
	if c.Disposition != core.CallAnswered {
		status = "not_held"
	}
	links := func(pt core.Patch) core.Patch {
		for k, v := range map[string]*string{"lead_id": c.LeadID, "contact_id": c.ContactID, "account_id": c.AccountID} {
			if v != nil {
				pt[k] = mustMarshal(*v)
			}
		}
		return pt
	}
	act, err := s.tables.activity.create(ctx, s, links(core.Patch{
		"kind": mustMarshal(core.KindCall), "subject": mustMarshal(subject + " " + client), "status": mustMarshal(status),
		"start_at": mustMarshal(start), "end_at": mustMarshal(end), "owner_id": mustMarshal(c.OwnerID),
		"description": mustMarshal(callDescription(c)),
	}))
	if err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	c.ActivityID = &act.ID
	if c.Missed() && p.CallbackAfter > 0 {
		due := start.Add(p.CallbackAfter)
		if _, err := s.tables.activity.create(ctx, s, links(core.Patch{
			"kind": mustMarshal(core.KindTask), "subject": mustMarshal("Перезвонить " + client), "priority": mustMarshal("high"),
			"start_at": mustMarshal(start), "due_at": mustMarshal(due), "owner_id": mustMarshal(c.OwnerID),
			"description": mustMarshal(fmt.Sprintf("Пропущенный звонок %s в %s", client, start.Format("02.01.2006 15:04 MST"))),
		})); err != nil {
			return fmt.Errorf("call-back task: %w", err)
		}
	}
	return nil
}

func callDescription(c *core.Call) string {
	d := fmt.Sprintf("%s, %s → %s, %d с, %s", c.Provider, c.From, c.To, c.Duration, c.Disposition)
	if c.RecordingURL != "" {
		d += "\nЗапись: " + c.RecordingURL
	}
	return d
}

// PBXLogin returns the PBX login last seen on the user's calls.
func (s *Store) PBXLogin(ctx context.Context, userID string) (string, error) {
	var login string
	err := s.db(ctx).QueryRow(ctx, `SELECT pbx_user FROM calls WHERE owner_id = $1 AND pbx_user <> ''
		ORDER BY updated_at DESC LIMIT 1`, userID).Scan(&login)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return login, err
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
	return owner, err
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
