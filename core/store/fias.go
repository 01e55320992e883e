package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/crmhub/crmhub/core"
)

var fiasStage = map[core.FIASTable]string{
	core.FIASObjects: "object_id bigint NOT NULL, guid uuid NOT NULL, level smallint NOT NULL, name text NOT NULL, type_name text NOT NULL, updated date, active boolean NOT NULL, " +
		fiasVersion,
	core.FIASHouses: "object_id bigint NOT NULL, guid uuid NOT NULL, house_num text NOT NULL, house_type smallint NOT NULL, " +
		"add_num1 text NOT NULL, add_type1 smallint NOT NULL, add_num2 text NOT NULL, add_type2 smallint NOT NULL, updated date, active boolean NOT NULL, " +
		fiasVersion,
	core.FIASApartments: "object_id bigint NOT NULL, guid uuid NOT NULL, number text NOT NULL, apart_type smallint NOT NULL, updated date, " +
		"active boolean NOT NULL, " + fiasVersion,
	core.FIASSteads: "object_id bigint NOT NULL, guid uuid NOT NULL, number text NOT NULL, updated date, active boolean NOT NULL, " +
		fiasVersion,
	core.FIASAdm:          "object_id bigint NOT NULL, parent_id bigint NOT NULL, path text NOT NULL, start date",
	core.FIASMun:          "object_id bigint NOT NULL, parent_id bigint NOT NULL, oktmo text NOT NULL, start date",
	core.FIASParams:       "region smallint NOT NULL, object_id bigint NOT NULL, type_id smallint NOT NULL, value text NOT NULL",
	core.FIASObjectParams: "object_id bigint NOT NULL, type_id smallint NOT NULL, value text NOT NULL",
}

// fiasVersion are the staged columns of a version's place in the
// register's chains.
const fiasVersion = "record_id bigint NOT NULL, prev_id bigint, next_id bigint, actual boolean NOT NULL"

// fiasColumns are the columns a staging table is copied into (a region
// column is its default).
func fiasColumns(t core.FIASTable) []string {
	var out []string
	for _, def := range strings.Split(fiasStage[t], ", ") {
		if c := strings.Fields(def)[0]; c != "region" {
			out = append(out, c)
		}
	}
	return out
}

var _ core.FIASLoader = (*Store)(nil)

// FIASRegionImport loads one region into staging tables, batch by batch,
// then swaps it in (Finish). Its progress is committed with each batch.
type FIASRegionImport struct {
	s      *Store
	region int
	run    string
	files  map[string]*core.FIASFile
}

// BeginFIASRegion starts or resumes the import of a region from the given
// files (their paths in the distribution). An import of the same files
// that was stopped resumes from its last committed batch; any other starts
// over. Files lists each file's progress.
func (s *Store) BeginFIASRegion(ctx context.Context, code string, paths []string) (core.FIASRegionLoad, []core.FIASFile, error) {
	region, err := core.ParseFIASRegion(code)
	if err != nil {
		return nil, nil, err
	}
	imp := &FIASRegionImport{s: s, region: region, files: map[string]*core.FIASFile{}}
	resumed, err := imp.resume(ctx, paths)
	if err != nil {
		return nil, nil, err
	}
	if !resumed {
		if err := imp.start(ctx, paths); err != nil {
			return nil, nil, err
		}
	}
	out := make([]core.FIASFile, 0, len(paths))
	for _, p := range paths {
		out = append(out, *imp.files[p])
	}
	return imp, out, nil
}

// Region is the region's code as a number.
func (imp *FIASRegionImport) Region() int { return imp.region }

func (imp *FIASRegionImport) stage(t core.FIASTable) string {
	return fmt.Sprintf("fias_stage_%02d_%s_%s", imp.region, imp.run, t)
}

// resume picks up a stopped import of the same files whose staging tables
// still hold what its progress says (an unlogged table is emptied by a
// database crash: then it starts over).
func (imp *FIASRegionImport) resume(ctx context.Context, paths []string) (bool, error) {
	rows, err := imp.s.db(ctx).Query(ctx, `SELECT run, path, read, kept, done FROM fias_import_files WHERE region = $1`, imp.region)
	if err != nil {
		return false, fmt.Errorf("read the region's import: %w", err)
	}
	var runs []string
	for rows.Next() {
		var run string
		f := &core.FIASFile{}
		if err := rows.Scan(&run, &f.Path, &f.Read, &f.Kept, &f.Done); err != nil {
			rows.Close()
			return false, fmt.Errorf("read the region's import: %w", err)
		}
		runs = append(runs, run)
		imp.files[f.Path] = f
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("read the region's import: %w", err)
	}
	if len(runs) == 0 {
		return false, nil
	}
	imp.run = runs[0]
	same := len(imp.files) == len(paths) && !slices.ContainsFunc(runs, func(r string) bool { return r != imp.run })
	for _, p := range paths {
		same = same && imp.files[p] != nil
	}
	if same {
		ok, err := imp.stagingHolds(ctx)
		if err != nil || ok {
			return ok, err
		}
	}
	imp.files = map[string]*core.FIASFile{}
	return false, imp.drop(ctx)
}

// stagingHolds reports whether the staging tables hold every kept row.
func (imp *FIASRegionImport) stagingHolds(ctx context.Context) (bool, error) {
	var kept, held int64
	for _, f := range imp.files {
		kept += f.Kept
	}
	for t := range fiasStage {
		var exists bool
		if err := imp.s.db(ctx).QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, imp.stage(t)).Scan(&exists); err != nil || !exists {
			return false, wrap("check the region's staging", err)
		}
		var n int64
		if err := imp.s.db(ctx).QueryRow(ctx, `SELECT count(*) FROM `+imp.stageSQL(t)).Scan(&n); err != nil {
			return false, fmt.Errorf("check the region's staging: %w", err)
		}
		held += n
	}
	return held == kept, nil
}

// start creates the staging tables of a new run and its progress rows.
func (imp *FIASRegionImport) start(ctx context.Context, paths []string) error {
	imp.run = strconv.FormatInt(time.Now().UnixMilli(), 36)
	return imp.s.inTx(ctx, func(tx pgx.Tx) error {
		for t, cols := range fiasStage {
			// Unlogged: a staging table is rebuilt rather than recovered;
			// but the houses' parameters become the region's partition.
			kind := "UNLOGGED "
			if t == core.FIASParams {
				kind = ""
				cols = strings.Replace(cols, "region smallint NOT NULL", "region smallint NOT NULL DEFAULT "+strconv.Itoa(imp.region), 1)
			}
			// No autovacuum: the import analyzes what it reads, and a
			// worker analyzing a staging table holds up its DROP until
			// the deadlock check cancels the worker, a second later.
			if _, err := tx.Exec(ctx, `CREATE `+kind+`TABLE `+pgx.Identifier{imp.stage(t)}.Sanitize()+` (`+cols+`) WITH (autovacuum_enabled = false)`); err != nil {
				return fmt.Errorf("create the region's staging: %w", err)
			}
			// The retired versions, which successors are looked for from,
			// are found without reading the millions of live ones.
			if strings.Contains(cols, "active boolean") {
				if _, err := tx.Exec(ctx, `CREATE INDEX ON `+pgx.Identifier{imp.stage(t)}.Sanitize()+` (record_id) WHERE NOT active`); err != nil {
					return fmt.Errorf("create the region's staging: %w", err)
				}
			}
		}
		for _, p := range paths {
			imp.files[p] = &core.FIASFile{Path: p}
			if _, err := tx.Exec(ctx, `INSERT INTO fias_import_files (region, run, path, read, kept, done) VALUES ($1, $2, $3, 0, 0, false)`,
				imp.region, imp.run, p); err != nil {
				return fmt.Errorf("record the region's import: %w", err)
			}
		}
		return nil
	})
}

// drop removes an import's staging tables and progress.
func (imp *FIASRegionImport) drop(ctx context.Context) error {
	return imp.s.inTx(ctx, func(tx pgx.Tx) error {
		if imp.run != "" {
			// One statement: dropping waits for the other sessions once.
			var tables []string
			for t := range fiasStage {
				tables = append(tables, pgx.Identifier{imp.stage(t)}.Sanitize())
			}
			if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+strings.Join(tables, ", ")); err != nil {
				return fmt.Errorf("drop the region's staging: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM fias_import_files WHERE region = $1`, imp.region)
		return wrap("drop the region's import", err)
	})
}

// Copy copies one batch of a file's kept records into t, src giving them
// in COPY's text format (CopyText) in t's columns, and commits it with the
// file's progress (read: how many records of the file are now decoded;
// done: all).
func (imp *FIASRegionImport) Copy(ctx context.Context, path string, t core.FIASTable, src io.Reader,
	progress func() (read int64, done bool)) (int64, error) {
	f := imp.files[path]
	if f == nil {
		return 0, fmt.Errorf("fias import: %s is not a file of region %02d's import", path, imp.region)
	}
	if _, ok := fiasStage[t]; !ok {
		return 0, fmt.Errorf("fias import: no staging table %q", t)
	}
	var n int64
	err := imp.s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, src, `COPY `+imp.stageSQL(t)+` (`+strings.Join(fiasColumns(t), ", ")+`) FROM STDIN`)
		if err != nil {
			return fmt.Errorf("copy %s: %w", path, err)
		}
		n = tag.RowsAffected()
		read, done := progress()
		if _, err := tx.Exec(ctx, `UPDATE fias_import_files SET read = $3, kept = kept + $4, done = $5 WHERE region = $1 AND path = $2`,
			imp.region, path, read, n, done); err != nil {
			return fmt.Errorf("record the progress of %s: %w", path, err)
		}
		f.Read, f.Done = read, done
		f.Kept += n
		return nil
	})
	return n, err
}

// ObjectIDs lists the address objects staged so far, for an importer
// that resumes after the region's AS_ADDR_OBJ.
func (imp *FIASRegionImport) ObjectIDs(ctx context.Context) ([]int64, error) {
	rows, err := imp.s.db(ctx).Query(ctx, `SELECT object_id FROM `+imp.stageSQL(core.FIASObjects))
	if err != nil {
		return nil, fmt.Errorf("read the region's staged objects: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, wrap("read the region's staged objects", err)
}

// donePaths lists the import's files, sorted, once every one is done.
// Errors: EINVALID naming one that is not.
func (imp *FIASRegionImport) donePaths() ([]string, error) {
	paths := make([]string, 0, len(imp.files))
	for p, f := range imp.files {
		if !f.Done {
			return nil, core.Errorf(core.EINVALID, "region %02d: %s is not imported yet", imp.region, p)
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths, nil
}

// Finish builds the region's tables from its staging, indexes them and
// swaps them in as the region's partitions, then drops the staging.
// Errors: EINVALID when a file is not done.
//
// The tables are built side by side, each in a transaction of its own on
// a connection of its own (the houses; the parameters, apartments and
// successors; the address objects, which count the houses, beside the
// houses' other indexes), and swapped in together in one short
// transaction: lookups see the region before or after. A build that fails
// drops what it built; the staging stays for a resumed import.
func (imp *FIASRegionImport) Finish(ctx context.Context) (core.FIASRegionResult, error) {
	res := core.FIASRegionResult{Region: imp.region}
	paths, err := imp.donePaths()
	if err != nil {
		return res, err
	}
	houses, objects := imp.built("fias_houses"), imp.built("fias_addr_objects")
	if err := imp.dropBuilt(ctx); err != nil { // of a build stopped before its swap
		return res, err
	}
	// Each step analyzes the staging it reads first (the planner then
	// hash-joins them rather than sort them), on its own connection.
	analyze := func(ctx context.Context, tables ...core.FIASTable) error {
		for _, t := range tables {
			if _, err := imp.s.db(ctx).Exec(ctx, `ANALYZE `+imp.stageSQL(t)); err != nil {
				return fmt.Errorf("analyze the region's staging: %w", err)
			}
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := analyze(gctx, core.FIASHouses, core.FIASAdm); err != nil {
			return err
		}
		n, err := imp.buildHouses(gctx, houses)
		if err != nil {
			return err
		}
		res.Houses = n
		h, hctx := errgroup.WithContext(gctx)
		h.Go(func() error {
			return imp.buildTx(hctx, func(tx pgx.Tx) error { return imp.index(hctx, tx, houses, "fias_houses", false) })
		})
		h.Go(func() error {
			return imp.buildTx(hctx, func(tx pgx.Tx) error {
				n, err := imp.buildObjects(hctx, tx, objects, houses)
				res.Objects = n
				return err
			})
		})
		return h.Wait()
	})
	g.Go(func() error {
		if err := analyze(gctx, core.FIASObjects, core.FIASMun, core.FIASObjectParams, core.FIASApartments, core.FIASSteads,
			core.FIASParams); err != nil {
			return err
		}
		if err := imp.buildTx(gctx, func(tx pgx.Tx) error { return imp.buildParams(gctx, tx) }); err != nil {
			return err
		}
		for _, u := range fiasUnits {
			if err := imp.buildTx(gctx, func(tx pgx.Tx) error {
				n, err := imp.buildUnits(gctx, tx, imp.built(u.table), u)
				*u.count(&res) = n
				return err
			}); err != nil {
				return err
			}
		}
		return imp.buildTx(gctx, func(tx pgx.Tx) error { return imp.linkSuccessors(gctx, tx, false) })
	})
	if err := g.Wait(); err != nil {
		if derr := imp.dropBuilt(context.WithoutCancel(ctx)); derr != nil {
			imp.s.log.Warn("fias_build_cleanup_failed", "region", imp.region, "error", derr)
		}
		return res, err
	}
	for _, t := range []string{houses, objects, imp.stage(core.FIASParams), imp.built("fias_apartments"), imp.built("fias_steads")} {
		if _, err := imp.s.db(ctx).Exec(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize()); err != nil {
			return res, fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	err = imp.s.inTx(ctx, func(tx pgx.Tx) error {
		params := pgx.Identifier{imp.built("fias_house_params")}.Sanitize()
		if _, err := tx.Exec(ctx, `ALTER TABLE `+imp.stageSQL(core.FIASParams)+` RENAME TO `+params); err != nil {
			return fmt.Errorf("build the region's house parameters: %w", err)
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE `+params+` ALTER COLUMN region DROP DEFAULT, RESET (autovacuum_enabled)`); err != nil {
			return fmt.Errorf("build the region's house parameters: %w", err)
		}
		var old []string
		for _, parent := range fiasPartitioned {
			o, err := imp.swap(ctx, tx, parent, imp.built(parent))
			if err != nil {
				return err
			}
			if o != "" {
				old = append(old, pgx.Identifier{o}.Sanitize())
			}
		}
		if len(old) > 0 { // one statement: dropping waits for the other sessions once
			if _, err := tx.Exec(ctx, `DROP TABLE `+strings.Join(old, ", ")); err != nil {
				return fmt.Errorf("drop the region's previous tables: %w", err)
			}
		}
		if err := imp.keepRetired(ctx, tx, "fias_houses", "fias_addr_objects"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO fias_regions (region, objects, houses, apartments, steads, files, loaded_at)
			VALUES ($1, $2, $3, $4, $5, $6, now())
			ON CONFLICT (region) DO UPDATE SET objects = excluded.objects, houses = excluded.houses, apartments = excluded.apartments,
			steads = excluded.steads, files = excluded.files, loaded_at = excluded.loaded_at`,
			imp.region, res.Objects, res.Houses, res.Apartments, res.Steads, paths)
		return wrap("record the region", err)
	})
	if err != nil {
		return res, err
	}
	return res, imp.drop(ctx)
}

// fiasPartitioned are the register's tables a region is a partition of.
var fiasPartitioned = []string{"fias_houses", "fias_addr_objects", "fias_house_params", "fias_apartments", "fias_steads"}

// built is the name of the run's table that becomes the region's
// partition of parent.
func (imp *FIASRegionImport) built(parent string) string {
	return fmt.Sprintf("%s_%02d_%s", parent, imp.region, imp.run)
}

// dropBuilt drops the tables a build of this run made and did not swap in
// (the parameters are the staging's own table until the swap).
func (imp *FIASRegionImport) dropBuilt(ctx context.Context) error {
	var tables []string
	for _, parent := range fiasPartitioned {
		if parent != "fias_house_params" {
			tables = append(tables, pgx.Identifier{imp.built(parent)}.Sanitize())
		}
	}
	_, err := imp.s.db(ctx).Exec(ctx, `DROP TABLE IF EXISTS `+strings.Join(tables, ", "))
	return wrap("drop the region's unfinished build", err)
}

// buildTx runs one step of a region's build in a transaction of its own,
// tuned for it: the joins, sorts and aggregates of a region of millions
// of houses stay in memory rather than spill to disk; JIT compiles for
// longer than it saves here.
func (imp *FIASRegionImport) buildTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return imp.s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL jit = off`); err != nil {
			return fmt.Errorf("tune the region's build: %w", err)
		}
		return fn(tx)
	})
}

// buildParams readies the staged parameters of the houses to become the
// region's table of them (they were copied logged, in the partitions'
// shape): the partition's check, validated, and its indexes. The swap
// renames it.
func (imp *FIASRegionImport) buildParams(ctx context.Context, tx pgx.Tx) error {
	t := imp.stageSQL(core.FIASParams)
	check := pgx.Identifier{fmt.Sprintf("fias_house_params_%02d_region", imp.region)}.Sanitize()
	if _, err := tx.Exec(ctx, `ALTER TABLE `+t+` DROP CONSTRAINT IF EXISTS `+check+`, ADD CONSTRAINT `+check+
		` CHECK (region = `+strconv.Itoa(imp.region)+`)`); err != nil {
		return fmt.Errorf("build the region's house parameters: %w", err)
	}
	return imp.index(ctx, tx, imp.stage(core.FIASParams), "fias_house_params", true)
}

// buildHouses makes the region's houses table: each house's latest
// actual version, under its administrative parent, with its current
// parameters, and its unique index. A full distribution has one actual
// version of a house and one active link to its parent, which the unique
// index proves: the joins then need no sort. Should it fail, the latest
// of each is taken. The other indexes are index's.
func (imp *FIASRegionImport) buildHouses(ctx context.Context, name string) (int64, error) {
	t := pgx.Identifier{name}.Sanitize()
	fill := func(houses, adm string) (int64, error) {
		var n int64
		err := imp.buildTx(ctx, func(tx pgx.Tx) error {
			// CREATE TABLE AS, unlike INSERT, may run its join in parallel;
			// the partition's NOT NULLs and check then come in one scan.
			tag, err := tx.Exec(ctx, `CREATE TABLE `+t+` AS
				SELECT `+strconv.Itoa(imp.region)+`::smallint AS region, h.object_id, h.guid, a.parent_id, h.house_num, h.house_type,
					h.add_num1, h.add_type1, h.add_num2, h.add_type2, h.updated, h.record_id
				FROM `+houses+` h LEFT JOIN `+adm+` a USING (object_id)`)
			if err != nil {
				return fmt.Errorf("create the region's houses: %w", err)
			}
			n = tag.RowsAffected()
			if _, err := tx.Exec(ctx, `ALTER TABLE `+t+` ALTER region SET NOT NULL, ALTER object_id SET NOT NULL, ALTER guid SET NOT NULL,
				ALTER house_num SET NOT NULL, ALTER house_type SET NOT NULL, ALTER add_num1 SET NOT NULL, ALTER add_type1 SET NOT NULL,
				ALTER add_num2 SET NOT NULL, ALTER add_type2 SET NOT NULL, ADD CHECK (region = `+strconv.Itoa(imp.region)+`)`); err != nil {
				return fmt.Errorf("create the region's houses: %w", err)
			}
			_, err = tx.Exec(ctx, `CREATE UNIQUE INDEX `+pgx.Identifier{name + "_id"}.Sanitize()+` ON `+t+` (region, object_id)`)
			return err
		})
		return n, err
	}
	n, err := fill(`(SELECT * FROM `+imp.stageSQL(core.FIASHouses)+` WHERE actual AND active)`, imp.stageSQL(core.FIASAdm))
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return n, wrap("build the region's houses", err)
	}
	n, err = fill(`(SELECT DISTINCT ON (object_id) * FROM `+imp.stageSQL(core.FIASHouses)+` WHERE actual AND active ORDER BY object_id, updated DESC)`,
		`(SELECT DISTINCT ON (object_id) object_id, parent_id FROM `+imp.stageSQL(core.FIASAdm)+` ORDER BY object_id, start DESC)`)
	return n, wrap("build the region's houses", err)
}

// fiasUnits are the premises and the land plots an import may be asked
// for, built and merged alike under the parent their hierarchy link names
// (a house, an address object).
var fiasUnits = []fiasUnit{
	{table: "fias_apartments", stage: core.FIASApartments, cols: ", apart_type",
		count: func(r *core.FIASRegionResult) *int64 { return &r.Apartments }},
	{table: "fias_steads", stage: core.FIASSteads, count: func(r *core.FIASRegionResult) *int64 { return &r.Steads }},
}

type fiasUnit struct {
	table string
	stage core.FIASTable
	cols  string // besides object_id, guid, parent_id, number, record_id, updated
	count func(*core.FIASRegionResult) *int64
}

// buildUnits makes the region's table of a kind of units: each one's
// latest actual and active version under its parent (none when the import
// was not asked for them: a region loaded again without them serves none).
func (imp *FIASRegionImport) buildUnits(ctx context.Context, tx pgx.Tx, name string, u fiasUnit) (int64, error) {
	t, stage := pgx.Identifier{name}.Sanitize(), imp.stageSQL(u.stage)
	if _, err := tx.Exec(ctx, `CREATE TABLE `+t+` (LIKE `+u.table+`, CHECK (region = `+strconv.Itoa(imp.region)+`))`); err != nil {
		return 0, fmt.Errorf("create the region's %s: %w", u.stage, err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO `+t+` (region, object_id, guid, parent_id, number, record_id, updated`+u.cols+`)
		SELECT $1, a.object_id, a.guid, h.parent_id, a.number, a.record_id, a.updated`+strings.ReplaceAll(u.cols, ", ", ", a.")+`
		FROM (SELECT DISTINCT ON (object_id) * FROM `+stage+` WHERE actual AND active ORDER BY object_id, updated DESC) a
		LEFT JOIN (SELECT DISTINCT ON (object_id) object_id, parent_id FROM `+imp.stageSQL(core.FIASAdm)+`
			WHERE object_id IN (SELECT object_id FROM `+stage+`) ORDER BY object_id, start DESC) h USING (object_id)`,
		imp.region)
	if err != nil {
		return 0, fmt.Errorf("build the region's %s: %w", u.stage, err)
	}
	return tag.RowsAffected(), imp.index(ctx, tx, name, u.table, true)
}

// buildObjects makes the region's address objects: each one's latest
// actual version with its administrative path and parameters, and how
// many houses are below it.
func (imp *FIASRegionImport) buildObjects(ctx context.Context, tx pgx.Tx, name, houses string) (int64, error) {
	t := pgx.Identifier{name}.Sanitize()
	if _, err := tx.Exec(ctx, `CREATE TABLE `+t+` (LIKE fias_addr_objects, CHECK (region = `+strconv.Itoa(imp.region)+`))`); err != nil {
		return 0, fmt.Errorf("create the region's address objects: %w", err)
	}
	tag, err := tx.Exec(ctx, `WITH o AS (
			SELECT o.*, a.parent_id, m.parent_id AS mun_parent_id, m.oktmo AS mun_oktmo,
				coalesce(string_to_array(a.path, '.')::bigint[], ARRAY[o.object_id]) AS path
			FROM (SELECT DISTINCT ON (object_id) * FROM `+imp.stageSQL(core.FIASObjects)+` WHERE actual AND active ORDER BY object_id, updated DESC) o
			LEFT JOIN (SELECT DISTINCT ON (object_id) object_id, parent_id, path FROM `+imp.stageSQL(core.FIASAdm)+`
				WHERE path <> '' ORDER BY object_id, start DESC) a USING (object_id)
			LEFT JOIN (SELECT DISTINCT ON (object_id) object_id, parent_id, oktmo FROM `+imp.stageSQL(core.FIASMun)+` ORDER BY object_id, start DESC) m USING (object_id)
		), direct AS (
			SELECT parent_id AS object_id, count(*) AS n FROM `+pgx.Identifier{houses}.Sanitize()+` GROUP BY parent_id
		), below AS (
			SELECT a.id AS object_id, sum(d.n) AS n FROM o JOIN direct d USING (object_id), unnest(o.path) AS a(id) GROUP BY a.id
		)
		INSERT INTO `+t+` (region, object_id, guid, level, name, type_name, parent_id, mun_parent_id, path, postal_code, okato,
			oktmo, kladr_code, tax_office, houses, updated, record_id)
		SELECT $1, o.object_id, o.guid, o.level, o.name, o.type_name, o.parent_id, o.mun_parent_id, o.path, p.postal, p.okato,
			coalesce(p.oktmo, o.mun_oktmo), p.kladr, p.tax, coalesce(b.n, 0), o.updated, o.record_id
		FROM o LEFT JOIN (`+imp.paramsSQL(core.FIASObjectParams)+`) p USING (object_id) LEFT JOIN below b USING (object_id)`, imp.region)
	if err != nil {
		return 0, fmt.Errorf("build the region's address objects: %w", err)
	}
	return tag.RowsAffected(), imp.index(ctx, tx, name, "fias_addr_objects", true)
}

// linkSuccessors records, for the staged versions, which object or house
// took the place of a retired one, as the register's chains tell: a
// version whose NEXTID names a record of another object, or one whose
// PREVID does. A delta's chain may name a version served before: the
// region's served rows are looked in too. A full import stages actual
// versions only, so a PREVID can name only a retired one of them. Then
// keepRetired (for a full import, given its new tables).
func (imp *FIASRegionImport) linkSuccessors(ctx context.Context, tx pgx.Tx, delta bool) error {
	r := strconv.Itoa(imp.region)
	for _, k := range []struct {
		kind   string
		t      core.FIASTable
		served string
	}{{"house", core.FIASHouses, "fias_houses"}, {"object", core.FIASObjects, "fias_addr_objects"}} {
		// Chains run from old to new versions (NEXTID) and back (PREVID).
		// Of a full import only a retired version can be an old one: they
		// are few, copied to a table of their own and analyzed, so that
		// each join hashes them and reads the millions of staged versions
		// once (not at all when there are none). A delta's few versions may
		// name any of its own and those served.
		stage := imp.stageSQL(k.t)
		old := pgx.Identifier{"fias_retired_" + k.kind}.Sanitize()
		named := `SELECT record_id, object_id, guid, updated FROM ` + stage
		oldNamed := old
		from := `SELECT record_id, prev_id, next_id, object_id, guid, updated FROM ` + stage + ` WHERE NOT active`
		if delta {
			from = `SELECT record_id, prev_id, next_id, object_id, guid, updated FROM ` + stage
			named += ` UNION ALL SELECT record_id, object_id, guid, updated FROM ` + k.served + ` WHERE region = ` + r +
				` AND record_id IN (SELECT prev_id FROM ` + stage + ` UNION SELECT next_id FROM ` + stage + `)`
			oldNamed = `named`
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+old+` ON COMMIT DROP AS `+from); err != nil {
			return fmt.Errorf("region %02d: read the retired %ss: %w", imp.region, k.kind, err)
		}
		if _, err := tx.Exec(ctx, `ANALYZE `+old); err != nil {
			return fmt.Errorf("region %02d: read the retired %ss: %w", imp.region, k.kind, err)
		}
		_, err := tx.Exec(ctx, `WITH named AS (`+named+`), links AS (
				SELECT o.guid AS old, n.guid AS new, o.updated, 1 AS how
				FROM (SELECT * FROM `+old+` WHERE next_id IS NOT NULL) o JOIN named n ON n.record_id = o.next_id AND n.object_id <> o.object_id
				UNION ALL
				SELECT o.guid, a.guid, a.updated, 2
				FROM `+stage+` a JOIN `+oldNamed+` o ON o.record_id = a.prev_id AND o.object_id <> a.object_id)
			INSERT INTO fias_successors AS s (guid, successor, region, kind, retired)
			SELECT DISTINCT ON (old) old, new, `+r+`, '`+k.kind+`', updated FROM links WHERE old <> new
			ORDER BY old, updated DESC NULLS LAST, how
			ON CONFLICT (guid) DO UPDATE SET successor = excluded.successor, region = excluded.region, kind = excluded.kind,
				retired = excluded.retired`)
		if err == nil {
			_, err = tx.Exec(ctx, `DROP TABLE `+old)
		}
		if err != nil {
			return fmt.Errorf("region %02d: link the retired %ss to their successors: %w", imp.region, k.kind, err)
		}
	}
	return nil
}

// keepRetired drops the successors of the region's ids that are served
// (again: a restored object, or one a split left standing): a retired id
// resolves to its successor, a served one to itself.
func (imp *FIASRegionImport) keepRetired(ctx context.Context, tx pgx.Tx, houses, objects string) error {
	_, err := tx.Exec(ctx, `DELETE FROM fias_successors s WHERE s.region = $1 AND (
		EXISTS (SELECT 1 FROM `+houses+` h WHERE h.guid = s.guid) OR EXISTS (SELECT 1 FROM `+objects+` o WHERE o.guid = s.guid))`, imp.region)
	return wrap("keep the retired ids' successors", err)
}

// unitUpdates are the ON CONFLICT assignments of a unit's own columns
// (", apart_type" → ", apart_type = excluded.apart_type").
func unitUpdates(cols string) string {
	var b strings.Builder
	for _, c := range strings.Split(cols, ",") {
		if c = strings.TrimSpace(c); c != "" {
			b.WriteString(", " + c + " = excluded." + c)
		}
	}
	return b.String()
}

// paramsSQL pivots the staged parameters: one row per object.
func (imp *FIASRegionImport) paramsSQL(t core.FIASTable) string {
	return `SELECT object_id, max(value) FILTER (WHERE type_id = 5) AS postal, max(value) FILTER (WHERE type_id = 6) AS okato,
		max(value) FILTER (WHERE type_id = 7) AS oktmo, max(value) FILTER (WHERE type_id = 8) AS cadastral,
		max(value) FILTER (WHERE type_id = 10) AS kladr, max(value) FILTER (WHERE type_id = 1) AS tax
		FROM ` + imp.stageSQL(t) + ` GROUP BY object_id`
}

func (imp *FIASRegionImport) stageSQL(t core.FIASTable) string {
	return pgx.Identifier{imp.stage(t)}.Sanitize()
}

// index gives a region's new table the indexes of the partitioned table,
// so that attaching it builds none under the swap's lock (but the unique
// ones unless unique: a build that made them). An index already there,
// of a build stopped before, is kept.
func (imp *FIASRegionImport) index(ctx context.Context, tx pgx.Tx, name, parent string, unique bool) error {
	rows, err := tx.Query(ctx, `SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = $1::regclass`, parent)
	if err != nil {
		return fmt.Errorf("read the indexes of %s: %w", parent, err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read the indexes of %s: %w", parent, err)
	}
	for i, def := range defs {
		// "CREATE [UNIQUE] INDEX name ON ONLY public.parent USING …" →
		// an unnamed index of the same definition on the new table.
		_, rest, ok := strings.Cut(def, " ON ONLY ")
		if !ok {
			_, rest, _ = strings.Cut(def, " ON ")
		}
		_, using, _ := strings.Cut(rest, " USING ")
		kind := ""
		if strings.HasPrefix(def, "CREATE UNIQUE") {
			if !unique {
				continue
			}
			kind = "UNIQUE "
		}
		stmt := fmt.Sprintf("CREATE %sINDEX IF NOT EXISTS %s ON %s USING %s", kind, pgx.Identifier{fmt.Sprintf("%s_i%d", name, i)}.Sanitize(),
			pgx.Identifier{name}.Sanitize(), using)
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("index %s: %w", name, err)
		}
	}
	return nil
}

// swap makes table the region's partition of parent, detaching the one
// it replaces, whose name it returns for the caller to drop ("" when
// there was none).
func (imp *FIASRegionImport) swap(ctx context.Context, tx pgx.Tx, parent, table string) (string, error) {
	var old string
	err := tx.QueryRow(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass AND pg_get_expr(c.relpartbound, c.oid) IN ($2, $3)`,
		parent, fmt.Sprintf("FOR VALUES IN (%d)", imp.region), fmt.Sprintf("FOR VALUES IN ('%d')", imp.region)).Scan(&old)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return "", fmt.Errorf("find the region's partition of %s: %w", parent, err)
	default:
		if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{parent}.Sanitize()+` DETACH PARTITION `+pgx.Identifier{old}.Sanitize()); err != nil {
			return "", fmt.Errorf("detach %s: %w", old, err)
		}
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{parent}.Sanitize()+` ATTACH PARTITION `+pgx.Identifier{table}.Sanitize()+
		` FOR VALUES IN (`+strconv.Itoa(imp.region)+`)`); err != nil {
		return "", fmt.Errorf("attach %s: %w", table, err)
	}
	return old, nil
}

// Abandon drops a region's unfinished import.
func (imp *FIASRegionImport) Abandon(ctx context.Context) error { return imp.drop(ctx) }

// ReplaceFIASTypes replaces one reference table whole.
func (s *Store) ReplaceFIASTypes(ctx context.Context, table string, types []core.FIASType) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		switch table {
		case core.FIASObjectTypes:
			if _, err = tx.Exec(ctx, `DELETE FROM fias_object_types`); err == nil {
				_, err = tx.CopyFrom(ctx, pgx.Identifier{"fias_object_types"}, []string{"id", "level", "short_name", "name", "active"},
					pgx.CopyFromSlice(len(types), func(i int) ([]any, error) {
						t := types[i]
						return []any{t.ID, t.Level, t.ShortName, t.Name, t.Active}, nil
					}))
			}
		case core.FIASHouseTypes, core.FIASAddHouseTypes, core.FIASApartmentTypes:
			if _, err = tx.Exec(ctx, `DELETE FROM fias_house_types WHERE kind = $1`, table); err == nil {
				_, err = tx.CopyFrom(ctx, pgx.Identifier{"fias_house_types"}, []string{"kind", "id", "short_name", "name", "active"},
					pgx.CopyFromSlice(len(types), func(i int) ([]any, error) {
						t := types[i]
						return []any{table, t.ID, t.ShortName, t.Name, t.Active}, nil
					}))
			}
		case core.FIASLevels:
			if _, err = tx.Exec(ctx, `DELETE FROM fias_levels`); err == nil {
				_, err = tx.CopyFrom(ctx, pgx.Identifier{"fias_levels"}, []string{"level", "name", "active"},
					pgx.CopyFromSlice(len(types), func(i int) ([]any, error) {
						t := types[i]
						return []any{t.ID, t.Name, t.Active}, nil
					}))
			}
		default:
			return fmt.Errorf("fias import: no reference table %q", table)
		}
		if err != nil {
			return fmt.Errorf("replace the %s types: %w", table, err)
		}
		return nil
	})
}

// FinishDelta implements core.FIASRegionLoad: the delta's records are
// merged into the region's partitions in one transaction, so lookups see
// the region before or after, never between.
func (imp *FIASRegionImport) FinishDelta(ctx context.Context) (core.FIASRegionResult, error) {
	res := core.FIASRegionResult{Region: imp.region}
	paths, err := imp.donePaths()
	if err != nil {
		return res, err
	}
	r := strconv.Itoa(imp.region)
	err = imp.s.inTx(ctx, func(tx pgx.Tx) error {
		var loaded bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM fias_regions WHERE region = $1)`, imp.region).Scan(&loaded); err != nil {
			return fmt.Errorf("read the region: %w", err)
		}
		if !loaded {
			return core.Errorf(core.ECONFLICT, "region %02d is not loaded: import its full distribution before a delta", imp.region)
		}
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'; SET LOCAL jit = off`); err != nil {
			return fmt.Errorf("tune the region's delta: %w", err)
		}
		// The chains are read while the versions they name are served.
		if err := imp.linkSuccessors(ctx, tx, true); err != nil {
			return err
		}
		stmts := []struct{ what, sql string }{
			// Retired objects and houses leave; their houses' parameters too.
			{"retire objects", `DELETE FROM fias_addr_objects WHERE region = ` + r + ` AND object_id IN
				(SELECT object_id FROM ` + imp.stageSQL(core.FIASObjects) + ` WHERE actual AND NOT active)`},
			{"retire houses", `DELETE FROM fias_houses WHERE region = ` + r + ` AND object_id IN
				(SELECT object_id FROM ` + imp.stageSQL(core.FIASHouses) + ` WHERE actual AND NOT active)`},
			{"retire house parameters", `DELETE FROM fias_house_params WHERE region = ` + r + ` AND object_id IN
				(SELECT object_id FROM ` + imp.stageSQL(core.FIASHouses) + ` WHERE actual AND NOT active)`},
			// New and changed objects, with their place when the delta moved them.
			{"merge objects", `INSERT INTO fias_addr_objects AS t (region, object_id, guid, level, name, type_name, parent_id, path, houses, updated,
					record_id)
				SELECT ` + r + `, o.object_id, o.guid, o.level, o.name, o.type_name, a.parent_id,
					coalesce(string_to_array(nullif(a.path, ''), '.')::bigint[], ARRAY[o.object_id]), 0, o.updated, o.record_id
				FROM (SELECT DISTINCT ON (object_id) * FROM ` + imp.stageSQL(core.FIASObjects) + ` WHERE actual AND active ORDER BY object_id, updated DESC) o
				LEFT JOIN (SELECT DISTINCT ON (object_id) * FROM ` + imp.stageSQL(core.FIASAdm) + ` ORDER BY object_id, start DESC) a USING (object_id)
				ON CONFLICT (region, object_id) DO UPDATE SET guid = excluded.guid, level = excluded.level, name = excluded.name,
					type_name = excluded.type_name, updated = excluded.updated, record_id = excluded.record_id,
					parent_id = CASE WHEN excluded.parent_id IS NULL THEN t.parent_id ELSE excluded.parent_id END,
					path = CASE WHEN excluded.parent_id IS NULL THEN t.path ELSE excluded.path END`},
			{"move objects", `UPDATE fias_addr_objects t SET parent_id = a.parent_id, path = string_to_array(a.path, '.')::bigint[]
				FROM (SELECT DISTINCT ON (object_id) * FROM ` + imp.stageSQL(core.FIASAdm) + ` ORDER BY object_id, start DESC) a
				WHERE t.region = ` + r + ` AND t.object_id = a.object_id AND a.path <> ''`},
			{"merge houses", `INSERT INTO fias_houses AS t (region, object_id, guid, parent_id, house_num, house_type, add_num1, add_type1,
					add_num2, add_type2, updated, record_id)
				SELECT ` + r + `, h.object_id, h.guid, a.parent_id, h.house_num, h.house_type, h.add_num1, h.add_type1, h.add_num2, h.add_type2, h.updated,
					h.record_id
				FROM (SELECT DISTINCT ON (object_id) * FROM ` + imp.stageSQL(core.FIASHouses) + ` WHERE actual AND active ORDER BY object_id, updated DESC) h
				LEFT JOIN (SELECT DISTINCT ON (object_id) * FROM ` + imp.stageSQL(core.FIASAdm) + ` ORDER BY object_id, start DESC) a USING (object_id)
				ON CONFLICT (region, object_id) DO UPDATE SET guid = excluded.guid, house_num = excluded.house_num,
					house_type = excluded.house_type, add_num1 = excluded.add_num1, add_type1 = excluded.add_type1,
					add_num2 = excluded.add_num2, add_type2 = excluded.add_type2, updated = excluded.updated, record_id = excluded.record_id,
					parent_id = coalesce(excluded.parent_id, t.parent_id)`},
			{"move houses", `UPDATE fias_houses t SET parent_id = a.parent_id
				FROM (SELECT DISTINCT ON (object_id) * FROM ` + imp.stageSQL(core.FIASAdm) + ` ORDER BY object_id, start DESC) a
				WHERE t.region = ` + r + ` AND t.object_id = a.object_id AND t.parent_id IS DISTINCT FROM a.parent_id`},
			// A parameter the delta gives replaces the house's value of its type.
			{"replace house parameters", `DELETE FROM fias_house_params t USING ` + imp.stageSQL(core.FIASParams) + ` p
				WHERE t.region = ` + r + ` AND t.object_id = p.object_id AND t.type_id = p.type_id`},
			{"add house parameters", `INSERT INTO fias_house_params (region, object_id, type_id, value)
				SELECT ` + r + `, object_id, type_id, value FROM ` + imp.stageSQL(core.FIASParams)},
			{"object parameters", `UPDATE fias_addr_objects t SET postal_code = coalesce(p.postal, t.postal_code),
					okato = coalesce(p.okato, t.okato), oktmo = coalesce(p.oktmo, t.oktmo), kladr_code = coalesce(p.kladr, t.kladr_code),
					tax_office = coalesce(p.tax, t.tax_office)
				FROM (` + imp.paramsSQL(core.FIASObjectParams) + `) p WHERE t.region = ` + r + ` AND t.object_id = p.object_id`},
			{"municipal parents", `UPDATE fias_addr_objects t SET mun_parent_id = m.parent_id, oktmo = coalesce(nullif(m.oktmo, ''), t.oktmo)
				FROM (SELECT DISTINCT ON (object_id) * FROM ` + imp.stageSQL(core.FIASMun) + ` ORDER BY object_id, start DESC) m
				WHERE t.region = ` + r + ` AND t.object_id = m.object_id`},
			// The places' sizes, as a full import counts them.
			{"count houses", `UPDATE fias_addr_objects t SET houses = coalesce(b.n, 0)
				FROM fias_addr_objects o LEFT JOIN (
					SELECT a.id AS object_id, sum(d.n) AS n
					FROM (SELECT parent_id AS object_id, count(*) AS n FROM fias_houses WHERE region = ` + r + ` GROUP BY parent_id) d
					JOIN fias_addr_objects o2 ON o2.region = ` + r + ` AND o2.object_id = d.object_id, unnest(o2.path) AS a(id)
					GROUP BY a.id) b USING (object_id)
				WHERE o.region = ` + r + ` AND t.region = ` + r + ` AND t.object_id = o.object_id AND t.houses IS DISTINCT FROM coalesce(b.n, 0)`},
		}
		for _, u := range fiasUnits {
			stage := imp.stageSQL(u.stage)
			stmts = append(stmts[:2], append([]struct{ what, sql string }{
				{"retire " + string(u.stage), `DELETE FROM ` + u.table + ` WHERE region = ` + r + ` AND object_id IN
					(SELECT object_id FROM ` + stage + ` WHERE actual AND NOT active)`},
				{"retire the parameters of " + string(u.stage), `DELETE FROM fias_house_params WHERE region = ` + r + ` AND object_id IN
					(SELECT object_id FROM ` + stage + ` WHERE actual AND NOT active)`},
				{"merge " + string(u.stage), `INSERT INTO ` + u.table + ` AS t (region, object_id, guid, parent_id, number, record_id, updated` + u.cols + `)
					SELECT ` + r + `, p.object_id, p.guid, a.parent_id, p.number, p.record_id, p.updated` + strings.ReplaceAll(u.cols, ", ", ", p.") + `
					FROM (SELECT DISTINCT ON (object_id) * FROM ` + stage + ` WHERE actual AND active ORDER BY object_id, updated DESC) p
					LEFT JOIN (SELECT DISTINCT ON (object_id) * FROM ` + imp.stageSQL(core.FIASAdm) + ` ORDER BY object_id, start DESC) a USING (object_id)
					ON CONFLICT (region, object_id) DO UPDATE SET guid = excluded.guid, number = excluded.number, record_id = excluded.record_id,
						updated = excluded.updated, parent_id = coalesce(excluded.parent_id, t.parent_id)` + unitUpdates(u.cols)},
				{"move " + string(u.stage), `UPDATE ` + u.table + ` t SET parent_id = a.parent_id
					FROM (SELECT DISTINCT ON (object_id) * FROM ` + imp.stageSQL(core.FIASAdm) + ` ORDER BY object_id, start DESC) a
					WHERE t.region = ` + r + ` AND t.object_id = a.object_id AND t.parent_id IS DISTINCT FROM a.parent_id`},
			}, stmts[2:]...)...)
		}
		for _, st := range stmts {
			if _, err := tx.Exec(ctx, st.sql); err != nil {
				return fmt.Errorf("region %02d delta: %s: %w", imp.region, st.what, err)
			}
		}
		if err := imp.keepRetired(ctx, tx, "fias_houses", "fias_addr_objects"); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE fias_regions SET loaded_at = now(), files = files || $2::text[],
				objects = (SELECT count(*) FROM fias_addr_objects WHERE region = $1),
				houses = (SELECT count(*) FROM fias_houses WHERE region = $1),
				apartments = (SELECT count(*) FROM fias_apartments WHERE region = $1),
				steads = (SELECT count(*) FROM fias_steads WHERE region = $1)
			WHERE region = $1 RETURNING objects, houses, apartments, steads`, imp.region, paths).
			Scan(&res.Objects, &res.Houses, &res.Apartments, &res.Steads); err != nil {
			return fmt.Errorf("record the region: %w", err)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, imp.drop(ctx)
}
