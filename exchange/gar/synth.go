package gar

import (
	"bufio"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The reference tables written next to a synthetic region are the real
// distributed files (see reference/SOURCES.md), so a synthetic folder
// loads exactly like a real one.
//
//go:embed reference/*.XML
var referenceFS embed.FS

// SynthSpec describes a synthetic region.
type SynthSpec struct {
	Region  string // two-digit region code, e.g. "77"
	Houses  int    // houses to generate (3 million is fine)
	Objects int    // address objects: region, districts, cities, settlements, streets (at least 30 are made)
	Seed    int64  // the same seed gives the same bytes
}

// synthDate is the date in the generated file names and UPDATEDATEs.
const synthDate = "20261203"

// Synthesize writes dir/<region>/ with AS_ADDR_OBJ, AS_ADM_HIERARCHY,
// AS_MUN_HIERARCHY, AS_HOUSES, AS_ADDR_OBJ_PARAMS and AS_HOUSES_PARAMS,
// and the reference files at dir's top level, in the real format and
// names. Memory stays bounded by the address objects; houses are streamed.
func Synthesize(dir string, spec SynthSpec) error {
	if !isRegion(spec.Region) {
		return fmt.Errorf("gar: synthesize: region %q is not two digits", spec.Region)
	}
	if spec.Houses < 0 || spec.Objects < 0 {
		return fmt.Errorf("gar: synthesize: negative counts")
	}
	g := newSynth(spec)
	if err := os.MkdirAll(filepath.Join(dir, spec.Region), 0o755); err != nil {
		return fmt.Errorf("gar: synthesize: %w", err)
	}
	if err := g.writeReference(dir); err != nil {
		return fmt.Errorf("gar: synthesize: %w", err)
	}
	if err := g.run(filepath.Join(dir, spec.Region)); err != nil {
		return fmt.Errorf("gar: synthesize: %w", err)
	}
	return nil
}

// synthObj is an address object kept in memory to hang houses on.
type synthObj struct {
	objectID int64
	level    int
	path     string // dot-separated object ids from the region down
	kladr    string
	oktmo    string
	houses   int // houses to put under it
	postal   int
}

type synth struct {
	spec    SynthSpec
	rng     *rand.Rand
	id      int64 // record ids
	objID   int64
	change  int64
	objs    []synthObj
	scratch []byte
}

func newSynth(spec SynthSpec) *synth {
	base := int64(1_000_000)
	if n, err := strconv.Atoi(spec.Region); err == nil {
		base += int64(n) * 100_000_000
	}
	return &synth{spec: spec, rng: rand.New(rand.NewSource(spec.Seed)), id: base, objID: base, change: base,
		scratch: make([]byte, 0, 4096)}
}

func (g *synth) writeReference(dir string) error {
	entries, err := referenceFS.ReadDir("reference")
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := referenceFS.ReadFile("reference/" + e.Name())
		if err != nil {
			return err
		}
		k, _ := KindOf(e.Name())
		if err := os.WriteFile(filepath.Join(dir, g.fileName(string(k))), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (g *synth) fileName(kind string) string {
	return kind + "_" + synthDate + "_" + g.guid() + ".XML"
}

// guid is a random (version 4 shaped) UUID from the seeded source.
func (g *synth) guid() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], g.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], g.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// xmlFile is one output file being streamed.
type xmlFile struct {
	f    *os.File
	w    *bufio.Writer
	root string
}

func (g *synth) create(dir, kind, root string) (*xmlFile, error) {
	f, err := os.Create(filepath.Join(dir, g.fileName(kind)))
	if err != nil {
		return nil, err
	}
	x := &xmlFile{f: f, w: bufio.NewWriterSize(f, 1<<20), root: root}
	x.w.WriteString("\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><" + root + ">")
	return x, nil
}

func (x *xmlFile) close() error {
	x.w.WriteString("</" + x.root + ">")
	err := x.w.Flush()
	if cerr := x.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rec builds one record element in a reusable buffer.
type rec struct{ b []byte }

func (r *rec) start(elem string) { r.b = append(append(r.b[:0], '<'), elem...) }
func (r *rec) int(name string, v int64) {
	r.b = append(append(append(r.b, ' '), name...), '=', '"')
	r.b = append(strconv.AppendInt(r.b, v, 10), '"')
}
func (r *rec) str(name, v string) {
	r.b = append(append(append(r.b, ' '), name...), '=', '"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '&':
			r.b = append(r.b, "&amp;"...)
		case '"':
			r.b = append(r.b, "&quot;"...)
		case '<':
			r.b = append(r.b, "&lt;"...)
		default:
			r.b = append(r.b, c)
		}
	}
	r.b = append(r.b, '"')
}
func (r *rec) end(w io.Writer) error {
	r.b = append(r.b, " />"...)
	_, err := w.Write(r.b)
	return err
}

// run writes the region files: objects and their hierarchy first (kept in
// memory), then the houses streamed onto them.
func (g *synth) run(dir string) error {
	var files [6]*xmlFile
	specs := [6][2]string{{"AS_ADDR_OBJ", "ADDRESSOBJECTS"}, {"AS_ADM_HIERARCHY", "ITEMS"}, {"AS_MUN_HIERARCHY", "ITEMS"},
		{"AS_HOUSES", "HOUSES"}, {"AS_ADDR_OBJ_PARAMS", "PARAMS"}, {"AS_HOUSES_PARAMS", "PARAMS"}}
	for i, s := range specs {
		f, err := g.create(dir, s[0], s[1])
		if err != nil {
			return err
		}
		files[i] = f
	}
	o := &synthOut{obj: files[0].w, adm: files[1].w, mun: files[2].w, house: files[3].w, objParam: files[4].w, houseParam: files[5].w}
	err := g.objects(o)
	if err == nil {
		err = g.houses(o)
	}
	for _, f := range files {
		if cerr := f.close(); err == nil {
			err = cerr
		}
	}
	return err
}

type synthOut struct {
	obj, adm, mun, house, objParam, houseParam io.Writer
	r                                          rec
}

// Word lists for Russian-looking names.
var (
	synthStreets = []string{"Тверская", "Ленина", "Советская", "Мира", "Садовая", "Школьная", "Центральная", "Молодёжная",
		"Лесная", "Новая", "Набережная", "Заречная", "Полевая", "Берёзовая", "Гагарина", "Пушкина", "Кирова",
		"Октябрьская", "Пролетарская", "Комсомольская", "Зелёная", "Первомайская", "Чехова", "Строителей",
		"Луговая", "Солнечная", "Южная", "Северная", "Речная", "Рабочая", "Парковая", "Вокзальная"}
	synthOrdinals   = []string{"1-я", "2-я", "3-я", "4-я", "5-я"}
	synthLanes      = []string{"2-й Садовый", "3-й Лесной", "1-й Школьный", "Почтовый", "Кооперативный", "Трудовой"}
	synthCities     = []string{"Новоград", "Заречинск", "Березники", "Светлогорск", "Краснознаменск", "Озёрск", "Лесногорск", "Приволжск", "Солнечногорск", "Железногорск"}
	synthSettles    = []string{"Ивановка", "Петровское", "Сосновка", "Берёзовка", "Михайловка", "Никольское", "Дубровка", "Александровка", "Покровское", "Знаменка", "Троицкое", "Ключи"}
	synthDistricts  = []string{"Северный", "Южный", "Заречный", "Лесной", "Приозёрный", "Степной", "Горный", "Луговой", "Восточный", "Западный", "Центральный", "Речной"}
	synthSettleType = []string{"с", "д", "п"}
)

func (g *synth) nextObj() (id, objID, change int64) {
	g.id++
	g.objID++
	g.change++
	return g.id, g.objID, g.change
}

// objects lays out the region: 1 region, ~10 districts, cities of
// falling size, settlements in the districts, streets everywhere; the
// house budget is split so the first city is the biggest.
func (g *synth) objects(o *synthOut) error {
	n := max(g.spec.Objects, 30)
	districts := min(10, n/10+1)
	cities := max(1, n/40)
	settles := max(1, n/8)
	streets := max(1, n-1-districts-cities-settles)
	region := g.spec.Region
	rid, robj, rch := g.nextObj()
	reg := synthObj{objectID: robj, level: 1, path: strconv.FormatInt(robj, 10), kladr: region + "00000000000", oktmo: region + "000000"}
	if err := g.writeObj(o, rid, rch, reg, "Синтетическая", "обл", 0); err != nil {
		return err
	}
	var parents []int // indexes of cities and settlements in g.objs
	var dist []synthObj
	for i := 0; i < districts; i++ {
		d := g.child(reg, 2, fmt.Sprintf("%s%03d00000000", region, i+1), fmt.Sprintf("%s6%02d000", region, i+1))
		dist = append(dist, d)
		if err := g.writeNew(o, d, synthDistricts[i%len(synthDistricts)]+g.suffix(i, len(synthDistricts)), "р-н", reg.objectID); err != nil {
			return err
		}
	}
	for i := 0; i < cities; i++ {
		c := g.child(reg, 5, fmt.Sprintf("%s000%03d00000", region, i+1), fmt.Sprintf("%s7%02d000", region, i%100))
		if i > 0 && i%2 == 0 { // every other small city lies in a district
			p := dist[i%len(dist)]
			c = g.child(p, 5, p.kladr[:5]+fmt.Sprintf("%03d00000", i+1), p.oktmo[:5]+fmt.Sprintf("%03d", i%1000))
		}
		c.postal = 100000 + i*1000
		parents = append(parents, len(g.objs))
		g.objs = append(g.objs, c)
		if err := g.writeNew(o, c, synthCities[i%len(synthCities)]+g.suffix(i, len(synthCities)), "г", parentOf(c)); err != nil {
			return err
		}
	}
	for i := 0; i < settles; i++ {
		p := dist[i%len(dist)]
		s := g.child(p, 6, p.kladr[:8]+fmt.Sprintf("%03d00", i%1000), p.oktmo[:5]+fmt.Sprintf("%03d", (i*7)%1000))
		s.postal = 200000 + i
		parents = append(parents, len(g.objs))
		g.objs = append(g.objs, s)
		name := synthSettles[i%len(synthSettles)] + g.suffix(i, len(synthSettles))
		if err := g.writeNew(o, s, name, synthSettleType[i%len(synthSettleType)], p.objectID); err != nil {
			return err
		}
	}
	// Streets: city j gets a share ~ 1/(j+1) of the streets, settlements a
	// few each; the rest of the houses go straight under settlements.
	weights := make([]float64, len(parents))
	total := 0.0
	for j := range parents {
		w := 0.3
		if g.objs[parents[j]].level == 5 {
			w = 10.0 / float64(j+1)
		}
		weights[j], total = w, total+w
	}
	for k := 0; k < streets; k++ {
		x, j := g.rng.Float64()*total, 0
		for ; j < len(weights)-1 && x > weights[j]; j++ {
			x -= weights[j]
		}
		p := g.objs[parents[j]]
		st := g.child(p, 8, p.kladr[:11]+fmt.Sprintf("%04d00", k%10000), p.oktmo)
		st.postal = p.postal + k%100
		g.objs = append(g.objs, st)
		name, typ := g.streetName(k)
		if err := g.writeNew(o, st, name, typ, p.objectID); err != nil {
			return err
		}
	}
	g.spreadHouses()
	return nil
}

func parentOf(o synthObj) int64 {
	i := strings.LastIndexByte(o.path, '.')
	j := strings.LastIndexByte(o.path[:i], '.')
	v, _ := strconv.ParseInt(o.path[j+1:i], 10, 64)
	return v
}

// suffix tells repeated names apart ("Ивановка 2") once a list runs out.
func (g *synth) suffix(i, n int) string {
	if i < n {
		return ""
	}
	return " " + strconv.Itoa(i/n+1)
}

func (g *synth) streetName(k int) (string, string) {
	base := synthStreets[k%len(synthStreets)]
	switch r := g.rng.Intn(20); {
	case r == 0:
		return synthLanes[k%len(synthLanes)], "пер"
	case r == 1:
		return base, "пр-кт"
	case r < 4:
		return synthOrdinals[k%len(synthOrdinals)] + " " + base, "ул"
	}
	if k >= len(synthStreets)*3 {
		base += " " + strconv.Itoa(k/len(synthStreets))
	}
	return base, "ул"
}

func (g *synth) child(p synthObj, level int, kladr, oktmo string) synthObj {
	_, objID, _ := g.nextObj()
	g.id-- // the record id is taken when the object is written
	g.change--
	return synthObj{objectID: objID, level: level, path: p.path + "." + strconv.FormatInt(objID, 10), kladr: kladr, oktmo: oktmo, postal: p.postal}
}

// spreadHouses gives streets most houses and settlements the rest.
func (g *synth) spreadHouses() {
	var streets, settles []int
	for i, o := range g.objs {
		switch o.level {
		case 8:
			streets = append(streets, i)
		case 6:
			settles = append(settles, i)
		}
	}
	left := g.spec.Houses
	direct := left / 20
	if len(streets) == 0 {
		direct = left
	}
	for k := 0; k < direct && len(settles) > 0; k++ {
		g.objs[settles[k%len(settles)]].houses++
	}
	left -= direct
	for k := 0; k < left && len(streets) > 0; k++ {
		g.objs[streets[k%len(streets)]].houses++
	}
}

// writeNew writes an object; ~2% get an older, non-actual version first
// (PREVID/NEXTID chain) and ~1% are inactive.
func (g *synth) writeNew(o *synthOut, s synthObj, name, typ string, parent int64) error {
	g.id++
	g.change++
	return g.writeObj(o, g.id, g.change, s, name, typ, parent)
}

func (g *synth) writeObj(o *synthOut, id, change int64, s synthObj, name, typ string, parent int64) error {
	guid := g.guid()
	active := int64(1)
	if g.rng.Intn(100) == 0 {
		active = 0
	}
	prev := int64(0)
	r := &o.r
	if g.rng.Intn(50) == 0 {
		g.id++
		prev = g.id
		r.start("OBJECT")
		g.objAttrs(r, prev, s.objectID, guid, change-1, name+" (старое)", typ, s.level, 1, 0, id, "2010-01-01", "2020-01-01", 0, 0)
		if err := r.end(o.obj); err != nil {
			return err
		}
	}
	r.start("OBJECT")
	g.objAttrs(r, id, s.objectID, guid, change, name, typ, s.level, 10, prev, 0, "2020-01-01", "2079-06-06", 1, active)
	if err := r.end(o.obj); err != nil {
		return err
	}
	if err := g.hierarchy(o, s.objectID, parent, change, s.path, s.oktmo, active); err != nil {
		return err
	}
	params := [][2]string{{"10", s.kladr}, {"6", s.kladr[:2] + "401000000"}, {"7", s.oktmo}}
	for _, p := range params {
		if err := g.param(o.objParam, r, s.objectID, change, p[0], p[1]); err != nil {
			return err
		}
	}
	return nil
}

func (g *synth) objAttrs(r *rec, id, objID int64, guid string, change int64, name, typ string, level int, oper, prev, next int64, start, end string, actual, active int64) {
	r.int("ID", id)
	r.int("OBJECTID", objID)
	r.str("OBJECTGUID", guid)
	r.int("CHANGEID", change)
	r.str("NAME", name)
	r.str("TYPENAME", typ)
	r.int("LEVEL", int64(level))
	r.version(oper, prev, next, start, end, actual, active)
}

func (g *synth) hierarchy(o *synthOut, objID, parent, change int64, path, oktmo string, active int64) error {
	r := &o.r
	g.id++
	r.start("ITEM")
	r.int("ID", g.id)
	r.int("OBJECTID", objID)
	r.int("PARENTOBJID", parent)
	r.int("CHANGEID", change)
	r.str("REGIONCODE", strings.TrimLeft(g.spec.Region, "0"))
	for _, c := range [...]string{"AREACODE", "CITYCODE", "PLACECODE", "PLANCODE", "STREETCODE"} {
		r.str(c, "0")
	}
	g.tail(r, active)
	r.str("PATH", path)
	if err := r.end(o.adm); err != nil {
		return err
	}
	g.id++
	r.start("ITEM")
	r.int("ID", g.id)
	r.int("OBJECTID", objID)
	r.int("PARENTOBJID", parent)
	r.int("CHANGEID", change)
	r.str("OKTMO", oktmo)
	g.tail(r, active)
	r.str("PATH", path)
	return r.end(o.mun)
}

func (g *synth) tail(r *rec, active int64) {
	r.int("PREVID", 0)
	r.int("NEXTID", 0)
	r.str("UPDATEDATE", "2026-12-03")
	r.str("STARTDATE", "2020-01-01")
	r.str("ENDDATE", "2079-06-06")
	r.int("ISACTIVE", active)
}

func (g *synth) param(w io.Writer, r *rec, objID, change int64, typ, value string) error {
	g.id++
	r.start("PARAM")
	r.int("ID", g.id)
	r.int("OBJECTID", objID)
	r.int("CHANGEID", change)
	r.int("CHANGEIDEND", 0)
	r.b = append(r.b, " TYPEID=\""...)
	r.b = append(append(r.b, typ...), '"')
	r.str("VALUE", value)
	r.str("UPDATEDATE", "2026-12-03")
	r.str("STARTDATE", "2020-01-01")
	r.str("ENDDATE", "2079-06-06")
	return r.end(w)
}

// houses streams every house with its two hierarchy items and params.
func (g *synth) houses(o *synthOut) error {
	var num [24]byte
	for _, p := range g.objs {
		for k := 0; k < p.houses; k++ {
			number := strconv.AppendInt(num[:0], int64(k%200+1), 10)
			if err := g.house(o, p, number); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *synth) house(o *synthOut, p synthObj, number []byte) error {
	r := &o.r
	_, objID, change := g.nextObj()
	houseNum, addNum, addType, houseType := string(number), "", int64(0), int64(2)
	switch x := g.rng.Intn(100); {
	case x < 5:
		houseNum += []string{"А", "Б", "В"}[x%3]
	case x < 8:
		houseNum += "/" + strconv.Itoa(x-3)
	case x < 13:
		addNum, addType = strconv.Itoa(x-7), 1 // корпус
	case x < 15:
		houseType = 5 // здание
	}
	path := p.path + "." + strconv.FormatInt(objID, 10)
	guid := g.guid()
	prev := int64(0)
	active := int64(1)
	if g.rng.Intn(50) == 0 { // an older version
		g.id++
		prev = g.id
		g.writeHouse(r, prev, objID, guid, change-1, houseNum, addNum, addType, houseType, 1, 0, prev+1, "2015-01-01", "2020-01-01", 0, 0)
		if err := r.end(o.house); err != nil {
			return err
		}
	}
	if g.rng.Intn(200) == 0 {
		active = 0
	}
	g.id++
	g.writeHouse(r, g.id, objID, guid, change, houseNum, addNum, addType, houseType, 10, prev, 0, "2020-01-01", "2079-06-06", 1, active)
	if err := r.end(o.house); err != nil {
		return err
	}
	if err := g.hierarchy(o, objID, p.objectID, change, path, p.oktmo, active); err != nil {
		return err
	}
	if err := g.param(o.houseParam, r, objID, change, "5", strconv.Itoa(p.postal)); err != nil {
		return err
	}
	return g.param(o.houseParam, r, objID, change, "7", p.oktmo)
}

func (g *synth) writeHouse(r *rec, id, objID int64, guid string, change int64, num, addNum string, addType, houseType, oper, prev, next int64, start, end string, actual, active int64) {
	r.start("HOUSE")
	r.int("ID", id)
	r.int("OBJECTID", objID)
	r.str("OBJECTGUID", guid)
	r.int("CHANGEID", change)
	r.str("HOUSENUM", num)
	if addNum != "" {
		r.str("ADDNUM1", addNum)
	}
	r.int("HOUSETYPE", houseType)
	if addNum != "" {
		r.int("ADDTYPE1", addType)
	}
	r.version(oper, prev, next, start, end, actual, active)
}

// version writes the attributes every versioned record ends with: its
// operation, its neighbours in the chain of versions, its dates and
// whether it is actual and active.
func (r *rec) version(oper, prev, next int64, start, end string, actual, active int64) {
	r.int("OPERTYPEID", oper)
	r.int("PREVID", prev)
	r.int("NEXTID", next)
	r.str("UPDATEDATE", "2026-12-03")
	r.str("STARTDATE", start)
	r.str("ENDDATE", end)
	r.int("ISACTUAL", actual)
	r.int("ISACTIVE", active)
}
