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

// Search implements core.SearchService. Each kind contributes its best
// matches: exact phone, e-mail or ИНН (rank 2); full-text matches with
// Russian stemming (1 + ts_rank); phone fragments (0.9); the query's words,
// stemmed, as prefixes of the record's words (0.8: Ивановым → иванов:*
// finds Иванов, Иванова, since the stemmer does not fold surnames); and,
// from 3 characters, any substring (0.5).
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
	substring := ""
	if utf8.RuneCountInString(q) >= 3 { // shorter ones cannot use the trigram index
		substring = arg("%" + escapeLike(q) + "%")
	}
	var parts []string
	for _, k := range searchKinds {
		conds := []string{"search_ru @@ (SELECT ru FROM sq)", "search_words @@ (SELECT words FROM sq)"}
		ranks := []string{"CASE WHEN search_ru @@ (SELECT ru FROM sq) THEN 1 + ts_rank(search_ru, (SELECT ru FROM sq)) ELSE 0 END",
			"CASE WHEN search_words @@ (SELECT words FROM sq) THEN 0.8 ELSE 0 END"}
		if substring != "" {
			conds = append(conds, fmt.Sprintf("(%s) ILIKE %s", k.title, substring))
			ranks = append(ranks, fmt.Sprintf("CASE WHEN (%s) ILIKE %s THEN 0.5 ELSE 0 END", k.title, substring))
		}
		if k.phones != "" && isPhone {
			p := arg("%" + phone + "%")
			conds = append(conds, fmt.Sprintf("(%s) LIKE %s", k.phones, p))
			ranks = append(ranks, fmt.Sprintf("CASE WHEN (%s) LIKE %s THEN 2 ELSE 0 END", k.phones, p))
		} else if k.phones != "" && fragment != "" {
			// A leading 8 is the Russian trunk prefix of a +7 number.
			p, p7 := arg("%"+fragment+"%"), arg("%"+fragment+"%")
			if fragment[0] == '8' {
				args[len(args)-1] = "%+7" + fragment[1:] + "%"
			}
			m := fmt.Sprintf("((%s) LIKE %s OR (%s) LIKE %s)", k.phones, p, k.phones, p7)
			conds = append(conds, m)
			ranks = append(ranks, fmt.Sprintf("CASE WHEN %s THEN 0.9 ELSE 0 END", m))
		}
		if isEmail && len(k.emails) > 0 {
			e := arg(email)
			for _, col := range k.emails {
				conds = append(conds, col+" = "+e)
				ranks = append(ranks, fmt.Sprintf("CASE WHEN %s = %s THEN 2 ELSE 0 END", col, e))
			}
		}
		if k.inn && isINN {
			i := arg(digits)
			conds = append(conds, "inn = "+i)
			ranks = append(ranks, fmt.Sprintf("CASE WHEN inn = %s THEN 2 ELSE 0 END", i))
		}
		parts = append(parts, fmt.Sprintf(`(SELECT '%s' AS entity, id::text, btrim(%s) AS title, %s AS details, greatest(%s) AS rank
			FROM %s WHERE deleted_at IS NULL AND (%s) ORDER BY rank DESC LIMIT %d)`,
			k.entity, k.title, k.details, strings.Join(ranks, ", "), k.table, strings.Join(conds, " OR "), limit))
	}
	sql := searchQueries + strings.Join(parts, " UNION ALL ") + fmt.Sprintf(" ORDER BY rank DESC, title LIMIT %d", limit)
	rows, err := s.db(ctx).Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.SearchHit, error) {
		var h core.SearchHit
		err := row.Scan(&h.Entity, &h.ID, &h.Title, &h.Details, &h.Rank)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	if hits == nil {
		hits = []core.SearchHit{}
	}
	return hits, nil
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
