package api

import (
	"strconv"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

// The address answers are written by hand rather than by encoding/json:
// ten addresses of DaData's ninety fields each were a quarter of the
// hub's work per lookup under load (reflection, a pointer per string, the
// copy). The bytes are the same as json.Marshal of addressSuggestion's
// struct, which documents the shape and which a test compares them with.

// addressSuggestions answers DaData's {"suggestions": […]} of addresses,
// each value shown from the level from gives it.
func addressSuggestions(c *fiber.Ctx, found []core.RegisterAddress, from func(core.RegisterAddress) int) error {
	w := jsonWriter{b: make([]byte, 0, 2048*len(found)+32)}
	w.b = append(w.b, `{"suggestions":[`...)
	for i, a := range found {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.addressSuggestion(a, from(a))
	}
	w.b = append(w.b, "]}\n"...)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(w.b)
}

// jsonWriter appends JSON objects' members.
type jsonWriter struct {
	b     []byte
	first bool // the next member is an object's first
}

func (w *jsonWriter) open()  { w.b, w.first = append(w.b, '{'), true }
func (w *jsonWriter) close() { w.b = append(w.b, '}') }

func (w *jsonWriter) key(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

// str is a string member; nstr one that is null when empty; null members.
func (w *jsonWriter) str(k, v string) { w.key(k); w.b = appendJSONString(w.b, v) }

func (w *jsonWriter) nstr(k, v string) {
	if v == "" {
		w.null(k)
		return
	}
	w.str(k, v)
}

func (w *jsonWriter) null(keys ...string) {
	for _, k := range keys {
		w.key(k)
		w.b = append(w.b, "null"...)
	}
}

// part writes a part's six members (prefix_fias_id … prefix), nulls
// between its КЛАДР code and the rest where DaData has them.
func (w *jsonWriter) part(prefix string, p core.AddressPart, nulls ...string) {
	w.nstr(prefix+"_fias_id", p.FIASID)
	w.nstr(prefix+"_kladr_id", p.KLADRID)
	w.null(nulls...)
	w.nstr(prefix+"_with_type", p.WithType())
	w.nstr(prefix+"_type", p.Type)
	w.nstr(prefix+"_type_full", p.TypeFull)
	w.nstr(prefix, p.Name)
}

// addressSuggestion writes what addressSuggestion makes, in its order.
func (w *jsonWriter) addressSuggestion(a core.RegisterAddress, from int) {
	value := a.Value()
	if from > core.AddressLevelRegion {
		value = a.ValueFrom(from)
	}
	w.open()
	w.str("value", value)
	w.str("unrestricted_value", a.UnrestrictedValue())
	w.key("data")
	w.open()
	w.nstr("postal_code", a.PostalCode)
	w.str("country", "Россия")
	w.str("country_iso_code", "RU")
	w.null("federal_district")
	w.part("region", a.Region, "region_iso_code")
	w.part("area", a.Area)
	w.null("sub_area_fias_id")
	w.part("city", a.City)
	w.null("city_area")
	w.part("city_district", a.CityDistrict)
	w.part("settlement", a.Settlement)
	w.part("street", a.Street)
	w.nstr("stead_fias_id", a.Stead.FIASID)
	w.nstr("stead_cadnum", a.SteadCadastral)
	w.nstr("stead_type", a.Stead.Type)
	w.nstr("stead_type_full", a.Stead.TypeFull)
	w.nstr("stead", a.Stead.Name)
	w.nstr("house_fias_id", a.House.FIASID)
	w.null("house_kladr_id")
	w.nstr("house_cadnum", a.Cadastral)
	w.nstr("house_type", a.House.Type)
	w.nstr("house_type_full", a.House.TypeFull)
	w.nstr("house", a.House.Name)
	w.nstr("block_type", a.Block.Type)
	w.nstr("block_type_full", a.Block.TypeFull)
	w.nstr("block", a.Block.Name)
	w.nstr("flat_fias_id", a.Flat.FIASID)
	w.nstr("flat_cadnum", a.FlatCadastral)
	w.nstr("flat_type", a.Flat.Type)
	w.nstr("flat_type_full", a.Flat.TypeFull)
	w.nstr("flat", a.Flat.Name)
	w.null("postal_box")
	w.nstr("fias_id", a.FIASID)
	w.null("fias_code")
	w.str("fias_level", strconv.Itoa(a.FIASLevel))
	w.str("fias_actuality_state", "0")
	w.nstr("kladr_id", a.KLADRID)
	w.null("geoname_id")
	w.str("capital_marker", "0")
	w.nstr("okato", a.OKATO)
	w.nstr("oktmo", a.OKTMO)
	w.nstr("tax_office", a.TaxOffice)
	w.nstr("tax_office_legal", a.TaxOffice)
	w.null("timezone", "geo_lat", "geo_lon", "beltway_hit", "beltway_distance", "metro", "divisions")
	w.str("qc_geo", "5")
	w.null("qc_complete", "qc_house", "history_values", "unparsed_parts", "source", "qc")
	w.close()
	w.close()
}

// appendJSONString appends s as encoding/json writes a string: quotes,
// backslashes and control characters escaped, <, > and & too (HTML-safe),
// U+2028 and U+2029, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
