package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/exchange/reportout"
)

func (m *Main) reportCmd(ctx context.Context, args []string) error {
	return m.dispatch(ctx, "report", "Usage: crmhub report list\n       crmhub report run ID-OR-SLUG [--format json|csv|xlsx|pdf|svg|png] [-o FILE]"+
		" [--from DATE] [--to DATE] [--param name=value]... [--limit N] [--sep comma|semicolon]", args,
		subcommand{"list", m.reportList},
		subcommand{"run", m.reportRun})
}

// reportList prints the standard reports and the stored ones.
func (m *Main) reportList(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("report list", "report list")
	if err := parse(fs, args); err != nil {
		return err
	}
	return m.withStore(ctx, *cfgPath, func(s *store.Store) error {
		w := bufio.NewWriter(m.Stdout)
		defer w.Flush()
		for _, r := range core.StandardReports() {
			fmt.Fprintf(w, "%-20s %-10s %s (standard)\n", r.Slug, r.Entity, r.Name)
		}
		f := core.ListParams{Limit: 500, Sort: core.Sort{Field: "name"}}
		for {
			page, err := s.Reports().List(ctx, f)
			if err != nil {
				return err
			}
			for _, r := range page.Items {
				key := r.Slug
				if key == "" {
					key = r.ID
				}
				fmt.Fprintf(w, "%-20s %-10s %s\n", key, r.Entity, r.Name)
			}
			if page.NextCursor == "" {
				return nil
			}
			f.Cursor = page.NextCursor
		}
	})
}

// params collects repeated --param name=value flags.
type params map[string]string

func (p params) String() string { return fmt.Sprint(map[string]string(p)) }

func (p params) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", v)
	}
	p[name] = value
	return nil
}

// reportRun runs a report and writes it in a format.
func (m *Main) reportRun(ctx context.Context, args []string) error {
	fs, cfgPath := m.flags("report run", "report run ID-OR-SLUG [--format F] [-o FILE] [--from DATE] [--to DATE] [--param name=value]...")
	format := fs.String("format", "json", "json, csv, xlsx, pdf, svg or png")
	out := fs.String("o", "", "the file to write (default: standard output)")
	from := fs.String("from", "", "bound the report's date field from this date (YYYY-MM-DD)")
	to := fs.String("to", "", "and up to this date, inclusive")
	limit := fs.Int("limit", 0, "at most this many rows")
	sep := fs.String("sep", "comma", "CSV separator: comma or semicolon (for Russian Excel)")
	prm := params{}
	fs.Var(prm, "param", "a parameter the report declares, name=value (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var id string
	for fs.NArg() > 0 { // flags may follow the report's name
		if id != "" {
			return usagef("give one report")
		}
		id = fs.Arg(0)
		if err := parse(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	if id == "" {
		return usagef("give the report's id or slug (crmhub report list)")
	}
	if _, ok := reportout.FormatOf(*format); !ok {
		return usagef("--format: %q is not json, csv, xlsx, pdf, svg or png", *format)
	}
	run := core.ReportRun{Parameters: prm, Limit: *limit}
	for _, d := range []struct {
		flag string
		v    string
		dst  **time.Time
	}{{"--from", *from, &run.From}, {"--to", *to, &run.To}} {
		if d.v == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.v)
		if err != nil {
			return usagef("%s: %q is not a date such as 2026-11-27", d.flag, d.v)
		}
		*d.dst = &t
	}
	opts := reportout.Options{CSVSep: ','}
	switch *sep {
	case "comma":
	case "semicolon":
		opts.CSVSep = ';'
	default:
		return usagef("--sep: use comma or semicolon")
	}
	cfg, err := m.loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	opts.Location = cfg.Reports.Location()
	return m.withStore(ctx, *cfgPath, func(s *store.Store) error {
		rep, err := s.Reports().Find(ctx, id)
		if err != nil {
			return describe(err)
		}
		start := time.Now()
		res, err := s.Reports().Run(ctx, rep, run)
		if err != nil {
			return describe(err)
		}
		w := m.Stdout
		if *out != "" {
			f, err := os.Create(*out)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		bw := bufio.NewWriterSize(w, 1<<16)
		if err := reportout.Render(bw, res, *format, opts); err != nil {
			return describe(err)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		note := ""
		if res.Truncated {
			note = " (cut at the row limit)"
		}
		fmt.Fprintf(m.Stderr, "%s: %d rows%s in %s\n", res.Name, len(res.Rows), note, time.Since(start).Round(time.Millisecond))
		return nil
	})
}
