package gar

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: the first byte picks
// the kind, the rest is the file. It must return records or an error,
// never panic or loop.
func FuzzDecode(f *testing.F) {
	kinds := kindTable()
	index := map[Kind]byte{}
	for i, ki := range kinds {
		index[ki.kind] = byte(i)
	}
	for _, dir := range fixtureSets {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.XML"))
		for _, p := range paths {
			k, _ := KindOf(filepath.Base(p))
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
				f.Add(append([]byte{index[k]}, b...))
			}
		}
	}
	f.Add(append([]byte{index[KindHouses]}, head+okHouse+"</HOUSES>"...))
	f.Add(append([]byte{index[KindHouses]}, `<?xml version="1.0"?><!DOCTYPE x><HOUSES/>`...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		d, err := NewDecoder(bytesReader(data[1:]), kinds[int(data[0])%len(kinds)].kind)
		if err != nil {
			return
		}
		for i := 0; ; i++ {
			if _, _, err := nextFlags(d); err != nil {
				if err == io.EOF && d.Count() != i {
					t.Fatalf("count %d after %d records", d.Count(), i)
				}
				return
			}
		}
	})
}

type sliceReader struct{ b []byte }

func bytesReader(b []byte) io.Reader { return &sliceReader{b} }

// Read hands out at most 7 bytes at a time to exercise the refills.
func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], r.b)
	r.b = r.b[n:]
	return n, nil
}
