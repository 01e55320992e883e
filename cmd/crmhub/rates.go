package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/cbrrates"
)

// rates imports the Bank of Russia's daily rates or lists them.
func (m *Main) rates(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "rates", "Usage: crmhub rates import FILE   (the Bank of Russia's XML_daily.asp file)\n       crmhub rates list [--date YYYY-MM-DD]", args,
		subcommand{"import", m.ratesImport},
		subcommand{"list", m.ratesList})
}

func (m *Main) ratesImport(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("rates import", "rates import FILE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("rates import needs one file")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	rates, err := cbrrates.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		n, err := st.PutRates(ctx, rates)
		if err != nil {
			return err
		}
		day := "-"
		if len(rates) > 0 {
			day = rates[0].Date.Format("02.01.2006")
		}
		fmt.Fprintf(m.Stdout, "imported %d rates of %s\n", n, day)
		return nil
	})
}

func (m *Main) ratesList(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("rates list", "rates list [--date YYYY-MM-DD]")
	date := fs.String("date", "", "the day (default today): the rates in force on it")
	if err := parse(fs, args); err != nil {
		return err
	}
	day := time.Now()
	if *date != "" {
		var err error
		if day, err = time.Parse("2006-01-02", *date); err != nil {
			return usagef("--date must be YYYY-MM-DD")
		}
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		rates, err := st.Rates(ctx, day)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "CURRENCY\tNOMINAL\tRATE\tDATE")
		for _, r := range rates {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", r.Currency, r.Nominal, r.Rate.StringFixed(4), r.Date.Format("2006-01-02"))
		}
		return w.Flush()
	})
}
