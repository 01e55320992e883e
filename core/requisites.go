package core

// Russian company requisites (ИНН, КПП, ОГРН, БИК, ОКПО, bank accounts)
// and their check digits. All are digit strings: leading zeros matter.

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func weighted(s string, weights []int) int {
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return sum
}

var (
	inn10Weights  = []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	inn12Weights1 = []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
	inn12Weights2 = []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
)

// ValidINN checks an ИНН: 10 digits for a legal entity, 12 for an
// individual or ИП, with their check digits.
func ValidINN(s string) bool {
	if !allDigits(s) {
		return false
	}
	switch len(s) {
	case 10:
		return weighted(s, inn10Weights)%11%10 == int(s[9]-'0')
	case 12:
		return weighted(s, inn12Weights1)%11%10 == int(s[10]-'0') &&
			weighted(s, inn12Weights2)%11%10 == int(s[11]-'0')
	}
	return false
}

// ValidKPP checks a КПП's shape: 4 digits, 2 digits or capital Latin
// letters, 3 digits. It has no check digit.
func ValidKPP(s string) bool {
	if len(s) != 9 || !allDigits(s[:4]) || !allDigits(s[6:]) {
		return false
	}
	for _, c := range s[4:6] {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// ValidOGRN checks an ОГРН (13 digits, first 1 or 5) or an ОГРНИП (15
// digits, first 3) with its check digit.
func ValidOGRN(s string) bool {
	if !allDigits(s) {
		return false
	}
	switch len(s) {
	case 13:
		return (s[0] == '1' || s[0] == '5') && mod(s[:12], 11)%10 == int(s[12]-'0')
	case 15:
		return s[0] == '3' && mod(s[:14], 13)%10 == int(s[14]-'0')
	}
	return false
}

// mod returns a decimal digit string modulo m without overflow.
func mod(s string, m int) int {
	r := 0
	for i := 0; i < len(s); i++ {
		r = (r*10 + int(s[i]-'0')) % m
	}
	return r
}

// ValidBIK checks a БИК's shape: 9 digits.
func ValidBIK(s string) bool { return len(s) == 9 && allDigits(s) }

// ValidOKPO checks an ОКПО's shape: 8 digits (legal entities) or 10
// (individual entrepreneurs).
func ValidOKPO(s string) bool { return (len(s) == 8 || len(s) == 10) && allDigits(s) }

var accountWeights = []int{7, 1, 3, 7, 1, 3, 7, 1, 3, 7, 1, 3, 7, 1, 3, 7, 1, 3, 7, 1, 3, 7, 1}

// ValidSettlementAccount checks a 20-digit settlement account (расчётный
// счёт) against its bank's БИК with the Bank of Russia control key.
func ValidSettlementAccount(bik, account string) bool {
	return ValidBIK(bik) && len(account) == 20 && allDigits(account) && accountSum(bik[6:]+account)%10 == 0
}

// ValidCorrespondentAccount checks a bank's 20-digit correspondent account
// at the Bank of Russia against the bank's БИК.
func ValidCorrespondentAccount(bik, account string) bool {
	return ValidBIK(bik) && len(account) == 20 && allDigits(account) && accountSum("0"+bik[4:6]+account)%10 == 0
}

func accountSum(s23 string) int {
	sum := 0
	for i, w := range accountWeights {
		sum += int(s23[i]-'0') * w % 10
	}
	return sum
}
