package fiasimport_test

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/connectors/fiasimport"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/addrsearch"
	"github.com/crmhub/crmhub/core/store"
	"github.com/crmhub/crmhub/core/store/storetest"
	"github.com/crmhub/crmhub/exchange/gar"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// region99 is the full region 99 (Байконур) of a real distribution.
const region99 = "../../exchange/gar/testdata/node-ru-nalog-fias-gar/gar_xml.zip"

var today = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

func load(t *testing.T, st *store.Store, path string, opt fiasimport.Options) (fiasimport.Result, error) {
	t.Helper()
	src, err := gar.Open(path, gar.Options{})
	require.NoError(t, err)
	defer src.Close()
	opt.Today = today
	return fiasimport.Import(context.Background(), st, src, opt)
}

type houseRow struct {
	num, street, streetType, city, postal string
	level                                 int
}

// house reads a house with its street and city as the served tables hold
// them.
func house(t *testing.T, st *store.Store, guid string) houseRow {
	t.Helper()
	var h houseRow
	err := st.Pool().QueryRow(context.Background(), `SELECT h.house_num, s.name, s.type_name, s.level, c.name,
			coalesce((SELECT value FROM fias_house_params p WHERE p.object_id = h.object_id AND p.type_id = 5), '')
		FROM fias_houses h JOIN fias_addr_objects s ON s.object_id = h.parent_id JOIN fias_addr_objects c ON c.object_id = s.path[1]
		WHERE h.guid = $1`, guid).Scan(&h.num, &h.street, &h.streetType, &h.level, &h.city, &h.postal)
	require.NoError(t, err)
	return h
}

func count(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n))
	return n
}

func TestRealRegion(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	res, err := load(t, st, region99, fiasimport.Options{})
	require.NoError(t, err)
	require.Len(t, res.Regions, 1)
	// The counts of testdata/SOURCES.md: 48 actual and active objects, 550
	// houses.
	require.Equal(t, core.FIASRegionResult{Region: 99, Objects: 48, Houses: 550}, res.Regions[0])
	require.Equal(t, 48, count(t, st, "fias_addr_objects"))
	require.Equal(t, 550, count(t, st, "fias_houses"))
	require.Equal(t, 0, count(t, st, "fias_import_files"), "a finished import leaves no progress")
	require.Positive(t, count(t, st, "fias_object_types"))
	require.Equal(t, 17, count(t, st, "fias_levels"))

	// г Байконур (the region itself), ул Горького, д 5а: a house of the
	// region's file, found by its guid, under its street.
	var guid string
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT h.guid FROM fias_houses h
		JOIN fias_addr_objects s ON s.object_id = h.parent_id WHERE s.name = 'Горького' AND h.house_num = '5а'`).Scan(&guid))
	h := house(t, st, guid)
	require.Equal(t, houseRow{num: "5а", street: "Горького", streetType: "ул", level: 8, city: "Байконур", postal: h.postal}, h)
	require.Regexp(t, `^\d{6}$`, h.postal)
	var kladr string
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT kladr_code FROM fias_addr_objects
		WHERE name = 'Горького' AND type_name = 'ул'`).Scan(&kladr))
	require.Equal(t, "99000000000000900", kladr)
	var cityHouses int
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT houses FROM fias_addr_objects WHERE level = 1`).Scan(&cityHouses))
	require.Equal(t, 550, cityHouses, "the region counts every house below it")

	// A reload swaps the region in again: the same rows, no leftovers.
	_, err = load(t, st, region99, fiasimport.Options{})
	require.NoError(t, err)
	require.Equal(t, 550, count(t, st, "fias_houses"))
	var tables int
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_class WHERE relname LIKE 'fias_%_99_%' AND relkind = 'r'`).Scan(&tables))
	require.Equal(t, 5, tables, "one partition of objects, one of houses, one of their parameters, one of apartments, one of land plots; no staging left")
	require.Equal(t, 0, count(t, st, "fias_apartments"), "not asked for")

	// Asked for, the region's one premises comes under its house; a
	// reload without them serves none again.
	res, err = load(t, st, region99, fiasimport.Options{Apartments: true, Steads: true})
	require.NoError(t, err)
	require.Equal(t, core.FIASRegionResult{Region: 99, Objects: 48, Houses: 550, Apartments: 1, Steads: 52}, res.Regions[0])
	var steadParents int
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM fias_steads s
		JOIN fias_addr_objects o ON o.object_id = s.parent_id`).Scan(&steadParents))
	require.Equal(t, 52, steadParents, "every land plot under its address object")
	var number, apartType, houseNum string
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT a.number, t.short_name, h.house_num FROM fias_apartments a
		JOIN fias_houses h ON h.object_id = a.parent_id JOIN fias_house_types t ON t.kind = 'apartment' AND t.id = a.apart_type
		WHERE a.guid = '497202af-0ce7-4ca7-a73d-124546396d82'`).Scan(&number, &apartType, &houseNum))
	require.Equal(t, []string{"1", "помещ.", "7б"}, []string{number, apartType, houseNum})
	_, err = load(t, st, region99, fiasimport.Options{})
	require.NoError(t, err)
	require.Equal(t, 0, count(t, st, "fias_apartments"))
	require.Equal(t, 0, count(t, st, "fias_steads"))
}

// TestResume: an import killed after some batches resumes from the last
// committed one and ends as a whole import does.
func TestResume(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	src, err := gar.Open(region99, gar.Options{})
	require.NoError(t, err)
	defer src.Close()
	batches := 0
	_, err = fiasimport.Import(ctx, st, src, fiasimport.Options{BatchSize: 100, Today: today, Progress: func(p fiasimport.Progress) {
		if strings.Contains(p.File, "/AS_HOUSES_2") {
			batches++
			if batches == 3 {
				cancel()
			}
		}
	}})
	require.Error(t, err)
	require.Equal(t, 0, count(t, st, "fias_houses"), "nothing served before the region is whole")
	var read int
	require.NoError(t, st.Pool().QueryRow(context.Background(), `SELECT read FROM fias_import_files WHERE path LIKE '%AS_HOUSES_2%'`).Scan(&read))
	require.Equal(t, 300, read)

	res, err := load(t, st, region99, fiasimport.Options{BatchSize: 100})
	require.NoError(t, err)
	require.Positive(t, res.Resumed)
	require.Equal(t, core.FIASRegionResult{Region: 99, Objects: 48, Houses: 550}, res.Regions[0])
	require.Equal(t, 550, count(t, st, "fias_houses"))
}

// TestTruncatedFile: a file that breaks off stops its region with the
// element and line; what was served keeps serving.
func TestTruncatedFile(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	_, err := load(t, st, region99, fiasimport.Options{})
	require.NoError(t, err)

	dir := t.TempDir()
	zr, err := zip.OpenReader(region99)
	require.NoError(t, err)
	defer zr.Close()
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		if strings.Contains(f.Name, "/AS_HOUSES_2") {
			data = data[:len(data)/2]
		}
		full := filepath.Join(dir, filepath.FromSlash(f.Name))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, data, 0o644))
	}
	_, err = load(t, st, dir, fiasimport.Options{})
	require.Error(t, err)
	require.Regexp(t, `region 99: 99/AS_HOUSES_.*line 1, after record \d+: .*truncated`, err.Error())
	require.Equal(t, 550, count(t, st, "fias_houses"), "the region's previous data keeps serving")
	require.Equal(t, 48, count(t, st, "fias_addr_objects"))
	require.False(t, errors.Is(err, context.Canceled))
}

// TestDelta: a delta renames a street, retires a house and adds one with
// its postal code, in one transaction over the loaded region; a delta of a
// region never loaded whole is refused.
func TestDelta(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	_, err := load(t, st, region99, fiasimport.Options{})
	require.NoError(t, err)
	ctx := context.Background()
	var street, retired int64
	var streetPath string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT object_id, array_to_string(path, '.') FROM fias_addr_objects
		WHERE guid = 'f9ee987b-a012-4d24-ba46-0cc2f6ae2640'`).Scan(&street, &streetPath))
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT object_id FROM fias_houses WHERE parent_id = $1 AND house_num = '5а'`, street).Scan(&retired))

	dir := t.TempDir()
	write := func(region, kind, body string) {
		t.Helper()
		folder := filepath.Join(dir, region)
		require.NoError(t, os.MkdirAll(folder, 0o755))
		name := kind + "_20261203_0b7c1f4e-93f4-4e7b-9a39-1a2b3c4d5e6f.XML"
		require.NoError(t, os.WriteFile(filepath.Join(folder, name), []byte(`<?xml version="1.0" encoding="utf-8"?>`+body), 0o644))
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	write("99", "AS_ADDR_OBJ", `<ADDRESSOBJECTS><OBJECT ID="900000001" OBJECTID="`+id(street)+`" OBJECTGUID="f9ee987b-a012-4d24-ba46-0cc2f6ae2640" `+
		`NAME="Максима Горького" TYPENAME="ул" LEVEL="8" UPDATEDATE="2026-12-02" ISACTUAL="1" ISACTIVE="1" /></ADDRESSOBJECTS>`)
	write("99", "AS_HOUSES", `<HOUSES><HOUSE ID="900000002" OBJECTID="`+id(retired)+`" OBJECTGUID="a6ecc2a9-98b1-4d54-89be-b0a438548b0c" `+
		`HOUSENUM="5а" HOUSETYPE="2" ISACTUAL="1" ISACTIVE="0" />`+
		`<HOUSE ID="900000003" OBJECTID="900000004" OBJECTGUID="1d3c5e7a-0000-4000-8000-000000000077" HOUSENUM="77" HOUSETYPE="2" `+
		`UPDATEDATE="2026-12-02" ISACTUAL="1" ISACTIVE="1" /></HOUSES>`)
	write("99", "AS_ADM_HIERARCHY", `<ITEMS><ITEM ID="900000005" OBJECTID="900000004" PARENTOBJID="`+id(street)+`" `+
		`PATH="`+streetPath+`.900000004" ISACTIVE="1" /></ITEMS>`)
	write("99", "AS_HOUSES_PARAMS", `<PARAMS><PARAM ID="900000006" OBJECTID="900000004" TYPEID="5" VALUE="468399" `+
		`STARTDATE="2026-12-02" ENDDATE="2079-06-06" /></PARAMS>`)

	res, err := load(t, st, dir, fiasimport.Options{Delta: true})
	require.NoError(t, err)
	require.Equal(t, core.FIASRegionResult{Region: 99, Objects: 48, Houses: 550}, res.Regions[0])
	var name string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT name FROM fias_addr_objects WHERE object_id = $1`, street).Scan(&name))
	require.Equal(t, "Максима Горького", name)
	require.Equal(t, 0, count(t, st, fmt.Sprintf("fias_houses WHERE object_id = %d", retired)), "the retired house left")
	var postal string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT p.value FROM fias_houses h JOIN fias_house_params p USING (region, object_id)
		WHERE h.guid = '1d3c5e7a-0000-4000-8000-000000000077' AND h.parent_id = $1 AND p.type_id = 5`, street).Scan(&postal))
	require.Equal(t, "468399", postal)
	require.Equal(t, 0, count(t, st, "fias_import_files"))

	// A region the hub never loaded whole takes no delta.
	other := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(other, "98"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(other, "98", "AS_HOUSES_20261203_0b7c1f4e-93f4-4e7b-9a39-1a2b3c4d5e6f.XML"),
		[]byte(`<?xml version="1.0" encoding="utf-8"?><HOUSES></HOUSES>`), 0o644))
	_, err = load(t, st, other, fiasimport.Options{Delta: true})
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "%v", err)
}

// TestRealDeltaTwice: a real daily delta (region 02, 2026-01-29) applied
// to its region, then applied again, leaves the same rows: nothing is
// doubled.
func TestRealDeltaTwice(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	const delta = "../../exchange/gar/testdata/go-fias-exporter/gar_data"
	// The delta loaded as a region of its own, then as the delta it is.
	first, err := load(t, st, delta, fiasimport.Options{})
	require.NoError(t, err)
	objects, houses, params := count(t, st, "fias_addr_objects"), count(t, st, "fias_houses"), count(t, st, "fias_house_params")
	require.Positive(t, houses)
	for range 2 {
		res, err := load(t, st, delta, fiasimport.Options{Delta: true})
		require.NoError(t, err)
		require.Equal(t, first.Regions, res.Regions)
		require.Equal(t, objects, count(t, st, "fias_addr_objects"))
		require.Equal(t, houses, count(t, st, "fias_houses"))
		require.Equal(t, params, count(t, st, "fias_house_params"))
	}
}

// TestRetiredIDsResolve: a delta merges two houses into a new one — one
// retired version names the new house's record (NEXTID), the new house's
// PREVID names the other's record loaded before — and a later delta
// splits the new house off again and restores one of the two: each
// retired id resolves to the house that took its place, through the
// chain, and a restored one to itself.
func TestRetiredIDsResolve(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	_, err := load(t, st, region99, fiasimport.Options{})
	require.NoError(t, err)
	const h5a, h23, merged, split = "a6ecc2a9-98b1-4d54-89be-b0a438548b0c", "e359c967-e73c-4f1d-88ac-4218c69288ad",
		"1d3c5e7a-0000-4000-8000-000000000023", "1d3c5e7a-0000-4000-8000-000000000231"
	var record int64
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT record_id FROM fias_houses WHERE guid = $1`, h23).Scan(&record))
	require.Equal(t, int64(2546213), record, "the served version's record is kept")
	successor := func(id string) string {
		t.Helper()
		next, err := st.AddressSuccessor(ctx, id)
		require.NoError(t, err)
		return next
	}
	require.Empty(t, successor(h5a))

	_, err = load(t, st, "testdata/merge", fiasimport.Options{Delta: true})
	require.NoError(t, err)
	require.Equal(t, 0, count(t, st, "fias_houses WHERE guid IN ('"+h5a+"', '"+h23+"')"), "both retired")
	require.Equal(t, merged, successor(h5a), "by the retired version's NEXTID")
	require.Equal(t, merged, successor(h23), "by the new house's PREVID naming a version loaded before")
	require.Empty(t, successor(merged), "a served house has none")
	svc := addrsearch.NewService(st, nil)
	found, err := svc.FindAddresses(ctx, h23, 1)
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, merged, found[0].FIASID)
	require.Equal(t, "23", found[0].House.Name)
	require.Equal(t, "1", found[0].Block.Name)

	_, err = load(t, st, "testdata/merge-later", fiasimport.Options{Delta: true})
	require.NoError(t, err)
	require.Equal(t, split, successor(h23), "through the chain")
	require.Equal(t, split, successor(merged))
	require.Empty(t, successor(h5a), "restored: served again")
	require.Equal(t, 1, count(t, st, "fias_houses WHERE guid = '"+h5a+"'"))
	require.NoError(t, svc.Refresh(ctx))
	found, err = svc.FindAddresses(ctx, h23, 1)
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, split, found[0].FIASID)
	require.Equal(t, "23А", found[0].House.Name)
}
