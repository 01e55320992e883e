package xlsx

import (
	"archive/zip"
	"io"
)

// sharedStrings is what counting rows needs of a workbook's shared string
// table: which strings are blank.
type sharedStrings struct {
	blanks []uint64 // bit i: string i is blank
	n      int
}

// maxSharedStrings bounds the strings tracked (any beyond is not blank).
const maxSharedStrings = 1 << 24

func (s *sharedStrings) blank(i int) bool {
	return i >= 0 && i/64 < len(s.blanks) && s.blanks[i/64]&(1<<(i%64)) != 0
}

func (s *sharedStrings) add(blank bool) {
	if blank && s.n < maxSharedStrings {
		for len(s.blanks) <= s.n/64 {
			s.blanks = append(s.blanks, 0)
		}
		s.blanks[s.n/64] |= 1 << (s.n % 64)
	}
	s.n++
}

// load reads the table f (nil: none) once, as a stream: it marks the blank
// strings and returns the texts of the strings in need.
func (s *sharedStrings) load(f *zip.File, need map[int]bool, limit int64) map[int]string {
	texts := map[int]string{}
	if f == nil {
		return texts
	}
	r, err := f.Open()
	if err != nil {
		return texts // Open reports the damage
	}
	defer r.Close()
	sc := newTagScanner(io.LimitReader(r, limit))
	var text []byte
	inSI, inT, inRPh := false, false, false
	onText := func(b []byte) {
		if inT && len(text) < maxCellText {
			text = append(text, b...)
		}
	}
	for {
		t, ok := sc.next(onText)
		if !ok {
			return texts
		}
		if b, ok := cdata(t); ok {
			onText(b)
			continue
		}
		name, end, empty := tagName(t)
		switch string(name) {
		case "si":
			if !end {
				inSI, text = true, text[:0]
			}
			if end || empty {
				if need[s.n] {
					texts[s.n] = unescape(text)
				}
				s.add(blankText(text))
				inSI = false
			}
		case "t":
			inT = inSI && !inRPh && !end && !empty
		case "rPh":
			inRPh = !end && !empty
		}
	}
}
