package core

import (
	"context"
	"github.com/google/uuid"
	"strings"
	"sync"
)

// EntityAccount names accounts in events, topics and errors.
const EntityAccount = "account"

// Account is a counterparty («контрагент»): a customer, partner, vendor…
// with its Russian requisites. Vendors are accounts of type "vendor".
type Account struct {
	Record
	Name                 string            `json:"name"`
	Type                 string            `json:"type"`
	LegalForm            string            `json:"legal_form"`
	INN                  string            `json:"inn"`
	KPP                  string            `json:"kpp"`
	OGRN                 string            `json:"ogrn"`
	OKPO                 string            `json:"okpo"`
	BankName             string            `json:"bank_name"`
	BIK                  string            `json:"bik"`
	CorrespondentAccount string            `json:"correspondent_account"`
	SettlementAccount    string            `json:"settlement_account"`
	LegalAddress         PostalAddress     `json:"legal_address"`
	ActualAddress        PostalAddress     `json:"actual_address"`
	Phone                string            `json:"phone"`
	OtherPhone           string            `json:"other_phone"`
	Fax                  string            `json:"fax"`
	Email                string            `json:"email"`
	OtherEmail           string            `json:"other_email"`
	Website              string            `json:"website"`
	Industry             string            `json:"industry"`
	Description          string            `json:"description"`
	ExternalIDs          map[string]string `json:"external_ids"`
}

// PostalAddress is a Russian postal address, structured as ФИАС-minded
// systems and 1C keep it, with a free-text line for what does not fit.
// Given a fias_id (an address object or a house of the register), the
// parts, their types and the register's ids are filled from it.
type PostalAddress struct {
	Postcode       string `json:"postcode"`
	Region         string `json:"region"`
	RegionType     string `json:"region_type"` // «обл», «г», «Респ»
	District       string `json:"district"`
	DistrictType   string `json:"district_type"`
	City           string `json:"city"`
	CityType       string `json:"city_type"`
	Settlement     string `json:"settlement"`
	SettlementType string `json:"settlement_type"`
	Street         string `json:"street"`
	StreetType     string `json:"street_type"`
	House          string `json:"house"`
	HouseType      string `json:"house_type"`
	Block          string `json:"block"`
	BlockType      string `json:"block_type"`
	Flat           string `json:"flat"`
	Line           string `json:"line"`
	FIASID         string `json:"fias_id"`
	FIASLevel      int    `json:"fias_level"`
	KLADRID        string `json:"kladr_id"`
	OKTMO          string `json:"oktmo"`
}

// AccountTypes is the account type picklist: vtiger's list plus vendor.
func AccountTypes() *Picklist { return accountTypes() }

var accountTypes = sync.OnceValue(func() *Picklist {
	return NewPicklist("account_type",
		Choice{"customer", "Клиент", "Customer"},
		Choice{"prospect", "Потенциальный клиент", "Prospect"},
		Choice{"partner", "Партнёр", "Partner"},
		Choice{"vendor", "Поставщик", "Vendor"},
		Choice{"reseller", "Реселлер", "Reseller"},
		Choice{"integrator", "Интегратор", "Integrator"},
		Choice{"investor", "Инвестор", "Investor"},
		Choice{"competitor", "Конкурент", "Competitor"},
		Choice{"analyst", "Аналитик", "Analyst"},
		Choice{"press", "Пресса", "Press"},
		Choice{"other", "Другое", "Other"},
	)
})

// PostalAddressSchema returns the writable fields of a postal address.
func PostalAddressSchema() *Schema[PostalAddress] { return postalAddressSchema() }

var postalAddressSchema = sync.OnceValue(func() *Schema[PostalAddress] {
	return NewSchema[PostalAddress]().
		Field("postcode", Text(10, false, func(a *PostalAddress) *string { return &a.Postcode })).
		Field("region", Text(100, false, func(a *PostalAddress) *string { return &a.Region })).
		Field("region_type", Text(30, false, func(a *PostalAddress) *string { return &a.RegionType })).
		Field("district", Text(100, false, func(a *PostalAddress) *string { return &a.District })).
		Field("district_type", Text(30, false, func(a *PostalAddress) *string { return &a.DistrictType })).
		Field("city", Text(100, false, func(a *PostalAddress) *string { return &a.City })).
		Field("city_type", Text(30, false, func(a *PostalAddress) *string { return &a.CityType })).
		Field("settlement", Text(100, false, func(a *PostalAddress) *string { return &a.Settlement })).
		Field("settlement_type", Text(30, false, func(a *PostalAddress) *string { return &a.SettlementType })).
		Field("street", Text(200, false, func(a *PostalAddress) *string { return &a.Street })).
		Field("street_type", Text(30, false, func(a *PostalAddress) *string { return &a.StreetType })).
		Field("house", Text(50, false, func(a *PostalAddress) *string { return &a.House })).
		Field("house_type", Text(30, false, func(a *PostalAddress) *string { return &a.HouseType })).
		Field("block", Text(50, false, func(a *PostalAddress) *string { return &a.Block })).
		Field("block_type", Text(30, false, func(a *PostalAddress) *string { return &a.BlockType })).
		Field("flat", Text(50, false, func(a *PostalAddress) *string { return &a.Flat })).
		Field("line", Text(500, false, func(a *PostalAddress) *string { return &a.Line })).
		Field("kladr_id", Text(25, false, func(a *PostalAddress) *string { return &a.KLADRID })).
		Field("oktmo", Text(11, false, func(a *PostalAddress) *string { return &a.OKTMO })).
		Field("fias_level", fiasLevelField(func(a *PostalAddress) *int { return &a.FIASLevel })).
		Field("fias_id", Requisite("invalid_fias_id", "must be a ФИАС id (a UUID) of an address object or a house", validFIASID,
			func(a *PostalAddress) *string { return &a.FIASID }))
})

// validFIASID: a ФИАС id is a UUID.
func validFIASID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// AccountSchema returns the writable fields of an account.
func AccountSchema() *Schema[Account] { return accountSchema() }

var accountSchema = sync.OnceValue(func() *Schema[Account] {
	return NewSchema[Account]("id", "created_at", "updated_at", "version").
		Field("name", Text(250, false, func(a *Account) *string { return &a.Name })).
		Field("type", OneOf(AccountTypes(), func(a *Account) *string { return &a.Type })).
		Field("legal_form", Text(50, false, func(a *Account) *string { return &a.LegalForm })).
		Field("inn", Requisite("invalid_inn", "must be an ИНН of 10 or 12 digits with valid check digits", ValidINN,
			func(a *Account) *string { return &a.INN })).
		Field("kpp", Requisite("invalid_kpp", "must be a КПП: 4 digits, 2 digits or capital letters, 3 digits", ValidKPP,
			func(a *Account) *string { return &a.KPP })).
		Field("ogrn", Requisite("invalid_ogrn", "must be an ОГРН (13 digits) or ОГРНИП (15 digits) with a valid check digit", ValidOGRN,
			func(a *Account) *string { return &a.OGRN })).
		Field("okpo", Requisite("invalid_okpo", "must be an ОКПО of 8 or 10 digits", ValidOKPO,
			func(a *Account) *string { return &a.OKPO })).
		Field("bank_name", Text(250, false, func(a *Account) *string { return &a.BankName })).
		Field("bik", Requisite("invalid_bik", "must be a БИК of 9 digits", ValidBIK, func(a *Account) *string { return &a.BIK })).
		Field("correspondent_account", Requisite("invalid_account", "must be 20 digits", isAccountNumber,
			func(a *Account) *string { return &a.CorrespondentAccount })).
		Field("settlement_account", Requisite("invalid_account", "must be 20 digits", isAccountNumber,
			func(a *Account) *string { return &a.SettlementAccount })).
		Field("legal_address", Object(PostalAddressSchema(), func(a *Account) *PostalAddress { return &a.LegalAddress })).
		Field("actual_address", Object(PostalAddressSchema(), func(a *Account) *PostalAddress { return &a.ActualAddress })).
		Field("phone", Phone(func(a *Account) *string { return &a.Phone })).
		Field("other_phone", Phone(func(a *Account) *string { return &a.OtherPhone })).
		Field("fax", Phone(func(a *Account) *string { return &a.Fax })).
		Field("email", Email(func(a *Account) *string { return &a.Email })).
		Field("other_email", Email(func(a *Account) *string { return &a.OtherEmail })).
		Field("website", Website(func(a *Account) *string { return &a.Website })).
		Field("industry", Text(100, false, func(a *Account) *string { return &a.Industry })).
		Field("description", Text(32_000, true, func(a *Account) *string { return &a.Description })).
		Field("owner_id", ID(func(a *Account) *string { return &a.OwnerID })).
		Field("team_id", Link(func(a *Account) **string { return &a.TeamID })).
		Field("external_ids", ExternalIDs(func(a *Account) *map[string]string { return &a.ExternalIDs }))
})

func isAccountNumber(s string) bool { return len(s) == 20 && allDigits(s) }

// Validate checks the rules across fields: a name is required; a legal
// entity's 10-digit ИНН goes with a КПП and a 13-digit ОГРН, an ИП's
// 12-digit ИНН with no КПП and a 15-digit ОГРНИП; bank accounts are checked
// against the БИК with the Bank of Russia control key.
func (a *Account) Validate() error {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	if a.Name == "" {
		bad("name", "required", "is required")
	}
	switch len(a.INN) {
	case 10:
		if a.KPP == "" {
			bad("kpp", "required", "a legal entity's 10-digit ИНН needs its КПП")
		}
		if a.OGRN != "" && len(a.OGRN) != 13 {
			bad("ogrn", "mismatch", "a legal entity (10-digit ИНН) has a 13-digit ОГРН")
		}
	case 12:
		if a.KPP != "" {
			bad("kpp", "not_allowed", "an individual entrepreneur (12-digit ИНН) has no КПП")
		}
		if a.OGRN != "" && len(a.OGRN) != 15 {
			bad("ogrn", "mismatch", "an individual entrepreneur (12-digit ИНН) has a 15-digit ОГРНИП")
		}
	}
	if (a.CorrespondentAccount != "" || a.SettlementAccount != "") && a.BIK == "" {
		bad("bik", "required", "the bank's БИК is needed to check the accounts")
	}
	if a.BIK != "" && a.CorrespondentAccount != "" && !ValidCorrespondentAccount(a.BIK, a.CorrespondentAccount) {
		bad("correspondent_account", "invalid_check_digit", "the control key does not match the БИК")
	}
	if a.BIK != "" && a.SettlementAccount != "" && !ValidSettlementAccount(a.BIK, a.SettlementAccount) {
		bad("settlement_account", "invalid_check_digit", "the control key does not match the БИК")
	}
	return Invalid(errs)
}

// AccountFilter selects accounts for a list.
type AccountFilter struct {
	ListParams
	Types      []string
	INN        string
	OGRN       string
	KPP        string
	Phone      string // E.164; matches phone, other phone or fax
	Email      string
	ExternalID [2]string // system and id
}

// AccountService keeps accounts.
type AccountService interface {
	Repository[Account]
	// List returns one page of accounts; Query matches the name, ИНН,
	// ОГРН, e-mail and phone. Errors: EINVALID.
	List(ctx context.Context, f AccountFilter) (Page[Account], error)
}

// PartyType is DaData's type of a company: INDIVIDUAL for an individual
// entrepreneur (a 12-digit ИНН), LEGAL otherwise.
func (a Account) PartyType() string {
	if len(a.INN) == 12 {
		return "INDIVIDUAL"
	}
	return "LEGAL"
}

// NameWithForm is the name with its legal form before it («ООО Ромашка»),
// unless the name already begins with it.
func (a Account) NameWithForm() string {
	form := strings.TrimSpace(a.LegalForm)
	if form == "" || strings.HasPrefix(strings.ToUpper(a.Name), strings.ToUpper(form)+" ") || strings.EqualFold(a.Name, form) {
		return a.Name
	}
	return form + " " + a.Name
}
