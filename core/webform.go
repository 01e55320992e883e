package core

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Form targets: what a submission becomes.
const (
	FormTargetLead    = "lead"
	FormTargetContact = "contact"
	FormTargetDeal    = "deal" // a deal with its contact (matched or created)
)

// Duplicate policies of a form: what happens when the visitor's phone or
// e-mail is already on a record.
const (
	// FormDupAttach (the default) leaves the existing record and gives its
	// owner a task with the submission, so a returning customer is not a
	// second lead.
	FormDupAttach = "attach"
	// FormDupCreate always creates a new record.
	FormDupCreate = "create"
)

// Form body formats. Auto reads urlencoded, multipart and JSON bodies with
// field names as posted; the others know a site builder's conventions.
const (
	FormatAuto     = "auto"
	FormatTilda    = "tilda"    // test=test check, tranid dedupe, COOKIES, API key field or header
	FormatCF7      = "cf7"      // Contact Form 7 "CF7 to Webhook" JSON (your-name, _url, …)
	FormatVtiger   = "vtiger"   // vtiger/SalesPlatform webform field names and replies
	FormatBitrix24 = "bitrix24" // Bitrix24 crm.lead.add fields[…] and outgoing events
)

// WebForm is a website form's definition: where its submissions go and how
// its inputs map to CRM fields. Forms come from the config file or the
// admin API; the slug is the form's URL: POST /forms/{slug}.
type WebForm struct {
	Slug     string `json:"slug" yaml:"slug"`
	Name     string `json:"name" yaml:"name"`
	Disabled bool   `json:"disabled" yaml:"disabled"`
	Target   string `json:"target" yaml:"target"` // lead (default), contact, deal
	Format   string `json:"format" yaml:"format"` // auto (default), tilda, cf7, vtiger, bitrix24
	// PublicID lets vtiger-generated HTML post unchanged to
	// /modules/Webforms/capture.php (its publicid field).
	PublicID string `json:"public_id" yaml:"public_id"`
	// Fields maps input names to CRM fields of the target ("full_name" is
	// split into first and last name; "contact.<field>" is the deal's
	// contact; "marketing.<field>" the lead's attribution; "custom.<key>"
	// a custom field of the target, its text read as the field's type; ""
	// ignores the input). Inputs not listed are mapped by well-known names
	// (name, phone, email, message, utm_*, …) and the rest are kept in the
	// description.
	Fields map[string]string `json:"fields" yaml:"fields"`
	// Required CRM fields: a submission without them is refused.
	Required []string `json:"required" yaml:"required"`
	// Defaults fill CRM fields the submission leaves empty; Hidden values
	// always win over what is posted.
	Defaults map[string]string `json:"defaults" yaml:"defaults"`
	Hidden   map[string]string `json:"hidden" yaml:"hidden"`
	// OwnerID owns created records; RoundRobin (user ids) takes turns
	// instead. Neither: the hub's default owner.
	OwnerID    string   `json:"owner_id" yaml:"owner_id"`
	RoundRobin []string `json:"round_robin" yaml:"round_robin"`
	// Source is the lead source code (default web_site).
	Source string `json:"source" yaml:"source"`
	// AllowedOrigins may post from a browser (CORS); "*" allows any.
	AllowedOrigins []string `json:"allowed_origins" yaml:"allowed_origins"`
	// FrameAncestors are the sites (origins such as https://example.ru)
	// whose pages may show the form's reply pages in a frame; empty: none
	// may (X-Frame-Options: DENY).
	FrameAncestors []string `json:"frame_ancestors" yaml:"frame_ancestors"`
	// RedirectURL: a classic form post is redirected there (with
	// ?success=ok or ?error=<reason>) instead of getting JSON.
	RedirectURL string `json:"redirect_url" yaml:"redirect_url"`
	Duplicates  string `json:"duplicates" yaml:"duplicates"` // attach (default), create
	// Honeypot names an input hidden from people: a submission that fills
	// it is spam (answered as a success, nothing created).
	Honeypot string `json:"honeypot" yaml:"honeypot"`
	// TimingField holds the Unix time the page rendered the form; a
	// submission faster than MinFillSeconds after it is spam.
	TimingField    string `json:"timing_field" yaml:"timing_field"`
	MinFillSeconds int    `json:"min_fill_seconds" yaml:"min_fill_seconds"`
	// APIKey, when set, must come in the header or body field APIKeyName
	// (default X-Api-Key), as Tilda and CF7 webhooks send it.
	APIKeyName string `json:"api_key_name" yaml:"api_key_name"`
	APIKey     string `json:"api_key,omitempty" yaml:"api_key"`
	// Captcha requires the captcha token verified by the configured hook.
	Captcha bool `json:"captcha" yaml:"captcha"`
	// Managed says where the form is defined: "config" forms are read-only
	// through the API.
	Managed   string     `json:"managed" yaml:"-"`
	CreatedAt *time.Time `json:"created_at,omitempty" yaml:"-"`
	UpdatedAt *time.Time `json:"updated_at,omitempty" yaml:"-"`
	Version   int64      `json:"version,omitempty" yaml:"-"`
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Normalize fills the defaults of an incomplete definition.
func (f *WebForm) Normalize() {
	f.Slug = strings.TrimSpace(f.Slug)
	if f.Target == "" {
		f.Target = FormTargetLead
	}
	if f.Format == "" {
		f.Format = FormatAuto
	}
	if f.Duplicates == "" {
		f.Duplicates = FormDupAttach
	}
	if f.Source == "" {
		f.Source = "web_site"
	}
	if f.APIKeyName == "" {
		f.APIKeyName = "X-Api-Key"
	}
	if f.Name == "" {
		f.Name = f.Slug
	}
}

// Validate checks a normalized definition: every CRM field it names must
// exist on its target.
func (f *WebForm) Validate() error {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	if !slugRe.MatchString(f.Slug) {
		bad("slug", "invalid_slug", "must be 1 to 64 lower-case letters, digits, '-' or '_'")
	}
	if len(f.Name) > 200 {
		bad("name", "too_long", "at most 200 characters")
	}
	switch f.Target {
	case FormTargetLead, FormTargetContact, FormTargetDeal:
	default:
		bad("target", "invalid_choice", "must be lead, contact or deal")
	}
	switch f.Format {
	case FormatAuto, FormatTilda, FormatCF7, FormatVtiger, FormatBitrix24:
	default:
		bad("format", "invalid_choice", "must be auto, tilda, cf7, vtiger or bitrix24")
	}
	switch f.Duplicates {
	case FormDupAttach, FormDupCreate:
	default:
		bad("duplicates", "invalid_choice", "must be attach or create")
	}
	if !LeadSources().Has(f.Source) {
		bad("source", "invalid_choice", "must be a lead source code")
	}
	if f.PublicID != "" && !validPublicID(f.PublicID) {
		bad("public_id", "invalid", "must be 1 to 64 letters or digits")
	}
	for in, field := range f.Fields {
		if in == "" || len(in) > 100 {
			bad("fields", "invalid", "input names must be 1 to 100 characters")
		} else if field != "" && !FormFieldKnown(f.Target, field) {
			bad("fields."+in, "unknown_field", fmt.Sprintf("%q is not a field of a %s", field, f.Target))
		}
	}
	for i, field := range f.Required {
		if !FormFieldKnown(f.Target, field) {
			bad(fmt.Sprintf("required[%d]", i), "unknown_field", fmt.Sprintf("%q is not a field of a %s", field, f.Target))
		}
	}
	for name, m := range map[string]map[string]string{"defaults": f.Defaults, "hidden": f.Hidden} {
		for field := range m {
			if !FormFieldKnown(f.Target, field) {
				bad(name+"."+field, "unknown_field", fmt.Sprintf("%q is not a field of a %s", field, f.Target))
			}
		}
	}
	if f.OwnerID != "" {
		if _, err := uuid.Parse(f.OwnerID); err != nil {
			bad("owner_id", "invalid_id", "must be a user id")
		}
	}
	for i, id := range f.RoundRobin {
		if _, err := uuid.Parse(id); err != nil {
			bad(fmt.Sprintf("round_robin[%d]", i), "invalid_id", "must be a user id")
		}
	}
	for i, o := range f.AllowedOrigins {
		if o == "*" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			bad(fmt.Sprintf("allowed_origins[%d]", i), "invalid_origin", "must be * or an origin such as https://example.ru")
		}
	}
	for i, o := range f.FrameAncestors {
		if !isOrigin(o) {
			bad(fmt.Sprintf("frame_ancestors[%d]", i), "invalid_origin", "must be an origin such as https://example.ru")
		}
	}
	if f.RedirectURL != "" {
		if u, err := url.Parse(f.RedirectURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("redirect_url", "invalid_url", "must be an absolute http(s) URL")
		}
	}
	if f.MinFillSeconds < 0 || f.MinFillSeconds > 3600 {
		bad("min_fill_seconds", "out_of_range", "must be 0 to 3600")
	}
	if f.MinFillSeconds > 0 && f.TimingField == "" {
		bad("timing_field", "required", "is required with min_fill_seconds")
	}
	if def, err := json.Marshal(f); err == nil { // every text of it, names and values, as one stored document
		if path, code := JSONTextProblem(def); code != "" {
			fe := TextFieldError(strings.TrimPrefix(path, "."), code)
			bad(fe.Field, fe.Code, fe.Message)
		}
	}
	return Invalid(errs)
}

func validPublicID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// FormFieldKnown reports whether field names a CRM field a form of the
// target can fill. A custom field, custom.<key>, is known by its key's
// form here; CheckCustomFields says whether the target has it.
func FormFieldKnown(target, field string) bool {
	if field == "full_name" {
		return true
	}
	if key, ok := strings.CutPrefix(field, "custom."); ok {
		return CustomKeyValid(key)
	}
	if sub, ok := strings.CutPrefix(field, "address."); ok && target != FormTargetDeal {
		return AddressSchema().Has(sub)
	}
	if sub, ok := strings.CutPrefix(field, "marketing."); ok {
		return MarketingSchema().Has(sub)
	}
	// formHidden are contact fields a visitor's form may not set: the
	// owner, the addresses (objects), links to other records.
	formHidden := func(f string) bool {
		return f == "owner_id" || f == "address" || f == "other_address" || f == "account_id" || f == "reports_to_id"
	}
	switch target {
	case FormTargetLead:
		return LeadSchema().Has(field) && field != "owner_id" && field != "address" && field != "marketing"
	case FormTargetContact:
		return ContactSchema().Has(field) && !formHidden(field)
	case FormTargetDeal:
		if sub, ok := strings.CutPrefix(field, "contact."); ok {
			return ContactSchema().Has(sub) && !formHidden(sub)
		}
		return DealSchema().Has(field) && field != "owner_id" && field != "account_id" && field != "contact_id"
	}
	return false
}

// UsesCustomFields reports whether the form names a custom field: its
// submissions are then mapped with the target's definitions.
func (f *WebForm) UsesCustomFields() bool {
	return len(f.customFields()) > 0
}

// formCustomField is a custom field a form names: where (the path of an
// error about it), its key, and the value it gives when it is a default
// or a hidden value.
type formCustomField struct {
	path, key, value string
	given            bool
}

// NamesCustomField reports whether the form maps, requires, defaults or
// hides the custom field key of its target.
func (f *WebForm) NamesCustomField(key string) bool {
	return slices.ContainsFunc(f.customFields(), func(c formCustomField) bool { return c.key == key })
}

// customFields lists the custom fields the form names, in path order.
func (f *WebForm) customFields() []formCustomField {
	var out []formCustomField
	add := func(path, field, value string, given bool) {
		if key, ok := strings.CutPrefix(field, "custom."); ok {
			out = append(out, formCustomField{path: path, key: key, value: value, given: given})
		}
	}
	for _, in := range slices.Sorted(maps.Keys(f.Fields)) {
		add("fields."+in, f.Fields[in], "", false)
	}
	for i, field := range f.Required {
		add(fmt.Sprintf("required[%d]", i), field, "", false)
	}
	for _, m := range []struct {
		name   string
		values map[string]string
	}{{"defaults", f.Defaults}, {"hidden", f.Hidden}} {
		for _, field := range slices.Sorted(maps.Keys(m.values)) {
			add(m.name+"."+field, field, m.values[field], true)
		}
	}
	return out
}

// CheckCustomFields checks the custom fields a valid form names against
// defs, its target's live definitions: each must be one of them, and a
// default or hidden value must be one the field takes (else every
// submission would be refused for it).
func (f *WebForm) CheckCustomFields(defs []CustomField) error {
	var errs []FieldError
	for _, c := range f.customFields() {
		i := slices.IndexFunc(defs, func(d CustomField) bool { return d.Key == c.key })
		if i < 0 {
			errs = append(errs, FieldError{Field: c.path, Code: "unknown_field",
				Message: fmt.Sprintf("%q is not a field of a %s", "custom."+c.key, f.Target)})
			continue
		}
		if !c.given {
			continue
		}
		if _, ferrs := defs[i].FromText(c.value); len(ferrs) > 0 {
			for _, fe := range ferrs {
				errs = append(errs, FieldError{Field: c.path, Code: fe.Code, Message: fe.Message})
			}
		}
	}
	return Invalid(errs)
}

// FormFile is a file uploaded with a submission.
type FormFile struct {
	Name        string
	ContentType string
	Data        []byte
}

// FormSubmission is a submission mapped onto CRM fields, ready to capture.
type FormSubmission struct {
	Form string // the form's slug
	// Key identifies the submission (the site builder's id, else a hash of
	// the body): the same key again is a repeat and changes nothing.
	Key    string
	Target string
	// Record holds the target record's fields; Contact the deal's person.
	Record  Patch
	Contact Patch
	// Dup are the phone and e-mail looked up by the duplicate policy.
	Dup        DuplicateKeys
	Duplicates string
	OwnerID    string
	RoundRobin []string
	Files      []FormFile
	RemoteIP   string
	// Summary describes the submission for a person: the task on an
	// existing record carries it.
	Summary string
}

// FormResult is what a submission became.
type FormResult struct {
	Entity string `json:"entity"` // the record the submission landed on
	ID     string `json:"id"`
	// Created is false when the submission was attached to an existing
	// record (a task for its owner says so).
	Created bool    `json:"created"`
	TaskID  *string `json:"task_id"`
	// Repeat is true when the submission had been captured before.
	Repeat bool `json:"repeat"`
}

// WebFormService keeps forms defined through the API and captures
// submissions.
type WebFormService interface {
	// CaptureForm writes a submission in one transaction: the record (or
	// the task on an existing one), its files and the submission's key.
	// A repeated key returns the first result with Repeat set.
	CaptureForm(ctx context.Context, s FormSubmission) (*FormResult, error)
	// WebForm returns a form defined through the API. Errors: ENOTFOUND.
	WebForm(ctx context.Context, slug string) (*WebForm, error)
	// WebFormByPublicID finds a form by its vtiger public id.
	WebFormByPublicID(ctx context.Context, publicID string) (*WebForm, error)
	WebForms(ctx context.Context) ([]WebForm, error)
	// PutWebForm creates (ifVersion 0) or replaces a form; every custom
	// field it names must be a live one of its target. Errors: EINVALID,
	// ECONFLICT (exists), EPRECONDITION, ENOTFOUND.
	PutWebForm(ctx context.Context, f WebForm, ifVersion int64) (*WebForm, error)
	DeleteWebForm(ctx context.Context, slug string, ifVersion int64) error
	// FormCustomFields returns the live custom fields of target's records,
	// which a submission's custom.<key> values fill; a field just defined
	// may take a few seconds to show.
	FormCustomFields(ctx context.Context, target string) ([]CustomField, error)
}

// isOrigin reports whether s is a web origin, http(s)://host[:port] and
// nothing more: it goes into a Content-Security-Policy as it is.
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path == "" && u.User == nil &&
		u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery && !strings.ContainsAny(s, " \t;,'\"")
}
