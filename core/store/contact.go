package store

import (
	"context"

	"github.com/crmhub/crmhub/core"
)

// contacts keeps contacts; Store.Contacts returns it.
type contacts struct {
	repo[core.Contact, *core.Contact]
}

var _ core.ContactService = contacts{}

func newContactTable() *table[core.Contact, *core.Contact] {
	return (&table[core.Contact, *core.Contact]{
		entity: core.EntityContact, name: "contacts", schema: core.ContactSchema,
		columns: []string{"salutation", "first_name", "middle_name", "last_name", "title", "department", "birthday",
			"phone", "mobile", "home_phone", "other_phone", "fax", "email", "secondary_email", "assistant",
			"assistant_phone", "account_id", "reports_to_id", "source", "do_not_call", "email_opt_out",
			"address", "other_address", "description", "external_ids"},
		values: func(c *core.Contact) []any {
			return []any{c.Salutation, c.FirstName, c.MiddleName, c.LastName, c.Title, c.Department, c.Birthday,
				c.Phone, c.Mobile, c.HomePhone, c.OtherPhone, c.Fax, c.Email, c.SecondaryEmail, c.Assistant,
				c.AssistantPhone, c.AccountID, c.ReportsToID, c.Source, c.DoNotCall, c.EmailOptOut,
				c.Address, c.OtherAddress, c.Description, c.ExternalIDs}
		},
		targets: func(c *core.Contact) []any {
			return []any{&c.Salutation, &c.FirstName, &c.MiddleName, &c.LastName, &c.Title, &c.Department, &c.Birthday,
				&c.Phone, &c.Mobile, &c.HomePhone, &c.OtherPhone, &c.Fax, &c.Email, &c.SecondaryEmail, &c.Assistant,
				&c.AssistantPhone, &c.AccountID, &c.ReportsToID, &c.Source, &c.DoNotCall, &c.EmailOptOut,
				&c.Address, &c.OtherAddress, &c.Description, &c.ExternalIDs}
		},
		defaults: func(c *core.Contact) { c.ExternalIDs = map[string]string{} },
		validate: (*core.Contact).Validate,
		dupKeys: func(c *core.Contact) core.DuplicateKeys {
			return core.DuplicateKeys{Phones: nonEmpty(c.Phone, c.Mobile, c.OtherPhone), Emails: nonEmpty(c.Email, c.SecondaryEmail)}
		},
		prepare: func(ctx context.Context, db dbtx, _, c *core.Contact) error {
			if err := mustExist(ctx, db, "accounts", "account_id", c.AccountID); err != nil {
				return err
			}
			return mustExist(ctx, db, "contacts", "reports_to_id", c.ReportsToID)
		},
		sorts: commonSorts(map[string]func(*core.Contact) string{"last_name": func(c *core.Contact) string { return c.LastName }}),
	}).init()
}

// Contacts returns the contact repository.
func (s *Store) Contacts() core.ContactService {
	return contacts{repo[core.Contact, *core.Contact]{s: s, t: s.tables.contact}}
}

// List implements core.ContactService.
func (r contacts) List(ctx context.Context, f core.ContactFilter) (core.Page[core.Contact], error) {
	q := &query{}
	if f.AccountID != "" {
		q.where("account_id = " + q.arg(f.AccountID))
	}
	if len(f.Sources) > 0 {
		q.where("source = ANY(" + q.arg(f.Sources) + ")")
	}
	if f.Phone != "" {
		q.anyEqual(f.Phone, "phone", "mobile", "other_phone")
	}
	if f.Email != "" {
		q.anyEqual(f.Email, "email", "secondary_email")
	}
	q.externalID(f.ExternalID)
	if f.Query != "" {
		q.anyLike(f.Query, "first_name", "middle_name", "last_name", "email", "phone", "mobile")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}
