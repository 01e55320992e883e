package core

import (
	"context"
	"encoding/json"
	"strings"
)

// ConversionMapping says which lead fields fill which fields of the
// account, contact and deal a lead converts into: target path ← lead path,
// both JSON names, with one level of nesting ("actual_address.city" ←
// "address.city"). Empty values are not copied.
type ConversionMapping struct {
	Account map[string]string `yaml:"account" json:"account"`
	Contact map[string]string `yaml:"contact" json:"contact"`
	Deal    map[string]string `yaml:"deal" json:"deal"`
}

// DefaultConversionMapping is vtiger's default lead conversion mapping
// (which lead field fills which account, contact and deal field) on
// crmhub's fields.
func DefaultConversionMapping() ConversionMapping {
	return ConversionMapping{
		Account: map[string]string{
			"name": "company", "email": "email", "phone": "phone", "fax": "fax", "website": "website",
			"industry": "industry", "description": "description",
			"actual_address.street": "address.street", "actual_address.city": "address.city",
			"actual_address.region": "address.state", "actual_address.postcode": "address.postcode",
			// A structured address goes whole: the account takes its parts
			// from the register.
			"actual_address.fias_id": "address.fias_id", "actual_address.flat": "address.flat",
		},
		Contact: map[string]string{
			"salutation": "salutation", "first_name": "first_name", "last_name": "last_name", "email": "email",
			"secondary_email": "secondary_email", "phone": "phone", "mobile": "mobile", "title": "title",
			"source": "source", "description": "description", "address": "address", "fax": "fax",
		},
		Deal: map[string]string{"name": "company", "source": "source", "description": "description"},
	}
}

// Patch builds a patch for one target from a lead by a mapping.
func (m ConversionMapping) patch(lead *Lead, fields map[string]string) (Patch, error) {
	raw, err := json.Marshal(lead)
	if err != nil {
		return nil, err
	}
	var src map[string]json.RawMessage
	if err := json.Unmarshal(raw, &src); err != nil {
		return nil, err
	}
	out := Patch{}
	nested := map[string]map[string]json.RawMessage{}
	for target, source := range fields {
		if source == "" { // removed by configuration
			continue
		}
		v := lookup(src, source)
		if v == nil || isEmptyJSON(v) {
			continue
		}
		if obj, member, ok := strings.Cut(target, "."); ok {
			if nested[obj] == nil {
				nested[obj] = map[string]json.RawMessage{}
			}
			nested[obj][member] = v
			continue
		}
		out[target] = v
	}
	for obj, members := range nested {
		b, err := json.Marshal(members)
		if err != nil {
			return nil, err
		}
		out[obj] = b
	}
	return out, nil
}

func lookup(src map[string]json.RawMessage, path string) json.RawMessage {
	obj, member, ok := strings.Cut(path, ".")
	if !ok {
		return src[path]
	}
	var inner map[string]json.RawMessage
	if json.Unmarshal(src[obj], &inner) != nil {
		return nil
	}
	return inner[member]
}

func isEmptyJSON(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	if s == "null" || s == `""` || s == "{}" {
		return true
	}
	if strings.HasPrefix(s, "{") { // an object whose members are all empty
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) == nil {
			for _, x := range m {
				if !isEmptyJSON(x) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// AccountPatch, ContactPatch and DealPatch build the mapped patches.
func (m ConversionMapping) AccountPatch(l *Lead) (Patch, error) { return m.patch(l, m.Account) }

// ContactPatch builds the contact's patch from a lead.
func (m ConversionMapping) ContactPatch(l *Lead) (Patch, error) { return m.patch(l, m.Contact) }

// DealPatch builds the deal's patch from a lead.
func (m ConversionMapping) DealPatch(l *Lead) (Patch, error) { return m.patch(l, m.Deal) }

// ConvertRequest is the body of POST /leads/{id}/convert. Every member is
// optional: an empty request takes the account from the company (reused
// when it exists), the contact from the lead, and creates no deal.
type ConvertRequest struct {
	// Account overrides the mapped account fields; "id" names an existing
	// account to use instead.
	Account Patch `json:"account,omitempty"`
	// Contact overrides the mapped contact fields.
	Contact Patch `json:"contact,omitempty"`
	// Deal, when present (even {}), creates a deal from the mapped fields
	// and these (pipeline_id, stage, amount, close_date, …).
	Deal Patch `json:"deal,omitempty"`
	// OwnerID owns what is created; default the lead's owner.
	OwnerID string `json:"owner_id,omitempty"`
}

// Conversion is what a lead became.
type Conversion struct {
	Lead          Lead     `json:"lead"`
	Account       Account  `json:"account"`
	AccountReused bool     `json:"account_reused"`
	Contact       Contact  `json:"contact"`
	Deal          *Deal    `json:"deal"`
	Relinked      []string `json:"relinked_activities"`
	Replayed      bool     `json:"-"`
}

// LeadConverter converts leads.
type LeadConverter interface {
	// Convert converts a lead in one transaction. A repeat of the same
	// request returns the first result (Replayed) and changes nothing.
	// Errors: ENOTFOUND, EINVALID, ECONFLICT (converted with another request).
	Convert(ctx context.Context, leadID string, req ConvertRequest) (*Conversion, error)
}

// NormalizeCompanyName is the key accounts are matched by on conversion:
// case, surrounding and repeated spaces, and the kind of quotes do not
// matter (ООО «Ромашка» = ооо "ромашка").
func NormalizeCompanyName(s string) string {
	s = strings.NewReplacer("«", `"`, "»", `"`, "“", `"`, "”", `"`, "„", `"`, "'", `"`).Replace(s)
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// Validate checks that every target is a writable field of its kind (its
// first part, for nested paths) and every source a field of a lead.
func (m ConversionMapping) Validate() error {
	raw, _ := json.Marshal(Lead{})
	var lead map[string]json.RawMessage
	_ = json.Unmarshal(raw, &lead)
	check := func(kind string, fields map[string]string, has func(string) bool) error {
		for target, source := range fields {
			obj, _, _ := strings.Cut(target, ".")
			if !has(obj) {
				return Errorf(EINVALID, "%s.%s: %s has no writable field %q", kind, target, kind, obj)
			}
			src, _, _ := strings.Cut(source, ".")
			if _, ok := lead[src]; !ok && source != "" {
				return Errorf(EINVALID, "%s.%s: a lead has no field %q", kind, target, src)
			}
		}
		return nil
	}
	if err := check("account", m.Account, AccountSchema().Has); err != nil {
		return err
	}
	if err := check("contact", m.Contact, ContactSchema().Has); err != nil {
		return err
	}
	return check("deal", m.Deal, DealSchema().Has)
}
