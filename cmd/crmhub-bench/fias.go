package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/crmhub/crmhub/core/pgembed"
	"github.com/crmhub/crmhub/exchange/gar"
)

// fiasBench measures `crmhub fias import` of synthetic regions of the
// given sizes (houses; address objects a fifteenth of them) into a durable
// embedded cluster: houses and records a second, the importer's peak
// resident memory (its rusage maxrss), and the served tables' and
// indexes' size per million houses.
func fiasBench(ctx context.Context, hub string, sizes []int) error {
	db, err := newBenchDB(ctx, "fias", pgembed.Config{Durable: true})
	if err != nil {
		return err
	}
	defer db.close()
	fmt.Printf("crmhub-bench -fias: crmhub fias import of synthetic regions (real ГАР format) into a durable embedded PostgreSQL\n")
	fmt.Printf("%-10s %-9s %-9s %-10s %-12s %-12s %-10s %-12s %-12s\n", "houses", "objects", "generate", "import",
		"houses/s", "records/s", "peak RSS", "tables/1M", "indexes/1M")
	for _, houses := range sizes {
		if err := fiasOnce(ctx, db, hub, houses); err != nil {
			return err
		}
	}
	return nil
}

func fiasOnce(ctx context.Context, db *benchDB, hub string, houses int) error {
	dir, err := os.MkdirTemp("", "crmhub-bench-gar-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	spec := gar.SynthSpec{Region: "50", Houses: houses, Objects: max(houses/15, 100), Seed: 1}
	start := time.Now()
	if err := gar.Synthesize(dir, spec); err != nil {
		return fmt.Errorf("synthesize: %w", err)
	}
	generated := time.Since(start)

	cmd := exec.CommandContext(ctx, hub, "fias", "import", dir)
	cmd.Env = append(os.Environ(), "CRMHUB_DATABASE_URL="+db.pool.Config().ConnString(), "CRMHUB_LOG_LEVEL=warn")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start = time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("crmhub fias import: %w\n%s", err, out.String())
	}
	took := time.Since(start)
	peak := int64(0)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peak = ru.Maxrss // KiB on Linux
	}
	records := int64(0)
	for _, line := range strings.Split(out.String(), "\n") {
		if _, rest, ok := strings.Cut(line, ": "); ok && strings.HasPrefix(line, "imported ") {
			records, _ = strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
		}
	}
	var tables, indexes int64
	err = db.pool.QueryRow(ctx, `SELECT coalesce(sum(pg_table_size(c.oid)), 0), coalesce(sum(pg_indexes_size(c.oid)), 0)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent IN ('fias_houses'::regclass, 'fias_addr_objects'::regclass)`).Scan(&tables, &indexes)
	if err != nil {
		return err
	}
	perMillion := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)/(float64(houses)/1e6)) }
	fmt.Printf("%-10d %-9d %-9s %-10s %-12.0f %-12.0f %-10s %-12s %-12s\n", houses, spec.Objects,
		generated.Round(100*time.Millisecond), took.Round(100*time.Millisecond), float64(houses)/took.Seconds(),
		float64(records)/took.Seconds(), fmt.Sprintf("%d MiB", peak>>10), perMillion(tables), perMillion(indexes))
	size, _ := dirSize(dir)
	fmt.Printf("           (the region's files: %.1f GiB)\n", float64(size)/(1<<30))
	return nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}
