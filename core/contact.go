package core

import (
	"context"
	"sync"
)

// EntityContact names contacts in events, topics and errors.
const EntityContact = "contact"

// Contact is a person, usually at an account, with vtiger's standard
// contact fields.
type Contact struct {
	Record
	Salutation     string  `json:"salutation"`
	FirstName      string  `json:"first_name"`
	MiddleName     string  `json:"middle_name"` // отчество
	LastName       string  `json:"last_name"`
	Title          string  `json:"title"` // position
	Department     string  `json:"department"`
	Birthday       Date    `json:"birthday"` // «Дата рождения»; null when unknown
	Phone          string  `json:"phone"`
	Mobile         string  `json:"mobile"`
	HomePhone      string  `json:"home_phone"`
	OtherPhone     string  `json:"other_phone"`
	Fax            string  `json:"fax"`
	Email          string  `json:"email"`
	SecondaryEmail string  `json:"secondary_email"`
	Assistant      string  `json:"assistant"`
	AssistantPhone string  `json:"assistant_phone"`
	AccountID      *string `json:"account_id"`
	// ReportsToID is the contact this one reports to («Руководитель»):
	// another live contact, never the contact itself.
	ReportsToID *string `json:"reports_to_id"`
	Source      string  `json:"source"`
	DoNotCall   bool    `json:"do_not_call"`
	EmailOptOut bool    `json:"email_opt_out"`
	// Address is the mailing address (vtiger's mailing street, city…; a
	// converted lead's address lands here), OtherAddress the other one.
	Address      Address           `json:"address"`
	OtherAddress Address           `json:"other_address"`
	Description  string            `json:"description"`
	ExternalIDs  map[string]string `json:"external_ids"`
}

// ContactSchema returns the writable fields of a contact.
func ContactSchema() *Schema[Contact] { return contactSchema() }

var contactSchema = sync.OnceValue(func() *Schema[Contact] {
	return NewSchema[Contact]("id", "created_at", "updated_at", "version").
		Field("salutation", OneOf(Salutations(), func(c *Contact) *string { return &c.Salutation })).
		Field("first_name", Text(80, false, func(c *Contact) *string { return &c.FirstName })).
		Field("middle_name", Text(80, false, func(c *Contact) *string { return &c.MiddleName })).
		Field("last_name", Text(80, false, func(c *Contact) *string { return &c.LastName })).
		Field("title", Text(100, false, func(c *Contact) *string { return &c.Title })).
		Field("department", Text(100, false, func(c *Contact) *string { return &c.Department })).
		Field("birthday", DateField(func(c *Contact) *Date { return &c.Birthday })).
		Field("phone", Phone(func(c *Contact) *string { return &c.Phone })).
		Field("mobile", Phone(func(c *Contact) *string { return &c.Mobile })).
		Field("home_phone", Phone(func(c *Contact) *string { return &c.HomePhone })).
		Field("other_phone", Phone(func(c *Contact) *string { return &c.OtherPhone })).
		Field("fax", Phone(func(c *Contact) *string { return &c.Fax })).
		Field("email", Email(func(c *Contact) *string { return &c.Email })).
		Field("secondary_email", Email(func(c *Contact) *string { return &c.SecondaryEmail })).
		Field("assistant", Text(100, false, func(c *Contact) *string { return &c.Assistant })).
		Field("assistant_phone", Phone(func(c *Contact) *string { return &c.AssistantPhone })).
		Field("account_id", Link(func(c *Contact) **string { return &c.AccountID })).
		Field("reports_to_id", Link(func(c *Contact) **string { return &c.ReportsToID })).
		Field("source", OneOf(LeadSources(), func(c *Contact) *string { return &c.Source })).
		Field("do_not_call", Bool(func(c *Contact) *bool { return &c.DoNotCall })).
		Field("email_opt_out", Bool(func(c *Contact) *bool { return &c.EmailOptOut })).
		Field("address", Object(AddressSchema(), func(c *Contact) *Address { return &c.Address })).
		Field("other_address", Object(AddressSchema(), func(c *Contact) *Address { return &c.OtherAddress })).
		Field("description", Text(32_000, true, func(c *Contact) *string { return &c.Description })).
		Field("owner_id", ID(func(c *Contact) *string { return &c.OwnerID })).
		Field("team_id", Link(func(c *Contact) **string { return &c.TeamID })).
		Field("external_ids", ExternalIDs(func(c *Contact) *map[string]string { return &c.ExternalIDs }))
})

// Validate checks that the last name is given (a contact's one mandatory
// field, as in vtiger) and that
// the contact does not report to itself.
func (c *Contact) Validate() error {
	var errs []FieldError
	if c.LastName == "" {
		errs = append(errs, FieldError{Field: "last_name", Code: "required", Message: "is required"})
	}
	if c.ReportsToID != nil && c.ID != "" && *c.ReportsToID == c.ID {
		errs = append(errs, FieldError{Field: "reports_to_id", Code: "self_reference", Message: "a contact cannot report to itself"})
	}
	return Invalid(errs)
}

// ContactFilter selects contacts for a list.
type ContactFilter struct {
	ListParams
	AccountID  string
	Phone      string // E.164; matches phone, mobile or other phone
	Email      string
	Sources    []string
	ExternalID [2]string
}

// ContactService keeps contacts.
type ContactService interface {
	Repository[Contact]
	// List returns one page of contacts; Query matches name parts, e-mail
	// and phone. Errors: EINVALID.
	List(ctx context.Context, f ContactFilter) (Page[Contact], error)
}
