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
// entered, else its parts joined.
func (a PostalAddress) String() string {
	if a.Line != "" {
		return a.Line
	}
	var keep []string
	for _, p := range []string{a.Postcode, a.Region, a.City, a.Street, a.House, a.Flat} {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ", ")
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
