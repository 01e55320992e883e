package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.DuplicateFinder = (*Store)(nil)

// SetDuplicatePolicy sets what creates do about duplicates (from config).
func (s *Store) SetDuplicatePolicy(p core.DuplicatePolicy) { s.dupPolicy = p }

// dupSQL finds live records sharing a phone ($1), an e-mail ($2) or an ИНН
// ($3): all of them are in $4, matched against each kind's dup_keys index
// (phones are E.164, e-mails have an @, an ИНН is digits: no key can be
// mistaken for another kind's). Each part's last column says whether the
// context's user may see the record (%s: its visibility condition).
const dupSQL = `
SELECT 'lead', id::text, concat_ws(' · ', nullif(btrim(last_name || ' ' || first_name), ''), nullif(company, '')),
	array_remove(ARRAY[CASE WHEN phone = ANY($1) OR mobile = ANY($1) THEN 'phone' END,
		CASE WHEN email = ANY($2) OR secondary_email = ANY($2) THEN 'email' END], NULL), owner_id::text, coalesce(%s, FALSE)
FROM leads WHERE deleted_at IS NULL AND NOT converted AND array_remove(ARRAY[phone, mobile, email, secondary_email], '') && $4::text[]
UNION ALL
SELECT 'contact', id::text, btrim(last_name || ' ' || first_name || ' ' || middle_name),
	array_remove(ARRAY[CASE WHEN phone = ANY($1) OR mobile = ANY($1) OR other_phone = ANY($1) THEN 'phone' END,
		CASE WHEN email = ANY($2) OR secondary_email = ANY($2) THEN 'email' END], NULL), owner_id::text, coalesce(%s, FALSE)
FROM contacts WHERE deleted_at IS NULL AND array_remove(ARRAY[phone, mobile, other_phone, email, secondary_email], '') && $4::text[]
UNION ALL
SELECT 'account', id::text, name,
	array_remove(ARRAY[CASE WHEN phone = ANY($1) OR other_phone = ANY($1) OR fax = ANY($1) THEN 'phone' END,
		CASE WHEN email = ANY($2) OR other_email = ANY($2) THEN 'email' END,
		CASE WHEN inn = $3 THEN 'inn' END], NULL), owner_id::text, coalesce(%s, FALSE)
FROM accounts WHERE deleted_at IS NULL AND array_remove(ARRAY[phone, other_phone, fax, email, other_email, inn], '') && $4::text[]
LIMIT 50`

// hiddenMatch is what a user is told of a duplicate they may not see: that
// it exists, of which kind, on which key, and nothing of whose it is.
const hiddenMatch = "запись, доступная другим пользователям"

// Duplicates implements core.DuplicateFinder: the records the context's
// user may see.
func (s *Store) Duplicates(ctx context.Context, k core.DuplicateKeys) ([]core.DuplicateMatch, error) {
	all, err := s.duplicates(ctx, s.db(ctx), k)
	out := []core.DuplicateMatch{}
	for _, m := range all {
		if m.Title != hiddenMatch {
			out = append(out, m)
		}
	}
	return out, err
}

// duplicates finds the records sharing a key of k, on db; of those the
// context's user may not see only the kind and the key matched are kept
// (a create refused as a duplicate says so without showing whose it is).
func (s *Store) duplicates(ctx context.Context, db dbtx, k core.DuplicateKeys) ([]core.DuplicateMatch, error) {
	if k.Empty() {
		return []core.DuplicateMatch{}, nil
	}
	sql, args := dupQuery(ctx, k)
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("duplicates: %w", err)
	}
	return collectDuplicates(rows)
}

// dupQuery is dupSQL for the context's user and its arguments.
func dupQuery(ctx context.Context, k core.DuplicateKeys) (string, []any) {
	args := dupArgs(k)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	acc := core.AccessFromContext(ctx)
	var vis []any
	for _, e := range []string{core.EntityLead, core.EntityContact, core.EntityAccount} {
		c := visibleCondArgs(arg, acc, e, false, core.ActView, "")
		if c == "" {
			c = "TRUE"
		}
		vis = append(vis, c)
	}
	return fmt.Sprintf(dupSQL, vis...), args
}

func dupArgs(k core.DuplicateKeys) []any {
	inn := k.INN
	if inn == "" {
		inn = "-" // never an ИНН
	}
	var keys []string
	for _, v := range append(append(append([]string{}, k.Phones...), k.Emails...), k.INN) {
		if v != "" { // empty columns must not match
			keys = append(keys, v)
		}
	}
	return []any{nonNil(k.Phones), nonNil(k.Emails), inn, nonNil(keys)}
}

func collectDuplicates(rows pgx.Rows) ([]core.DuplicateMatch, error) {
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.DuplicateMatch, error) {
		var m core.DuplicateMatch
		var visible bool
		err := row.Scan(&m.Entity, &m.ID, &m.Title, &m.MatchedOn, &m.OwnerID, &visible)
		if !visible {
			m.ID, m.Title, m.OwnerID = "", hiddenMatch, ""
		}
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("duplicates: %w", err)
	}
	return append([]core.DuplicateMatch{}, found...), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// checkDuplicates applies the source's duplicate policy to a new record,
// looking on db: "" to create it, the existing same-kind record's id to
// use instead (merge), or a *core.DuplicatesError (reject). Writes that
// follow another policy skip it (writeOpts.skipDuplicates).
func (s *Store) checkDuplicates(ctx context.Context, db dbtx, entity string, keys core.DuplicateKeys) (string, error) {
	policy := s.dupPolicy.For(core.ActorFromContext(ctx).Source)
	if policy == core.DupCreate || keys.Empty() {
		return "", nil
	}
	matches, err := s.duplicates(ctx, db, keys)
	if err != nil || len(matches) == 0 {
		return "", err
	}
	if policy == core.DupReject {
		return "", &core.DuplicatesError{Matches: matches}
	}
	for _, m := range matches {
		if m.Entity != entity {
			continue
		}
		if m.ID == "" { // one the user may not see cannot stand for theirs
			return "", &core.DuplicatesError{Matches: matches}
		}
		return m.ID, nil
	}
	return "", nil // merge: nothing of this kind to attach to
}

func nonEmpty(vals ...string) []string {
	var out []string
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
