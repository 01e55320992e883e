package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// mountAddressSuggestions registers DaData's address lookups.
func (s *Server) mountAddressSuggestions(sg fiber.Router) {
	if s.deps.Addresses == nil {
		return
	}
	sg.Post("/suggest/address", need(core.ScopeSuggest), jsonBody, s.suggestAddress)
	sg.Get("/suggest/address", need(core.ScopeSuggest), s.suggestAddress)
	sg.Post("/findById/address", need(core.ScopeSuggest), jsonBody, s.findAddress)
}

// addressRequest is DaData's suggest/address request.
type addressRequest struct {
	Query          string            `json:"query"`
	Count          int               `json:"count"`
	Locations      []addressLocation `json:"locations"`
	LocationsBoost []addressLocation `json:"locations_boost"`
	FromBound      *struct {
		Value string `json:"value"`
	} `json:"from_bound"`
	ToBound *struct {
		Value string `json:"value"`
	} `json:"to_bound"`
	RestrictValue bool   `json:"restrict_value"`
	Language      string `json:"language"`
}

// addressLocation is one of DaData's locations (the fields the register
// can answer; others are ignored).
type addressLocation struct {
	FIASID           string `json:"fias_id"`
	KLADRID          string `json:"kladr_id"`
	Region           string `json:"region"`
	Area             string `json:"area"`
	City             string `json:"city"`
	Settlement       string `json:"settlement"`
	Street           string `json:"street"`
	RegionFIASID     string `json:"region_fias_id"`
	AreaFIASID       string `json:"area_fias_id"`
	CityFIASID       string `json:"city_fias_id"`
	SettlementFIASID string `json:"settlement_fias_id"`
	StreetFIASID     string `json:"street_fias_id"`
}

func (l addressLocation) core() core.AddressLocation {
	return core.AddressLocation{FIASID: l.FIASID, KLADRID: l.KLADRID, Region: l.Region, Area: l.Area, City: l.City,
		Settlement: l.Settlement, Street: l.Street, RegionFIASID: l.RegionFIASID, AreaFIASID: l.AreaFIASID,
		CityFIASID: l.CityFIASID, SettlementFIASID: l.SettlementFIASID, StreetFIASID: l.StreetFIASID}
}

// maxLocations bounds a request's locations, as DaData's do.
const maxLocations = 100

func readAddressRequest(c *fiber.Ctx) (addressRequest, error) {
	var r addressRequest
	if c.Method() == fiber.MethodGet {
		r.Query, r.Count = c.Query("query"), c.QueryInt("count", 0)
	} else if err := json.Unmarshal(c.Body(), &r); err != nil {
		return r, core.Invalid([]core.FieldError{{Code: "invalid_json", Message: "the request is not DaData's JSON: " + err.Error()}})
	}
	r.Query = strings.TrimSpace(r.Query)
	var errs []core.FieldError
	if utf8.RuneCountInString(r.Query) > maxSuggestQuery {
		errs = append(errs, core.FieldError{Field: "query", Code: "too_long", Message: "at most 300 characters"})
	}
	if r.Count < 0 || r.Count > core.MaxAddressSuggestions {
		errs = append(errs, core.FieldError{Field: "count", Code: "out_of_range", Message: "from 1 to 20"})
	}
	if len(r.Locations) > maxLocations || len(r.LocationsBoost) > maxLocations {
		errs = append(errs, core.FieldError{Field: "locations", Code: "too_many", Message: "at most 100"})
	}
	for _, b := range []struct {
		field string
		v     *struct {
			Value string `json:"value"`
		}
	}{{"from_bound", r.FromBound}, {"to_bound", r.ToBound}} {
		if b.v != nil && b.v.Value != "" && core.AddressBounds[b.v.Value] == 0 {
			errs = append(errs, core.FieldError{Field: b.field + ".value", Code: "invalid_choice",
				Message: "one of region, area, city, city_district, settlement, street, house, flat"})
		}
	}
	return r, core.Invalid(errs)
}

func (s *Server) suggestAddress(c *fiber.Ctx) error {
	r, err := readAddressRequest(c)
	if err != nil {
		return err
	}
	if r.Query == "" {
		return addressSuggestions(c, nil, nil)
	}
	q := core.AddressQuery{Query: r.Query, Count: r.Count, RestrictValue: r.RestrictValue}
	for _, l := range r.Locations {
		q.Locations = append(q.Locations, l.core())
	}
	for _, l := range r.LocationsBoost {
		q.Boost = append(q.Boost, l.core())
	}
	if r.FromBound != nil {
		q.From = core.AddressBounds[r.FromBound.Value]
	}
	if r.ToBound != nil {
		q.To = core.AddressBounds[r.ToBound.Value]
	}
	found, err := s.deps.Addresses.SuggestAddresses(c.UserContext(), q)
	if err != nil {
		return err
	}
	// The value starts at the lower bound, or below the places the lookup
	// is restricted to.
	return addressSuggestions(c, found, func(a core.RegisterAddress) int { return max(q.From, a.ShownFrom) })
}

func (s *Server) findAddress(c *fiber.Ctx) error {
	r, err := suggestQuery(c)
	if err != nil {
		return err
	}
	found, err := s.deps.Addresses.FindAddresses(c.UserContext(), r.Query, r.Count)
	if err != nil {
		return err
	}
	return addressSuggestions(c, found, func(core.RegisterAddress) int { return 0 })
}

// nstr is a string DaData writes null when empty (nil).
type nstr = *string

// addressData is DaData's data of an address, in its order; what the
// register does not hold (coordinates, metro, the flat's own data) is null
// (a struct, not a map: an answer of twenty is encoded in microseconds).
type addressData struct {
	PostalCode           nstr   `json:"postal_code"`
	Country              string `json:"country"`
	CountryISOCode       string `json:"country_iso_code"`
	FederalDistrict      any    `json:"federal_district"`
	RegionFIASID         nstr   `json:"region_fias_id"`
	RegionKLADRID        nstr   `json:"region_kladr_id"`
	RegionISOCode        any    `json:"region_iso_code"`
	RegionWithType       nstr   `json:"region_with_type"`
	RegionType           nstr   `json:"region_type"`
	RegionTypeFull       nstr   `json:"region_type_full"`
	Region               nstr   `json:"region"`
	AreaFIASID           nstr   `json:"area_fias_id"`
	AreaKLADRID          nstr   `json:"area_kladr_id"`
	AreaWithType         nstr   `json:"area_with_type"`
	AreaType             nstr   `json:"area_type"`
	AreaTypeFull         nstr   `json:"area_type_full"`
	Area                 nstr   `json:"area"`
	SubAreaFIASID        any    `json:"sub_area_fias_id"`
	CityFIASID           nstr   `json:"city_fias_id"`
	CityKLADRID          nstr   `json:"city_kladr_id"`
	CityWithType         nstr   `json:"city_with_type"`
	CityType             nstr   `json:"city_type"`
	CityTypeFull         nstr   `json:"city_type_full"`
	City                 nstr   `json:"city"`
	CityArea             any    `json:"city_area"`
	CityDistrictFIASID   nstr   `json:"city_district_fias_id"`
	CityDistrictKLADRID  nstr   `json:"city_district_kladr_id"`
	CityDistrictWithType nstr   `json:"city_district_with_type"`
	CityDistrictType     nstr   `json:"city_district_type"`
	CityDistrictTypeFull nstr   `json:"city_district_type_full"`
	CityDistrict         nstr   `json:"city_district"`
	SettlementFIASID     nstr   `json:"settlement_fias_id"`
	SettlementKLADRID    nstr   `json:"settlement_kladr_id"`
	SettlementWithType   nstr   `json:"settlement_with_type"`
	SettlementType       nstr   `json:"settlement_type"`
	SettlementTypeFull   nstr   `json:"settlement_type_full"`
	Settlement           nstr   `json:"settlement"`
	StreetFIASID         nstr   `json:"street_fias_id"`
	StreetKLADRID        nstr   `json:"street_kladr_id"`
	StreetWithType       nstr   `json:"street_with_type"`
	StreetType           nstr   `json:"street_type"`
	StreetTypeFull       nstr   `json:"street_type_full"`
	Street               nstr   `json:"street"`
	SteadFIASID          nstr   `json:"stead_fias_id"`
	SteadCadnum          nstr   `json:"stead_cadnum"`
	SteadType            nstr   `json:"stead_type"`
	SteadTypeFull        nstr   `json:"stead_type_full"`
	Stead                nstr   `json:"stead"`
	HouseFIASID          nstr   `json:"house_fias_id"`
	HouseKLADRID         any    `json:"house_kladr_id"`
	HouseCadnum          nstr   `json:"house_cadnum"`
	HouseType            nstr   `json:"house_type"`
	HouseTypeFull        nstr   `json:"house_type_full"`
	House                nstr   `json:"house"`
	BlockType            nstr   `json:"block_type"`
	BlockTypeFull        nstr   `json:"block_type_full"`
	Block                nstr   `json:"block"`
	FlatFIASID           nstr   `json:"flat_fias_id"`
	FlatCadnum           nstr   `json:"flat_cadnum"`
	FlatType             nstr   `json:"flat_type"`
	FlatTypeFull         nstr   `json:"flat_type_full"`
	Flat                 nstr   `json:"flat"`
	PostalBox            any    `json:"postal_box"`
	FIASID               nstr   `json:"fias_id"`
	FIASCode             any    `json:"fias_code"`
	FIASLevel            string `json:"fias_level"`
	FIASActualityState   string `json:"fias_actuality_state"`
	KLADRID              nstr   `json:"kladr_id"`
	GeonameID            any    `json:"geoname_id"`
	CapitalMarker        string `json:"capital_marker"`
	OKATO                nstr   `json:"okato"`
	OKTMO                nstr   `json:"oktmo"`
	TaxOffice            nstr   `json:"tax_office"`
	TaxOfficeLegal       nstr   `json:"tax_office_legal"`
	Timezone             any    `json:"timezone"`
	GeoLat               any    `json:"geo_lat"`
	GeoLon               any    `json:"geo_lon"`
	BeltwayHit           any    `json:"beltway_hit"`
	BeltwayDistance      any    `json:"beltway_distance"`
	Metro                any    `json:"metro"`
	Divisions            any    `json:"divisions"`
	QCGeo                string `json:"qc_geo"`
	QCComplete           any    `json:"qc_complete"`
	QCHouse              any    `json:"qc_house"`
	HistoryValues        any    `json:"history_values"`
	UnparsedParts        any    `json:"unparsed_parts"`
	Source               any    `json:"source"`
	QC                   any    `json:"qc"`
}

// addressSuggestion is an address as DaData answers it, its value shown
// from a level (0: whole): the shape addressSuggestions writes by hand,
// kept as the reference its bytes are tested against.
func addressSuggestion(a core.RegisterAddress, from int) suggestion {
	// The strings the data points to, in one block: one allocation
	// rather than one for each of the fifty fields (a moved block leaves
	// the pointers taken before on the strings they were given).
	vals := make([]string, 0, 64)
	ns := func(s string) nstr {
		if s == "" {
			return nil
		}
		vals = append(vals, s)
		return &vals[len(vals)-1]
	}
	part := func(p core.AddressPart) (nstr, nstr, nstr, nstr, nstr, nstr) {
		return ns(p.FIASID), ns(p.KLADRID), ns(p.WithType()), ns(p.Type), ns(p.TypeFull), ns(p.Name)
	}
	d := addressData{PostalCode: ns(a.PostalCode), Country: "Россия", CountryISOCode: "RU",
		SteadFIASID: ns(a.Stead.FIASID), SteadCadnum: ns(a.SteadCadastral), SteadType: ns(a.Stead.Type),
		SteadTypeFull: ns(a.Stead.TypeFull), Stead: ns(a.Stead.Name),
		HouseFIASID: ns(a.House.FIASID), HouseCadnum: ns(a.Cadastral),
		HouseType: ns(a.House.Type), HouseTypeFull: ns(a.House.TypeFull), House: ns(a.House.Name),
		BlockType: ns(a.Block.Type), BlockTypeFull: ns(a.Block.TypeFull), Block: ns(a.Block.Name),
		FlatFIASID: ns(a.Flat.FIASID), FlatCadnum: ns(a.FlatCadastral), FlatType: ns(a.Flat.Type), FlatTypeFull: ns(a.Flat.TypeFull), Flat: ns(a.Flat.Name),
		FIASID: ns(a.FIASID), FIASLevel: strconv.Itoa(a.FIASLevel), FIASActualityState: "0", KLADRID: ns(a.KLADRID),
		CapitalMarker: "0", OKATO: ns(a.OKATO), OKTMO: ns(a.OKTMO), TaxOffice: ns(a.TaxOffice), TaxOfficeLegal: ns(a.TaxOffice),
		QCGeo: "5"}
	d.RegionFIASID, d.RegionKLADRID, d.RegionWithType, d.RegionType, d.RegionTypeFull, d.Region = part(a.Region)
	d.AreaFIASID, d.AreaKLADRID, d.AreaWithType, d.AreaType, d.AreaTypeFull, d.Area = part(a.Area)
	d.CityFIASID, d.CityKLADRID, d.CityWithType, d.CityType, d.CityTypeFull, d.City = part(a.City)
	d.CityDistrictFIASID, d.CityDistrictKLADRID, d.CityDistrictWithType, d.CityDistrictType, d.CityDistrictTypeFull,
		d.CityDistrict = part(a.CityDistrict)
	d.SettlementFIASID, d.SettlementKLADRID, d.SettlementWithType, d.SettlementType, d.SettlementTypeFull, d.Settlement = part(a.Settlement)
	d.StreetFIASID, d.StreetKLADRID, d.StreetWithType, d.StreetType, d.StreetTypeFull, d.Street = part(a.Street)
	value := a.Value()
	if from > core.AddressLevelRegion {
		value = a.ValueFrom(from)
	}
	return suggestion{Value: value, UnrestrictedValue: a.UnrestrictedValue(), Data: d}
}

// normalizeAddress parses free text into a structured address: the best
// suggestion, with how sure it is (1: every part typed was found, the
// house too; 0.5: the place, not the house typed; 0: nothing).
func (s *Server) normalizeAddress(c *fiber.Ctx) error {
	var req struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(c.Body(), &req); err != nil {
		return core.Invalid([]core.FieldError{{Code: "invalid_json", Message: "the body is not JSON: " + err.Error()}})
	}
	req.Text = strings.TrimSpace(req.Text)
	switch {
	case req.Text == "":
		return core.Invalid([]core.FieldError{{Field: "text", Code: "required", Message: "the address to normalize"}})
	case utf8.RuneCountInString(req.Text) > maxSuggestQuery:
		return core.Invalid([]core.FieldError{{Field: "text", Code: "too_long", Message: "at most 300 characters"}})
	}
	found, err := s.deps.Addresses.SuggestAddresses(c.UserContext(), core.AddressQuery{Query: req.Text, Count: 1})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return c.JSON(fiber.Map{"text": req.Text, "confidence": 0, "address": nil, "value": nil})
	}
	a := found[0]
	confidence := 1.0
	if terms := core.ParseAddressQuery(req.Text); terms.House != "" && a.House.IsZero() {
		confidence = 0.5
	}
	return c.JSON(fiber.Map{"text": req.Text, "confidence": confidence, "address": a.PostalAddress(), "value": a.Value(),
		"unrestricted_value": a.UnrestrictedValue(), "printed": a.PostalAddress().String()})
}
