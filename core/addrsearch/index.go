// Package addrsearch answers address lookups from the state address
// register: an in-memory index of its address objects (regions, cities,
// streets…, a few hundred thousand for a large region) that matches the
// prefixes of the words typed in any order against each object's words
// and its ancestors', ranks the matches, and a Service that keeps the
// index current and finds the houses of the best matches in the store.
package addrsearch

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/crmhub/crmhub/core"
)

// Object is an address object of the register, as the index keeps it.
type Object struct {
	Region     int
	ID         int64
	GUID       string
	Level      int // the ГАР level (AS_OBJECT_LEVELS)
	Name, Type string
	// Path is the administrative chain of object ids from the region down
	// to the object itself.
	Path []int64
	// Houses counts the houses below the object: its size.
	Houses                                     int
	PostalCode, OKATO, OKTMO, KLADR, TaxOffice string
}

// TypeName is a type word of the register with its full name.
type TypeName struct {
	Level       int // an address object type's level; 0 for a house type
	Short, Full string
}

// Index is an immutable index of the register's address objects.
type Index struct {
	objs  []Object
	pos   map[int64]int32
	guids map[string]int32
	kladr map[string]int32
	// words are the objects' distinct words, sorted; postings[w] the
	// objects that have word w, their own or an ancestor's, ascending;
	// cum the running total of the postings' lengths (len(words)+1).
	words    []string
	postings [][]int32
	cum      []int
	// own and ownCum are the same of the objects' own words only: a match
	// has an own word among the words typed, so these are its candidates
	// when they are fewer.
	own    [][]int32
	ownCum []int
	// cards are what a search reads of each object, side by side so that
	// scoring a candidate costs one or two cache misses rather than one
	// per field: its word ids (its own first, ownN of them; the first
	// cardWords inline, the rest in more), its DaData level, the rank its
	// size gives and its type word (an index into typeWords).
	cards     []card
	more      []int32
	typeWords []string          // the types as normType has them
	types     map[string]string // level|short → full
	scratch   sync.Pool
}

// cardWords is how many of an object's word ids its card holds inline.
const cardWords = 4

type card struct {
	size        float32
	off         uint32 // where in more the words past cardWords are
	typ         uint16
	level, ownN uint8
	n           uint8 // how many words (at most 255)
	w           [cardWords]int32
}

// word is the card's j-th word id.
func (ix *Index) word(c *card, j int) int32 {
	if j < cardWords {
		return c.w[j]
	}
	return ix.more[int(c.off)+j-cardWords]
}

// Build indexes objs (any order; an object's ancestors among them).
func Build(objs []Object, types []TypeName) *Index {
	// Objects of the same name side by side: the candidates of a word
	// typed are then mostly one run of the cards, read in order, rather
	// than scattered over the whole index.
	objs = slices.Clone(objs)
	slices.SortStableFunc(objs, func(a, b Object) int { return cmp.Compare(a.Name, b.Name) })
	ix := &Index{objs: objs, pos: make(map[int64]int32, len(objs)), guids: make(map[string]int32, len(objs)),
		kladr: map[string]int32{}, types: map[string]string{}}
	for i, o := range objs {
		ix.pos[o.ID] = int32(i)
		ix.guids[strings.ToLower(o.GUID)] = int32(i)
		if o.KLADR != "" {
			ix.kladr[o.KLADR] = int32(i)
		}
	}
	for _, t := range types {
		ix.types[typeKey(t.Level, t.Short)] = strings.ToLower(t.Full)
	}

	// Each object's own words, then the dictionary.
	own := make([][]string, len(objs))
	dict := map[string]int32{}
	for i, o := range objs {
		own[i] = uniqueWords(core.SearchWords(o.Name))
		for _, w := range own[i] {
			dict[w] = 0
		}
	}
	ix.words = make([]string, 0, len(dict))
	for w := range dict {
		ix.words = append(ix.words, w)
	}
	slices.Sort(ix.words)
	for i, w := range ix.words {
		dict[w] = int32(i)
	}

	// Each object's words: its own, then its ancestors'.
	ix.cards = make([]card, len(objs))
	ix.postings, ix.own = make([][]int32, len(ix.words)), make([][]int32, len(ix.words))
	typeIDs := map[string]uint16{}
	ids := make([]int32, 0, 16)
	for i, o := range objs {
		ids = ids[:0]
		for _, w := range own[i] {
			ids = append(ids, dict[w])
		}
		ownN := min(len(ids), 255)
		for _, anc := range o.Path {
			if p, ok := ix.pos[anc]; ok && p != int32(i) {
				for _, w := range own[p] {
					if id := dict[w]; !slices.Contains(ids, id) {
						ids = append(ids, id)
					}
				}
			}
		}
		ids = ids[:min(len(ids), 255)]
		c := &ix.cards[i]
		c.ownN, c.n, c.off = uint8(ownN), uint8(len(ids)), uint32(len(ix.more))
		for j, id := range ids {
			if j < cardWords {
				c.w[j] = id
			} else {
				ix.more = append(ix.more, id)
			}
			ix.postings[id] = append(ix.postings[id], int32(i))
			if j < ownN {
				ix.own[id] = append(ix.own[id], int32(i))
			}
		}
		t := normType(o.Type)
		id, ok := typeIDs[t]
		if !ok && len(ix.typeWords) < math.MaxUint16 {
			id = uint16(len(ix.typeWords))
			typeIDs[t] = id
			ix.typeWords = append(ix.typeWords, t)
		}
		c.typ = id
		c.level = uint8(core.AddressLevelOfGAR(o.Level))
		c.size = float32(30 * math.Log10(float64(o.Houses)+1))
	}
	ix.cum, ix.ownCum = make([]int, len(ix.words)+1), make([]int, len(ix.words)+1)
	for i := range ix.postings {
		ix.cum[i+1] = ix.cum[i] + len(ix.postings[i])
		ix.ownCum[i+1] = ix.ownCum[i] + len(ix.own[i])
	}
	ix.scratch.New = func() any { return &scratch{seen: make([]uint32, len(objs))} }
	return ix
}

func typeKey(level int, short string) string { return strconv.Itoa(level) + "|" + normType(short) }

// normType compares type words without their dots and dashes («пр-кт.»
// is «пркт»).
func normType(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(s))
}

func uniqueWords(ws []string) []string {
	out := ws[:0]
	for _, w := range ws {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// scratch marks the candidates one search has seen.
type scratch struct {
	seen []uint32
	gen  uint32
}

// Len is how many objects the index holds.
func (ix *Index) Len() int { return len(ix.objs) }

// ByGUID finds an object by its ФИАС id.
func (ix *Index) ByGUID(guid string) (*Object, bool) {
	p, ok := ix.guids[strings.ToLower(guid)]
	if !ok {
		return nil, false
	}
	return &ix.objs[p], true
}

// ByKLADR finds an object by its КЛАДР code.
func (ix *Index) ByKLADR(code string) (*Object, bool) {
	p, ok := ix.kladr[code]
	if !ok {
		return nil, false
	}
	return &ix.objs[p], true
}

// ByID finds an object by its ГАР object id.
func (ix *Index) ByID(id int64) (*Object, bool) {
	p, ok := ix.pos[id]
	if !ok {
		return nil, false
	}
	return &ix.objs[p], true
}

// Options narrow a search.
type Options struct {
	Limit int
	// Within are object ids of which a match must lie within one (be it
	// or have it among its ancestors); Boost are those whose matches rank
	// first.
	Within, Boost []int64
	// From and To bound the matches' levels (core.AddressLevel…, 0: no
	// bound).
	From, To int
}

// Match is an object a search found, with its score.
type Match struct {
	Object *Object
	Score  float64
}

// term is a query word's range of dictionary words it is the prefix of.
type term struct {
	lo, hi int32
	exact  int32 // the word equal to it, or -1
}

// Search finds the objects every word of terms is the beginning of a word
// of (the object's own or an ancestor's), at least one of them its own,
// best first. A query's type words («ул») and a house number favour the
// objects they fit.
func (ix *Index) Search(terms core.AddressTerms, opt Options) []Match {
	if len(terms.Words) == 0 || len(ix.objs) == 0 {
		return nil
	}
	terms.TypeHints = slices.Clone(terms.TypeHints)
	for i, h := range terms.TypeHints {
		terms.TypeHints[i] = normType(h)
	}
	ts := make([]term, 0, len(terms.Words))
	driver, size, owned := 0, math.MaxInt, 0
	words := terms.Words
	terms.Words = nil
	for _, w := range words {
		lo := sort.SearchStrings(ix.words, w)
		hi := lo + sort.Search(len(ix.words)-lo, func(j int) bool { return !strings.HasPrefix(ix.words[lo+j], w) })
		if lo == hi && core.IsAddressTypeWord(w) {
			// A type word that begins no name («ул» last): a type.
			terms.TypeHints = append(terms.TypeHints, normType(w))
			continue
		}
		if lo == hi {
			return nil
		}
		i := len(ts)
		terms.Words = append(terms.Words, w)
		t := term{lo: int32(lo), hi: int32(hi), exact: -1}
		if ix.words[lo] == w {
			t.exact = int32(lo)
		}
		ts = append(ts, t)
		if n := ix.cum[hi] - ix.cum[lo]; n < size {
			driver, size = i, n
		}
		owned += ix.ownCum[hi] - ix.ownCum[lo]
	}
	if len(ts) == 0 {
		return nil
	}
	limit := cmp.Or(opt.Limit, 10)

	sc := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(sc)
	sc.gen++
	if sc.gen == 0 { // wrapped: clear the marks
		clear(sc.seen)
		sc.gen = 1
	}
	best := make([]Match, 0, limit+1)
	visit := func(postings [][]int32, t term) {
		for w := t.lo; w < t.hi; w++ {
			for _, p := range postings[w] {
				if sc.seen[p] == sc.gen {
					continue
				}
				sc.seen[p] = sc.gen
				if score, ok := ix.score(p, ts, terms, opt); ok {
					best = insertBest(best, Match{Object: &ix.objs[p], Score: score}, limit)
				}
			}
		}
	}
	// The candidates: the objects the rarest word typed is a word of, or
	// those any word typed is an own word of, whichever are fewer.
	if owned < size {
		for _, t := range ts {
			visit(ix.own, t)
		}
	} else {
		visit(ix.postings, ts[driver])
	}
	return best
}

// score rates object p against the terms; ok is false when it does not
// match.
func (ix *Index) score(p int32, ts []term, terms core.AddressTerms, opt Options) (float64, bool) {
	c := &ix.cards[p]
	level := int(c.level)
	if level == 0 || opt.From > 0 && core.BoundRank(level) < core.BoundRank(opt.From) ||
		opt.To > 0 && core.BoundRank(level) > core.BoundRank(opt.To) {
		return 0, false
	}
	n, ownN := int(c.n), int(c.ownN)
	own, exact, lastOwn := 0, 0, false
	usedOwn := uint64(0)
	for i, t := range ts {
		matched, ownHit := false, false
		for j := range n {
			id := ix.word(c, j)
			if id < t.lo || id >= t.hi {
				continue
			}
			matched = true
			if id == t.exact {
				exact++
			}
			if j < ownN {
				ownHit = true
				if j < 64 {
					usedOwn |= 1 << j
				}
			}
		}
		if !matched {
			return 0, false
		}
		if ownHit {
			own++
			lastOwn = lastOwn || i == len(ts)-1
		}
	}
	if own == 0 {
		return 0, false
	}
	o := &ix.objs[p]
	if len(opt.Within) > 0 && !slices.ContainsFunc(opt.Within, func(id int64) bool { return slices.Contains(o.Path, id) }) {
		return 0, false
	}
	// More of the words typed naming the object itself, the last one
	// typed among them, whole words, few words of its name left untyped,
	// a larger place, the type typed, the level a house number needs.
	score := 1000*float64(own) + 40*float64(exact) + float64(c.size)
	if lastOwn {
		score += 300
	}
	for j := 0; j < ownN && j < 64; j++ {
		if usedOwn&(1<<j) == 0 {
			score -= 60
		}
	}
	for _, h := range terms.TypeHints { // normalized by Search
		if h == ix.typeWords[c.typ] {
			score += 150
		}
	}
	if terms.House != "" && (level == core.AddressLevelStreet || level == core.AddressLevelPlanning || level == core.AddressLevelSettlement) {
		score += 200
	}
	if slices.ContainsFunc(opt.Boost, func(id int64) bool { return slices.Contains(o.Path, id) }) {
		score += 500
	}
	return score, true
}

// insertBest keeps the best limit matches, best first; ties go to the
// shorter name, then the smaller id, so that answers are stable.
func insertBest(best []Match, m Match, limit int) []Match {
	better := func(a, b Match) bool {
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if len(a.Object.Name) != len(b.Object.Name) {
			return len(a.Object.Name) < len(b.Object.Name)
		}
		return a.Object.ID < b.Object.ID
	}
	if len(best) == limit && !better(m, best[len(best)-1]) {
		return best
	}
	i := sort.Search(len(best), func(i int) bool { return better(m, best[i]) })
	best = slices.Insert(best, i, m)
	if len(best) > limit {
		best = best[:limit]
	}
	return best
}

// Address is the structured address of an object: its chain's parts.
func (ix *Index) Address(o *Object) core.RegisterAddress {
	chain := make([]core.RegisterObject, 0, len(o.Path))
	for _, id := range o.Path {
		if anc, ok := ix.ByID(id); ok {
			chain = append(chain, core.RegisterObject{Level: anc.Level, Name: anc.Name, Type: anc.Type,
				TypeFull: ix.types[typeKey(anc.Level, anc.Type)], GUID: anc.GUID, KLADR: anc.KLADR})
		}
	}
	a := core.BuildRegisterAddress(chain)
	a.PostalCode, a.OKATO, a.OKTMO, a.TaxOffice = o.PostalCode, o.OKATO, o.OKTMO, o.TaxOffice
	return a
}
