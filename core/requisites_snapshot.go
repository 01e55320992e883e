package core

import (
	"strings"
	"time"
)

// PartyRequisites are one side of a document as it is printed.
type PartyRequisites struct {
	Name        string `json:"name"`
	INN         string `json:"inn"`
	KPP         string `json:"kpp"`
	OKPO        string `json:"okpo"`
	Address     string `json:"address"`
	Phone       string `json:"phone"`
	BankName    string `json:"bank_name"`
	BIK         string `json:"bik"`
	Account     string `json:"account"`
	CorrAccount string `json:"correspondent_account"`
}

// Requisites are a document's parties frozen when it is issued (leaves
// draft): its PDFs print them, so a later edit of the account or of our
// organization does not rewrite an issued счёт-фактура.
type Requisites struct {
	Seller Organization    `json:"seller"`
	Buyer  PartyRequisites `json:"buyer"`
	// Shipper and Consignee of goods: ourselves and the buyer (at its
	// actual address when it has one).
	Shipper   PartyRequisites `json:"shipper"`
	Consignee PartyRequisites `json:"consignee"`
	FrozenAt  time.Time       `json:"frozen_at"`
}

// String is the address in one line as documents print it: the line as
// entered, else its parts joined — with their type words where they are
// known («125009, г. Москва, ул. Тверская, д. 7, кв. 5», «Московская
// обл.», «Респ. Татарстан»), the region left out when it is the city
// itself (Москва, Санкт-Петербург, Севастополь: given twice, it prints
// once).
func (a PostalAddress) String() string {
	if a.Line != "" {
		return a.Line
	}
	region, city := docPart(a.RegionType, a.Region), docPart(a.CityType, a.City)
	if sameName(a.Region, a.City) { // the one that says more stays
		if len(region) >= len(city) {
			city = ""
		} else {
			region = ""
		}
	}
	flat := a.Flat
	if flat != "" && a.FIASID != "" && startsWithDigit(flat) {
		flat = "кв. " + flat
	}
	house := docPart(a.HouseType, a.House)
	if block := docPart(a.BlockType, a.Block); block != "" {
		house = strings.TrimSpace(house + ", " + block)
	}
	return joinParts([]string{a.Postcode, region, docPart(a.DistrictType, a.District), city,
		docPart(a.SettlementType, a.Settlement), docPart(a.StreetType, a.Street), house, flat})
}

// docPart is a part with its type as documents write it: abbreviations
// with a dot («г.», «ул.», «д.», «корп.», «обл.», «Респ.»), hyphenated ones
// and whole words as they are («р-н», «пр-кт», «мкр», «проезд»); after an
// adjective where that type follows it.
func docPart(typ, name string) string {
	if name == "" || typ == "" {
		return name
	}
	t := docType(typ)
	if typeAfter(typ, name) {
		return name + " " + t
	}
	return t + " " + name
}

// docTypes are the type words documents write otherwise than with a dot.
var docTypes = map[string]string{"к": "корп.", "корп": "корп.", "мкр": "мкр", "пгт": "пгт", "край": "край", "АО": "АО",
	"Аобл": "Аобл", "проезд": "проезд", "аллея": "аллея", "снт": "снт", "рп": "рп", "городок": "городок"}

func docType(t string) string {
	t = strings.TrimSuffix(t, ".")
	if d, ok := docTypes[t]; ok {
		return d
	}
	if strings.Contains(t, "-") || len([]rune(t)) > 5 {
		return t
	}
	return t + "."
}

// sameName reports whether two parts name the same place whatever type
// words they carry («г. Москва» and «Москва»).
func sameName(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	strip := func(s string) string {
		var keep []string
		for _, w := range SearchWords(s) {
			if !addressTypeWords[w] {
				keep = append(keep, w)
			}
		}
		return strings.Join(keep, " ")
	}
	return strip(a) == strip(b)
}

// AccountRequisites are an account as a document's party (nil: unknown).
// Its legal address, else its actual one.
func AccountRequisites(a *Account) PartyRequisites {
	if a == nil {
		return PartyRequisites{}
	}
	addr := a.LegalAddress.String()
	if addr == "" {
		addr = a.ActualAddress.String()
	}
	return PartyRequisites{Name: a.Name, INN: a.INN, KPP: a.KPP, OKPO: a.OKPO, Address: addr, Phone: a.Phone,
		BankName: a.BankName, BIK: a.BIK, Account: a.SettlementAccount, CorrAccount: a.CorrespondentAccount}
}

// OrganizationRequisites is our organization as a party.
func OrganizationRequisites(o Organization) PartyRequisites {
	return PartyRequisites{Name: o.Name, INN: o.INN, KPP: o.KPP, Address: o.LegalAddress, Phone: o.Phone,
		BankName: o.Bank.Name, BIK: o.Bank.BIK, Account: o.Bank.Account, CorrAccount: o.Bank.CorrespondentAccount}
}

// FreezeRequisites makes the snapshot of a document issued at now.
func FreezeRequisites(seller Organization, buyer *Account, now time.Time) *Requisites {
	r := &Requisites{Seller: seller, Buyer: AccountRequisites(buyer), Shipper: OrganizationRequisites(seller), FrozenAt: now.UTC()}
	r.Consignee = r.Buyer
	if buyer != nil && buyer.ActualAddress.String() != "" {
		r.Consignee.Address = buyer.ActualAddress.String()
	}
	return r
}
