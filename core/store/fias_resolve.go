package store

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/addrsearch"
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
	a.Flat = cmp.Or(ra.FlatLine(), flat)
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
	*a = ra.VtigerAddress(cmp.Or(ra.FlatLine(), a.Flat), a.POBox)
	return nil
}

// lookupRegister builds the address of a ФИАС id (a house or an address
// object) from the register's tables; of a retired id, the address of the
// one that took its place, with its id.
func lookupRegister(ctx context.Context, db dbtx, field, fiasID string) (core.RegisterAddress, error) {
	ra, err := lookupServed(ctx, db, field, fiasID)
	if core.ErrorCode(err) != core.EINVALID {
		return ra, err
	}
	next, serr := addressSuccessor(ctx, db, fiasID)
	if next == "" || serr != nil {
		return ra, cmp.Or(serr, err)
	}
	return lookupServed(ctx, db, field, next)
}

// lookupServed is lookupRegister of an id the register serves.
func lookupServed(ctx context.Context, db dbtx, field, fiasID string) (core.RegisterAddress, error) {
	id := strings.ToLower(fiasID)
	houses, err := queryHouses(ctx, db, "resolve "+field, `h.guid = $1::uuid`, id)
	if err != nil {
		return core.RegisterAddress{}, err
	}
	var flats []addrsearch.Flat
	if len(houses) == 0 {
		if flats, houses, err = flatsByID(ctx, db, id, 1); err != nil {
			return core.RegisterAddress{}, err
		}
	}
	var steads []addrsearch.Stead
	if len(houses) == 0 {
		if steads, err = steadsByID(ctx, db, id, 1); err != nil {
			return core.RegisterAddress{}, err
		}
	}
	isHouse := len(houses) > 0
	var h addrsearch.House
	var houseType, blockType, flatType string
	if isHouse {
		h = houses[0]
		flatTypeID := -1
		if len(flats) > 0 {
			flatTypeID = flats[0].Type
		}
		err := db.QueryRow(ctx, `SELECT coalesce(max(short_name) FILTER (WHERE kind = 'house' AND id = $1), ''),
			coalesce(max(short_name) FILTER (WHERE kind = 'addhouse' AND id = $2), ''),
			coalesce(max(short_name) FILTER (WHERE kind = 'apartment' AND id = $3), '') FROM fias_house_types`, h.Type, h.AddType1, flatTypeID).
			Scan(&houseType, &blockType, &flatType)
		if err != nil {
			return core.RegisterAddress{}, fmt.Errorf("resolve %s: %w", field, err)
		}
	}
	region, parent := h.Region, h.Parent

	where, args := `t.guid = $1::uuid`, []any{id}
	switch {
	case isHouse:
		where, args = `t.region = $1 AND t.object_id = $2`, []any{region, parent}
	case len(steads) > 0:
		where, args = `t.region = $1 AND t.object_id = $2`, []any{steads[0].Region, steads[0].Parent}
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
		ra.House = core.AddressPart{Name: h.Number, Type: strings.TrimSuffix(houseType, "."), FIASID: h.GUID}
		if h.Add1 != "" {
			ra.Block = core.AddressPart{Name: h.Add1, Type: strings.TrimSuffix(blockType, ".")}
		}
		ra.FIASID, ra.FIASLevel = h.GUID, core.AddressLevelHouse
		if h.PostalCode != "" {
			ra.PostalCode = h.PostalCode
		}
		if h.OKTMO != "" {
			ra.OKTMO = h.OKTMO
		}
	}
	if len(steads) > 0 {
		st := steads[0]
		ra.Stead = core.SteadPart(st.Number, st.GUID)
		ra.FIASID, ra.FIASLevel = st.GUID, core.AddressLevelStead
		ra.PostalCode = cmp.Or(st.PostalCode, ra.PostalCode)
	}
	if len(steads) > 0 {
		st := steads[0]
		ra.Stead = core.SteadPart(st.Number, st.GUID)
		ra.FIASID, ra.FIASLevel = st.GUID, core.AddressLevelStead
		ra.PostalCode = cmp.Or(st.PostalCode, ra.PostalCode)
	}
	if len(flats) > 0 {
		f := flats[0]
		ra.Flat = core.AddressPart{Name: f.Number, Type: strings.TrimSuffix(flatType, "."), FIASID: f.GUID}
		ra.FIASID, ra.FIASLevel = f.GUID, core.AddressLevelFlat
		ra.PostalCode = cmp.Or(f.PostalCode, ra.PostalCode)
	}
	return ra, nil
}
