package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// OpSnapshot names the events of a resync: a record's current state.
const OpSnapshot = "snapshot"

// Resync writes a "<kind>.snapshot" event with the current state of every
// live record of entity changed since since (all, when zero) to the
// outbox, for the relay to publish: a new consumer bootstraps from them.
// Snapshots carry the record's version, so a consumer keeps whichever of a
// snapshot and a change is newer. It returns how many it wrote.
func (s *Store) Resync(ctx context.Context, entity string, since time.Time) (int, error) {
	switch entity {
	case core.EntityLead:
		return s.resync(ctx, entity, tablePages(s, s.tables.lead, since))
	case core.EntityAccount:
		return s.resync(ctx, entity, tablePages(s, s.tables.account, since))
	case core.EntityContact:
		return s.resync(ctx, entity, tablePages(s, s.tables.contact, since))
	case core.EntityDeal:
		return s.resync(ctx, entity, tablePages(s, s.tables.deal, since))
	case core.EntityActivity:
		return s.resync(ctx, entity, tablePages(s, s.tables.activity, since))
	case core.EntityUser:
		return s.resync(ctx, entity, tablePages(s, s.tables.user, since))
	case core.EntityPipeline:
		return s.resync(ctx, entity, tablePages(s, s.tables.pipeline, since))
	case core.EntityProduct:
		return s.resync(ctx, entity, tablePages(s, s.tables.product, since))
	case core.EntityService:
		return s.resync(ctx, entity, tablePages(s, s.tables.service, since))
	case core.EntityProductGroup:
		return s.resync(ctx, entity, tablePages(s, s.tables.productGroup, since))
	case core.EntityPriceBook:
		return s.resync(ctx, entity, tablePages(s, s.tables.priceBook, since))
	case core.EntityQuote:
		return s.resync(ctx, entity, tablePages(s, s.tables.quote, since))
	case core.EntitySalesOrder:
		return s.resync(ctx, entity, tablePages(s, s.tables.salesOrder, since))
	case core.EntityPurchaseOrder:
		return s.resync(ctx, entity, tablePages(s, s.tables.purchaseOrder, since))
	case core.EntityInvoice:
		return s.resync(ctx, entity, tablePages(s, s.tables.invoice, since))
	case core.EntityAct:
		return s.resync(ctx, entity, tablePages(s, s.tables.act, since))
	case core.EntityRealization:
		return s.resync(ctx, entity, tablePages(s, s.tables.realization, since))
	case core.EntityPayment:
		return s.resync(ctx, entity, tablePages(s, s.tables.payment, since))
	case core.EntityEmail:
		return s.resync(ctx, entity, tablePages(s, s.tables.email, since))
	case core.EntityReport:
		return s.resync(ctx, entity, tablePages(s, s.tables.report, since))
	case core.EntityReportSchedule:
		return s.resync(ctx, entity, tablePages(s, s.tables.reportSchedule, since))
	case core.EntityCall:
		return s.resync(ctx, entity, func(ctx context.Context, after string) ([]snapshot, error) {
			rows, err := s.pool.Query(ctx, `SELECT `+callColumns+` FROM calls WHERE updated_at >= $1 AND id > $2 ORDER BY id LIMIT 1000`,
				since, after)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, func(row pgx.CollectableRow) (snapshot, error) {
				c, err := scanCall(row)
				if err != nil {
					return snapshot{}, err
				}
				return snapshot{id: c.ID, version: c.Version, rec: c}, nil
			})
		})
	}
	return 0, core.Errorf(core.EINVALID, "unknown entity %q: lead, account, contact, deal, activity, user, pipeline, call, "+
		"product, service, product_group, price_book, quote, sales_order, purchase_order, invoice, act, realization, payment, email, "+
		"report or report_schedule", entity)
}

// snapshot is one record's current state for a resync.
type snapshot struct {
	id      string
	version int64
	rec     any
}

// tablePages pages through a table's live records changed since since.
func tablePages[E any, P recordPtr[E]](s *Store, t *table[E, P], since time.Time) func(ctx context.Context, after string) ([]snapshot, error) {
	return func(ctx context.Context, after string) ([]snapshot, error) {
		rows, err := s.pool.Query(ctx, t.selectSQL+` WHERE deleted_at IS NULL AND updated_at >= $1 AND id > $2 ORDER BY id LIMIT 1000`,
			since, after)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (snapshot, error) {
			rec, err := t.scan(row)
			if err != nil {
				return snapshot{}, err
			}
			return snapshot{id: rec.Base().ID, version: rec.Base().Version, rec: rec}, nil
		})
	}
}

// resync writes snapshot events for every record page returns, a page
// (in id order, after the last id) at a time, with COPY.
func (s *Store) resync(ctx context.Context, entity string, page func(ctx context.Context, after string) ([]snapshot, error)) (int, error) {
	a := core.ActorFromContext(ctx)
	last, total := "00000000-0000-0000-0000-000000000000", 0
	for {
		recs, err := page(ctx, last)
		if err != nil || len(recs) == 0 {
			return total, wrap("resync "+entity, err)
		}
		batch := make([][]any, len(recs))
		now := s.now()
		for i, rec := range recs {
			data, err := json.Marshal(rec.rec)
			if err != nil {
				return total, wrap("resync "+entity, err)
			}
			batch[i] = []any{uuid.Must(uuid.NewV7()).String(), core.EventType(entity, OpSnapshot), entity, rec.id, rec.version,
				now, a.Source, a.ID, core.CorrelationIDFromContext(ctx), string(data)}
			last = rec.id
		}
		_, err = s.pool.CopyFrom(ctx, pgx.Identifier{"outbox"},
			[]string{"id", "type", "entity", "entity_id", "entity_version", "occurred_at", "source", "actor", "correlation_id", "data"},
			pgx.CopyFromRows(batch))
		if err != nil {
			return total, fmt.Errorf("resync %s: %w", entity, err)
		}
		s.notify.poke()
		total += len(recs)
	}
}

// StreamStatus is the state of the change stream as the database sees it.
type StreamStatus struct {
	Backlog           int64      // events not yet published
	OldestUnpublished *time.Time // when the oldest of them happened
	LastPublished     *time.Time // when the newest published event was published
	LastPublishedType string
	DeadLetters       int64 // inbound commands set aside
	Applied           int64 // inbound commands applied
	// RelayDeadLetters are change events the stream refused for good,
	// RelayHeld the later events of their records waiting behind them.
	RelayDeadLetters, RelayHeld int64
	Offsets                     map[string]int64 // "group topic/partition" -> next offset
}

// StreamStatus reads the stream's state.
func (s *Store) StreamStatus(ctx context.Context) (*StreamStatus, error) {
	st := &StreamStatus{Offsets: map[string]int64{}}
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(occurred_at) FROM outbox_pending`).Scan(&st.Backlog, &st.OldestUnpublished)
	if err != nil {
		return nil, wrap("stream status", err)
	}
	var at time.Time
	var typ string
	err = s.pool.QueryRow(ctx, `SELECT r.published_at, o.type FROM outbox_relay r JOIN outbox o ON o.seq <= r.cursor
		WHERE r.published_at IS NOT NULL ORDER BY o.seq DESC LIMIT 1`).Scan(&at, &typ)
	switch {
	case err == nil:
		st.LastPublished = &at
		st.LastPublishedType = typ
	case err != pgx.ErrNoRows:
		return nil, wrap("stream status", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM command_dead_letters),
		(SELECT count(*) FROM inbound_commands WHERE status = 'applied')`).Scan(&st.DeadLetters, &st.Applied); err != nil {
		return nil, wrap("stream status", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE held_behind IS NULL), count(*) FILTER (WHERE held_behind IS NOT NULL)
		FROM outbox_dead_letters`).Scan(&st.RelayDeadLetters, &st.RelayHeld); err != nil {
		return nil, wrap("stream status", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT "group", topic, partition, next_offset FROM stream_offsets ORDER BY 1, 2, 3`)
	if err != nil {
		return nil, wrap("stream status", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g, topic string
		var p int32
		var o int64
		if err := rows.Scan(&g, &topic, &p, &o); err != nil {
			return nil, wrap("stream status", err)
		}
		st.Offsets[fmt.Sprintf("%s %s/%d", g, topic, p)] = o
	}
	return st, wrap("stream status", rows.Err())
}
