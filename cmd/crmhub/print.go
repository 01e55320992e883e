package main

import (
	"context"
	"fmt"
	"os"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/printform"
)

// formKinds says which document kind each form prints.
var formKinds = map[string]string{printform.FormQuote: core.EntityQuote, printform.FormInvoice: core.EntityInvoice,
	printform.FormAct: core.EntityAct}

func (m *Main) print(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("print", "print --form invoice|quote|act --id ID [-o FILE]")
	form := fs.String("form", "", "the form: invoice (счёт на оплату), quote (коммерческое предложение) or act (акт) (required)")
	id := fs.String("id", "", "the document's id (required)")
	out := fs.String("o", "", "the PDF file to write (default: the document's own file name in this folder)")
	if err := parse(fs, args); err != nil {
		return err
	}
	kind, ok := formKinds[*form]
	if !ok {
		return usagef("--form: want invoice, quote or act, got %q", *form)
	}
	if *id == "" {
		return usagef("--id is required")
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		p := &printform.Printer{Quotes: st.Quotes(), Invoices: st.Invoices(), Acts: st.Acts(), Accounts: st.Accounts(),
			Org: cfg.Organization}
		pdf, name, err := p.Print(ctx, kind, *id, *form)
		if err != nil {
			return describe(err)
		}
		if *out == "" {
			*out = name
		}
		if err := os.WriteFile(*out, pdf, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "wrote %s (%d bytes)\n", *out, len(pdf))
		return nil
	})
}
