package gar

// The record types. Field tables list the attributes in the order of the
// distributed files; the index of a field in its table is the index the
// builder reads, so the two are kept side by side.

// AddrObj is an address object (AS_ADDR_OBJ OBJECT): region, district,
// city, settlement, street ...
type AddrObj struct {
	ID, ObjectID                   int64
	ObjectGUID                     string
	ChangeID                       int64
	Name, TypeName                 string
	Level                          int
	OperTypeID, PrevID, NextID     int64
	UpdateDate, StartDate, EndDate string
	IsActual, IsActive             bool
}

var addrObjFields = []field{id("ID"), id("OBJECTID"), str("OBJECTGUID"), num("CHANGEID"),
	str("NAME"), str("TYPENAME"), {"LEVEL", fInt, true}, num("OPERTYPEID"), num("PREVID"), num("NEXTID"),
	date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE"), flag("ISACTUAL"), flag("ISACTIVE")}

// AddrObj returns the next record of an AS_ADDR_OBJ file, io.EOF after the last.
func (d *Decoder) AddrObj() (AddrObj, error) {
	if err := d.next(KindAddrObj); err != nil {
		return AddrObj{}, err
	}
	return AddrObj{ID: d.n(0), ObjectID: d.n(1), ObjectGUID: d.s(2), ChangeID: d.n(3),
		Name: d.s(4), TypeName: d.s(5), Level: d.in(6), OperTypeID: d.n(7), PrevID: d.n(8), NextID: d.n(9),
		UpdateDate: d.s(10), StartDate: d.s(11), EndDate: d.s(12), IsActual: d.b(13), IsActive: d.b(14)}, nil
}

// House is a building (AS_HOUSES HOUSE). HouseType refers to
// AS_HOUSE_TYPES, AddType1/AddType2 to AS_ADDHOUSE_TYPES (1 корпус,
// 2 строение, 3 сооружение, 4 литера).
type House struct {
	ID, ObjectID                   int64
	ObjectGUID                     string
	ChangeID                       int64
	HouseNum, AddNum1, AddNum2     string
	HouseType, AddType1, AddType2  int
	OperTypeID, PrevID, NextID     int64
	UpdateDate, StartDate, EndDate string
	IsActual, IsActive             bool
}

var houseFields = []field{id("ID"), id("OBJECTID"), str("OBJECTGUID"), num("CHANGEID"),
	str("HOUSENUM"), str("ADDNUM1"), str("ADDNUM2"), num("HOUSETYPE"), num("ADDTYPE1"), num("ADDTYPE2"),
	num("OPERTYPEID"), num("PREVID"), num("NEXTID"),
	date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE"), flag("ISACTUAL"), flag("ISACTIVE")}

// House returns the next record of an AS_HOUSES file, io.EOF after the last.
func (d *Decoder) House() (House, error) {
	if err := d.next(KindHouses); err != nil {
		return House{}, err
	}
	return House{ID: d.n(0), ObjectID: d.n(1), ObjectGUID: d.s(2), ChangeID: d.n(3),
		HouseNum: d.s(4), AddNum1: d.s(5), AddNum2: d.s(6), HouseType: d.in(7), AddType1: d.in(8), AddType2: d.in(9),
		OperTypeID: d.n(10), PrevID: d.n(11), NextID: d.n(12),
		UpdateDate: d.s(13), StartDate: d.s(14), EndDate: d.s(15), IsActual: d.b(16), IsActive: d.b(17)}, nil
}

// AdmHierarchy links an object to its parent in the administrative
// division (AS_ADM_HIERARCHY ITEM). Path is the dot-separated OBJECTIDs
// from the region down to the object itself.
type AdmHierarchy struct {
	ID, ObjectID, ParentObjID, ChangeID                             int64
	RegionCode, AreaCode, CityCode, PlaceCode, PlanCode, StreetCode string
	PrevID, NextID                                                  int64
	UpdateDate, StartDate, EndDate                                  string
	IsActive                                                        bool
	Path                                                            string
}

var admFields = []field{id("ID"), id("OBJECTID"), num("PARENTOBJID"), num("CHANGEID"),
	str("REGIONCODE"), str("AREACODE"), str("CITYCODE"), str("PLACECODE"), str("PLANCODE"), str("STREETCODE"),
	num("PREVID"), num("NEXTID"), date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE"), flag("ISACTIVE"), reqStr("PATH")}

// AdmHierarchy returns the next record of an AS_ADM_HIERARCHY file.
func (d *Decoder) AdmHierarchy() (AdmHierarchy, error) {
	if err := d.next(KindAdmHierarchy); err != nil {
		return AdmHierarchy{}, err
	}
	return AdmHierarchy{ID: d.n(0), ObjectID: d.n(1), ParentObjID: d.n(2), ChangeID: d.n(3),
		RegionCode: d.s(4), AreaCode: d.s(5), CityCode: d.s(6), PlaceCode: d.s(7), PlanCode: d.s(8), StreetCode: d.s(9),
		PrevID: d.n(10), NextID: d.n(11), UpdateDate: d.s(12), StartDate: d.s(13), EndDate: d.s(14),
		IsActive: d.b(15), Path: d.s(16)}, nil
}

// MunHierarchy links an object to its parent in the municipal division
// (AS_MUN_HIERARCHY ITEM).
type MunHierarchy struct {
	ID, ObjectID, ParentObjID, ChangeID int64
	OKTMO                               string
	PrevID, NextID                      int64
	UpdateDate, StartDate, EndDate      string
	IsActive                            bool
	Path                                string
}

var munFields = []field{id("ID"), id("OBJECTID"), num("PARENTOBJID"), num("CHANGEID"), str("OKTMO"),
	num("PREVID"), num("NEXTID"), date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE"), flag("ISACTIVE"), reqStr("PATH")}

// MunHierarchy returns the next record of an AS_MUN_HIERARCHY file.
func (d *Decoder) MunHierarchy() (MunHierarchy, error) {
	if err := d.next(KindMunHierarchy); err != nil {
		return MunHierarchy{}, err
	}
	return MunHierarchy{ID: d.n(0), ObjectID: d.n(1), ParentObjID: d.n(2), ChangeID: d.n(3), OKTMO: d.s(4),
		PrevID: d.n(5), NextID: d.n(6), UpdateDate: d.s(7), StartDate: d.s(8), EndDate: d.s(9),
		IsActive: d.b(10), Path: d.s(11)}, nil
}

// Param is an attribute of an object (AS_*_PARAMS PARAM); TypeID refers to
// AS_PARAM_TYPES: 5 postal code, 6 OKATO, 7 OKTMO, 10 KLADR code, ...
// ChangeIDEnd 0 marks the current value.
type Param struct {
	ID, ObjectID, ChangeID, ChangeIDEnd int64
	TypeID                              int
	Value                               string
	UpdateDate, StartDate, EndDate      string
}

var paramFields = []field{id("ID"), id("OBJECTID"), num("CHANGEID"), num("CHANGEIDEND"), {"TYPEID", fInt, true},
	str("VALUE"), date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE")}

// Param returns the next record of an AS_ADDR_OBJ_PARAMS, AS_HOUSES_PARAMS,
// AS_STEADS_PARAMS or AS_APARTMENTS_PARAMS file.
func (d *Decoder) Param() (Param, error) {
	if err := d.next(KindAddrObjParams, KindHousesParams, KindSteadsParams, KindApartmentsParams); err != nil {
		return Param{}, err
	}
	return Param{ID: d.n(0), ObjectID: d.n(1), ChangeID: d.n(2), ChangeIDEnd: d.n(3), TypeID: d.in(4),
		Value: d.s(5), UpdateDate: d.s(6), StartDate: d.s(7), EndDate: d.s(8)}, nil
}

// AddrObjType is an address object type (AS_ADDR_OBJ_TYPES): "ул", "г" ...
type AddrObjType struct {
	ID                             int64
	Level                          int
	ShortName, Name, Desc          string
	UpdateDate, StartDate, EndDate string
	IsActive                       bool
}

var addrObjTypeFields = []field{id("ID"), num("LEVEL"), str("SHORTNAME"), str("NAME"), str("DESC"),
	date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE"), flag("ISACTIVE")}

// AddrObjType returns the next record of an AS_ADDR_OBJ_TYPES file.
func (d *Decoder) AddrObjType() (AddrObjType, error) {
	if err := d.next(KindAddrObjTypes); err != nil {
		return AddrObjType{}, err
	}
	return AddrObjType{ID: d.n(0), Level: d.in(1), ShortName: d.s(2), Name: d.s(3), Desc: d.s(4),
		UpdateDate: d.s(5), StartDate: d.s(6), EndDate: d.s(7), IsActive: d.b(8)}, nil
}

// Type is a row of AS_HOUSE_TYPES, AS_ADDHOUSE_TYPES or AS_APARTMENT_TYPES.
type Type struct {
	ID                             int64
	Name, ShortName, Desc          string
	UpdateDate, StartDate, EndDate string
	IsActive                       bool
}

var typeFields = []field{id("ID"), str("NAME"), str("SHORTNAME"), str("DESC"),
	date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE"), flag("ISACTIVE")}

// Type returns the next record of an AS_HOUSE_TYPES, AS_ADDHOUSE_TYPES or
// AS_APARTMENT_TYPES file.
func (d *Decoder) Type() (Type, error) {
	if err := d.next(KindHouseTypes, KindAddHouseTypes, KindApartmentTypes); err != nil {
		return Type{}, err
	}
	return Type{ID: d.n(0), Name: d.s(1), ShortName: d.s(2), Desc: d.s(3),
		UpdateDate: d.s(4), StartDate: d.s(5), EndDate: d.s(6), IsActive: d.b(7)}, nil
}

// ObjectLevel is a row of AS_OBJECT_LEVELS (1 субъект РФ ... 8 улица ...).
type ObjectLevel struct {
	Level                          int
	Name, ShortName                string
	UpdateDate, StartDate, EndDate string
	IsActive                       bool
}

var objectLevelFields = []field{id("LEVEL"), str("NAME"), str("SHORTNAME"),
	date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE"), flag("ISACTIVE")}

// ObjectLevel returns the next record of an AS_OBJECT_LEVELS file.
func (d *Decoder) ObjectLevel() (ObjectLevel, error) {
	if err := d.next(KindObjectLevels); err != nil {
		return ObjectLevel{}, err
	}
	return ObjectLevel{Level: d.in(0), Name: d.s(1), ShortName: d.s(2),
		UpdateDate: d.s(3), StartDate: d.s(4), EndDate: d.s(5), IsActive: d.b(6)}, nil
}

// Stead is a land plot (AS_STEADS STEAD).
type Stead struct {
	ID, ObjectID                   int64
	ObjectGUID                     string
	ChangeID                       int64
	Number                         string
	OperTypeID, PrevID, NextID     int64
	UpdateDate, StartDate, EndDate string
	IsActual, IsActive             bool
}

var steadFields = []field{id("ID"), id("OBJECTID"), str("OBJECTGUID"), num("CHANGEID"), str("NUMBER"),
	num("OPERTYPEID"), num("PREVID"), num("NEXTID"),
	date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE"), flag("ISACTUAL"), flag("ISACTIVE")}

// Stead returns the next record of an AS_STEADS file.
func (d *Decoder) Stead() (Stead, error) {
	if err := d.next(KindSteads); err != nil {
		return Stead{}, err
	}
	return Stead{ID: d.n(0), ObjectID: d.n(1), ObjectGUID: d.s(2), ChangeID: d.n(3), Number: d.s(4),
		OperTypeID: d.n(5), PrevID: d.n(6), NextID: d.n(7),
		UpdateDate: d.s(8), StartDate: d.s(9), EndDate: d.s(10), IsActual: d.b(11), IsActive: d.b(12)}, nil
}

// Apartment is a flat or office (AS_APARTMENTS APARTMENT); ApartType
// refers to AS_APARTMENT_TYPES.
type Apartment struct {
	ID, ObjectID                   int64
	ObjectGUID                     string
	ChangeID                       int64
	Number                         string
	ApartType                      int
	OperTypeID, PrevID, NextID     int64
	UpdateDate, StartDate, EndDate string
	IsActual, IsActive             bool
}

var apartmentFields = []field{id("ID"), id("OBJECTID"), str("OBJECTGUID"), num("CHANGEID"), str("NUMBER"),
	num("APARTTYPE"), num("OPERTYPEID"), num("PREVID"), num("NEXTID"),
	date("UPDATEDATE"), date("STARTDATE"), date("ENDDATE"), flag("ISACTUAL"), flag("ISACTIVE")}

// Apartment returns the next record of an AS_APARTMENTS file.
func (d *Decoder) Apartment() (Apartment, error) {
	if err := d.next(KindApartments); err != nil {
		return Apartment{}, err
	}
	return Apartment{ID: d.n(0), ObjectID: d.n(1), ObjectGUID: d.s(2), ChangeID: d.n(3), Number: d.s(4),
		ApartType: d.in(5), OperTypeID: d.n(6), PrevID: d.n(7), NextID: d.n(8),
		UpdateDate: d.s(9), StartDate: d.s(10), EndDate: d.s(11), IsActual: d.b(12), IsActive: d.b(13)}, nil
}

// Skip decodes and discards the next record of any readable kind; it
// returns io.EOF after the last. It validates like the typed methods.
func (d *Decoder) Skip() error {
	return d.next(d.info.kind)
}
