package mailscan_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"

	"github.com/crmhub/crmhub/connectors/mailscan"
	"github.com/crmhub/crmhub/core"
)

// eml builds test messages the way Russian mail clients write them.
type eml struct {
	from, fromName, to, cc, subject, id, inReplyTo string
	charset                                        string // of the subject, name and body: utf-8 (default), koi8-r, windows-1251
	text, html                                     string
	files                                          map[string][]byte
}

func encode(cs, s string) string {
	var e *charmap.Charmap
	switch cs {
	case "koi8-r":
		e = charmap.KOI8R
	case "windows-1251":
		e = charmap.Windows1251
	default:
		return s
	}
	out, err := e.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return out
}

func (m eml) bytes() []byte {
	cs := m.charset
	if cs == "" {
		cs = "utf-8"
	}
	word := func(s string) string { return mime.BEncoding.Encode(strings.ToUpper(cs), encode(cs, s)) }
	var b bytes.Buffer
	from := m.from
	if m.fromName != "" {
		from = word(m.fromName) + " <" + m.from + ">"
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", from, m.to)
	if m.cc != "" {
		fmt.Fprintf(&b, "Cc: %s\r\n", m.cc)
	}
	fmt.Fprintf(&b, "Subject: %s\r\nDate: Fri, 27 Nov 2026 10:15:00 +0300\r\nMIME-Version: 1.0\r\n", word(m.subject))
	if m.id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", m.id)
	}
	if m.inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", m.inReplyTo, m.inReplyTo)
	}
	textPart := func() {
		body := strings.ReplaceAll(m.text, "\n", "\r\n")
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", cs)
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(encode(cs, body)))
		_ = w.Close()
		b.WriteString("\r\n")
	}
	htmlPart := func() {
		fmt.Fprintf(&b, "Content-Type: text/html; charset=%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", cs,
			base64.StdEncoding.EncodeToString([]byte(encode(cs, m.html))))
	}
	if len(m.files) == 0 {
		if m.html != "" {
			htmlPart()
		} else {
			textPart()
		}
		return b.Bytes()
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"xyz\"\r\n\r\n--xyz\r\n")
	if m.html != "" {
		htmlPart()
	} else {
		textPart()
	}
	for name, data := range m.files {
		fmt.Fprintf(&b, "--xyz\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''%s\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n", strings.ReplaceAll(mimeEscape(name), " ", "%20"),
			base64.StdEncoding.EncodeToString(data))
	}
	b.WriteString("--xyz--\r\n")
	return b.Bytes()
}

func mimeEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < 0x80 && c != '%' && c != '\'' && c != ' ' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func TestParseRussianCharsets(t *testing.T) {
	raw := eml{from: "Ivan@Romashka.RU", fromName: "Иван Петров", to: "sales@example.ru", charset: "koi8-r",
		subject: "Заявка на поставку", id: "abc@romashka.ru", text: "Добрый день!\nНужны 10 диванов."}.bytes()
	m, err := mailscan.Parse(raw, mailscan.Limits{})
	require.NoError(t, err)
	require.Equal(t, "Заявка на поставку", m.Subject)
	require.Equal(t, "Иван Петров", m.FromName)
	require.Equal(t, "ivan@romashka.ru", m.From)
	require.Equal(t, []string{"sales@example.ru"}, m.To)
	require.Equal(t, "abc@romashka.ru", m.MessageID)
	require.Equal(t, "Добрый день!\nНужны 10 диванов.", m.Text)
	require.Equal(t, 2026, m.Date.Year())

	raw = eml{from: "buh@lutik.ru", fromName: "Бухгалтерия «Лютик»", to: "sales@example.ru", charset: "windows-1251",
		subject: "Счёт получен", text: "Оплатим в пятницу.\n\nС уважением,\nГлавный бухгалтер Анна\nтел. 8 (495) 123-45-67"}.bytes()
	m, err = mailscan.Parse(raw, mailscan.Limits{})
	require.NoError(t, err)
	require.Equal(t, "Счёт получен", m.Subject)
	require.Equal(t, "Бухгалтерия «Лютик»", m.FromName)
	require.Equal(t, "Оплатим в пятницу.", m.Text)
	require.Equal(t, "С уважением,\nГлавный бухгалтер Анна\nтел. 8 (495) 123-45-67", m.Signature)
	require.Equal(t, "+74951234567", m.Phone, "the phone from the signature")
	require.True(t, strings.HasPrefix(m.MessageID, "sha256-"), "a message without a Message-ID gets a stable one")
	again, err := mailscan.Parse(raw, mailscan.Limits{})
	require.NoError(t, err)
	require.Equal(t, m.MessageID, again.MessageID)
}

func TestParseHTMLQuotesAndAttachments(t *testing.T) {
	pdf := []byte("%PDF-1.4 test")
	raw := eml{from: "p@x.ru", to: "sales@example.ru", subject: "Re: Счёт на оплату № СЧ-2026-000057", inReplyTo: "sent-1@example.ru",
		html: `<html><head><style>p{color:red}</style></head><body><p>Получили, &laquo;спасибо&raquo;!</p>` +
			`<div>Вопрос по&nbsp;доставке.</div><blockquote><p>Направляем счёт</p></blockquote><script>alert(1)</script></body></html>`,
		files: map[string][]byte{"Реквизиты ООО.pdf": pdf}}.bytes()
	m, err := mailscan.Parse(raw, mailscan.Limits{})
	require.NoError(t, err)
	require.Equal(t, "Получили, «спасибо»!\nВопрос по доставке.", m.Text)
	require.Equal(t, "> Направляем счёт", m.Quoted)
	require.NotContains(t, m.Text+m.Quoted, "alert")
	require.Equal(t, []string{"sent-1@example.ru"}, m.References[:1])
	require.Len(t, m.Attachments, 1)
	require.Equal(t, "Реквизиты ООО.pdf", m.Attachments[0].Name)
	require.Equal(t, pdf, m.Attachments[0].Data)

	// Over the limits: listed, not kept.
	m, err = mailscan.Parse(raw, mailscan.Limits{MaxAttachment: 5})
	require.NoError(t, err)
	require.Empty(t, m.Attachments)
	require.Equal(t, []string{"Реквизиты ООО.pdf"}, m.Skipped)

	// A plain reply: the quote after the attribution line is kept apart.
	m, err = mailscan.Parse(eml{from: "p@x.ru", to: "s@example.ru", subject: "Re: x",
		text: "Да, подходит.\n\n27.11.2026, 10:00, Иван пишет:\n> Подходит ли цена?"}.bytes(), mailscan.Limits{})
	require.NoError(t, err)
	require.Equal(t, "Да, подходит.", m.Text)
	require.Equal(t, "27.11.2026, 10:00, Иван пишет:\n> Подходит ли цена?", m.Quoted)
}

func TestParseRefusesWhatIsNotMail(t *testing.T) {
	for _, raw := range []string{"", "garbage without headers", "Subject: no sender\r\n\r\nbody",
		"From: not-an-address\r\nSubject: x\r\n\r\nbody"} {
		_, err := mailscan.Parse([]byte(raw), mailscan.Limits{})
		require.Error(t, err, "%q", raw)
	}
}

func TestRules(t *testing.T) {
	m := &core.InboundMail{From: "ivan@romashka.ru", FromName: "Иван", To: []string{"sales@example.ru"}, Cc: []string{"boss@example.ru"},
		Subject: "Re: Счёт на оплату № СЧ-2026-000057", Text: "Оплатим завтра"}
	rules, err := mailscan.CompileRules([]mailscan.Rule{
		{Name: "spam", Match: "any", Action: core.MailSkip, Conditions: []mailscan.Condition{
			{Field: "subject", Operator: "contains", Value: "ВЫИГРЫШ"}, {Field: "from", Operator: "ends_with", Value: "@spam.ru"}}},
		{Name: "replies", Action: core.MailLinkDeal, Conditions: []mailscan.Condition{{Field: "subject", Operator: "begins_with", Value: "re:"}}},
		{Name: "boss copies", Action: core.MailLinkTo, Conditions: []mailscan.Condition{{Field: "cc", Operator: "equals", Value: "BOSS@example.ru"},
			{Field: "body", Operator: "regex", Value: `оплат\p{L}+`}}},
		{Name: "not me", Action: core.MailLinkFrom, Conditions: []mailscan.Condition{{Field: "to", Operator: "not_contains", Value: "sales@"}}},
		{Name: "empty all", Action: core.MailCreateContact},
		{Name: "partners", Match: "any", Action: core.MailCreateAccount},
		{Name: "never", Action: core.MailCreateLead, Match: "any"},
	}, core.MailCreateLead, "owner-1")
	require.NoError(t, err)
	steps := rules.Steps(m)
	var got []string
	for _, s := range steps {
		got = append(got, s.Rule+":"+s.Action)
	}
	// First matching create settles it: "never" and the default are not reached.
	require.Equal(t, []string{"replies:link_deal", "boss copies:link_to", "partners:create_account"}, got)
	require.Equal(t, "СЧ-2026-000057", steps[0].DocumentNumber)
	require.Equal(t, "owner-1", steps[0].OwnerID)

	m.Subject = "Вы ВЫИГРАЛИ выигрыш"
	require.Equal(t, core.MailSkip, rules.Steps(m)[0].Action)

	only, err := mailscan.CompileRules(nil, core.MailCreateLead, "")
	require.NoError(t, err)
	require.Equal(t, []core.MailStep{{Rule: "default", Action: core.MailCreateLead}}, only.Steps(m))

	for _, bad := range [][]mailscan.Rule{
		{{Action: "delete"}},
		{{Action: core.MailSkip, Match: "most"}},
		{{Action: core.MailSkip, Conditions: []mailscan.Condition{{Field: "date", Operator: "contains"}}}},
		{{Action: core.MailSkip, Conditions: []mailscan.Condition{{Field: "subject", Operator: "like"}}}},
		{{Action: core.MailSkip, Conditions: []mailscan.Condition{{Field: "subject", Operator: "regex", Value: "("}}}},
		{{Action: core.MailLinkDeal, DocumentPattern: "["}},
	} {
		_, err := mailscan.CompileRules(bad, "", "")
		require.Error(t, err, "%+v", bad)
	}
	_, err = mailscan.CompileRules(nil, core.MailLinkDeal, "")
	require.Error(t, err)
}

func TestParseURL(t *testing.T) {
	c, err := mailscan.ParseURL("imap://sales%40example.ru:p%40ss@127.0.0.1:10143/INBOX?tls=none&after=move:Processed")
	require.NoError(t, err)
	m := mailscan.FromConfig(c, nil)
	require.NoError(t, m.Validate())
	require.Equal(t, "sales@example.ru", m.Username)
	require.Equal(t, "p@ss", m.Password)
	require.Equal(t, 10143, m.Port)
	require.Equal(t, []string{"INBOX"}, m.Folders)
	require.Equal(t, "move:Processed", m.After)
	require.Equal(t, core.MailCreateLead, m.DefaultAction)
	c, err = mailscan.ParseURL("imap://u:p@imap.yandex.ru")
	require.NoError(t, err)
	m = mailscan.FromConfig(c, nil)
	require.NoError(t, m.Validate())
	require.Equal(t, 993, m.Port)
	require.Equal(t, "tls", m.TLS)
	for _, bad := range []string{"http://u:p@h/", "imap://u:p@imap.example.ru/?tls=none", "imap://u:p@h/?after=delete",
		"imap://u:p@h/?colour=red", "imap://h/"} {
		_, err := mailscan.ParseURL(bad)
		require.Error(t, err, bad)
	}
	_, err = mailscan.ParseURL("imap://sales:hunter9@imap.example.ru:99a/INBOX")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter9", "the error is printed and logged")
}
