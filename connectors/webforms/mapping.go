package webforms

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/crmhub/crmhub/core"
)

// normName folds an input name for matching: lower case, letters and
// digits only, without a leading "your" (Contact Form 7's your-name).
func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	n := b.String()
	if t, ok := strings.CutPrefix(n, "your"); ok && t != "" {
		n = t
	}
	return n
}

// Well-known input names (normalized) and the CRM field they fill.
var knownInputs = map[string]string{
	"name": "full_name", "fio": "full_name", "фио": "full_name", "fullname": "full_name", "имя": "full_name",
	"contactname": "full_name", "клиент": "full_name",
	"firstname": "first_name", "fname": "first_name", "givenname": "first_name",
	"lastname": "last_name", "lname": "last_name", "surname": "last_name", "familyname": "last_name", "фамилия": "last_name",
	"middlename": "middle_name", "отчество": "middle_name",
	"phone": "phone", "tel": "phone", "telephone": "phone", "phonenumber": "phone", "телефон": "phone", "тел": "phone",
	"mobile": "mobile", "mobilephone": "mobile", "cellphone": "mobile", "мобильный": "mobile",
	"email": "email", "mail": "email", "emailaddress": "email", "почта": "email", "емейл": "email",
	"company": "company", "companyname": "company", "organization": "company", "organisation": "company",
	"компания": "company", "организация": "company",
	"position": "title", "jobtitle": "title", "designation": "title", "должность": "title",
	"website": "website", "site": "website", "сайт": "website",
	"city": "address.city", "город": "address.city",
	"message": "description", "comment": "description", "comments": "description", "question": "description",
	"text": "description", "description": "description", "subject": "description", "note": "description",
	"notes": "description", "комментарий": "description", "сообщение": "description", "вопрос": "description",
	"тема": "description", "текст": "description",
	"leadsource": "", // vtiger: the form's own source wins
}

// Inputs that carry marketing data, read separately.
var marketingInputs = map[string]string{
	"utmsource": "utm_source", "utmmedium": "utm_medium", "utmcampaign": "utm_campaign",
	"utmcontent": "utm_content", "utmterm": "utm_term", "yclid": "click_id", "gclid": "click_id",
	"referrer": "referrer", "referer": "referrer",
	"pageurl": "landing_page", "landingpage": "landing_page", "landing": "landing_page", "url": "landing_page",
	"page": "landing_page",
}

// Service inputs of site builders and spam guards: never CRM data.
var serviceInputs = map[string]bool{
	"tranid": true, "formid": true, "formname": true, "cookies": true, "publicid": true, "urlencodeenable": true,
	"vtrftk": true, "remoteip": true, "useragent": true, "date": true, "time": true, "posttitle": true,
	"postid": true, "postname": true, "posturl": true, "smarttoken": true, "grecaptcharesponse": true,
	"hcaptcharesponse": true, "cfturnstileresponse": true, "captcha": true, "test": true, "callback": true,
}

// Bitrix24 crm.lead.add field names.
var bitrixFields = map[string]string{
	"NAME": "first_name", "LAST_NAME": "last_name", "SECOND_NAME": "middle_name", "COMPANY_TITLE": "company",
	"POST": "title", "PHONE": "phone", "EMAIL": "email", "WEB": "website", "COMMENTS": "description",
	"SOURCE_DESCRIPTION": "description", "TITLE": "description", "ADDRESS_CITY": "address.city",
	"UTM_SOURCE": "marketing.utm_source", "UTM_MEDIUM": "marketing.utm_medium", "UTM_CAMPAIGN": "marketing.utm_campaign",
	"UTM_CONTENT": "marketing.utm_content", "UTM_TERM": "marketing.utm_term", "SOURCE_ID": "", "ASSIGNED_BY_ID": "",
	"STATUS_ID": "", "OPENED": "",
}

var bitrixKey = regexp.MustCompile(`^fields\[([A-Z0-9_]+)\](?:\[(\d+)\]\[VALUE\])?$`)

// meta is what the request tells beyond its body.
type meta struct {
	RemoteIP string
	Referer  string // the HTTP Referer: the page the form was posted from
}

// built is a submission mapped onto CRM fields.
type built struct {
	values    map[string][]string // CRM field → values, in input order
	order     []string            // CRM fields in first-seen order
	other     []string            // "input: value" lines of unmapped inputs
	marketing core.Marketing
}

func (b *built) set(field string, vals ...string) {
	var keep []string
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			keep = append(keep, v)
		}
	}
	if len(keep) == 0 {
		return
	}
	if _, ok := b.values[field]; !ok {
		b.order = append(b.order, field)
	}
	b.values[field] = append(b.values[field], keep...)
}

func (b *built) first(field string) string {
	if v := b.values[field]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// fieldOf resolves an input to a CRM field: the form's mapping, then the
// well-known names of its format. ok is false for an input to keep as
// "other"; an empty field with ok means ignore it.
func fieldOf(def *core.WebForm, name string) (field string, ok bool) {
	if f, ok := mapped(def, name); ok {
		return f, true
	}
	n := normName(name)
	if def.Format == core.FormatVtiger && n == "name" {
		return "", true // the webform's own name
	}
	if f, ok := knownInputs[n]; ok {
		return f, true
	}
	return "", false
}

// mapped returns the form's own mapping of an input name (in any case).
func mapped(def *core.WebForm, name string) (field string, ok bool) {
	if f, ok := def.Fields[name]; ok {
		return f, true
	}
	for in, f := range def.Fields {
		if strings.EqualFold(in, name) {
			return f, true
		}
	}
	return "", false
}

// build maps a parsed body onto CRM fields.
func build(def *core.WebForm, f *form, m meta) *built {
	b := &built{values: map[string][]string{}}
	skip := map[string]bool{}
	for _, n := range []string{def.Honeypot, def.TimingField, def.APIKeyName} {
		if n != "" {
			skip[strings.ToLower(n)] = true
		}
	}
	for _, in := range f.inputs {
		// The form's key never reaches a record or its event, under any
		// input name (Bitrix24 sends it as auth[application_token]), nor
		// Bitrix24's auth envelope (auth[domain], auth[member_id]…).
		if skip[strings.ToLower(in.name)] || strings.HasPrefix(strings.ToLower(in.name), "auth[") ||
			def.APIKey != "" && slices.ContainsFunc(in.values, func(v string) bool { return strings.Contains(v, def.APIKey) }) {
			continue
		}
		if def.Format == core.FormatBitrix24 {
			if _, own := mapped(def, in.name); !own && b.bitrix(def, in) {
				continue
			}
		}
		field, ok := fieldOf(def, in.name)
		n := normName(in.name)
		switch {
		case ok && field == "":
		case ok && known(def, field):
			b.set(field, in.values...)
		case marketingInputs[n] != "":
			b.setMarketing(marketingInputs[n], in.values)
		case serviceInputs[n] || strings.HasPrefix(in.name, "__") || strings.HasPrefix(in.name, "params["):
		default:
			if v := strings.TrimSpace(strings.Join(in.values, ", ")); v != "" {
				b.other = append(b.other, in.name+": "+v)
			}
		}
	}
	b.fillMarketing(f, m)
	return b
}

// bitrix reads a Bitrix24 fields[…] input; false when it is not one. The
// form's own mapping of a field's code (UF_CRM_SEGMENT: custom.segment)
// wins over Bitrix24's names.
func (b *built) bitrix(def *core.WebForm, in input) bool {
	mm := bitrixKey.FindStringSubmatch(in.name)
	if mm == nil {
		return strings.HasPrefix(in.name, "params[") || strings.HasPrefix(in.name, "fields[")
	}
	if field, own := mapped(def, mm[1]); own {
		if field != "" && known(def, field) {
			b.set(field, in.values...)
		}
		return true
	}
	field, ok := bitrixFields[mm[1]]
	switch {
	case !ok:
		if v := strings.TrimSpace(strings.Join(in.values, ", ")); v != "" {
			b.other = append(b.other, mm[1]+": "+v)
		}
	case field == "":
	case strings.HasPrefix(field, "marketing."):
		b.setMarketing(strings.TrimPrefix(field, "marketing."), in.values)
	case !known(&core.WebForm{Target: core.FormTargetLead}, field):
		b.other = append(b.other, mm[1]+": "+strings.Join(in.values, ", "))
	default:
		b.set(field, in.values...)
	}
	return true
}

// known reports whether a mapped field exists on the form's target (a
// well-known input such as "company" does not on a contact: it is then
// kept in the description).
func known(def *core.WebForm, field string) bool {
	switch field {
	case "description", "full_name":
		return true
	}
	if def.Target == core.FormTargetDeal && isPersonField(field) {
		field = "contact." + field
	}
	if rest, ok := strings.CutPrefix(field, "contact."); ok && strings.HasPrefix(rest, "address.") {
		return core.AddressSchema().Has(strings.TrimPrefix(rest, "address."))
	}
	return core.FormFieldKnown(def.Target, field)
}

func (b *built) setMarketing(field string, vals []string) {
	v := ""
	for _, x := range vals {
		if x = strings.TrimSpace(x); x != "" {
			v = x
			break
		}
	}
	if v == "" {
		return
	}
	p := marketingField(&b.marketing, field)
	if p != nil && *p == "" {
		*p = core.Clip(v, maxMarketing(field))
	}
}

func maxMarketing(field string) int {
	if field == "referrer" || field == "landing_page" {
		return 2000
	}
	return 200
}

func marketingField(m *core.Marketing, field string) *string {
	switch field {
	case "utm_source":
		return &m.UTMSource
	case "utm_medium":
		return &m.UTMMedium
	case "utm_campaign":
		return &m.UTMCampaign
	case "utm_content":
		return &m.UTMContent
	case "utm_term":
		return &m.UTMTerm
	case "click_id":
		return &m.ClickID
	case "referrer":
		return &m.Referrer
	case "landing_page":
		return &m.LandingPage
	}
	return nil
}

// fillMarketing completes the attribution: the landing page from the
// HTTP Referer, then missing UTM tags from the landing page's query, then
// from Tilda's TILDAUTM cookie.
func (b *built) fillMarketing(f *form, m meta) {
	mk := &b.marketing
	if mk.LandingPage == "" && m.Referer != "" {
		mk.LandingPage = core.Clip(m.Referer, 2000)
	}
	fromQuery := func(q url.Values) {
		for _, k := range []string{"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"} {
			b.setMarketing(k, []string{q.Get(k)})
		}
		b.setMarketing("click_id", []string{q.Get("yclid")})
		b.setMarketing("click_id", []string{q.Get("gclid")})
	}
	if u, err := url.Parse(mk.LandingPage); err == nil && mk.LandingPage != "" {
		fromQuery(u.Query())
	}
	if c := f.get("COOKIES"); c != "" {
		for _, part := range strings.Split(c, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k != "TILDAUTM" {
				continue
			}
			if dv, err := url.QueryUnescape(v); err == nil {
				v = dv
			}
			q := url.Values{}
			for _, kv := range strings.Split(v, "|||") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					q.Set(k, v)
				}
			}
			fromQuery(q)
		}
	}
}

// submission turns a built form into what the store captures, its
// custom fields read with defs, the target's live definitions; err lists
// the fields the visitor has to correct.
func submission(def *core.WebForm, b *built, key string, files []core.FormFile, remoteIP string, defs []core.CustomField) (core.FormSubmission, error) {
	for field, v := range def.Defaults {
		if len(b.values[field]) == 0 {
			b.set(field, v)
		}
	}
	for field, v := range def.Hidden {
		delete(b.values, field)
		b.set(field, v)
	}
	var missing []core.FieldError
	for _, field := range def.Required {
		if len(b.values[field]) == 0 && !(field == "last_name" && b.first("full_name") != "") {
			missing = append(missing, core.FieldError{Field: field, Code: "required", Message: "is required"})
		}
	}
	if len(missing) > 0 {
		return core.FormSubmission{}, &core.Error{Code: core.EINVALID, Message: "Required fields not filled", Fields: missing}
	}
	person := core.Patch{}
	record := core.Patch{}
	put := func(p core.Patch, field, v string) {
		if sub, ok := strings.CutPrefix(field, "address."); ok {
			addr := map[string]string{}
			if raw, ok := p["address"]; ok {
				_ = json.Unmarshal(raw, &addr)
			}
			addr[sub] = v
			p.Set("address", addr)
			return
		}
		p.Set(field, v)
	}
	// The person's fields go to the lead or contact itself, or to the
	// deal's contact.
	personTarget := record
	if def.Target == core.FormTargetDeal {
		personTarget = person
	}
	var descr, custom []string
	for _, field := range b.order {
		vals := b.values[field]
		switch {
		case field == "description":
			descr = append(descr, vals...)
		case strings.HasPrefix(field, "custom."):
			custom = append(custom, field)
		case field == "full_name":
			first, last := splitName(vals[0])
			if _, ok := b.values["first_name"]; !ok && first != "" {
				put(personTarget, "first_name", first)
			}
			if _, ok := b.values["last_name"]; !ok {
				put(personTarget, "last_name", last)
			}
		case strings.HasPrefix(field, "contact."):
			put(person, strings.TrimPrefix(field, "contact."), strings.Join(vals, ", "))
		case strings.HasPrefix(field, "marketing."):
			b.setMarketing(strings.TrimPrefix(field, "marketing."), vals)
		case (field == "phone" || field == "email") && len(vals) > 1:
			second := map[string]string{"phone": "mobile", "email": "secondary_email"}[field]
			put(personTarget, field, vals[0])
			if len(b.values[second]) == 0 {
				put(personTarget, second, vals[1])
			}
		case def.Target == core.FormTargetDeal && isPersonField(field):
			put(person, field, strings.Join(vals, ", "))
		default:
			put(record, field, strings.Join(vals, ", "))
		}
	}
	customs, customErrs := customValues(defs, b, custom)
	description := strings.Join(descr, "\n")
	if len(b.other) > 0 {
		description = strings.TrimSpace(description + "\n\n" + strings.Join(b.other, "\n"))
	}
	if def.Target != core.FormTargetLead && !b.marketing.IsZero() {
		description = strings.TrimSpace(description + "\n\n" + marketingText(b.marketing))
	}
	summary := strings.TrimSpace(fmt.Sprintf("Форма «%s»: %s\n%s", def.Name, personLine(personTarget), description))
	if description != "" {
		record.Set("description", core.Clip(description, 32_000))
	}
	record.Set("source", def.Source)
	fillMandatory(personTarget)
	switch def.Target {
	case core.FormTargetLead:
		if _, ok := record["company"]; !ok {
			record.Set("company", core.UnknownCompany)
		}
		if !b.marketing.IsZero() {
			record.Set("marketing", b.marketing)
		}
	case core.FormTargetDeal:
		if _, ok := record["name"]; !ok {
			record.Set("name", core.Clip(fmt.Sprintf("Заявка с сайта «%s»: %s", def.Name, personLine(person)), 250))
		}
		person.Set("source", def.Source)
	}
	sub := core.FormSubmission{Form: def.Slug, Key: key, Target: def.Target, Record: record, Duplicates: def.Duplicates,
		OwnerID: def.OwnerID, RoundRobin: def.RoundRobin, Files: files, RemoteIP: remoteIP, Summary: summary}
	if def.Target == core.FormTargetDeal {
		sub.Contact = person
	}
	if err := core.Invalid(append(validate(def.Target, record, person), customErrs...)); err != nil {
		return core.FormSubmission{}, err
	}
	if len(customs) > 0 {
		record.Set("custom", customs)
	}
	sub.Dup = dupKeys(personTarget)
	return sub, nil
}

func isPersonField(field string) bool {
	switch field {
	case "first_name", "last_name", "middle_name", "phone", "mobile", "email", "secondary_email", "title", "company",
		"salutation":
		return true
	}
	return strings.HasPrefix(field, "address.")
}

// fillMandatory gives a person without a last name one: the e-mail, else
// the phone (as the seed's mail scanner does).
func fillMandatory(p core.Patch) {
	if s := patchString(p, "last_name"); s != "" {
		return
	}
	for _, f := range []string{"email", "phone", "mobile", "first_name"} {
		if s := patchString(p, f); s != "" {
			p.Set("last_name", core.Clip(s, 80))
			if f == "first_name" {
				delete(p, "first_name")
			}
			return
		}
	}
	p.Set("last_name", "Без имени")
}

func patchString(p core.Patch, f string) string {
	var s string
	if raw, ok := p[f]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

func personLine(p core.Patch) string {
	var parts []string
	for _, f := range []string{"first_name", "last_name", "phone", "email"} {
		if s := patchString(p, f); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

func marketingText(m core.Marketing) string {
	b, _ := json.Marshal(m)
	var kv map[string]string
	_ = json.Unmarshal(b, &kv)
	keys := make([]string, 0, len(kv))
	for k, v := range kv {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + ": " + kv[k]
	}
	return strings.Join(lines, "\n")
}

// splitName splits «Иван Петров» into first and last name; a single word
// is the last name.
func splitName(s string) (first, last string) {
	parts := strings.Fields(s)
	switch len(parts) {
	case 0:
		return "", ""
	case 1:
		return "", core.Clip(parts[0], 80)
	}
	return core.Clip(parts[0], 80), core.Clip(strings.Join(parts[1:], " "), 80)
}

// customValues reads the texts of the custom fields a submission fills
// (fields, custom.<key>) as the values of the target's record, and
// returns the errors of the texts a field does not take. A field the
// target no longer has (deleted since the form was saved) keeps its text
// in the description, as an input nobody mapped does.
func customValues(defs []core.CustomField, b *built, fields []string) (map[string]json.RawMessage, []core.FieldError) {
	out := map[string]json.RawMessage{}
	var errs []core.FieldError
	for _, field := range fields {
		key := strings.TrimPrefix(field, "custom.")
		i := slices.IndexFunc(defs, func(d core.CustomField) bool { return d.Key == key })
		if i < 0 {
			b.other = append(b.other, field+": "+strings.Join(b.values[field], ", "))
			continue
		}
		v, ferrs := fromTexts(&defs[i], b.values[field])
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		out[key] = v
	}
	return out, errs
}

// fromTexts reads the values an input posted for a custom field: the
// options of a multi-picklist, each value on its own (a label may hold a
// comma); else the values joined as one text.
func fromTexts(d *core.CustomField, vals []string) (json.RawMessage, []core.FieldError) {
	if d.Type != core.FieldMultiPicklist || len(vals) == 1 {
		return d.FromText(strings.Join(vals, ", "))
	}
	codes := []string{}
	for _, v := range vals {
		raw, errs := d.FromText(v)
		if len(errs) > 0 {
			return nil, errs
		}
		var some []string
		if err := json.Unmarshal(raw, &some); err != nil {
			return nil, []core.FieldError{{Field: "custom." + d.Key, Code: "invalid_type", Message: "must be option codes"}}
		}
		codes = append(codes, some...)
	}
	raw, err := json.Marshal(codes)
	if err != nil {
		return nil, []core.FieldError{{Field: "custom." + d.Key, Code: "invalid_type", Message: "must be option codes"}}
	}
	return raw, nil
}

// validate applies the patches to empty records with the API's rules and
// returns their errors.
func validate(target string, record, person core.Patch) []core.FieldError {
	var errs []core.FieldError
	switch target {
	case core.FormTargetLead:
		var l core.Lead
		errs = core.LeadSchema().Apply(&l, record, "")
		errs = appendValidate(errs, l.Validate())
	case core.FormTargetContact:
		var c core.Contact
		errs = core.ContactSchema().Apply(&c, record, "")
		errs = appendValidate(errs, c.Validate())
	case core.FormTargetDeal:
		var d core.Deal
		errs = core.DealSchema().Apply(&d, record, "")
		errs = appendValidate(errs, d.Validate())
		if len(person) > 0 {
			var c core.Contact
			errs = append(errs, core.ContactSchema().Apply(&c, person, "contact.")...)
			errs = appendValidate(errs, c.Validate())
		}
	}
	return errs
}

func appendValidate(errs []core.FieldError, err error) []core.FieldError {
	if ce, ok := err.(*core.Error); ok {
		return append(errs, ce.Fields...)
	}
	return errs
}

// dupKeys are the normalized phone numbers and e-mails of a person.
func dupKeys(p core.Patch) core.DuplicateKeys {
	var k core.DuplicateKeys
	for _, f := range []string{"phone", "mobile"} {
		if n, ok := core.NormalizePhone(patchString(p, f)); ok {
			k.Phones = append(k.Phones, n)
		}
	}
	for _, f := range []string{"email", "secondary_email"} {
		if e := strings.ToLower(strings.TrimSpace(patchString(p, f))); e != "" {
			k.Emails = append(k.Emails, e)
		}
	}
	return k
}
