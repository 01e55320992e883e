package store

import (
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// changes are the record's events, each with the one before it for its
// fields' old values: the LATERAL, one probe of outbox_entity_history,
// runs for the page's rows only, the limit applied inside. An event's
// entity_id names one record whatever its kind (ids are UUIDs, a price's
// derived from its book and item), so no condition on entity is needed:
// without one the planner keeps to the indexes even before the outbox is
// analyzed.
func (t *timeline) changes(r timelineRecord) {
	if !t.q.Wants(core.TimelineChange) {
		return
	}
	q := &query{}
	events := t.ordered(q, "o.entity_id, o.id, o.occurred_at, o.type, o.entity_version, o.seq, o.source, o.actor, o.changed, o.data",
		"outbox o WHERE "+r.link(q, "o.entity_id")+" AND o.type NOT LIKE '%.snapshot'", "o.", "occurred_at")
	sql := `SELECT o.entity_id::text, o.id::text, o.occurred_at, o.type, o.entity_version, o.source, o.actor,
		coalesce(o.changed, '{}'), o.data, prev.data FROM (` + events + `) o
		LEFT JOIN LATERAL (SELECT p.data FROM outbox p WHERE p.entity_id = o.entity_id
			AND p.type NOT LIKE '%.snapshot' AND (p.entity_version, p.seq) < (o.entity_version, o.seq)
			ORDER BY p.entity_version DESC, p.seq DESC LIMIT 1) prev ON true
		ORDER BY o.occurred_at DESC, o.id DESC`
	t.sources = append(t.sources, timelineSource{sql: sql, args: q.args, scan: scanChange(r.entity)})
}

// scanChange reads a change of a record of entity: its fields' old
// values from the event before it.
func scanChange(entity string) func(pgx.CollectableRow) (core.TimelineItem, error) {
	return func(row pgx.CollectableRow) (core.TimelineItem, error) {
		it := core.TimelineItem{Kind: core.TimelineChange, Entity: entity}
		var d core.TimelineChangeData
		var actor string
		var changed []string
		var data, before []byte
		if err := scanItem(row, &it, &d.Type, &d.Version, &d.Source, &actor, &changed, &data, &before); err != nil {
			return it, err
		}

		var cur, prev map[string]any
		if err := json.Unmarshal(data, &cur); err != nil {
			return it, err
		}
		if before != nil {
			if err := json.Unmarshal(before, &prev); err != nil {
				return it, err
			}
		}
		d.Changes = fieldChanges(changed, prev, cur)
		it.Actor = eventActor(actor)
		it.Data = d
		return it, nil
	}
}

// eventActor is an event's actor: a user it names directly, or the key or
// session finishTimeline resolves to its user, or a system one.
func eventActor(actor string) core.TimelineActor {
	by, ref := core.EventActor(actor)
	switch by {
	case "":
		return core.TimelineActor{Type: core.ActorSystem, Name: ref}
	case core.ActorByUser:
		return core.TimelineActor{Type: core.ActorUser, ID: ref}
	}
	return core.TimelineActor{Type: by, ID: ref}
}

// notes are the record's live notes.
func (t *timeline) notes(r timelineRecord) {
	if !t.q.Wants(core.TimelineNote) {
		return
	}
	q := &query{}
	from := "notes n WHERE n.entity = " + q.arg(r.entity) + " AND " + r.link(q, "n.record_id") + " AND n.deleted_at IS NULL"
	sel := "n.record_id::text, n.id::text, n.created_at, n.text, n.pinned, n.edited_at, n.author_id::text"
	t.add(q, sel, from, "n.", "", func(row pgx.CollectableRow) (core.TimelineItem, error) {
		it := core.TimelineItem{Kind: core.TimelineNote, Entity: r.entity}
		var d core.TimelineNoteData
		var author *string
		if err := scanItem(row, &it, &d.Text, &d.Pinned, &d.EditedAt, &author); err != nil {
			return it, err
		}
		utcPtr(d.EditedAt)
		it.Actor = userActor(author, "crmhub")
		it.Data = d
		return it, nil
	})
}

// attachments are the record's live files, when the caller may see files.
func (t *timeline) attachments(r timelineRecord) {
	if !t.q.Wants(core.TimelineAttachment) || (t.acc != nil && t.acc.Level(core.EntityAttachment, core.ActView) == core.LevelNone) {
		return
	}
	q := &query{}
	from := "attachments f WHERE f.entity = " + q.arg(r.entity) + " AND " + r.link(q, "f.record_id") + " AND f.deleted_at IS NULL"
	sel := "f.record_id::text, f.id::text, f.created_at, f.file_name, f.content_type, f.size, f.note_id::text, f.source, f.author_id::text"
	t.add(q, sel, from, "f.", "", func(row pgx.CollectableRow) (core.TimelineItem, error) {
		it := core.TimelineItem{Kind: core.TimelineAttachment, Entity: r.entity}
		var d core.TimelineAttachmentData
		var author *string
		if err := scanItem(row, &it, &d.FileName, &d.ContentType, &d.Size, &d.NoteID, &d.Source, &author); err != nil {
			return it, err
		}
		it.Actor = userActor(author, firstNonEmpty(d.Source, "crmhub"))
		it.Data = d
		return it, nil
	})
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func utcPtr(t *time.Time) {
	if t != nil {
		*t = t.UTC()
	}
}

// activities are the activities linked to the record through col, but
// those a call or a sent e-mail records (shown as the call or the
// e-mail); one the mail scanner filed is an inbound e-mail.
func (t *timeline) activities(r timelineRecord, col string) {
	acts := t.q.Wants(core.TimelineActivity)
	mails := t.q.Wants(core.TimelineEmail)
	if !acts && !mails {
		return
	}
	q := &query{}
	from := `activities a LEFT JOIN LATERAL (SELECT m.mailbox FROM mailscan_messages m WHERE m.activity_id = a.id LIMIT 1) m ON true
		WHERE ` + r.link(q, "a."+col) + ` AND a.deleted_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.activity_id = a.id) AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.activity_id = a.id)`
	switch {
	case !mails:
		from += " AND m.mailbox IS NULL"
	case !acts:
		from += " AND m.mailbox IS NOT NULL"
	}
	sel := "a." + col + `::text, a.id::text, a.created_at, a.kind, a.subject, a.status, a.start_at, a.due_at, a.owner_id::text,
		m.mailbox, CASE WHEN m.mailbox IS NOT NULL THEN split_part(a.description, E'\n\n', 1) END`
	t.add(q, sel, from, "a.", core.EntityActivity, func(row pgx.CollectableRow) (core.TimelineItem, error) {
		it := core.TimelineItem{Kind: core.TimelineActivity, Entity: r.entity}
		var d core.TimelineActivityData
		var owner string
		var mailbox, head *string
		if err := scanItem(row, &it, &d.Kind, &d.Subject, &d.Status, &d.StartAt, &d.DueAt, &owner, &mailbox, &head); err != nil {
			return it, err
		}
		d.StartAt = d.StartAt.UTC()
		utcPtr(d.DueAt)

		if mailbox != nil {
			it.Kind = core.TimelineEmail
			it.Actor = core.TimelineActor{Type: core.ActorSystem, Name: "mailscan:" + *mailbox}
			it.Data = inboundEmail(it.ID, d, *head)
			return it, nil
		}
		it.Actor = userActor(&owner, "")
		it.Data = d
		return it, nil
	})
}

// inboundEmail is the e-mail the mail scanner filed as the activity id,
// its addresses read from the head of the activity's description.
func inboundEmail(id string, a core.TimelineActivityData, head string) core.TimelineEmailData {
	from, to, cc := core.MailHead(head)
	at := a.StartAt
	return core.TimelineEmailData{Direction: core.EmailIn, Subject: a.Subject, From: from, To: to, Cc: cc,
		Status: core.EmailReceived, SentAt: &at, ActivityID: &id}
}

// calls are the calls from (its FROM … WHERE, to which the link is added)
// yields whose col names the record.
func (t *timeline) calls(r timelineRecord, col, from string) {
	if !t.q.Wants(core.TimelineCall) {
		return
	}
	q := &query{}
	from += r.link(q, col)
	sel := col + `::text, c.id::text, c.created_at, c.direction, c.from_number, c.to_number, c.started_at, c.duration,
		c.disposition, c.recording_url, c.owner_id::text`
	t.add(q, sel, from, "c.", core.EntityCall, func(row pgx.CollectableRow) (core.TimelineItem, error) {
		it := core.TimelineItem{Kind: core.TimelineCall, Entity: r.entity}
		var d core.TimelineCallData
		var owner string
		if err := scanItem(row, &it, &d.Direction, &d.From, &d.To, &d.StartedAt, &d.Duration, &d.Disposition,
			&d.RecordingURL, &owner); err != nil {
			return it, err
		}
		utcPtr(d.StartedAt)
		it.Actor = userActor(&owner, "")
		it.Data = d
		return it, nil
	})
}

// emails are the e-mails sent about the record: a customer's or a deal's,
// or a document's own.
func (t *timeline) emails(r timelineRecord) {
	if !t.q.Wants(core.TimelineEmail) {
		return
	}
	q := &query{}
	col := "e.document_id"
	var link string
	switch r.entity {
	case core.EntityContact, core.EntityAccount, core.EntityDeal:
		col = "e." + recordLinks[r.entity]
		link = r.link(q, col)
	case core.EntityQuote, core.EntitySalesOrder, core.EntityPurchaseOrder, core.EntityInvoice, core.EntityAct, core.EntityRealization:
		link = r.link(q, col) + " AND e.document_kind = " + q.arg(r.entity)
	default:
		return
	}
	from := "emails e WHERE " + link + " AND e.deleted_at IS NULL"
	sel := col + `::text, e.id::text, e.created_at, e.subject, e.from_addr, e.to_addrs, e.cc_addrs, e.status, e.sent_at,
		e.document_kind, e.document_id::text, e.activity_id::text, e.owner_id::text`
	t.add(q, sel, from, "e.", core.EntityEmail, func(row pgx.CollectableRow) (core.TimelineItem, error) {
		it := core.TimelineItem{Kind: core.TimelineEmail, Entity: r.entity}
		d := core.TimelineEmailData{Direction: core.EmailOut}
		var owner string
		if err := scanItem(row, &it, &d.Subject, &d.From, &d.To, &d.Cc, &d.Status, &d.SentAt, &d.DocumentKind,
			&d.DocumentID, &d.ActivityID, &owner); err != nil {
			return it, err
		}
		utcPtr(d.SentAt)
		it.Actor = userActor(&owner, "")
		it.Data = d
		return it, nil
	})
}

// documentTables are the sales documents' tables: entity → table.
var documentTables = map[string]string{core.EntityQuote: "quotes", core.EntitySalesOrder: "sales_orders",
	core.EntityPurchaseOrder: "purchase_orders", core.EntityInvoice: "invoices", core.EntityAct: "acts",
	core.EntityRealization: "realizations"}

// documentLinks are the kinds of document made from a record of entity
// and the column that names it: a customer's or a deal's documents, a
// quote's orders and invoices, an invoice's acts and realizations.
func documentLinks(entity string) (kinds []string, col string) {
	switch entity {
	case core.EntityDeal, core.EntityAccount, core.EntityContact:
		return []string{core.EntityQuote, core.EntitySalesOrder, core.EntityPurchaseOrder, core.EntityInvoice,
			core.EntityAct, core.EntityRealization}, recordLinks[entity]
	case core.EntityQuote:
		return []string{core.EntitySalesOrder, core.EntityInvoice}, "quote_id"
	case core.EntityInvoice:
		return []string{core.EntityAct, core.EntityRealization}, "invoice_id"
	}
	return nil, ""
}

// documents are the documents made from the record, one source per kind.
func (t *timeline) documents(r timelineRecord) {
	kinds, col := documentLinks(r.entity)
	if !t.q.Wants(core.TimelineDocument) || col == "" {
		return
	}
	for _, kind := range kinds {
		q := &query{}
		from := documentTables[kind] + " d WHERE " + r.link(q, "d."+col) + " AND d.deleted_at IS NULL"
		sel := "d." + col + "::text, d.id::text, d.created_at, d.number, d.date, d.status, d.subject, d.grand_total, d.currency, d.owner_id::text"
		t.add(q, sel, from, "d.", kind, func(row pgx.CollectableRow) (core.TimelineItem, error) {
			it := core.TimelineItem{Kind: core.TimelineDocument, Entity: r.entity}
			d := core.TimelineDocumentData{Kind: kind}
			var owner string
			if err := scanItem(row, &it, &d.Number, &d.Date, &d.Status, &d.Subject, &d.GrandTotal.Decimal, &d.Currency, &owner); err != nil {
				return it, err
			}
			it.Actor = userActor(&owner, "")
			it.Data = d
			return it, nil
		})
	}
}

// payments are the record's payments: a customer's, a document's, and a
// deal's through its invoices.
func (t *timeline) payments(r timelineRecord) {
	if !t.q.Wants(core.TimelinePayment) {
		return
	}
	q := &query{}
	var link string
	switch r.entity {
	case core.EntityAccount, core.EntityContact, core.EntityInvoice, core.EntitySalesOrder, core.EntityPurchaseOrder:
		link = r.link(q, "p."+r.entity+"_id")
	case core.EntityDeal:
		link = "p.invoice_id IN (SELECT i.id FROM invoices i WHERE " + r.link(q, "i.deal_id") + " AND i.deleted_at IS NULL)"
	default:
		return
	}
	from := "payments p WHERE " + link + " AND p.deleted_at IS NULL"
	sel := q.arg(r.ids[0]) + `::text, p.id::text, p.created_at, p.number, p.date, p.direction, p.status, p.amount, p.currency,
		p.method, p.invoice_id::text, p.owner_id::text`
	t.add(q, sel, from, "p.", core.EntityPayment, func(row pgx.CollectableRow) (core.TimelineItem, error) {
		it := core.TimelineItem{Kind: core.TimelinePayment, Entity: r.entity}
		var d core.TimelinePaymentData
		var owner string
		if err := scanItem(row, &it, &d.Number, &d.Date, &d.Direction, &d.Status, &d.Amount.Decimal, &d.Currency,
			&d.Method, &d.InvoiceID, &owner); err != nil {
			return it, err
		}
		it.Actor = userActor(&owner, "")
		it.Data = d
		return it, nil
	})
}
