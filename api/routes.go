package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// routes registers every route; the OpenAPI test checks this list against
// the document.
func (s *Server) routes() {
	app := s.app
	app.Use(secureHeaders) // outermost: it sees every answer, errors included
	app.Use(s.withRequest)
	app.Use(checkQuery)
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	if !s.cfg.SeparateMetrics {
		app.Get("/metrics", s.metricsHandler())
	}
	app.Get("/openapi.json", s.openapi)
	app.Get("/calendar/:token.ics", s.calendarFeed)
	s.mountWebhooks()
	s.mountSuggestions()

	app.Post("/api/v1/auth/login", jsonBody, s.login) // before the group: signing in needs no credentials
	v1 := app.Group("/api/v1", s.authenticate, s.hideFields)
	s.mountAuth(v1)
	s.mountAccess(v1)
	v1.Get("/picklists", need(core.ScopeRead), s.picklists)
	if s.deps.Addresses != nil {
		v1.Post("/addresses/normalize", need(core.ScopeRead), jsonBody, s.normalizeAddress)
	}
	if s.deps.Rates != nil {
		v1.Get("/currency-rates", need(core.ScopeRead), s.currencyRates)
	}
	exports := map[string]fiber.Handler{core.EntityLead: s.listLeads, core.EntityContact: s.listContacts,
		core.EntityAccount: s.listAccounts, core.EntityDeal: s.listDeals, core.EntityActivity: s.listActivities}
	if s.deps.Products != nil {
		exports[core.EntityProduct] = s.listProducts
	}
	if s.deps.Invoices != nil {
		exports[core.EntityInvoice] = listDocuments(core.InvoiceStatuses(), s.deps.Invoices.List)
	}
	if s.deps.Payments != nil {
		exports[core.EntityPayment] = s.listPayments
	}
	s.mountExports(v1, exports)

	mount[core.Lead](s, v1, "/leads", s.deps.Leads, s.listLeads, need(core.ScopeWrite))
	v1.Post("/leads/:id/convert", need(core.ScopeWrite), s.convertLead)
	mount[core.Account](s, v1, "/accounts", s.deps.Accounts, s.listAccounts, need(core.ScopeWrite))
	mount[core.Contact](s, v1, "/contacts", s.deps.Contacts, s.listContacts, need(core.ScopeWrite))
	mount[core.User](s, v1, "/users", s.deps.Users, s.listUsers, area(core.AreaUsers))
	mount[core.Pipeline](s, v1, "/pipelines", s.deps.Pipelines, s.listPipelines, area(core.AreaPipelines))
	mount[core.Deal](s, v1, "/deals", s.deps.Deals, s.listDeals, need(core.ScopeWrite))
	v1.Post("/deals/:id/reopen", need(core.ScopeWrite), s.reopenDeal)
	v1.Get("/deals/:id/stages", need(core.ScopeRead), s.dealStages)
	mount[core.Activity](s, v1, "/activities", s.deps.Activities, s.listActivities, need(core.ScopeWrite))
	v1.Post("/users/:id/calendar-token", need(core.ScopeWrite), s.issueCalendarToken)
	v1.Get("/funnel", need(core.ScopeRead), s.funnel)
	v1.Get("/search", need(core.ScopeRead), s.search)
	v1.Get("/duplicates", need(core.ScopeRead), s.duplicates)
	for path, entity := range mergePaths {
		v1.Post(path+"/:id/merge", need(core.ScopeWrite), jsonBody, s.merge(entity))
	}
	for path, entity := range historyPaths {
		v1.Get(path+"/:id/history", need(core.ScopeRead), s.history(entity))
	}

	s.mountFields(v1)
	s.mountWebForms(v1)
	s.mountTimeline(v1)
	s.mountAttachments(v1)
	s.mountNotes(v1)
	s.mountCalls(v1)
	s.mountCatalog(v1)
	s.mountDocuments(v1)
	s.mountEmails(v1)
	s.mountMailScan(v1)
	s.mountImports(v1)
	s.mountReports(v1)
	s.mountOneC(v1)

	v1.Get("/apikeys", area(core.AreaAPIKeys), s.listAPIKeys)
	// Not idempotent: the answer carries the new key, shown once, and a
	// stored answer to replay would keep it in the database for a day.
	v1.Post("/apikeys", area(core.AreaAPIKeys), jsonBody, s.createAPIKey)
	v1.Delete("/apikeys/:id", area(core.AreaAPIKeys), s.revokeAPIKey)
}

// Routes lists the registered method and path pairs, for documentation
// checks ("/leads/:id" is written "/leads/{id}").
func (s *Server) Routes() [][2]string {
	var out [][2]string
	for _, r := range s.app.GetRoutes(true) {
		if r.Method == fiber.MethodHead || r.Path == "/" || r.Path == "/api/v1" {
			continue
		}
		out = append(out, [2]string{r.Method, fiberToOpenAPI(r.Path)})
	}
	return out
}

func fiberToOpenAPI(p string) string {
	out := []byte{}
	for i := 0; i < len(p); i++ {
		if p[i] == ':' {
			j := i + 1
			for j < len(p) && p[j] != '/' && p[j] != '.' {
				j++
			}
			out = append(out, '{')
			out = append(out, p[i+1:j]...)
			out = append(out, '}')
			i = j - 1
			continue
		}
		out = append(out, p[i])
	}
	return string(out)
}
