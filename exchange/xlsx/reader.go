package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
)

// Limits bound what a workbook may make the hub do: xlsx files are zip
// archives from strangers.
type Limits struct {
	// MaxUnzipped bounds the archive's unpacked size (zip bombs). Default 1 GiB.
	MaxUnzipped int64
	// MaxRows bounds a sheet's data rows, below its header (CountRows
	// counts them before an import writes anything); MaxColumns bounds a
	// row. Defaults 1,000,000 and 200.
	MaxRows, MaxColumns int
	// MaxCell bounds one cell's text. Default 32,767 (Excel's own limit).
	MaxCell int
}

func (l *Limits) setDefaults() {
	if l.MaxUnzipped <= 0 {
		l.MaxUnzipped = 1 << 30
	}
	if l.MaxRows <= 0 {
		l.MaxRows = 1_000_000
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = 200
	}
	if l.MaxCell <= 0 {
		l.MaxCell = 32_767
	}
}

// Book is an opened workbook.
type Book struct {
	f   *excelize.File
	lim Limits
}

// Open opens a workbook, telling what it is when it is not one.
func Open(r io.Reader, lim Limits) (*Book, error) {
	lim.setDefaults()
	head := make([]byte, 8)
	n, _ := io.ReadFull(r, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, core.Errorf(core.EINVALID, "this is an Excel 97–2003 (.xls) workbook: save it as .xlsx (Excel workbook) and import that")
	case !bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, core.Errorf(core.EINVALID, "this is not an .xlsx workbook (it looks like text or CSV): save it as .xlsx and import that")
	}
	data, err := io.ReadAll(io.MultiReader(bytes.NewReader(head), r))
	if err != nil {
		return nil, err
	}
	xmlLimit := min(lim.MaxUnzipped, xmlInMemory)
	if inMemory(data, xmlLimit) > min(lim.MaxUnzipped, maxInMemory) {
		return nil, core.Errorf(core.EINVALID, "the workbook's parts besides its sheets unpack to more than %d bytes", min(lim.MaxUnzipped, maxInMemory))
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: lim.MaxUnzipped, UnzipXMLSizeLimit: xmlLimit})
	if err != nil {
		if errors.Is(err, excelize.ErrWorkbookFileFormat) || strings.Contains(err.Error(), "zip") {
			return nil, core.Errorf(core.EINVALID, "the workbook is damaged or not an .xlsx file: %v", err)
		}
		if strings.Contains(err.Error(), "size") {
			return nil, core.Errorf(core.EINVALID, "the workbook unpacks to more than %d bytes", lim.MaxUnzipped)
		}
		return nil, core.Errorf(core.EINVALID, "the workbook cannot be read: %v", err)
	}
	return &Book{f: f, lim: lim}, nil
}

// Close releases the workbook (and its temporary files).
func (b *Book) Close() error { return b.f.Close() }

// Sheets lists the sheet names.
func (b *Book) Sheets() []string { return b.f.GetSheetList() }

// Row is one data row: its number in the sheet (1-based) and its raw
// cells (formulas as their cached values, numbers unformatted).
type Row struct {
	Number int
	Cells  []string
}

// Rows streams a sheet's rows ("" for the first sheet), never the whole
// sheet in memory; each calls fn until it returns an error or the sheet
// ends. A row wider than the limit is passed with Cells nil and Wide set.
func (b *Book) Rows(sheet string, fn func(r Row, wide bool) error) error {
	if sheet == "" {
		sheet = b.f.GetSheetName(0)
	}
	if idx, err := b.f.GetSheetIndex(sheet); err != nil || idx < 0 {
		return core.Errorf(core.EINVALID, "the workbook has no sheet %q (it has %s)", sheet, strings.Join(b.Sheets(), ", "))
	}
	rows, err := b.f.Rows(sheet)
	if err != nil {
		return core.Errorf(core.EINVALID, "sheet %q cannot be read: %v", sheet, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return core.Errorf(core.EINVALID, "row %d cannot be read: %v", n, err)
		}
		if len(cells) > b.lim.MaxColumns {
			if err := fn(Row{Number: n}, true); err != nil {
				return err
			}
			continue
		}
		if err := fn(Row{Number: n, Cells: cells}, false); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		return core.Errorf(core.EINVALID, "the sheet cannot be read: %v", err)
	}
	return nil
}

// normHeader makes headers comparable: lower case, ё as е, punctuation
// and spacing dropped.
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.ReplaceAll(s, "ё", "е")) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Mapping says which column holds which field.
type Mapping struct {
	Columns []Column // the entity's column for each sheet column (Key "" for unmapped)
	// Unmapped names the headers no field matched.
	Unmapped  []string
	HeaderRow int
}

// headerIndex maps normalized names to an entity's columns. The built-in
// columns come first, then the custom fields': a custom label never takes
// a header a built-in column answers to. Within each, own headers and keys
// win over synonyms (a custom field's English label).
func headerIndex(cols []Column) map[string]Column {
	idx := map[string]Column{}
	add := func(name string, c Column) {
		if k := normHeader(name); k != "" {
			if _, taken := idx[k]; !taken {
				idx[k] = c
			}
		}
	}
	for _, custom := range []bool{false, true} {
		for _, c := range cols {
			if (c.Custom != nil) == custom {
				add(c.Header, c)
				add(c.Key, c)
			}
		}
		for _, c := range cols {
			if (c.Custom != nil) == custom {
				for _, s := range c.Synonyms {
					add(s, c)
				}
			}
		}
	}
	return idx
}

// lookupHeader finds a header's column: by the header, else by the header
// without the zone an export puts after a date-time column's.
func lookupHeader(idx map[string]Column, header string) (Column, bool) {
	if c, ok := idx[normHeader(header)]; ok {
		return c, true
	}
	if bare, ok := unzoned(header); ok {
		c, ok := idx[normHeader(bare)]
		return c, ok
	}
	return Column{}, false
}

// MatchHeader maps a header row onto the entity's columns and those of
// the custom fields given (custom.<key>, or the field's label in Russian
// or English); explicit maps headers to field keys and wins over the
// automatic match.
func MatchHeader(entity string, header []string, explicit map[string]string, custom ...core.CustomField) (Mapping, error) {
	cols := withCustom(entity, custom)
	if cols == nil {
		return Mapping{}, core.Errorf(core.EINVALID, "%s does not import", entity)
	}
	byKey := map[string]Column{}
	for _, c := range cols {
		byKey[c.Key] = c
	}
	ex := map[string]string{}
	for h, key := range explicit {
		if _, ok := byKey[key]; !ok && key != "" {
			return Mapping{}, core.Invalid([]core.FieldError{{Field: "mapping." + h, Code: "unknown_field", Message: fmt.Sprintf("%s has no field %q", entity, key)}})
		}
		ex[normHeader(h)] = key
	}
	idx := headerIndex(cols)
	m := Mapping{Columns: make([]Column, len(header))}
	used := map[string]bool{}
	for i, h := range header {
		if strings.TrimSpace(h) == "" {
			continue
		}
		n := normHeader(h)
		c, ok := lookupHeader(idx, h)
		if key, given := ex[n]; given {
			c, ok = byKey[key], key != ""
		}
		if !ok || used[c.Key] || c.Key == "created_at" || c.Key == "updated_at" {
			m.Unmapped = append(m.Unmapped, h)
			continue
		}
		used[c.Key] = true
		m.Columns[i] = c
	}
	if len(used) == 0 {
		return m, core.Errorf(core.EINVALID, "no column of the header row (%s) names a field of %s", strings.Join(header, ", "), entity)
	}
	return m, nil
}

// FindHeader reports whether a row looks like the header: at least two
// cells (or the only one) name fields of the entity, built-in or among
// the custom ones given.
func FindHeader(entity string, cells []string, custom ...core.CustomField) bool {
	idx := headerIndex(withCustom(entity, custom))
	hits := 0
	filled := 0
	for _, c := range cells {
		if strings.TrimSpace(c) == "" {
			continue
		}
		filled++
		if _, ok := lookupHeader(idx, c); ok {
			hits++
		}
	}
	return hits >= 2 || hits == 1 && filled == 1
}

// Patch turns a data row into a patch of the mapped fields: values parsed
// by their column's kind, a custom field's by its type into the patch's
// custom object; empty cells left out. Errors name the column.
func (m Mapping) Patch(cells []string, maxCell int) (core.Patch, []core.FieldError) {
	p := core.Patch{}
	var errs []core.FieldError
	nested := map[string]map[string]any{}
	for i, c := range m.Columns {
		if c.Key == "" || i >= len(cells) {
			continue
		}
		raw := strings.TrimSpace(strings.ReplaceAll(cells[i], "\u00a0", " "))
		if raw == "" {
			continue
		}
		if len(raw) > maxCell {
			errs = append(errs, core.FieldError{Field: c.Header, Code: "too_long", Message: fmt.Sprintf("a cell of more than %d bytes", maxCell)})
			continue
		}
		if c.Custom != nil {
			v, ferrs := customText(c, raw)
			if len(ferrs) > 0 {
				errs = append(errs, ferrs...)
				continue
			}
			if nested["custom"] == nil {
				nested["custom"] = map[string]any{}
			}
			nested["custom"][c.Custom.Key] = v
			continue
		}
		v, err := parseValue(c.Kind, raw)
		if err != nil {
			errs = append(errs, core.FieldError{Field: c.Header, Code: "invalid", Message: err.Error()})
			continue
		}
		if c.Choices != nil {
			code, ok := c.Choices.Lookup(raw)
			if !ok {
				errs = append(errs, core.FieldError{Field: c.Header, Code: "invalid_choice", Message: fmt.Sprintf(
					"«%s» is not one of: %s (or their English names or codes)", raw, strings.Join(c.Choices.Labels(), ", "))})
				continue
			}
			v = code
		}
		if c.Key == "inn" || c.Key == "account_inn" {
			v = restoreINN(raw)
		}
		if parent, child, ok := strings.Cut(c.Key, "."); ok {
			if nested[parent] == nil {
				nested[parent] = map[string]any{}
			}
			nested[parent][child] = v
			continue
		}
		p.Set(c.Key, v)
	}
	for k, v := range nested {
		p.Set(k, v)
	}
	return p, errs
}

var (
	ruDate = regexp.MustCompile(`^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$`)
	isoish = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
)

// parseValue reads a raw cell as its column's kind, into what the API's
// JSON takes.
func parseValue(kind Kind, raw string) (any, error) {
	switch kind {
	case Money, Number:
		d, err := ParseNumber(raw)
		if err != nil {
			return nil, err
		}
		return d.String(), nil
	case Int:
		d, err := ParseNumber(raw)
		if err != nil || !d.Equal(d.Truncate(0)) {
			return nil, fmt.Errorf("%q is not a whole number", raw)
		}
		return d.IntPart(), nil
	case Bool:
		switch strings.ToLower(raw) {
		case "да", "true", "1", "yes", "y", "д", "истина", "+":
			return true, nil
		case "нет", "false", "0", "no", "n", "н", "ложь", "-":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not да or нет", raw)
	case Date:
		t, err := ParseTime(raw)
		if err != nil {
			return nil, err
		}
		return t.Format("2006-01-02"), nil
	case DateTime:
		t, err := ParseTime(raw)
		if err != nil {
			return nil, err
		}
		return t.Format(time.RFC3339), nil
	default:
		return raw, nil
	}
}

// ParseNumber reads numbers as Russian users type them: "1 234,56",
// "1234.56", "1 234 567" (ordinary or non-breaking spaces), "-5".
func ParseNumber(raw string) (decimal.Decimal, error) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\'' {
			return -1
		}
		return r
	}, raw)
	s = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "₽"), "руб.")
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("%q is not a number", raw)
	}
	return d, nil
}

// ParseTime reads an Excel serial date, or a text date: 27.11.2026,
// 27.11.26, 27.11.2026 15:04, 2026-11-27 (and RFC 3339).
func ParseTime(raw string) (time.Time, error) {
	if f, err := strconv.ParseFloat(raw, 64); err == nil {
		if f < 1 || f > 2958465 || math.IsNaN(f) {
			return time.Time{}, fmt.Errorf("%v is not a date", raw)
		}
		t, err := excelize.ExcelDateToTime(f, false)
		if err != nil {
			return time.Time{}, fmt.Errorf("%v is not a date", raw)
		}
		return t.Round(time.Second), nil
	}
	if m := ruDate.FindStringSubmatch(raw); m != nil {
		d, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		y, _ := strconv.Atoi(m[3])
		if y < 100 {
			y += 2000
		}
		h, mi, sec := 0, 0, 0
		if m[4] != "" {
			h, _ = strconv.Atoi(m[4])
			mi, _ = strconv.Atoi(m[5])
			sec, _ = strconv.Atoi(m[6] + "0")
			sec /= 10
		}
		t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
		if t.Day() != d || int(t.Month()) != mo || h > 23 || mi > 59 {
			return time.Time{}, fmt.Errorf("%q is not a date", raw)
		}
		return t, nil
	}
	if isoish.MatchString(raw) {
		for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, raw); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (27.11.2026)", raw)
}

// restoreINN puts back the leading zero Excel drops from a number: an ИНН
// of 9 or 11 digits was a 10- or 12-digit one (regions 01–09).
func restoreINN(raw string) string {
	s := strings.TrimSuffix(strings.TrimSpace(raw), ".0")
	for _, r := range s {
		if r < '0' || r > '9' {
			return raw
		}
	}
	if len(s) == 9 || len(s) == 11 {
		return "0" + s
	}
	return s
}

var (
	dimensionRef = regexp.MustCompile(`<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"`)
	sheetEntry   = regexp.MustCompile(`<(?:\w+:)?sheet\s[^>]*>`)
)

// sheetPart opens the zip part of a sheet ("" for the first), nil when
// it cannot be found.
func sheetPart(file []byte, sheet string) *zip.File {
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		return nil
	}
	part := func(name string) *zip.File {
		for _, f := range zr.File {
			if f.Name == name {
				return f
			}
		}
		return nil
	}
	read := func(name string, limit int64) string {
		f := part(name)
		if f == nil {
			return ""
		}
		r, err := f.Open()
		if err != nil {
			return ""
		}
		defer r.Close()
		b, _ := io.ReadAll(io.LimitReader(r, limit))
		return string(b)
	}
	rid := ""
	for _, m := range sheetEntry.FindAll([]byte(read("xl/workbook.xml", 1<<20)), -1) {
		name, _ := attr(m[1:len(m)-1], "name")
		if sheet == "" || html.UnescapeString(string(name)) == sheet {
			id, _ := attr(m[1:len(m)-1], "r:id")
			rid = string(id)
			break
		}
	}
	target := ""
	for _, m := range relationship.FindAll([]byte(read("xl/_rels/workbook.xml.rels", 1<<20)), -1) {
		if id, _ := attr(m[1:len(m)-1], "Id"); rid != "" && string(id) == rid {
			t, _ := attr(m[1:len(m)-1], "Target")
			target = strings.TrimPrefix(string(t), "/")
			if !strings.HasPrefix(target, "xl/") {
				target = "xl/" + target
			}
		}
	}
	if target == "" {
		return nil
	}
	return part(target)
}

// LastRow reads the last row number a sheet declares in its dimension
// ("" for the first sheet) without reading the sheet: a hint for progress
// (0 when the file does not say).
func LastRow(file []byte, sheet string) int {
	f := sheetPart(file, sheet)
	if f == nil {
		return 0
	}
	r, err := f.Open()
	if err != nil {
		return 0
	}
	defer r.Close()
	head, _ := io.ReadAll(io.LimitReader(r, 8<<10))
	if m := dimensionRef.FindSubmatch(head); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	return 0
}

// Range is a merged cell range (1-based, inclusive).
type Range struct{ Col1, Row1, Col2, Row2 int }

var mergeCell = regexp.MustCompile(`<mergeCell ref="([A-Z]+\d+):([A-Z]+\d+)"`)

// MergedRanges lists a sheet's merged cells, scanning the sheet's XML as
// a stream (its merge list comes after the rows); at most limit ranges.
func MergedRanges(file []byte, sheet string, limit int) []Range {
	f := sheetPart(file, sheet)
	if f == nil {
		return nil
	}
	r, err := f.Open()
	if err != nil {
		return nil
	}
	defer r.Close()
	var out []Range
	buf := make([]byte, 1<<20)
	carry := []byte{}
	for len(out) < limit {
		n, err := r.Read(buf)
		chunk := append(carry, buf[:n]...)
		for _, m := range mergeCell.FindAllSubmatch(chunk, -1) {
			c1, r1, e1 := excelize.CellNameToCoordinates(string(m[1]))
			c2, r2, e2 := excelize.CellNameToCoordinates(string(m[2]))
			if e1 == nil && e2 == nil && len(out) < limit {
				out = append(out, Range{c1, r1, c2, r2})
			}
		}
		// Keep the tail: a tag may straddle two reads.
		if len(chunk) > 64 {
			carry = append(carry[:0], chunk[len(chunk)-64:]...)
			if i := bytes.LastIndex(carry, []byte("<")); i >= 0 {
				carry = carry[i:]
			} else {
				carry = carry[:0]
			}
		} else {
			carry = chunk
		}
		if err != nil {
			break
		}
	}
	return out
}
