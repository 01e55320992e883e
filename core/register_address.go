package core

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"unicode"
)

// AddressPart is one level of a structured address: a region, a city, a
// street, a house… with its type («г», «ул», «д») and its ids in the state
// address register.
type AddressPart struct {
	Name     string `json:"name"`
	Type     string `json:"type"`      // the short type: «обл», «г», «ул»
	TypeFull string `json:"type_full"` // «область», «город», «улица»
	FIASID   string `json:"fias_id"`
	KLADRID  string `json:"kladr_id"`
}

// IsZero reports whether the part is empty.
func (p AddressPart) IsZero() bool { return p.Name == "" }

// WithType is the part as DaData writes it: the type before the name
// («г Москва», «ул Тверская», «Респ Татарстан»), or after an adjective of
// the types that follow it («Московская обл», «Тверской б-р»).
func (p AddressPart) WithType() string {
	switch {
	case p.Name == "":
		return ""
	case p.Type == "":
		return p.Name
	case typeAfter(p.Type, p.Name):
		return p.Name + " " + p.Type
	}
	return p.Type + " " + p.Name
}

// typeAfter: the types written after their name when the name is an
// adjective (its last word ends as one). Called for every part of every
// suggestion: it allocates nothing.
func typeAfter(typ, name string) bool {
	switch strings.TrimSuffix(typ, ".") {
	case "обл", "край", "АО", "ао", "Аобл", "аобл", "р-н", "м.р-н", "г.о", "ш", "пр-кт", "б-р", "проезд", "туп", "пл", "наб", "пер", "аллея":
	default:
		return false
	}
	last := name[strings.LastIndexByte(name, ' ')+1:]
	for _, end := range []string{"ая", "яя", "ое", "ее", "ий", "ый", "ой", "ин", "ов", "ев"} {
		if strings.HasSuffix(last, end) {
			return true
		}
	}
	return false
}

// RegisterAddress is an address structured as the state address register
// (ФИАС/ГАР) holds it, in the parts DaData's suggestions name.
type RegisterAddress struct {
	PostalCode   string      `json:"postal_code"`
	Region       AddressPart `json:"region"`
	Area         AddressPart `json:"area"` // a district (район, округ)
	City         AddressPart `json:"city"`
	CityDistrict AddressPart `json:"city_district"`
	Settlement   AddressPart `json:"settlement"`
	Street       AddressPart `json:"street"` // a street, or a planning structure (мкр) houses stand in
	House        AddressPart `json:"house"`
	Stead        AddressPart `json:"stead"` // a land plot (участок), where there is no house
	Block        AddressPart `json:"block"` // корпус, строение…
	Flat         AddressPart `json:"flat"`
	// FIASID, FIASLevel and KLADRID are those of the most precise part
	// (FIASLevel in DaData's numbering: AddressLevel…).
	FIASID    string `json:"fias_id"`
	FIASLevel int    `json:"fias_level"`
	KLADRID   string `json:"kladr_id"`
	OKATO     string `json:"okato"`
	OKTMO     string `json:"oktmo"`
	TaxOffice string `json:"tax_office"`
	Cadastral string `json:"cadastral_number"`
	// FlatCadastral is the flat's own cadastral number, SteadCadastral
	// the land plot's.
	FlatCadastral  string `json:"flat_cadastral_number"`
	SteadCadastral string `json:"stead_cadastral_number"`
	// ShownFrom, when set, is the level a lookup restricted to a place
	// shows the address from (ValueFrom): below that place.
	ShownFrom int `json:"-"`
}

// LevelBelow is the level right below one (a federal city's region is
// its city: below it comes the city district).
func LevelBelow(level int, federalCity bool) int {
	switch level {
	case AddressLevelRegion:
		if federalCity {
			return AddressLevelCityDistrict
		}
		return AddressLevelArea
	case AddressLevelArea:
		return AddressLevelCity
	case AddressLevelCity:
		return AddressLevelCityDistrict
	case AddressLevelCityDistrict:
		return AddressLevelSettlement
	case AddressLevelSettlement, AddressLevelPlanning:
		return AddressLevelStreet
	case AddressLevelStreet:
		return AddressLevelHouse
	}
	return AddressLevelFlat
}

// DaData's levels of an address (fias_level).
const (
	AddressLevelRegion       = 1
	AddressLevelArea         = 3
	AddressLevelCity         = 4
	AddressLevelCityDistrict = 5
	AddressLevelSettlement   = 6
	AddressLevelStreet       = 7
	AddressLevelHouse        = 8
	AddressLevelFlat         = 9
	AddressLevelPlanning     = 65
	AddressLevelStead        = 75
)

// AddressLevelOfGAR is DaData's level of a ГАР object level (AS_OBJECT_
// LEVELS): 1 region, 2 and 3 districts, 5 city, 6 settlement, 7 planning
// structure, 8 street, 10 house, 11 flat, 14 city district; 0 for the
// levels a suggestion does not name (4 поселение, 9 land plot…).
func AddressLevelOfGAR(level int) int {
	switch level {
	case 1:
		return AddressLevelRegion
	case 2, 3:
		return AddressLevelArea
	case 5:
		return AddressLevelCity
	case 6:
		return AddressLevelSettlement
	case 7:
		return AddressLevelPlanning
	case 8:
		return AddressLevelStreet
	case 10:
		return AddressLevelHouse
	case 11:
		return AddressLevelFlat
	case 14:
		return AddressLevelCityDistrict
	}
	return 0
}

// AddressBounds are DaData's from_bound/to_bound values, by level.
var AddressBounds = map[string]int{"region": AddressLevelRegion, "area": AddressLevelArea, "city": AddressLevelCity,
	"city_district": AddressLevelCityDistrict, "settlement": AddressLevelSettlement, "street": AddressLevelStreet,
	"house": AddressLevelHouse, "flat": AddressLevelFlat}

// BoundRank orders DaData's levels from the region down (the planning
// structure sits between settlement and street).
func BoundRank(level int) int {
	switch level {
	case AddressLevelPlanning:
		return 65 // between settlement (6) and street (7): compared as 6.5
	case AddressLevelStead:
		return AddressLevelHouse * 10 // a land plot stands where a house does
	case 0:
		return 0
	}
	return level * 10
}

// FederalCity reports whether the region is a city of federal importance
// (Москва, Санкт-Петербург, Севастополь, Байконур), whose region is its
// city: an address names it once.
func (a RegisterAddress) FederalCity() bool {
	return strings.EqualFold(strings.TrimSuffix(a.Region.Type, "."), "г")
}

// Value is the address in one line as DaData's suggestion list shows it:
// without the postal code; the region, but a federal city once; the
// district only where there is no city.
func (a RegisterAddress) Value() string {
	parts := []string{a.Region.WithType()}
	switch {
	case a.FederalCity():
		if a.City.Name != a.Region.Name {
			parts = append(parts, a.City.WithType()) // a town within it: «г Москва, г Зеленоград»
		}
	case a.City.IsZero():
		parts = append(parts, a.Area.WithType())
	default:
		parts = append(parts, a.City.WithType())
	}
	return joinParts(append(parts, a.tail()...))
}

// ValueFrom is Value without the parts above a level (AddressLevel…):
// what a lookup bounded from that level, or restricted to a place of the
// level above, shows («ул Тверская, д 7» from the street).
func (a RegisterAddress) ValueFrom(level int) string {
	if level <= AddressLevelRegion {
		return a.Value()
	}
	type part struct {
		level int
		text  string
	}
	parts := []part{{AddressLevelArea, a.Area.WithType()}, {AddressLevelCity, a.City.WithType()},
		{AddressLevelCityDistrict, a.CityDistrict.WithType()}, {AddressLevelSettlement, a.Settlement.WithType()},
		{AddressLevelStreet, a.Street.WithType()}}
	tail := a.tail()
	keep := []string{}
	for _, p := range parts {
		if BoundRank(p.level) >= BoundRank(level) && (p.level != AddressLevelArea || a.City.IsZero()) {
			keep = append(keep, p.text)
		}
	}
	return joinParts(append(keep, tail[3:]...)) // the house and the flat
}

// UnrestrictedValue is the full line: the postal code, then every part.
func (a RegisterAddress) UnrestrictedValue() string {
	parts := []string{a.PostalCode, a.Region.WithType(), a.Area.WithType()}
	if !(a.FederalCity() && a.City.Name == a.Region.Name) {
		parts = append(parts, a.City.WithType())
	}
	return joinParts(append(parts, a.tail()...))
}

// tail are the parts below the city (a land plot where the house is).
func (a RegisterAddress) tail() []string {
	house := a.House.WithType()
	if house == "" {
		house = a.Stead.WithType()
	}
	if !a.Block.IsZero() {
		house = strings.TrimSpace(house + " " + a.Block.WithType())
	}
	return []string{a.CityDistrict.WithType(), a.Settlement.WithType(), a.Street.WithType(), house, a.Flat.WithType()}
}

func joinParts(parts []string) string {
	keep := parts[:0]
	for _, p := range parts {
		if p != "" && (len(keep) == 0 || keep[len(keep)-1] != p) {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ", ")
}

// RegisterObject is an address object of the register as an address is
// built from it.
type RegisterObject struct {
	Level                int // the ГАР level
	Name, Type, TypeFull string
	GUID, KLADR          string
}

// BuildRegisterAddress is the address of the last object of a chain (from
// the region down): each object fills the part of its level; a planning
// structure (мкр) stands for the street where there is none; a federal
// city's region is also its city.
func BuildRegisterAddress(chain []RegisterObject) RegisterAddress {
	var a RegisterAddress
	for _, o := range chain {
		part := AddressPart{Name: o.Name, Type: o.Type, TypeFull: o.TypeFull, FIASID: o.GUID, KLADRID: o.KLADR}
		switch AddressLevelOfGAR(o.Level) {
		case AddressLevelRegion:
			a.Region = part
		case AddressLevelArea:
			if a.Area.IsZero() {
				a.Area = part
			}
		case AddressLevelCity:
			a.City = part
		case AddressLevelCityDistrict:
			a.CityDistrict = part
		case AddressLevelSettlement:
			a.Settlement = part
		case AddressLevelPlanning:
			if a.Street.IsZero() {
				a.Street = part
			}
		case AddressLevelStreet:
			a.Street = part
		}
	}
	if a.City.IsZero() && a.FederalCity() {
		a.City = a.Region
	}
	if n := len(chain); n > 0 {
		last := chain[n-1]
		a.FIASID, a.FIASLevel, a.KLADRID = last.GUID, AddressLevelOfGAR(last.Level), last.KLADR
	}
	return a
}

// SteadPart is a land plot of the register as an address names it
// («уч 19»: the register has no types of plots).
func SteadPart(number, fiasID string) AddressPart {
	return AddressPart{Name: number, Type: "уч", TypeFull: "участок", FIASID: fiasID}
}

// FlatLine is the register's flat as a record keeps it: a flat's number
// («5»), another premises' type before it («помещ. 1», «офис 12»); ""
// when the address names no flat of the register.
func (a RegisterAddress) FlatLine() string {
	switch {
	case a.Flat.FIASID == "" || a.Flat.Name == "":
		return ""
	case a.Flat.Type == "" || a.Flat.Type == "кв":
		return a.Flat.Name
	}
	return docPart(a.Flat.Type, a.Flat.Name)
}

// PostalAddress is the address as a record keeps it: the parts with their
// types, the ids of the register; the flat as given.
func (a RegisterAddress) PostalAddress() PostalAddress {
	p := PostalAddress{Postcode: a.PostalCode, Region: a.Region.Name, RegionType: a.Region.Type,
		District: a.Area.Name, DistrictType: a.Area.Type, City: a.City.Name, CityType: a.City.Type,
		Settlement: a.Settlement.Name, SettlementType: a.Settlement.Type, Street: a.Street.Name, StreetType: a.Street.Type,
		House: a.House.Name, HouseType: a.House.Type, Block: a.Block.Name, BlockType: a.Block.Type, Flat: a.Flat.Name,
		FIASID: a.FIASID, FIASLevel: a.FIASLevel, KLADRID: a.KLADRID, OKTMO: a.OKTMO}
	if a.House.IsZero() && !a.Stead.IsZero() { // documents write a land plot where the house goes
		p.House, p.HouseType = a.Stead.Name, a.Stead.Type
	}
	if !a.CityDistrict.IsZero() && p.District == "" {
		p.District, p.DistrictType = a.CityDistrict.Name, a.CityDistrict.Type
	}
	return p
}

// fiasLevelField sets an address's fias_level (copied back with the rest
// of an address, as a conversion does): DaData's level, 0 to 99, or null;
// a fias_id sets it from the register anyway.
func fiasLevelField[T any](field func(*T) *int) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		if isNull(raw) {
			*field(rec) = 0
			return nil
		}
		var n int
		if err := json.Unmarshal(raw, &n); err != nil || n < 0 || n > 99 {
			return []FieldError{{Field: path, Code: "invalid_type", Message: "must be a level from 0 to 99"}}
		}
		*field(rec) = n
		return nil
	}
}

// VtigerAddress is the address as a lead or a contact keeps it: the
// street line with the house, block and flat («ул. Горького, д. 5а, кв.
// 5»), the city (or the settlement, after its district), the region as
// the state, with the register's ids.
func (a RegisterAddress) VtigerAddress(flat, poBox string) Address {
	p := a.PostalAddress()
	p.Flat = flat
	street := []string{docPart(p.StreetType, p.Street), docPart(p.HouseType, p.House), docPart(p.BlockType, p.Block)}
	if flat != "" {
		if startsWithDigit(flat) {
			flat = "кв. " + flat
		}
		street = append(street, flat)
	}
	city := docPart(p.CityType, p.City)
	if city == "" || !a.Settlement.IsZero() {
		place := []string{}
		if a.City.IsZero() {
			place = append(place, docPart(a.Area.Type, a.Area.Name))
		} else {
			place = append(place, city)
		}
		city = joinParts(append(place, docPart(p.SettlementType, p.Settlement)))
	}
	return Address{Street: joinParts(street), POBox: poBox, City: city, State: docPart(p.RegionType, p.Region),
		Postcode: p.Postcode, Country: "Россия", Flat: p.Flat, FIASID: p.FIASID, FIASLevel: p.FIASLevel, KLADRID: p.KLADRID, OKTMO: p.OKTMO}
}

// AddressQuery is an address lookup, as DaData's suggest/address takes it.
type AddressQuery struct {
	Query string
	Count int
	// Locations restrict the answer to what lies within any of them;
	// Boost ranks what lies within them first.
	Locations, Boost []AddressLocation
	// From and To bound the answer's levels (AddressLevel…; 0: none).
	From, To int
	// RestrictValue leaves the parts of the locations out of the value.
	RestrictValue bool
}

// AddressLocation names a place by its ids or names (any given must hold).
type AddressLocation struct {
	FIASID, KLADRID                                        string
	Region, Area, City, Settlement, Street                 string
	RegionFIASID, AreaFIASID, CityFIASID, SettlementFIASID string
	StreetFIASID                                           string
}

// MaxAddressSuggestions bounds one lookup's answer, as DaData's does.
const MaxAddressSuggestions = 20

// AddressDirectory answers address lookups from the state address
// register.
type AddressDirectory interface {
	// SuggestAddresses answers a lookup, best first. Errors: EINVALID;
	// EUNAVAILABLE while no register is loaded yet.
	SuggestAddresses(ctx context.Context, q AddressQuery) ([]RegisterAddress, error)
	// FindAddresses returns the address of a ФИАС id (an object or a
	// house), a КЛАДР code or a cadastral number.
	FindAddresses(ctx context.Context, id string, count int) ([]RegisterAddress, error)
}

// AddressTerms is a query as the address lookup reads it: the words that
// name places (prefixes, lower case, ё as е, type words dropped, a Latin
// keyboard layout turned Cyrillic), and the house, block and flat typed
// at its end.
type AddressTerms struct {
	Words []string
	// TypeHints are the type words dropped («ул», «г»): a ranking hint.
	TypeHints []string
	// House is the house number as typed («7», «7а», «10/2»), Block its
	// корпус/строение and BlockType the word that said which («к», «стр»).
	House, Block, BlockType string
	Flat                    string
	// Stead is a land plot's number typed after its word («уч 15»,
	// «участок 15», «з/у 15»).
	Stead string
	// PostalCode is a postal code typed first (a widget asks again with
	// the full line it was given, which begins with one).
	PostalCode string
}

// addressTypeWords are the type words of places a query may carry:
// dropped from its words (but for the last one, which may be the
// beginning of a name).
var addressTypeWords = map[string]bool{
	"г": true, "гор": true, "город": true, "ул": true, "улица": true, "пр": true, "просп": true, "проспект": true,
	"пркт": true, "прт": true, "пер": true, "переулок": true, "ш": true, "шоссе": true, "б": true, "бр": true, "бульвар": true,
	"пл": true, "площадь": true, "наб": true, "набережная": true, "проезд": true, "прд": true, "туп": true, "тупик": true,
	"мкр": true, "микрорайон": true, "обл": true, "область": true, "край": true, "респ": true, "республика": true,
	"рн": true, "район": true, "п": true, "пос": true, "поселок": true, "пгт": true, "с": true, "село": true,
	"д": true, "дер": true, "деревня": true, "тер": true, "снт": true, "ао": true, "аобл": true, "аллея": true,
	"рп": true, "ст": true, "станица": true, "х": true, "хутор": true, "кв": true, "квартал": true,
}

// IsAddressTypeWord reports whether w (as ParseAddressQuery writes it:
// «рн», «пркт») is a type word of places.
func IsAddressTypeWord(w string) bool { return addressTypeWords[w] }

// blockWords name a house's block in a query, with the type DaData writes.
var blockWords = map[string]string{"к": "к", "корп": "к", "корпус": "к", "стр": "стр", "строение": "стр", "с": "стр",
	"лит": "литера", "литер": "литера", "литера": "литера", "соор": "соор", "сооружение": "соор"}

var (
	// houseNumber: «7», «7а», «10/2», «12к1», «12стр2», «15-17».
	houseNumber = regexp.MustCompile(`^(\d+[а-я]?(?:[/-]\d+[а-я]?)?)(?:(к|корп|стр|с|лит)(\d+[а-я]?))?$`)
	// hyphenated type abbreviations, read as one word.
	hyphenTypes = strings.NewReplacer("р-н", "рн", "пр-кт", "пркт", "пр-т", "прт", "б-р", "бр", "пр-д", "прд", "мкр-н", "мкр")
)

// ParseAddressQuery reads what was typed into AddressTerms.
func ParseAddressQuery(q string) AddressTerms {
	q = strings.ReplaceAll(strings.ToLower(q), "ё", "е")
	if !strings.ContainsFunc(q, isCyrillic) && strings.ContainsFunc(q, isLatin) {
		q = FixKeyboardLayout(q)
	}
	q = hyphenTypes.Replace(q)
	tokens := addressTokens(q)
	var t AddressTerms
	if len(tokens) > 1 && len(tokens[0]) == 6 && strings.Trim(tokens[0], "0123456789") == "" {
		t.PostalCode, tokens = tokens[0], tokens[1:]
	}
	tokens = t.takeFlat(tokens)
	if tokens = t.takeStead(tokens); t.Stead == "" {
		tokens = t.takeHouse(tokens)
	}
	for i, w := range tokens {
		if addressTypeWords[w] && (i < len(tokens)-1 || t.House != "") {
			t.TypeHints = append(t.TypeHints, w)
			continue
		}
		t.Words = append(t.Words, w)
	}
	if len(t.Words) == 0 && len(t.TypeHints) > 0 {
		// Nothing but type words before the house: the last of them begins
		// a name («гор 5» is Горького).
		n := len(t.TypeHints) - 1
		t.Words, t.TypeHints = t.TypeHints[n:], t.TypeHints[:n]
		if len(t.TypeHints) == 0 {
			t.TypeHints = nil
		}
	}
	return t
}

// takeFlat takes «кв 5» (or «кв5») off the end.
func (t *AddressTerms) takeFlat(tokens []string) []string {
	n := len(tokens)
	switch {
	case n >= 2 && (tokens[n-2] == "кв" || tokens[n-2] == "квартира" || tokens[n-2] == "оф") && startsWithDigit(tokens[n-1]):
		t.Flat = tokens[n-1]
		return tokens[:n-2]
	case n >= 1 && strings.HasPrefix(tokens[n-1], "кв") && len(tokens[n-1]) > len("кв") && startsWithDigit(tokens[n-1][len("кв"):]):
		t.Flat = tokens[n-1][len("кв"):]
		return tokens[:n-1]
	}
	return tokens
}

// steadWords say a land plot's number follows.
var steadWords = map[string]bool{"уч": true, "участок": true, "з/у": true, "зу": true, "зем": true}

// takeStead takes «уч 15» off the end (after at least one word).
func (t *AddressTerms) takeStead(tokens []string) []string {
	if n := len(tokens); n >= 3 && steadWords[tokens[n-2]] && startsWithDigit(tokens[n-1]) {
		t.Stead = tokens[n-1]
		return tokens[:n-2]
	}
	return tokens
}

// takeHouse takes the house number, its block and the words before them
// («д», «дом») off the end: a number after at least one word.
func (t *AddressTerms) takeHouse(tokens []string) []string {
	n := len(tokens)
	if n >= 4 && blockWords[tokens[n-2]] != "" && startsWithDigit(tokens[n-1]) && houseNumber.MatchString(tokens[n-3]) {
		t.Block, t.BlockType = tokens[n-1], blockWords[tokens[n-2]]
		tokens, n = tokens[:n-2], n-2
	}
	if n < 2 {
		return tokens
	}
	m := houseNumber.FindStringSubmatch(tokens[n-1])
	if m == nil {
		return tokens
	}
	t.House = m[1]
	if m[2] != "" {
		t.Block, t.BlockType = m[3], blockWords[m[2]]
	}
	tokens = tokens[:n-1]
	if k := len(tokens); k > 1 && (tokens[k-1] == "д" || tokens[k-1] == "дом") {
		tokens = tokens[:k-1]
	}
	return tokens
}

// addressTokens splits on what is no letter, digit or a slash inside a
// number («10/2»).
func addressTokens(q string) []string {
	fields := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '/' })
	out := fields[:0]
	for _, f := range fields {
		if f = strings.Trim(f, "/"); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func isCyrillic(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }
func isLatin(r rune) bool    { return r < unicode.MaxASCII && unicode.IsLetter(r) }

// latinToCyrillic is the Russian ЙЦУКЕН layout under the Latin QWERTY
// one; punctuation keys are letters there too («,» is «б»).
var latinToCyrillic = map[rune]rune{
	'q': 'й', 'w': 'ц', 'e': 'у', 'r': 'к', 't': 'е', 'y': 'н', 'u': 'г', 'i': 'ш', 'o': 'щ', 'p': 'з', '[': 'х', ']': 'ъ',
	'a': 'ф', 's': 'ы', 'd': 'в', 'f': 'а', 'g': 'п', 'h': 'р', 'j': 'о', 'k': 'л', 'l': 'д', ';': 'ж', '\'': 'э',
	'z': 'я', 'x': 'ч', 'c': 'с', 'v': 'м', 'b': 'и', 'n': 'т', 'm': 'ь', ',': 'б', '.': 'ю', '`': 'ё'}

// FixKeyboardLayout reads text typed with the Latin layout on by mistake
// as the Russian keys it meant («vjcrdf» → «москва»). A punctuation key is
// read as a letter only within a word: «vjcrdf, 7» keeps its comma.
func FixKeyboardLayout(s string) string {
	rs := []rune(strings.ToLower(s))
	out := make([]rune, len(rs))
	for i, r := range rs {
		out[i] = r
		c, ok := latinToCyrillic[r]
		if !ok {
			continue
		}
		if unicode.IsLetter(r) || i > 0 && i < len(rs)-1 && isLatin(rs[i-1]) && isLatin(rs[i+1]) {
			out[i] = c
		}
	}
	return string(out)
}
