package webforms

import (
	"html"
	"slices"
	"strconv"
	"strings"

	"github.com/crmhub/crmhub/core"
)

// The visitor's texts. A form's pages are read by the people who filled it
// in, on Russian sites: they are in Russian, whatever the English message
// machines get in JSON.
const (
	ruNotFound           = "Такой формы нет. Проверьте адрес страницы."
	ruUnavailable        = "Приём заявок временно недоступен."
	ruUnauthorized       = "Заявка отклонена: форма принимает заявки только с ключом доступа."
	ruCaptchaUnavailable = "Не удалось проверить капчу."
	ruCaptchaMissing     = "Не удалось проверить капчу: форма настроена с ошибкой. Сообщите об этом владельцу сайта."
	ruRateLimited        = "Слишком много заявок с вашего адреса."
)

// fieldLabels name the CRM fields a form fills, for its visitor.
var fieldLabels = map[string]string{
	"full_name": "Имя", "first_name": "Имя", "last_name": "Фамилия", "middle_name": "Отчество",
	"phone": "Телефон", "mobile": "Мобильный телефон", "email": "Электронная почта", "secondary_email": "Вторая почта",
	"company": "Компания", "title": "Должность", "website": "Сайт", "description": "Сообщение", "salutation": "Обращение",
	"name": "Название", "amount": "Сумма", "address": "Адрес", "address.city": "Город",
}

// fieldProblems say what is wrong with a field, by its error's code.
var fieldProblems = map[string]string{
	"required": "обязательное поле", "too_long": "слишком длинное значение", "too_short": "слишком короткое значение",
	"invalid_phone": "неверный номер телефона", "invalid_email": "неверный адрес почты",
	"invalid_choice": "нет такого варианта", "out_of_range": "значение вне допустимых пределов",
	"control_character": "недопустимые символы",
}

// fieldLabel names a field for the visitor: the name of the form's input
// that fills it (the form's own words: «Отрасль» for custom.segment), else
// its label, else its key.
func fieldLabel(def *core.WebForm, field string) string {
	var inputs []string
	for in, f := range def.Fields {
		if f == field {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) > 0 {
		return slices.Min(inputs)
	}
	field = strings.TrimPrefix(field, "contact.")
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	if head, _, ok := strings.Cut(field, "."); ok && fieldLabels[head] != "" {
		return fieldLabels[head]
	}
	return strings.TrimPrefix(field, "custom.")
}

// page is the HTML page a browser's post gets: thanks, or why the
// submission was refused, what to correct, when to try again, and the
// request's id to quote to the site's owner.
func page(def *core.WebForm, o outcome, requestID string) string {
	if o.status < 300 {
		return pageHTML("Спасибо!", "<p>Заявка отправлена. Мы скоро свяжемся с вами.</p>")
	}
	var b strings.Builder
	b.WriteString("<p>" + html.EscapeString(o.ru))
	if o.retry > 0 {
		b.WriteString(" Попробуйте ещё раз через " + strconv.Itoa(retrySeconds(o.retry)) + " с.")
	}
	b.WriteString("</p>")
	if len(o.fields) > 0 {
		b.WriteString("<ul>")
		for _, f := range o.fields {
			problem, ok := fieldProblems[f.Code]
			if !ok {
				problem = "неверное значение"
			}
			b.WriteString("<li>" + html.EscapeString(fieldLabel(def, f.Field)) + ": " + problem + "</li>")
		}
		b.WriteString("</ul>")
	}
	if requestID != "" {
		b.WriteString("<p>Номер запроса: <code>" + html.EscapeString(requestID) + "</code>. Назовите его, если обратитесь к владельцу сайта.</p>")
	}
	return pageHTML("Заявка не отправлена", b.String())
}

func pageHTML(title, body string) string {
	return `<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>` + title + `</title></head><body><h1>` +
		title + `</h1>` + body + `</body></html>`
}
