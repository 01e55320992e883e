package gar

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// counts is what decoding one file yields.
type counts struct{ records, actualActive, active int }

// decodeAll decodes every record of r with the typed method of kind k.
func decodeAll(r io.Reader, k Kind) (counts, error) {
	d, err := NewDecoder(r, k)
	if err != nil {
		return counts{}, err
	}
	var c counts
	for {
		actual, active, err := nextFlags(d)
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.records++
		if actual && active {
			c.actualActive++
		}
		if active {
			c.active++
		}
	}
}

func nextFlags(d *Decoder) (actual, active bool, err error) {
	switch d.Kind() {
	case KindAddrObj:
		v, err := d.AddrObj()
		return v.IsActual, v.IsActive, err
	case KindHouses:
		v, err := d.House()
		return v.IsActual, v.IsActive, err
	case KindAdmHierarchy:
		v, err := d.AdmHierarchy()
		return false, v.IsActive, err
	case KindMunHierarchy:
		v, err := d.MunHierarchy()
		return false, v.IsActive, err
	case KindSteads:
		v, err := d.Stead()
		return v.IsActual, v.IsActive, err
	case KindApartments:
		v, err := d.Apartment()
		return v.IsActual, v.IsActive, err
	case KindAddrObjTypes:
		v, err := d.AddrObjType()
		return false, v.IsActive, err
	case KindHouseTypes, KindAddHouseTypes, KindApartmentTypes:
		v, err := d.Type()
		return false, v.IsActive, err
	case KindObjectLevels:
		v, err := d.ObjectLevel()
		return false, v.IsActive, err
	default:
		_, err := d.Param()
		return false, false, err
	}
}

// want holds the counts of testdata/SOURCES.md (made with xml.etree),
// keyed by kind and the directory or zip the file sits in.
var want = map[string]counts{
	"zip99/AS_ADDR_OBJ":          {159, 48, 48},
	"zip99/AS_ADDR_OBJ_PARAMS":   {754, 0, 0},
	"zip99/AS_ADM_HIERARCHY":     {708, 0, 651},
	"zip99/AS_APARTMENTS":        {1, 1, 1},
	"zip99/AS_APARTMENTS_PARAMS": {2, 0, 0},
	"zip99/AS_HOUSES":            {554, 550, 550},
	"zip99/AS_HOUSES_PARAMS":     {4433, 0, 0},
	"zip99/AS_MUN_HIERARCHY":     {701, 0, 651},
	"zip99/AS_STEADS":            {55, 52, 52},
	"zip99/AS_STEADS_PARAMS":     {315, 0, 0},
	"zip99/AS_ADDHOUSE_TYPES":    {4, 0, 3},
	"zip99/AS_ADDR_OBJ_TYPES":    {421, 0, 419},
	"zip99/AS_APARTMENT_TYPES":   {13, 0, 10},
	"zip99/AS_HOUSE_TYPES":       {14, 0, 7},
	"zip99/AS_OBJECT_LEVELS":     {17, 0, 17},
	"gfe/AS_ADDHOUSE_TYPES":      {4, 0, 3},
	"gfe/AS_ADDR_OBJ_TYPES":      {427, 0, 245},
	"gfe/AS_APARTMENT_TYPES":     {13, 0, 10},
	"gfe/AS_HOUSE_TYPES":         {14, 0, 7},
	"gfe/AS_OBJECT_LEVELS":       {17, 0, 17},
	"gfe02/AS_ADDR_OBJ":          {4, 4, 4},
	"gfe02/AS_ADDR_OBJ_PARAMS":   {36, 0, 0},
	"gfe02/AS_ADM_HIERARCHY":     {1385, 0, 1103},
	"gfe02/AS_APARTMENTS":        {248, 89, 89},
	"gfe02/AS_APARTMENTS_PARAMS": {357, 0, 0},
	"gfe02/AS_HOUSES":            {739, 483, 483},
	"gfe02/AS_MUN_HIERARCHY":     {1385, 0, 1103},
	"gfe02/AS_STEADS":            {720, 566, 566},
	"yp/AS_ADDR_OBJ_TYPES":       {421, 0, 419},
	"yp/AS_APARTMENT_TYPES":      {13, 0, 10},
	"yp/AS_HOUSE_TYPES":          {14, 0, 7},
	"yp/AS_OBJECT_LEVELS":        {17, 0, 17},
	"yp72/AS_ADDR_OBJ":           {7, 7, 7},
	"yp72/AS_ADDR_OBJ_PARAMS":    {1, 0, 0},
	"yp72/AS_ADM_HIERARCHY":      {1, 0, 1},
	"yp72/AS_APARTMENTS":         {1, 1, 1},
	"yp72/AS_APARTMENTS_PARAMS":  {1, 0, 0},
	"yp72/AS_HOUSES":             {1, 0, 0},
	"yp72/AS_HOUSES_PARAMS":      {1, 0, 0},
	"yp72/AS_MUN_HIERARCHY":      {1, 0, 1},
	"yp72/AS_STEADS":             {1, 1, 1},
	"yp72/AS_STEADS_PARAMS":      {1, 0, 0},
	"czd02/AS_ADDR_OBJ":          {7, 6, 6},
	"czd02/AS_ADM_HIERARCHY":     {13, 0, 0},
	"czd02/AS_HOUSES":            {21, 7, 7},
	"czd02/AS_MUN_HIERARCHY":     {8, 0, 0},
	"czdzip02/AS_ADDR_OBJ":       {7, 6, 6},
	"czdzip02/AS_ADM_HIERARCHY":  {13, 0, 0},
	"czdzip02/AS_HOUSES":         {14, 0, 0},
	"czdzip02/AS_MUN_HIERARCHY":  {8, 0, 0},
	"czdzip99/AS_HOUSES":         {7, 7, 7},
}

var fixtureSets = map[string]string{
	"gfe":   "testdata/go-fias-exporter/gar_data",
	"gfe02": "testdata/go-fias-exporter/gar_data/02",
	"yp":    "testdata/YPermitin.FIASToolSet",
	"yp72":  "testdata/YPermitin.FIASToolSet/72",
	"czd02": "testdata/commons-zip-downloader/02",
}

func TestRealFiles(t *testing.T) {
	seen := map[string]bool{}
	check := func(key string, r io.Reader, k Kind) {
		t.Helper()
		got, err := decodeAll(r, k)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			return
		}
		w, ok := want[key]
		if !ok {
			t.Errorf("%s: no expected counts", key)
		}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", key, got, w)
		}
		seen[key] = true
	}
	for set, dir := range fixtureSets {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			k, ok := KindOf(e.Name())
			if !ok {
				continue
			}
			f, err := os.Open(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			check(set+"/"+string(k), f, k)
			f.Close()
		}
	}
	for prefix, zp := range map[string]string{"zip99": "testdata/node-ru-nalog-fias-gar/gar_xml.zip", "czdzip": "testdata/commons-zip-downloader/gar-test.zip"} {
		s, err := Open(zp, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range s.Files() {
			key := prefix + "/" + string(f.Kind)
			if prefix == "czdzip" {
				key = prefix + f.Region + "/" + string(f.Kind)
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			check(key, rc, f.Kind)
			rc.Close()
		}
		s.Close()
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("%s: not decoded", key)
		}
	}
}

func openZip99(t *testing.T) *Source {
	t.Helper()
	s, err := Open("testdata/node-ru-nalog-fias-gar/gar_xml.zip", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fileOf(t *testing.T, s *Source, k Kind) *Decoder {
	t.Helper()
	for _, f := range s.Files() {
		if f.Kind == k {
			d, c, err := f.Decoder()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return d
		}
	}
	t.Fatalf("no %s", k)
	return nil
}

func TestValues(t *testing.T) {
	s := openZip99(t)
	d := fileOf(t, s, KindHouses)
	h, err := d.House()
	if err != nil {
		t.Fatal(err)
	}
	w := House{ID: 2372511, ObjectID: 5392775, ObjectGUID: "4abf7720-fa42-482c-a2ec-cd564d9abc96", ChangeID: 9775317,
		HouseNum: "5", HouseType: 2, OperTypeID: 10, UpdateDate: "2019-12-14", StartDate: "2006-09-11", EndDate: "2079-06-06",
		IsActual: true, IsActive: true}
	if h != w {
		t.Errorf("first house\n got %+v\nwant %+v", h, w)
	}
	if h, _ = d.House(); h.HouseNum != "3" || d.Line() != 1 || d.Count() != 2 {
		t.Errorf("second house %+v line %d count %d", h, d.Line(), d.Count())
	}
	for {
		h, err := d.House()
		if err != nil {
			break
		}
		if h.ID == 72538839 && (h.AddNum1 != "1" || h.AddType1 != 1 || h.HouseNum != "16") {
			t.Errorf("house with корпус: %+v", h)
		}
	}

	o := fileOf(t, s, KindAddrObj)
	a, err := o.AddrObj()
	if err != nil || a.Name != "Абая" || a.TypeName != "ул" || a.Level != 8 || a.PrevID != 1793670 || !a.IsActual || a.IsActive {
		t.Errorf("first object %+v %v", a, err)
	}
	ad := fileOf(t, s, KindAdmHierarchy)
	item, err := ad.AdmHierarchy()
	if err != nil || item.Path != "1460768.1458062.156775236" || item.PlanCode != "53" || item.ParentObjID != 1458062 {
		t.Errorf("adm item %+v %v", item, err)
	}
	p := fileOf(t, s, KindHousesParams)
	par, err := p.Param()
	if err != nil || par.TypeID != 5 || par.Value != "468325" || par.ChangeIDEnd != 286432205 {
		t.Errorf("param %+v %v", par, err)
	}
	ah := fileOf(t, s, KindAddHouseTypes)
	ty, err := ah.Type()
	if err != nil || ty.ID != 1 || ty.Name != "Корпус" || ty.ShortName != "к." || !ty.IsActive {
		t.Errorf("addhouse type %+v %v", ty, err)
	}
	// Calling the method of another kind is an error, not garbage.
	if _, err := ah.House(); err == nil {
		t.Error("House on an AS_ADDHOUSE_TYPES decoder: no error")
	}
}

func TestPrettyPrinted(t *testing.T) {
	f, err := os.Open("testdata/YPermitin.FIASToolSet/72/AS_HOUSES_20231030_8843bf87-c334-4411-ae45-81b575e2fa6f.XML")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// One byte at a time exercises the refill of a record split across reads.
	d, err := NewDecoder(iotest.OneByteReader(f), KindHouses)
	if err != nil {
		t.Fatal(err)
	}
	h, err := d.House()
	if err != nil || h.ID != 50188048 || h.NextID != 50188316 || h.IsActual || d.Line() != 18 {
		t.Fatalf("%+v %v line %d", h, err, d.Line())
	}
	if _, err := d.House(); err != io.EOF || d.Line() != 19 {
		t.Fatalf("end: %v line %d", err, d.Line())
	}
}

func TestKindOf(t *testing.T) {
	cases := map[string]struct {
		k  Kind
		ok bool
	}{
		"AS_ADDR_OBJ_20230626_bfba4974-0b40-4d23-898c-4b59a48c288f.XML":          {KindAddrObj, true},
		"as_addr_obj_params_20230626_a7c96ed5-d197-4dd2-8c52-a0c9e57c08fb.xml":   {KindAddrObjParams, true},
		"AS_ADDR_OBJ_TYPES_20230626_84ddc0c1-50ea-4e37-a735-79040b1d938c.XML":    {KindAddrObjTypes, true},
		"AS_ADDR_OBJ_DIVISION_20230626_8bf5ac34-1c43-47f9-b1ba-080d3d0c96ae.XML": {"AS_ADDR_OBJ_DIVISION", false},
		"99/AS_HOUSES_20230626_c5c69ab2-7eda-4839-b370-30ee9e9daf5d.XML":         {KindHouses, true},
		"AS_ROOMS_20230626_x.XML": {"AS_ROOMS", false},
		"version.txt":             {"VERSION", false},
		"readme.md":               {"", false},
		"AS_FOO_20230626_x.XML":   {"", false},
	}
	for name, w := range cases {
		if k, ok := KindOf(name); k != w.k || ok != w.ok {
			t.Errorf("KindOf(%q) = %q, %v; want %q, %v", name, k, ok, w.k, w.ok)
		}
	}
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	unzipTo(t, "testdata/node-ru-nalog-fias-gar/gar_xml.zip", dir)
	zs := openZip99(t)
	fs, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	zl, fl := listing(zs), listing(fs)
	if zl != fl {
		t.Errorf("zip and folder differ:\n%s\n--\n%s", zl, fl)
	}
	if got := len(zs.Files()); got != 15 {
		t.Errorf("zip: %d readable files, want 15", got)
	}
	if !strings.HasPrefix(zl, "AS_OBJECT_LEVELS ") || !strings.Contains(zl, "99/AS_ADDR_OBJ_2") {
		t.Errorf("order:\n%s", zl)
	}
	order := []Kind{}
	for _, f := range zs.Files() {
		order = append(order, f.Kind)
	}
	if order[5] != KindAddrObj || order[6] != KindAdmHierarchy || order[7] != KindMunHierarchy || order[8] != KindHouses {
		t.Errorf("region order %v", order)
	}
	if len(zs.Skipped()) != 14 {
		t.Errorf("skipped %v", zs.Skipped())
	}
	// A single region folder.
	rs, err := Open(filepath.Join(dir, "99"), Options{})
	if err != nil || len(rs.Files()) != 10 || rs.Files()[0].Region != "99" {
		t.Errorf("region folder: %v %v", err, rs)
	}
	// Region filtering keeps the reference files.
	other, err := Open(dir, Options{Regions: []string{"77"}})
	if err != nil || len(other.Files()) != 5 {
		t.Errorf("regions 77: %v %d files", err, len(other.Files()))
	}
	cz, err := Open("testdata/commons-zip-downloader/gar-test.zip", Options{Regions: []string{"99"}})
	if err != nil || len(cz.Files()) != 1 || cz.Files()[0].Path != "99/AS_HOUSES_20230529_53a72ab3-009b-43df-a1e9-40b0def567b0.XML" {
		t.Errorf("gar-test.zip region 99: %v %v", err, cz)
	}
	cz.Close()
}

func listing(s *Source) string {
	var b strings.Builder
	for _, f := range s.Files() {
		b.WriteString(string(f.Kind) + " " + f.Region + " " + f.Path + "\n")
	}
	return b.String()
}

func unzipTo(t *testing.T, zp, dir string) {
	t.Helper()
	zr, err := zip.OpenReader(zp)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		full := filepath.Join(dir, filepath.FromSlash(f.Name))
		if strings.HasSuffix(f.Name, "/") {
			os.MkdirAll(full, 0o755)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const head = "\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><HOUSES>"
const okHouse = `<HOUSE ID="1" OBJECTID="2" HOUSENUM="5" ISACTUAL="1" ISACTIVE="1" />`

func TestHostile(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"doctype", `<?xml version="1.0"?><!DOCTYPE HOUSES [<!ENTITY x "y">]><HOUSES/>`, "<! markup"},
		{"comment", head + `<!-- x -->` + okHouse + `</HOUSES>`, "<! markup"},
		{"pi", head + `<?php x ?></HOUSES>`, "processing instructions"},
		{"entity", head + `<HOUSE ID="1" OBJECTID="2" HOUSENUM="&x;" /></HOUSES>`, "unknown entity &x;"},
		{"truncated", head + "\n" + okHouse + "\n" + okHouse + "\n<HOUSE ID=\"3\" OBJ", "AS_HOUSES line 4, after record 2: the file ends early (truncated?)"},
		{"truncated after record", head + okHouse, "AS_HOUSES line 1, after record 1: the file ends early"},
		{"empty", "", "the file ends early"},
		{"wrong element", head + `<STEAD ID="1" OBJECTID="2" /></HOUSES>`, "unexpected element <STEAD>, expected <HOUSE>"},
		{"wrong root", `<?xml version="1.0" encoding="utf-8"?><STEADS></STEADS>`, "the root element is <STEADS>"},
		{"encoding", `<?xml version="1.0" encoding="windows-1251"?><HOUSES/>`, `the declared encoding is "windows-1251"`},
		{"invalid utf8", head + `<HOUSE ID="1" OBJECTID="2" HOUSENUM="5` + "\xff" + `" /></HOUSES>`, "not valid UTF-8"},
		{"overlong", head + `<HOUSE ID="1" OBJECTID="2" HOUSENUM="` + strings.Repeat("a", MaxValue+1) + `" /></HOUSES>`, "longer than 4000 bytes"},
		{"too many attrs", head + `<HOUSE ID="1" OBJECTID="2"` + strings.Repeat(` X="1"`, MaxAttrs) + ` /></HOUSES>`, "more than 64 attributes"},
		{"missing objectid", head + "\n\n" + `<HOUSE ID="1" /></HOUSES>`, "AS_HOUSES line 3, after record 0: <HOUSE> has no OBJECTID attribute"},
		{"bad number", head + `<HOUSE ID="1x" OBJECTID="2" /></HOUSES>`, `attribute ID="1x": not an integer`},
		{"bad date", head + `<HOUSE ID="1" OBJECTID="2" ENDDATE="2079-13-06" /></HOUSES>`, "not a YYYY-MM-DD date"},
		{"bad bool", head + `<HOUSE ID="1" OBJECTID="2" ISACTUAL="yes" /></HOUSES>`, "not a boolean"},
		{"duplicate", head + `<HOUSE ID="1" OBJECTID="2" ID="3" /></HOUSES>`, "attribute ID appears twice"},
		{"text", head + `hello</HOUSES>`, "text content is not allowed"},
		{"not empty", head + `<HOUSE ID="1" OBJECTID="2"></HOUSE></HOUSES>`, "must be empty"},
		{"after root", head + `</HOUSES><HOUSES>`, "after the end of the root"},
		{"control byte", head + `<HOUSE ID="1" OBJECTID="2" HOUSENUM="` + "\x01" + `" /></HOUSES>`, "control byte"},
		{"lt in value", head + `<HOUSE ID="1" OBJECTID="2" HOUSENUM="<" /></HOUSES>`, "'<' in a value"},
		{"bad charref", head + `<HOUSE ID="1" OBJECTID="2" HOUSENUM="&#0;" /></HOUSES>`, "not an XML character"},
		{"unquoted", head + `<HOUSE ID=1 OBJECTID="2" /></HOUSES>`, "not quoted"},
	}
	for _, c := range cases {
		_, err := decodeAll(strings.NewReader(c.in), KindHouses)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestAccepted(t *testing.T) {
	in := "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\r\n<HOUSES>\n\t<HOUSE ID='1' OBJECTID = \"2\" HOUSENUM='&amp;&lt;&gt;&quot;&apos;&#1046;&#x416;' ADDNUM1=\"a\nb\" ISACTUAL='true' ISACTIVE='false' EXTRA='ignored'/>\n</HOUSES >\n\n"
	d, err := NewDecoder(strings.NewReader(in), KindHouses)
	if err != nil {
		t.Fatal(err)
	}
	h, err := d.House()
	if err != nil {
		t.Fatal(err)
	}
	if h.HouseNum != `&<>"'ЖЖ` || h.AddNum1 != "a b" || !h.IsActual || h.IsActive || h.ObjectID != 2 {
		t.Errorf("%+v", h)
	}
	if _, err := d.House(); err != io.EOF {
		t.Errorf("end: %v", err)
	}
	if d.Line() != 7 || d.Count() != 1 {
		t.Errorf("line %d count %d", d.Line(), d.Count())
	}
	// An empty root element is an empty file.
	if c, err := decodeAll(strings.NewReader(`<?xml version="1.0" encoding="utf-8"?><ROOMS />`), KindHouses); err == nil {
		t.Errorf("ROOMS accepted as HOUSES: %+v", c)
	}
	if c, err := decodeAll(strings.NewReader(`<?xml version="1.0" encoding="utf-8"?><PARAMS />`), KindHousesParams); err != nil || c.records != 0 {
		t.Errorf("empty params: %v %+v", err, c)
	}
}

// writeZip builds an archive from raw entries; lie, if set, is the
// uncompressed size to declare instead of the real one.
func writeZip(t *testing.T, entries []zipEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		var comp bytes.Buffer
		fw, _ := flate.NewWriter(&comp, flate.BestCompression)
		fw.Write(e.data)
		fw.Close()
		size := uint64(len(e.data))
		if e.lie > 0 {
			size = e.lie
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(e.data),
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: size})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

type zipEntry struct {
	name string
	data []byte
	lie  uint64
}

func TestHostileZip(t *testing.T) {
	house := []byte(head + okHouse + "</HOUSES>")
	bomb := append(append([]byte(head), bytes.Repeat([]byte("\n"), 10<<20)...), "</HOUSES>"...)
	cases := []struct {
		name    string
		entries []zipEntry
		want    string
	}{
		{"dotdot", []zipEntry{{"../x/AS_HOUSES_20230101_a.XML", house, 0}}, "relative path"},
		{"absolute", []zipEntry{{"/etc/AS_HOUSES_20230101_a.XML", house, 0}}, "absolute"},
		{"backslash", []zipEntry{{`99\AS_HOUSES_20230101_a.XML`, house, 0}}, "absolute or non-portable"},
		{"region name", []zipEntry{{"abc/AS_HOUSES_20230101_a.XML", house, 0}}, "two digits"},
		{"bomb", []zipEntry{{"99/AS_HOUSES_20230101_a.XML", bomb, 0}}, "compressed more than 200:1"},
	}
	for _, c := range cases {
		_, err := Open(writeZip(t, c.entries), Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := Open(writeZip(t, []zipEntry{{"99/AS_HOUSES_20230101_a.XML", house, 0}, {"99/b.txt", nil, 0}}), Options{MaxFiles: 1}); err == nil {
		t.Error("too many entries accepted")
	}
	// The declared size lies (smaller than the data): reading stops there.
	long := append(append([]byte(head), bytes.Repeat([]byte(okHouse), 100)...), "</HOUSES>"...)
	s, err := Open(writeZip(t, []zipEntry{{"99/AS_HOUSES_20230101_a.XML", long, 200}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := s.Files()[0]
	rc, _ := f.Open()
	_, err = io.ReadAll(rc)
	rc.Close()
	if err == nil || !strings.Contains(err.Error(), "beyond its declared size") {
		t.Errorf("lying size: %v", err)
	}
	_, err = decodeFile(f)
	if err == nil || !strings.Contains(err.Error(), "beyond its declared size") {
		t.Errorf("lying size via decoder: %v", err)
	}
	s.Close()
	// The entry limit counts real bytes too.
	if _, err := Open(writeZip(t, []zipEntry{{"99/AS_HOUSES_20230101_a.XML", long, 0}}), Options{MaxEntrySize: 100}); err == nil {
		t.Error("entry over MaxEntrySize accepted")
	}
}

func decodeFile(f File) (counts, error) {
	rc, err := f.Open()
	if err != nil {
		return counts{}, err
	}
	defer rc.Close()
	return decodeAll(rc, f.Kind)
}

func TestSymlinkOut(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "AS_HOUSES_20230101_a.XML"), []byte(head+"</HOUSES>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "99"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "AS_HOUSES_20230101_a.XML"), filepath.Join(dir, "99", "AS_HOUSES_20230101_a.XML")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "leaving the folder") {
		t.Errorf("symlink out: %v", err)
	}
}

func TestStickyError(t *testing.T) {
	d, err := NewDecoder(strings.NewReader(head+`<HOUSE/>`), KindHouses)
	if err != nil {
		t.Fatal(err)
	}
	_, e1 := d.House()
	_, e2 := d.House()
	if e1 == nil || !errors.Is(e2, e1) && e1.Error() != e2.Error() {
		t.Errorf("%v / %v", e1, e2)
	}
}
