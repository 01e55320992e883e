package xlsx

import "github.com/crmhub/crmhub/core"

// contactColumns are a contact's columns: vtiger's contact fields under the
// headers SalesPlatform exports them with, and the import-only «Организация»,
// «ИНН» and «КПП» that link a contact to its account by name (or create it).
func contactColumns() []Column {
	cols := []Column{
		{Key: "last_name", Header: "Фамилия", Width: 16, Synonyms: []string{"last name", "surname"}},
		{Key: "first_name", Header: "Имя", Width: 14, Synonyms: []string{"first name", "name"}},
		{Key: "middle_name", Header: "Отчество", Width: 16, Synonyms: []string{"middle name", "patronymic"}},
		{Key: "title", Header: "Должность", Width: 16, Synonyms: []string{"title", "position"}},
		{Key: "department", Header: "Отдел", Width: 14, Synonyms: []string{"department"}},
		{Key: "birthday", Header: "Дата рождения", Kind: Date, Width: 12, Synonyms: []string{"день рождения", "birthday", "birthdate",
			"date of birth"}},
		{Key: "phone", Header: "Телефон", Kind: Phone, Width: 16, Synonyms: []string{"тел", "тел.", "phone", "телефон рабочий", "рабочий тел.",
			"рабочий телефон", "office phone"}},
		{Key: "mobile", Header: "Мобильный", Kind: Phone, Width: 16, Synonyms: []string{"моб", "моб.", "мобильный телефон", "mobile", "сотовый",
			"мобильный тел.", "mobile phone"}},
		{Key: "home_phone", Header: "Домашний телефон", Kind: Phone, Width: 16, Synonyms: []string{"домашний тел.", "home phone"}},
		{Key: "other_phone", Header: "Другой телефон", Kind: Phone, Width: 16, Synonyms: []string{"другой тел.", "other phone",
			"дополнительный телефон"}},
		{Key: "fax", Header: "Факс", Kind: Phone, Width: 16, Synonyms: []string{"fax"}},
		{Key: "email", Header: "E-mail", Width: 24, Synonyms: []string{"email", "эл. почта", "электронная почта", "почта",
			"основной адрес электронной почты"}},
		{Key: "secondary_email", Header: "Второй e-mail", Width: 24, Synonyms: []string{"второй адрес электронной почты", "secondary email"}},
		{Key: "assistant", Header: "Ассистент", Width: 16, Synonyms: []string{"assistant", "помощник"}},
		{Key: "assistant_phone", Header: "Телефон ассистента", Kind: Phone, Width: 16, Synonyms: []string{"тел.ассистента", "assistant phone"}},
		{Key: "account_id", Header: "Контрагент (ID)", Width: 38},
		{Key: "account_name", Header: "Организация", Width: 30, ImportOnly: true, Synonyms: []string{"контрагент", "компания",
			"название организации", "наименование организации", "organization", "organization name", "account", "account name", "company"}},
		{Key: "account_inn", Header: "ИНН", Width: 13, ImportOnly: true, Synonyms: []string{"inn", "инн организации", "инн контрагента"}},
		{Key: "account_kpp", Header: "КПП", Width: 11, ImportOnly: true, Synonyms: []string{"kpp", "кпп организации", "кпп контрагента"}},
		{Key: "reports_to_id", Header: "Руководитель (ID)", Width: 38, Synonyms: []string{"руководитель", "начальник", "reports to"}},
		{Key: "source", Header: "Источник", Width: 14, Synonyms: []string{"source", "lead source"}, Choices: core.LeadSources()},
		{Key: "do_not_call", Header: "Не звонить", Kind: Bool, Width: 10, Synonyms: []string{"do not call"}},
		{Key: "email_opt_out", Header: "Без рассылок", Kind: Bool, Width: 10, Synonyms: []string{"email opt out"}},
	}
	cols = append(cols, mailingAddress("address", "Адрес", "mailing")...)
	cols = append(cols, addressColumns("other_address", "Доп. адрес", map[string][]string{
		"postcode": {"other zip", "other postal code"},
		"state":    {"доп. адрес: область", "other state"},
		"city":     {"other city"},
		"street":   {"доп. адрес: улица", "доп. адрес", "другой адрес", "other street", "other address"},
		"country":  {"other country"},
		"po_box":   {"а/я (другое)", "other po box"},
	})...)
	return append(cols, Column{Key: "description", Header: "Описание", Width: 30, Synonyms: []string{"description", "комментарий", "примечание"}})
}

// mailingAddress is the columns of an address that takes the plain address
// headers («Город», «Индекс», "City"…); en, when given, is the English
// prefix vtiger puts before them ("Mailing City").
func mailingAddress(prefix, label, en string) []Column {
	syn := map[string][]string{
		"postcode": {"индекс", "почтовый индекс", "postal code", "postcode", "zip", "zip code"},
		"state":    {"регион", "область", "state", "region"},
		"city":     {"город", "city"},
		"street":   {"адрес", "address", "street", "улица", "адрес: улица", "почтовый адрес"},
		"country":  {"страна", "country"},
		"po_box":   {"а/я", "абонентский ящик", "po box"},
	}
	if en != "" {
		for part, words := range map[string]string{"postcode": "zip", "state": "state", "city": "city", "street": "street",
			"country": "country", "po_box": "po box"} {
			syn[part] = append(syn[part], en+" "+words)
		}
		syn["street"] = append(syn["street"], en+" address")
		syn["po_box"] = append(syn["po_box"], "а/я (почта)")
	}
	return addressColumns(prefix, label, syn)
}

// addressColumns are an Address's columns under the key prefix, headed
// "label: индекс" and so on; synonyms gives each part's other headers, by
// the Address's JSON names.
func addressColumns(prefix, label string, synonyms map[string][]string) []Column {
	part := func(key, header string, width float64) Column {
		return Column{Key: prefix + "." + key, Header: label + ": " + header, Width: width, Synonyms: synonyms[key]}
	}
	return []Column{part("postcode", "индекс", 10), part("state", "регион", 18), part("city", "город", 16),
		part("street", "улица, дом", 28), part("country", "страна", 12), part("po_box", "а/я", 8)}
}
