package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// linkResult is what importLinks settled for a batch of contact rows.
type linkResult struct {
	linked  map[int]bool    // rows given an account by name or ИНН (or that would be, in a dry run)
	known   map[string]bool // ids set in patches that are known to exist: the bulk path need not check them
	created int64           // accounts created (or that would be)
}

// accountRef is an account a row names: by ИНН when it gives one, else
// by its name's key (core.NormalizeCompanyName, as lead conversion finds
// accounts).
type accountRef struct{ inn, kpp, nameKey, name string }

func (a accountRef) key() string {
	if a.inn != "" {
		return "inn:" + a.inn
	}
	return "name:" + a.nameKey
}

// importLinks settles what contact rows name instead of giving ids, a
// batch at a time (a query per kind of link, never one per row): each
// «Организация» (or «ИНН») becomes the row's account_id, found or, with
// o.CreateAccounts, created by COPY; each «Руководитель» name its
// reports_to_id. A row whose record is not found fails. An account_id
// the row gives itself wins over its «Организация».
func (s *Store) importLinks(ctx context.Context, tx pgx.Tx, o core.ImportOptions, rows []bulkRow) (linkResult, error) {
	res := linkResult{linked: map[int]bool{}, known: map[string]bool{}}
	refs := map[int]accountRef{}
	var managers []int
	for i := range rows {
		r := &rows[i]
		l := r.row.Links
		if l.IsZero() || len(r.row.Errors) > 0 || r.err != nil {
			continue
		}
		if _, given := r.row.Patch["account_id"]; !given && (l.AccountName != "" || l.AccountINN != "") {
			name, bad := core.CleanText(l.AccountName, 250, false)
			if bad != "" {
				r.err = core.Invalid([]core.FieldError{{Field: "Организация", Code: bad, Message: "must be printable text of at most 250 characters"}})
				continue
			}
			refs[i] = accountRef{inn: strings.Join(strings.Fields(l.AccountINN), ""), kpp: strings.Join(strings.Fields(l.AccountKPP), ""),
				nameKey: core.NormalizeCompanyName(name), name: name}
		}
		if l.ReportsTo != "" {
			managers = append(managers, i)
		}
	}
	if err := s.linkAccounts(ctx, tx, o, rows, refs, &res); err != nil {
		return res, fmt.Errorf("import: link accounts: %w", err)
	}
	if err := s.linkManagers(ctx, tx, rows, managers, &res); err != nil {
		return res, fmt.Errorf("import: link managers: %w", err)
	}
	return res, nil
}

// linkAccounts finds the accounts refs name, creates the missing ones the
// import may create, and sets the rows' account_id.
func (s *Store) linkAccounts(ctx context.Context, tx pgx.Tx, o core.ImportOptions, rows []bulkRow, refs map[int]accountRef,
	res *linkResult) error {
	if len(refs) == 0 {
		return nil
	}
	found, err := findAccounts(ctx, tx, refs)
	if err != nil {
		return err
	}
	missing := map[string][]int{} // ref key → rows
	var order []string
	for _, i := range slices.Sorted(maps.Keys(refs)) {
		ref := refs[i]
		if id := found[ref.key()]; id != "" {
			setLink(&rows[i], "account_id", id, res)
			res.linked[i] = true
			continue
		}
		if !o.CreateAccounts || ref.name == "" {
			rows[i].err = core.Invalid([]core.FieldError{notFound(ref)})
			continue
		}
		if missing[ref.key()] == nil {
			order = append(order, ref.key())
		}
		missing[ref.key()] = append(missing[ref.key()], i)
	}
	if err := s.dropDoomed(ctx, tx, o, rows, missing); err != nil {
		return err
	}
	var patches []core.Patch
	var keys []string
	for _, k := range order {
		if idx := missing[k]; len(idx) > 0 {
			ref := refs[idx[0]]
			p := core.Patch{"name": jsonString(ref.name)}
			if ref.inn != "" {
				p["inn"] = jsonString(ref.inn)
			}
			if ref.kpp != "" {
				p["kpp"] = jsonString(ref.kpp)
			}
			patches, keys = append(patches, p), append(keys, k)
		}
	}
	if o.DryRun { // what would be created; the rows are checked without the link
		for _, k := range keys {
			for _, i := range missing[k] {
				res.linked[i] = true
			}
		}
		res.created += int64(len(keys))
		return nil
	}
	return s.createLinkedAccounts(ctx, tx, rows, patches, keys, missing, res)
}

// createLinkedAccounts creates the accounts of patches (keys their refs)
// and links their rows; an account that cannot be created fails its rows.
func (s *Store) createLinkedAccounts(ctx context.Context, tx pgx.Tx, rows []bulkRow, patches []core.Patch, keys []string,
	missing map[string][]int, res *linkResult) error {
	if len(patches) == 0 {
		return nil
	}
	ids, errs, err := copyCreate(ctx, s, tx, s.tables.account, patches)
	if err != nil {
		return err
	}
	for j, k := range keys {
		for _, i := range missing[k] {
			if errs[j] != nil {
				rows[i].err = core.Invalid([]core.FieldError{{Field: "Организация", Code: "invalid",
					Message: "the account cannot be created: " + reason(errs[j])}})
				continue
			}
			setLink(&rows[i], "account_id", ids[j], res)
			res.linked[i] = true
		}
		if errs[j] == nil {
			res.created++
		}
	}
	return nil
}

// dropDoomed takes out of missing the rows that will not write a new
// contact, so that no account is created for them: the duplicates a skip
// import skips, and the rows whose new contact is invalid (they fail now,
// with the reason they would fail with). An update of an existing contact
// keeps its row.
func (s *Store) dropDoomed(ctx context.Context, tx pgx.Tx, o core.ImportOptions, rows []bulkRow, missing map[string][]int) error {
	if len(missing) == 0 {
		return nil
	}
	existing := map[string]bool{}
	if o.OnDuplicate != core.ImportCreate && keyBatchSQL(o.Entity, o.Key) != "" {
		var err error
		if existing, err = existingKeys(ctx, tx, o, rows); err != nil {
			return err
		}
	}
	t := s.tables.contact
	for k, idx := range missing {
		kept := idx[:0]
		for _, i := range idx {
			r := &rows[i]
			switch {
			case r.row.Key != "" && existing[r.row.Key] && o.OnDuplicate == core.ImportSkip:
				continue // skipped as a duplicate
			case r.row.Key != "" && existing[r.row.Key]:
				kept = append(kept, i) // an update: checked against its record later
				continue
			}
			rec := new(core.Contact)
			t.defaults(rec)
			if err := t.apply(ctx, tx, nil, rec, r.row.Patch); err != nil {
				r.err = err
				continue
			}
			kept = append(kept, i)
		}
		missing[k] = kept
	}
	return nil
}

// findAccounts finds the live accounts refs name, in one query: by ИНН,
// and by name (a row that gives an ИНН no account has may still name an
// account recorded without an ИНН); the oldest wins. It returns account
// ids by ref key.
func findAccounts(ctx context.Context, tx pgx.Tx, refs map[int]accountRef) (map[string]string, error) {
	inns, names := map[string]bool{}, map[string]bool{}
	for _, r := range refs {
		if r.inn != "" {
			inns[r.inn] = true
		}
		if r.nameKey != "" {
			names[r.nameKey] = true
		}
	}
	// Joins with the values rather than = ANY: a plan for any number of
	// them, by the indexes on inn and name_key.
	rows, err := tx.Query(ctx, `SELECT id::text, inn, name_key FROM (
			SELECT id, inn, name_key, created_at FROM accounts
			WHERE deleted_at IS NULL AND inn <> '' AND inn IN (SELECT unnest($1::text[]))
			UNION
			SELECT id, inn, name_key, created_at FROM accounts
			WHERE deleted_at IS NULL AND name_key IN (SELECT unnest($2::text[]))) found
		ORDER BY created_at, id`, slices.Collect(maps.Keys(inns)), slices.Collect(maps.Keys(names)))
	if err != nil {
		return nil, err
	}
	byINN, byName, byNameNoINN := map[string]string{}, map[string]string{}, map[string]string{}
	var id, inn, nameKey string
	first := func(m map[string]string, k string) {
		if _, ok := m[k]; !ok {
			m[k] = id
		}
	}
	if _, err := pgx.ForEachRow(rows, []any{&id, &inn, &nameKey}, func() error {
		if inn != "" {
			first(byINN, inn)
		} else {
			first(byNameNoINN, nameKey)
		}
		first(byName, nameKey)
		return nil
	}); err != nil {
		return nil, err
	}
	found := map[string]string{}
	for _, r := range refs {
		switch {
		case r.inn != "" && byINN[r.inn] != "":
			found[r.key()] = byINN[r.inn]
		case r.inn != "" && r.nameKey != "" && byNameNoINN[r.nameKey] != "":
			found[r.key()] = byNameNoINN[r.nameKey]
		case r.inn == "" && byName[r.nameKey] != "":
			found[r.key()] = byName[r.nameKey]
		}
	}
	return found, nil
}

// notFound says that no account has the name or ИНН a row gives.
func notFound(r accountRef) core.FieldError {
	hint := " (import accounts first, or ask the import to create them: create_accounts)"
	if r.name == "" {
		return core.FieldError{Field: "ИНН", Code: "not_found", Message: fmt.Sprintf("no account has ИНН %s", r.inn)}
	}
	if r.inn != "" {
		return core.FieldError{Field: "Организация", Code: "not_found", Message: fmt.Sprintf("no account «%s» with ИНН %s%s", r.name, r.inn, hint)}
	}
	return core.FieldError{Field: "Организация", Code: "not_found", Message: fmt.Sprintf("no account «%s»%s", r.name, hint)}
}

// setLink sets a link the batch found in a row's patch.
func setLink(r *bulkRow, field, id string, res *linkResult) {
	r.row.Patch[field] = jsonString(id)
	res.known[id] = true
}

// linkManagers finds the contacts the rows' «Руководитель» names, in one
// query, and sets their reports_to_id; a name no contact (or more than one)
// has fails the row.
func (s *Store) linkManagers(ctx context.Context, tx pgx.Tx, rows []bulkRow, idx []int, res *linkResult) error {
	var candidates []string
	for _, i := range idx {
		if rows[i].err != nil {
			continue
		}
		for _, w := range strings.Fields(rows[i].row.Links.ReportsTo) {
			candidates = append(candidates, w, titleCase(w))
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	slices.Sort(candidates)
	found, err := tx.Query(ctx, `SELECT id::text, last_name, first_name, middle_name FROM contacts
		WHERE deleted_at IS NULL AND last_name IN (SELECT unnest($1::text[]))`, slices.Compact(candidates))
	if err != nil {
		return err
	}
	byName := map[string][]string{} // personKey → contact ids
	var id, last, first, middle string
	add := func(k string) {
		if !slices.Contains(byName[k], id) {
			byName[k] = append(byName[k], id)
		}
	}
	if _, err := pgx.ForEachRow(found, []any{&id, &last, &first, &middle}, func() error {
		add(personKey(last, first, middle))
		add(personKey(last, first)) // «Иванов Иван» for Иванов Иван Петрович
		return nil
	}); err != nil {
		return err
	}
	for _, i := range idx {
		r := &rows[i]
		if r.err != nil {
			continue
		}
		name := r.row.Links.ReportsTo
		switch ids := byName[personKey(name)]; len(ids) {
		case 1:
			setLink(r, "reports_to_id", ids[0], res)
		case 0:
			r.err = core.Invalid([]core.FieldError{{Field: "Руководитель", Code: "not_found",
				Message: fmt.Sprintf("no contact is named «%s» (import the managers first)", name)}})
		default:
			r.err = core.Invalid([]core.FieldError{{Field: "Руководитель", Code: "ambiguous",
				Message: fmt.Sprintf("%d contacts are named «%s»: give the manager's id in «Руководитель (ID)»", len(ids), name)}})
		}
	}
	return nil
}

// personKey makes a person's name comparable: its words, lower case, ё as
// е, sorted (people write «Иванов Иван» and «Иван Иванов»).
func personKey(parts ...string) string {
	var words []string
	for _, p := range parts {
		words = append(words, strings.FieldsFunc(strings.ReplaceAll(strings.ToLower(p), "ё", "е"), func(r rune) bool {
			return unicode.IsSpace(r) || r == ','
		})...)
	}
	slices.Sort(words)
	return strings.Join(words, " ")
}

// titleCase writes a word as names are stored: «ИВАНОВ», «иванов» → «Иванов».
func titleCase(w string) string {
	r := []rune(strings.ToLower(w))
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}
