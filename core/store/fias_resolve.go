package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// resolveAddress fills an account's address given a ФИАС id from the
// register: the parts with their types, the postal code, the КЛАДР code
// and ОКТМО of a house or an address object; the flat stays as given and
// the free-text line gives way to the parts. An address unchanged since
// old is left alone. Errors: EINVALID (field.fias_id) when the register
// has no such id.
func resolveAddress(ctx context.Context, db dbtx, field string, old, a *core.PostalAddress) error {
	if a.FIASID == "" || old != nil && *old == *a {
		return nil
	}
	ra, err := lookupRegister(ctx, db, field, a.FIASID)
	if err != nil {
		return err
	}
	flat := a.Flat
	*a = ra.PostalAddress()
	a.Flat = flat
	return nil
}

// resolveLeadAddress is resolveAddress for a lead's or a contact's address
// (vtiger's street, city, state, postcode and country).
func resolveLeadAddress(ctx context.Context, db dbtx, field string, old, a *core.Address) error {
	if a.FIASID == "" || old != nil && *old == *a {
		return nil
	}
	ra, err := lookupRegister(ctx, db, field, a.FIASID)
	if err != nil {
		return err
	}
	*a = ra.VtigerAddress(a.Flat, a.POBox)
	return nil
}

// lookupRegister builds the address of a ФИАС id (a house or an address
// object) from the register's tables.
func lookupRegister(ctx context.Context, db dbtx, field, fiasID string) (core.RegisterAddress, error) {
	id := strings.ToLower(fiasID)
	var region int
	var parent int64
	var house, houseType, block, blockType, postal, oktmo string
	err := db.QueryRow(ctx, `SELECT h.region, coalesce(h.parent_id, 0), h.house_num, coalesce(ht.short_name, ''), h.add_num1,
			coalesce(bt.short_name, ''),
			coalesce((SELECT value FROM fias_house_params p WHERE p.region = h.region AND p.object_id = h.object_id AND p.type_id = 5 LIMIT 1), ''),
			coalesce((SELECT value FROM fias_house_params p WHERE p.region = h.region AND p.object_id = h.object_id AND p.type_id = 7 LIMIT 1), '')
		FROM fias_houses h
		LEFT JOIN fias_house_types ht ON ht.kind = 'house' AND ht.id = h.house_type
		LEFT JOIN fias_house_types bt ON bt.kind = 'addhouse' AND bt.id = h.add_type1
		WHERE h.guid = $1::uuid`, id).Scan(&region, &parent, &house, &houseType, &block, &blockType, &postal, &oktmo)
	isHouse := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return core.RegisterAddress{}, fmt.Errorf("resolve %s: %w", field, err)
	}

	where, args := `t.guid = $1::uuid`, []any{id}
	if isHouse {
		where, args = `t.region = $1 AND t.object_id = $2`, []any{region, parent}
	}
	rows, err := db.Query(ctx, `SELECT o.level, o.name, o.type_name, o.guid::text, coalesce(o.kladr_code, ''),
			coalesce(o.postal_code, ''), coalesce(o.oktmo, '')
		FROM fias_addr_objects t CROSS JOIN LATERAL unnest(t.path) WITH ORDINALITY AS p(id, n)
		JOIN fias_addr_objects o ON o.region = t.region AND o.object_id = p.id
		WHERE `+where+` ORDER BY p.n`, args...)
	if err != nil {
		return core.RegisterAddress{}, fmt.Errorf("resolve %s: %w", field, err)
	}
	var chain []core.RegisterObject
	var objPostal, objOKTMO string
	for rows.Next() {
		var o core.RegisterObject
		if err := rows.Scan(&o.Level, &o.Name, &o.Type, &o.GUID, &o.KLADR, &objPostal, &objOKTMO); err != nil {
			rows.Close()
			return core.RegisterAddress{}, fmt.Errorf("resolve %s: %w", field, err)
		}
		chain = append(chain, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return core.RegisterAddress{}, fmt.Errorf("resolve %s: %w", field, err)
	}
	if len(chain) == 0 {
		return core.RegisterAddress{}, core.Invalid([]core.FieldError{{Field: field + ".fias_id", Code: "not_found",
			Message: "no address object or house of the address register has this ФИАС id (crmhub fias import loads the register)"}})
	}

	ra := core.BuildRegisterAddress(chain)
	ra.PostalCode, ra.OKTMO = objPostal, objOKTMO
	if isHouse {
		ra.House = core.AddressPart{Name: house, Type: strings.TrimSuffix(houseType, "."), FIASID: id}
		if block != "" {
			ra.Block = core.AddressPart{Name: block, Type: strings.TrimSuffix(blockType, ".")}
		}
		ra.FIASID, ra.FIASLevel = id, core.AddressLevelHouse
		if postal != "" {
			ra.PostalCode = postal
		}
		if oktmo != "" {
			ra.OKTMO = oktmo
		}
	}
	return ra, nil
}
