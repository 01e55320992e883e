package core

import (
	"context"
	"io"
	"strconv"
)

// FIASTable names a staging table of a region's import: what the importer
// copies each GAR file's kept records into.
type FIASTable string

// The staging tables and their columns, in the order of the rows copied.
const (
	// FIASObjects: object_id, guid, level, name, type_name, updated,
	// active, then the version's place in the register's chains:
	// record_id, prev_id, next_id (null for none), actual. Retired
	// objects are actual and inactive; a delta brings its versions that
	// are no longer actual too.
	FIASObjects FIASTable = "objects"
	// FIASHouses: object_id, guid, house_num, house_type, add_num1,
	// add_type1, add_num2, add_type2, updated, active, record_id,
	// prev_id, next_id, actual.
	FIASHouses FIASTable = "houses"
	// FIASAdm: object_id, parent_id, path, start (the administrative
	// hierarchy's active items; the path is needed of address objects
	// only).
	FIASAdm FIASTable = "adm"
	// FIASMun: object_id, parent_id, oktmo, start (the municipal one's,
	// of address objects: a house's ОКТМО is among its parameters).
	FIASMun FIASTable = "mun"
	// FIASApartments: object_id, guid, number, apart_type, updated,
	// active, record_id, prev_id, next_id, actual (flats, offices and
	// other premises, when an import is asked for them).
	FIASApartments FIASTable = "apartments"
	// FIASSteads: object_id, guid, number, updated, active, record_id,
	// prev_id, next_id, actual (land plots, when an import is asked for
	// them).
	FIASSteads FIASTable = "steads"
	// FIASParams: object_id, type_id, value (the current values of the
	// houses' parameters kept, and the apartments': FIASParamTypes).
	FIASParams FIASTable = "params"
	// FIASObjectParams: the same of the address objects.
	FIASObjectParams FIASTable = "object_params"
)

// FIASParamTypes are the GAR parameter types kept (AS_PARAM_TYPES): the
// tax offices for individuals (1) and companies (2), the postal code (5),
// ОКАТО (6), ОКТМО (7), the cadastral number (8) and the КЛАДР code (10).
var FIASParamTypes = []int{1, 2, 5, 6, 7, 8, 10}

// ParseFIASRegion reads a region code: the GAR's folder name, 01 to 99.
func ParseFIASRegion(code string) (int, error) {
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 2 || n < 1 || n > 99 {
		return 0, Errorf(EINVALID, "%q is not a region code (01 to 99)", code)
	}
	return n, nil
}

// FIASFile is one file of a region's import and how far the last
// committed batch got: Read records decoded (skip them on resume), Kept
// of them copied.
type FIASFile struct {
	Path       string
	Read, Kept int64
	Done       bool
}

// FIASRegionResult is what a region's import brought.
type FIASRegionResult struct {
	Region     int
	Objects    int64
	Houses     int64
	Apartments int64
	Steads     int64
}

// FIASType is a row of a GAR reference table: an address object type
// (with its level), a house, additional house or apartment type, or an
// object level (ID is the level).
type FIASType struct {
	ID, Level       int
	ShortName, Name string
	Active          bool
}

// The reference tables ReplaceFIASTypes fills.
const (
	FIASObjectTypes    = "object"
	FIASHouseTypes     = "house"
	FIASAddHouseTypes  = "addhouse"
	FIASApartmentTypes = "apartment"
	FIASLevels         = "level"
)

// FIASRegionLoad is one region's import in progress: its files' kept
// records are copied batch by batch, then the region is built and swapped
// in whole.
type FIASRegionLoad interface {
	// Copy copies one batch of a file's kept records into t, src giving
	// them in COPY's text format (CopyText) in t's columns, and commits it
	// with the file's progress (read: how many records of the file are now
	// decoded; done: all).
	Copy(ctx context.Context, path string, t FIASTable, src io.Reader, progress func() (read int64, done bool)) (int64, error)
	// ObjectIDs lists the address objects staged so far.
	ObjectIDs(ctx context.Context) ([]int64, error)
	// Finish builds the region's tables and swaps them in. Errors:
	// EINVALID when a file is not done.
	Finish(ctx context.Context) (FIASRegionResult, error)
	// FinishDelta merges a delta's records into the loaded region in one
	// transaction: new and changed objects and houses, retired ones
	// removed, moves in the hierarchy, current parameters. Errors:
	// EINVALID when a file is not done, ECONFLICT when the region was
	// never loaded whole.
	FinishDelta(ctx context.Context) (FIASRegionResult, error)
	// Abandon drops the unfinished import.
	Abandon(ctx context.Context) error
}

// FIASLoader keeps the state address register.
type FIASLoader interface {
	// BeginFIASRegion starts or resumes the import of a region from the
	// given files (their paths in the distribution): an import of the same
	// files that was stopped resumes from its last committed batch, any
	// other starts over. It lists each file's progress.
	BeginFIASRegion(ctx context.Context, code string, paths []string) (FIASRegionLoad, []FIASFile, error)
	// ReplaceFIASTypes replaces one reference table whole.
	ReplaceFIASTypes(ctx context.Context, table string, types []FIASType) error
}
