package core

import "sync"

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
}

// NewPicklist returns a picklist of the given choices.
func NewPicklist(name string, choices ...Choice) *Picklist {
	p := &Picklist{Name: name, Choices: choices, index: make(map[string]bool, len(choices))}
	for _, c := range choices {
		p.index[c.Code] = true
	}
	return p
}

// Has reports whether code is one of the picklist's codes.
func (p *Picklist) Has(code string) bool { return p.index[code] }

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

// LeadStatuses is the lead status picklist (crm-model.md §1.1); empty is
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
// deals (crm-model.md §1.1).
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
