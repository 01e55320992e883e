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
	return m.dispatch(ctx, "fias", "Usage: crmhub fias import PATH... [--regions 77,50] [--delta] [--with apartments,steads]   (gar_xml.zip or gar_delta_xml.zip, or their unpacked folders)\n"+
		"       crmhub fias normalize --entity accounts [--dry-run]   (structure free-text addresses from the register)", args,
		subcommand{"import", m.fiasImport}, subcommand{"normalize", m.fiasNormalize})
}

func (m *Main) fiasImport(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("fias import", "fias import PATH... [--regions 77,50] [--delta] [--with apartments,steads]")
	regions := fs.String("regions", "", "the regions to load, by their two-digit codes (default: every region of the files)")
	delta := fs.Bool("delta", false, "PATH is a delta (gar_delta_xml.zip): apply its changes to the regions loaded before")
	with := fs.String("with", "", "what to load besides the address objects and houses, comma-separated: "+
		"apartments (the flats, offices and other premises), steads (the land plots)")
	if err := parse(fs, args); err != nil {
		return err
	}
	load := fiasimport.Options{Delta: *delta}
	for _, w := range strings.Split(*with, ",") {
		switch strings.TrimSpace(w) {
		case "":
		case "apartments":
			load.Apartments = true
		case "steads":
			load.Steads = true
		default:
			return usagef("--with: %q is not something the import loads (apartments, steads)", w)
		}
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
			if err := m.fiasLoad(ctx, st, path, opt, load); err != nil {
				return err
			}
		}
		return nil
	})
}

// fiasLoad imports one distribution with a progress bar of its bytes.
func (m *Main) fiasLoad(ctx context.Context, st *store.Store, path string, opt gar.Options, load fiasimport.Options) error {
	src, err := gar.Open(path, opt)
	if err != nil {
		return err
	}
	defer src.Close()
	if !slices.ContainsFunc(src.Files(), func(f gar.File) bool { return f.Region != "" }) {
		return fmt.Errorf("%s: no ГАР files of a region to load (of the regions asked)", path)
	}
	var bar *progressbar.ProgressBar
	load.Progress = func(p fiasimport.Progress) {
		if bar == nil {
			bar = progressbar.NewOptions64(max(p.Total, 1), progressbar.OptionSetWriter(m.Stderr), progressbar.OptionShowBytes(true),
				progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish(), progressbar.OptionFullWidth())
		}
		bar.Describe(fmt.Sprintf("region %s: %d records", p.Region, p.Records))
		_ = bar.Set64(p.Bytes)
	}
	res, err := fiasimport.Import(ctx, st, src, load)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range res.Regions {
		more := ""
		if load.Apartments {
			more += fmt.Sprintf(", %d apartments", r.Apartments)
		}
		if load.Steads {
			more += fmt.Sprintf(", %d land plots", r.Steads)
		}
		fmt.Fprintf(m.Stdout, "region %02d: %d address objects, %d houses%s\n", r.Region, r.Objects, r.Houses, more)
	}
	resumed := ""
	if res.Resumed > 0 {
		resumed = fmt.Sprintf(", %d of them committed by an earlier run", res.Resumed)
	}
	fmt.Fprintf(m.Stdout, "imported %s: %d records in %s (%.0f records/s)%s\n", path, res.Records, res.Elapsed.Round(time.Millisecond),
		float64(res.Records)/max(res.Elapsed.Seconds(), 1e-3), resumed)
	return nil
}

// fiasNormalize structures the free-text addresses of accounts, leads or
// contacts from the register: each address without a fias_id is looked up
// as written, and one the register matches whole (every part, the house
// too) is given its fias_id, which fills its parts. The others stay as
// they are and are reported. An address whose fias_id the register has
// retired since is moved to the object or house that took its place.
func (m *Main) fiasNormalize(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("fias normalize", "fias normalize --entity accounts|leads|contacts [--dry-run]")
	entity := fs.String("entity", "", "the records whose addresses to structure: accounts, leads or contacts")
	dry := fs.Bool("dry-run", false, "report what would be structured, change nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *entity != "accounts" && *entity != "leads" && *entity != "contacts" {
		return usagef("--entity is accounts, leads or contacts")
	}
	return m.withStore(ctx, *cfgPath, func(st *store.Store) error {
		ctx := core.NewContextWithActor(ctx, core.Actor{ID: "cli", Source: "cli", Scopes: []core.Scope{core.ScopeAdmin}})
		dir := addrsearch.NewService(st, nil)
		if err := dir.Refresh(ctx); err != nil {
			return err
		}
		records, update, err := addressedRecords(ctx, st, *entity)
		if err != nil {
			return err
		}
		bar := progressbar.NewOptions(max(len(records), 1), progressbar.OptionSetWriter(m.Stderr), progressbar.OptionSetDescription(*entity),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
		var done, unmatched, moved int
		var report []string
		for _, r := range records {
			_ = bar.Add(1)
			patch := core.Patch{}
			for _, f := range r.fields {
				if f.fiasID != "" {
					// An id the register retired since moves to its successor.
					next, err := st.AddressSuccessor(ctx, f.fiasID)
					if err != nil {
						return err
					}
					if next != "" {
						raw, _ := json.Marshal(map[string]string{"fias_id": next, "flat": f.flat})
						patch[f.name] = raw
						moved++
					}
					continue
				}
				if f.text == "" {
					continue
				}
				found, err := dir.SuggestAddresses(ctx, core.AddressQuery{Query: f.text, Count: 1})
				if err != nil {
					return err
				}
				terms := core.ParseAddressQuery(f.text)
				if len(found) == 0 || terms.House != "" && found[0].House.IsZero() {
					unmatched++
					report = append(report, fmt.Sprintf("%s\t%s\t%s", r.id, f.name, f.text))
					continue
				}
				set := map[string]string{"fias_id": found[0].FIASID, "flat": firstNonEmpty(terms.Flat, f.flat)}
				if f.line {
					set["line"] = ""
				}
				raw, _ := json.Marshal(set)
				patch[f.name] = raw
			}
			if len(patch) == 0 {
				continue
			}
			done += len(patch)
			if *dry {
				continue
			}
			if err := update(ctx, r.id, r.version, patch); err != nil {
				return fmt.Errorf("%s %s: %w", *entity, r.id, err)
			}
		}
		_ = bar.Finish()
		verb := "structured"
		if *dry {
			verb = "would structure (dry run)"
		}
		retired := ""
		if moved > 0 {
			retired = fmt.Sprintf(" (%d of them retired ids moved to their successors)", moved)
		}
		fmt.Fprintf(m.Stdout, "%s %d addresses of %d %s%s; %d not matched by the register:\n", verb, done, len(records), *entity, retired, unmatched)
		for _, r := range report {
			fmt.Fprintln(m.Stdout, "  "+r)
		}
		return nil
	})
}

// addressed is a record with the addresses fias normalize may structure.
type addressed struct {
	id      string
	version int64
	fields  []addressField
}

// addressField is one address of a record as written: its field, its text,
// its fias_id and flat; line says the field has a free-text line to clear.
type addressField struct {
	name, text, fiasID, flat string
	line                     bool
}

// addressedRecords reads every record of an entity with its addresses, and
// how to update one.
func addressedRecords(ctx context.Context, st *store.Store, entity string) ([]addressed, func(context.Context, string, int64, core.Patch) error, error) {
	var out []addressed
	params := func(cursor string) core.ListParams {
		return core.ListParams{Limit: core.MaxPageSize, Cursor: cursor, Sort: core.Sort{Field: "created_at"}}
	}
	cursor := ""
	switch entity {
	case "accounts":
		for {
			page, err := st.Accounts().List(ctx, core.AccountFilter{ListParams: params(cursor)})
			if err != nil {
				return nil, nil, err
			}
			for _, a := range page.Items {
				out = append(out, addressed{id: a.ID, version: a.Version, fields: []addressField{
					{name: "legal_address", text: a.LegalAddress.String(), fiasID: a.LegalAddress.FIASID, flat: a.LegalAddress.Flat, line: true},
					{name: "actual_address", text: a.ActualAddress.String(), fiasID: a.ActualAddress.FIASID, flat: a.ActualAddress.Flat, line: true}}})
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		return out, func(ctx context.Context, id string, v int64, p core.Patch) error {
			_, err := st.Accounts().Update(ctx, id, v, p)
			return err
		}, nil
	case "leads":
		for {
			page, err := st.Leads().List(ctx, core.LeadFilter{ListParams: params(cursor)})
			if err != nil {
				return nil, nil, err
			}
			for _, l := range page.Items {
				if !l.Converted { // a converted lead is read-only
					out = append(out, addressed{id: l.ID, version: l.Version, fields: []addressField{vtigerField("address", l.Address)}})
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		return out, func(ctx context.Context, id string, v int64, p core.Patch) error {
			_, err := st.Leads().Update(ctx, id, v, p)
			return err
		}, nil
	}
	for {
		page, err := st.Contacts().List(ctx, core.ContactFilter{ListParams: params(cursor)})
		if err != nil {
			return nil, nil, err
		}
		for _, c := range page.Items {
			out = append(out, addressed{id: c.ID, version: c.Version, fields: []addressField{vtigerField("address", c.Address),
				vtigerField("other_address", c.OtherAddress)}})
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	return out, func(ctx context.Context, id string, v int64, p core.Patch) error {
		_, err := st.Contacts().Update(ctx, id, v, p)
		return err
	}, nil
}

// vtigerField is a lead's or contact's address as written: postcode,
// state, city, street.
func vtigerField(name string, a core.Address) addressField {
	var parts []string
	for _, p := range []string{a.Postcode, a.State, a.City, a.Street} {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, strings.TrimSpace(p))
		}
	}
	return addressField{name: name, text: strings.Join(parts, ", "), fiasID: a.FIASID, flat: a.Flat}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
