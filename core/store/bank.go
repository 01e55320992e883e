package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

var _ core.BankDirectory = (*Store)(nil)

// bankColumns are the banks table's columns in the order bankValues and
// scanBank use.
var bankColumns = []string{"bic", "name", "english_name", "registration_number", "correspondent_account",
	"treasury_accounts", "swift", "postcode", "settlement_type", "settlement", "address", "region", "parent_bic",
	"participant_type", "participant_status", "restrictions", "date_in", "date_out", "directory_date",
	"status", "kind", "rank", "search"}

func bankValues(b core.Bank) []any {
	treasury := b.TreasuryAccounts
	if treasury == nil {
		treasury = []string{}
	}
	return []any{b.BIC, b.Name, b.EnglishName, b.RegistrationNumber, b.CorrespondentAccount, treasury, b.SWIFT,
		b.Postcode, b.SettlementType, b.Settlement, b.Address, b.Region, b.ParentBIC, b.ParticipantType,
		b.ParticipantStatus, b.Restrictions, b.DateIn, b.DateOut, b.DirectoryDate, b.Status(), b.Kind(), b.Rank(),
		b.SearchText()}
}

func scanBank(row pgx.CollectableRow) (core.Bank, error) {
	var b core.Bank
	var status, kind, search string
	var rank int
	err := row.Scan(&b.BIC, &b.Name, &b.EnglishName, &b.RegistrationNumber, &b.CorrespondentAccount,
		&b.TreasuryAccounts, &b.SWIFT, &b.Postcode, &b.SettlementType, &b.Settlement, &b.Address, &b.Region,
		&b.ParentBIC, &b.ParticipantType, &b.ParticipantStatus, &b.Restrictions, &b.DateIn, &b.DateOut,
		&b.DirectoryDate, &status, &kind, &rank, &search)
	return b, err
}

// ReplaceBanks implements core.BankDirectory: the directory is copied into
// a temporary table and merged into banks in one transaction, so lookups
// read the previous directory until the commit. Imports take turns.
func (s *Store) ReplaceBanks(ctx context.Context, dir core.BankImport, next func() (core.Bank, bool, error)) (core.BankImportResult, error) {
	var res core.BankImportResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('crmhub.banks'))`); err != nil {
			return fmt.Errorf("lock the bank directory: %w", err)
		}
		if err := checkDirectoryDate(ctx, tx, dir.Date); err != nil {
			return err
		}

		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE banks_import (LIKE banks) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("bank import table: %w", err)
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"banks_import"}, bankColumns, pgx.CopyFromFunc(func() ([]any, error) {
			b, ok, err := next()
			if err != nil || !ok {
				return nil, err
			}
			b.DirectoryDate = dir.Date
			return bankValues(b), nil
		}))
		if err != nil {
			return fmt.Errorf("copy the bank directory: %w", err)
		}
		res.Banks = int(n)
		var dup string
		err = tx.QueryRow(ctx, `SELECT bic FROM banks_import GROUP BY bic HAVING count(*) > 1 LIMIT 1`).Scan(&dup)
		if err == nil {
			return core.Errorf(core.EINVALID, "the directory lists БИК %s more than once", dup)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("check the bank directory: %w", err)
		}

		if err := tx.QueryRow(ctx, `SELECT count(*) FROM banks_import i WHERE NOT EXISTS (SELECT 1 FROM banks b WHERE b.bic = i.bic)`).
			Scan(&res.Added); err != nil {
			return fmt.Errorf("count new banks: %w", err)
		}
		set := make([]string, 0, len(bankColumns)-1)
		for _, c := range bankColumns[1:] {
			set = append(set, c+" = excluded."+c)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO banks (`+strings.Join(bankColumns, ", ")+`) SELECT `+strings.Join(bankColumns, ", ")+
			` FROM banks_import ON CONFLICT (bic) DO UPDATE SET `+strings.Join(set, ", ")); err != nil {
			return fmt.Errorf("merge the bank directory: %w", err)
		}
		if res.Removed, err = retireBanks(ctx, tx, dir.Date); err != nil {
			return err
		}

		_, err = tx.Exec(ctx, `INSERT INTO bank_directory (date, business_day, banks, imported_at) VALUES ($1, $2, $3, now())
			ON CONFLICT (one) DO UPDATE SET date = excluded.date, business_day = excluded.business_day, banks = excluded.banks,
			imported_at = excluded.imported_at`, dir.Date, dir.BusinessDay, res.Banks)
		if err != nil {
			return fmt.Errorf("record the bank directory: %w", err)
		}
		return nil
	})
	return res, err
}

// checkDirectoryDate refuses a directory older than the loaded one: it
// would retire the banks opened since.
func checkDirectoryDate(ctx context.Context, tx pgx.Tx, date core.Date) error {
	var loaded time.Time
	err := tx.QueryRow(ctx, `SELECT date FROM bank_directory`).Scan(&loaded)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the bank directory: %w", err)
	}
	if core.NewDate(loaded).After(date.Time) {
		return core.Errorf(core.ECONFLICT, "the directory of %s is older than the one loaded (%s): import a newer one",
			date, core.NewDate(loaded))
	}
	return nil
}

// retireBanks marks the banks of earlier directories that this one no
// longer lists as having left it on its date.
func retireBanks(ctx context.Context, tx pgx.Tx, date core.Date) (int, error) {
	rows, err := tx.Query(ctx, `SELECT `+strings.Join(bankColumns, ", ")+` FROM banks b
		WHERE directory_date < $1 AND date_out IS NULL AND NOT EXISTS (SELECT 1 FROM banks_import i WHERE i.bic = b.bic)`, date)
	if err != nil {
		return 0, fmt.Errorf("find retired banks: %w", err)
	}
	gone, err := pgx.CollectRows(rows, scanBank)
	if err != nil {
		return 0, fmt.Errorf("find retired banks: %w", err)
	}
	for _, b := range gone {
		b.DateOut = date
		if _, err := tx.Exec(ctx, `UPDATE banks SET date_out = $2, status = $3, rank = $4 WHERE bic = $1`,
			b.BIC, b.DateOut, b.Status(), b.Rank()); err != nil {
			return 0, fmt.Errorf("retire bank %s: %w", b.BIC, err)
		}
	}
	return len(gone), nil
}

// SuggestBanks implements core.BankDirectory: every word typed begins a
// word of the bank's (core.Bank.SearchText).
func (s *Store) SuggestBanks(ctx context.Context, q core.BankQuery) ([]core.Bank, error) {
	words := core.SearchWords(q.Query)
	if len(words) == 0 {
		return []core.Bank{}, nil
	}
	if len(words) > 10 {
		words = words[:10]
	}
	args := []any{}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	conds := make([]string, 0, len(words)+2)
	for _, w := range words {
		// The words are letters and digits only: nothing to escape for LIKE.
		conds = append(conds, "search LIKE "+arg("% "+w+"%"))
	}
	if len(q.Statuses) > 0 {
		conds = append(conds, "status = ANY("+arg(q.Statuses)+")")
	}
	if len(q.Kinds) > 0 {
		conds = append(conds, "kind = ANY("+arg(q.Kinds)+")")
	}
	rows, err := s.db(ctx).Query(ctx, `SELECT `+strings.Join(bankColumns, ", ")+` FROM banks WHERE `+
		strings.Join(conds, " AND ")+` ORDER BY rank, name, bic LIMIT `+arg(suggestionCount(q.Count)), args...)
	if err != nil {
		return nil, wrap("suggest banks", err)
	}
	out, err := pgx.CollectRows(rows, scanBank)
	return out, wrap("suggest banks", err)
}

// FindBanks implements core.BankDirectory.
func (s *Store) FindBanks(ctx context.Context, id string, count int) ([]core.Bank, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return []core.Bank{}, nil
	}
	rows, err := s.db(ctx).Query(ctx, `SELECT `+strings.Join(bankColumns, ", ")+` FROM banks
		WHERE bic = $1 OR (swift <> '' AND swift = upper($1)) OR registration_number = $1 OR correspondent_account = $1
		ORDER BY rank, name, bic LIMIT $2`, id, suggestionCount(count))
	if err != nil {
		return nil, wrap("find banks", err)
	}
	out, err := pgx.CollectRows(rows, scanBank)
	return out, wrap("find banks", err)
}

// suggestionCount is DaData's count: 10 by default, at most 20.
func suggestionCount(n int) int {
	switch {
	case n <= 0:
		return 10
	case n > core.MaxBankSuggestions:
		return core.MaxBankSuggestions
	}
	return n
}
