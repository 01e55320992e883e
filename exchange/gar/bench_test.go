package gar

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSynthesize generates a small region and reads it back: counts,
// every PATH element exists, every house hangs on a street or settlement.
func TestSynthesize(t *testing.T) {
	dir := t.TempDir()
	spec := SynthSpec{Region: "77", Houses: 2000, Objects: 300, Seed: 1}
	if err := Synthesize(dir, spec); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := len(s.Files()); n != 11 {
		t.Fatalf("%d files: %s", n, listing(s))
	}
	level := map[int64]int{}
	houses := map[int64]bool{}
	actualHouses, versions := 0, 0
	var adm []AdmHierarchy
	var mun []MunHierarchy
	params := map[Kind]map[int]int{}
	for _, f := range s.Files() {
		d, c, err := f.Decoder()
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			switch f.Kind {
			case KindAddrObj:
				var o AddrObj
				if o, err = d.AddrObj(); err == nil {
					level[o.ObjectID] = o.Level
					if !o.IsActual {
						versions++
					}
				}
			case KindHouses:
				var h House
				if h, err = d.House(); err == nil {
					houses[h.ObjectID] = true
					if h.IsActual {
						actualHouses++
					}
				}
			case KindAdmHierarchy:
				var a AdmHierarchy
				if a, err = d.AdmHierarchy(); err == nil {
					adm = append(adm, a)
				}
			case KindMunHierarchy:
				var m MunHierarchy
				if m, err = d.MunHierarchy(); err == nil {
					mun = append(mun, m)
				}
			case KindAddrObjParams, KindHousesParams:
				var p Param
				if p, err = d.Param(); err == nil {
					if params[f.Kind] == nil {
						params[f.Kind] = map[int]int{}
					}
					params[f.Kind][p.TypeID]++
				}
			default:
				err = d.Skip()
			}
		}
		c.Close()
		if err != io.EOF {
			t.Fatalf("%s: %v", f.Path, err)
		}
	}
	if len(houses) != spec.Houses || actualHouses != spec.Houses {
		t.Errorf("houses %d, actual %d, want %d", len(houses), actualHouses, spec.Houses)
	}
	if len(level) != spec.Objects || versions == 0 {
		t.Errorf("objects %d (want %d), old versions %d", len(level), spec.Objects, versions)
	}
	if len(adm) != spec.Objects+spec.Houses || len(mun) != len(adm) {
		t.Errorf("adm %d mun %d", len(adm), len(mun))
	}
	if p := params[KindHousesParams]; p[5] != spec.Houses || p[7] != spec.Houses {
		t.Errorf("house params %v", p)
	}
	if p := params[KindAddrObjParams]; p[10] != spec.Objects || p[6] != spec.Objects || p[7] != spec.Objects {
		t.Errorf("object params %v", p)
	}
	for _, a := range adm {
		for _, e := range strings.Split(a.Path, ".") {
			var id int64
			for _, c := range e {
				id = id*10 + int64(c-'0')
			}
			if _, ok := level[id]; !ok && !houses[id] {
				t.Fatalf("PATH %s: %s is no object", a.Path, e)
			}
		}
		if houses[a.ObjectID] {
			if l := level[a.ParentObjID]; l != 8 && l != 6 {
				t.Fatalf("house %d hangs on level %d", a.ObjectID, l)
			}
		}
	}
	// Deterministic for a seed.
	dir2 := t.TempDir()
	if err := Synthesize(dir2, spec); err != nil {
		t.Fatal(err)
	}
	a, _ := filepath.Glob(filepath.Join(dir, "77", "AS_HOUSES_2*"))
	b, _ := filepath.Glob(filepath.Join(dir2, "77", "AS_HOUSES_2*"))
	ba, _ := os.ReadFile(a[0])
	bb, _ := os.ReadFile(b[0])
	if filepath.Base(a[0]) != filepath.Base(b[0]) || !bytes.Equal(ba, bb) {
		t.Error("not deterministic")
	}
}

// benchHouses is a generated AS_HOUSES file held in memory.
func benchHouses(b *testing.B, houses int) []byte {
	b.Helper()
	dir := b.TempDir()
	start := time.Now()
	if err := Synthesize(dir, SynthSpec{Region: "50", Houses: houses, Objects: 2000, Seed: 7}); err != nil {
		b.Fatal(err)
	}
	b.Logf("synthesized %d houses in %v", houses, time.Since(start))
	m, _ := filepath.Glob(filepath.Join(dir, "50", "AS_HOUSES_2*"))
	data, err := os.ReadFile(m[0])
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkHouses(b *testing.B) {
	data := benchHouses(b, 200_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	records := 0
	for i := 0; i < b.N; i++ {
		d, err := NewDecoder(bytes.NewReader(data), KindHouses)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := d.House()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			records++
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
}

func BenchmarkSynthesize(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		if err := Synthesize(dir, SynthSpec{Region: "50", Houses: 100_000, Objects: 2000, Seed: int64(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "houses/s")
}
