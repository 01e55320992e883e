package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

var _ core.ImportService = (*Store)(nil)

// importKinds are the entities an import writes, with their natural key.
var importKinds = map[string]string{core.EntityLead: "email", core.EntityContact: "email", core.EntityAccount: "inn",
	core.EntityDeal: "id", core.EntityProduct: "sku", core.EntityService: "sku", core.EntityPrice: "sku"}

// CheckImportOptions fills an import's defaults and checks it.
func CheckImportOptions(o *core.ImportOptions) error {
	var errs []core.FieldError
	natural, ok := importKinds[o.Entity]
	if !ok {
		errs = append(errs, core.FieldError{Field: "entity", Code: "invalid_choice", Message: "lead, contact, account, deal, product, service or price"})
	}
	if o.OnDuplicate == "" {
		o.OnDuplicate = core.ImportSkip
	}
	if o.OnDuplicate != core.ImportSkip && o.OnDuplicate != core.ImportUpdate && o.OnDuplicate != core.ImportCreate {
		errs = append(errs, core.FieldError{Field: "on_duplicate", Code: "invalid_choice", Message: "skip, update or create"})
	}
	if o.Key == "" {
		o.Key = natural
	}
	if o.ExternalSystem == "" {
		o.ExternalSystem = "onec"
	}
	if !validSystem(o.ExternalSystem) {
		errs = append(errs, core.FieldError{Field: "external_system", Code: "invalid", Message: "1 to 30 lowercase letters, digits and _"})
	}
	if _, custom := customImportKey(o.Key); !custom && !slices.Contains(core.ImportKeys, o.Key) {
		errs = append(errs, core.FieldError{Field: "key", Code: "invalid_choice", Message: strings.Join(core.ImportKeys, ", ") + " or custom.<key>"})
	}
	if ok && o.Entity != core.EntityPrice && keySQL(o.Entity, o.Key, o.ExternalSystem) == "" {
		errs = append(errs, core.FieldError{Field: "key", Code: "invalid_choice", Message: fmt.Sprintf("%s records are not found by %s", o.Entity, o.Key)})
	}
	return core.Invalid(errs)
}

// customImportKey returns the key of a custom field an import finds
// duplicates by (custom.<key>: a 1C code, a vtiger cf_ value).
func customImportKey(key string) (string, bool) {
	k, ok := strings.CutPrefix(key, "custom.")
	return k, ok && core.CustomKeyValid(k)
}

func validSystem(s string) bool {
	if len(s) == 0 || len(s) > 30 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// keySQL finds a live record by a key value ($1), or "" when the entity
// has no such key; system names the external id's system (checked).
func keySQL(entity, key, system string) string {
	table := map[string]string{core.EntityLead: "leads", core.EntityContact: "contacts", core.EntityAccount: "accounts",
		core.EntityDeal: "deals", core.EntityProduct: "products", core.EntityService: "services"}[entity]
	cond := ""
	switch key {
	case "id":
		cond = "id = $1::uuid"
	case "email":
		cond = map[string]string{"leads": "(email = $1 OR secondary_email = $1)", "contacts": "(email = $1 OR secondary_email = $1)",
			"accounts": "(email = $1 OR other_email = $1)"}[table]
	case "phone":
		cond = map[string]string{"leads": "(phone = $1 OR mobile = $1)", "contacts": "(phone = $1 OR mobile = $1 OR other_phone = $1)",
			"accounts": "(phone = $1 OR other_phone = $1)"}[table]
	case "inn":
		if table == "accounts" {
			cond = "inn = $1"
		}
	case "sku":
		if table == "products" || table == "services" {
			cond = "sku = $1"
		}
	case "external_id":
		if table != "leads" && table != "" && validSystem(system) {
			cond = "external_ids @> jsonb_build_object('" + system + "', $1::text)"
		}
	default:
		if k, ok := customImportKey(key); ok && table != "" {
			cond = fmt.Sprintf("(custom->>'%s') = $1", k) // a checked key: latin letters, digits, _
		}
	}
	if cond == "" {
		return ""
	}
	return "SELECT id::text FROM " + table + " WHERE " + cond + " AND deleted_at IS NULL ORDER BY created_at LIMIT 1"
}

const importColumns = `id::text, status, options, file_name, header, mapping, unmapped, rows_total, rows_done, created, updated,
	skipped, failed, accounts_linked, accounts_created, error, owner_id::text, started_at, finished_at, created_at, updated_at`

func scanImport(row pgx.Row, now time.Time) (*core.Import, error) {
	var (
		im                         core.Import
		opts, header, mapping, unm []byte
	)
	if err := row.Scan(&im.ID, &im.Status, &opts, &im.FileName, &header, &mapping, &unm, &im.RowsTotal, &im.RowsDone,
		&im.Created, &im.Updated, &im.Skipped, &im.Failed, &im.AccountsLinked, &im.AccountsCreated, &im.Error, &im.OwnerID,
		&im.StartedAt, &im.FinishedAt, &im.CreatedAt, &im.UpdatedAt); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		b   []byte
		dst any
	}{{opts, &im.Options}, {header, &im.Header}, {mapping, &im.Mapping}, {unm, &im.Unmapped}} {
		if err := json.Unmarshal(p.b, p.dst); err != nil {
			return nil, err
		}
	}
	if im.StartedAt != nil && im.RowsDone > 0 {
		end := now
		if im.FinishedAt != nil {
			end = *im.FinishedAt
		}
		if secs := end.Sub(*im.StartedAt).Seconds(); secs > 0 {
			im.RowsPerSec = float64(im.RowsDone) / secs
			if im.Status == "running" && im.RowsTotal > im.RowsDone {
				eta := float64(im.RowsTotal-im.RowsDone) / im.RowsPerSec
				im.ETASeconds = &eta
			}
		}
	}
	return &im, nil
}

// CreateImport implements core.ImportService.
func (s *Store) CreateImport(ctx context.Context, o core.ImportOptions, fileName string, file []byte) (*core.Import, error) {
	if err := CheckImportOptions(&o); err != nil {
		return nil, wrap("create import", err)
	}
	if k, ok := customImportKey(o.Key); ok {
		defs, err := s.customFieldsFor(ctx, s.db(ctx), o.Entity)
		if err != nil {
			return nil, wrap("create import", err)
		}
		if !slices.ContainsFunc(defs, func(d core.CustomField) bool { return d.Key == k }) {
			return nil, core.Invalid([]core.FieldError{{Field: "key", Code: "unknown_field", Message: o.Key + " is not a custom field of " + o.Entity}})
		}
	}
	owner, err := s.defaultOwner(ctx, s.db(ctx))
	if err != nil {
		return nil, wrap("create import", err)
	}
	opts, err := json.Marshal(o)
	if err != nil {
		return nil, wrap("create import", err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	now := s.now()
	queue := importQueue(core.ActorFromContext(ctx), owner)
	if _, err := s.db(ctx).Exec(ctx, `INSERT INTO imports (id, entity, status, options, file_name, file, owner_id, queue, created_at, updated_at)
		VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $8)`, id, o.Entity, opts, fileName, file, owner, queue, now); err != nil {
		return nil, wrap("create import", err)
	}
	return s.GetImport(ctx, id)
}

// importQueue names the jobs that run one after another: a user's, else
// those of one API key (or connector, or the CLI) acting without a user.
func importQueue(a core.Actor, owner string) string {
	switch {
	case a.UserID != "":
		return "user:" + a.UserID
	case a.ID != "":
		return "actor:" + a.ID
	}
	return "user:" + owner
}

// GetImport implements core.ImportService.
func (s *Store) GetImport(ctx context.Context, id string) (*core.Import, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "import not found")
	}
	im, err := scanImport(s.db(ctx).QueryRow(ctx, `SELECT `+importColumns+` FROM imports WHERE id = $1`, id), s.now())
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.Errorf(core.ENOTFOUND, "import not found")
	}
	return im, wrap("get import", err)
}

// claimImportSQL leases the job $2, else the oldest claimable one whose
// queue has no other job running (lease alive) nor an older one waiting.
const claimImportSQL = `UPDATE imports SET status = 'running', lease_until = now() + make_interval(secs => $1),
		started_at = coalesce(started_at, now()), updated_at = now()
	WHERE id = (SELECT i.id FROM imports i WHERE (i.status = 'queued' OR i.status = 'running' AND i.lease_until < now())
		AND ($2 = '' OR i.id::text = $2)
		AND ($2 <> '' OR NOT EXISTS (SELECT 1 FROM imports o WHERE o.queue = i.queue AND o.id <> i.id
			AND o.status IN ('queued', 'running')
			AND (o.status = 'running' AND o.lease_until >= now() OR (o.created_at, o.id) < (i.created_at, i.id))))
		ORDER BY i.created_at, i.id LIMIT 1 FOR UPDATE SKIP LOCKED)
	RETURNING id::text, file`

// ClaimImport implements core.ImportService. Claims take turns (an advisory
// lock for the claim's transaction), so that two runners never both take
// the heads of one queue.
func (s *Store) ClaimImport(ctx context.Context, only string, lease time.Duration) (*core.Import, []byte, error) {
	var id string
	var file []byte
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('crmhub.import.claim', 0))`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, claimImportSQL, lease.Seconds(), only).Scan(&id, &file)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, wrap("claim import", err)
	}
	im, err := s.GetImport(ctx, id)
	return im, file, wrap("claim import", err)
}

// StartImport implements core.ImportService.
func (s *Store) StartImport(ctx context.Context, id string, header []string, mapping map[string]string, unmapped []string, total int64) error {
	h, _ := json.Marshal(nonNil(header))
	m, _ := json.Marshal(mapping)
	u, _ := json.Marshal(nonNil(unmapped))
	_, err := s.db(ctx).Exec(ctx, `UPDATE imports SET header = $2, mapping = $3, unmapped = $4, rows_total = $5, updated_at = now()
		WHERE id = $1`, id, h, m, u, total)
	return wrap("start import", err)
}

// FinishImport implements core.ImportService. An import that grew its
// table by a tenth or more (and by at least a thousand rows) analyzes it:
// until autovacuum does, PostgreSQL would plan with the statistics of the
// table before, typically an empty one, and a user who sees some owners'
// records would wait for plans made for a few rows.
func (s *Store) FinishImport(ctx context.Context, id, errMsg string) error {
	status := "done"
	if errMsg != "" {
		status = "failed"
	}
	var entity string
	var created int64
	err := s.db(ctx).QueryRow(ctx, `UPDATE imports SET status = $2, error = $3, finished_at = now(), updated_at = now(),
		lease_until = NULL, file = CASE WHEN $2 = 'done' THEN ''::bytea ELSE file END WHERE id = $1
		RETURNING entity, created`, id, status, core.Clip(errMsg, 2000)).Scan(&entity, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return wrap("finish import", err)
	}
	if table, ok := importTables[entity]; ok && created >= 1000 {
		s.analyzeGrown(ctx, table, created)
	}
	return nil
}

// importTables are the tables the Excel import fills: entity → table.
var importTables = map[string]string{
	core.EntityLead: "leads", core.EntityContact: "contacts", core.EntityAccount: "accounts", core.EntityDeal: "deals",
	core.EntityProduct: "products", core.EntityService: "services", core.EntityPrice: "prices",
}

// analyzeGrown analyzes table when added rows are a tenth or more of what
// its statistics count (none when it was never analyzed). A failure is
// logged: the import itself is done.
func (s *Store) analyzeGrown(ctx context.Context, table string, added int64) {
	var counted float64
	err := s.db(ctx).QueryRow(ctx, `SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = $1::regclass`, table).Scan(&counted)
	if err == nil && float64(added) < counted/10 {
		return
	}
	if err == nil {
		_, err = s.db(ctx).Exec(ctx, "ANALYZE "+table)
	}
	if err != nil {
		s.log.Warn("analyze_after_import", "table", table, "error", err)
	}
}

// errDryRun rolls a dry run's row back.
var errDryRun = errors.New("dry run")

// ApplyImportRows implements core.ImportService.
func (s *Store) ApplyImportRows(ctx context.Context, id string, rows []core.ImportRow, lease time.Duration) error {
	im, err := s.GetImport(ctx, id)
	if err != nil {
		return wrap("apply import rows", err)
	}
	o := im.Options
	ctx = core.NewContextWithActor(ctx, core.Actor{ID: "import:" + id, Source: "excel", UserID: im.OwnerID})
	return wrap("apply import rows", s.inTx(ctx, func(tx pgx.Tx) error {
		res := make([]bulkRow, len(rows))
		for i, r := range rows {
			res[i] = bulkRow{row: r}
		}

		var links linkResult
		if o.Entity == core.EntityContact {
			if links, err = s.importLinks(ctx, tx, o, res); err != nil {
				return err
			}
		}

		// The fast path: new leads, contacts and accounts by COPY.
		fast := !o.DryRun && o.Key != "id" && o.Key != "external_id" && s.dupPolicy.For("excel") == core.DupCreate
		switch {
		case fast && o.Entity == core.EntityLead:
			err = importBulk(ctx, s, tx, s.tables.lead, o, im.OwnerID, res, links.known)
		case fast && o.Entity == core.EntityContact:
			err = importBulk(ctx, s, tx, s.tables.contact, o, im.OwnerID, res, links.known)
		case fast && o.Entity == core.EntityAccount:
			err = importBulk(ctx, s, tx, s.tables.account, o, im.OwnerID, res, links.known)
		}
		if err != nil {
			return err
		}

		for i := range res {
			r := &res[i]
			if r.outcome != "" && r.outcome != "slow" || r.err != nil {
				continue
			}
			r.outcome = ""
			if len(r.row.Errors) > 0 {
				r.err = core.Invalid(r.row.Errors)
				continue
			}
			// Each row alone, in a savepoint: a bad row does not spoil the
			// batch; a dry run's rows are always rolled back.
			err := s.inTxOn(ctx, tx, func(tx pgx.Tx) error {
				var err error
				if r.outcome, err = s.importRow(ctx, tx, o, r.row); err != nil {
					return err
				}
				if o.DryRun {
					return errDryRun
				}
				return nil
			})
			if err != nil && !errors.Is(err, errDryRun) {
				r.outcome = ""
				r.err = err
			}
		}

		return s.recordImportBatch(ctx, tx, id, res, links, lease)
	}))
}

// recordImportBatch stores a batch's failed rows and advances the job's
// counts, in the batch's transaction.
func (s *Store) recordImportBatch(ctx context.Context, tx pgx.Tx, id string, res []bulkRow, links linkResult, lease time.Duration) error {
	var created, updated, skipped, failed, linked int64
	for i, r := range res {
		if r.err != nil {
			failed++
			cells, _ := json.Marshal(nonNil(r.row.Cells))
			if _, err := tx.Exec(ctx, `INSERT INTO import_errors (import_id, row_number, cells, reason) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, id, r.row.Number, cells, core.Clip(reason(r.err), 2000)); err != nil {
				return err
			}
			continue
		}
		switch r.outcome {
		case "created":
			created++
		case "updated":
			updated++
		default:
			skipped++
		}
		if links.linked[i] && (r.outcome == "created" || r.outcome == "updated") {
			linked++
		}
	}
	_, err := tx.Exec(ctx, `UPDATE imports SET rows_done = rows_done + $2, created = created + $3, updated = updated + $4,
		skipped = skipped + $5, failed = failed + $6, accounts_linked = accounts_linked + $7,
		accounts_created = accounts_created + $8, lease_until = now() + make_interval(secs => $9), updated_at = now()
		WHERE id = $1`, id, len(res), created, updated, skipped, failed, linked, links.created, lease.Seconds())
	return err
}

// reason says why a row failed, naming the fields.
func reason(err error) string {
	fields := core.ErrorFields(err)
	if len(fields) == 0 {
		if code := core.ErrorCode(err); code != core.EINTERNAL {
			return core.ErrorMessage(err)
		}
		return "internal error"
	}
	var parts []string
	for _, f := range fields {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return strings.Join(parts, "; ")
}

// importRow writes one row by the duplicate strategy; it returns created,
// updated or skipped.
func (s *Store) importRow(ctx context.Context, tx pgx.Tx, o core.ImportOptions, r core.ImportRow) (string, error) {
	if o.Entity == core.EntityPrice {
		return s.importPrice(ctx, tx, r)
	}
	existing := ""
	if r.Key != "" && o.OnDuplicate != core.ImportCreate {
		q := keySQL(o.Entity, o.Key, o.ExternalSystem)
		if o.Key == "id" {
			if _, err := uuid.Parse(r.Key); err != nil {
				return "", core.Invalid([]core.FieldError{{Field: "ID", Code: "invalid", Message: "is not a record id"}})
			}
		}
		if err := tx.QueryRow(ctx, q, r.Key).Scan(&existing); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return "", err
		}
	}
	if existing != "" && o.OnDuplicate == core.ImportSkip {
		return "skipped", nil
	}
	var err error
	switch o.Entity {
	case core.EntityLead:
		err = importWrite(ctx, s, tx, s.tables.lead, existing, r.Patch)
	case core.EntityContact:
		err = importWrite(ctx, s, tx, s.tables.contact, existing, r.Patch)
	case core.EntityAccount:
		err = importWrite(ctx, s, tx, s.tables.account, existing, r.Patch)
	case core.EntityDeal:
		err = importWrite(ctx, s, tx, s.tables.deal, existing, r.Patch)
	case core.EntityProduct:
		err = importWrite(ctx, s, tx, s.tables.product, existing, r.Patch)
	case core.EntityService:
		err = importWrite(ctx, s, tx, s.tables.service, existing, r.Patch)
	default:
		if existing != "" {
			return "updated", nil
		}
		return "created", core.Errorf(core.EINVALID, "%s does not import", o.Entity)
	}
	if existing != "" {
		return "updated", err
	}
	return "created", err
}

// importWrite updates the record existing with patch, or creates one when
// existing is "", in tx.
func importWrite[E any, P recordPtr[E]](ctx context.Context, s *Store, tx pgx.Tx, t *table[E, P], existing string,
	patch core.Patch) error {
	o := writeOpts{tx: tx}
	if existing != "" {
		_, err := t.updateWith(ctx, s, existing, 0, patch, o)
		return err
	}
	_, err := t.createWith(ctx, s, patch, o)
	return err
}

// importPrice sets a list price: the price book by name (or id), the
// product or service by SKU.
func (s *Store) importPrice(ctx context.Context, tx pgx.Tx, r core.ImportRow) (string, error) {
	var book, sku, price string
	_ = json.Unmarshal(r.Patch["price_book"], &book)
	_ = json.Unmarshal(r.Patch["sku"], &sku)
	_ = json.Unmarshal(r.Patch["price"], &price)
	var errs []core.FieldError
	for _, f := range []struct{ name, v string }{{"Прайс-лист", book}, {"Артикул", sku}, {"Цена", price}} {
		if f.v == "" {
			errs = append(errs, core.FieldError{Field: f.name, Code: "required", Message: "is required"})
		}
	}
	if err := core.Invalid(errs); err != nil {
		return "", err
	}
	var bookID string
	err := tx.QueryRow(ctx, `SELECT id::text FROM price_books WHERE (name = $1 OR id::text = $1) AND deleted_at IS NULL
		ORDER BY created_at LIMIT 1`, book).Scan(&bookID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", core.Invalid([]core.FieldError{{Field: "Прайс-лист", Code: "not_found", Message: fmt.Sprintf("no price book %q", book)}})
	}
	if err != nil {
		return "", err
	}
	var kind, itemID string
	err = tx.QueryRow(ctx, `SELECT 'product', id::text FROM products WHERE sku = $1 AND deleted_at IS NULL
		UNION ALL SELECT 'service', id::text FROM services WHERE sku = $1 AND deleted_at IS NULL LIMIT 1`, sku).Scan(&kind, &itemID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", core.Invalid([]core.FieldError{{Field: "Артикул", Code: "not_found", Message: fmt.Sprintf("no product or service with SKU %q", sku)}})
	}
	if err != nil {
		return "", err
	}
	var had bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM prices WHERE price_book_id = $1 AND item_id = $2)`, bookID, itemID).Scan(&had); err != nil {
		return "", err
	}
	amount, err := decimal.NewFromString(price)
	if err != nil {
		return "", core.Invalid([]core.FieldError{{Field: "Цена", Code: "invalid", Message: "is not an amount"}})
	}
	p := core.Price{PriceBookID: bookID, Price: core.NewMoney(amount)}
	if kind == "product" {
		p.ProductID = &itemID
	} else {
		p.ServiceID = &itemID
	}
	if _, err := s.PriceBooks().SetPrice(ctx, p); err != nil {
		return "", err
	}
	if had {
		return "updated", nil
	}
	return "created", nil
}

// ImportFailures implements core.ImportService.
func (s *Store) ImportFailures(ctx context.Context, id string) ([]core.ImportFailure, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT row_number, cells, reason FROM import_errors WHERE import_id = $1 ORDER BY row_number`, id)
	if err != nil {
		return nil, wrap("import failures", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.ImportFailure, error) {
		var f core.ImportFailure
		var cells []byte
		if err := r.Scan(&f.Row, &cells, &f.Reason); err != nil {
			return f, err
		}
		return f, json.Unmarshal(cells, &f.Cells)
	})
	return out, wrap("import failures", err)
}
