// Package wire joins the API to the store: the one place that says which
// of a store's repositories and services serve which part of the API, for
// crmhub serve, crmhub-bench and the API tests alike. Only cmd and tests
// import it (arch_test.go), so cmd stays the one place that wires the
// rest: connectors, the printer, readiness.
package wire

import (
	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

// APIDeps returns the API's dependencies that st serves: every record
// kind, search, history, duplicates, catalog, documents, e-mail, imports,
// reports and calls. The caller sets what the store does not provide:
// Ready (required), the connectors' webhooks, forms and dialers, the
// printer, the mailer, the mail scanner, the organization, 1C and the
// report runner; an optional part left nil is not served.
func APIDeps(st *store.Store) api.Deps {
	// The sign-in throttle's defaults, its records in the database; cmd
	// sets the configured one (auth.lockout).
	throttle, err := core.NewLoginThrottle(core.ThrottleConfig{Scope: "api"}, st)
	if err != nil {
		panic(err) // the defaults are valid
	}
	return api.Deps{
		Leads: st.Leads(), Accounts: st.Accounts(), Contacts: st.Contacts(), Users: st.Users(),
		Pipelines: st.Pipelines(), Deals: st.Deals(), Activities: st.Activities(),
		Calendars: st, Converter: st, History: st, Funnels: st, Search: st, Duplicates: st, Merger: st,
		APIKeys: st, Idempotency: st,
		Auth: st, LoginThrottle: throttle, Audit: st, Roles: st.Roles(), Teams: st.Teams(), Shares: st,
		CustomFields: st,

		WebForms: st, Attachments: st, Calls: st, Notes: st, Notifications: st, Timeline: st,

		Products: st.Products(), Services: st.Services(), ProductGroups: st.ProductGroups(), PriceBooks: st.PriceBooks(),
		Rates: st,
		Banks: st,

		Quotes: st.Quotes(), Invoices: st.Invoices(), Payments: st.Payments(), Acts: st.Acts(),
		Realizations: st.Realizations(), SalesOrders: st.SalesOrders(), PurchaseOrders: st.PurchaseOrders(),
		Emails: st.Emails(), EmailTemplates: st,

		Mailboxes: st, Imports: st, Reports: st.Reports(), ReportSchedules: st.ReportSchedules(),
	}
}
