// Package fiasimport loads a ГАР (ФИАС) distribution into the store: the
// reference tables whole, then region by region each file's actual and
// active records, in batches committed with the file's progress, into the
// region's staging tables, which the store then builds into the region's
// tables and swaps in. A killed import resumes from its last committed
// batch; a file that breaks off stops its region's import with the
// element and line, and the region's previous data keeps serving.
package fiasimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/exchange/gar"
)

// Options tune an import. Zero values take the defaults.
type Options struct {
	// BatchSize is how many records a batch reads before it commits
	// (default 100,000).
	BatchSize int
	// Today decides which parameter values are current (ENDDATE after
	// it). Default: now.
	Today time.Time
	// Delta applies a delta distribution (gar_delta_xml.zip) to regions
	// loaded before: its changed, new and retired objects and houses, moves
	// and parameters, each region in one transaction.
	Delta bool
	// Apartments loads the flats, offices and other premises of the
	// houses (AS_APARTMENTS and their parameters), which a full country
	// holds tens of millions of: asked for, not by default.
	Apartments bool
	// Steads loads the land plots (AS_STEADS and their parameters).
	Steads bool
	// Parallel is how many files of a region load at once (default 2).
	Parallel int
	// Progress, when set, is told after each batch (one call at a time).
	Progress func(Progress)
	Log      *slog.Logger
}

// Progress is where an import is.
type Progress struct {
	Region, File string
	// Bytes and Total are the bytes read of all the files and their sum.
	Bytes, Total int64
	// Records counts the records read so far (skipped ones on resume
	// included), Kept those copied.
	Records, Kept int64
}

// Result is what an import loaded.
type Result struct {
	Regions []core.FIASRegionResult
	Records int64
	// Resumed counts the records a resumed import did not read again.
	Resumed int64
	Elapsed time.Duration
}

// Import loads src. Regions are loaded one after the other; an error
// stops the import, the regions loaded before it staying loaded.
func Import(ctx context.Context, st core.FIASLoader, src *gar.Source, opt Options) (Result, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 100_000
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 2
	}
	if opt.Today.IsZero() {
		opt.Today = time.Now()
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	im := &importer{st: st, opt: opt, today: opt.Today.Format("2006-01-02")}
	start := time.Now()
	files := src.Files()
	for _, f := range files {
		im.progress.Total += f.Size
	}

	for _, f := range files {
		if f.Region == "" {
			if err := im.reference(ctx, f); err != nil {
				return im.res, err
			}
		}
	}
	var regions []string
	for _, f := range files {
		if f.Region != "" && !slices.Contains(regions, f.Region) {
			regions = append(regions, f.Region)
		}
	}
	for _, r := range regions {
		var of []gar.File
		for _, f := range files {
			if f.Region == r {
				of = append(of, f)
			}
		}
		if err := im.region(ctx, r, of); err != nil {
			return im.res, fmt.Errorf("region %s: %w", r, err)
		}
	}
	im.res.Records = im.progress.Records
	im.res.Elapsed = time.Since(start)
	return im.res, nil
}

type importer struct {
	mu       sync.Mutex // guards progress and res while files load side by side
	st       core.FIASLoader
	opt      Options
	today    string
	progress Progress
	res      Result
	// objects are the region's address objects: of the hierarchies' items
	// only theirs are copied whole (a house needs its parent only).
	objects map[int64]struct{}
}

// reference replaces a reference table with the file's rows.
func (im *importer) reference(ctx context.Context, f gar.File) error {
	d, closer, err := im.open(f)
	if err != nil {
		return err
	}
	defer closer.Close()
	var types []core.FIASType
	var table string
	for {
		var t core.FIASType
		switch f.Kind {
		case gar.KindAddrObjTypes:
			table = core.FIASObjectTypes
			var r gar.AddrObjType
			if r, err = d.AddrObjType(); err == nil {
				t = core.FIASType{ID: int(r.ID), Level: r.Level, ShortName: r.ShortName, Name: r.Name, Active: r.IsActive}
			}
		case gar.KindHouseTypes, gar.KindAddHouseTypes, gar.KindApartmentTypes:
			table = map[gar.Kind]string{gar.KindHouseTypes: core.FIASHouseTypes, gar.KindAddHouseTypes: core.FIASAddHouseTypes,
				gar.KindApartmentTypes: core.FIASApartmentTypes}[f.Kind]
			var r gar.Type
			if r, err = d.Type(); err == nil {
				t = core.FIASType{ID: int(r.ID), ShortName: r.ShortName, Name: r.Name, Active: r.IsActive}
			}
		case gar.KindObjectLevels:
			table = core.FIASLevels
			var r gar.ObjectLevel
			if r, err = d.ObjectLevel(); err == nil {
				t = core.FIASType{ID: r.Level, ShortName: r.ShortName, Name: r.Name, Active: r.IsActive}
			}
		default:
			return nil
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		types = append(types, t)
	}
	im.progress.Records += int64(len(types))
	if err := im.st.ReplaceFIASTypes(ctx, table, types); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	im.report(f, "")
	return nil
}

// region loads one region's files, resuming a stopped import of the same
// files, and swaps the region in.
func (im *importer) region(ctx context.Context, region string, files []gar.File) error {
	var loaded []gar.File
	for _, f := range files {
		if im.stagingTable(f.Kind) != "" {
			loaded = append(loaded, f)
		}
	}
	paths := make([]string, len(loaded))
	for i, f := range loaded {
		paths[i] = f.Path
	}
	imp, progress, err := im.st.BeginFIASRegion(ctx, region, paths)
	if err != nil {
		return err
	}
	im.objects = map[int64]struct{}{}
	if i := slices.IndexFunc(loaded, func(f gar.File) bool { return f.Kind == gar.KindAddrObj }); i >= 0 && progress[i].Read > 0 {
		ids, err := imp.ObjectIDs(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			im.objects[id] = struct{}{}
		}
	}
	// The address objects first: the hierarchies' rows depend on them.
	// Then the other files side by side, each on a connection of its own:
	// one decodes while the database takes another's rows.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(im.opt.Parallel)
	for i, f := range loaded {
		p := progress[i]
		if p.Done {
			im.mu.Lock()
			im.progress.Records += p.Read
			im.progress.Bytes += f.Size
			im.res.Resumed += p.Read
			im.mu.Unlock()
			continue
		}
		if f.Kind == gar.KindAddrObj {
			if err := im.file(ctx, imp, f, p); err != nil {
				return err
			}
			continue
		}
		g.Go(func() error { return im.file(gctx, imp, f, p) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	finish := imp.Finish
	if im.opt.Delta {
		finish = imp.FinishDelta
	}
	res, err := finish(ctx)
	if err != nil {
		return err
	}
	im.res.Regions = append(im.res.Regions, res)
	im.opt.Log.Info("fias_region_loaded", "region", region, "objects", res.Objects, "houses", res.Houses)
	return nil
}

// file copies one file's kept records in batches, after skipping those a
// stopped import committed.
func (im *importer) file(ctx context.Context, imp core.FIASRegionLoad, f gar.File, p core.FIASFile) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	defer rc.Close()
	cr := &countingReader{r: rc}
	d, err := gar.NewDecoder(cr, f.Kind)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	row := im.rowOf(f.Kind)
	for range p.Read {
		if err := d.Skip(); err != nil {
			return fmt.Errorf("%s: resuming after record %d: %w", f.Path, p.Read, err)
		}
	}
	im.mu.Lock()
	im.res.Resumed += p.Read
	im.progress.Records += p.Read
	im.mu.Unlock()
	var counted int64
	batch := &batchReader{d: d, row: row, limit: im.opt.BatchSize}
	for !batch.done {
		batch.start = d.Count()
		_, err := imp.Copy(ctx, f.Path, im.stagingTable(f.Kind), batch, func() (int64, bool) { return int64(d.Count()), batch.done })
		if batch.err != nil {
			return fmt.Errorf("%s: %w", f.Path, batch.err)
		}
		if err != nil {
			return err
		}
		batch.batchDone = false
		im.mu.Lock()
		im.progress.Records += int64(d.Count() - batch.start)
		im.progress.Bytes += cr.n - counted
		counted = cr.n
		im.report(f, f.Region)
		im.mu.Unlock()
	}
	return nil
}

// batchReader reads one batch of a file's kept records in COPY's text
// format: up to limit records decoded after start.
type batchReader struct {
	d            *gar.Decoder
	row          func(d *gar.Decoder, c *core.CopyText) (bool, error)
	limit, start int
	rows         core.CopyText
	off          int
	// batchDone: this batch is read; done: the file is; err: it is broken.
	batchDone, done bool
	err             error
}

func (r *batchReader) Read(p []byte) (int, error) {
	for r.rows.Len()-r.off < len(p) && !r.batchDone {
		if r.d.Count()-r.start >= r.limit {
			r.batchDone = true
			break
		}
		_, err := r.row(r.d, &r.rows)
		if errors.Is(err, io.EOF) {
			r.batchDone, r.done = true, true
			break
		}
		if err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.rows.Bytes()[r.off:])
	r.off += n
	if r.off == r.rows.Len() {
		r.rows.Reset()
		r.off = 0
	}
	if n == 0 && r.batchDone {
		return 0, io.EOF
	}
	return n, nil
}

func (im *importer) report(f gar.File, region string) {
	if im.opt.Progress != nil {
		p := im.progress
		p.Region, p.File = region, f.Path
		im.opt.Progress(p)
	}
}

func (im *importer) open(f gar.File) (*gar.Decoder, io.Closer, error) {
	d, c, err := f.Decoder()
	if err != nil {
		return nil, nil, err
	}
	return d, c, nil
}

// stagingTable is where a kind's records go ("" for a kind not loaded).
func (im *importer) stagingTable(k gar.Kind) core.FIASTable {
	switch k {
	case gar.KindApartments:
		if im.opt.Apartments {
			return core.FIASApartments
		}
	case gar.KindApartmentsParams:
		if im.opt.Apartments {
			return core.FIASParams
		}
	case gar.KindSteads:
		if im.opt.Steads {
			return core.FIASSteads
		}
	case gar.KindSteadsParams:
		if im.opt.Steads {
			return core.FIASParams
		}
	case gar.KindAddrObj:
		return core.FIASObjects
	case gar.KindHouses:
		return core.FIASHouses
	case gar.KindAdmHierarchy:
		return core.FIASAdm
	case gar.KindMunHierarchy:
		return core.FIASMun
	case gar.KindAddrObjParams:
		return core.FIASObjectParams
	case gar.KindHousesParams:
		return core.FIASParams
	}
	return ""
}

// rowOf decodes a kind's next record and appends its staging row to c;
// kept is false for a record that is not served (not actual, not active,
// a parameter not kept or no longer current).
func (im *importer) rowOf(k gar.Kind) func(d *gar.Decoder, c *core.CopyText) (bool, error) {
	switch k {
	case gar.KindAddrObj:
		return func(d *gar.Decoder, c *core.CopyText) (bool, error) {
			o, err := d.AddrObj()
			if err != nil || !im.copied(o.IsActual) {
				return false, err
			}
			if o.IsActual && o.IsActive {
				im.objects[o.ObjectID] = struct{}{}
			}
			c.Int(o.ObjectID)
			c.Text(o.ObjectGUID)
			c.Int(int64(o.Level))
			c.Text(o.Name)
			c.Text(o.TypeName)
			c.TextOrNull(o.UpdateDate)
			c.Bool(o.IsActive)
			version(c, o.ID, o.PrevID, o.NextID, o.IsActual)
			return true, nil
		}
	case gar.KindHouses:
		return func(d *gar.Decoder, c *core.CopyText) (bool, error) {
			h, err := d.House()
			if err != nil || !im.copied(h.IsActual) {
				return false, err
			}
			c.Int(h.ObjectID)
			c.Text(h.ObjectGUID)
			c.Text(h.HouseNum)
			c.Int(int64(h.HouseType))
			c.Text(h.AddNum1)
			c.Int(int64(h.AddType1))
			c.Text(h.AddNum2)
			c.Int(int64(h.AddType2))
			c.TextOrNull(h.UpdateDate)
			c.Bool(h.IsActive)
			version(c, h.ID, h.PrevID, h.NextID, h.IsActual)
			return true, nil
		}
	case gar.KindApartments:
		return func(d *gar.Decoder, c *core.CopyText) (bool, error) {
			a, err := d.Apartment()
			if err != nil || !im.copied(a.IsActual) {
				return false, err
			}
			c.Int(a.ObjectID)
			c.Text(a.ObjectGUID)
			c.Text(a.Number)
			c.Int(int64(a.ApartType))
			c.TextOrNull(a.UpdateDate)
			c.Bool(a.IsActive)
			version(c, a.ID, a.PrevID, a.NextID, a.IsActual)
			return true, nil
		}
	case gar.KindSteads:
		return func(d *gar.Decoder, c *core.CopyText) (bool, error) {
			st, err := d.Stead()
			if err != nil || !im.copied(st.IsActual) {
				return false, err
			}
			c.Int(st.ObjectID)
			c.Text(st.ObjectGUID)
			c.Text(st.Number)
			c.TextOrNull(st.UpdateDate)
			c.Bool(st.IsActive)
			version(c, st.ID, st.PrevID, st.NextID, st.IsActual)
			return true, nil
		}
	case gar.KindAdmHierarchy:
		return func(d *gar.Decoder, c *core.CopyText) (bool, error) {
			h, err := d.AdmHierarchy()
			if err != nil || !h.IsActive {
				return false, err
			}
			c.Int(h.ObjectID)
			c.Int(h.ParentObjID)
			if _, ok := im.objects[h.ObjectID]; ok || im.opt.Delta {
				c.Text(h.Path)
			} else {
				c.Text("")
			}
			c.TextOrNull(h.StartDate)
			c.End()
			return true, nil
		}
	case gar.KindMunHierarchy:
		return func(d *gar.Decoder, c *core.CopyText) (bool, error) {
			h, err := d.MunHierarchy()
			if err != nil || !h.IsActive {
				return false, err
			}
			if _, ok := im.objects[h.ObjectID]; !ok && !im.opt.Delta {
				return false, nil
			}
			c.Int(h.ObjectID)
			c.Int(h.ParentObjID)
			c.Text(h.OKTMO)
			c.TextOrNull(h.StartDate)
			c.End()
			return true, nil
		}
	}
	return func(d *gar.Decoder, c *core.CopyText) (bool, error) {
		p, err := d.Param()
		if err != nil || !slices.Contains(core.FIASParamTypes, p.TypeID) || (p.EndDate != "" && p.EndDate <= im.today) {
			return false, err
		}
		c.Int(p.ObjectID)
		c.Int(int64(p.TypeID))
		c.Text(p.Value)
		c.End()
		return true, nil
	}
}

// copied reports whether a version of an object or a house is copied:
// the actual one, active (served) or not (retired, whose successor its
// NEXTID may name); of a delta, every version, for the chains that link
// a retired object to the one that took its place.
func (im *importer) copied(actual bool) bool {
	return actual || im.opt.Delta
}

// version ends a staged object's or house's row with where its version
// sits in the register's chains: its record, the records before and
// after it (none: 0), and whether it is the actual one.
func version(c *core.CopyText, record, prev, next int64, actual bool) {
	c.Int(record)
	for _, id := range []int64{prev, next} {
		if id == 0 {
			c.Null()
		} else {
			c.Int(id)
		}
	}
	c.Bool(actual)
	c.End()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
