package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/mailtest"
)

// TestServeMailInAndOut runs the hub with the mail settings operators use
// (CRMHUB_SMTP_*, CRMHUB_MAILSCAN_URL) against real OpenSMTPD and Dovecot:
// an invoice goes out by e-mail, and a customer's message comes in as a
// lead.
func TestServeMailInAndOut(t *testing.T) {
	t.Parallel()
	mail := mailtest.Start(t)
	dir := dataDir(t)
	env := testEnv(dir)
	env["CRMHUB_DATABASE_EMBEDDED_PORT"] = "5437"
	env["CRMHUB_SMTP_HOST"] = "127.0.0.1"
	env["CRMHUB_SMTP_PORT"] = strconv.Itoa(mail.SMTPPort)
	env["CRMHUB_SMTP_TLS"] = "none"
	env["CRMHUB_SMTP_FROM"] = "sales@romashka.ru"
	env["CRMHUB_MAILSCAN_URL"] = fmt.Sprintf("imap://hubsales:%s@127.0.0.1:%d/INBOX?tls=none&after=move:Processed",
		mailtest.Password, mail.IMAPPort)
	h := serveInProcess(t, env)
	key, err := os.ReadFile(filepath.Join(dir, "admin.key"))
	require.NoError(t, err)
	c := client{base: "http://" + h.addr, key: strings.TrimSpace(string(key))}
	var deadline time.Time

	if !t.Run("AnInvoiceGoesOutByEmailToItsAccount", func(t *testing.T) {
		status, _, body := c.do(t, "POST", "/api/v1/accounts", `{"name":"ООО Лютик","email":"hubbuyer@example.ru"}`)
		require.Equal(t, 201, status, string(body))
		var acc map[string]any
		require.NoError(t, json.Unmarshal(body, &acc))
		status, _, body = c.do(t, "POST", "/api/v1/invoices", `{"account_id":"`+acc["id"].(string)+`","lines":[{"name":"Работы","price":"1000"}]}`)
		require.Equal(t, 201, status, string(body))
		var inv map[string]any
		require.NoError(t, json.Unmarshal(body, &inv))
		status, _, body = c.do(t, "POST", "/api/v1/invoices/"+inv["id"].(string)+"/send", "")
		require.Equal(t, 201, status, string(body))
		var sent map[string]any
		require.NoError(t, json.Unmarshal(body, &sent))
		require.Equal(t, "sent", sent["status"], sent["last_error"])
		_, err := mail.Fetch(context.Background(), "hubbuyer", "<"+sent["message_id"].(string)+">", 10*time.Second)
		require.NoError(t, err)
	}) {
		return
	}

	// The customer writes to sales@: the scanner makes a lead of it.
	if !t.Run("ACustomersMessageToSalesBecomesALead", func(t *testing.T) {
		msg := "From: =?UTF-8?B?" + "0J7Qu9GM0LPQsA==" + "?= <olga@vasilek.ru>\r\nTo: hubsales@example.ru\r\nSubject: Price\r\n" +
			"Message-ID: <hub-1@vasilek.ru>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease send the price list.\r\n"
		require.NoError(t, mail.Append("hubsales", "INBOX", []byte(msg)))
		deadline = time.Now().Add(20 * time.Second)
		for {
			status, _, body := c.do(t, "GET", "/api/v1/leads?email=olga@vasilek.ru", "")
			require.Equal(t, 200, status, string(body))
			if strings.Contains(string(body), `"first_name":"Ольга"`) || strings.Contains(string(body), `"last_name":"Ольга"`) {
				break
			}
			require.True(t, time.Now().Before(deadline), "no lead from the message: %s", body)
			time.Sleep(100 * time.Millisecond)
		}
	}) {
		return
	}

	t.Run("TheScannerStatusCountsTheMessageProcessed", func(t *testing.T) {
		status, _, body := c.do(t, "GET", "/api/v1/mailscan/status", "")
		require.Equal(t, 200, status)
		require.Contains(t, string(body), `"processed":1`)
		require.Contains(t, string(body), `"connected":true`)
	})

	// A second mailbox through the admin API starts scanning at once.
	if !t.Run("AMailboxAddedThroughTheAPIStartsScanningAtOnce", func(t *testing.T) {
		status, _, body := c.do(t, "POST", "/api/v1/mailscan/mailboxes", fmt.Sprintf(`{"name":"support","host":"127.0.0.1","port":%d,`+
			`"tls":"none","username":"hubsupport","password":"%s","after":"seen","default_action":"create_contact"}`, mail.IMAPPort, mailtest.Password))
		require.Equal(t, 201, status, string(body))
		require.NoError(t, mail.Append("hubsupport", "INBOX", []byte("From: petr@vasilek.ru\r\nTo: hubsupport@example.ru\r\n"+
			"Subject: Help\r\nMessage-ID: <hub-2@vasilek.ru>\r\n\r\nIt broke.\r\n")))
		for {
			status, _, body = c.do(t, "GET", "/api/v1/contacts?q=petr@vasilek.ru", "")
			require.Equal(t, 200, status, string(body))
			if strings.Contains(string(body), `"email":"petr@vasilek.ru"`) {
				break
			}
			require.True(t, time.Now().Before(deadline.Add(20*time.Second)), "no contact from the support mailbox: %s", body)
			time.Sleep(100 * time.Millisecond)
		}
	}) {
		return
	}

	t.Run("TheMailboxesListShowsWhoManagesEachButNoPasswords", func(t *testing.T) {
		status, _, body := c.do(t, "GET", "/api/v1/mailscan/mailboxes", "")
		require.Equal(t, 200, status)
		require.Contains(t, string(body), `"managed":"config"`)
		require.Contains(t, string(body), `"managed":"api"`)
		require.NotContains(t, string(body), mailtest.Password, "passwords are write-only")
	})

	t.Run("OnlyTheAPIsMailboxIsDeletedAndItsScannerStops", func(t *testing.T) {
		status, _, _ := c.do(t, "DELETE", "/api/v1/mailscan/mailboxes/hubsales@127.0.0.1", "")
		require.Equal(t, 409, status, "the config's mailbox is read-only here")
		status, _, _ = c.do(t, "DELETE", "/api/v1/mailscan/mailboxes/support", "")
		require.Equal(t, 204, status)
		status, _, body := c.do(t, "GET", "/api/v1/mailscan/status", "")
		require.Equal(t, 200, status)
		require.NotContains(t, string(body), `"name":"support"`, "its scanner stopped")
	})
}
