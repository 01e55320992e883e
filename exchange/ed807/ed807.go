// Package ed807 decodes the Bank of Russia's BIK directory (ED807, namespace
// urn:cbr-ru:ed:v2.0) one BICDirectoryEntry at a time, so memory stays
// bounded whatever the file's size. Files come in windows-1251 or UTF-8 as
// their declaration says; a declaration that lies about the bytes, a DTD or
// an entity, a wrong root, a truncated file, an over-long value and more
// than MaxEntries entries are refused with the reason.
package ed807

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/crmhub/crmhub/core"
)

// Namespace is the ED807's XML namespace.
const Namespace = "urn:cbr-ru:ed:v2.0"

// MaxEntries bounds a directory: a full one has about 2,000 entries.
const MaxEntries = 100_000

// MaxValue bounds one attribute's value in characters (names are ≤ 160).
const MaxValue = 1000

// Participant is an entry's ParticipantInfo.
type Participant struct {
	NameP, EnglName, RegN, CntrCd, Rgn, Ind, Tnp, Nnp, Adr, PrntBIC string
	DateIn, DateOut, PtType, Srvcs, XchType, UID, Status            string
	// Restrictions are the RstrList codes (URRS, LWRS…) with their dates.
	Restrictions []Restriction
}

// Restriction is a restriction's code and date (YYYY-MM-DD).
type Restriction struct{ Code, Date string }

// SWIFT is one of an entry's SWBICS.
type SWIFT struct {
	Code    string
	Default bool
}

// Account is one of an entry's Accounts.
type Account struct {
	Account, Type, CK, CBRBIC, DateIn, DateOut, Status string
	Restrictions                                       []Restriction
}

// Entry is one BICDirectoryEntry.
type Entry struct {
	BIC         string
	Participant Participant
	SWIFT       []SWIFT
	Accounts    []Account
}

// Decoder reads a directory's entries in order.
type Decoder struct {
	x *xml.Decoder
	// EDDate and BusinessDay are the root's dates and CreationReason
	// why it was made (FCBD: the full directory), set once Next has read
	// the root.
	EDDate, BusinessDay, CreationReason string
	root                                bool
	n                                   int
}

// NewDecoder starts reading a directory from r.
func NewDecoder(r io.Reader) (*Decoder, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read ED807: %w", err)
	}
	if err := core.CheckXMLEncoding(head); err != nil {
		return nil, err
	}
	x := xml.NewDecoder(br)
	x.Strict = true
	x.CharsetReader = core.XMLCharsetReader
	return &Decoder{x: x}, nil
}

// Next returns the next entry, or io.EOF after the last one. Errors say
// what is wrong with the file and where.
func (d *Decoder) Next() (Entry, error) {
	for {
		tok, err := d.x.Token()
		if errors.Is(err, io.EOF) {
			if !d.root {
				return Entry{}, errors.New("not an ED807: no ED807 root element")
			}
			return Entry{}, io.EOF
		}
		if err != nil {
			line, _ := d.x.InputPos()
			return Entry{}, fmt.Errorf("ED807 is not well-formed XML at line %d (a truncated file?): %w", line, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return Entry{}, errors.New("ED807 has a DTD (<!DOCTYPE …>): refused, a directory has none")
		case xml.StartElement:
			if err := d.start(t); err != nil {
				return Entry{}, err
			}
			if t.Name.Local == "BICDirectoryEntry" {
				return d.entry(t)
			}
		}
	}
}

// Root reads up to the root element, so that its dates and reason are
// known before the first entry; Next does it when Root was not called.
func (d *Decoder) Root() error {
	for !d.root {
		tok, err := d.x.Token()
		if errors.Is(err, io.EOF) {
			return errors.New("not an ED807: no ED807 root element")
		}
		if err != nil {
			line, _ := d.x.InputPos()
			return fmt.Errorf("ED807 is not well-formed XML at line %d: %w", line, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errors.New("ED807 has a DTD (<!DOCTYPE …>): refused, a directory has none")
		case xml.StartElement:
			if err := d.start(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// NextBank is Next as the hub keeps a bank (Entry.Bank); ok is false after
// the last one.
func (d *Decoder) NextBank() (b core.Bank, ok bool, err error) {
	e, err := d.Next()
	if errors.Is(err, io.EOF) {
		return core.Bank{}, false, nil
	}
	if err == nil {
		b, err = e.Bank()
	}
	return b, err == nil, err
}

// start checks the root and reads its dates.
func (d *Decoder) start(t xml.StartElement) error {
	if d.root {
		return nil
	}
	if t.Name.Local != "ED807" {
		return fmt.Errorf("not an ED807: the root element is <%s>", t.Name.Local)
	}
	if t.Name.Space != Namespace {
		return fmt.Errorf("not an ED807 of %s: the root's namespace is %q (a damaged copy?)", Namespace, t.Name.Space)
	}
	d.root = true
	d.EDDate = attr(t, "EDDate")
	d.BusinessDay = attr(t, "BusinessDay")
	d.CreationReason = attr(t, "CreationReason")
	if d.EDDate == "" {
		return errors.New("ED807 has no EDDate")
	}
	return nil
}

// entry reads one BICDirectoryEntry whose start element is t.
func (d *Decoder) entry(t xml.StartElement) (Entry, error) {
	if d.n == MaxEntries {
		return Entry{}, fmt.Errorf("ED807 has more than %d entries", MaxEntries)
	}
	d.n++
	e := Entry{BIC: attr(t, "BIC")}
	if len(e.BIC) != 9 || strings.Trim(e.BIC, "0123456789") != "" {
		line, _ := d.x.InputPos()
		return Entry{}, fmt.Errorf("ED807 line %d: BIC %q is not 9 digits", line, e.BIC)
	}
	for {
		tok, err := d.x.Token()
		if err != nil {
			line, _ := d.x.InputPos()
			if errors.Is(err, io.EOF) {
				return Entry{}, fmt.Errorf("ED807 entry %s ends early at line %d (a truncated file?): %w", e.BIC, line, io.ErrUnexpectedEOF)
			}
			return Entry{}, fmt.Errorf("ED807 entry %s is not well-formed XML at line %d: %w", e.BIC, line, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local == "BICDirectoryEntry" {
				return e, nil
			}
		case xml.StartElement:
			if err := d.child(&e, t); err != nil {
				return Entry{}, err
			}
		}
	}
}

// child reads one element inside an entry.
func (d *Decoder) child(e *Entry, t xml.StartElement) error {
	for _, a := range t.Attr {
		if utf8.RuneCountInString(a.Value) > MaxValue {
			line, _ := d.x.InputPos()
			return fmt.Errorf("ED807 entry %s line %d: %s of %s is over %d characters", e.BIC, line, a.Name.Local, t.Name.Local, MaxValue)
		}
	}
	switch t.Name.Local {
	case "ParticipantInfo":
		p := &e.Participant
		p.NameP, p.EnglName, p.RegN, p.CntrCd = attr(t, "NameP"), attr(t, "EnglName"), attr(t, "RegN"), attr(t, "CntrCd")
		p.Rgn, p.Ind, p.Tnp, p.Nnp, p.Adr = attr(t, "Rgn"), attr(t, "Ind"), attr(t, "Tnp"), attr(t, "Nnp"), attr(t, "Adr")
		p.PrntBIC, p.DateIn, p.DateOut = attr(t, "PrntBIC"), attr(t, "DateIn"), attr(t, "DateOut")
		p.PtType, p.Srvcs, p.XchType = attr(t, "PtType"), attr(t, "Srvcs"), attr(t, "XchType")
		p.UID, p.Status = attr(t, "UID"), attr(t, "ParticipantStatus")
		if strings.ContainsRune(p.NameP, utf8.RuneError) {
			return fmt.Errorf("ED807 entry %s: its name %q has U+FFFD replacement characters: the file lost its Cyrillic (a damaged copy)", e.BIC, p.NameP)
		}
	case "RstrList":
		e.Participant.Restrictions = append(e.Participant.Restrictions, Restriction{attr(t, "Rstr"), attr(t, "RstrDate")})
	case "SWBICS":
		e.SWIFT = append(e.SWIFT, SWIFT{Code: attr(t, "SWBIC"), Default: attr(t, "DefaultSWBIC") == "1"})
	case "Accounts":
		e.Accounts = append(e.Accounts, Account{Account: attr(t, "Account"), Type: attr(t, "RegulationAccountType"),
			CK: attr(t, "CK"), CBRBIC: attr(t, "AccountCBRBIC"), DateIn: attr(t, "DateIn"), DateOut: attr(t, "DateOut"),
			Status: attr(t, "AccountStatus")})
	case "AccRstrList":
		if len(e.Accounts) > 0 {
			a := &e.Accounts[len(e.Accounts)-1]
			a.Restrictions = append(a.Restrictions, Restriction{attr(t, "AccRstr"), attr(t, "AccRstrDate")})
		}
	}
	return nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// Full is the ED807's reason for a full directory; others list changes.
const Full = "FCBD"

// Bank is the entry as the hub keeps it: the correspondent account is the
// first live CRSA account, the SWIFT code the default one (or the first),
// the restrictions' codes comma-separated.
func (e Entry) Bank() (core.Bank, error) {
	p := e.Participant
	b := core.Bank{BIC: e.BIC, Name: p.NameP, EnglishName: p.EnglName, RegistrationNumber: p.RegN, Postcode: p.Ind,
		SettlementType: p.Tnp, Settlement: p.Nnp, Address: p.Adr, ParticipantType: p.PtType, ParticipantStatus: p.Status,
		Region: p.Rgn, ParentBIC: p.PrntBIC}
	var err error
	if b.DateIn, err = date(e.BIC, "DateIn", p.DateIn); err != nil {
		return core.Bank{}, err
	}
	if b.DateOut, err = date(e.BIC, "DateOut", p.DateOut); err != nil {
		return core.Bank{}, err
	}
	codes := make([]string, 0, len(p.Restrictions))
	for _, r := range p.Restrictions {
		codes = append(codes, r.Code)
	}
	b.Restrictions = strings.Join(codes, ",")
	for _, s := range e.SWIFT {
		if b.SWIFT == "" || s.Default {
			b.SWIFT = s.Code
		}
	}
	for _, a := range e.Accounts {
		switch {
		case a.Type == "CRSA" && b.CorrespondentAccount == "" && a.Status != "ACDL":
			b.CorrespondentAccount = a.Account
		case a.Type == "TRSA" && a.Status != "ACDL":
			b.TreasuryAccounts = append(b.TreasuryAccounts, a.Account)
		}
	}
	return b, nil
}

func date(bic, name, s string) (core.Date, error) {
	if s == "" {
		return core.Date{}, nil
	}
	d, err := core.ParseDate(s)
	if err != nil {
		return core.Date{}, fmt.Errorf("ED807 entry %s: %s %q is not a date (YYYY-MM-DD)", bic, name, s)
	}
	return d, nil
}
