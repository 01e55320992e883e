package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/crmhub/crmhub/connectors/fiasimport"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/gar"
)

// fias loads the state address register (ФИАС/ГАР).
func (m *Main) fias(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "fias", "Usage: crmhub fias import PATH... [--regions 77,50]   (gar_xml.zip, or its unpacked folders)", args,
		subcommand{"import", m.fiasImport})
}

func (m *Main) fiasImport(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("fias import", "fias import PATH... [--regions 77,50]")
	regions := fs.String("regions", "", "the regions to load, by their two-digit codes (default: every region of the files)")
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
			if err := m.fiasLoad(ctx, st, path, opt); err != nil {
				return err
			}
		}
		return nil
	})
}

// fiasLoad imports one distribution with a progress bar of its bytes.
func (m *Main) fiasLoad(ctx context.Context, st *store.Store, path string, opt gar.Options) error {
	src, err := gar.Open(path, opt)
	if err != nil {
		return err
	}
	defer src.Close()
	if !slices.ContainsFunc(src.Files(), func(f gar.File) bool { return f.Region != "" }) {
		return fmt.Errorf("%s: no ГАР files of a region to load (of the regions asked)", path)
	}
	var bar *progressbar.ProgressBar
	res, err := fiasimport.Import(ctx, st, src, fiasimport.Options{Progress: func(p fiasimport.Progress) {
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
