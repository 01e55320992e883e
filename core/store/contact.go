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
		cols: func(c *core.Contact) []col {
			return []col{{"salutation", &c.Salutation}, {"first_name", &c.FirstName}, {"middle_name", &c.MiddleName},
				{"last_name", &c.LastName}, {"title", &c.Title}, {"department", &c.Department},
				{"birthday", &c.Birthday}, {"phone", &c.Phone}, {"mobile", &c.Mobile}, {"home_phone", &c.HomePhone},
				{"other_phone", &c.OtherPhone}, {"fax", &c.Fax}, {"email", &c.Email},
				{"secondary_email", &c.SecondaryEmail}, {"assistant", &c.Assistant},
				{"assistant_phone", &c.AssistantPhone}, {"account_id", &c.AccountID},
				{"reports_to_id", &c.ReportsToID}, {"source", &c.Source}, {"do_not_call", &c.DoNotCall},
				{"email_opt_out", &c.EmailOptOut}, {"address", &c.Address}, {"other_address", &c.OtherAddress},
				{"description", &c.Description}, {"external_ids", &c.ExternalIDs}}
		},
		defaults: func(c *core.Contact) { c.ExternalIDs = map[string]string{} },
		validate: (*core.Contact).Validate,
		dupKeys: func(c *core.Contact) core.DuplicateKeys {
			return core.DuplicateKeys{Phones: nonEmpty(c.Phone, c.Mobile, c.OtherPhone), Emails: nonEmpty(c.Email, c.SecondaryEmail)}
		},
		prepare: func(ctx context.Context, db dbtx, old, c *core.Contact) error {
			if err := mustExist(ctx, db, "accounts", "account_id", c.AccountID); err != nil {
				return err
			}
			if err := mustExist(ctx, db, "contacts", "reports_to_id", c.ReportsToID); err != nil {
				return err
			}
			var oldAddr, oldOther *core.Address
			if old != nil {
				oldAddr, oldOther = &old.Address, &old.OtherAddress
			}
			if err := resolveLeadAddress(ctx, db, "address", oldAddr, &c.Address); err != nil {
				return err
			}
			return resolveLeadAddress(ctx, db, "other_address", oldOther, &c.OtherAddress)
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
