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
		return suggestions(c, []core.RegisterAddress{}, nil)
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
	return suggestions(c, found, func(a core.RegisterAddress) suggestion { return addressSuggestion(a, max(q.From, a.ShownFrom)) })
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
	return suggestions(c, found, func(a core.RegisterAddress) suggestion { return addressSuggestion(a, 0) })
}

// addressSuggestion is an address as DaData answers it; what the register
// does not hold (coordinates, metro, the flat's own data) is null.
func addressSuggestion(a core.RegisterAddress, from int) suggestion {
	data := fiber.Map{
		"postal_code": nullable(a.PostalCode), "country": "Россия", "country_iso_code": "RU", "federal_district": nil,
		"region_iso_code": nil, "sub_area_fias_id": nil, "city_area": nil, "stead_fias_id": nil, "house_kladr_id": nil,
		"house_cadnum": nullable(a.Cadastral), "flat_fias_id": nil, "flat_cadnum": nil, "postal_box": nil,
		"fias_id": nullable(a.FIASID), "fias_code": nil, "fias_level": strconv.Itoa(a.FIASLevel), "fias_actuality_state": "0",
		"kladr_id": nullable(a.KLADRID), "geoname_id": nil, "capital_marker": "0", "okato": nullable(a.OKATO),
		"oktmo": nullable(a.OKTMO), "tax_office": nullable(a.TaxOffice), "tax_office_legal": nullable(a.TaxOffice),
		"timezone": nil, "geo_lat": nil, "geo_lon": nil, "beltway_hit": nil, "beltway_distance": nil, "metro": nil,
		"divisions": nil, "qc_geo": "5", "qc_complete": nil, "qc_house": nil, "history_values": nil, "unparsed_parts": nil,
		"source": nil, "qc": nil,
	}
	for _, p := range []struct {
		prefix string
		part   core.AddressPart
	}{{"region", a.Region}, {"area", a.Area}, {"city", a.City}, {"city_district", a.CityDistrict},
		{"settlement", a.Settlement}, {"street", a.Street}} {
		data[p.prefix+"_fias_id"] = nullable(p.part.FIASID)
		data[p.prefix+"_kladr_id"] = nullable(p.part.KLADRID)
		data[p.prefix+"_with_type"] = nullable(p.part.WithType())
		data[p.prefix+"_type"] = nullable(p.part.Type)
		data[p.prefix+"_type_full"] = nullable(p.part.TypeFull)
		data[p.prefix] = nullable(p.part.Name)
	}
	for _, p := range []struct {
		prefix string
		part   core.AddressPart
	}{{"house", a.House}, {"block", a.Block}, {"flat", a.Flat}} {
		data[p.prefix+"_type"] = nullable(p.part.Type)
		data[p.prefix+"_type_full"] = nullable(p.part.TypeFull)
		data[p.prefix] = nullable(p.part.Name)
	}
	data["house_fias_id"] = nullable(a.House.FIASID)
	value := a.Value()
	if from > core.AddressLevelRegion {
		value = a.ValueFrom(from)
	}
	return suggestion{Value: value, UnrestrictedValue: a.UnrestrictedValue(), Data: data}
}
