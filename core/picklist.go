package core

import (
	"strings"
	"sync"
	"unicode"
)

// Choice is one value of a picklist: a stable code stored in the database
// and shown in the API, with its Russian and English labels.
type Choice struct {
	Code string `json:"code"`
	RU   string `json:"label_ru"`
	EN   string `json:"label_en"`
}

// Picklist is an ordered set of choices, in the order SalesPlatform ships.
type Picklist struct {
	Name    string   `json:"name"`
	Choices []Choice `json:"choices"`
	index   map[string]bool
	labels  map[string]string // labelKey of a code or label → code
}

// NewPicklist returns a picklist of the given choices.
func NewPicklist(name string, choices ...Choice) *Picklist {
	p := &Picklist{Name: name, Choices: choices, index: make(map[string]bool, len(choices)),
		labels: make(map[string]string, 3*len(choices))}
	for _, c := range choices {
		p.index[c.Code] = true
	}
	// Codes first, then Russian, then English labels: the first taker of a
	// key keeps it (Г-жа is both Ms. and Mrs.).
	for _, label := range []func(Choice) string{
		func(c Choice) string { return c.Code }, func(c Choice) string { return c.RU }, func(c Choice) string { return c.EN },
	} {
		for _, c := range choices {
			if k := labelKey(label(c)); k != "" {
				if _, taken := p.labels[k]; !taken {
					p.labels[k] = c.Code
				}
			}
		}
	}
	return p
}

// Has reports whether code is one of the picklist's codes.
func (p *Picklist) Has(code string) bool { return p.index[code] }

// Lookup finds the code of a value as people write it: the code itself or
// the Russian or English label, blind to case, ё/е, spacing and
// punctuation («выставка», "Trade Show", "trade_show" are all trade_show).
func (p *Picklist) Lookup(s string) (string, bool) {
	code, ok := p.labels[labelKey(s)]
	return code, ok
}

// Label is a code's Russian label, as people read it: the code itself
// when the picklist does not have it (a value left from before the
// picklist changed) or gives it no label, so that no value is lost.
func (p *Picklist) Label(code string) string {
	for _, c := range p.Choices {
		if c.Code == code && c.RU != "" {
			return c.RU
		}
	}
	return code
}

// Labels returns the Russian labels in order, for messages that say what a
// picklist accepts.
func (p *Picklist) Labels() []string {
	labels := make([]string, len(p.Choices))
	for i, c := range p.Choices {
		labels[i] = c.RU
	}
	return labels
}

// labelKey makes codes and labels comparable: lower case, ё as е, only
// letters and digits.
func labelKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == 'ё':
			b.WriteRune('е')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Codes returns the picklist's codes in order.
func (p *Picklist) Codes() []string {
	codes := make([]string, len(p.Choices))
	for i, c := range p.Choices {
		codes[i] = c.Code
	}
	return codes
}

// Picklists returns every picklist crmhub knows, for the API's metadata
// endpoint. Picklists are built once and shared: never modify them.
func Picklists() []*Picklist {
	return []*Picklist{LeadStatuses(), LeadSources(), Salutations(), AccountTypes(), QuoteStages(), InvoiceStatuses(),
		PaymentStatuses(), PaymentDirections(), PaymentMethods(), ActStatuses(), RealizationStatuses(),
		SalesOrderStatuses(), PurchaseOrderStatuses()}
}

// LeadStatuses is vtiger's lead status picklist; empty is
// allowed and means "not set".
func LeadStatuses() *Picklist { return leadStatusesList() }

var leadStatusesList = sync.OnceValue(func() *Picklist {
	return NewPicklist("lead_status",
		Choice{"attempted_to_contact", "Попытка связаться", "Attempted to Contact"},
		Choice{"cold", "Холодный", "Cold"},
		Choice{"contact_in_future", "Контакт в будущем", "Contact in Future"},
		Choice{"contacted", "Есть Контакт", "Contacted"},
		Choice{"hot", "Горячий", "Hot"},
		Choice{"junk_lead", "Ненужное Обращение", "Junk Lead"},
		Choice{"lost_lead", "Утерянное Обращение", "Lost Lead"},
		Choice{"not_contacted", "Не связывался", "Not Contacted"},
		Choice{"pre_qualified", "Предв. классифицирован", "Pre Qualified"},
		Choice{"qualified", "Классифицирован", "Qualified"},
		Choice{"warm", "Теплый", "Warm"},
	)
})

// LeadSources is the lead source picklist shared by leads, contacts and
// deals (vtiger's values).
func LeadSources() *Picklist { return leadSourcesList() }

var leadSourcesList = sync.OnceValue(func() *Picklist {
	return NewPicklist("lead_source",
		Choice{"cold_call", "Холодный звонок", "Cold Call"},
		Choice{"existing_customer", "Существующий клиент", "Existing Customer"},
		Choice{"self_generated", "Самопроизвольный", "Self Generated"},
		Choice{"employee", "Сотрудник", "Employee"},
		Choice{"partner", "Партнер", "Partner"},
		Choice{"public_relations", "Публичные связи", "Public Relations"},
		Choice{"direct_mail", "Почтовая рассылка", "Direct Mail"},
		Choice{"conference", "Конференция", "Conference"},
		Choice{"trade_show", "Выставка", "Trade Show"},
		Choice{"web_site", "Веб-сайт", "Web Site"},
		Choice{"word_of_mouth", "По наслышке", "Word of mouth"},
		Choice{"other", "Другое", "Other"},
		Choice{"incoming_call", "Входящий звонок", "Incoming Call"},
		Choice{"email", "Электронная почта", "E-mail"},
	)
})

// Salutations is the salutation picklist of leads and contacts.
func Salutations() *Picklist { return salutationsList() }

var salutationsList = sync.OnceValue(func() *Picklist {
	return NewPicklist("salutation",
		Choice{"mr", "Г-н", "Mr."},
		Choice{"ms", "Г-жа", "Ms."},
		Choice{"mrs", "Г-жа", "Mrs."},
		Choice{"dr", "Д-р", "Dr."},
		Choice{"prof", "Проф.", "Prof."},
	)
})
