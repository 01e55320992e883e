package core

import (
	"context"
	"strings"
	"unicode"
)

// Bank is one participant of the Bank of Russia's BIK directory (ED807),
// as a bank lookup answers it.
type Bank struct {
	BIC                  string `json:"bic"`
	Name                 string `json:"name"`         // NameP, the payment name
	EnglishName          string `json:"english_name"` // EnglName
	RegistrationNumber   string `json:"registration_number"`
	CorrespondentAccount string `json:"correspondent_account"`
	SWIFT                string `json:"swift"`
	Postcode             string `json:"postcode"`
	SettlementType       string `json:"settlement_type"` // Tnp: «г», «п»…
	Settlement           string `json:"settlement"`      // Nnp
	Address              string `json:"address"`         // Adr
	ParticipantType      string `json:"participant_type"`
	ParticipantStatus    string `json:"participant_status"`
	DateIn               Date   `json:"date_in"`
	DateOut              Date   `json:"date_out"`
	Restrictions         string `json:"restrictions"` // codes, comma-separated
	Region               string `json:"region"`       // Rgn, the ОКАТО region code
	ParentBIC            string `json:"parent_bic"`   // PrntBIC: a branch's head office
	// TreasuryAccounts are a treasury's single treasury accounts (TRSA).
	TreasuryAccounts []string `json:"treasury_accounts"`
	// DirectoryDate is the date of the newest directory that listed the
	// bank: a bank the next directory no longer lists left it that day.
	DirectoryDate Date `json:"directory_date"`
}

// Bank statuses, DaData's words.
const (
	BankActive      = "ACTIVE"
	BankLiquidating = "LIQUIDATING"
	BankLiquidated  = "LIQUIDATED"
)

// Status is the bank's state: LIQUIDATED once it left the directory
// (DateOut) or its participation was deleted (PSDL); LIQUIDATING under a
// bankruptcy administrator (participant type 90) or with its licence
// revoked (restriction LWRS); ACTIVE otherwise.
func (b Bank) Status() string {
	switch {
	case !b.DateOut.IsZero() || b.ParticipantStatus == "PSDL":
		return BankLiquidated
	case b.ParticipantType == "90" || strings.Contains(","+b.Restrictions+",", ",LWRS,"):
		return BankLiquidating
	}
	return BankActive
}

// Kind is DaData's opf.type for the participant type (PtType): BANK,
// BANK_BRANCH, NKO, NKO_BRANCH, RKC, CBR, TREASURY or OTHER. A credit
// organization whose name says НКО is an NKO.
func (b Bank) Kind() string {
	nko := strings.Contains(strings.ToUpper(b.Name), "НКО")
	switch b.ParticipantType {
	case "20":
		if nko {
			return "NKO"
		}
		return "BANK"
	case "30":
		if nko {
			return "NKO_BRANCH"
		}
		return "BANK_BRANCH"
	case "10", "16":
		return "RKC"
	case "00", "12", "15", "40":
		return "CBR"
	case "51", "52":
		return "TREASURY"
	}
	return "OTHER"
}

// SearchWords splits a name or a query into the lower-case words a lookup
// matches, ё read as е, punctuation («», quotes, dashes) dropped.
func SearchWords(s string) []string {
	s = strings.ReplaceAll(strings.ToLower(s), "ё", "е")
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Rank orders suggestions, lowest first: live banks, then liquidating, then
// liquidated ones; within a state, credit organizations before their
// branches and others (the store breaks ties by name).
func (b Bank) Rank() int {
	state := map[string]int{BankActive: 0, BankLiquidating: 2, BankLiquidated: 4}[b.Status()]
	if k := b.Kind(); k == "BANK" || k == "NKO" {
		return state
	}
	return state + 1
}

// SearchText is what a bank lookup matches: the words of its payment and
// English names, its settlement, SWIFT code, БИК, registration number and
// correspondent account, each preceded by a space, so that " "+prefix is
// in it when prefix begins one of its words.
func (b Bank) SearchText() string {
	return " " + strings.Join(SearchWords(strings.Join([]string{b.Name, b.EnglishName, b.Settlement, b.SWIFT, b.BIC,
		b.RegistrationNumber, b.CorrespondentAccount}, " ")), " ")
}

// PaymentCity is the settlement as a payment order names it: «г. Москва».
func (b Bank) PaymentCity() string {
	switch {
	case b.Settlement == "":
		return ""
	case b.SettlementType == "":
		return b.Settlement
	}
	return strings.TrimSuffix(b.SettlementType, ".") + ". " + b.Settlement
}

// AddressValue is the bank's address as DaData's value writes it: the
// settlement, then the street address («г Москва, ул Вавилова, д 19»).
func (b Bank) AddressValue() string {
	place := strings.TrimSpace(b.SettlementType + " " + b.Settlement)
	switch {
	case place == "":
		return b.Address
	case b.Address == "":
		return place
	}
	return place + ", " + b.Address
}

// UnrestrictedAddress is AddressValue after the postcode.
func (b Bank) UnrestrictedAddress() string {
	if v := b.AddressValue(); b.Postcode != "" && v != "" {
		return b.Postcode + ", " + v
	}
	return b.AddressValue()
}

// MaxBankSuggestions bounds one lookup's answer, as DaData's does.
const MaxBankSuggestions = 20

// BankQuery is a bank lookup: the text typed (a БИК, a correspondent
// account or a registration number by their first digits; otherwise the
// prefixes of the words of a name, a SWIFT code or a city, in any order),
// the states and kinds wanted (none: all) and how many to answer.
type BankQuery struct {
	Query    string
	Statuses []string
	Kinds    []string
	Count    int
}

// BankImport is a full directory being loaded: its date and the business
// day it is for.
type BankImport struct {
	Date, BusinessDay Date
}

// BankImportResult says what a directory's import changed.
type BankImportResult struct {
	Banks   int `json:"banks"`   // in the directory
	Added   int `json:"added"`   // not known before
	Removed int `json:"removed"` // known before, no longer listed: liquidated since the directory's date
}

// BankDirectory keeps the Bank of Russia's BIK directory.
type BankDirectory interface {
	// ReplaceBanks loads a full directory, reading banks from next until
	// it returns ok false; lookups see the previous directory until it is
	// all in. A bank the directory no longer lists is kept, liquidated on
	// its date. A directory older than the loaded one is refused
	// (ECONFLICT).
	ReplaceBanks(ctx context.Context, dir BankImport, next func() (Bank, bool, error)) (BankImportResult, error)
	// SuggestBanks answers a lookup, best first. Errors: EINVALID.
	SuggestBanks(ctx context.Context, q BankQuery) ([]Bank, error)
	// FindBanks returns the banks a БИК, a SWIFT code, a registration
	// number or a correspondent account names exactly.
	FindBanks(ctx context.Context, id string, count int) ([]Bank, error)
}
