package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core/addrsearch"
)

var _ addrsearch.Source = (*Store)(nil)

// AddressRegisterVersion implements addrsearch.Source: it changes when a
// region is loaded again.
func (s *Store) AddressRegisterVersion(ctx context.Context) (string, error) {
	var v string
	err := s.db(ctx).QueryRow(ctx, `SELECT count(*) || '/' || coalesce(max(loaded_at)::text, '') FROM fias_regions`).Scan(&v)
	return v, wrap("address register version", err)
}

// AddressObjects implements addrsearch.Source: every served address
// object, streamed.
func (s *Store) AddressObjects(ctx context.Context, fn func(addrsearch.Object) error) error {
	rows, err := s.db(ctx).Query(ctx, `SELECT region, object_id, guid::text, level, name, type_name, path, houses,
		coalesce(postal_code, ''), coalesce(okato, ''), coalesce(oktmo, ''), coalesce(kladr_code, ''), coalesce(tax_office, '')
		FROM fias_addr_objects`)
	if err != nil {
		return wrap("address objects", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o addrsearch.Object
		if err := rows.Scan(&o.Region, &o.ID, &o.GUID, &o.Level, &o.Name, &o.Type, &o.Path, &o.Houses, &o.PostalCode, &o.OKATO,
			&o.OKTMO, &o.KLADR, &o.TaxOffice); err != nil {
			return wrap("address objects", err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return wrap("address objects", rows.Err())
}

// AddressTypes implements addrsearch.Source.
func (s *Store) AddressTypes(ctx context.Context) (addrsearch.Types, error) {
	t := addrsearch.Types{Houses: map[int]addrsearch.TypeName{}, AddHouses: map[int]addrsearch.TypeName{}, Apartments: map[int]addrsearch.TypeName{}}
	rows, err := s.db(ctx).Query(ctx, `SELECT level, short_name, name FROM fias_object_types WHERE active`)
	if err != nil {
		return t, wrap("address types", err)
	}
	t.Objects, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (addrsearch.TypeName, error) {
		var n addrsearch.TypeName
		return n, r.Scan(&n.Level, &n.Short, &n.Full)
	})
	if err != nil {
		return t, wrap("address types", err)
	}
	rows, err = s.db(ctx).Query(ctx, `SELECT kind, id, short_name, name FROM fias_house_types`)
	if err != nil {
		return t, wrap("address types", err)
	}
	var kind string
	var id int
	var n addrsearch.TypeName
	_, err = pgx.ForEachRow(rows, []any{&kind, &id, &n.Short, &n.Full}, func() error {
		switch kind {
		case "house":
			t.Houses[id] = n
		case "addhouse":
			t.AddHouses[id] = n
		case "apartment":
			t.Apartments[id] = n
		}
		return nil
	})
	return t, wrap("address types", err)
}

const houseColumns = `h.region, h.object_id, h.guid::text, coalesce(h.parent_id, 0), h.house_num, h.house_type, h.add_num1, h.add_type1,
	h.add_num2, h.add_type2, coalesce(p.postal, ''), coalesce(p.okato, ''), coalesce(p.oktmo, ''), coalesce(p.tax, ''), coalesce(p.cadastral, '')`

// houseParams are a house's parameters as columns.
var houseParams = paramsOf("h")

// paramsOf are the parameters of the house or apartment of a query's
// alias as columns.
func paramsOf(alias string) string {
	return `LEFT JOIN LATERAL (SELECT max(value) FILTER (WHERE type_id = 5) AS postal, max(value) FILTER (WHERE type_id = 6) AS okato,
	max(value) FILTER (WHERE type_id = 7) AS oktmo, max(value) FILTER (WHERE type_id = 1) AS tax,
	max(value) FILTER (WHERE type_id = 8) AS cadastral
	FROM fias_house_params WHERE region = ` + alias + `.region AND object_id = ` + alias + `.object_id) p ON true`
}

func scanHouse(row pgx.CollectableRow) (addrsearch.House, error) {
	var h addrsearch.House
	err := row.Scan(&h.Region, &h.ID, &h.GUID, &h.Parent, &h.Number, &h.Type, &h.Add1, &h.AddType1, &h.Add2, &h.AddType2,
		&h.PostalCode, &h.OKATO, &h.OKTMO, &h.TaxOffice, &h.Cadastral)
	return h, err
}

// Houses implements addrsearch.Source: the houses of the parents whose
// number begins as typed, the number typed exactly first.
func (s *Store) Houses(ctx context.Context, q addrsearch.HouseQuery) ([]addrsearch.House, error) {
	if len(q.Parents) == 0 {
		return nil, nil
	}
	// The numbers that begin as typed are a range of the index (by
	// bytes: text_pattern_ops), the last code point closing it: given as
	// parameters, unlike a LIKE pattern, it needs no planning of its own
	// each time.
	number := strings.ToLower(q.Number)
	args := []any{q.Region, q.Parents, number, number + "\U0010FFFF", q.Limit}
	block := ""
	if q.Block != "" {
		args = append(args, strings.ToLower(q.Block))
		block = ` AND (lower(h.add_num1) = $6 OR lower(h.add_num2) = $6)`
	}
	return queryHouses(ctx, s.db(ctx), "houses", `h.region = $1 AND h.parent_id = ANY($2)
		AND lower(h.house_num) ~>=~ $3 AND lower(h.house_num) ~<=~ $4`+block+`
		ORDER BY lower(h.house_num) <> $3, length(h.house_num), lower(h.house_num), h.add_num1, h.add_num2 LIMIT $5`, args...)
}

// queryHouses reads the houses, with their parameters, that the rest of
// the query (a WHERE condition and what follows it) selects.
func queryHouses(ctx context.Context, db dbtx, op, where string, args ...any) ([]addrsearch.House, error) {
	rows, err := db.Query(ctx, `SELECT `+houseColumns+` FROM fias_houses h `+houseParams+` WHERE `+where, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	out, err := pgx.CollectRows(rows, scanHouse)
	return out, wrap(op, err)
}

// HousesByID implements addrsearch.Source: the house of a ФИАС id or a
// cadastral number.
func (s *Store) HousesByID(ctx context.Context, id string, limit int) ([]addrsearch.House, error) {
	where := `h.guid = $1::uuid`
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		where = `(h.region, h.object_id) IN (SELECT region, object_id FROM fias_house_params WHERE type_id = 8 AND value = $1)`
	}
	return queryHouses(ctx, s.db(ctx), "houses by id", where+` LIMIT $2`, id, limit)
}

// AddressSuccessor implements addrsearch.Source: the ФИАС id that took a
// retired one's place, through any number of later retirements (a chain
// is followed at most 32 steps, so a loop in the register ends); "" when
// the register names none or id is not an id.
func (s *Store) AddressSuccessor(ctx context.Context, id string) (string, error) {
	return addressSuccessor(ctx, s.db(ctx), id)
}

func addressSuccessor(ctx context.Context, db dbtx, id string) (string, error) {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return "", nil
	}
	var next string
	err := db.QueryRow(ctx, `WITH RECURSIVE chain (guid, step) AS (
			SELECT successor, 1 FROM fias_successors WHERE guid = $1::uuid
			UNION ALL
			SELECT s.successor, c.step + 1 FROM fias_successors s JOIN chain c ON s.guid = c.guid WHERE c.step < 32)
		SELECT coalesce((SELECT guid::text FROM chain ORDER BY step DESC LIMIT 1), '')`, strings.ToLower(id)).Scan(&next)
	return next, wrap("address successor", err)
}

// Flats implements addrsearch.Source: the flats of some houses of a
// region numbered as typed (case aside).
func (s *Store) Flats(ctx context.Context, region int, houses []int64, number string) ([]addrsearch.Flat, error) {
	if len(houses) == 0 || number == "" {
		return nil, nil
	}
	return queryFlats(ctx, s.db(ctx), "flats", `a.region = $1 AND a.parent_id = ANY($2) AND lower(a.number) = $3`,
		region, houses, strings.ToLower(number))
}

// FlatsByID implements addrsearch.Source: the flat of a ФИАС id or a
// cadastral number, and its house.
func (s *Store) FlatsByID(ctx context.Context, id string, limit int) ([]addrsearch.Flat, []addrsearch.House, error) {
	return flatsByID(ctx, s.db(ctx), id, limit)
}

func flatsByID(ctx context.Context, db dbtx, id string, limit int) ([]addrsearch.Flat, []addrsearch.House, error) {
	where := `a.guid = $1::uuid`
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		where = `(a.region, a.object_id) IN (SELECT region, object_id FROM fias_house_params WHERE type_id = 8 AND value = $1)`
	}
	flats, err := queryFlats(ctx, db, "flats by id", where+` LIMIT $2`, strings.ToLower(id), limit)
	if err != nil || len(flats) == 0 {
		return nil, nil, err
	}
	houses := make([]addrsearch.House, 0, len(flats))
	for _, f := range flats {
		hs, err := queryHouses(ctx, db, "flats by id", `h.region = $1 AND h.object_id = $2`, f.Region, f.House)
		if err != nil {
			return nil, nil, err
		}
		if len(hs) == 0 {
			return nil, nil, fmt.Errorf("flats by id: the house of flat %s is not served", f.GUID)
		}
		houses = append(houses, hs[0])
	}
	return flats, houses, nil
}

func queryFlats(ctx context.Context, db dbtx, op, where string, args ...any) ([]addrsearch.Flat, error) {
	rows, err := db.Query(ctx, `SELECT a.region, a.object_id, a.guid::text, coalesce(a.parent_id, 0), a.number, a.apart_type,
			coalesce(p.postal, ''), coalesce(p.cadastral, '')
		FROM fias_apartments a `+paramsOf("a")+` WHERE `+where, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (addrsearch.Flat, error) {
		var f addrsearch.Flat
		err := row.Scan(&f.Region, &f.ID, &f.GUID, &f.House, &f.Number, &f.Type, &f.PostalCode, &f.Cadastral)
		return f, err
	})
	return out, wrap(op, err)
}

// Steads implements addrsearch.Source: the land plots of some parents of
// a region whose number begins as typed, the number typed exactly first.
func (s *Store) Steads(ctx context.Context, q addrsearch.HouseQuery) ([]addrsearch.Stead, error) {
	if len(q.Parents) == 0 {
		return nil, nil
	}
	number := strings.ToLower(q.Number)
	return querySteads(ctx, s.db(ctx), "steads", `a.region = $1 AND a.parent_id = ANY($2)
		AND lower(a.number) ~>=~ $3 AND lower(a.number) ~<=~ $4
		ORDER BY lower(a.number) <> $3, length(a.number), lower(a.number) LIMIT $5`,
		q.Region, q.Parents, number, number+"\U0010FFFF", q.Limit)
}

// SteadsByID implements addrsearch.Source: the land plot of a ФИАС id or a
// cadastral number.
func (s *Store) SteadsByID(ctx context.Context, id string, limit int) ([]addrsearch.Stead, error) {
	return steadsByID(ctx, s.db(ctx), id, limit)
}

func steadsByID(ctx context.Context, db dbtx, id string, limit int) ([]addrsearch.Stead, error) {
	where := `a.guid = $1::uuid`
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		where = `(a.region, a.object_id) IN (SELECT region, object_id FROM fias_house_params WHERE type_id = 8 AND value = $1)`
	}
	return querySteads(ctx, db, "steads by id", where+` LIMIT $2`, strings.ToLower(id), limit)
}

func querySteads(ctx context.Context, db dbtx, op, where string, args ...any) ([]addrsearch.Stead, error) {
	rows, err := db.Query(ctx, `SELECT a.region, a.object_id, a.guid::text, coalesce(a.parent_id, 0), a.number,
			coalesce(p.postal, ''), coalesce(p.cadastral, '')
		FROM fias_steads a `+paramsOf("a")+` WHERE `+where, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (addrsearch.Stead, error) {
		var st addrsearch.Stead
		err := row.Scan(&st.Region, &st.ID, &st.GUID, &st.Parent, &st.Number, &st.PostalCode, &st.Cadastral)
		return st, err
	})
	return out, wrap(op, err)
}
