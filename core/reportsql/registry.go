package reportsql

import (
	"strings"

	"github.com/crmhub/crmhub/core"
)

// The report registry: the entities a report may start from, their fields
// as SQL expressions and their links. Reports name fields and links only
// by these keys; an expression's "%[1]s" is the table alias the compiler
// chose (t0, t1, t2), never text from a request.

// Report field types.
const (
	rText     = "text"
	rInteger  = "integer"
	rNumber   = "number"
	rMoney    = "money"
	rDate     = "date"
	rDatetime = "datetime"
	rBoolean  = "boolean"
	rID       = "id"
)

type rField struct {
	expr  string // SQL over the alias %[1]s
	typ   string
	label string
	// order, when set, is what the field's groups sort by (a deal's stage
	// by its place in the pipeline, not by its code).
	order string
	// labels name a picklist's codes for people; liveLabels, when set,
	// reads more of them (code, label) when a report runs, over these (a
	// deal stage's names come from every pipeline, not only the default).
	labels     map[string]string
	liveLabels string
	// within, when set, is the field its sums add up within: a total
	// over that field's groups leaves them out (a deal counts once in
	// each funnel stage it reached, so reached figures do not add up over
	// stages).
	within string
}

type rLink struct {
	target string // entity
	fk     string // SQL over the alias %[1]s: the target's id
	label  string
}

// Entity is what a report may start from or link to: a table (or a
// derived row set) with its fields and links. It is built by NewRegistry
// and read only by the compiler.
type Entity struct {
	name  string
	label string
	// from is the FROM item over the alias %[1]s; live filters out what a
	// report never shows (deleted records).
	from, live string
	// row is the alias pattern of the table whose rows are the records
	// (their id, owner_id, team_id): "%[1]s", or a derived set's own.
	// rights names the entity whose access rules govern them: its own
	// name, or the records' ("deal" for the funnel's rows).
	row, rights string
	fields      map[string]rField
	links       map[string]rLink
}

// Registry is every report entity by name. It is built once and never
// changes, so plans may be compiled against it concurrently.
type Registry map[string]*Entity

// fieldSpec is "name type label" (the label may have spaces); a plain
// column of the entity's table.
func columns(fields map[string]rField, specs ...string) {
	for _, s := range specs {
		parts := strings.SplitN(s, " ", 3)
		fields[parts[0]] = rField{expr: "%[1]s." + parts[0], typ: parts[1], label: parts[2]}
	}
}

func entity(name, label, table string, soft bool, specs ...string) *Entity {
	e := &Entity{name: name, label: label, from: table + " %[1]s", row: "%[1]s", rights: name,
		fields: map[string]rField{}, links: map[string]rLink{}}
	if soft {
		e.live = "%[1]s.deleted_at IS NULL"
	}
	columns(e.fields, "id id Ид", "created_at datetime Создано", "updated_at datetime Изменено")
	columns(e.fields, specs...)
	return e
}

func (e *Entity) owned() *Entity {
	columns(e.fields, "owner_id id Ответственный (Ид)")
	e.links["owner"] = rLink{target: "user", fk: "%[1]s.owner_id", label: "Ответственный"}
	return e
}

func (e *Entity) link(name, target, fk, label string) *Entity {
	columns(e.fields, fk+" id "+label+" (Ид)")
	e.links[name] = rLink{target: target, fk: "%[1]s." + fk, label: label}
	return e
}

func (e *Entity) ordered(name, order string) *Entity {
	f := e.fields[name]
	f.order = order
	e.fields[name] = f
	return e
}

// liveLabelled sets the query that reads a field's labels when a report
// runs.
func (e *Entity) liveLabelled(name, sql string) *Entity {
	f := e.fields[name]
	f.liveLabels = sql
	e.fields[name] = f
	return e
}

// labelled names the codes of a field by picklists.
func (e *Entity) labelled(name string, lists ...*core.Picklist) *Entity {
	f := e.fields[name]
	if f.labels == nil {
		f.labels = map[string]string{}
	}
	for _, l := range lists {
		for _, c := range l.Choices {
			f.labels[c.Code] = c.RU
		}
	}
	e.fields[name] = f
	return e
}

func (e *Entity) computed(name, typ, label, expr string) *Entity {
	e.fields[name] = rField{expr: expr, typ: typ, label: label}
	return e
}

// within makes the sums of a field add up within another's groups only.
func (e *Entity) within(name, field string) *Entity {
	f := e.fields[name]
	f.within = field
	e.fields[name] = f
	return e
}

// documentFields are what quotes, orders and invoices share.
var documentFields = []string{"number text Номер", "date date Дата", "status text Статус", "subject text Тема",
	"currency text Валюта", "subtotal money Сумма без скидки", "discount_total money Скидка", "vat_total money НДС",
	"grand_total money Итого"}

func document(name, label, table string, extra ...string) *Entity {
	return entity(name, label, table, true, append(append([]string{}, documentFields...), extra...)...).owned().
		link("account", "account", "account_id", "Контрагент").
		link("contact", "contact", "contact_id", "Контакт").
		link("deal", "deal", "deal_id", "Сделка")
}

// stageLabels reads the names of the deal stages of every pipeline (a
// code in two pipelines is named by the older).
const stageLabels = `SELECT DISTINCT ON (s->>'code') s->>'code', coalesce(s->>'label_ru', '')
	FROM pipelines p, jsonb_array_elements(p.stages) s WHERE p.deleted_at IS NULL ORDER BY s->>'code', p.created_at`

// NewRegistry builds the registry: users, leads, contacts, accounts,
// deals and their funnel, activities, quotes, sales orders, invoices and
// their lines, payments, products, services and calls.
func NewRegistry() Registry {
	es := []*Entity{
		entity("user", "Пользователь", "users", false, "name text Имя", "email text E-mail", "active boolean Активен"),
		entity("lead", "Обращение", "leads", true, "first_name text Имя", "last_name text Фамилия", "company text Компания",
			"title text Должность", "email text E-mail", "phone text Телефон", "mobile text Мобильный", "status text Статус",
			"source text Источник", "industry text Отрасль", "rating text Рейтинг", "annual_revenue money Годовой доход",
			"employees integer Сотрудников", "converted boolean Конвертировано").owned().
			labelled("status", core.LeadStatuses()).labelled("source", core.LeadSources()).
			computed("city", rText, "Город", "%[1]s.addr_city"),
		entity("contact", "Контакт", "contacts", true, "first_name text Имя", "middle_name text Отчество",
			"last_name text Фамилия", "title text Должность", "department text Отдел", "phone text Телефон",
			"mobile text Мобильный", "email text E-mail", "source text Источник", "do_not_call boolean Не звонить").owned().
			link("account", "account", "account_id", "Контрагент"),
		entity("account", "Контрагент", "accounts", true, "name text Название", "type text Тип", "legal_form text Форма",
			"inn text ИНН", "kpp text КПП", "ogrn text ОГРН", "phone text Телефон", "email text E-mail",
			"website text Сайт", "industry text Отрасль").owned().labelled("type", core.AccountTypes()),
		deal(),
		entity("activity", "Активность", "activities", true, "kind text Вид", "subject text Тема", "status text Статус",
			"priority text Приоритет", "start_at datetime Начало", "end_at datetime Окончание", "due_at datetime Срок",
			"completed_at datetime Выполнено", "location text Место").owned().
			labelled("status", core.EventStatuses(), core.TaskStatuses()).labelled("priority", core.TaskPriorities()).
			labelled("kind", core.ActivityKinds()).
			link("lead", "lead", "lead_id", "Обращение").
			link("contact", "contact", "contact_id", "Контакт").
			link("account", "account", "account_id", "Контрагент").
			link("deal", "deal", "deal_id", "Сделка"),
		document("quote", "Предложение", "quotes", "valid_until date Действительно до").labelled("status", core.QuoteStages()),
		document("sales_order", "Заказ", "sales_orders", "due_date date Срок").labelled("status", core.SalesOrderStatuses()),
		invoice(),
		entity("payment", "Платёж", "payments", true, "number text Номер", "date date Дата", "direction text Направление",
			"status text Статус", "amount money Сумма", "currency text Валюта", "method text Способ",
			"reference text Основание").owned().
			labelled("direction", core.PaymentDirections()).labelled("status", core.PaymentStatuses()).
			labelled("method", core.PaymentMethods()).
			link("account", "account", "account_id", "Контрагент").
			link("contact", "contact", "contact_id", "Контакт").
			link("invoice", "invoice", "invoice_id", "Счёт").
			link("sales_order", "sales_order", "sales_order_id", "Заказ"),
		entity("product", "Товар", "products", true, "name text Название", "sku text Артикул", "unit text Ед.",
			"vat_rate text Ставка НДС", "price money Цена", "currency text Валюта", "active boolean Активен",
			"stock_quantity number Остаток", "manufacturer text Производитель"),
		entity("service", "Услуга", "services", true, "name text Название", "sku text Артикул", "unit text Ед.",
			"vat_rate text Ставка НДС", "price money Цена", "active boolean Активна"),
		entity("call", "Звонок", "calls", false, "provider text АТС", "direction text Направление",
			"from_number text С номера", "to_number text На номер", "client_number text Номер клиента",
			"extension text Внутренний", "started_at datetime Начало", "answered_at datetime Ответ",
			"ended_at datetime Окончание", "duration integer Длительность, с", "disposition text Итог").owned().
			link("lead", "lead", "lead_id", "Обращение").
			link("contact", "contact", "contact_id", "Контакт").
			link("account", "account", "account_id", "Контрагент"),
		invoiceLines(),
		dealFunnel(),
	}
	reg := make(Registry, len(es))
	for _, e := range es {
		reg[e.name] = e
	}
	return reg
}

func deal() *Entity {
	return entity("deal", "Сделка", "deals", true, "name text Название", "stage text Этап", "probability integer Вероятность",
		"amount money Сумма", "currency text Валюта", "close_date date Дата закрытия", "source text Источник",
		"type text Тип", "closed_at datetime Закрыта").owned().
		link("account", "account", "account_id", "Контрагент").
		link("contact", "contact", "contact_id", "Контакт").
		ordered("stage", `(SELECT o FROM pipelines p, jsonb_array_elements(p.stages) WITH ORDINALITY s(v, o)
				WHERE p.id = %[1]s.pipeline_id AND v->>'code' = %[1]s.stage LIMIT 1)`).
		labelled("stage", core.DefaultStagePicklist()).liveLabelled("stage", stageLabels).
		labelled("source", core.LeadSources()).labelled("type", core.DealTypes()).
		computed("weighted_amount", rMoney, "Взвешенная сумма", "round(%[1]s.amount * %[1]s.probability / 100.0, 2)").
		computed("stage_kind", rText, "Итог этапа", `coalesce((SELECT s->>'kind' FROM pipelines p, jsonb_array_elements(p.stages) s
				WHERE p.id = %[1]s.pipeline_id AND s->>'code' = %[1]s.stage LIMIT 1), 'open')`).
		labelled("stage_kind", core.StageKinds())
}

func invoice() *Entity {
	return document("invoice", "Счёт", "invoices", "due_date date Срок оплаты", "amount_paid money Оплачено",
		"balance money Остаток").labelled("status", core.InvoiceStatuses()).
		computed("overdue_days", rInteger, "Дней просрочки",
			"greatest(0, (%[2]s - coalesce(%[1]s.due_date, %[1]s.date)))::bigint").
		computed("aging_bucket", rText, "Просрочка", `CASE WHEN %[2]s - coalesce(%[1]s.due_date, %[1]s.date) <= 30 THEN '0–30'
				WHEN %[2]s - coalesce(%[1]s.due_date, %[1]s.date) <= 60 THEN '31–60'
				WHEN %[2]s - coalesce(%[1]s.due_date, %[1]s.date) <= 90 THEN '61–90' ELSE '90+' END`)
}

// invoiceLines is one row per line of a live invoice; the invoice's
// fields through the invoice link.
func invoiceLines() *Entity {
	lines := &Entity{name: "invoice_line", label: "Строка счёта",
		from:   "invoices %[1]s_doc CROSS JOIN LATERAL jsonb_array_elements(%[1]s_doc.lines) %[1]s",
		live:   "%[1]s_doc.deleted_at IS NULL",
		fields: map[string]rField{}, links: map[string]rLink{}}
	for _, f := range []struct{ name, typ, label, expr string }{
		{"name", rText, "Наименование", "%[1]s->>'name'"},
		{"quantity", rNumber, "Количество", "(%[1]s->>'quantity')::numeric"},
		{"unit", rText, "Ед.", "%[1]s->>'unit'"},
		{"price", rMoney, "Цена", "(%[1]s->>'price')::numeric"},
		{"vat_rate", rText, "Ставка НДС", "%[1]s->>'vat_rate'"},
		{"net_amount", rMoney, "Сумма без НДС", "(%[1]s->>'net_amount')::numeric"},
		{"vat_amount", rMoney, "НДС", "(%[1]s->>'vat_amount')::numeric"},
		{"total_amount", rMoney, "Сумма", "(%[1]s->>'total_amount')::numeric"},
		{"product_id", rID, "Товар (Ид)", "(%[1]s->>'product_id')::uuid"},
		{"service_id", rID, "Услуга (Ид)", "(%[1]s->>'service_id')::uuid"},
		{"invoice_id", rID, "Счёт (Ид)", "%[1]s_doc.id"},
		{"id", rID, "Счёт (Ид)", "%[1]s_doc.id"},
		{"created_at", rDatetime, "Создано", "%[1]s_doc.created_at"},
	} {
		lines.computed(f.name, f.typ, f.label, f.expr)
	}
	lines.links["invoice"] = rLink{target: "invoice", fk: "%[1]s_doc.id", label: "Счёт"}
	lines.links["product"] = rLink{target: "product", fk: "(%[1]s->>'product_id')::uuid", label: "Товар"}
	lines.links["service"] = rLink{target: "service", fk: "(%[1]s->>'service_id')::uuid", label: "Услуга"}
	return lines
}
