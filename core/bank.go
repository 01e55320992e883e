package core

import (
	"cmp"
	"slices"
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

// MatchesWords reports whether every query word is the prefix of some word
// of the name, in any order.
func MatchesWords(name, query []string) bool {
	for _, q := range query {
		if !slices.ContainsFunc(name, func(w string) bool { return strings.HasPrefix(w, q) }) {
			return false
		}
	}
	return len(query) > 0
}

// RankBanks orders suggestions: live banks first, then liquidating, then
// liquidated ones; within a state, credit organizations before their
// branches and others, then by name.
func RankBanks(banks []Bank) {
	state := map[string]int{BankActive: 0, BankLiquidating: 1, BankLiquidated: 2}
	kind := func(b Bank) int {
		if k := b.Kind(); k == "BANK" || k == "NKO" {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(banks, func(a, b Bank) int {
		return cmp.Or(cmp.Compare(state[a.Status()], state[b.Status()]), cmp.Compare(kind(a), kind(b)), cmp.Compare(a.Name, b.Name))
	})
}
