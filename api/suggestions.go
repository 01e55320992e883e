package api

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// suggestionsPrefix is DaData's service URL path: a widget pointed at the
// hub (serviceUrl https://hub/suggestions/api/4_1/rs) calls the paths it
// calls on DaData's.
const suggestionsPrefix = "/suggestions/api/4_1/rs"

// maxSuggestQuery bounds a query in characters, as DaData's does.
const maxSuggestQuery = 300

// localTokenScheme marks a request whose Authorization may say Token, as
// DaData's clients send it.
const localTokenScheme = "crmhub.token-scheme"

// mountSuggestions registers the DaData-compatible lookups. Browsers call
// them directly, so CORS answers the configured origins first, errors
// included, and a preflight needs no key.
func (s *Server) mountSuggestions() {
	sg := s.app.Group(suggestionsPrefix, s.suggestionsCORS, func(c *fiber.Ctx) error {
		c.Locals(localTokenScheme, true)
		return c.Next()
	}, s.authenticate)
	sg.Get("/status/:type", need(core.ScopeSuggest), s.suggestionsStatus)
	sg.Get("/iplocate/address", need(core.ScopeSuggest), func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"location": nil}) // the hub knows no client's location
	})
	if s.deps.Banks != nil {
		sg.Post("/suggest/bank", need(core.ScopeSuggest), jsonBody, s.suggestBank)
		sg.Get("/suggest/bank", need(core.ScopeSuggest), s.suggestBank)
		sg.Post("/findById/bank", need(core.ScopeSuggest), jsonBody, s.findBank)
	}
	s.mountAddressSuggestions(sg)
	sg.Post("/suggest/party", need(core.ScopeRead), jsonBody, s.suggestParty)
	sg.Get("/suggest/party", need(core.ScopeRead), s.suggestParty)
	sg.Post("/findById/party", need(core.ScopeRead), jsonBody, s.findParty)
}

// suggestionsCORS answers the origins of suggestions.allowed_origins ("*"
// for any): the widget sends Authorization, Content-Type and X-Version,
// without credentials. Other origins get no CORS headers, which a browser
// refuses; a preflight from them is a 403.
func (s *Server) suggestionsCORS(c *fiber.Ctx) error {
	origin := c.Get(fiber.HeaderOrigin)
	allowed := origin != "" && slices.ContainsFunc(s.cfg.SuggestionOrigins, func(o string) bool {
		return o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	})
	c.Vary(fiber.HeaderOrigin)
	if allowed {
		c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
		c.Set(fiber.HeaderAccessControlExposeHeaders, "X-Request-Id")
	}
	if c.Method() != fiber.MethodOptions {
		return c.Next()
	}
	if !allowed {
		return core.Errorf(core.EFORBIDDEN, "the origin %q is not in suggestions.allowed_origins", origin)
	}
	c.Set(fiber.HeaderAccessControlAllowMethods, "GET, POST, OPTIONS")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Authorization, Content-Type, Accept, X-Version, X-Partner, X-Request-Id")
	c.Set(fiber.HeaderAccessControlMaxAge, "600")
	return c.SendStatus(fiber.StatusNoContent)
}

// suggestionsStatus answers the widget's check that a kind of lookup is on.
func (s *Server) suggestionsStatus(c *fiber.Ctx) error {
	kind := c.Params("type")
	served := kind == "party" || (kind == "bank" && s.deps.Banks != nil) || (kind == "address" && s.deps.Addresses != nil)
	if !served {
		return core.Errorf(core.ENOTFOUND, "this hub serves no %q suggestions", kind)
	}
	return c.JSON(fiber.Map{"search": true, "enrich": false, "name": kind, "state": "ENABLED"})
}

// suggestRequest is the part of DaData's request the hub reads; the rest
// (locations, language…) is accepted and ignored where it does not apply.
type suggestRequest struct {
	Query  string `json:"query"`
	Count  int    `json:"count"`
	KPP    string `json:"kpp"`
	Status any    `json:"status"` // a list, or one value
	Type   any    `json:"type"`   // a list, or one value
}

// suggestQuery reads a lookup's request: the JSON body of a POST, or
// ?query=&count= of a GET.
func suggestQuery(c *fiber.Ctx) (suggestRequest, error) {
	var r suggestRequest
	if c.Method() == fiber.MethodGet {
		r.Query = c.Query("query")
		r.Count = c.QueryInt("count", 0)
	} else if err := json.Unmarshal(c.Body(), &r); err != nil {
		return r, core.Invalid([]core.FieldError{{Code: "invalid_json", Message: "the request is not DaData's JSON: " + err.Error()}})
	}
	r.Query = strings.TrimSpace(r.Query)
	if utf8.RuneCountInString(r.Query) > maxSuggestQuery {
		return r, core.Invalid([]core.FieldError{{Field: "query", Code: "too_long", Message: "at most 300 characters"}})
	}
	if r.Count < 0 || r.Count > core.MaxBankSuggestions {
		return r, core.Invalid([]core.FieldError{{Field: "count", Code: "out_of_range", Message: "from 1 to 20"}})
	}
	return r, nil
}

// words reads a filter given as one string or a list of strings, each one
// of allowed.
func words(field string, v any, allowed ...string) ([]string, error) {
	var list []string
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		list = []string{t}
	case []any:
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, core.Invalid([]core.FieldError{{Field: field, Code: "invalid", Message: "a string or a list of strings"}})
			}
			list = append(list, s)
		}
	default:
		return nil, core.Invalid([]core.FieldError{{Field: field, Code: "invalid", Message: "a string or a list of strings"}})
	}
	for i, w := range list {
		list[i] = strings.ToUpper(strings.TrimSpace(w))
		if !slices.Contains(allowed, list[i]) {
			return nil, core.Invalid([]core.FieldError{{Field: field, Code: "invalid_choice",
				Message: "one of " + strings.Join(allowed, ", ")}})
		}
	}
	return list, nil
}

// suggestions is DaData's answer (conv may be nil for no items).
func suggestions[T any](c *fiber.Ctx, items []T, conv func(T) suggestion) error {
	out := make([]suggestion, 0, len(items))
	for _, it := range items {
		out = append(out, conv(it))
	}
	// Encoded straight into the response with the encoder's pooled
	// buffer: an answer of ten addresses is some twenty kilobytes, which
	// json.Marshal would allocate again for each answer.
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return json.NewEncoder(c.Response().BodyWriter()).Encode(struct {
		Suggestions []suggestion `json:"suggestions"`
	}{out})
}

// suggestion is one of DaData's suggestions.
type suggestion struct {
	Value             string `json:"value"`
	UnrestrictedValue string `json:"unrestricted_value"`
	Data              any    `json:"data"`
}

func (s *Server) suggestBank(c *fiber.Ctx) error {
	r, err := suggestQuery(c)
	if err != nil {
		return err
	}
	q := core.BankQuery{Query: r.Query, Count: r.Count}
	if q.Statuses, err = words("status", r.Status, core.BankActive, core.BankLiquidating, core.BankLiquidated); err != nil {
		return err
	}
	if q.Kinds, err = words("type", r.Type, "BANK", "BANK_BRANCH", "NKO", "NKO_BRANCH", "RKC", "CBR", "TREASURY", "OTHER"); err != nil {
		return err
	}
	banks, err := s.deps.Banks.SuggestBanks(c.UserContext(), q)
	if err != nil {
		return err
	}
	return suggestions(c, banks, bankSuggestion)
}

func (s *Server) findBank(c *fiber.Ctx) error {
	r, err := suggestQuery(c)
	if err != nil {
		return err
	}
	banks, err := s.deps.Banks.FindBanks(c.UserContext(), r.Query, r.Count)
	if err != nil {
		return err
	}
	return suggestions(c, banks, bankSuggestion)
}

// bankSuggestion is a bank as DaData answers it. The BIK directory has no
// ИНН, КПП or ОКПО of a bank: they are null.
func bankSuggestion(b core.Bank) suggestion {
	var treasury []string
	if len(b.TreasuryAccounts) > 0 {
		treasury = b.TreasuryAccounts
	}
	data := fiber.Map{
		"opf":                   fiber.Map{"type": b.Kind(), "full": nil, "short": nil},
		"name":                  fiber.Map{"payment": b.Name, "full": nil, "short": nil},
		"bic":                   b.BIC,
		"swift":                 nullable(b.SWIFT),
		"inn":                   nil,
		"kpp":                   nil,
		"okpo":                  nil,
		"correspondent_account": nullable(b.CorrespondentAccount),
		"treasury_accounts":     treasury,
		"registration_number":   nullable(b.RegistrationNumber),
		"payment_city":          nullable(b.PaymentCity()),
		"state": fiber.Map{"status": b.Status(), "code": nil, "actuality_date": epochMillis(b.DirectoryDate),
			"registration_date": epochMillis(b.DateIn), "liquidation_date": epochMillis(b.DateOut)},
		"rkc":     nil,
		"cbr":     nil,
		"address": fiber.Map{"value": b.AddressValue(), "unrestricted_value": b.UnrestrictedAddress(), "data": nil},
		"phones":  nil,
	}
	return suggestion{Value: b.Name, UnrestrictedValue: b.Name, Data: data}
}

// epochMillis is a date as DaData writes one: milliseconds since the
// epoch, null when unknown.
func epochMillis(d core.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.UnixMilli()
}

// nullable is null for an empty string, as DaData writes a missing value.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) suggestParty(c *fiber.Ctx) error {
	r, err := suggestQuery(c)
	if err != nil {
		return err
	}
	types, err := words("type", r.Type, "LEGAL", "INDIVIDUAL")
	if err != nil {
		return err
	}
	if _, err := words("status", r.Status, "ACTIVE", "LIQUIDATING", "LIQUIDATED", "BANKRUPT", "REORGANIZING"); err != nil {
		return err
	}
	if r.Query == "" {
		return suggestions(c, []core.Account{}, partySuggestion)
	}
	f := core.AccountFilter{ListParams: core.ListParams{Query: r.Query, Limit: partyCount(r.Count, types), Sort: core.Sort{Field: "name"}}}
	return s.answerParties(c, f, r.Count, types)
}

// findParty finds the accounts of an ИНН (with kpp: that branch) or an
// ОГРН.
func (s *Server) findParty(c *fiber.Ctx) error {
	r, err := suggestQuery(c)
	if err != nil {
		return err
	}
	f := core.AccountFilter{ListParams: core.ListParams{Limit: partyCount(r.Count, nil), Sort: core.Sort{Field: "name"}}}
	switch q := r.Query; {
	case core.ValidOGRN(q):
		f.OGRN = q
	case core.ValidINN(q):
		f.INN = q
	default:
		return suggestions(c, []core.Account{}, partySuggestion)
	}
	f.KPP = strings.TrimSpace(r.KPP)
	return s.answerParties(c, f, r.Count, nil)
}

// partyCount is how many accounts to read: more than asked when a type
// filter drops some.
func partyCount(n int, types []string) int {
	if n <= 0 {
		n = 10
	}
	if len(types) > 0 {
		return min(5*n, 100)
	}
	return n
}

// answerParties lists the accounts the caller may see that f matches.
func (s *Server) answerParties(c *fiber.Ctx, f core.AccountFilter, count int, types []string) error {
	page, err := s.deps.Accounts.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	if count <= 0 {
		count = 10
	}
	out := make([]core.Account, 0, len(page.Items))
	for _, a := range page.Items {
		if (len(types) == 0 || slices.Contains(types, a.PartyType())) && len(out) < count {
			out = append(out, a)
		}
	}
	return suggestions(c, out, partySuggestion)
}

// partySuggestion is an account as DaData answers a company: what the
// hub knows of it (its legal address, else its actual one), null for the
// rest of the register's data.
func partySuggestion(a core.Account) suggestion {
	addr := a.LegalAddress
	if addr.String() == "" {
		addr = a.ActualAddress
	}
	var address any
	if line := addr.String(); line != "" {
		address = fiber.Map{"value": line, "unrestricted_value": line, "data": nil}
	}
	name := a.NameWithForm()
	data := fiber.Map{
		"hid":         a.ID,
		"inn":         nullable(a.INN),
		"kpp":         nullable(a.KPP),
		"ogrn":        nullable(a.OGRN),
		"okpo":        nullable(a.OKPO),
		"type":        a.PartyType(),
		"branch_type": "MAIN",
		"name":        fiber.Map{"full_with_opf": name, "short_with_opf": name, "full": a.Name, "short": a.Name, "latin": nil},
		"opf":         fiber.Map{"code": nil, "full": nil, "short": nullable(a.LegalForm)},
		"address":     address,
		"state":       fiber.Map{"status": "ACTIVE", "actuality_date": a.UpdatedAt.UnixMilli(), "registration_date": nil, "liquidation_date": nil},
		"management":  nil,
		"phones":      nil,
		"emails":      nil,
	}
	return suggestion{Value: name, UnrestrictedValue: name, Data: data}
}
