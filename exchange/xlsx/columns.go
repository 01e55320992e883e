// Package xlsx reads and writes the hub's records as Excel workbooks with
// excelize: a streaming writer for exports (real date and number cells
// with Russian formats, a bold frozen header with an autofilter), and the
// column sets that name each kind's fields in Russian, which imports match
// headers against.
package xlsx

import "github.com/crmhub/crmhub/core"

// Kind is how a column's values are written and read.
type Kind int

// Column kinds.
const (
	Text     Kind = iota
	Date          // core.Date: a date cell (ДД.ММ.ГГГГ)
	DateTime      // time.Time: a date-time cell
	Money         // core.Money: a number with two decimals
	Number        // core.Quantity, decimals: a number
	Int           // int, int64
	Bool          // да / нет
	Phone         // text, normalized on import
)

// Column is one field of a kind as a sheet column.
type Column struct {
	Key    string // the JSON field, "address.city" for nested ones
	Header string // the Russian header
	Kind   Kind
	Width  float64
	// Synonyms are other headers that mean this column on import.
	Synonyms []string
	// ImportOnly columns are not exported.
	ImportOnly bool
	// Choices, for a picklist field, turn the labels people write into
	// the codes the record takes on import, and the codes into the
	// Russian labels people read on export.
	Choices *core.Picklist
	// Custom is the definition of the custom field the column holds (nil
	// for a built-in column): its values are read from and written to
	// the record's custom object, by the field's type.
	Custom *core.CustomField
}

// externalID is the column of an external system's id (the 1C Ид by
// default): a duplicate key on import, stored in external_ids.
var externalID = Column{Key: "external_id", Header: "Внешний код", Width: 38, ImportOnly: true,
	Synonyms: []string{"внешний id", "external id", "ид", "ид 1с", "код 1с", "guid", "идентификатор"}}

// Kinds are the entities that export and import.
var Kinds = []string{core.EntityLead, core.EntityContact, core.EntityAccount, core.EntityDeal, core.EntityProduct,
	core.EntityInvoice, core.EntityPayment, core.EntityActivity}

// Columns returns an entity's columns (nil for an unknown one).
func Columns(entity string) []Column {
	common := []Column{{Key: "id", Header: "ID", Width: 38}}
	tail := []Column{{Key: "owner_id", Header: "Ответственный (ID)", Width: 38},
		{Key: "created_at", Header: "Создано", Kind: DateTime, Width: 17}, {Key: "updated_at", Header: "Изменено", Kind: DateTime, Width: 17}}
	var cols []Column
	switch entity {
	case core.EntityLead:
		cols = []Column{
			{Key: "last_name", Header: "Фамилия", Width: 16, Synonyms: []string{"last name", "surname"}},
			{Key: "first_name", Header: "Имя", Width: 14, Synonyms: []string{"first name", "name"}},
			{Key: "company", Header: "Компания", Width: 24, Synonyms: []string{"организация", "company", "организация/компания"}},
			{Key: "title", Header: "Должность", Width: 16, Synonyms: []string{"title", "position"}},
			{Key: "phone", Header: "Телефон", Kind: Phone, Width: 16, Synonyms: []string{"тел", "тел.", "phone", "телефон рабочий", "основной телефон"}},
			{Key: "mobile", Header: "Мобильный", Kind: Phone, Width: 16, Synonyms: []string{"моб", "моб.", "мобильный телефон", "mobile", "сотовый", "мобильный тел."}},
			{Key: "fax", Header: "Факс", Kind: Phone, Width: 16, Synonyms: []string{"fax"}},
			{Key: "email", Header: "E-mail", Width: 24, Synonyms: []string{"email", "эл. почта", "электронная почта", "почта", "e-mail адрес",
				"основной адрес электронной почты"}},
			{Key: "website", Header: "Сайт", Width: 20, Synonyms: []string{"website", "web", "веб-сайт"}},
			{Key: "status", Header: "Статус", Width: 12, Synonyms: []string{"status", "lead status", "статус обращения"}, Choices: core.LeadStatuses()},
			{Key: "source", Header: "Источник", Width: 14, Synonyms: []string{"source", "lead source", "источник обращения"}, Choices: core.LeadSources()},
			{Key: "industry", Header: "Отрасль", Width: 14, Synonyms: []string{"industry"}},
			{Key: "annual_revenue", Header: "Годовой доход", Kind: Money, Width: 14, Synonyms: []string{"annual revenue"}},
			{Key: "employees", Header: "Сотрудников", Kind: Int, Width: 10, Synonyms: []string{"employees"}},
		}
		cols = append(cols, mailingAddress("address", "Адрес", "")...)
		cols = append(cols, Column{Key: "description", Header: "Описание", Width: 30, Synonyms: []string{"description", "комментарий", "примечание"}})
	case core.EntityContact:
		cols = contactColumns()
	case core.EntityAccount:
		cols = []Column{
			{Key: "name", Header: "Наименование", Width: 30, Synonyms: []string{"название", "организация", "компания", "name", "company", "контрагент"}},
			{Key: "inn", Header: "ИНН", Width: 13, Synonyms: []string{"inn"}},
			{Key: "kpp", Header: "КПП", Width: 11, Synonyms: []string{"kpp"}},
			{Key: "ogrn", Header: "ОГРН", Width: 15, Synonyms: []string{"огрнип", "ogrn"}},
			{Key: "type", Header: "Тип", Width: 12, Synonyms: []string{"type", "account type", "тип контрагента"}, Choices: core.AccountTypes()},
			{Key: "industry", Header: "Отрасль", Width: 14, Synonyms: []string{"industry"}},
			{Key: "phone", Header: "Телефон", Kind: Phone, Width: 16, Synonyms: []string{"тел", "тел.", "phone"}},
			{Key: "email", Header: "E-mail", Width: 24, Synonyms: []string{"email", "эл. почта", "электронная почта", "почта"}},
			{Key: "website", Header: "Сайт", Width: 20, Synonyms: []string{"website", "web", "веб-сайт"}},
			{Key: "bank_name", Header: "Банк", Width: 20, Synonyms: []string{"bank"}},
			{Key: "bik", Header: "БИК", Width: 11, Synonyms: []string{"bik"}},
			{Key: "settlement_account", Header: "Расчётный счёт", Width: 22, Synonyms: []string{"р/с", "расчетный счет", "счёт", "account"}},
			{Key: "correspondent_account", Header: "Корр. счёт", Width: 22, Synonyms: []string{"к/с", "корр. счет", "корреспондентский счёт"}},
		}
		cols = append(cols,
			Column{Key: "legal_address.postcode", Header: "Юр. адрес: индекс", Width: 10},
			Column{Key: "legal_address.region", Header: "Юр. адрес: регион", Width: 18},
			Column{Key: "legal_address.city", Header: "Юр. адрес: город", Width: 16, Synonyms: []string{"город", "city"}},
			Column{Key: "legal_address.street", Header: "Юр. адрес: улица", Width: 20},
			Column{Key: "legal_address.house", Header: "Юр. адрес: дом", Width: 8},
			Column{Key: "legal_address.line", Header: "Юр. адрес", Width: 30, Synonyms: []string{"адрес", "юридический адрес", "address"}})
		cols = append(cols, Column{Key: "description", Header: "Описание", Width: 30, Synonyms: []string{"description", "комментарий", "примечание"}})
	case core.EntityDeal:
		cols = []Column{
			{Key: "name", Header: "Название", Width: 30, Synonyms: []string{"сделка", "name", "deal"}},
			{Key: "stage", Header: "Этап", Width: 16, Synonyms: []string{"stage", "стадия"}},
			{Key: "amount", Header: "Сумма", Kind: Money, Width: 14, Synonyms: []string{"amount"}},
			{Key: "currency", Header: "Валюта", Width: 8, Synonyms: []string{"currency"}},
			{Key: "probability", Header: "Вероятность, %", Kind: Int, Width: 10, Synonyms: []string{"вероятность", "probability"}},
			{Key: "close_date", Header: "Дата закрытия", Kind: Date, Width: 12, Synonyms: []string{"close date"}},
			{Key: "account_id", Header: "Контрагент (ID)", Width: 38},
			{Key: "contact_id", Header: "Контакт (ID)", Width: 38},
			{Key: "source", Header: "Источник", Width: 14, Synonyms: []string{"source", "lead source"}, Choices: core.LeadSources()},
			{Key: "next_step", Header: "Следующий шаг", Width: 20, Synonyms: []string{"next step"}},
			{Key: "description", Header: "Описание", Width: 30, Synonyms: []string{"description", "комментарий"}},
		}
	case core.EntityProduct:
		cols = []Column{
			{Key: "name", Header: "Наименование", Width: 30, Synonyms: []string{"название", "товар", "name", "product"}},
			{Key: "sku", Header: "Артикул", Width: 14, Synonyms: []string{"sku", "код", "артикул товара"}},
			{Key: "unit", Header: "Ед. изм.", Width: 8, Synonyms: []string{"единица", "единица измерения", "unit"}},
			{Key: "unit_code", Header: "Код ОКЕИ", Width: 8, Synonyms: []string{"океи", "unit code"}},
			{Key: "vat_rate", Header: "Ставка НДС", Width: 8, Synonyms: []string{"ндс", "vat", "vat rate"}},
			{Key: "price", Header: "Цена", Kind: Money, Width: 14, Synonyms: []string{"price", "цена, руб."}},
			{Key: "currency", Header: "Валюта", Width: 8, Synonyms: []string{"currency"}},
			{Key: "stock_quantity", Header: "Остаток", Kind: Number, Width: 10, Synonyms: []string{"количество", "stock", "остаток на складе"}},
			{Key: "active", Header: "Активен", Kind: Bool, Width: 8, Synonyms: []string{"active"}},
			{Key: "country_code", Header: "Страна (код)", Width: 8},
			{Key: "customs_declaration", Header: "ГТД", Width: 24, Synonyms: []string{"номер гтд", "декларация"}},
			{Key: "description", Header: "Описание", Width: 30, Synonyms: []string{"description"}},
		}
	case core.EntityService:
		cols = []Column{
			{Key: "name", Header: "Наименование", Width: 30, Synonyms: []string{"название", "услуга", "name", "service"}},
			{Key: "sku", Header: "Артикул", Width: 14, Synonyms: []string{"sku", "код"}},
			{Key: "unit", Header: "Ед. изм.", Width: 8, Synonyms: []string{"единица", "единица измерения", "unit"}},
			{Key: "unit_code", Header: "Код ОКЕИ", Width: 8, Synonyms: []string{"океи", "unit code"}},
			{Key: "vat_rate", Header: "Ставка НДС", Width: 8, Synonyms: []string{"ндс", "vat", "vat rate"}},
			{Key: "price", Header: "Цена", Kind: Money, Width: 14, Synonyms: []string{"price", "цена, руб."}},
			{Key: "currency", Header: "Валюта", Width: 8, Synonyms: []string{"currency"}},
			{Key: "active", Header: "Активна", Kind: Bool, Width: 8, Synonyms: []string{"active", "активен"}},
			{Key: "description", Header: "Описание", Width: 30, Synonyms: []string{"description"}},
		}
	case core.EntityPrice:
		// A list price in a price book; no record columns of its own.
		return []Column{
			{Key: "price_book", Header: "Прайс-лист", Width: 20, Synonyms: []string{"каталог", "прайс", "price book", "pricebook"}},
			{Key: "sku", Header: "Артикул", Width: 14, Synonyms: []string{"sku", "код", "артикул товара"}},
			{Key: "price", Header: "Цена", Kind: Money, Width: 14, Synonyms: []string{"price", "цена, руб.", "цена по прайсу"}},
		}
	case core.EntityInvoice:
		cols = []Column{
			{Key: "number", Header: "Номер", Width: 16},
			{Key: "date", Header: "Дата", Kind: Date, Width: 11},
			{Key: "status", Header: "Статус", Width: 12, Choices: core.InvoiceStatuses()},
			{Key: "subject", Header: "Тема", Width: 24},
			{Key: "account_id", Header: "Контрагент (ID)", Width: 38},
			{Key: "due_date", Header: "Оплатить до", Kind: Date, Width: 11},
			{Key: "currency", Header: "Валюта", Width: 8},
			{Key: "subtotal", Header: "Сумма", Kind: Money, Width: 14},
			{Key: "vat_total", Header: "НДС", Kind: Money, Width: 12},
			{Key: "grand_total", Header: "Итого", Kind: Money, Width: 14},
			{Key: "amount_paid", Header: "Оплачено", Kind: Money, Width: 14},
			{Key: "balance", Header: "Остаток к оплате", Kind: Money, Width: 14},
		}
	case core.EntityPayment:
		cols = []Column{
			{Key: "number", Header: "Номер", Width: 14},
			{Key: "date", Header: "Дата", Kind: Date, Width: 11},
			{Key: "direction", Header: "Направление", Width: 10, Choices: core.PaymentDirections()},
			{Key: "status", Header: "Статус", Width: 12, Choices: core.PaymentStatuses()},
			{Key: "amount", Header: "Сумма", Kind: Money, Width: 14},
			{Key: "currency", Header: "Валюта", Width: 8},
			{Key: "method", Header: "Способ", Width: 14, Choices: core.PaymentMethods()},
			{Key: "account_id", Header: "Контрагент (ID)", Width: 38},
			{Key: "invoice_id", Header: "Счёт (ID)", Width: 38},
			{Key: "reference", Header: "Документ", Width: 16},
			{Key: "description", Header: "Назначение платежа", Width: 30},
		}
	case core.EntityActivity:
		cols = []Column{
			{Key: "kind", Header: "Вид", Width: 10, Choices: core.ActivityKinds()},
			{Key: "subject", Header: "Тема", Width: 30},
			{Key: "status", Header: "Статус", Width: 14, Choices: core.ActivityStatuses()},
			{Key: "priority", Header: "Приоритет", Width: 10, Choices: core.TaskPriorities()},
			{Key: "start_at", Header: "Начало", Kind: DateTime, Width: 17},
			{Key: "end_at", Header: "Окончание", Kind: DateTime, Width: 17},
			{Key: "due_at", Header: "Срок", Kind: DateTime, Width: 17},
			{Key: "lead_id", Header: "Обращение (ID)", Width: 38},
			{Key: "contact_id", Header: "Контакт (ID)", Width: 38},
			{Key: "account_id", Header: "Контрагент (ID)", Width: 38},
			{Key: "deal_id", Header: "Сделка (ID)", Width: 38},
			{Key: "description", Header: "Описание", Width: 30},
		}
	default:
		return nil
	}
	if entity != core.EntityLead && entity != core.EntityInvoice && entity != core.EntityPayment && entity != core.EntityActivity {
		cols = append(cols, externalID)
	}
	return append(append(common, cols...), tail...)
}
