package main

import (
	"context"
	"fmt"
	"os"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/printform"
)

// formKinds says which document kind each form prints unless --kind says
// another (an act's счёт-фактура, a realization's act).
var formKinds = map[string]string{printform.FormQuote: core.EntityQuote, printform.FormInvoice: core.EntityInvoice,
	printform.FormAct: core.EntityAct, printform.FormSchetFaktura: core.EntityRealization, printform.FormTorg12: core.EntityRealization,
	printform.FormUPD: core.EntityRealization, printform.FormSalesOrder: core.EntitySalesOrder,
	printform.FormPurchaseOrder: core.EntityPurchaseOrder}

func (m *Main) print(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("print", "print --form invoice|quote|act|schet-faktura|torg12|upd|sales-order|purchase-order --id ID [--kind K] [-o FILE]")
	form := fs.String("form", "", "the form: invoice (счёт на оплату), quote (коммерческое предложение), act (акт), "+
		"schet-faktura, torg12 or upd (of a realization), sales-order, purchase-order (required)")
	kindFlag := fs.String("kind", "", "the document's kind when the form prints several: act (its schet-faktura or upd), realization (its act)")
	status := fs.Int("status", 0, "with --form upd: the УПД's status, 1 or 2 (default: 1 for a VAT payer)")
	id := fs.String("id", "", "the document's id (required)")
	out := fs.String("o", "", "the PDF file to write (default: the document's own file name in this folder)")
	if err := parse(fs, args); err != nil {
		return err
	}
	kind, ok := formKinds[*form]
	if !ok {
		return usagef("--form: want invoice, quote, act, schet-faktura, torg12, upd, sales-order or purchase-order, got %q", *form)
	}
	if *kindFlag != "" {
		kind = *kindFlag
	}
	if *id == "" {
		return usagef("--id is required")
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		p, err := newPrinter(st, cfg)
		if err != nil {
			return err
		}
		pdf, name, err := p.Print(ctx, printform.Request{Kind: kind, ID: *id, Form: *form, UPDStatus: *status})
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

// newPrinter is the hub's document printer.
func newPrinter(st *store.Store, cfg Config) (*printform.Printer, error) {
	img, err := loadImages(cfg)
	if err != nil {
		return nil, err
	}
	return &printform.Printer{Quotes: st.Quotes(), Invoices: st.Invoices(), Acts: st.Acts(), Realizations: st.Realizations(),
		SalesOrders: st.SalesOrders(), PurchaseOrders: st.PurchaseOrders(),
		Products: st.Products(), Accounts: st.Accounts(), Org: cfg.Organization, Edition: cfg.Documents.SchetFakturaEdition,
		Images: img}, nil
}

// loadImages reads and checks the configured pictures.
func loadImages(cfg Config) (printform.Images, error) {
	var img printform.Images
	im := cfg.Documents.Images
	for _, f := range []struct {
		key, path string
		dst       *[]byte
	}{{"logo", im.Logo, &img.Logo}, {"stamp", im.Stamp, &img.Stamp}, {"signature", im.Signature, &img.Signature}} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err == nil {
			err = printform.CheckImage(b)
		}
		if err != nil {
			return img, fmt.Errorf("config: documents.images.%s: %s: %w", f.key, f.path, err)
		}
		*f.dst = b
	}
	return img, nil
}
