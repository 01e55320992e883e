package core

import (
	"context"
	"sync"
	"time"
)

// EntityLead names leads in events, topics and errors.
const EntityLead = "lead"

// Lead is an inquiry («обращение») from a call, an e-mail, a web form or
// manual entry, not yet converted into an account, contact and deal. Its JSON
// form is the API's representation and the data of its outbox events.
type Lead struct {
	Record
	Salutation     string  `json:"salutation"`
	FirstName      string  `json:"first_name"`
	LastName       string  `json:"last_name"`
	Company        string  `json:"company"`
	Title          string  `json:"title"`
	Email          string  `json:"email"`
	SecondaryEmail string  `json:"secondary_email"`
	Phone          string  `json:"phone"`
	Mobile         string  `json:"mobile"`
	Fax            string  `json:"fax"`
	Website        string  `json:"website"`
	Status         string  `json:"status"`
	Source         string  `json:"source"`
	Industry       string  `json:"industry"`
	Rating         string  `json:"rating"`
	AnnualRevenue  *Money  `json:"annual_revenue"`
	Employees      *int64  `json:"employees"`
	Address        Address `json:"address"`
	Description    string  `json:"description"`
	// Marketing is where the lead came from on the web (forms fill it).
	Marketing Marketing `json:"marketing"`
	Converted bool      `json:"converted"`
	// What the lead was converted into (null until it is).
	ConvertedAt        *time.Time `json:"converted_at"`
	ConvertedAccountID *string    `json:"converted_account_id"`
	ConvertedContactID *string    `json:"converted_contact_id"`
	ConvertedDealID    *string    `json:"converted_deal_id"`
	// ConversionRequest fingerprints the request that converted the lead.
	ConversionRequest []byte `json:"-"`
}

// Address is a postal address as vtiger keeps it on leads and contacts.
// Given a fias_id (a house or an address object of the register), the
// street line, city, state and postcode are filled from it with its ids.
type Address struct {
	Street    string `json:"street"`
	POBox     string `json:"po_box"`
	City      string `json:"city"`
	State     string `json:"state"`
	Postcode  string `json:"postcode"`
	Country   string `json:"country"`
	Flat      string `json:"flat"`
	FIASID    string `json:"fias_id"`
	FIASLevel int    `json:"fias_level"`
	KLADRID   string `json:"kladr_id"`
	OKTMO     string `json:"oktmo"`
}

// LeadSchema returns the writable fields of a lead with their validation.
// The schema is built once and shared; it is immutable.
func LeadSchema() *Schema[Lead] { return leadSchema() }

var leadSchema = sync.OnceValue(func() *Schema[Lead] {
	status, source, salutation := LeadStatuses(), LeadSources(), Salutations()
	return NewSchema[Lead]("id", "converted", "created_at", "updated_at", "version", "converted_at",
		"converted_account_id", "converted_contact_id", "converted_deal_id").
		Field("salutation", OneOf(salutation, func(l *Lead) *string { return &l.Salutation })).
		Field("first_name", Text(80, false, func(l *Lead) *string { return &l.FirstName })).
		Field("last_name", Text(80, false, func(l *Lead) *string { return &l.LastName })).
		Field("company", Text(200, false, func(l *Lead) *string { return &l.Company })).
		Field("title", Text(100, false, func(l *Lead) *string { return &l.Title })).
		Field("email", Email(func(l *Lead) *string { return &l.Email })).
		Field("secondary_email", Email(func(l *Lead) *string { return &l.SecondaryEmail })).
		Field("phone", Phone(func(l *Lead) *string { return &l.Phone })).
		Field("mobile", Phone(func(l *Lead) *string { return &l.Mobile })).
		Field("fax", Phone(func(l *Lead) *string { return &l.Fax })).
		Field("website", Website(func(l *Lead) *string { return &l.Website })).
		Field("status", OneOf(status, func(l *Lead) *string { return &l.Status })).
		Field("source", OneOf(source, func(l *Lead) *string { return &l.Source })).
		Field("industry", Text(100, false, func(l *Lead) *string { return &l.Industry })).
		Field("rating", Text(50, false, func(l *Lead) *string { return &l.Rating })).
		Field("annual_revenue", Amount(func(l *Lead) **Money { return &l.AnnualRevenue })).
		Field("employees", Int(0, 10_000_000, func(l *Lead) **int64 { return &l.Employees })).
		Field("address", Object(AddressSchema(), func(l *Lead) *Address { return &l.Address })).
		Field("description", Text(32_000, true, func(l *Lead) *string { return &l.Description })).
		Field("marketing", Object(MarketingSchema(), func(l *Lead) *Marketing { return &l.Marketing })).
		Field("owner_id", ID(func(l *Lead) *string { return &l.OwnerID })).
		Field("team_id", Link(func(l *Lead) **string { return &l.TeamID }))
})

// Marketing is a lead's web attribution: the UTM tags of the visit, the
// advertising click id (yclid, gclid), the page before the site
// (referrer) and the page the visitor landed on.
type Marketing struct {
	UTMSource   string `json:"utm_source"`
	UTMMedium   string `json:"utm_medium"`
	UTMCampaign string `json:"utm_campaign"`
	UTMContent  string `json:"utm_content"`
	UTMTerm     string `json:"utm_term"`
	ClickID     string `json:"click_id"`
	Referrer    string `json:"referrer"`
	LandingPage string `json:"landing_page"`
}

// IsZero reports whether nothing is known.
func (m Marketing) IsZero() bool { return m == Marketing{} }

// MarketingSchema returns the writable fields of marketing attribution.
func MarketingSchema() *Schema[Marketing] { return marketingSchema() }

var marketingSchema = sync.OnceValue(func() *Schema[Marketing] {
	return NewSchema[Marketing]().
		Field("utm_source", Text(200, false, func(m *Marketing) *string { return &m.UTMSource })).
		Field("utm_medium", Text(200, false, func(m *Marketing) *string { return &m.UTMMedium })).
		Field("utm_campaign", Text(200, false, func(m *Marketing) *string { return &m.UTMCampaign })).
		Field("utm_content", Text(200, false, func(m *Marketing) *string { return &m.UTMContent })).
		Field("utm_term", Text(200, false, func(m *Marketing) *string { return &m.UTMTerm })).
		Field("click_id", Text(200, false, func(m *Marketing) *string { return &m.ClickID })).
		Field("referrer", Text(2000, false, func(m *Marketing) *string { return &m.Referrer })).
		Field("landing_page", Text(2000, false, func(m *Marketing) *string { return &m.LandingPage }))
})

// AddressSchema returns the writable fields of an address (shared, immutable).
func AddressSchema() *Schema[Address] { return addressSchema() }

var addressSchema = sync.OnceValue(func() *Schema[Address] {
	return NewSchema[Address]().
		Field("street", Text(250, false, func(a *Address) *string { return &a.Street })).
		Field("po_box", Text(30, false, func(a *Address) *string { return &a.POBox })).
		Field("city", Text(100, false, func(a *Address) *string { return &a.City })).
		Field("state", Text(100, false, func(a *Address) *string { return &a.State })).
		Field("postcode", Text(20, false, func(a *Address) *string { return &a.Postcode })).
		Field("country", Text(100, false, func(a *Address) *string { return &a.Country })).
		Field("flat", Text(50, false, func(a *Address) *string { return &a.Flat })).
		Field("kladr_id", Text(25, false, func(a *Address) *string { return &a.KLADRID })).
		Field("oktmo", Text(11, false, func(a *Address) *string { return &a.OKTMO })).
		Field("fias_level", fiasLevelField(func(a *Address) *int { return &a.FIASLevel })).
		Field("fias_id", Requisite("invalid_fias_id", "must be a ФИАС id (a UUID) of an address object or a house", validFIASID,
			func(a *Address) *string { return &a.FIASID }))
})

// Validate checks the rules that span fields or need the whole record:
// last name and company are mandatory (as in vtiger).
func (l *Lead) Validate() error {
	var errs []FieldError
	if l.LastName == "" {
		errs = append(errs, FieldError{Field: "last_name", Code: "required", Message: "is required"})
	}
	if l.Company == "" {
		errs = append(errs, FieldError{Field: "company", Code: "required", Message: "is required"})
	}
	return Invalid(errs)
}

// LeadFilter selects leads for a list. Empty members do not filter.
type LeadFilter struct {
	ListParams
	Statuses  []string
	Sources   []string
	Phone     string // E.164; matches phone or mobile
	Email     string // lower-cased; matches email or secondary e-mail
	Converted bool   // list converted leads instead of open ones
}

// LeadService keeps leads.
type LeadService interface {
	Repository[Lead]
	// List returns one page of leads; Query matches names, company, e-mail
	// and phone. Errors: EINVALID (bad cursor).
	List(ctx context.Context, f LeadFilter) (Page[Lead], error)
}
