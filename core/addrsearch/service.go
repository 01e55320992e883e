package addrsearch

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmhub/crmhub/core"
)

// Types are the register's type words: of address objects by level, of
// houses and of their blocks (корпус, строение) by id.
type Types struct {
	Objects                       []TypeName
	Houses, AddHouses, Apartments map[int]TypeName
}

// House is a house of the register with its parameters.
type House struct {
	Region                                         int
	ID                                             int64
	GUID                                           string
	Parent                                         int64
	Number                                         string
	Type                                           int
	Add1                                           string
	AddType1                                       int
	Add2                                           string
	AddType2                                       int
	PostalCode, OKATO, OKTMO, TaxOffice, Cadastral string
}

// Flat is a flat, an office or other premises of a house (loaded when
// an import was asked for them), with its parameters.
type Flat struct {
	Region                int
	ID                    int64
	GUID                  string
	House                 int64 // the house's object id
	Number                string
	Type                  int
	PostalCode, Cadastral string
}

// Stead is a land plot of the register (loaded when an import was asked
// for them) under its address object, with its parameters.
type Stead struct {
	Region                int
	ID                    int64
	GUID                  string
	Parent                int64
	Number                string
	PostalCode, Cadastral string
}

// HouseQuery asks for the houses of some parents of a region whose number
// begins with Number (and whose block is Block, when given).
type HouseQuery struct {
	Region        int
	Parents       []int64
	Number, Block string
	Limit         int
}

// Source is the store the Service reads the register from.
type Source interface {
	// AddressRegisterVersion changes whenever a region is loaded.
	AddressRegisterVersion(ctx context.Context) (string, error)
	AddressObjects(ctx context.Context, fn func(Object) error) error
	AddressTypes(ctx context.Context) (Types, error)
	Houses(ctx context.Context, q HouseQuery) ([]House, error)
	// HousesByID finds houses by ФИАС id or cadastral number.
	HousesByID(ctx context.Context, id string, limit int) ([]House, error)
	// AddressSuccessor is the ФИАС id that took a retired one's place
	// ("" for none).
	AddressSuccessor(ctx context.Context, id string) (string, error)
	// Flats finds the flats of some houses of a region by number.
	Flats(ctx context.Context, region int, houses []int64, number string) ([]Flat, error)
	// FlatsByID finds flats by ФИАС id or cadastral number, each with its
	// house.
	FlatsByID(ctx context.Context, id string, limit int) ([]Flat, []House, error)
	// Steads finds the land plots of some parents by the beginning of
	// their number (Block is not read).
	Steads(ctx context.Context, q HouseQuery) ([]Stead, error)
	// SteadsByID finds land plots by ФИАС id or cadastral number.
	SteadsByID(ctx context.Context, id string, limit int) ([]Stead, error)
}

// Service answers address lookups (core.AddressDirectory): the objects
// from an index it keeps in memory, rebuilt in the background when the
// register is loaded again (lookups use the previous one meanwhile), the
// houses from the store.
type Service struct {
	src Source
	log *slog.Logger
	mu  sync.Mutex // one rebuild at a time
	cur atomic.Pointer[loaded]
}

type loaded struct {
	ix      *Index
	types   Types
	version string
}

var _ core.AddressDirectory = (*Service)(nil)

// NewService serves lookups from src.
func NewService(src Source, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{src: src, log: log}
}

// Refresh rebuilds the index if the register changed since it was built.
func (s *Service) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.src.AddressRegisterVersion(ctx)
	if err != nil {
		return err
	}
	if cur := s.cur.Load(); cur != nil && cur.version == v {
		return nil
	}
	start := time.Now()
	types, err := s.src.AddressTypes(ctx)
	if err != nil {
		return err
	}
	var objs []Object
	if err := s.src.AddressObjects(ctx, func(o Object) error { objs = append(objs, o); return nil }); err != nil {
		return err
	}
	ix := Build(objs, types.Objects)
	s.cur.Store(&loaded{ix: ix, types: types, version: v})
	s.log.Info("address_index_built", "objects", ix.Len(), "duration_ms", time.Since(start).Milliseconds())
	return nil
}

// Run keeps the index current, checking the register every interval
// once a lookup has built it: a replica that serves no address lookups
// holds no index and reads nothing.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if s.cur.Load() != nil {
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("address_index_refresh_failed", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// index is the current index, built at the first lookup.
func (s *Service) index(ctx context.Context) (*loaded, error) {
	if l := s.cur.Load(); l != nil {
		return l, nil
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s.cur.Load(), nil
}

// SuggestAddresses implements core.AddressDirectory.
func (s *Service) SuggestAddresses(ctx context.Context, q core.AddressQuery) ([]core.RegisterAddress, error) {
	l, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	count := min(max(q.Count, 0), core.MaxAddressSuggestions)
	if count == 0 {
		count = 10
	}
	terms := core.ParseAddressQuery(q.Query)
	opt := Options{Limit: count, From: q.From, To: q.To}
	if len(q.Locations) > 0 {
		if opt.Within = l.ix.locate(q.Locations); len(opt.Within) == 0 {
			return []core.RegisterAddress{}, nil // no such place: nothing lies within it
		}
	}
	opt.Boost = l.ix.locate(q.Boost)
	shownFrom := 0
	if q.RestrictValue {
		for _, id := range opt.Within {
			o, _ := l.ix.ByID(id)
			shownFrom = max(shownFrom, core.LevelBelow(core.AddressLevelOfGAR(o.Level), o.Level == 1 && normType(o.Type) == "г"))
		}
	}
	wantHouses := terms.House != "" && (q.To == 0 || core.BoundRank(q.To) >= core.BoundRank(core.AddressLevelHouse))
	if wantHouses && q.To != 0 {
		opt.To = 0
	}
	wantSteads := terms.Stead != "" && (q.To == 0 || core.BoundRank(q.To) >= core.BoundRank(core.AddressLevelHouse))
	if wantSteads {
		terms.House, opt.To = terms.Stead, 0 // a plot's parents are a house's
	}
	matches := l.ix.Search(terms, opt)
	var out []core.RegisterAddress
	switch {
	case wantSteads:
		if out, err = s.steads(ctx, l, matches, terms.Stead, count); err != nil {
			return nil, err
		}
	case wantHouses:
		if out, err = s.houses(ctx, l, matches, terms, count); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		out = make([]core.RegisterAddress, 0, len(matches))
		for _, m := range matches {
			if q.To != 0 && core.BoundRank(core.AddressLevelOfGAR(m.Object.Level)) > core.BoundRank(q.To) {
				continue
			}
			out = append(out, l.ix.Address(m.Object))
		}
	}
	for i := range out {
		out[i].ShownFrom = shownFrom
	}
	return out, nil
}

// houseParents is how many of the best objects a house number is looked
// for under.
const houseParents = 5

// parentsOf are the best matches (at most houseParents of them, of those
// with houses when withHouses) by region, and in their order.
func parentsOf(matches []Match, withHouses bool) (map[int][]int64, []int64) {
	byRegion := map[int][]int64{}
	var order []int64
	for _, m := range matches {
		if len(order) == houseParents {
			break
		}
		if withHouses && m.Object.Houses == 0 {
			continue
		}
		byRegion[m.Object.Region] = append(byRegion[m.Object.Region], m.Object.ID)
		order = append(order, m.Object.ID)
	}
	return byRegion, order
}

// houses are the houses of the best matches whose number begins as typed,
// in the matches' order.
func (s *Service) houses(ctx context.Context, l *loaded, matches []Match, terms core.AddressTerms, count int) ([]core.RegisterAddress, error) {
	byRegion, order := parentsOf(matches, true)
	found := map[int64][]House{}
	for region, parents := range byRegion {
		hs, err := s.src.Houses(ctx, HouseQuery{Region: region, Parents: parents, Number: terms.House, Block: terms.Block, Limit: count})
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			found[h.Parent] = append(found[h.Parent], h)
		}
	}
	flats, err := s.flats(ctx, found, terms.Flat)
	if err != nil {
		return nil, err
	}
	out := make([]core.RegisterAddress, 0, count)
	for _, id := range order {
		parent, _ := l.ix.ByID(id)
		for _, h := range found[id] {
			if len(out) == count {
				return out, nil
			}
			a := l.houseAddress(parent, h)
			if f, ok := flats[h.ID]; ok {
				l.withFlat(&a, f)
			} else if terms.Flat != "" {
				a.Flat = core.AddressPart{Name: terms.Flat, Type: "кв", TypeFull: "квартира"}
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// steads are the land plots of the best matches whose number begins as
// typed, in the matches' order.
func (s *Service) steads(ctx context.Context, l *loaded, matches []Match, number string, count int) ([]core.RegisterAddress, error) {
	byRegion, order := parentsOf(matches, false)
	found := map[int64][]Stead{}
	for region, parents := range byRegion {
		ss, err := s.src.Steads(ctx, HouseQuery{Region: region, Parents: parents, Number: number, Limit: count})
		if err != nil {
			return nil, err
		}
		for _, st := range ss {
			found[st.Parent] = append(found[st.Parent], st)
		}
	}
	out := make([]core.RegisterAddress, 0, count)
	for _, id := range order {
		parent, _ := l.ix.ByID(id)
		for _, st := range found[id] {
			if len(out) == count {
				return out, nil
			}
			a := l.ix.Address(parent)
			withStead(&a, st)
			out = append(out, a)
		}
	}
	return out, nil
}

// withStead makes an object's address the address of one of its land
// plots.
func withStead(a *core.RegisterAddress, st Stead) {
	a.Stead = core.SteadPart(st.Number, st.GUID)
	a.FIASID, a.FIASLevel = st.GUID, core.AddressLevelStead
	if st.PostalCode != "" {
		a.PostalCode = st.PostalCode
	}
	a.SteadCadastral = st.Cadastral
}

// flats are the register's flats of the houses found numbered as typed,
// by house (none when no flat was typed or none was loaded).
func (s *Service) flats(ctx context.Context, found map[int64][]House, number string) (map[int64]Flat, error) {
	if number == "" {
		return nil, nil
	}
	byRegion := map[int][]int64{}
	for _, hs := range found {
		for _, h := range hs {
			byRegion[h.Region] = append(byRegion[h.Region], h.ID)
		}
	}
	out := map[int64]Flat{}
	for region, houses := range byRegion {
		fs, err := s.src.Flats(ctx, region, houses, number)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			out[f.House] = f
		}
	}
	return out, nil
}

// withFlat makes a house's address the address of one of its flats.
func (l *loaded) withFlat(a *core.RegisterAddress, f Flat) {
	t := l.types.Apartments[f.Type]
	a.Flat = core.AddressPart{Name: f.Number, Type: trimDot(t.Short), TypeFull: strings.ToLower(t.Full), FIASID: f.GUID}
	a.FIASID, a.FIASLevel = f.GUID, core.AddressLevelFlat
	if f.PostalCode != "" {
		a.PostalCode = f.PostalCode
	}
	a.FlatCadastral = f.Cadastral
}

// houseAddress is a house's address: its parent's, then the house.
func (l *loaded) houseAddress(parent *Object, h House) core.RegisterAddress {
	a := l.ix.Address(parent)
	t := l.types.Houses[h.Type]
	a.House = core.AddressPart{Name: h.Number, Type: trimDot(t.Short), TypeFull: strings.ToLower(t.Full), FIASID: h.GUID}
	if h.Add1 != "" {
		bt := l.types.AddHouses[h.AddType1]
		a.Block = core.AddressPart{Name: h.Add1, Type: trimDot(bt.Short), TypeFull: strings.ToLower(bt.Full)}
		if h.Add2 != "" {
			bt2 := l.types.AddHouses[h.AddType2]
			a.Block.Name += " " + trimDot(bt2.Short) + " " + h.Add2
		}
	}
	a.FIASID, a.FIASLevel = h.GUID, core.AddressLevelHouse
	if h.PostalCode != "" {
		a.PostalCode = h.PostalCode
	}
	for _, v := range []struct {
		dst *string
		src string
	}{{&a.OKATO, h.OKATO}, {&a.OKTMO, h.OKTMO}, {&a.TaxOffice, h.TaxOffice}} {
		if v.src != "" {
			*v.dst = v.src
		}
	}
	a.Cadastral = h.Cadastral
	return a
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// FindAddresses implements core.AddressDirectory: by ФИАС id (an object,
// a house, a flat or a land plot), КЛАДР code or cadastral number. A retired ФИАС id finds
// the object or house that took its place.
func (s *Service) FindAddresses(ctx context.Context, id string, count int) ([]core.RegisterAddress, error) {
	l, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return []core.RegisterAddress{}, nil
	}
	out, err := s.find(ctx, l, id, count)
	if len(out) > 0 || err != nil {
		return out, err
	}
	next, err := s.src.AddressSuccessor(ctx, id)
	if next == "" || err != nil {
		return out, err
	}
	return s.find(ctx, l, next, count)
}

func (s *Service) find(ctx context.Context, l *loaded, id string, count int) ([]core.RegisterAddress, error) {
	if o, ok := l.ix.ByGUID(id); ok {
		return []core.RegisterAddress{l.ix.Address(o)}, nil
	}
	if o, ok := l.ix.ByKLADR(id); ok {
		return []core.RegisterAddress{l.ix.Address(o)}, nil
	}
	limit := min(max(count, 1), core.MaxAddressSuggestions)
	hs, err := s.src.HousesByID(ctx, id, limit)
	if err != nil {
		return nil, err
	}
	var flats []Flat
	if len(hs) == 0 {
		if flats, hs, err = s.src.FlatsByID(ctx, id, limit); err != nil {
			return nil, err
		}
	}
	if len(hs) == 0 {
		ss, err := s.src.SteadsByID(ctx, id, limit)
		if err != nil {
			return nil, err
		}
		out := make([]core.RegisterAddress, 0, len(ss))
		for _, st := range ss {
			if parent, ok := l.ix.ByID(st.Parent); ok {
				a := l.ix.Address(parent)
				withStead(&a, st)
				out = append(out, a)
			}
		}
		return out, nil
	}
	out := make([]core.RegisterAddress, 0, len(hs))
	for i, h := range hs {
		parent, ok := l.ix.ByID(h.Parent)
		if !ok {
			continue
		}
		a := l.houseAddress(parent, h)
		if i < len(flats) {
			l.withFlat(&a, flats[i])
		}
		out = append(out, a)
	}
	return out, nil
}

// locate resolves locations to the objects they name.
func (ix *Index) locate(locs []core.AddressLocation) []int64 {
	var out []int64
	for _, loc := range locs {
		if id, ok := ix.locateOne(loc); ok {
			out = append(out, id)
		}
	}
	return out
}

func (ix *Index) locateOne(loc core.AddressLocation) (int64, bool) {
	for _, g := range []string{loc.FIASID, loc.StreetFIASID, loc.SettlementFIASID, loc.CityFIASID, loc.AreaFIASID, loc.RegionFIASID} {
		if g == "" {
			continue
		}
		o, ok := ix.ByGUID(g)
		return objectID(o, ok)
	}
	if k := loc.KLADRID; k != "" {
		if o, ok := ix.ByKLADR(k); ok {
			return o.ID, true
		}
		if len(k) >= 2 { // a region's code: its first two digits
			return ix.regionObject(k[:2])
		}
	}
	for _, n := range []struct {
		name   string
		levels []int
	}{{loc.Street, []int{8}}, {loc.Settlement, []int{6}}, {loc.City, []int{5, 1}}, {loc.Area, []int{2, 3}}, {loc.Region, []int{1}}} {
		if n.name != "" {
			return ix.named(n.name, n.levels)
		}
	}
	return 0, false
}

func objectID(o *Object, ok bool) (int64, bool) {
	if !ok {
		return 0, false
	}
	return o.ID, true
}

func (ix *Index) regionObject(code string) (int64, bool) {
	for i := range ix.objs {
		if o := &ix.objs[i]; o.Level == 1 && fmt.Sprintf("%02d", o.Region) == code {
			return o.ID, true
		}
	}
	return 0, false
}

// named finds the largest object of a level with the name (ё as е, any
// case).
func (ix *Index) named(name string, levels []int) (int64, bool) {
	want := strings.Join(core.SearchWords(name), " ")
	var best *Object
	for i := range ix.objs {
		o := &ix.objs[i]
		if !slices.Contains(levels, o.Level) || strings.Join(core.SearchWords(o.Name), " ") != want {
			continue
		}
		if best == nil || o.Houses > best.Houses {
			best = o
		}
	}
	return objectID(best, best != nil)
}
