package store

import (
	"context"

	"github.com/crmhub/crmhub/core"
)

// leads keeps leads; Store.Leads returns it.
type leads struct{ repo[core.Lead, *core.Lead] }

var _ core.LeadService = leads{}

func newLeadTable() *table[core.Lead, *core.Lead] {
	return (&table[core.Lead, *core.Lead]{
		entity: core.EntityLead, name: "leads", schema: core.LeadSchema,
		columns: []string{"salutation", "first_name", "last_name", "company", "title", "email", "secondary_email",
			"phone", "mobile", "fax", "website", "status", "source", "industry", "rating", "annual_revenue", "employees",
			"addr_street", "addr_po_box", "addr_city", "addr_state", "addr_postcode", "addr_country",
			"description", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "click_id", "referrer",
			"landing_page", "converted", "converted_at", "converted_account_id", "converted_contact_id",
			"converted_deal_id", "conversion_request"},
		values: func(l *core.Lead) []any {
			a, m := &l.Address, &l.Marketing
			return []any{l.Salutation, l.FirstName, l.LastName, l.Company, l.Title, l.Email, l.SecondaryEmail,
				l.Phone, l.Mobile, l.Fax, l.Website, l.Status, l.Source, l.Industry, l.Rating, l.AnnualRevenue, l.Employees,
				a.Street, a.POBox, a.City, a.State, a.Postcode, a.Country, l.Description,
				m.UTMSource, m.UTMMedium, m.UTMCampaign, m.UTMContent, m.UTMTerm, m.ClickID, m.Referrer, m.LandingPage,
				l.Converted, l.ConvertedAt,
				l.ConvertedAccountID, l.ConvertedContactID, l.ConvertedDealID, l.ConversionRequest}
		},
		targets: func(l *core.Lead) []any {
			a, m := &l.Address, &l.Marketing
			return []any{&l.Salutation, &l.FirstName, &l.LastName, &l.Company, &l.Title, &l.Email, &l.SecondaryEmail,
				&l.Phone, &l.Mobile, &l.Fax, &l.Website, &l.Status, &l.Source, &l.Industry, &l.Rating, &l.AnnualRevenue, &l.Employees,
				&a.Street, &a.POBox, &a.City, &a.State, &a.Postcode, &a.Country, &l.Description,
				&m.UTMSource, &m.UTMMedium, &m.UTMCampaign, &m.UTMContent, &m.UTMTerm, &m.ClickID, &m.Referrer, &m.LandingPage,
				&l.Converted, &l.ConvertedAt,
				&l.ConvertedAccountID, &l.ConvertedContactID, &l.ConvertedDealID, &l.ConversionRequest}
		},
		validate: (*core.Lead).Validate,
		dupKeys: func(l *core.Lead) core.DuplicateKeys {
			return core.DuplicateKeys{Phones: nonEmpty(l.Phone, l.Mobile), Emails: nonEmpty(l.Email, l.SecondaryEmail)}
		},
		// A converted lead is the record of what became of it: only its
		// conversion writes it (Convert, through rewrite).
		prepare: func(_ context.Context, _ dbtx, old, _ *core.Lead) error {
			if old != nil && old.Converted {
				return core.Errorf(core.ECONFLICT, "the lead is converted and read-only")
			}
			return nil
		},
		sorts: commonSorts(map[string]func(*core.Lead) string{
			"last_name": func(l *core.Lead) string { return l.LastName },
			"company":   func(l *core.Lead) string { return l.Company },
		}),
	}).init()
}

// Leads returns the lead repository.
func (s *Store) Leads() core.LeadService {
	return leads{repo[core.Lead, *core.Lead]{s: s, t: s.tables.lead}}
}

// Delete implements core.LeadService; converted leads stay, as the record
// of what became of them.
func (r leads) Delete(ctx context.Context, id string, ifVersion int64) error {
	l, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	if l.Converted {
		return core.Errorf(core.ECONFLICT, "the lead is converted and read-only")
	}
	return r.t.delete(ctx, r.s, id, ifVersion)
}

// List implements core.LeadService.
func (r leads) List(ctx context.Context, f core.LeadFilter) (core.Page[core.Lead], error) {
	q := &query{}
	q.where("converted = " + q.arg(f.Converted))
	if len(f.Statuses) > 0 {
		q.where("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	if len(f.Sources) > 0 {
		q.where("source = ANY(" + q.arg(f.Sources) + ")")
	}
	if f.Phone != "" {
		q.anyEqual(f.Phone, "phone", "mobile")
	}
	if f.Email != "" {
		q.anyEqual(f.Email, "email", "secondary_email")
	}
	if f.Query != "" {
		q.anyLike(f.Query, "first_name", "last_name", "company", "email", "phone", "mobile")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}
