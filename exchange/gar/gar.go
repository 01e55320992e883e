// Package gar reads the Russian state address register ГАР (ФИАС) in its
// XML distribution (gar_xml.zip, gar_delta_xml.zip or their unpacked
// folders) as a stream of typed records, and synthesises realistic regions
// for benchmarks.
//
// The reader is written for hostile input: the XML is scanned by a strict
// hand-written scanner that accepts exactly the GAR shape (a declaration,
// one root element, empty record elements with attributes, the root's end
// tag) and refuses everything else — DTDs, entities other than the five
// predefined ones, comments, processing instructions, encodings other than
// UTF-8, invalid UTF-8, over-long values, too many attributes. Memory is
// bounded whatever the file size, and zip archives are read in place with
// entry-count, ratio and real-size limits.
package gar

import (
	"strings"
)

// Kind names a GAR file kind: the file name without the
// _YYYYMMDD_<uuid>.XML suffix, e.g. "AS_HOUSES".
type Kind string

// The kinds this package reads.
const (
	KindObjectLevels     Kind = "AS_OBJECT_LEVELS"
	KindAddrObjTypes     Kind = "AS_ADDR_OBJ_TYPES"
	KindHouseTypes       Kind = "AS_HOUSE_TYPES"
	KindAddHouseTypes    Kind = "AS_ADDHOUSE_TYPES"
	KindApartmentTypes   Kind = "AS_APARTMENT_TYPES"
	KindAddrObj          Kind = "AS_ADDR_OBJ"
	KindAdmHierarchy     Kind = "AS_ADM_HIERARCHY"
	KindMunHierarchy     Kind = "AS_MUN_HIERARCHY"
	KindHouses           Kind = "AS_HOUSES"
	KindSteads           Kind = "AS_STEADS"
	KindApartments       Kind = "AS_APARTMENTS"
	KindAddrObjParams    Kind = "AS_ADDR_OBJ_PARAMS"
	KindHousesParams     Kind = "AS_HOUSES_PARAMS"
	KindSteadsParams     Kind = "AS_STEADS_PARAMS"
	KindApartmentsParams Kind = "AS_APARTMENTS_PARAMS"
)

// kindInfo describes how a kind is laid out in its file. The order of
// kindTable is the load order Source.Files sorts by: reference tables,
// then objects before the hierarchies and params that refer to them.
type kindInfo struct {
	kind   Kind
	root   string // root element name
	elem   string // record element name
	fields []field
	region bool // lives in a region folder (false: top-level reference file)
}

func kindTable() []kindInfo {
	return []kindInfo{
		{KindObjectLevels, "OBJECTLEVELS", "OBJECTLEVEL", objectLevelFields, false},
		{KindAddrObjTypes, "ADDRESSOBJECTTYPES", "ADDRESSOBJECTTYPE", addrObjTypeFields, false},
		{KindHouseTypes, "HOUSETYPES", "HOUSETYPE", typeFields, false},
		// AS_ADDHOUSE_TYPES really uses the same root and element names as
		// AS_HOUSE_TYPES (checked against the XSD and the distributed file).
		{KindAddHouseTypes, "HOUSETYPES", "HOUSETYPE", typeFields, false},
		{KindApartmentTypes, "APARTMENTTYPES", "APARTMENTTYPE", typeFields, false},
		{KindAddrObj, "ADDRESSOBJECTS", "OBJECT", addrObjFields, true},
		{KindAdmHierarchy, "ITEMS", "ITEM", admFields, true},
		{KindMunHierarchy, "ITEMS", "ITEM", munFields, true},
		{KindHouses, "HOUSES", "HOUSE", houseFields, true},
		{KindSteads, "STEADS", "STEAD", steadFields, true},
		{KindApartments, "APARTMENTS", "APARTMENT", apartmentFields, true},
		{KindAddrObjParams, "PARAMS", "PARAM", paramFields, true},
		{KindHousesParams, "PARAMS", "PARAM", paramFields, true},
		{KindSteadsParams, "PARAMS", "PARAM", paramFields, true},
		{KindApartmentsParams, "PARAMS", "PARAM", paramFields, true},
	}
}

// notRead lists the kinds of the distribution this package recognises but
// does not decode, so that a consumer can skip them knowingly.
func notRead() []Kind {
	return []Kind{"AS_ROOMS", "AS_ROOMS_PARAMS", "AS_CARPLACES", "AS_CARPLACES_PARAMS",
		"AS_CHANGE_HISTORY", "AS_NORMATIVE_DOCS", "AS_NORMATIVE_DOCS_KINDS",
		"AS_NORMATIVE_DOCS_TYPES", "AS_REESTR_OBJECTS", "AS_OPERATION_TYPES",
		"AS_PARAM_TYPES", "AS_ADDR_OBJ_DIVISION", "AS_ROOM_TYPES", "VERSION"}
}

func lookupKind(k Kind) (kindInfo, int, bool) {
	for i, ki := range kindTable() {
		if ki.kind == k {
			return ki, i, true
		}
	}
	return kindInfo{}, 0, false
}

// Readable reports whether the decoder reads files of this kind.
func (k Kind) Readable() bool {
	_, _, ok := lookupKind(k)
	return ok
}

// KindOf returns the kind of a base file name such as
// "AS_HOUSES_20230626_c5c69ab2-7eda-4839-b370-30ee9e9daf5d.XML".
// ok is true only for kinds the decoder reads; for a recognised kind that
// is not read (AS_ROOMS, version.txt ...) the kind is returned with
// ok=false, and for an unknown name the kind is "".
func KindOf(name string) (Kind, bool) {
	base := name
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		base = base[i+1:]
	}
	if strings.EqualFold(base, "version.txt") {
		return "VERSION", false
	}
	if len(base) < 4 || !strings.EqualFold(base[len(base)-4:], ".xml") {
		return "", false
	}
	stem := strings.ToUpper(base[:len(base)-4])
	k := Kind(stripSuffix(stem))
	if k.Readable() {
		return k, true
	}
	for _, n := range notRead() {
		if k == n {
			return k, false
		}
	}
	return "", false
}

// stripSuffix removes "_YYYYMMDD_<uuid>" (the uuid part may be missing in
// hand-made files, the date may not). Matching the date from the right
// keeps AS_ADDR_OBJ apart from AS_ADDR_OBJ_PARAMS and friends.
func stripSuffix(stem string) string {
	parts := strings.Split(stem, "_")
	for i := len(parts) - 1; i >= 1; i-- {
		if isDigits(parts[i]) && len(parts[i]) == 8 {
			return strings.Join(parts[:i], "_")
		}
	}
	return stem
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
