// Package store is crmhub's PostgreSQL implementation of the core service
// interfaces, through pgx/v5.
//
// Every write to a CRM record goes through Store.write, which queues the
// record's outbox event in the same implicit or explicit transaction; no
// exported method writes a record any other way.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/outbox"
)

// Store implements the core services on a pgx pool.
type Store struct {
	pool      *pgxpool.Pool
	conn      dbtx // pool, as the methods use it: not reaching PostgreSQL is EUNAVAILABLE
	mapping   core.ConversionMapping
	dupPolicy core.DuplicatePolicy
	batch     *batcher
	notify    *notifier
	tables    tables
	log       *slog.Logger
	now       func() time.Time
	keys      keyCache
	access    accessCache           // resolved accesses of users (auth.go)
	fields    fieldCache            // custom field definitions (customfield.go)
	kinds     map[string]customKind // the kinds with custom fields (customize)
	numbering map[string]core.NumberFormat
	// paidOnFull moves a fully paid invoice to paid.
	paidOnFull bool
	// closing is how closing documents bill an invoice's shipping.
	closing core.ClosingRules
	// organization is ours, frozen into documents as they are issued.
	organization core.Organization
	// reportReg is what reports may name; reportLimits bound their runs.
	reportReg    map[string]*rEntity
	reportLimits reportLimits
	// attachMax is the largest upload (SetAttachments); blobs, when set,
	// keeps uploads' bytes.
	attachMax int64
	blobs     core.BlobStore
	// forms lets one delivery of a form submission at a time be captured
	// (a repeat that arrives meanwhile waits, then finds it done).
	forms keyedLock
	// admin remembers the first administrator, the default owner.
	admin struct {
		mu sync.Mutex
		id string
		at time.Time
	}
}

// tables are the record kinds' table mappings, built once per store.
type tables struct {
	lead     *table[core.Lead, *core.Lead]
	account  *table[core.Account, *core.Account]
	contact  *table[core.Contact, *core.Contact]
	user     *table[core.User, *core.User]
	pipeline *table[core.Pipeline, *core.Pipeline]
	deal     *table[core.Deal, *core.Deal]
	activity *table[core.Activity, *core.Activity]

	product      *table[core.Product, *core.Product]
	service      *table[core.Service, *core.Service]
	productGroup *table[core.ProductGroup, *core.ProductGroup]
	priceBook    *table[core.PriceBook, *core.PriceBook]
	quote        *table[core.Quote, *core.Quote]
	invoice      *table[core.Invoice, *core.Invoice]
	payment      *table[core.Payment, *core.Payment]
	act          *table[core.Act, *core.Act]
	realization  *table[core.Realization, *core.Realization]

	salesOrder     *table[core.SalesOrder, *core.SalesOrder]
	purchaseOrder  *table[core.PurchaseOrder, *core.PurchaseOrder]
	email          *table[core.EmailMessage, *core.EmailMessage]
	report         *table[core.Report, *core.Report]
	reportSchedule *table[core.ReportSchedule, *core.ReportSchedule]
	role           *table[core.Role, *core.Role]
	team           *table[core.Team, *core.Team]
}

var (
	_ core.APIKeyService = (*Store)(nil)
	_ core.Idempotency   = (*Store)(nil)
)

// New returns a store on pool.
func New(pool *pgxpool.Pool, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{pool: pool, log: log, now: now, keys: keyCache{m: map[string]cachedKey{}},
		mapping: core.DefaultConversionMapping(), numbering: core.DefaultNumbering(), paidOnFull: true,
		closing: core.DefaultClosingRules(),
		batch:   newBatcher(pool, batchWorkers, batchMax),
		notify:  newNotifier(pool),
		tables: tables{lead: newLeadTable(), account: newAccountTable(), contact: newContactTable(),
			user: newUserTable(), pipeline: newPipelineTable(), product: newProductTable(), service: newServiceTable(),
			productGroup: newProductGroupTable(), priceBook: newPriceBookTable(),
			role: newRoleTable(), team: newTeamTable()}}
	s.conn = guarded{pool}
	s.tables.deal = s.newDealTable()
	s.tables.activity = s.newActivityTable()
	s.tables.quote = s.newQuoteTable()
	s.tables.invoice = s.newInvoiceTable()
	s.tables.payment = s.newPaymentTable()
	s.tables.act = s.newActTable()
	s.tables.realization = s.newRealizationTable()
	s.tables.salesOrder = s.newSalesOrderTable()
	s.tables.purchaseOrder = s.newPurchaseOrderTable()
	s.tables.email = newEmailTable()
	s.reportReg = reportRegistry()
	s.tables.report = s.newReportTable()
	s.tables.reportSchedule = s.newReportScheduleTable()
	s.kinds = map[string]customKind{}
	customize(s, s.tables.lead)
	customize(s, s.tables.contact)
	customize(s, s.tables.account)
	customize(s, s.tables.deal)
	customize(s, s.tables.activity)
	customize(s, s.tables.product)
	customize(s, s.tables.service)
	customize(s, s.tables.quote)
	customize(s, s.tables.salesOrder)
	customize(s, s.tables.invoice)
	customize(s, s.tables.act)
	customize(s, s.tables.realization)
	customize(s, s.tables.payment)
	return s
}

// Group commit: workers each gather up to batchMax concurrent creates.
const (
	batchWorkers = 2
	batchMax     = 64
)

// Close finishes queued writes and stops the store's workers; call it
// before closing the pool.
func (s *Store) Close() {
	s.batch.close()
	s.notify.close()
}

// now returns the current time at the database's precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Pool returns the underlying pool (for health checks and metrics).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// dbtx is what both *pgxpool.Pool and pgx.Tx provide.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

// txKey carries a transaction in the context for one reason: code outside
// the store that composes calls of the core service interfaces, which take
// no transaction, into one (Atomically's and Idempotency's functions).
// Store code passes its transaction explicitly (writeOpts.tx, a tx or db
// parameter) and never puts one here; s.db(ctx) and s.inTx(ctx) read it
// so that a service call made in such a function joins its transaction.
type txKey struct{}

// withTx returns ctx carrying tx, for Atomically's and Idempotency's
// functions (see txKey).
func withTx(ctx context.Context, tx pgx.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// db returns the transaction carried by ctx, or the pool.
func (s *Store) db(ctx context.Context) dbtx {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx
	}
	return s.conn
}

// inTx runs fn in a transaction: a savepoint inside the ctx's transaction
// when there is one, else a new transaction.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.inTxOn(ctx, s.db(ctx), fn)
}

// inTxOn runs fn in a transaction on outer: a savepoint when outer is a
// transaction, else a new transaction.
func (s *Store) inTxOn(ctx context.Context, outer dbtx, fn func(tx pgx.Tx) error) error {
	tx, err := outer.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if _, savepoint := outer.(pgx.Tx); !savepoint {
		s.notify.poke() // it may have written events
	}
	return nil
}

// mutation is one write to a CRM record together with its event.
type mutation struct {
	sql     string
	args    []any
	entity  string
	op      string
	id      string
	version int64
	data    any          // the record after the change
	changed []string     // for updates
	extra   []queuedStmt // more statements of the same transaction
	// wantRows is the number of rows the statement must affect (1).
	wantRows int64
}

// write runs a mutation and inserts its outbox event in one transaction:
// the explicit one in db; else the implicit transaction PostgreSQL opens for
// a pipeline ending in one Sync, shared with other concurrent creates by
// the batcher. It is the only way records are written.
func (s *Store) write(ctx context.Context, db dbtx, m mutation) error {
	data, err := json.Marshal(m.data)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", m.entity, m.id, err)
	}
	if err := core.CheckRecordSize(m.entity, len(data)); err != nil {
		return err
	}
	ev := outbox.NewEvent(ctx, m.entity, m.op, m.id, m.version, data, m.changed, s.now())
	evSQL, evArgs := outbox.Insert(ev)
	stmts := append(append([]queuedStmt{{m.sql, m.args}}, m.extra...), queuedStmt{evSQL, evArgs})
	var tags []pgconn.CommandTag
	if _, inTx := db.(pgx.Tx); !inTx && m.op == core.OpCreated {
		// Inserts cannot miss their row, so they may share a transaction.
		tags, err = s.batch.exec(ctx, stmts)
	} else {
		tags, err = execAlone(ctx, db, &pendingWrite{stmts: stmts})
	}
	if err == nil && tags[0].RowsAffected() != m.wantRows {
		err = core.Errorf(core.ECONFLICT, "the %s changed concurrently; retry", m.entity)
	}
	if err != nil {
		return translate(err, m.entity)
	}
	if _, inTx := db.(pgx.Tx); !inTx {
		s.notify.poke() // committed: the statements ran in an implicit transaction
	}
	return nil
}

// emit records the event of a change already made in tx (for writes that
// are not one statement on one record's row).
func (s *Store) emit(ctx context.Context, tx pgx.Tx, entity, op, id string, version int64, data any) error {
	return s.emitChanged(ctx, tx, entity, op, id, version, data, nil)
}

// emitChanged is emit of an update that changed the named fields.
func (s *Store) emitChanged(ctx context.Context, tx pgx.Tx, entity, op, id string, version int64, data any, changed []string) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", entity, id, err)
	}
	if err := core.CheckRecordSize(entity, len(b)); err != nil {
		return err
	}
	sql, args := outbox.Insert(outbox.NewEvent(ctx, entity, op, id, version, b, changed, s.now()))
	_, err = tx.Exec(ctx, sql, args...)
	return err
}

// wrap names the operation op in err, so that an error leaving the store
// says what failed: "report call batch: …". It keeps nil nil and a
// *core.Error as it is: that one already tells the client what failed,
// and its code (which the API maps to a status) is found by errors.As
// through any wrapping anyway.
func wrap(op string, err error) error {
	var ce *core.Error
	if err == nil || errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// translate turns driver errors into core errors: no pgx type escapes.
func translate(err error, entity string) error {
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return core.Errorf(core.ENOTFOUND, "%s not found", entity)
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case "23505":
			return core.Errorf(core.ECONFLICT, "a %s with this %s already exists", entity, constraintField(pgErr.ConstraintName))
		case "23503":
			f := constraintField(pgErr.ConstraintName)
			return core.Invalid([]core.FieldError{{Field: f, Code: "not_found", Message: "refers to a record that does not exist"}})
		}
		if in := core.SQLInputError(pgErr.Code); in != nil {
			return in
		}
	}
	return unavailable(err)
}

// constraintField guesses the field from a constraint name such as
// "leads_owner_id_fkey", or a custom field's from its index's name
// (customfield.go).
func constraintField(name string) string {
	if key, ok := customIndexKey(name); ok {
		return "custom." + key
	}
	name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_fkey"), "_key"), "_pkey")
	if _, rest, ok := strings.Cut(name, "_"); ok {
		return rest
	}
	return name
}

// keyCache remembers authenticated keys briefly so that a busy client does
// not cost a query per request. Revocation clears it in this process; other
// hub instances see a revocation within keyCacheTTL.
type keyCache struct {
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	key     core.APIKey
	expires time.Time
}

const keyCacheTTL = 10 * time.Second

// Atomically runs fn in one transaction carried by its context: every
// store call fn makes commits with the others, or none does.
func (s *Store) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return fn(withTx(ctx, tx)) })
}
