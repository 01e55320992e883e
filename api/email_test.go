package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/api"
	"github.com/crmhub/crmhub/connectors/mailout"
	"github.com/crmhub/crmhub/connectors/mailtest"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

// TestSendDocumentByEmail e-mails an invoice through the API to a real
// OpenSMTPD and reads it back from Dovecot; every exchange is checked
// against the OpenAPI document.
func TestSendDocumentByEmail(t *testing.T) {
	mail := mailtest.Start(t)
	b := setup(t, func(st *store.Store, d *api.Deps) {
		m, err := mailout.New(mailout.Config{SMTP: mailout.SMTPConfig{Host: "127.0.0.1", Port: mail.SMTPPort, TLS: mailout.TLSNone,
			From: "sales@romashka.ru", Timeout: 5 * time.Second}},
			mailout.Deps{Printer: d.Printer, Emails: st.Emails(), Templates: st, Attachments: st, Contacts: st.Contacts(),
				Accounts: st.Accounts(), Org: d.Printer.Org})
		require.NoError(t, err)
		d.Mailer = m
	})
	check := openAPIChecker(t, b)
	id := func(data []byte) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		return m["id"].(string)
	}
	acc := id(check("POST", "/api/v1/accounts", b.writer, `{"name":"ООО Лютик","email":"office@lutik.example.ru"}`, 201))
	inv := id(check("POST", "/api/v1/invoices", b.writer, `{"account_id":"`+acc+`","lines":[{"name":"Работы","price":"1000","vat_rate":"22"}]}`, 201))

	// No body: to the account's e-mail, with the built-in template.
	data := check("POST", "/api/v1/invoices/"+inv+"/send", b.writer, "", 201, "Idempotency-Key", "mail-1")
	var e core.EmailMessage
	require.NoError(t, json.Unmarshal(data, &e))
	require.Equal(t, core.EmailSent, e.Status, e.LastError)
	require.Equal(t, []string{"ООО Лютик <office@lutik.example.ru>"}, e.To)
	raw, err := mail.Fetch(context.Background(), "office", "<"+e.MessageID+">", 10*time.Second)
	require.NoError(t, err)
	require.Contains(t, string(raw), "Content-Type: application/pdf")

	// A repeat with the key returns the same e-mail and sends nothing.
	r := b.do(t, "POST", "/api/v1/invoices/"+inv+"/send", b.writer, "", "Idempotency-Key", "mail-1")
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	require.Equal(t, e.ID, r.json(t)["id"])
	check("POST", "/api/v1/invoices/"+inv+"/send", b.writer, `{"to":["x@y.ru"]}`, 409, "Idempotency-Key", "mail-1")

	check("GET", "/api/v1/emails/"+e.ID, b.reader, "", 200)
	pdf := check("GET", "/api/v1/attachments/"+*e.AttachmentID, b.reader, "", 200)
	require.Equal(t, "%PDF-", string(pdf[:5]))
	check("POST", "/api/v1/emails/"+e.ID+"/retry", b.writer, "", 409)
	data = check("GET", "/api/v1/activities?kind=email&account_id="+acc, b.reader, "", 200)
	require.Contains(t, string(data), e.Subject)

	// A permanent refusal: the e-mail failed with the server's reason.
	data = check("POST", "/api/v1/invoices/"+inv+"/send", b.writer, `{"to":["`+mailtest.RejectedRecipient+`"],"subject":"Счёт","body":"Во вложении."}`, 201)
	require.NoError(t, json.Unmarshal(data, &e))
	require.Equal(t, core.EmailFailed, e.Status)
	require.Contains(t, e.LastError, "550")
	data = check("POST", "/api/v1/emails/"+e.ID+"/retry", b.writer, "", 200)
	require.Contains(t, string(data), `"status":"failed"`)
	check("POST", "/api/v1/invoices/"+inv+"/send", b.writer, `{"to":["nobody"]}`, 422)
	check("POST", "/api/v1/invoices/"+inv+"/send", b.writer, `{"colour":"red"}`, 422)
	check("POST", "/api/v1/acts/0190a5c0-0000-7000-8000-000000000000/send", b.writer, "", 404)
	data = check("GET", "/api/v1/emails?document_kind=invoice&document_id="+inv, b.reader, "", 200)
	var page struct{ Items []core.EmailMessage }
	require.NoError(t, json.Unmarshal(data, &page))
	require.Len(t, page.Items, 2)
}
