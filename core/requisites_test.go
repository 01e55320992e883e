package core_test

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func TestRequisitesReferenceExamples(t *testing.T) {
	t.Parallel()
	require.True(t, core.ValidINN("7707083893"))
	require.True(t, core.ValidINN("500100732259"))
	require.True(t, core.ValidOGRN("1027700132195"))
	require.True(t, core.ValidOGRN("304500116000157"))
	require.True(t, core.ValidCorrespondentAccount("044525225", "30101810400000000225"))
	require.True(t, core.ValidSettlementAccount("044525225", "40702810938000012345"))
	require.True(t, core.ValidKPP("773601001"))
	require.True(t, core.ValidKPP("7736AB001"))

	for _, bad := range []string{"", "770708389", "77070838930", "7707083894", "77070838x3", "500100732258", "500100732249"} {
		require.False(t, core.ValidINN(bad), bad)
	}
	for _, bad := range []string{"1027700132194", "2027700132195", "304500116000158", "104500116000157", "10277001321"} {
		require.False(t, core.ValidOGRN(bad), bad)
	}
	for _, bad := range []string{"77360100", "7736ab001", "773601001 ", "77360100A"} {
		require.False(t, core.ValidKPP(bad), bad)
	}
	require.False(t, core.ValidCorrespondentAccount("044525225", "30101810400000000226"))
	require.False(t, core.ValidSettlementAccount("044525226", "40702810938000012345"), "another bank's БИК")
	require.False(t, core.ValidSettlementAccount("044525225", "30101810400000000225"), "a correspondent account is not a settlement account at its own bank")
}

// withINNCheck appends the check digit(s) to 9 or 10 random digits.
func withINNCheck(body string) string {
	w10 := []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	w11 := []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
	w12 := []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
	sum := func(s string, w []int) int {
		n := 0
		for i := range w {
			n += int(s[i]-'0') * w[i]
		}
		return n % 11 % 10
	}
	if len(body) == 9 {
		return body + strconv.Itoa(sum(body, w10))
	}
	body += strconv.Itoa(sum(body, w11))
	return body + strconv.Itoa(sum(body, w12))
}

// TestRequisitesEveryDigitMatters generates valid numbers and checks that
// changing any one digit is caught.
func TestRequisitesEveryDigitMatters(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	caught := 0
	changed := 0
	for range 500 {
		for _, inn := range []string{withINNCheck(digits(9)), withINNCheck(digits(10))} {
			require.True(t, core.ValidINN(inn), inn)
			checkFrom := 9
			if len(inn) == 12 {
				checkFrom = 10
			}
			for i := range inn {
				for d := byte('0'); d <= '9'; d++ {
					if d == inn[i] {
						continue
					}
					bad := inn[:i] + string(d) + inn[i+1:]
					if i >= checkFrom {
						require.False(t, core.ValidINN(bad), "a changed check digit %d of %s", i, inn)
						continue
					}
					// mod 11 then mod 10 lets a change slip only when the
					// remainder moves between 0 and 10.
					changed++
					if !core.ValidINN(bad) {
						caught++
					}
				}
			}
		}
		// Settlement accounts: compute the key with step 4 of the reference.
		bik := "04" + digits(7)
		acc := []byte(digits(20))
		acc[8] = '0'
		s := 0
		for i, c := range []byte(bik[6:] + string(acc)) {
			s += int(c-'0') * []int{7, 1, 3}[i%3] % 10
		}
		acc[8] = byte('0' + (s%10)*3%10)
		require.True(t, core.ValidSettlementAccount(bik, string(acc)), "%s %s", bik, acc)
		for i := range acc {
			bad := append([]byte(nil), acc...)
			bad[i] = byte('0' + (int(bad[i]-'0')+1+r.IntN(9))%10)
			require.False(t, core.ValidSettlementAccount(bik, string(bad)), "digit %d of %s", i, acc)
		}
	}
	require.Greater(t, float64(caught)/float64(changed), 0.85, "single-digit errors caught: %d of %d", caught, changed)
}
