package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/crmhub/crmhub/connectors/onec"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
)

func (m *Main) onecCmd(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "onec", "Usage: crmhub onec import FILE.xml...\n       crmhub onec export-orders [-o FILE] [--all] [--mark] [--documents sales_orders,invoices]", args,
		subcommand{"import", m.onecImport},
		subcommand{"export-orders", m.onecExport})
}

// onecImport applies CommerceML files from disk (import.xml before
// offers.xml), as the exchange would.
func (m *Main) onecImport(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("onec import", "onec import FILE.xml...")
	if err := parse(fs, args); err != nil {
		return err
	}
	var files []string
	for fs.NArg() > 0 {
		files = append(files, fs.Arg(0))
		if err := parse(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	if len(files) == 0 {
		return usagef("give the CommerceML files (import.xml, then offers.xml)")
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	return m.withStore(ctx, *cfgPath, func(s *store.Store) error {
		ctx := core.NewContextWithActor(ctx, core.Actor{ID: "cli", Source: "onec"})
		cat, err := onec.NewCatalog(onec.CatalogDeps{Products: s.Products(), Services: s.Services(), Groups: s.ProductGroups(),
			PriceBooks: s.PriceBooks(), Items: s, Tx: s, Fields: s}, onec.Config{CRMFields: cfg.OneC.CRMFields,
			Requisites: cfg.OneC.RequisitesMap, Logger: newLogger(cfg.Log, m.Stderr)})
		if err != nil {
			return err
		}
		for _, path := range files {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			st := cat.Run(ctx, path, f, func(n int64) { fmt.Fprintf(m.Stderr, "\r%s: %d items", path, n) })
			f.Close()
			fmt.Fprintf(m.Stdout, "%s: %d items; created %d, updated %d, deactivated %d, skipped %d, errors %d\n", path,
				st.Processed, st.Created, st.Updated, st.Deactivated, st.Skipped, len(st.Errors))
			for i, e := range st.Errors {
				if i == 20 {
					fmt.Fprintf(m.Stdout, "  … and %d more\n", len(st.Errors)-20)
					break
				}
				fmt.Fprintln(m.Stdout, "  "+e)
			}
			if st.Status == "failed" {
				return fmt.Errorf("%s: %s", path, st.Error)
			}
		}
		return nil
	})
}

// onecExport writes the orders 1C has not confirmed (or all) as
// CommerceML; --mark records them as sent.
func (m *Main) onecExport(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("onec export-orders",
		"onec export-orders [-o FILE] [--all] [--mark] [--encoding windows-1251|UTF-8] [--documents sales_orders,invoices]")
	out := fs.String("o", "", "the file to write (default: standard output)")
	all := fs.Bool("all", false, "every document, not only those 1C has not confirmed")
	docs := fs.String("documents", "", "sales_orders and/or invoices, comma-separated (default: onec.documents)")
	mark := fs.Bool("mark", false, "record the written orders as confirmed by 1C")
	enc := fs.String("encoding", "windows-1251", "windows-1251 or UTF-8")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	kinds := cfg.OneC.Documents
	if *docs != "" {
		kinds = strings.Split(*docs, ",")
		for _, k := range kinds {
			if k != onec.DocSalesOrders && k != onec.DocInvoices {
				return usagef("--documents: %q is not sales_orders or invoices", k)
			}
		}
	}
	return m.withStore(ctx, *cfgPath, func(s *store.Store) error {
		var w io.Writer = m.Stdout
		if *out != "" {
			f, err := os.Create(*out)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		sent, err := onec.ExportOrders(ctx, saleDeps(s), w, onec.ExportOptions{Encoding: *enc, Documents: kinds, All: *all,
			Requisites: cfg.OneC.RequisitesMap, Logger: newLogger(cfg.Log, m.Stderr)})
		if err != nil {
			return describe(err)
		}
		if *mark {
			if err := onec.MarkExported(ctx, s, sent); err != nil {
				return err
			}
		}
		var counts []string
		for _, k := range kinds {
			entity, label := core.EntitySalesOrder, "sales orders"
			if k == onec.DocInvoices {
				entity, label = core.EntityInvoice, "invoices"
			}
			counts = append(counts, fmt.Sprintf("%d %s", len(sent[entity]), label))
		}
		fmt.Fprintf(m.Stderr, "%s written\n", strings.Join(counts, ", "))
		return nil
	})
}

// saleDeps are the services the 1C orders exchange uses.
func saleDeps(s *store.Store) onec.SaleDeps {
	return onec.SaleDeps{SalesOrders: s.SalesOrders(), Invoices: s.Invoices(), Accounts: s.Accounts(), Products: s.Products(),
		Services: s.Services(), Payments: s.Payments(), Exports: s, Fields: s}
}
