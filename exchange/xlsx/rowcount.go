package xlsx

import (
	"archive/zip"
	"bytes"
	"fmt"
	"html"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
)

// HeaderSearch is how far down a sheet its header row may be (below titles).
const HeaderSearch = 30

// TotalRows is the most rows a sheet has (Excel's own limit).
const TotalRows = 1 << 20

// maxMerges bounds the merged ranges that fill rows (as the import does).
const maxMerges = 10_000

// RowCount is what CountRows found in a sheet.
type RowCount struct {
	// HeaderRow is the row of the header; 0 when none of the first
	// HeaderSearch rows names the entity's fields (the rows below the
	// first row with a value were counted).
	HeaderRow int
	// Rows are the data rows: the rows below the header that have a value
	// or that a merged cell fills.
	Rows int
}

// RowLimitError is the EINVALID error of a sheet with more data rows than
// max: it names the limit and row, the sheet row of the first data row
// beyond it.
func RowLimitError(max, row int) error {
	msg := fmt.Sprintf("the sheet has more than %d rows below its header: row %d is one too many (split the file into parts of at most %d rows)",
		max, row, max)
	return &core.Error{Code: core.EINVALID, Message: msg, Fields: []core.FieldError{{Field: "file", Code: "too_many_rows", Message: msg}}}
}

// CountRows counts a sheet's data rows ("" for the first sheet) the way an
// import reads them — below the header row naming the entity's fields, not
// blank, or filled by a merged cell — and fails with RowLimitError as soon as
// there are more than lim.MaxRows. It scans the sheet's XML as a stream,
// without decoding the workbook: a million rows take about a second, in
// constant memory. The count may be a little high (a cell whose formula
// has no cached value counts), never low. A file that is not a readable
// workbook counts nothing and fails nothing: Open says what is wrong with it.
//
// The custom fields given are among the fields the header row may name.
func CountRows(file []byte, entity, sheet string, lim Limits, custom ...core.CustomField) (RowCount, error) {
	lim.setDefaults()
	part := sheetPart(file, sheet)
	if part == nil {
		return RowCount{}, nil
	}
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		return RowCount{}, nil
	}
	r, err := part.Open()
	if err != nil {
		return RowCount{}, nil
	}
	defer r.Close()
	c := &rowCounter{entity: entity, custom: custom, lim: lim, sst: sharedStringsPart(zr), rows: make([]uint64, TotalRows/64+1)}
	err = c.scan(io.LimitReader(r, lim.MaxUnzipped))
	rc := RowCount{Rows: c.count}
	if c.found {
		rc.HeaderRow = c.header
	}
	return rc, err
}

var relationship = regexp.MustCompile(`<(?:\w+:)?Relationship\s[^>]*>`)

// sharedStringsPart finds the workbook's shared strings, nil when it has none.
func sharedStringsPart(zr *zip.Reader) *zip.File {
	name := "xl/sharedStrings.xml"
	for _, f := range zr.File {
		if f.Name != "xl/_rels/workbook.xml.rels" {
			continue
		}
		r, err := f.Open()
		if err != nil {
			break
		}
		rels, _ := io.ReadAll(io.LimitReader(r, 1<<20))
		r.Close()
		for _, m := range relationship.FindAll(rels, -1) {
			if typ, _ := attr(m[1:len(m)-1], "Type"); bytes.HasSuffix(typ, []byte("/sharedStrings")) {
				if target, ok := attr(m[1:len(m)-1], "Target"); ok {
					name = strings.TrimPrefix(string(target), "/")
					if !strings.HasPrefix(name, "xl/") {
						name = "xl/" + name
					}
				}
			}
		}
	}
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// scanCell is a cell of the rows that may hold the header.
type scanCell struct {
	shared bool
	index  int // of the shared string
	text   string
}

// scanRow is one of the rows that may hold the header.
type scanRow struct {
	number int
	cells  []scanCell
	wide   bool
}

// rowCounter follows a sheet's XML: the first HeaderSearch rows are kept
// until the header is found among them; below it, each row is a bit in rows.
type rowCounter struct {
	entity string
	custom []core.CustomField
	lim    Limits
	sst    *zip.File
	strs   sharedStrings

	resolved bool
	found    bool // the header row names the entity's fields
	header   int  // the rows below it are counted
	early    []scanRow
	rows     []uint64 // bit n: row n is a data row
	count    int
	last     int // the last row the sheet has (the reader goes no further)
	merges   []Range

	// The row and cell being read.
	inData, inRow         bool
	row, col              int
	content, wide         bool
	cells                 []scanCell
	shared, hasF          bool
	inV, inIs, inT, inRPh bool
	text                  []byte
}

// maxCellText bounds the text kept of one cell: enough for any header.
const maxCellText = 64 << 10

func (c *rowCounter) scan(r io.Reader) error {
	s := newTagScanner(r)
	onText := func(b []byte) {
		if (c.inV || c.inT) && len(c.text) < maxCellText {
			c.text = append(c.text, b...)
		}
	}
	for {
		t, ok := s.next(onText)
		if !ok {
			break
		}
		if err := c.tag(t, onText); err != nil {
			return err
		}
		if c.inRow && c.resolved && (c.content || c.wide) {
			// The row counts whatever its other cells hold.
			if !s.skipTo("row") {
				break
			}
			if err := c.endRow(); err != nil {
				return err
			}
		}
	}
	if !c.resolved {
		if err := c.resolve(); err != nil {
			return err
		}
	}
	return c.applyMerges()
}

func (c *rowCounter) tag(t []byte, onText func([]byte)) error {
	if b, ok := cdata(t); ok {
		onText(b)
		return nil
	}
	name, end, empty := tagName(t)
	if string(name) == "sheetData" {
		c.inData = !end && !empty
		if !c.inData && !c.resolved {
			return c.resolve()
		}
		return nil
	}
	if !c.inData {
		if string(name) == "mergeCell" {
			c.addMerge(t)
		}
		return nil
	}
	switch string(name) {
	case "row":
		if end {
			return c.endRow()
		}
		if err := c.startRow(t); err != nil {
			return err
		}
		if empty {
			return c.endRow()
		}
	case "c":
		if !end {
			c.startCell(t)
		}
		if end || empty {
			c.endCell()
		}
	case "v":
		c.inV = !end && !empty
	case "is":
		c.inIs = !end && !empty
	case "t":
		c.inT = c.inIs && !c.inRPh && !end && !empty
	case "rPh":
		c.inRPh = !end && !empty
	case "f":
		c.hasF = c.hasF || !end
	}
	return nil
}

func (c *rowCounter) startRow(t []byte) error {
	n := c.row + 1
	if r, ok := attr(t, "r"); ok {
		if v := atoi(r); v > 0 {
			n = v
		}
	}
	if n > TotalRows {
		return core.Errorf(core.EINVALID, "the sheet has a row numbered %d, beyond the %d rows a sheet can have", n, TotalRows)
	}
	if !c.resolved && n > HeaderSearch {
		if err := c.resolve(); err != nil {
			return err
		}
	}
	c.row, c.col, c.content, c.wide, c.cells, c.inRow = n, 0, false, false, c.cells[:0], true
	c.last = max(c.last, n)
	return nil
}

func (c *rowCounter) startCell(t []byte) {
	c.col++
	if r, ok := attr(t, "r"); ok {
		if col := cellColumn(r); col > 0 {
			c.col = col
		}
	}
	typ, _ := attr(t, "t")
	c.shared = string(typ) == "s"
	c.hasF, c.inV, c.inIs, c.inT, c.inRPh, c.text = false, false, false, false, false, c.text[:0]
}

func (c *rowCounter) endCell() {
	if len(c.text) > 0 || c.hasF {
		if c.col > c.lim.MaxColumns {
			c.wide = true // the import reports the row as too wide
		}
	}
	if !c.resolved {
		if c.shared {
			c.cells = append(c.cells, scanCell{shared: true, index: atoi(bytes.TrimSpace(c.text))})
		} else if len(c.text) > 0 {
			c.cells = append(c.cells, scanCell{text: unescape(c.text)})
		}
		return
	}
	if c.content {
		return
	}
	if c.shared {
		c.content = len(c.text) > 0 && !c.strs.blank(atoi(bytes.TrimSpace(c.text)))
		return
	}
	c.content = !blankText(c.text)
}

func (c *rowCounter) endRow() error {
	c.inRow = false
	if !c.resolved {
		if len(c.cells) > 0 || c.wide {
			c.early = append(c.early, scanRow{number: c.row, cells: append([]scanCell(nil), c.cells...), wide: c.wide})
		}
		return nil
	}
	if c.row > c.header && (c.content || c.wide) {
		return c.add(c.row)
	}
	return nil
}

// add counts row as a data row, failing past the limit.
func (c *rowCounter) add(row int) error {
	if row > TotalRows || c.rows[row/64]&(1<<(row%64)) != 0 {
		return nil
	}
	c.rows[row/64] |= 1 << (row % 64)
	c.count++
	if c.count > c.lim.MaxRows {
		return RowLimitError(c.lim.MaxRows, row)
	}
	return nil
}

func (c *rowCounter) isRow(row int) bool {
	return row <= TotalRows && c.rows[row/64]&(1<<(row%64)) != 0
}

// resolve reads the shared strings, finds the header among the first rows
// and counts those below it.
func (c *rowCounter) resolve() error {
	c.resolved = true
	need := map[int]bool{}
	for _, r := range c.early {
		for _, cell := range r.cells {
			if cell.shared {
				need[cell.index] = true
			}
		}
	}
	texts := c.strs.load(c.sst, need, c.lim.MaxUnzipped)
	rows := make([][]string, len(c.early))
	for i, r := range c.early {
		for _, cell := range r.cells {
			v := cell.text
			if cell.shared {
				v = texts[cell.index]
			}
			rows[i] = append(rows[i], v)
		}
	}
	first := 0
	for i, r := range c.early {
		if first == 0 && !r.wide && !blankCells(rows[i]) {
			first = r.number
		}
		if !r.wide && FindHeader(c.entity, rows[i], c.custom...) {
			c.found, c.header = true, r.number
			break
		}
	}
	below := c.header
	if !c.found {
		below = first
	}
	for i, r := range c.early {
		if r.number > below && (r.wide || !blankCells(rows[i])) {
			if err := c.add(r.number); err != nil {
				return err
			}
		}
	}
	c.header = below
	c.early = nil
	return nil
}

func (c *rowCounter) addMerge(t []byte) {
	ref, ok := attr(t, "ref")
	if !ok || len(c.merges) >= maxMerges {
		return
	}
	from, to, ok := strings.Cut(string(ref), ":")
	if !ok {
		return
	}
	c1, r1, e1 := excelize.CellNameToCoordinates(from)
	c2, r2, e2 := excelize.CellNameToCoordinates(to)
	if e1 == nil && e2 == nil {
		c.merges = append(c.merges, Range{c1, r1, c2, r2})
	}
}

// applyMerges counts the rows merged cells fill: below a merged range's
// first row, when that row has a value (the import copies it down), up to
// the sheet's last row.
func (c *rowCounter) applyMerges() error {
	sort.Slice(c.merges, func(i, j int) bool { return c.merges[i].Row1 < c.merges[j].Row1 })
	next := 0 // rows below next are counted already
	for _, m := range c.merges {
		if m.Row1 <= c.header || m.Row2 <= m.Row1 || !c.isRow(m.Row1) {
			continue
		}
		for row := max(m.Row1+1, next); row <= min(m.Row2, c.last); row++ {
			if c.isRow(row) {
				continue
			}
			c.rows[row/64] |= 1 << (row % 64)
			if c.count++; c.count > c.lim.MaxRows {
				return RowLimitError(c.lim.MaxRows, c.nthRow(c.lim.MaxRows+1))
			}
		}
		next = max(next, m.Row2+1)
	}
	return nil
}

// nthRow returns the sheet row of the n-th data row.
func (c *rowCounter) nthRow(n int) int {
	for row := c.header + 1; row <= TotalRows; row++ {
		if c.isRow(row) {
			if n--; n == 0 {
				return row
			}
		}
	}
	return 0
}

func blankText(raw []byte) bool {
	if bytes.IndexByte(raw, '&') < 0 {
		return len(bytes.TrimSpace(raw)) == 0
	}
	return strings.TrimSpace(unescape(raw)) == ""
}

func blankCells(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func unescape(raw []byte) string { return html.UnescapeString(string(raw)) }
