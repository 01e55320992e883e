package core_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/crmhub/crmhub/core"
)

func BenchmarkNormalizePhone(b *testing.B) {
	for _, in := range []string{"8 (912) 345-67-89", "+79123456789", "+7 912 345 67 89"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				if _, ok := core.NormalizePhone(in); !ok {
					b.Fatal(in)
				}
			}
		})
	}
}

func BenchmarkPhonenumbersParseClean(b *testing.B) {
	for b.Loop() {
		n, _ := phonenumbers.Parse("+79123456789", "RU")
		_ = phonenumbers.IsPossibleNumber(n)
	}
}

// TestShortDigitsAreNoPhoneNumbers: every string of one to five digits
// (extensions, short codes), which NormalizePhone refuses without the
// library, is refused by the library too.
func TestShortDigitsAreNoPhoneNumbers(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 5; n++ {
		limit := 1
		for range n {
			limit *= 10
		}
		for i := range limit {
			in := fmt.Sprintf("%0*d", n, i)
			_, ok := core.NormalizePhone(in)
			num, err := phonenumbers.Parse(in, core.DefaultPhoneRegion)
			if ok || err == nil && phonenumbers.IsPossibleNumber(num) {
				t.Fatalf("%q: NormalizePhone %v, library possible %v", in, ok, err == nil && phonenumbers.IsPossibleNumber(num))
			}
		}
	}
}

// TestPhoneFastPathAgreesWithTheLibrary feeds random numbers in the shapes
// the fast path takes (and near misses it must leave alone) to both
// NormalizePhone and the phonenumbers library directly.
func TestPhoneFastPathAgreesWithTheLibrary(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	formats := []func(string) string{
		func(d string) string { return d },
		func(d string) string { return d[:1] + " (" + d[1:4] + ") " + d[4:7] + "-" + d[7:9] + "-" + d[9:] },
		func(d string) string { return d[:3] + "." + d[3:6] + "." + d[6:] },
	}
	for i := range 20000 {
		var in string
		switch i % 6 {
		case 0:
			in = "8" + digits(10)
		case 1:
			in = "+7" + digits(10)
		case 2:
			in = "7" + digits(10)
		case 3:
			in = digits(10)
		case 4:
			in = "+" + digits(11)
		default:
			in = digits(9 + r.IntN(4))
		}
		in = formats[r.IntN(len(formats))](in)
		got, ok := core.NormalizePhone(in)
		want, wantOK := "", false
		if num, err := phonenumbers.Parse(in, core.DefaultPhoneRegion); err == nil && phonenumbers.IsPossibleNumber(num) {
			want, wantOK = phonenumbers.Format(num, phonenumbers.E164), true
		}
		if got != want || ok != wantOK {
			t.Fatalf("%q: NormalizePhone = %q %v, library = %q %v", in, got, ok, want, wantOK)
		}
	}
}
