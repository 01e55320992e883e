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
		cols: func(l *core.Lead) []col {
			a, m := &l.Address, &l.Marketing
			return []col{{"salutation", &l.Salutation}, {"first_name", &l.FirstName}, {"last_name", &l.LastName},
				{"company", &l.Company}, {"title", &l.Title}, {"email", &l.Email}, {"secondary_email", &l.SecondaryEmail},
				{"phone", &l.Phone}, {"mobile", &l.Mobile}, {"fax", &l.Fax}, {"website", &l.Website},
				{"status", &l.Status}, {"source", &l.Source}, {"industry", &l.Industry}, {"rating", &l.Rating},
				{"annual_revenue", &l.AnnualRevenue}, {"employees", &l.Employees},
				{"addr_street", &a.Street}, {"addr_po_box", &a.POBox}, {"addr_city", &a.City}, {"addr_state", &a.State},
				{"addr_postcode", &a.Postcode}, {"addr_country", &a.Country}, {"addr_flat", &a.Flat},
				{"addr_fias_id", &a.FIASID}, {"addr_fias_level", &a.FIASLevel}, {"addr_kladr_id", &a.KLADRID},
				{"addr_oktmo", &a.OKTMO}, {"description", &l.Description},
				{"utm_source", &m.UTMSource}, {"utm_medium", &m.UTMMedium}, {"utm_campaign", &m.UTMCampaign},
				{"utm_content", &m.UTMContent}, {"utm_term", &m.UTMTerm}, {"click_id", &m.ClickID},
				{"referrer", &m.Referrer}, {"landing_page", &m.LandingPage},
				{"converted", &l.Converted}, {"converted_at", &l.ConvertedAt},
				{"converted_account_id", &l.ConvertedAccountID}, {"converted_contact_id", &l.ConvertedContactID},
				{"converted_deal_id", &l.ConvertedDealID}, {"conversion_request", &l.ConversionRequest}}
		},
		validate: (*core.Lead).Validate,
		dupKeys: func(l *core.Lead) core.DuplicateKeys {
			return core.DuplicateKeys{Phones: nonEmpty(l.Phone, l.Mobile), Emails: nonEmpty(l.Email, l.SecondaryEmail)}
		},
		// A converted lead is the record of what became of it: only its
		// conversion writes it (Convert, through rewrite).
		prepare: func(ctx context.Context, db dbtx, old, l *core.Lead) error {
			if old != nil && old.Converted {
				return core.Errorf(core.ECONFLICT, "the lead is converted and read-only")
			}
			var oldAddr *core.Address
			if old != nil {
				oldAddr = &old.Address
			}
			return resolveLeadAddress(ctx, db, "address", oldAddr, &l.Address)
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
		return wrap("delete lead", err)
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
