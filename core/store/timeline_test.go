package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
)

// story is a lead's life up to an e-mailed, paid invoice on the deal it
// was converted into, each step one item of the deal's timeline.
type story struct {
	s                                *store.Store
	ctx                              context.Context // an administrator's API key, no access limits
	userID                           string          // the key's user
	lead, call, activity, note, deal string
	invoice, payment, email          string
}

// tellStory writes the story: a lead, a call from its number, a meeting
// and a note on it, its conversion with a deal, the deal's stage moved, an
// invoice from the deal, a payment of it and its e-mail.
func tellStory(t *testing.T, s *store.Store) *story {
	t.Helper()
	key, _, err := s.CreateAPIKey(context.Background(), "timeline", []core.Scope{core.ScopeAdmin}, "")
	require.NoError(t, err)
	ctx := core.NewContextWithActor(context.Background(), core.Actor{ID: key.ID, Source: "api", UserID: key.UserID})
	st := &story{s: s, ctx: ctx, userID: key.UserID}

	lead, err := s.Leads().Create(ctx, patch(t, `{"last_name":"Петров","company":"ООО Ромашка","phone":"8 912 345-67-89"}`))
	require.NoError(t, err)
	st.lead = lead.ID

	start := time.Now().UTC().Add(-time.Hour)
	dur := 95
	call, _, err := s.ReportCall(ctx, core.CallReport{Provider: "generic", CallID: "tl-1", Direction: "in", From: "+7 912 345-67-89",
		Extension: "101", StartedAt: &start, Duration: &dur, Disposition: "answered", RecordingURL: "https://pbx.example.ru/rec/tl-1.mp3",
		Final: true}, core.CallPolicy{})
	require.NoError(t, err)
	require.Equal(t, lead.ID, *call.LeadID)
	st.call = call.ID

	soon := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
	act, err := s.Activities().Create(ctx, patch(t, `{"kind":"meeting","subject":"Встреча в офисе","start_at":"`+soon+`","end_at":"`+soon+
		`","lead_id":"`+lead.ID+`"}`))
	require.NoError(t, err)
	st.activity = act.ID

	note, err := s.AddNote(ctx, core.EntityLead, lead.ID, core.NoteInput{Text: "Просит счёт на диван"})
	require.NoError(t, err)
	st.note = note.ID

	conv, err := s.Convert(ctx, lead.ID, convReq(t, "", "", `{"amount":"250000"}`))
	require.NoError(t, err)
	st.deal = conv.Deal.ID

	_, err = s.Deals().Update(ctx, st.deal, 0, patch(t, `{"stage":"qualification"}`))
	require.NoError(t, err)
	st.moneyAndMail(t, conv)
	return st
}

// moneyAndMail adds the invoice from the deal, its payment and its
// e-mail, sent.
func (st *story) moneyAndMail(t *testing.T, conv *core.Conversion) {
	t.Helper()
	s, ctx := st.s, st.ctx
	inv, err := s.Invoices().Create(ctx, patch(t, fmt.Sprintf(`{"deal_id":%q,"account_id":%q,"contact_id":%q,
		"lines":[{"name":"Диван","price":"1000"}]}`, st.deal, conv.Account.ID, conv.Contact.ID)))
	require.NoError(t, err)
	st.invoice = inv.ID

	pay, err := s.Payments().Create(ctx, patch(t, `{"invoice_id":"`+inv.ID+`","amount":"500","method":"bank_transfer"}`))
	require.NoError(t, err)
	st.payment = pay.ID

	dealID := st.deal
	e, _, err := s.Emails().Queue(ctx, core.QueuedEmail{Email: core.EmailMessage{DocumentKind: core.EntityInvoice, DocumentID: inv.ID,
		Form: "invoice", From: "sales@romashka.ru", To: []string{"petrov@example.ru"}, Subject: "Счёт " + inv.Number, Body: "Добрый день",
		DealID: &dealID, AccountID: &conv.Account.ID, ContactID: &conv.Contact.ID}}, time.Minute)
	require.NoError(t, err)
	_, err = s.Emails().RecordAttempt(ctx, e.ID, core.EmailOutcome{Sent: true}, 3)
	require.NoError(t, err)
	st.email = e.ID
}

// kinds lists the items as kind:entity, or kind:entity:type for changes.
func kinds(items []core.TimelineItem) []string {
	out := []string{}
	for _, it := range items {
		k := it.Kind + ":" + it.Entity
		if ch, ok := it.Data.(core.TimelineChangeData); ok {
			k += ":" + ch.Type
		}
		out = append(out, k)
	}
	return out
}

// walk reads a timeline page by page.
func walk(ctx context.Context, t *testing.T, s *store.Store, entity, id string, q core.TimelineQuery) []core.TimelineItem {
	t.Helper()
	var all []core.TimelineItem
	for range 100 {
		page, err := s.Timeline(ctx, entity, id, q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Items), q.PageSize())
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		q.Cursor = page.NextCursor
	}
	t.Fatal("the timeline does not end")
	return nil
}

func TestTimelineOfAConvertedLeadsDeal(t *testing.T) {
	t.Parallel()
	st := tellStory(t, storetest.NewStore(t))
	s, ctx := st.s, st.ctx

	page, err := s.Timeline(ctx, core.EntityDeal, st.deal, core.TimelineQuery{})
	require.NoError(t, err)
	require.Empty(t, page.NextCursor)
	want := []string{"email:deal", "payment:deal", "document:deal", "change:deal:deal.updated", "change:lead:lead.updated",
		"change:deal:deal.created", "note:lead", "activity:lead", "call:lead", "change:lead:lead.created"}
	require.Equal(t, want, kinds(page.Items))

	t.Run("Items", func(t *testing.T) { requireStoryItems(t, st, page.Items) })

	t.Run("PagesHoldEveryItemOnceInOrder", func(t *testing.T) {
		for _, limit := range []int{1, 3, 4} {
			require.Equal(t, want, kinds(walk(ctx, t, s, core.EntityDeal, st.deal, core.TimelineQuery{Limit: limit})), "limit %d", limit)
		}
	})

	t.Run("Kinds", func(t *testing.T) {
		got := walk(ctx, t, s, core.EntityDeal, st.deal, core.TimelineQuery{Kinds: []string{core.TimelineChange, core.TimelineCall}, Limit: 2})
		require.Equal(t, []string{"change:deal:deal.updated", "change:lead:lead.updated", "change:deal:deal.created", "call:lead",
			"change:lead:lead.created"}, kinds(got))
	})

	t.Run("TheContactAndTheAccountTellTheLeadsStoryToo", func(t *testing.T) {
		var contact, account string
		require.NoError(t, s.Pool().QueryRow(ctx, `SELECT converted_contact_id::text, converted_account_id::text FROM leads WHERE id = $1`,
			st.lead).Scan(&contact, &account))
		got := walk(ctx, t, s, core.EntityContact, contact, core.TimelineQuery{Kinds: []string{core.TimelineActivity, core.TimelineCall, core.TimelineNote}})
		require.Equal(t, []string{"note:lead", "activity:contact", "call:lead"}, kinds(got), "the relinked meeting once, as the contact's")
		got = walk(ctx, t, s, core.EntityAccount, account, core.TimelineQuery{Kinds: []string{core.TimelineDocument, core.TimelinePayment, core.TimelineEmail}})
		require.Equal(t, []string{"email:account", "payment:account", "document:account"}, kinds(got))
	})

	t.Run("TheInvoicesOwnTimeline", func(t *testing.T) {
		got := walk(ctx, t, s, core.EntityInvoice, st.invoice, core.TimelineQuery{})
		require.Equal(t, []string{"email:invoice", "change:invoice:invoice.updated", "payment:invoice", "change:invoice:invoice.created"},
			kinds(got), "the payment changed what the invoice has paid")
	})
}

// requireStoryItems checks what the items of the story's deal carry.
func requireStoryItems(t *testing.T, st *story, items []core.TimelineItem) {
	t.Helper()
	byKind := map[string]core.TimelineItem{}
	for _, it := range items {
		byKind[it.Kind] = it
	}
	call := byKind[core.TimelineCall]
	require.Equal(t, st.call, call.ID)
	require.Equal(t, st.lead, call.RecordID)
	require.Equal(t, "https://pbx.example.ru/rec/tl-1.mp3", call.Data.(core.TimelineCallData).RecordingURL)
	require.Equal(t, 95, call.Data.(core.TimelineCallData).Duration)

	require.Equal(t, st.activity, byKind[core.TimelineActivity].ID)
	require.Equal(t, "meeting", byKind[core.TimelineActivity].Data.(core.TimelineActivityData).Kind)
	require.Equal(t, st.note, byKind[core.TimelineNote].ID)
	require.Equal(t, "Просит счёт на диван", byKind[core.TimelineNote].Data.(core.TimelineNoteData).Text)
	require.Equal(t, core.TimelineActor{Type: core.ActorUser, ID: st.userID, Name: "Administrator"}, byKind[core.TimelineNote].Actor)

	doc := byKind[core.TimelineDocument].Data.(core.TimelineDocumentData)
	require.Equal(t, core.EntityInvoice, doc.Kind)
	require.Equal(t, "1220.00", doc.GrandTotal.StringFixed(2))
	require.Equal(t, "500.00", byKind[core.TimelinePayment].Data.(core.TimelinePaymentData).Amount.StringFixed(2))
	mail := byKind[core.TimelineEmail].Data.(core.TimelineEmailData)
	require.Equal(t, core.EmailOut, mail.Direction)
	require.Equal(t, core.EmailSent, mail.Status)
	require.NotNil(t, mail.ActivityID, "its activity is not shown apart")

	stage := items[3]
	require.Equal(t, core.TimelineActor{Type: core.ActorUser, ID: st.userID, Name: "Administrator"}, stage.Actor, "the key's user")
	require.Contains(t, stage.Data.(core.TimelineChangeData).Changes, core.FieldChange{Field: "stage", From: "prospecting", To: "qualification"})
}

func TestTimelineAccess(t *testing.T) {
	t.Parallel()
	st := tellStory(t, storetest.NewStore(t))
	s, ctx := st.s, st.ctx
	user := func(name string) string {
		u, err := s.Users().Create(ctx, patch(t, fmt.Sprintf(`{"name":%q}`, name)))
		require.NoError(t, err)
		return u.ID
	}
	manager, other := user("Менеджер"), user("Коллега")
	_, err := s.AddShare(ctx, core.EntityDeal, st.deal, core.ShareInput{UserID: manager, Access: "read"})
	require.NoError(t, err)
	mine, err := s.Activities().Create(ctx, patch(t, `{"kind":"task","subject":"Моя задача","start_at":"2026-12-01T10:00:00Z",
		"due_at":"2026-12-02T10:00:00Z","deal_id":"`+st.deal+`","owner_id":"`+manager+`"}`))
	require.NoError(t, err)
	_, err = s.Activities().Create(ctx, patch(t, `{"kind":"task","subject":"Чужая задача","start_at":"2026-12-01T10:00:00Z",
		"due_at":"2026-12-02T10:00:00Z","deal_id":"`+st.deal+`","owner_id":"`+other+`"}`))
	require.NoError(t, err)
	acc, err := s.Access(ctx, manager, core.ScopeWrite)
	require.NoError(t, err)
	as := core.NewContextWithAccess(ctx, acc)

	t.Run("OnlyWhatTheyMaySee", func(t *testing.T) {
		got := walk(as, t, s, core.EntityDeal, st.deal, core.TimelineQuery{})
		require.Equal(t, []string{"activity:deal", "change:deal:deal.updated", "change:deal:deal.created"}, kinds(got),
			"neither the lead they may not see nor the others' activities, documents, payments and e-mails")
		require.Equal(t, mine.ID, got[0].ID)
	})

	t.Run("HiddenFieldsLeaveTheChanges", func(t *testing.T) {
		hiding := *acc
		hiding.Fields = core.FieldRules{core.EntityDeal: {"stage": core.FieldHidden}}
		got := walk(core.NewContextWithAccess(ctx, &hiding), t, s, core.EntityDeal, st.deal, core.TimelineQuery{Kinds: []string{core.TimelineChange}})
		for _, it := range got {
			for _, c := range it.Data.(core.TimelineChangeData).Changes {
				require.NotEqual(t, "stage", c.Field)
			}
		}
		require.Len(t, got, 2, "the change stays, without the field")
	})

	t.Run("AnInvisibleRecordIsNotFound", func(t *testing.T) {
		_, err := s.Timeline(as, core.EntityLead, st.lead, core.TimelineQuery{})
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
		_, err = s.Timeline(ctx, core.EntityDeal, "0190a5c0-0000-7000-8000-000000000000", core.TimelineQuery{})
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
		_, err = s.Timeline(ctx, core.EntityDeal, "nope", core.TimelineQuery{})
		require.Equal(t, core.ENOTFOUND, core.ErrorCode(err))
	})

	t.Run("ABadQueryIsInvalid", func(t *testing.T) {
		_, err := s.Timeline(ctx, core.EntityDeal, st.deal, core.TimelineQuery{Cursor: "x"})
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
		_, err = s.Timeline(ctx, core.EntityDeal, st.deal, core.TimelineQuery{Kinds: []string{"tweet"}})
		require.Equal(t, core.EINVALID, core.ErrorCode(err))
	})
}

// batchRecorder keeps the statements of the batches a pool sends.
type batchRecorder struct {
	mu      sync.Mutex
	queries []pgx.TraceBatchQueryData
}

func (r *batchRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (r *batchRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *batchRecorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (r *batchRecorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (r *batchRecorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queries = append(r.queries, d)
}

// take returns the statements recorded since the last take.
func (r *batchRecorder) take() []pgx.TraceBatchQueryData {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.queries
	r.queries = nil
	return out
}

// tracedStore is storetest.NewStore whose batches rec records.
func tracedStore(t testing.TB) (*store.Store, *batchRecorder) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(storetest.NewDatabase(t))
	require.NoError(t, err)
	rec := &batchRecorder{}
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := store.New(pool, nil)
	t.Cleanup(s.Close)
	_, _, err = s.EnsureAdmin(context.Background(), "Administrator")
	require.NoError(t, err)
	_, err = s.Pipelines().Ensure(context.Background(), []core.Pipeline{core.DefaultPipeline()})
	require.NoError(t, err)
	return s, rec
}

// sortedSources are the sources no index delivers in order, each
// reading every row of its link: a deal's calls (through its
// activities) and payments (through its invoices).
var sortedSources = []string{"JOIN activities a ON a.id = c.activity_id", "p.invoice_id IN (SELECT"}

// planNodes returns the node types of a JSON plan, with the index each
// index scan uses.
func planNodes(node map[string]any) []string {
	out := []string{fmt.Sprint(node["Node Type"])}
	if ix, ok := node["Index Name"]; ok {
		out[0] += " " + fmt.Sprint(ix)
	}
	if subs, ok := node["Plans"].([]any); ok {
		for _, sub := range subs {
			out = append(out, planNodes(sub.(map[string]any))...)
		}
	}
	return out
}

// Every source query of a timeline page reads its rows from an index in
// the page's order: no sequential scan, no sort of the rows read (with
// both costed out, as a large table would), but for the sorted sources.
func TestTimelineSourcesUseIndexes(t *testing.T) {
	t.Parallel()
	s, rec := tracedStore(t)
	st := tellStory(t, s)
	var contact, account string
	require.NoError(t, s.Pool().QueryRow(st.ctx, `SELECT converted_contact_id::text, converted_account_id::text FROM leads WHERE id = $1`,
		st.lead).Scan(&contact, &account))
	var quote string
	q, err := s.Quotes().Create(st.ctx, patch(t, `{"deal_id":"`+st.deal+`","lines":[{"name":"Диван","price":"1000"}]}`))
	require.NoError(t, err)
	quote = q.ID
	rec.take()

	conn, err := s.Pool().Acquire(st.ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(st.ctx, "SET enable_seqscan = off; SET enable_sort = off; SET enable_bitmapscan = off")
	require.NoError(t, err)
	defer conn.Exec(context.Background(), "RESET ALL") //nolint:errcheck // the connection goes back to a test pool

	for _, r := range [][2]string{{core.EntityDeal, st.deal}, {core.EntityContact, contact}, {core.EntityAccount, account},
		{core.EntityLead, st.lead}, {core.EntityQuote, quote}, {core.EntityInvoice, st.invoice}} {
		page, err := s.Timeline(st.ctx, r[0], r[1], core.TimelineQuery{Limit: 1})
		require.NoError(t, err)
		_, err = s.Timeline(st.ctx, r[0], r[1], core.TimelineQuery{Limit: 1, Cursor: page.NextCursor})
		require.NoError(t, err)
		for _, query := range rec.take() {
			var plan []map[string]any
			require.NoError(t, conn.QueryRow(st.ctx, "EXPLAIN (FORMAT JSON) "+query.SQL, query.Args...).Scan(&plan))
			nodes := planNodes(plan[0]["Plan"].(map[string]any))
			t.Logf("%s: %s\n%v", r[0], query.SQL[:min(len(query.SQL), 60)], nodes)
			for _, n := range nodes {
				require.NotContains(t, n, "Seq Scan", query.SQL)
				if !slices.ContainsFunc(sortedSources, func(s string) bool { return strings.Contains(query.SQL, s) }) {
					require.NotEqual(t, "Sort", n, query.SQL) // an incremental sort only orders rows of one version
				}
			}
		}
	}
}

// A message the mail scanner filed is an e-mail in on the record's
// timeline, its addresses read from its activity; its file is the
// record's attachment.
func TestTimelineInboundMail(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	contact, err := s.Contacts().Create(ctx, patch(t, `{"last_name":"Петров","email":"petrov@example.ru"}`))
	require.NoError(t, err)
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	res, err := s.IngestMail(ctx, core.MailOrigin{Mailbox: "sales", Folder: "INBOX", UIDValidity: 1, UID: 1},
		&core.InboundMail{MessageID: "q1@example.ru", FromName: "Иван Петров", From: "petrov@example.ru",
			To: []string{"sales@romashka.ru"}, Cc: []string{"boss@romashka.ru"}, Subject: "Вопрос по счёту", Date: at, Text: "Добрый день",
			Attachments: []core.FormFile{{Name: "реквизиты.txt", ContentType: "text/plain", Data: []byte("ИНН 7707083893")}}},
		[]core.MailStep{{Action: core.MailLinkFrom}})
	require.NoError(t, err)
	require.Equal(t, "attached", res.Outcome)

	got := walk(ctx, t, s, core.EntityContact, contact.ID, core.TimelineQuery{Kinds: []string{core.TimelineEmail, core.TimelineAttachment}})
	require.Equal(t, []string{"attachment:contact", "email:contact"}, kinds(got))
	mail := got[1]
	require.Equal(t, res.ActivityID, mail.ID)
	require.Equal(t, core.TimelineActor{Type: core.ActorSystem, Name: "mailscan:sales"}, mail.Actor)
	require.Equal(t, core.TimelineEmailData{Direction: core.EmailIn, Subject: "Вопрос по счёту", From: "Иван Петров <petrov@example.ru>",
		To: []string{"sales@romashka.ru"}, Cc: []string{"boss@romashka.ru"}, Status: core.EmailReceived, SentAt: &at,
		ActivityID: &res.ActivityID}, mail.Data)
	file := got[0].Data.(core.TimelineAttachmentData)
	require.Equal(t, "реквизиты.txt", file.FileName)
	require.Equal(t, core.TimelineActor{Type: core.ActorSystem, Name: "mailscan:sales"}, got[0].Actor)

	acts := walk(ctx, t, s, core.EntityContact, contact.ID, core.TimelineQuery{Kinds: []string{core.TimelineActivity}})
	require.Empty(t, acts, "the message's activity is the e-mail")
}

// An account two leads were converted into tells both their stories.
func TestTimelineOfAnAccountOfTwoLeads(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	var leads, notes []string
	account := ""
	for i, name := range []string{"Первый", "Второй"} {
		lead, err := s.Leads().Create(ctx, patch(t, `{"last_name":"`+name+`","company":"ООО Ромашка"}`))
		require.NoError(t, err)
		note, err := s.AddNote(ctx, core.EntityLead, lead.ID, core.NoteInput{Text: "Заметка: " + name})
		require.NoError(t, err)
		req := convReq(t, "", "", "")
		if i > 0 {
			req = convReq(t, `{"id":"`+account+`"}`, "", "")
		}
		conv, err := s.Convert(ctx, lead.ID, req)
		require.NoError(t, err)
		account = conv.Account.ID
		leads = append([]string{lead.ID}, leads...)
		notes = append([]string{note.ID}, notes...)
	}

	got := walk(ctx, t, s, core.EntityAccount, account, core.TimelineQuery{Kinds: []string{core.TimelineNote}, Limit: 1})
	require.Equal(t, []string{"note:lead", "note:lead"}, kinds(got))
	require.Equal(t, notes, []string{got[0].ID, got[1].ID}, "newest first")
	require.Equal(t, leads, []string{got[0].RecordID, got[1].RecordID})
}
