package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

const leadColumns = `id, salutation, first_name, last_name, company, title, email, secondary_email,
	phone, mobile, fax, website, status, source, industry, rating, annual_revenue, employees,
	addr_street, addr_po_box, addr_city, addr_state, addr_postcode, addr_country,
	description, owner_id, converted, created_at, updated_at, version`

func leadValues(l *core.Lead) []any {
	a := &l.Address
	return []any{l.ID, l.Salutation, l.FirstName, l.LastName, l.Company, l.Title, l.Email, l.SecondaryEmail,
		l.Phone, l.Mobile, l.Fax, l.Website, l.Status, l.Source, l.Industry, l.Rating, l.AnnualRevenue, l.Employees,
		a.Street, a.POBox, a.City, a.State, a.Postcode, a.Country,
		l.Description, l.OwnerID, l.Converted, l.CreatedAt, l.UpdatedAt, l.Version}
}

func scanLead(row pgx.Row) (*core.Lead, error) {
	var l core.Lead
	a := &l.Address
	err := row.Scan(&l.ID, &l.Salutation, &l.FirstName, &l.LastName, &l.Company, &l.Title, &l.Email, &l.SecondaryEmail,
		&l.Phone, &l.Mobile, &l.Fax, &l.Website, &l.Status, &l.Source, &l.Industry, &l.Rating, &l.AnnualRevenue, &l.Employees,
		&a.Street, &a.POBox, &a.City, &a.State, &a.Postcode, &a.Country,
		&l.Description, &l.OwnerID, &l.Converted, &l.CreatedAt, &l.UpdatedAt, &l.Version)
	if err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	return &l, nil
}

var (
	leadInsertSQL = `INSERT INTO leads (` + leadColumns + `) VALUES (` + placeholders(30) + `)`
	leadUpdateSQL = `UPDATE leads SET (` + leadColumns + `) = (` + placeholders(30) + `)
		WHERE id = $1 AND version = $31 AND deleted_at IS NULL`
)

// CreateLead implements core.LeadService.
func (s *Store) CreateLead(ctx context.Context, patch core.Patch) (*core.Lead, error) {
	l := &core.Lead{}
	if err := core.Invalid(core.LeadSchema().Apply(l, patch, "")); err != nil {
		return nil, err
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if l.OwnerID == "" {
		owner, err := s.defaultOwner(ctx)
		if err != nil {
			return nil, err
		}
		l.OwnerID = owner
	}
	l.ID = uuid.Must(uuid.NewV7()).String()
	l.CreatedAt = s.now()
	l.UpdatedAt, l.Version = l.CreatedAt, 1
	err := s.write(ctx, s.db(ctx), mutation{sql: leadInsertSQL, args: leadValues(l), wantRows: 1,
		entity: core.EntityLead, op: core.OpCreated, id: l.ID, version: l.Version, data: l})
	if err != nil {
		return nil, fmt.Errorf("create lead: %w", err)
	}
	return l, nil
}

// Lead implements core.LeadService.
func (s *Store) Lead(ctx context.Context, id string) (*core.Lead, error) {
	return s.lead(ctx, s.db(ctx), id, "")
}

func (s *Store) lead(ctx context.Context, db dbtx, id, lock string) (*core.Lead, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "lead not found")
	}
	l, err := scanLead(db.QueryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id = $1 AND deleted_at IS NULL `+lock, id))
	if err != nil {
		return nil, translate(err, core.EntityLead)
	}
	return l, nil
}

// UpdateLead implements core.LeadService.
func (s *Store) UpdateLead(ctx context.Context, id string, ifVersion int64, patch core.Patch) (*core.Lead, error) {
	var out *core.Lead
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := s.lead(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if ifVersion > 0 && old.Version != ifVersion {
			return core.Errorf(core.EPRECONDITION, "the lead is at version %d, not %d", old.Version, ifVersion)
		}
		l := *old
		if err := core.Invalid(core.LeadSchema().Apply(&l, patch, "")); err != nil {
			return err
		}
		if err := l.Validate(); err != nil {
			return err
		}
		if l.OwnerID == "" {
			l.OwnerID = old.OwnerID
		}
		changed, err := core.ChangedFields(old, &l, "updated_at", "version")
		if err != nil {
			return err
		}
		if len(changed) == 0 { // nothing to write, nothing to announce
			out = old
			return nil
		}
		l.UpdatedAt, l.Version = s.now(), old.Version+1
		out = &l
		return s.write(ctx, tx, mutation{sql: leadUpdateSQL, args: append(leadValues(&l), old.Version), wantRows: 1,
			entity: core.EntityLead, op: core.OpUpdated, id: l.ID, version: l.Version, data: &l, changed: changed})
	})
	if err != nil {
		return nil, fmt.Errorf("update lead %s: %w", id, err)
	}
	return out, nil
}

// DeleteLead implements core.LeadService. Leads are deleted softly: the row
// stays for history and for the event's data, hidden from every read.
func (s *Store) DeleteLead(ctx context.Context, id string, ifVersion int64) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		l, err := s.lead(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if ifVersion > 0 && l.Version != ifVersion {
			return core.Errorf(core.EPRECONDITION, "the lead is at version %d, not %d", l.Version, ifVersion)
		}
		prev := l.Version
		l.UpdatedAt, l.Version = s.now(), prev+1
		return s.write(ctx, tx, mutation{
			sql:  `UPDATE leads SET deleted_at = $2, updated_at = $2, version = $3 WHERE id = $1 AND version = $4`,
			args: []any{l.ID, l.UpdatedAt, l.Version, prev}, wantRows: 1,
			entity: core.EntityLead, op: core.OpDeleted, id: l.ID, version: l.Version, data: l})
	})
	if err != nil {
		return fmt.Errorf("delete lead %s: %w", id, err)
	}
	return nil
}

// leadSortColumns maps API sort fields to columns; every one is NOT NULL,
// so keyset pagination on (column, id) is exact.
var leadSortColumns = map[string]string{
	"created_at": "created_at", "updated_at": "updated_at", "last_name": "last_name", "company": "company",
}

// LeadSortFields are the fields a lead list can be sorted by.
var LeadSortFields = []string{"created_at", "updated_at", "last_name", "company"}

// ListLeads implements core.LeadService.
func (s *Store) ListLeads(ctx context.Context, f core.LeadFilter) (core.Page[core.Lead], error) {
	page := core.Page[core.Lead]{Items: []core.Lead{}}
	col, ok := leadSortColumns[f.Sort.Field]
	if !ok {
		return page, core.Errorf(core.EINVALID, "cannot sort leads by %q", f.Sort.Field)
	}
	q := &query{}
	q.where("deleted_at IS NULL")
	q.where("converted = " + q.arg(f.Converted))
	if len(f.Statuses) > 0 {
		q.where("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	if len(f.Sources) > 0 {
		q.where("source = ANY(" + q.arg(f.Sources) + ")")
	}
	if f.OwnerID != "" {
		q.where("owner_id = " + q.arg(f.OwnerID))
	}
	if f.Phone != "" {
		p := q.arg(f.Phone)
		q.where("(phone = " + p + " OR mobile = " + p + ")")
	}
	if f.Email != "" {
		e := q.arg(f.Email)
		q.where("(email = " + e + " OR secondary_email = " + e + ")")
	}
	if !f.CreatedFrom.IsZero() {
		q.where("created_at >= " + q.arg(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		q.where("created_at < " + q.arg(f.CreatedTo))
	}
	if f.Query != "" {
		like := q.arg("%" + escapeLike(f.Query) + "%")
		q.where("(first_name ILIKE " + like + " OR last_name ILIKE " + like + " OR company ILIKE " + like +
			" OR email ILIKE " + like + " OR phone LIKE " + like + " OR mobile LIKE " + like + ")")
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, f.Sort)
		if err != nil {
			return page, err
		}
		var v any = c.Value
		if col == "created_at" || col == "updated_at" {
			t, err := time.Parse(time.RFC3339Nano, c.Value)
			if err != nil {
				return page, badCursor()
			}
			v = t
		}
		cmp := ">"
		if f.Sort.Desc {
			cmp = "<"
		}
		q.where(fmt.Sprintf("(%s, id) %s (%s, %s)", col, cmp, q.arg(v), q.arg(c.ID)))
	}
	dir := "ASC"
	if f.Sort.Desc {
		dir = "DESC"
	}
	sql := fmt.Sprintf("SELECT %s FROM leads WHERE %s ORDER BY %s %s, id %s LIMIT %d",
		leadColumns, strings.Join(q.conds, " AND "), col, dir, dir, f.Limit+1)
	rows, err := s.db(ctx).Query(ctx, sql, q.args...)
	if err != nil {
		return page, fmt.Errorf("list leads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return page, fmt.Errorf("list leads: %w", err)
		}
		page.Items = append(page.Items, *l)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list leads: %w", err)
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		last := page.Items[f.Limit-1]
		page.NextCursor = encodeCursor(f.Sort, leadSortValue(&last, f.Sort.Field), last.ID)
	}
	return page, nil
}

func leadSortValue(l *core.Lead, field string) string {
	switch field {
	case "updated_at":
		return l.UpdatedAt.Format(time.RFC3339Nano)
	case "last_name":
		return l.LastName
	case "company":
		return l.Company
	}
	return l.CreatedAt.Format(time.RFC3339Nano)
}

// cursor is the opaque position after the last item of a page.
type cursor struct {
	Sort  string `json:"s"`
	Value string `json:"v"`
	ID    string `json:"i"`
}

func encodeCursor(s core.Sort, value, id string) string {
	b, _ := json.Marshal(cursor{Sort: s.String(), Value: value, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, sort core.Sort) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, badCursor()
	}
	if _, err := uuid.Parse(c.ID); err != nil {
		return c, badCursor()
	}
	if c.Sort != sort.String() {
		return c, core.Invalid([]core.FieldError{{Field: "cursor", Code: "sort_mismatch",
			Message: "the cursor was made for sort " + c.Sort + "; keep the same sort while paging"}})
	}
	return c, nil
}

func badCursor() error {
	return core.Invalid([]core.FieldError{{Field: "cursor", Code: "invalid_cursor", Message: "is not a cursor this API returned"}})
}
