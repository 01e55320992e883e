package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

var _ core.CurrencyRates = (*Store)(nil)

// PutRates implements core.CurrencyRates: one statement for the day.
func (s *Store) PutRates(ctx context.Context, rates []core.CurrencyRate) (int, error) {
	if len(rates) == 0 {
		return 0, nil
	}
	dates, codes, nominals, values := make([]time.Time, len(rates)), make([]string, len(rates)), make([]int32, len(rates)),
		make([]decimal.Decimal, len(rates))
	for i, r := range rates {
		if !core.ISOCurrency(r.Currency) || r.Nominal < 1 || !r.Rate.IsPositive() || r.Date.IsZero() {
			return 0, core.Invalid([]core.FieldError{{Field: fmt.Sprintf("rates[%d]", i), Code: "invalid",
				Message: "a rate needs an ISO 4217 currency, a nominal of at least 1, a positive rate and a date"}})
		}
		dates[i], codes[i], nominals[i], values[i] = r.Date.Time, r.Currency, int32(r.Nominal), r.Rate
	}
	tag, err := s.db(ctx).Exec(ctx, `INSERT INTO currency_rates (date, currency, nominal, rate)
		SELECT * FROM unnest($1::date[], $2::text[], $3::int[], $4::numeric[])
		ON CONFLICT (currency, date) DO UPDATE SET nominal = excluded.nominal, rate = excluded.rate`, dates, codes, nominals, values)
	if err != nil {
		return 0, fmt.Errorf("put rates: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Rates implements core.CurrencyRates.
func (s *Store) Rates(ctx context.Context, date time.Time) ([]core.CurrencyRate, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT DISTINCT ON (currency) currency, nominal, rate, date FROM currency_rates
		WHERE date <= $1 ORDER BY currency, date DESC`, date)
	if err != nil {
		return nil, wrap("rates", err)
	}
	out, err := pgx.CollectRows(rows, scanRate)
	return out, wrap("rates", err)
}

// Rate implements core.CurrencyRates.
func (s *Store) Rate(ctx context.Context, code string, date time.Time) (core.CurrencyRate, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT currency, nominal, rate, date FROM currency_rates
		WHERE currency = $1 AND date <= $2 ORDER BY date DESC LIMIT 1`, code, date)
	if err != nil {
		return core.CurrencyRate{}, wrap("rate", err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRate)
	if err != nil {
		return core.CurrencyRate{}, translate(err, "currency rate")
	}
	return r, nil
}

func scanRate(row pgx.CollectableRow) (core.CurrencyRate, error) {
	var r core.CurrencyRate
	var d time.Time
	err := row.Scan(&r.Currency, &r.Nominal, &r.Rate, &d)
	r.Date = core.NewDate(d)
	return r, err
}
