package ed807_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/exchange/ed807"
)

type counts struct{ entries, accounts, swift, rstr, accRstr int }

func decodeAll(t *testing.T, r io.Reader) (*ed807.Decoder, []ed807.Entry, error) {
	t.Helper()
	d, err := ed807.NewDecoder(r)
	if err != nil {
		return nil, nil, err
	}
	var out []ed807.Entry
	for {
		e, err := d.Next()
		if errors.Is(err, io.EOF) {
			return d, out, nil
		}
		if err != nil {
			return d, out, err
		}
		out = append(out, e)
	}
}

func count(entries []ed807.Entry) counts {
	var c counts
	c.entries = len(entries)
	for _, e := range entries {
		c.accounts += len(e.Accounts)
		c.swift += len(e.SWIFT)
		c.rstr += len(e.Participant.Restrictions)
		for _, a := range e.Accounts {
			c.accRstr += len(a.Restrictions)
		}
	}
	return c
}

// TestRealFiles: the full directories of testdata/SOURCES.md, with the
// counts it states.
func TestRealFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, edDate, day string
		want              counts
	}{
		{"20220630_ED807_full.xml", "2022-06-29", "2022-06-30", counts{1725, 1884, 353, 339, 96}},
		{"20220819_ED807_full.xml", "2022-08-18", "2022-08-19", counts{1800, 1959, 351, 338, 75}},
	} {
		f, err := os.Open("testdata/" + tc.file)
		require.NoError(t, err)
		start := time.Now()
		d, entries, err := decodeAll(t, f)
		f.Close()
		require.NoError(t, err, tc.file)
		t.Logf("%s: %d entries in %s (%.0f entries/s)", tc.file, len(entries), time.Since(start),
			float64(len(entries))/time.Since(start).Seconds())
		require.Equal(t, tc.want, count(entries), tc.file)
		require.Equal(t, tc.edDate, d.EDDate)
		require.Equal(t, tc.day, d.BusinessDay)
		for _, e := range entries {
			if e.BIC != "044525225" {
				continue
			}
			require.Equal(t, "ПАО СБЕРБАНК", e.Participant.NameP)
			require.Equal(t, "Москва", e.Participant.Nnp)
			require.Equal(t, "20", e.Participant.PtType)
			require.Equal(t, "30101810400000000225", e.Accounts[0].Account)
			require.Equal(t, "CRSA", e.Accounts[0].Type)
			require.Equal(t, ed807.SWIFT{Code: "SABRRUMM", Default: true}, e.SWIFT[0])
		}
	}
}

// TestDamagedFile: the copy whose namespace was removed and whose Cyrillic
// became U+FFFD is refused at its root, not loaded with lost names.
func TestDamagedFile(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/20230818_ED807_full.xml")
	require.NoError(t, err)
	defer f.Close()
	_, entries, err := decodeAll(t, f)
	require.ErrorContains(t, err, `the root's namespace is ""`)
	require.Empty(t, entries)

	// With its namespace back, the lost Cyrillic is refused by name.
	data, err := os.ReadFile("testdata/20230818_ED807_full.xml")
	require.NoError(t, err)
	fixed := strings.Replace(string(data), "<ED807 ", `<ED807 xmlns="urn:cbr-ru:ed:v2.0" `, 1)
	_, _, err = decodeAll(t, strings.NewReader(fixed))
	require.ErrorContains(t, err, "U+FFFD replacement characters")
}

func TestHostileInput(t *testing.T) {
	t.Parallel()
	const root = `<ED807 xmlns="urn:cbr-ru:ed:v2.0" EDDate="2022-06-29" BusinessDay="2022-06-30">`
	const entry = `<BICDirectoryEntry BIC="044525225"><ParticipantInfo NameP="ПАО СБЕРБАНК"/></BICDirectoryEntry>`
	for name, tc := range map[string]struct{ in, want string }{
		"not xml":    {"hello", "no ED807 root"},
		"wrong root": {`<ValCurs Date="01.01.2020"/>`, "the root element is <ValCurs>"},
		"dtd":        {`<?xml version="1.0"?><!DOCTYPE ED807 [<!ENTITY e "x">]>` + root + entry + `</ED807>`, "DTD"},
		"entity":     {root + `<BICDirectoryEntry BIC="044525225"><ParticipantInfo NameP="&e;"/></BICDirectoryEntry></ED807>`, "not well-formed"},
		"truncated":  {root + "\n" + `<BICDirectoryEntry BIC="044525225">` + "\n<ParticipantInfo", "line 3"},
		"bad bic":    {root + `<BICDirectoryEntry BIC="12"/></ED807>`, "not 9 digits"},
		"long value": {root + `<BICDirectoryEntry BIC="044525225"><ParticipantInfo NameP="` + strings.Repeat("Я", ed807.MaxValue+1) + `"/></BICDirectoryEntry></ED807>`, "over 1000 characters"},
		"lying declaration": {`<?xml version="1.0" encoding="windows-1251"?>` + root + entry + `</ED807>`,
			"declares encoding windows-1251 but its bytes are UTF-8"},
		"not utf-8": {root + "<BICDirectoryEntry BIC=\"044525225\"><ParticipantInfo NameP=\"\xcf\xc0\xce\"/></BICDirectoryEntry></ED807>",
			"bytes are not UTF-8"},
	} {
		_, _, err := decodeAll(t, strings.NewReader(tc.in))
		require.ErrorContains(t, err, tc.want, name)
	}
	_, entries, err := decodeAll(t, strings.NewReader(root+entry+"</ED807>"))
	require.NoError(t, err)
	require.Equal(t, "ПАО СБЕРБАНК", entries[0].Participant.NameP)
}

// TestTooManyEntries: a directory past MaxEntries stops there, read one
// entry at a time.
func TestTooManyEntries(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, `<ED807 xmlns="urn:cbr-ru:ed:v2.0" EDDate="2022-06-29">`)
		for range ed807.MaxEntries + 1 {
			if _, err := io.WriteString(pw, `<BICDirectoryEntry BIC="044525225"/>`); err != nil {
				return
			}
		}
		pw.Close()
	}()
	_, _, err := decodeAll(t, pr)
	pr.Close()
	require.ErrorContains(t, err, "more than 100000 entries")
}

// TestBank: an entry as the hub keeps it, the root read before the first
// entry.
func TestBank(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/20220630_ED807_full.xml")
	require.NoError(t, err)
	defer f.Close()
	d, err := ed807.NewDecoder(f)
	require.NoError(t, err)
	require.NoError(t, d.Root())
	require.Equal(t, ed807.Full, d.CreationReason)
	require.Equal(t, "2022-06-29", d.EDDate)
	b, ok, err := d.NextBank()
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "041280103", b.BIC)
	require.Equal(t, "УФК по Астраханской области", b.Name)
	require.Equal(t, "TREASURY", b.Kind())
	require.Equal(t, "г. Астрахань", b.PaymentCity())
	require.Equal(t, "414056, г Астрахань, ул Латышева, 6 Г", b.UnrestrictedAddress())
	require.Contains(t, b.TreasuryAccounts, "40116810100000010010")
	require.Empty(t, b.CorrespondentAccount)
	require.Equal(t, "2010-06-08", b.DateIn.String())
	n := 1
	for {
		_, ok, err := d.NextBank()
		require.NoError(t, err)
		if !ok {
			break
		}
		n++
	}
	require.Equal(t, 1725, n)

	bad := `<?xml version="1.0" encoding="UTF-8"?><ED807 xmlns="urn:cbr-ru:ed:v2.0" EDDate="2022-06-29">` +
		`<BICDirectoryEntry BIC="044525225"><ParticipantInfo NameP="Банк" DateIn="29.06.2022"/></BICDirectoryEntry></ED807>`
	d, err = ed807.NewDecoder(strings.NewReader(bad))
	require.NoError(t, err)
	_, _, err = d.NextBank()
	require.ErrorContains(t, err, `entry 044525225: DateIn "29.06.2022" is not a date`)
}
