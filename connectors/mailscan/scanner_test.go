package mailscan_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/mailscan"
	"github.com/crmhub/crmhub/connectors/mailtest"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// user is a fresh mailbox on the shared test server.
func user(t testing.TB) string {
	return fmt.Sprintf("sales%d-%s", time.Now().UnixNano()%1e9, t.Name()[4:min(len(t.Name()), 12)])
}

func mailbox(srv *mailtest.Server, u string, tune func(*mailscan.Mailbox)) mailscan.Mailbox {
	b := mailscan.Mailbox{Name: u, Host: "127.0.0.1", Port: srv.IMAPPort, TLS: mailscan.TLSNone, Username: u,
		Password: mailtest.Password, After: "move:Processed", IDLE: true, PollInterval: time.Hour, DefaultAction: core.MailCreateLead}
	if tune != nil {
		tune(&b)
	}
	return b
}

// run starts a scanner; the returned stop cancels it and waits.
func run(t *testing.T, box mailscan.Mailbox, st core.MailStore) (*mailscan.Scanner, func()) {
	s, err := mailscan.New(box, st, nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return s, stop
}

func count(t *testing.T, st *store.Store, sql string, args ...any) int {
	var n int
	require.NoError(t, st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestScannerAgainstDovecot(t *testing.T) {
	srv := mailtest.StartIMAP(t)
	st := storetest.NewStore(t)
	ctx := context.Background()
	u := user(t)
	first := eml{from: "ivan@romashka.ru", fromName: "Иван Петров", to: u + "@example.ru", charset: "koi8-r",
		subject: "Заявка на поставку", id: "m1@romashka.ru",
		text: "Нужны 10 диванов.\n\nС уважением,\nИван Петров\n+7 (912) 345-67-89"}
	second := eml{from: "IVAN@romashka.ru", to: u + "@example.ru", charset: "windows-1251", subject: "Уточнение", id: "m2@romashka.ru",
		text: "И ещё 2 кресла.", files: map[string][]byte{"ТЗ.pdf": []byte("%PDF-1.4 spec")}}
	spam := eml{from: "win@spam.example", to: u + "@example.ru", subject: "Вы выиграли", id: "m3@spam.example", text: "Жмите"}
	require.NoError(t, srv.Append(u, "INBOX", first.bytes(), second.bytes(), spam.bytes()))

	box := mailbox(srv, u, func(b *mailscan.Mailbox) {
		b.Rules = []mailscan.Rule{{Name: "spam", Action: core.MailSkip, Conditions: []mailscan.Condition{
			{Field: "subject", Operator: "contains", Value: "выиграли"}}}}
	})
	scanner, _ := run(t, box, st)
	eventually(t, "three messages recorded", func() bool {
		return count(t, st, `SELECT count(*) FROM mailscan_messages WHERE mailbox = $1`, u) == 3
	})

	// One lead from the first message, named and phoned from it; the
	// second (same sender, other case) lands on it.
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM leads WHERE email = 'ivan@romashka.ru'`))
	var leadID, first_, last, company, phone, source, desc string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT id::text, first_name, last_name, company, phone, source, description
		FROM leads WHERE email = 'ivan@romashka.ru'`).Scan(&leadID, &first_, &last, &company, &phone, &source, &desc))
	require.Equal(t, []string{"Иван", "Петров", "romashka.ru", "+79123456789", "email"}, []string{first_, last, company, phone, source})
	require.Contains(t, desc, "Нужны 10 диванов.")
	require.Contains(t, desc, "[Подпись]\nС уважением,")
	acts, err := st.Activities().List(ctx, core.ActivityFilter{LeadID: leadID, ListParams: core.ListParams{Limit: 10,
		Sort: core.Sort{Field: "created_at"}}})
	require.NoError(t, err)
	require.Len(t, acts.Items, 2)
	require.Equal(t, core.KindEmail, acts.Items[0].Kind)
	require.Equal(t, "Заявка на поставку", acts.Items[0].Subject, "KOI8-R subject decoded")
	require.Equal(t, "Уточнение", acts.Items[1].Subject)
	require.Contains(t, acts.Items[1].Description, "И ещё 2 кресла.", "windows-1251 body decoded")
	require.Contains(t, acts.Items[1].Description, "Вложения: ТЗ.pdf")
	files, err := st.Attachments(ctx, core.EntityLead, leadID, false)
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Equal(t, "ТЗ.pdf", files[0].FileName)
	require.Equal(t, 0, count(t, st, `SELECT count(*) FROM leads WHERE email = 'win@spam.example'`), "the skip rule")
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM mailscan_messages WHERE mailbox = $1 AND outcome = 'skipped'`, u))

	// Processed messages were moved.
	eventually(t, "moved to Processed", func() bool {
		n, err := srv.Messages(u, "Processed")
		require.NoError(t, err)
		return n == 3
	})
	n, err := srv.Messages(u, "INBOX")
	require.NoError(t, err)
	require.Zero(t, n)

	// IDLE: the poll interval is an hour, so only IDLE can bring this one in.
	require.True(t, scanner.Status().IDLE)
	require.NoError(t, srv.Append(u, "INBOX", eml{from: "olga@lutik.ru", fromName: "Ольга", to: u + "@example.ru",
		subject: "Вопрос", id: "m4@lutik.ru", text: "Есть ли доставка?"}.bytes()))
	eventually(t, "the new message seen through IDLE", func() bool {
		return count(t, st, `SELECT count(*) FROM leads WHERE email = 'olga@lutik.ru'`) == 1
	})
	status := scanner.Status()
	require.True(t, status.Connected)
	require.EqualValues(t, 4, status.Processed)
	require.NotNil(t, status.LastPoll)
}

func TestReplyToASentDocumentLandsOnItsDeal(t *testing.T) {
	srv := mailtest.StartIMAP(t)
	st := storetest.NewStore(t)
	ctx := context.Background()
	acc, err := st.Accounts().Create(ctx, core.Patch{"name": []byte(`"ООО Лютик"`)})
	require.NoError(t, err)
	deal, err := st.Deals().Create(ctx, core.Patch{"name": []byte(`"Поставка"`), "account_id": []byte(`"` + acc.ID + `"`)})
	require.NoError(t, err)
	inv, err := st.Invoices().Create(ctx, core.Patch{"account_id": []byte(`"` + acc.ID + `"`), "deal_id": []byte(`"` + deal.ID + `"`),
		"lines": []byte(`[{"name":"x","price":"1"}]`)})
	require.NoError(t, err)
	u := user(t)
	box := mailbox(srv, u, func(b *mailscan.Mailbox) {
		b.After = "seen"
		b.Rules = []mailscan.Rule{{Name: "documents", Action: core.MailLinkDeal, Match: "any"}}
	})
	require.NoError(t, srv.Append(u, "INBOX",
		eml{from: "buh@lutik.ru", to: u + "@example.ru", subject: "Re: Счёт на оплату № " + inv.Number, id: "r1@lutik.ru", text: "Оплатили"}.bytes(),
		eml{from: "stranger@other.ru", to: u + "@example.ru", subject: "Привет", id: "r2@other.ru", text: "?"}.bytes()))
	run(t, box, st)
	eventually(t, "both recorded", func() bool {
		return count(t, st, `SELECT count(*) FROM mailscan_messages WHERE mailbox = $1`, u) == 2
	})
	acts, err := st.Activities().List(ctx, core.ActivityFilter{DealID: deal.ID, ListParams: core.ListParams{Limit: 10, Sort: core.Sort{Field: "created_at"}}})
	require.NoError(t, err)
	require.Len(t, acts.Items, 1)
	require.Equal(t, acc.ID, *acts.Items[0].AccountID)
	// The stranger matched no document: the default rule made a lead.
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM leads WHERE email = 'stranger@other.ru'`))
	eventually(t, "marked seen", func() bool {
		return count(t, st, `SELECT count(*) FROM mailscan_messages WHERE mailbox = $1 AND outcome IN ('attached', 'created')`, u) == 2
	})
}

// crashingStore fails (and stops the scanner) at the n-th message: before
// its transaction commits, or right after (before the after-action).
type crashingStore struct {
	core.MailStore
	n, at     int32
	afterDone bool
	cancel    context.CancelFunc
}

func (c *crashingStore) IngestMail(ctx context.Context, o core.MailOrigin, m *core.InboundMail, steps []core.MailStep) (core.MailResult, error) {
	if atomic.AddInt32(&c.n, 1) != c.at {
		return c.MailStore.IngestMail(ctx, o, m, steps)
	}
	c.cancel() // the process dies here
	if c.afterDone {
		res, err := c.MailStore.IngestMail(context.WithoutCancel(ctx), o, m, steps)
		if err != nil {
			return res, err
		}
	}
	return core.MailResult{}, errors.New("killed")
}

func TestCrashMidBatchProcessesEachMessageOnce(t *testing.T) {
	for _, afterCommit := range []bool{false, true} {
		t.Run("after commit "+strconv.FormatBool(afterCommit), func(t *testing.T) {
			srv := mailtest.StartIMAP(t)
			st := storetest.NewStore(t)
			u := user(t)
			var msgs [][]byte
			for i := range 30 {
				msgs = append(msgs, eml{from: fmt.Sprintf("client%d@firm%d.ru", i, i), to: u + "@example.ru",
					subject: fmt.Sprintf("Заявка %d", i), id: fmt.Sprintf("crash-%d@x.ru", i), text: "Текст"}.bytes())
			}
			require.NoError(t, srv.Append(u, "INBOX", msgs...))
			box := mailbox(srv, u, func(b *mailscan.Mailbox) { b.BatchSize = 8 })

			ctx, cancel := context.WithCancel(context.Background())
			crash := &crashingStore{MailStore: st, at: 11, afterDone: afterCommit, cancel: cancel}
			first, err := mailscan.New(box, crash, nil, nil)
			require.NoError(t, err)
			require.NoError(t, first.Run(ctx)) // returns once "killed"
			recorded := count(t, st, `SELECT count(*) FROM mailscan_messages WHERE mailbox = $1`, u)
			if afterCommit {
				require.Equal(t, 11, recorded)
			} else {
				require.Equal(t, 10, recorded)
			}

			run(t, box, st) // the restart
			eventually(t, "all 30 recorded", func() bool {
				return count(t, st, `SELECT count(*) FROM mailscan_messages WHERE mailbox = $1`, u) == 30
			})
			require.Equal(t, 30, count(t, st, `SELECT count(*) FROM leads WHERE email LIKE 'client%'`), "each message once")
			require.Equal(t, 30, count(t, st, `SELECT count(*) FROM activities WHERE kind = 'email'`))
			eventually(t, "all moved", func() bool {
				n, err := srv.Messages(u, "Processed")
				require.NoError(t, err)
				return n == 30
			})
		})
	}
}

func TestUIDValidityChangeRescansWithoutDuplicates(t *testing.T) {
	srv := mailtest.StartIMAP(t)
	st := storetest.NewStore(t)
	u := user(t)
	a := eml{from: "a@firm-a.ru", to: u + "@example.ru", subject: "A", id: "a@firm-a.ru", text: "a"}.bytes()
	b := eml{from: "b@firm-b.ru", to: u + "@example.ru", subject: "B", id: "b@firm-b.ru", text: "b"}.bytes()
	c := eml{from: "c@firm-c.ru", to: u + "@example.ru", subject: "C", id: "c@firm-c.ru", text: "c"}.bytes()
	require.NoError(t, srv.Append(u, "Sales", a, b))
	box := mailbox(srv, u, func(m *mailscan.Mailbox) { m.Folders, m.After = []string{"Sales"}, "leave" })
	_, stop := run(t, box, st)
	eventually(t, "two recorded", func() bool {
		return count(t, st, `SELECT count(*) FROM mailscan_messages WHERE mailbox = $1`, u) == 2
	})
	stop()
	before, err := st.MailFolder(context.Background(), u, "Sales")
	require.NoError(t, err)

	// The folder is recreated (as a server migration does): a new
	// UIDVALIDITY, the old messages again, and one new.
	require.NoError(t, srv.DeleteFolder(u, "Sales"))
	require.NoError(t, srv.Append(u, "Sales", a, b, c))
	run(t, box, st)
	eventually(t, "the new one recorded", func() bool {
		return count(t, st, `SELECT count(*) FROM mailscan_messages WHERE mailbox = $1`, u) == 3
	})
	after, err := st.MailFolder(context.Background(), u, "Sales")
	require.NoError(t, err)
	require.NotEqual(t, before.UIDValidity, after.UIDValidity)
	eventually(t, "the folder scanned to its end", func() bool {
		s, err := st.MailFolder(context.Background(), u, "Sales")
		require.NoError(t, err)
		return s.LastUID == 3
	})
	require.Equal(t, 3, count(t, st, `SELECT count(*) FROM leads WHERE email LIKE '_@firm-_.ru'`), "no duplicates")
	require.Equal(t, 3, count(t, st, `SELECT count(*) FROM activities WHERE kind = 'email'`))
}

func TestImplicitTLSVerifiesTheCertificate(t *testing.T) {
	srv := mailtest.StartIMAP(t)
	st := storetest.NewStore(t)
	u := user(t)
	require.NoError(t, srv.Append(u, "INBOX", eml{from: "tls@firm.ru", to: u + "@example.ru", subject: "TLS", id: "tls@firm.ru", text: "x"}.bytes()))

	// Without the CA the certificate is refused, and the status says so.
	untrusted := mailbox(srv, u, func(b *mailscan.Mailbox) { b.Name, b.TLS, b.Port = u+"-untrusted", mailscan.TLSImplicit, srv.IMAPSPort })
	s, _ := run(t, untrusted, st)
	eventually(t, "the certificate error reported", func() bool { return s.Status().LastError != "" })
	require.Contains(t, s.Status().LastError, "certificate")
	require.False(t, s.Status().Connected)

	trusted := mailbox(srv, u, func(b *mailscan.Mailbox) { b.TLS, b.Port, b.CAFile = mailscan.TLSImplicit, srv.IMAPSPort, srv.CAFile })
	run(t, trusted, st)
	eventually(t, "scanned over TLS", func() bool {
		return count(t, st, `SELECT count(*) FROM leads WHERE email = 'tls@firm.ru'`) == 1
	})
}

func TestBadMessagesAreRecordedAndSkipped(t *testing.T) {
	srv := mailtest.StartIMAP(t)
	st := storetest.NewStore(t)
	u := user(t)
	require.NoError(t, srv.Append(u, "INBOX",
		[]byte("Subject: no sender at all\r\nMessage-ID: <bad-1@x.ru>\r\n\r\nbody\r\n"),
		eml{from: "good@firm.ru", to: u + "@example.ru", subject: "Хорошее", id: "good@firm.ru", text: "x"}.bytes()))
	// A wrong password first: the scanner reports it and keeps trying.
	wrong := mailbox(srv, u, func(b *mailscan.Mailbox) { b.Name, b.Password = u+"-wrong", "not-the-password" })
	s, stop := run(t, wrong, st)
	eventually(t, "the login error reported", func() bool { return s.Status().LastError != "" })
	require.Contains(t, s.Status().LastError, "login")
	stop()

	run(t, mailbox(srv, u, nil), st)
	eventually(t, "both recorded", func() bool {
		return count(t, st, `SELECT count(*) FROM mailscan_messages WHERE mailbox = $1`, u) == 2
	})
	var reason string
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT error FROM mailscan_messages
		WHERE mailbox = $1 AND status = 'failed'`, u).Scan(&reason))
	require.Contains(t, reason, "no sender")
	require.Equal(t, 1, count(t, st, `SELECT count(*) FROM leads WHERE email = 'good@firm.ru'`), "the folder went on")
}
