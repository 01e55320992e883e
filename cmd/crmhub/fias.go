package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/crmhub/crmhub/connectors/fiasimport"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/addrsearch"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/gar"
)

// fias loads the state address register (ФИАС/ГАР).
func (m *Main) fias(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "fias", "Usage: crmhub fias import PATH... [--regions 77,50] [--delta]   (gar_xml.zip or gar_delta_xml.zip, or their unpacked folders)\n"+
		"       crmhub fias normalize --entity accounts [--dry-run]   (structure free-text addresses from the register)", args,
		subcommand{"import", m.fiasImport}, subcommand{"normalize", m.fiasNormalize})
}

func (m *Main) fiasImport(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("fias import", "fias import PATH... [--regions 77,50] [--delta]")
	regions := fs.String("regions", "", "the regions to load, by their two-digit codes (default: every region of the files)")
	delta := fs.Bool("delta", false, "PATH is a delta (gar_delta_xml.zip): apply its changes to the regions loaded before")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("fias import needs a gar_xml.zip or an unpacked folder")
	}
	var opt gar.Options
	if *regions != "" {
		for _, r := range strings.Split(*regions, ",") {
			r = strings.TrimSpace(r)
			if _, err := core.ParseFIASRegion(r); err != nil {
				return usagef("--regions: %q is not a region code (01 to 99)", r)
			}
			opt.Regions = append(opt.Regions, r)
		}
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		for _, path := range fs.Args() {
			if err := m.fiasLoad(ctx, st, path, opt, *delta); err != nil {
				return err
			}
		}
		return nil
	})
}

// fiasLoad imports one distribution with a progress bar of its bytes.
func (m *Main) fiasLoad(ctx context.Context, st *store.Store, path string, opt gar.Options, delta bool) error {
	src, err := gar.Open(path, opt)
	if err != nil {
		return err
	}
	defer src.Close()
	if !slices.ContainsFunc(src.Files(), func(f gar.File) bool { return f.Region != "" }) {
		return fmt.Errorf("%s: no ГАР files of a region to load (of the regions asked)", path)
	}
	var bar *progressbar.ProgressBar
	res, err := fiasimport.Import(ctx, st, src, fiasimport.Options{Delta: delta, Progress: func(p fiasimport.Progress) {
		if bar == nil {
			bar = progressbar.NewOptions64(max(p.Total, 1), progressbar.OptionSetWriter(m.Stderr), progressbar.OptionShowBytes(true),
				progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish(), progressbar.OptionFullWidth())
		}
		bar.Describe(fmt.Sprintf("region %s: %d records", p.Region, p.Records))
		_ = bar.Set64(p.Bytes)
	}})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range res.Regions {
		fmt.Fprintf(m.Stdout, "region %02d: %d address objects, %d houses\n", r.Region, r.Objects, r.Houses)
	}
	resumed := ""
	if res.Resumed > 0 {
		resumed = fmt.Sprintf(", %d of them committed by an earlier run", res.Resumed)
	}
	fmt.Fprintf(m.Stdout, "imported %s: %d records in %s (%.0f records/s)%s\n", path, res.Records, res.Elapsed.Round(time.Millisecond),
		float64(res.Records)/max(res.Elapsed.Seconds(), 1e-3), resumed)
	return nil
}

// fiasNormalize structures the free-text addresses of accounts from the
// register: each legal or actual address without a fias_id is looked up
// as typed, and one the register matches whole (every part typed, the
// house too) is given its fias_id, which fills its parts. The others stay
// as they are and are reported.
func (m *Main) fiasNormalize(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("fias normalize", "fias normalize --entity accounts [--dry-run]")
	entity := fs.String("entity", "", "the records whose addresses to structure: accounts")
	dry := fs.Bool("dry-run", false, "report what would be structured, change nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *entity != "accounts" {
		return usagef("--entity accounts is what fias normalize structures (leads and contacts: next)")
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		ctx := core.NewContextWithActor(ctx, core.Actor{ID: "cli", Source: "cli", Scopes: []core.Scope{core.ScopeAdmin}})
		dir := addrsearch.NewService(st, nil)
		if err := dir.Refresh(ctx); err != nil {
			return err
		}
		var accounts []core.Account
		cursor := ""
		for {
			page, err := st.Accounts().List(ctx, core.AccountFilter{ListParams: core.ListParams{Limit: core.MaxPageSize, Cursor: cursor,
				Sort: core.Sort{Field: "created_at"}}})
			if err != nil {
				return err
			}
			accounts = append(accounts, page.Items...)
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		bar := progressbar.NewOptions(max(len(accounts), 1), progressbar.OptionSetWriter(m.Stderr), progressbar.OptionSetDescription("accounts"),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
		var done, unmatched int
		var report []string
		for _, a := range accounts {
			_ = bar.Add(1)
			patch := core.Patch{}
			for _, f := range []struct {
				name string
				addr core.PostalAddress
			}{{"legal_address", a.LegalAddress}, {"actual_address", a.ActualAddress}} {
				text := f.addr.String()
				if f.addr.FIASID != "" || text == "" {
					continue
				}
				found, err := dir.SuggestAddresses(ctx, core.AddressQuery{Query: text, Count: 1})
				if err != nil {
					return err
				}
				terms := core.ParseAddressQuery(text)
				if len(found) == 0 || terms.House != "" && found[0].House.IsZero() {
					unmatched++
					report = append(report, fmt.Sprintf("%s\t%s\t%s", a.ID, f.name, text))
					continue
				}
				raw, _ := json.Marshal(map[string]string{"fias_id": found[0].FIASID, "flat": firstNonEmpty(terms.Flat, f.addr.Flat), "line": ""})
				patch[f.name] = raw
			}
			if len(patch) == 0 {
				continue
			}
			done += len(patch)
			if *dry {
				continue
			}
			if _, err := st.Accounts().Update(ctx, a.ID, a.Version, patch); err != nil {
				return fmt.Errorf("account %s: %w", a.ID, err)
			}
		}
		_ = bar.Finish()
		verb := "structured"
		if *dry {
			verb = "would structure (dry run)"
		}
		fmt.Fprintf(m.Stdout, "%s %d addresses of %d accounts; %d not matched by the register:\n", verb, done, len(accounts), unmatched)
		for _, r := range report {
			fmt.Fprintln(m.Stdout, "  "+r)
		}
		return nil
	})
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
