package mailout_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gmmail "github.com/emersion/go-message/mail"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/mailout"
	"github.com/crmhub/crmhub/connectors/mailtest"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/printform"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func patch(t *testing.T, s string) core.Patch {
	t.Helper()
	var p core.Patch
	require.NoError(t, json.Unmarshal([]byte(s), &p))
	return p
}

var org = core.Organization{Name: "Общество с ограниченной ответственностью «Ромашка»", ShortName: "ООО «Ромашка»",
	INN: "7707083893", KPP: "773601001", Phone: "+7 495 123-45-67", Email: "sales@romashka.ru"}

// fixture is a store with an invoice to a contact and the mail servers.
type fixture struct {
	st      *store.Store
	mail    *mailtest.Server
	printer *printform.Printer
	invoice *core.Invoice
	contact *core.Contact
}

func newFixture(t *testing.T, mail *mailtest.Server) *fixture {
	ctx := context.Background()
	st := storetest.NewStore(t)
	acc, err := st.Accounts().Create(ctx, patch(t, `{"name":"ПАО Сбербанк","inn":"7707083893","kpp":"773601001","email":"office@sber.example.ru"}`))
	require.NoError(t, err)
	user := "buyer" + strconv.FormatInt(time.Now().UnixNano(), 36)
	c, err := st.Contacts().Create(ctx, patch(t, `{"first_name":"Иван","middle_name":"Петрович","last_name":"Сидоров",
		"email":"`+user+`@example.ru","account_id":"`+acc.ID+`"}`))
	require.NoError(t, err)
	inv, err := st.Invoices().Create(ctx, patch(t, `{"date":"2026-11-27","due_date":"2026-12-04","status":"sent",
		"account_id":"`+acc.ID+`","contact_id":"`+c.ID+`",
		"lines":[{"name":"Монтаж оборудования","quantity":"2","unit":"усл","price":"5000","vat_rate":"22"},
		         {"name":"Кабель UTP","quantity":"10","unit":"м","price":"100","vat_rate":"22"}]}`))
	require.NoError(t, err)
	p := &printform.Printer{Quotes: st.Quotes(), Invoices: st.Invoices(), Acts: st.Acts(), Realizations: st.Realizations(),
		Products: st.Products(), Accounts: st.Accounts(), Org: org}
	return &fixture{st: st, mail: mail, printer: p, invoice: inv, contact: c}
}

func (f *fixture) mailer(t *testing.T, port int, tune func(*mailout.Config)) *mailout.Mailer {
	cfg := mailout.Config{SMTP: mailout.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: mailout.TLSNone,
		From: "sales@romashka.ru", FromName: "ООО «Ромашка»", Timeout: 5 * time.Second}, Backoff: time.Millisecond}
	if tune != nil {
		tune(&cfg)
	}
	m, err := mailout.New(cfg, mailout.Deps{Printer: f.printer, Emails: f.st.Emails(), Templates: f.st,
		Attachments: f.st, Contacts: f.st.Contacts(), Accounts: f.st.Accounts(), Org: org})
	require.NoError(t, err)
	return m
}

func userOf(addr string) string {
	if i := strings.LastIndexByte(addr, '<'); i >= 0 {
		addr = strings.TrimSuffix(addr[i+1:], ">")
	}
	return addr[:strings.IndexByte(addr, '@')]
}

// received reads a delivered message: its subject, text and attachments.
type received struct {
	subject, text string
	files         map[string][]byte
	header        gmmail.Header
}

func parse(t *testing.T, raw []byte) received {
	t.Helper()
	mr, err := gmmail.CreateReader(bytes.NewReader(raw))
	require.NoError(t, err)
	r := received{files: map[string][]byte{}, header: mr.Header}
	r.subject, err = mr.Header.Subject()
	require.NoError(t, err)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p.Body)
		require.NoError(t, err)
		switch h := p.Header.(type) {
		case *gmmail.InlineHeader:
			r.text += string(b)
		case *gmmail.AttachmentHeader:
			name, err := h.Filename()
			require.NoError(t, err)
			r.files[name] = b
		}
	}
	return r
}

func TestSendInvoiceRoundTrip(t *testing.T) {
	mail := mailtest.Start(t)
	f := newFixture(t, mail)
	ctx := context.Background()
	m := f.mailer(t, mail.SMTPPort, nil)

	req := core.SendDocument{Kind: core.EntityInvoice, ID: f.invoice.ID, IdempotencyKey: "send-1", Fingerprint: "a"}
	e, replayed, err := m.Send(ctx, req)
	require.NoError(t, err)
	require.False(t, replayed)
	require.Equal(t, core.EmailSent, e.Status, e.LastError)
	require.Equal(t, 1, e.Attempts)
	require.Equal(t, []string{"Сидоров Иван Петрович <" + f.contact.Email + ">"}, e.To)
	require.Equal(t, "Счёт на оплату № "+f.invoice.Number+" от 27 ноября 2026 г.", e.Subject)
	require.NotNil(t, e.ActivityID)
	require.NotNil(t, e.SentAt)

	raw, err := mail.Fetch(ctx, userOf(f.contact.Email), "<"+e.MessageID+">", 10*time.Second)
	require.NoError(t, err)
	got := parse(t, raw)
	require.Equal(t, e.Subject, got.subject)
	require.Contains(t, got.text, "Здравствуйте, Иван Петрович!")
	require.Contains(t, got.text, "на сумму 13 420,00 ₽") // (10 000 + 1 000) + 22 %
	require.Contains(t, got.text, "Просим оплатить его до 4 декабря 2026 г. включительно.")
	require.Contains(t, got.text, "ООО «Ромашка»")
	from, err := got.header.AddressList("From")
	require.NoError(t, err)
	require.Equal(t, "sales@romashka.ru", from[0].Address)
	require.Equal(t, "ООО «Ромашка»", from[0].Name)

	// The attachment arrives byte for byte as stored, and it is the invoice.
	require.Len(t, got.files, 1)
	pdf := got.files[e.AttachmentName]
	require.NotNil(t, pdf, "attachment %q not among %v", e.AttachmentName, got.files)
	_, stored, err := f.st.AttachmentContent(ctx, *e.AttachmentID)
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(stored), sha256.Sum256(pdf))
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	require.Equal(t, "Счёт на оплату "+f.invoice.Number+" от 27.11.2026.pdf", e.AttachmentName)

	// The sent message is an activity on the contact and the account.
	act, err := f.st.Activities().Get(ctx, *e.ActivityID)
	require.NoError(t, err)
	require.Equal(t, core.KindEmail, act.Kind)
	require.Equal(t, "held", act.Status)
	require.Equal(t, e.Subject, act.Subject)
	require.Equal(t, f.contact.ID, *act.ContactID)
	require.Equal(t, *f.invoice.AccountID, *act.AccountID)
	require.Contains(t, act.Description, "Message-ID: <"+e.MessageID+">")

	// A repeated request changes nothing and sends nothing.
	again, replayed, err := m.Send(ctx, req)
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, e.ID, again.ID)
	require.Equal(t, 1, again.Attempts)
	_, _, err = m.Send(ctx, core.SendDocument{Kind: core.EntityInvoice, ID: f.invoice.ID, IdempotencyKey: "send-1", Fingerprint: "b"})
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err))
	list, err := f.st.Emails().List(ctx, core.EmailFilter{DocumentID: f.invoice.ID, ListParams: core.ListParams{Limit: 10, Sort: core.Sort{Field: "created_at"}}})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	n, err := mail.Count(userOf(f.contact.Email))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

func TestSendChoosesRecipientsAndTexts(t *testing.T) {
	mail := mailtest.Start(t)
	f := newFixture(t, mail)
	ctx := context.Background()
	m := f.mailer(t, mail.SMTPPort, nil)

	// Explicit recipients with names, a copy, and the caller's own subject.
	acct := "acc" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.ru"
	e, _, err := m.Send(ctx, core.SendDocument{Kind: core.EntityInvoice, ID: f.invoice.ID,
		To: []string{`"«Бухгалтерия», Сбер" <` + strings.ToUpper(acct) + `>`}, Cc: []string{f.contact.Email},
		Subject: "Счёт   к договору\n№ 7"})
	require.NoError(t, err)
	require.Equal(t, core.EmailSent, e.Status, e.LastError)
	require.Equal(t, []string{`"«Бухгалтерия», Сбер" <` + acct + `>`}, e.To)
	require.Equal(t, "Счёт к договору № 7", e.Subject)
	raw, err := mail.Fetch(ctx, userOf(e.To[0]), "<"+e.MessageID+">", 10*time.Second)
	require.NoError(t, err)
	got := parse(t, raw)
	toList, err := got.header.AddressList("To")
	require.NoError(t, err)
	require.Equal(t, "«Бухгалтерия», Сбер", toList[0].Name)
	_, err = mail.Fetch(ctx, userOf(f.contact.Email), "<"+e.MessageID+">", 10*time.Second)
	require.NoError(t, err, "the copy arrives too")

	// An edited template is used; a broken one is refused when stored.
	_, err = f.st.PutEmailTemplate(ctx, core.EmailTemplate{Name: core.EntityInvoice, Subject: "{{.Document.Number}} для {{.Account.Name}}",
		Body: "{{.Greeting}} Итого {{.Document.Total}}"}, 0)
	require.NoError(t, err)
	_, err = f.st.PutEmailTemplate(ctx, core.EmailTemplate{Name: core.EntityInvoice, Subject: "{{.Document.Nomer}}", Body: "x"}, 0)
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	require.Equal(t, "subject", core.ErrorFields(err)[0].Field)
	e, _, err = m.Send(ctx, core.SendDocument{Kind: core.EntityInvoice, ID: f.invoice.ID})
	require.NoError(t, err)
	require.Equal(t, f.invoice.Number+" для ПАО Сбербанк", e.Subject)
	require.Equal(t, "Здравствуйте, Иван Петрович! Итого 13 420,00 ₽", e.Body)

	// Bad requests are refused before anything is stored.
	for _, r := range []core.SendDocument{
		{Kind: core.EntityInvoice, ID: f.invoice.ID, To: []string{"not an address"}},
		{Kind: core.EntityInvoice, ID: f.invoice.ID, Template: "nosuch"},
		{Kind: core.EntityInvoice, ID: f.invoice.ID, Form: "torg12"},
		{Kind: core.EntityInvoice, ID: "0190f5a2-0000-7000-8000-000000000000"},
	} {
		_, _, err := m.Send(ctx, r)
		require.Error(t, err)
		require.Contains(t, []string{core.EINVALID, core.ENOTFOUND}, core.ErrorCode(err), err.Error())
	}
	// No contact, no account e-mail: the recipients must be given.
	bare, err := f.st.Invoices().Create(ctx, patch(t, `{"lines":[{"name":"x","price":"1"}]}`))
	require.NoError(t, err)
	_, _, err = m.Send(ctx, core.SendDocument{Kind: core.EntityInvoice, ID: bare.ID})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	require.Equal(t, "to", core.ErrorFields(err)[0].Field)
	list, err := f.st.Emails().List(ctx, core.EmailFilter{DocumentID: f.invoice.ID, ListParams: core.ListParams{Limit: 10, Sort: core.Sort{Field: "created_at"}}})
	require.NoError(t, err)
	require.Len(t, list.Items, 2)
}

func TestPermanentRefusalFails(t *testing.T) {
	mail := mailtest.Start(t)
	f := newFixture(t, mail)
	ctx := context.Background()
	m := f.mailer(t, mail.SMTPPort, nil)
	e, _, err := m.Send(ctx, core.SendDocument{Kind: core.EntityInvoice, ID: f.invoice.ID, To: []string{mailtest.RejectedRecipient}})
	require.NoError(t, err)
	require.Equal(t, core.EmailFailed, e.Status)
	require.Equal(t, 1, e.Attempts)
	require.Contains(t, e.LastError, "550")
	require.Nil(t, e.ActivityID)
	require.Nil(t, e.NextAttemptAt)
	// The worker leaves it alone.
	n, err := m.RunOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// flakySMTP forwards to the real server, answering the first refuse
// connections itself with a 421 (try later).
func flakySMTP(t *testing.T, target string, refuse int32) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var seen atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if seen.Add(1) <= refuse {
				_, _ = c.Write([]byte("421 4.3.2 Service not available, try again later\r\n"))
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestTemporaryFailureIsRetried(t *testing.T) {
	mail := mailtest.Start(t)
	f := newFixture(t, mail)
	ctx := context.Background()
	m := f.mailer(t, flakySMTP(t, mail.SMTPAddr(), 2), nil)

	e, _, err := m.Send(ctx, core.SendDocument{Kind: core.EntityInvoice, ID: f.invoice.ID})
	require.NoError(t, err)
	require.Equal(t, core.EmailQueued, e.Status)
	require.Contains(t, e.LastError, "421")
	require.NotNil(t, e.NextAttemptAt)

	// The worker retries when due, reading the PDF back from the store.
	var sent *core.EmailMessage
	require.Eventually(t, func() bool {
		_, err := m.RunOnce(ctx)
		require.NoError(t, err)
		sent, err = f.st.Emails().Get(ctx, e.ID)
		require.NoError(t, err)
		return sent.Status == core.EmailSent
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 3, sent.Attempts)
	raw, err := mail.Fetch(ctx, userOf(f.contact.Email), "<"+e.MessageID+">", 10*time.Second)
	require.NoError(t, err)
	_, stored, err := f.st.AttachmentContent(ctx, *e.AttachmentID)
	require.NoError(t, err)
	require.Equal(t, stored, parse(t, raw).files[e.AttachmentName])
}

func TestRetryAfterLastAttempt(t *testing.T) {
	mail := mailtest.Start(t)
	f := newFixture(t, mail)
	ctx := context.Background()
	m := f.mailer(t, flakySMTP(t, mail.SMTPAddr(), 1), func(c *mailout.Config) { c.MaxAttempts = 1 })

	e, _, err := m.Send(ctx, core.SendDocument{Kind: core.EntityInvoice, ID: f.invoice.ID})
	require.NoError(t, err)
	require.Equal(t, core.EmailFailed, e.Status, "a temporary failure at the last attempt fails the e-mail")
	require.Contains(t, e.LastError, "421")

	_, err = m.Retry(ctx, "0190f5a2-0000-7000-8000-000000000000")
	require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
	e, err = m.Retry(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, core.EmailSent, e.Status, e.LastError)
	_, err = m.Retry(ctx, e.ID)
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "a sent e-mail is not sent again")
	_, err = mail.Fetch(ctx, userOf(f.contact.Email), "<"+e.MessageID+">", 10*time.Second)
	require.NoError(t, err)
}

func TestSMTPConfig(t *testing.T) {
	for _, c := range []struct {
		cfg mailout.SMTPConfig
		err string
	}{
		{mailout.SMTPConfig{From: "a@b.ru"}, "smtp.host"},
		{mailout.SMTPConfig{Host: "smtp.example.ru", From: "Продажи <a@b.ru>"}, "smtp.from"},
		{mailout.SMTPConfig{Host: "smtp.example.ru", From: "a@b.ru", TLS: "ssl"}, "smtp.tls"},
		{mailout.SMTPConfig{Host: "smtp.example.ru", From: "a@b.ru", TLS: "none", Username: "u"}, "only over TLS"},
		{mailout.SMTPConfig{Host: "smtp.example.ru", From: "a@b.ru", Port: 70000}, "out of range"},
	} {
		err := c.cfg.Validate()
		require.ErrorContains(t, err, c.err)
	}
	ok := mailout.SMTPConfig{Host: "smtp.example.ru", From: "a@b.ru"}
	require.NoError(t, ok.Validate())
	require.Equal(t, 587, ok.Port)
	require.Equal(t, "starttls", ok.TLS)
	require.Equal(t, "b.ru", ok.HELO)
	local := mailout.SMTPConfig{Host: "127.0.0.1", From: "a@b.ru", TLS: "none", Username: "u"}
	require.NoError(t, local.Validate())
	require.Equal(t, 25, local.Port)
}
