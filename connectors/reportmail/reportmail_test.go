package reportmail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	gmmail "github.com/emersion/go-message/mail"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/connectors/mailout"
	"github.com/crmhub/crmhub/connectors/mailtest"
	"github.com/crmhub/crmhub/connectors/reportmail"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/printform"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func fields(t *testing.T, m map[string]any) core.Patch {
	t.Helper()
	p := core.Patch{}
	for k, v := range m {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		p[k] = b
	}
	return p
}

func mailer(t *testing.T, st *store.Store, port int) *mailout.Mailer {
	org := core.Organization{Name: "ООО «Ромашка»", INN: "7707083893", KPP: "773601001"}
	p := &printform.Printer{Quotes: st.Quotes(), Invoices: st.Invoices(), Acts: st.Acts(), Realizations: st.Realizations(),
		Products: st.Products(), Accounts: st.Accounts(), Org: org}
	m, err := mailout.New(mailout.Config{SMTP: mailout.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: mailout.TLSNone,
		From: "reports@romashka.ru", FromName: "crmhub", Timeout: 5 * time.Second}, Backoff: time.Millisecond},
		mailout.Deps{Printer: p, Emails: st.Emails(), Templates: st, Attachments: st, Contacts: st.Contacts(), Accounts: st.Accounts(), Org: org})
	require.NoError(t, err)
	return m
}

// attachment reads a delivered message's subject and its one file.
func attachment(t *testing.T, raw []byte) (subject, text, name string, data []byte) {
	mr, err := gmmail.CreateReader(bytes.NewReader(raw))
	require.NoError(t, err)
	subject, err = mr.Header.Subject()
	require.NoError(t, err)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p.Body)
		require.NoError(t, err)
		switch h := p.Header.(type) {
		case *gmmail.InlineHeader:
			text += string(b)
		case *gmmail.AttachmentHeader:
			name, _ = h.Filename()
			data = b
		}
	}
}

func TestScheduledReportIsMailed(t *testing.T) {
	mail := mailtest.Start(t)
	st := storetest.NewStore(t)
	ctx := context.Background()
	for _, src := range []string{"cold_call", "cold_call", "partner"} {
		_, err := st.Leads().Create(ctx, fields(t, map[string]any{"last_name": "Лид", "company": "ООО", "source": src}))
		require.NoError(t, err)
	}
	user := "boss" + strconv.FormatInt(time.Now().UnixNano(), 36)
	// Weekly on Mondays at 09:00 Moscow time.
	sc, err := st.ReportSchedules().Create(ctx, fields(t, map[string]any{"name": "Понедельничный", "report": "leads-by-source",
		"frequency": "weekly", "weekday": 1, "at": "09:00", "time_zone": "Europe/Moscow", "format": "xlsx",
		"recipients": []string{"Начальник <" + user + "@example.ru>"}}))
	require.NoError(t, err)
	require.NotNil(t, sc.NextRunAt)
	msk, _ := time.LoadLocation("Europe/Moscow")
	next := sc.NextRunAt.In(msk)
	require.Equal(t, time.Monday, next.Weekday())
	require.Equal(t, "09:00", next.Format("15:04"))

	clock := next.Add(time.Minute)
	s := &reportmail.Scheduler{Schedules: st.ReportSchedules(), Reports: st.Reports(), Mailer: mailer(t, st, mail.SMTPPort),
		Location: msk, Now: func() time.Time { return clock }}
	n, err := s.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = s.Tick(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the next run is a week later")
	runs, err := st.ReportSchedules().Runs(ctx, sc.ID, 10)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	run := runs[0]
	require.Equal(t, "sent", run.Status, run.Error)
	require.Equal(t, 2, run.Rows, "two sources")
	require.NotNil(t, run.FinishedAt)
	require.NotNil(t, run.EmailID)
	got, err := st.ReportSchedules().Get(ctx, sc.ID)
	require.NoError(t, err)
	require.Equal(t, next.AddDate(0, 0, 7).UTC(), got.NextRunAt.UTC())

	// The e-mail arrived with the workbook.
	e, err := st.Emails().Get(ctx, *run.EmailID)
	require.NoError(t, err)
	require.Nil(t, e.ActivityID, "a report to colleagues is no customer activity")
	raw, err := mail.Fetch(ctx, user, e.MessageID, 10*time.Second)
	require.NoError(t, err)
	subject, text, name, data := attachment(t, raw)
	require.Contains(t, subject, "Отчёт «Обращения по источникам»")
	require.Contains(t, text, "Количество: 3")
	require.True(t, strings.HasPrefix(name, "leads-by-source-") && strings.HasSuffix(name, ".xlsx"), name)
	f, err := excelize.OpenReader(bytes.NewReader(data))
	require.NoError(t, err)
	v, _ := f.GetCellValue("Отчёт", "A5")
	require.Equal(t, "Холодный звонок", v)
	require.NoError(t, f.Close())

	// A refused recipient fails the run with the server's reason; a run
	// asked for now is recorded too.
	bad, err := st.ReportSchedules().Create(ctx, fields(t, map[string]any{"name": "В никуда", "report": "lead-status",
		"format": "pdf", "recipients": []string{mailtest.RejectedRecipient}}))
	require.NoError(t, err)
	out, err := s.RunNow(ctx, bad.ID)
	require.NoError(t, err)
	require.Equal(t, "failed", out.Status)
	require.Contains(t, out.Error, "550")
	// A schedule whose parameters the report does not take is refused.
	_, err = st.ReportSchedules().Create(ctx, fields(t, map[string]any{"name": "x", "report": "lead-status",
		"recipients": []string{"a@example.ru"}, "parameters": map[string]string{"region": "77"}}))
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	require.Equal(t, "parameters.region", core.ErrorFields(err)[0].Field)
	_, err = st.ReportSchedules().Create(ctx, fields(t, map[string]any{"name": "x", "report": "nope", "recipients": []string{"a@example.ru"}}))
	require.Equal(t, "report", core.ErrorFields(err)[0].Field)
}
