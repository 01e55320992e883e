package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.SearchService = (*Store)(nil)

// searchKind is how one kind of record is searched; the expressions match
// the indexes of migration 008.
type searchKind struct {
	entity, table string
	title         string // the text searched (full-text and trigrams) and shown
	details       string
	phones        string // "" when the kind has no phones
	emails        []string
	inn           bool
}

var searchKinds = []searchKind{
	{entity: "contact", table: "contacts", title: "last_name || ' ' || first_name || ' ' || middle_name",
		details: "concat_ws(' · ', nullif(mobile, ''), nullif(phone, ''), nullif(email, ''))",
		phones:  "phone || ' ' || mobile || ' ' || other_phone", emails: []string{"email", "secondary_email"}},
	{entity: "lead", table: "leads", title: "last_name || ' ' || first_name || ' ' || company",
		details: "concat_ws(' · ', nullif(company, ''), nullif(phone, ''), nullif(email, ''))",
		phones:  "phone || ' ' || mobile", emails: []string{"email", "secondary_email"}},
	{entity: "account", table: "accounts", title: "name",
		details: "concat_ws(' · ', nullif(inn, ''), nullif(phone, ''), nullif(email, ''))",
		phones:  "phone || ' ' || other_phone", emails: []string{"email", "other_email"}, inn: true},
	{entity: "deal", table: "deals", title: "name", details: "coalesce(amount::text, '')"},
}

// Search implements core.SearchService. Each kind contributes matches in
// tiers of fixed rank, each tier limited on its own so that PostgreSQL
// stops after a few rows even when thousands match (a common surname in a
// million contacts): exact phone, e-mail or ИНН (2); Russian full-text
// match (1); phone fragment (0.9); the query's words, stemmed, as prefixes
// of the record's words (0.8: Ивановым -> иванов:* finds Иванов, Иванова,
// since the stemmer does not fold surnames; Алекс finds Александр). A
// record in several tiers keeps its best rank.
func (s *Store) Search(ctx context.Context, q string, limit int) ([]core.SearchHit, error) {
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) < 2 || len(q) > 200 {
		return nil, core.Invalid([]core.FieldError{{Field: "q", Code: "invalid", Message: "must be 2 to 200 characters"}})
	}
	args := []any{q}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	phone, isPhone := core.NormalizePhone(q)
	email, isEmail := core.NormalizeEmail(q)
	digits := onlyDigits(q)
	isINN := core.ValidINN(digits) && len(digits) == len(q)
	fragment := ""
	if len(digits) >= 4 && len(digits)*2 >= len(strings.ReplaceAll(q, " ", "")) {
		fragment = digits // mostly digits: a phone fragment
	}
	// Prefix matches rank below every other tier, and common prefixes are
	// the costly ones: they are looked up only when the other tiers leave
	// room in the page.
	// The prefix tiers run on their own, with only $1 and what their
	// visibility conditions add.
	prefixArgs := []any{q}
	prefixArg := func(v any) string { prefixArgs = append(prefixArgs, v); return fmt.Sprintf("$%d", len(prefixArgs)) }
	acc := core.AccessFromContext(ctx)
	var tiers, prefixTiers []string
	add := func(list *[]string, argf func(any) string, k searchKind, rank, cond string) {
		if c := visibleCondArgs(argf, acc, k.entity, false, core.ActView, ""); c != "" {
			cond += " AND " + c
		}
		details := k.details
		if acc != nil && len(acc.HiddenFields(k.entity)) > 0 {
			details = "''" // the details show fields the user's role may hide
		}
		*list = append(*list, fmt.Sprintf(`(SELECT '%s' AS entity, id, btrim(%s) AS title, %s AS details, %s::float8 AS rank
			FROM %s WHERE deleted_at IS NULL AND %s LIMIT %d)`, k.entity, k.title, details, rank, k.table, cond, limit))
	}
	tier := func(k searchKind, rank, cond string) { add(&tiers, arg, k, rank, cond) }
	for _, k := range searchKinds {
		var exact []string
		if k.phones != "" && isPhone {
			exact = append(exact, fmt.Sprintf("(%s) LIKE %s", k.phones, arg("%"+phone+"%")))
		}
		if isEmail && len(k.emails) > 0 {
			e := arg(email)
			for _, col := range k.emails {
				exact = append(exact, col+" = "+e)
			}
		}
		if k.inn && isINN {
			exact = append(exact, "inn = "+arg(digits))
		}
		if len(exact) > 0 {
			tier(k, "2", "("+strings.Join(exact, " OR ")+")")
		}
		tier(k, "1", "search_ru @@ (SELECT ru FROM sq)")
		if k.phones != "" && fragment != "" && !isPhone {
			p := "%" + fragment + "%"
			if fragment[0] == '8' { // the Russian trunk prefix of a +7 number
				p = "%+7" + fragment[1:] + "%"
			}
			tier(k, "0.9", fmt.Sprintf("((%s) LIKE %s OR (%s) LIKE %s)", k.phones, arg("%"+fragment+"%"), k.phones, arg(p)))
		}
		if fragment == "" { // words of a name; digits are searched as phones
			add(&prefixTiers, prefixArg, k, "0.8", "search_words @@ (SELECT words FROM sq)")
		}
	}
	query := func(tiers []string) string {
		return searchQueries + fmt.Sprintf(`SELECT entity, id::text, max(title), max(details), max(rank) AS best
			FROM (%s) hits GROUP BY entity, id ORDER BY best DESC, max(title) LIMIT %d`, strings.Join(tiers, " UNION ALL "), limit)
	}
	var hits []core.SearchHit
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Every tier is a bitmap scan of its GIN index. With LIMIT and no
		// ORDER BY the planner may instead bet on a sequential (or an
		// unrelated index) scan finding enough rows early: at a million
		// contacts it did, for a phone fragment matching no name, and read
		// the whole table (550 ms instead of 4 ms). Bitmap scans cost what
		// the matches cost, whatever the estimates.
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off"); err != nil {
			return err
		}
		var err error
		if hits, err = searchRows(ctx, tx, query(tiers), args); err != nil || len(hits) >= limit || len(prefixTiers) == 0 {
			return err
		}
		more, err := searchRows(ctx, tx, query(prefixTiers), prefixArgs)
		seen := map[string]bool{}
		for _, h := range hits {
			seen[h.Entity+h.ID] = true
		}
		for _, h := range more {
			if len(hits) < limit && !seen[h.Entity+h.ID] {
				hits = append(hits, h)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if hits == nil {
		hits = []core.SearchHit{}
	}
	return hits, nil
}

func searchRows(ctx context.Context, tx pgx.Tx, sql string, args []any) ([]core.SearchHit, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.SearchHit, error) {
		var h core.SearchHit
		err := row.Scan(&h.Entity, &h.ID, &h.Title, &h.Details, &h.Rank)
		return h, err
	})
}

// searchQueries computes the two text queries once: the Russian full-text
// query, and the query's words stemmed by the Russian dictionary as
// prefixes for the unstemmed words (ё folded to е like search_words).
const searchQueries = `WITH sq AS (SELECT websearch_to_tsquery('russian', $1) AS ru,
	coalesce(to_tsquery('simple', nullif(array_to_string(ARRAY(
		SELECT quote_literal(translate(lexeme, 'ё', 'е')) || ':*' FROM unnest(to_tsvector('russian', $1))), ' & '), '')),
		'' ::tsquery) AS words)
`

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) && r < 128 {
			b.WriteRune(r)
		}
	}
	return b.String()
}
