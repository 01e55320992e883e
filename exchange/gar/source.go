package gar

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Options bound what Open accepts. Zero values take the defaults.
type Options struct {
	Regions      []string // two-digit region codes to list ("77", "50"); nil: all
	MaxFiles     int      // most entries in a zip or files in a folder; default 20,000
	MaxEntrySize int64    // largest uncompressed file; default 64 GiB
	MaxRatio     int      // highest compression ratio of a zip entry over 64 KiB; default 200 (:1)
}

func (o Options) withDefaults() Options {
	if o.MaxFiles <= 0 {
		o.MaxFiles = 20000
	}
	if o.MaxEntrySize <= 0 {
		o.MaxEntrySize = 64 << 30
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = 200
	}
	return o
}

func (o Options) wants(region string) bool {
	if region == "" || o.Regions == nil {
		return true
	}
	for _, r := range o.Regions {
		if r == region {
			return true
		}
	}
	return false
}

// File is one readable GAR file of a Source.
type File struct {
	Path   string // within the source, slash-separated ("77/AS_HOUSES_....XML")
	Region string // "77"; "" for the reference files at the top level
	Kind   Kind
	Size   int64 // uncompressed size as declared (zip) or on disk
	order  int
	open   func() (io.ReadCloser, error)
}

// Open opens the file's bytes for reading.
func (f File) Open() (io.ReadCloser, error) { return f.open() }

// Decoder opens the file and starts decoding it; closing the returned
// closer releases the file.
func (f File) Decoder() (*Decoder, io.Closer, error) {
	rc, err := f.open()
	if err != nil {
		return nil, nil, err
	}
	d, err := NewDecoder(rc, f.Kind)
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return d, rc, nil
}

// Source is a GAR distribution: a zip archive or a folder.
type Source struct {
	files   []File
	skipped []string
	zr      *zip.ReadCloser
}

// Files lists the readable files in load order: the reference files
// (levels, types) first, then region by region AS_ADDR_OBJ,
// AS_ADM_HIERARCHY, AS_MUN_HIERARCHY, AS_HOUSES, AS_STEADS, AS_APARTMENTS
// and the params, so a consumer loading in order meets parents first.
func (s *Source) Files() []File { return append([]File(nil), s.files...) }

// Skipped lists the paths that were recognised but are not read
// (AS_ROOMS, version.txt ...) or not recognised at all.
func (s *Source) Skipped() []string { return append([]string(nil), s.skipped...) }

// Close releases the archive.
func (s *Source) Close() error {
	if s.zr != nil {
		return s.zr.Close()
	}
	return nil
}

// Open opens a .zip distribution, an unpacked folder (region subfolders
// 01..99 and the reference files at the top), or a single region folder.
func Open(p string, opt Options) (*Source, error) {
	opt = opt.withDefaults()
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("gar: %w", err)
	}
	var s *Source
	if st.IsDir() {
		s, err = openDir(p, opt)
	} else {
		s, err = openZip(p, opt)
	}
	if err != nil {
		return nil, fmt.Errorf("gar: %s: %w", filepath.Base(p), err)
	}
	sort.SliceStable(s.files, func(i, j int) bool {
		a, b := s.files[i], s.files[j]
		if (a.Region == "") != (b.Region == "") {
			return a.Region == ""
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.order != b.order {
			return a.order < b.order
		}
		return a.Path < b.Path
	})
	return s, nil
}

func isRegion(name string) bool { return len(name) == 2 && isDigits(name) }

// add lists a file found at rel (slash-separated) if its kind is read and
// its region wanted; other names go to the skipped list.
func (s *Source) add(rel, region string, size int64, opt Options, open func() (io.ReadCloser, error)) {
	k, ok := KindOf(rel)
	if !ok {
		s.skipped = append(s.skipped, rel)
		return
	}
	if !opt.wants(region) {
		return
	}
	_, order, _ := lookupKind(k)
	s.files = append(s.files, File{Path: rel, Region: region, Kind: k, Size: size, order: order, open: open})
}

// placement splits a relative path into its region, refusing names that
// could leave the folder and files of a GAR kind in a folder that is not
// a two-digit region.
func placement(name string) (region string, keep bool, err error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.Contains(name, "\x00") ||
		(len(name) > 1 && name[1] == ':') {
		return "", false, fmt.Errorf("entry %q: absolute or non-portable name refused", name)
	}
	for _, part := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if part == ".." || part == "." || part == "" {
			return "", false, fmt.Errorf("entry %q: relative path elements refused", name)
		}
	}
	if path.Clean(name) != strings.TrimSuffix(name, "/") {
		return "", false, fmt.Errorf("entry %q: unclean name refused", name)
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	k, _ := KindOf(base)
	switch {
	case strings.HasSuffix(name, "/"):
		return "", false, nil
	case dir == "":
		return "", true, nil
	case strings.Contains(dir, "/") || !isRegion(dir):
		if k != "" {
			return "", false, fmt.Errorf("entry %q: a region folder name must be two digits", name)
		}
		return "", false, nil
	}
	return dir, true, nil
}

func openZip(p string, opt Options) (*Source, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %w", err)
	}
	s := &Source{zr: zr}
	if len(zr.File) > opt.MaxFiles {
		zr.Close()
		return nil, fmt.Errorf("%d entries, more than the limit of %d", len(zr.File), opt.MaxFiles)
	}
	for _, f := range zr.File {
		if err := s.addZipEntry(f, opt); err != nil {
			zr.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Source) addZipEntry(f *zip.File, opt Options) error {
	region, keep, err := placement(f.Name)
	if err != nil || !keep {
		if !keep && err == nil && !strings.HasSuffix(f.Name, "/") {
			s.skipped = append(s.skipped, f.Name)
		}
		return err
	}
	if f.UncompressedSize64 > uint64(opt.MaxEntrySize) {
		return fmt.Errorf("entry %s: %d bytes unpacked, more than the limit of %d", f.Name, f.UncompressedSize64, opt.MaxEntrySize)
	}
	// A tiny entry may compress badly; the ratio limit is for bombs.
	if f.UncompressedSize64 > 1<<16 && (f.CompressedSize64 == 0 || f.UncompressedSize64/f.CompressedSize64 > uint64(opt.MaxRatio)) {
		return fmt.Errorf("entry %s is compressed more than %d:1 (a zip bomb?)", f.Name, opt.MaxRatio)
	}
	limit := int64(f.UncompressedSize64)
	name := f.Name
	open := func() (io.ReadCloser, error) {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("entry %s: %w", name, err)
		}
		return &boundedReader{rc: rc, name: name, left: limit}, nil
	}
	s.add(f.Name, region, limit, opt, open)
	return nil
}

// boundedReader counts the bytes really coming out of a zip entry: the
// declared size may lie, so reading past it is an error, not more data.
type boundedReader struct {
	rc   io.ReadCloser
	name string
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte: a stream that goes on is longer than declared.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 || errors.Is(err, zip.ErrFormat) {
			// archive/zip reports a stream longer than declared as ErrFormat.
			return 0, fmt.Errorf("entry %s unpacks beyond its declared size", b.name)
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		return n, fmt.Errorf("entry %s ends before its declared size", b.name)
	}
	if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) {
		return n, fmt.Errorf("entry %s: %w", b.name, err)
	}
	return n, err
}

func (b *boundedReader) Close() error { return b.rc.Close() }

// openDir lists a folder: the top level and its two-digit region
// subfolders only; a folder named like a region is read as that region.
func openDir(p string, opt Options) (*Source, error) {
	s := &Source{}
	base := filepath.Base(filepath.Clean(p))
	if isRegion(base) {
		if err := s.addDir(p, p, base, opt); err != nil {
			return nil, err
		}
		return s, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	if err := s.addDir(p, p, "", opt); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if isRegion(e.Name()) && e.IsDir() && opt.wants(e.Name()) {
			if err := s.addDir(p, filepath.Join(p, e.Name()), e.Name(), opt); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// addDir adds the regular files of one folder. Symbolic links are
// followed only when they stay inside the root folder.
func (s *Source) addDir(root, dir, region string, opt Options) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		full := filepath.Join(dir, e.Name())
		if e.Type()&os.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(full)
			if err != nil {
				return fmt.Errorf("%s: %w", e.Name(), err)
			}
			if rel, err := filepath.Rel(realRoot, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return fmt.Errorf("%s: a symbolic link leaving the folder is refused", e.Name())
			}
		}
		st, err := os.Stat(full)
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			continue
		}
		if len(s.files)+len(s.skipped) >= opt.MaxFiles {
			return fmt.Errorf("more than %d files", opt.MaxFiles)
		}
		if st.Size() > opt.MaxEntrySize {
			return fmt.Errorf("%s: %d bytes, more than the limit of %d", e.Name(), st.Size(), opt.MaxEntrySize)
		}
		rel := e.Name()
		if region != "" {
			rel = region + "/" + rel
		}
		s.add(rel, region, st.Size(), opt, func() (io.ReadCloser, error) { return os.Open(full) })
	}
	return nil
}
