package core_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestParseRecipients(t *testing.T) {
	got, errs := core.ParseRecipients("to", []string{" Ivan@Example.RU ", "Иван Петров <ivan@example.ru>",
		`"Петров, Иван" <IVAN@example.ru>`, "ООО «Ромашка» <a@b.ru>", "bad", "x@localhost"})
	require.Equal(t, []string{"ivan@example.ru", "Иван Петров <ivan@example.ru>", `"Петров, Иван" <ivan@example.ru>`,
		`"ООО «Ромашка»" <a@b.ru>`}, got)
	require.Equal(t, []core.FieldError{{Field: "to[4]", Code: "invalid_email", Message: "must be an e-mail address"},
		{Field: "to[5]", Code: "invalid_email", Message: "must be an e-mail address"}}, errs)
	_, errs = core.ParseRecipients("cc", make([]string, core.MaxEmailRecipients+1))
	require.Equal(t, "too_many", errs[0].Code)
	require.Equal(t, `"a \"b\" \\c" <x@y.ru>`, core.FormatAddress(`a "b" \c`, "x@y.ru"))
}

func TestEmailTemplates(t *testing.T) {
	var d core.EmailData
	d.Document.Number, d.Document.Date, d.Document.Total, d.Document.Until = "СЧ-1", "27 ноября 2026 г.", "1 220,00 ₽", "4 декабря 2026 г."
	d.Document.Title = "ТОРГ-12"
	d.Organization.Name = "ООО «Ромашка»"
	d.Organization.Phone = "+7 495 123-45-67"
	d.Greeting = "Здравствуйте!"
	for _, tpl := range core.DefaultEmailTemplates() {
		require.NoError(t, tpl.Validate(), tpl.Name)
		subject, body, err := tpl.Render(d)
		require.NoError(t, err, tpl.Name)
		require.Contains(t, subject, "№ СЧ-1 от 27 ноября 2026 г.", tpl.Name)
		require.True(t, strings.HasPrefix(body, "Здравствуйте!\n\n"), tpl.Name)
		require.Contains(t, body, "1 220,00 ₽", tpl.Name)
		require.Contains(t, body, "С уважением,\nООО «Ромашка»\nТел.: +7 495 123-45-67\n", tpl.Name)
		require.NotContains(t, body, "..", tpl.Name)
	}
	inv, ok := core.DefaultEmailTemplate(core.EntityInvoice)
	require.True(t, ok)
	_, body, err := inv.Render(d)
	require.NoError(t, err)
	require.Contains(t, body, "Просим оплатить его до 4 декабря 2026 г. включительно.")
	d.Document.Until = ""
	_, body, err = inv.Render(d)
	require.NoError(t, err)
	require.NotContains(t, body, "Просим оплатить")

	// A subject is one line; bad templates name their part.
	s, _, err := core.EmailTemplate{Subject: "a\n  b {{.Document.Number}}\r\n", Body: "x"}.Render(d)
	require.NoError(t, err)
	require.Equal(t, "a b СЧ-1", s)
	for _, c := range []struct {
		tpl   core.EmailTemplate
		field string
		code  string
	}{
		{core.EmailTemplate{Subject: "", Body: "x"}, "subject", "required"},
		{core.EmailTemplate{Subject: "x", Body: " "}, "body", "required"},
		{core.EmailTemplate{Subject: "{{.Document.Number", Body: "x"}, "subject", "invalid_template"},
		{core.EmailTemplate{Subject: "x", Body: "{{.Nope}}"}, "body", "invalid_template"},
		{core.EmailTemplate{Subject: "x", Body: "{{.Contact.FullName.X}}"}, "body", "invalid_template"},
		{core.EmailTemplate{Subject: strings.Repeat("я", 500), Body: "x"}, "subject", "too_long"},
	} {
		err := c.tpl.Validate()
		require.Equal(t, core.EINVALID, core.ErrorCode(err), c.tpl)
		f := core.ErrorFields(err)
		require.Equal(t, c.field, f[0].Field, c.tpl)
		require.Equal(t, c.code, f[0].Code, c.tpl)
	}
}

// TestEmailTemplateBounds: a template cannot make a huge e-mail or spin:
// the probe's {{range 100000000}} and its kin are refused when saved, and
// rendering stops at MaxRenderedEmail.
func TestEmailTemplateBounds(t *testing.T) {
	refused := map[string]string{
		`{{range 100000000}}A{{end}}`:                                                        "range over a number up to 1000",
		`{{range 10}}{{range 10}}{{range 10}}x{{end}}{{end}}{{end}}`:                         "at most 2 ranges inside one another",
		`{{define "a"}}{{template "a"}}{{template "a"}}{{end}}x`:                             "{{define}} and {{block}} are not allowed",
		`{{template "body"}}`:                                                                "{{template}} is not allowed",
		`{{printf "%0999999999d" 0}}`:                                                        "width or precision of at most 1000",
		`{{printf "%*d" 999999999 0}}`:                                                       "(*) is not allowed",
		`{{range len (printf "%0999d" 0)}}x{{end}}`:                                          "range only over a field of the data",
		`{{range 1000}}{{range 1000}}0123456789abcdefghij0123456789abcdefghij{{end}}{{end}}`: "passes 1048576 bytes",
	}
	for body, want := range refused {
		err := core.EmailTemplate{Name: "t", Subject: "s", Body: body}.Validate()
		require.Error(t, err, body)
		require.Contains(t, err.Error(), want, body)
		require.Equal(t, core.EINVALID, core.ErrorCode(err), body)
	}
	// What templates do is still allowed.
	for _, body := range []string{
		`{{.Document.Number}} {{printf "%10s" .Document.Total}}`,
		`{{range 3}}{{range 2}}-{{end}}{{$.Account.Name}}{{end}}`,
		`{{with .Account}}{{.Name}}{{else}}—{{end}}`,
	} {
		require.NoError(t, core.EmailTemplate{Name: "t", Subject: "s", Body: body}.Validate(), body)
	}
	for _, tpl := range core.DefaultEmailTemplates() {
		require.NoError(t, tpl.Validate(), tpl.Name)
	}
}
