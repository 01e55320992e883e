package onec

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// unpack extracts the session's uploaded archives into its work folder
// (each once: it is removed after); it returns how many files came out.
// Zip bombs are stopped by the unpacked-size, file-count and ratio limits;
// entries that would leave the folder are refused.
func (x *Exchange) unpack(s *session) (int, error) {
	archives, err := filepath.Glob(filepath.Join(s.dir, "*.zip"))
	if err != nil || len(archives) == 0 {
		return 0, err
	}
	total, files := int64(0), 0
	for _, a := range archives {
		n, size, err := x.unzip(a, s.dir, x.cfg.MaxUnzipped-total, x.cfg.MaxFiles-files)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", filepath.Base(a), err)
		}
		total, files = total+size, files+n
		if err := os.Remove(a); err != nil {
			return 0, err
		}
	}
	return files, nil
}

var errBomb = errors.New("the archive unpacks beyond the limits")

func (x *Exchange) unzip(path, dir string, room int64, maxFiles int) (int, int64, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return 0, 0, fmt.Errorf("not a zip archive: %w", err)
	}
	defer zr.Close()
	if len(zr.File) > maxFiles {
		return 0, 0, fmt.Errorf("%w: %d files", errBomb, len(zr.File))
	}
	var total int64
	n := 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		name, err := cleanName(f.Name)
		if err != nil {
			return 0, 0, err
		}
		if f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > uint64(x.cfg.MaxRatio) {
			return 0, 0, fmt.Errorf("%w: %s is compressed %d:1", errBomb, name, f.UncompressedSize64/f.CompressedSize64)
		}
		rc, err := f.Open()
		if err != nil {
			return 0, 0, err
		}
		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			rc.Close()
			return 0, 0, err
		}
		out, err := os.OpenFile(full, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			rc.Close()
			return 0, 0, err
		}
		// The declared sizes may lie: count what really comes out.
		written, err := io.Copy(out, io.LimitReader(rc, room-total+1))
		rc.Close()
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return 0, 0, err
		}
		total += written
		if total > room {
			return 0, 0, fmt.Errorf("%w: more than %d bytes", errBomb, x.cfg.MaxUnzipped)
		}
		if !strings.HasSuffix(name, "/") {
			n++
		}
	}
	return n, total, nil
}
