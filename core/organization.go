package core

import "strings"

// Organization is our company's requisites, printed on every document
// (from config).
type Organization struct {
	Name          string `yaml:"name" json:"name"`             // full name, e.g. ООО «Ромашка»
	ShortName     string `yaml:"short_name" json:"short_name"` // for headers
	INN           string `yaml:"inn" json:"inn"`
	KPP           string `yaml:"kpp" json:"kpp"`
	OGRN          string `yaml:"ogrn" json:"ogrn"` // ОГРН or ОГРНИП
	LegalAddress  string `yaml:"legal_address" json:"legal_address"`
	PostalAddress string `yaml:"postal_address" json:"postal_address"`
	Phone         string `yaml:"phone" json:"phone"`
	Email         string `yaml:"email" json:"email"`
	Bank          struct {
		Name                 string `yaml:"name" json:"name"`
		BIK                  string `yaml:"bik" json:"bik"`
		Account              string `yaml:"account" json:"account"` // расчётный счёт
		CorrespondentAccount string `yaml:"correspondent_account" json:"correspondent_account"`
	} `yaml:"bank" json:"bank"`
	Director        string `yaml:"director" json:"director"`                 // руководитель, signs documents
	ChiefAccountant string `yaml:"chief_accountant" json:"chief_accountant"` // главный бухгалтер
	// VATExempt sellers print «Без налога (НДС)» (ст. 145, 149 НК).
	VATExempt bool `yaml:"vat_exempt" json:"vat_exempt"`
}

// Validate checks the requisites it has with their check digits; an
// empty organization is valid (documents then print «--»).
func (o *Organization) Validate() error {
	var errs []FieldError
	bad := func(f, msg string) { errs = append(errs, FieldError{Field: f, Code: "invalid", Message: msg}) }
	o.INN, o.KPP, o.OGRN = strings.TrimSpace(o.INN), strings.TrimSpace(o.KPP), strings.TrimSpace(o.OGRN)
	if o.INN != "" && !ValidINN(o.INN) {
		bad("inn", "must be an ИНН with valid check digits")
	}
	if o.KPP != "" && !ValidKPP(o.KPP) {
		bad("kpp", "must be a 9-character КПП")
	}
	if len(o.INN) == 10 && o.KPP == "" {
		bad("kpp", "a legal entity's 10-digit ИНН needs its КПП")
	}
	if o.OGRN != "" && !ValidOGRN(o.OGRN) {
		bad("ogrn", "must be an ОГРН (13 digits) or ОГРНИП (15) with a valid check digit")
	}
	b := &o.Bank
	if b.BIK != "" && !ValidBIK(b.BIK) {
		bad("bank.bik", "must be a 9-digit БИК")
	}
	if b.Account != "" && (b.BIK == "" || !ValidSettlementAccount(b.BIK, b.Account)) {
		bad("bank.account", "must be a 20-digit account whose check digit matches the БИК")
	}
	if b.CorrespondentAccount != "" && (b.BIK == "" || !ValidCorrespondentAccount(b.BIK, b.CorrespondentAccount)) {
		bad("bank.correspondent_account", "must be the bank's correspondent account matching the БИК")
	}
	return Invalid(errs)
}
