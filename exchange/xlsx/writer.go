package xlsx

import (
	"archive/zip"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/crmhub/crmhub/core"
)

// SheetName is the sheet exports write and templates carry.
const SheetName = "Данные"

// Writer streams records of one kind into a workbook: rows go to
// excelize's StreamWriter (which spills to a temporary file), so memory
// stays flat however many rows there are.
type Writer struct {
	f        *excelize.File
	sw       *excelize.StreamWriter
	cols     []Column
	access   []accessor
	custom   accessor // the record's custom values, for the custom columns
	styles   map[Kind]int
	colStyle []int // each column's number style: its kind's, or its own
	row      int
	typ      reflect.Type
	loc      *time.Location
	codes    bool
}

// ExportConfig says what an export's workbook holds and how it writes
// values.
type ExportConfig struct {
	// Custom are the kind's custom fields, a column each after the
	// built-in ones (CustomColumns).
	Custom []core.CustomField
	// Hidden are the fields a role's field rules hide: each leaves its
	// columns out ("address" every address column, custom.<key> a custom
	// field's).
	Hidden []string
	// Location is the zone times are written in, which their headers name
	// (nil: Moscow time, UTC+3, the zone imports read times in).
	Location *time.Location
	// Codes writes a picklist field's codes, for machines, instead of the
	// Russian labels people read; imports read back either.
	Codes bool
	// Now is when the export runs, the instant a header's UTC offset is
	// given for (zero: now).
	Now time.Time
}

// NewWriter starts a workbook of the entity's columns with its header
// row, leaving out the columns of the hidden fields; times are written in
// loc (nil: Moscow time).
func NewWriter(entity string, loc *time.Location, hidden ...string) (*Writer, error) {
	return NewExport(entity, ExportConfig{Location: loc, Hidden: hidden})
}

// NewWriterCustom is NewWriter with a column for each of the kind's
// custom fields after the built-in ones.
func NewWriterCustom(entity string, custom []core.CustomField, loc *time.Location, hidden ...string) (*Writer, error) {
	return NewExport(entity, ExportConfig{Custom: custom, Location: loc, Hidden: hidden})
}

// NewExport starts a workbook of the entity's columns as cfg says, with
// its header row: a date-time column's header names the zone its times
// are in («Создано (МСК, UTC+3)»), since a cell cannot.
func NewExport(entity string, cfg ExportConfig) (*Writer, error) {
	var cols []Column
	for _, c := range withCustom(entity, cfg.Custom) {
		top, _, _ := strings.Cut(c.Key, ".")
		if !c.ImportOnly && !slices.Contains(cfg.Hidden, c.Key) && !slices.Contains(cfg.Hidden, top) {
			cols = append(cols, c)
		}
	}
	if cols == nil {
		return nil, core.Errorf(core.EINVALID, "%s does not export", entity)
	}
	loc := cfg.Location
	if loc == nil {
		loc = moscow()
	}
	now := cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	zone := zoneName(loc, now)
	for i, c := range cols {
		if c.Kind == DateTime {
			cols[i].Header = zonedHeader(c.Header, zone)
		}
	}
	w := &Writer{f: excelize.NewFile(), cols: cols, loc: loc, codes: cfg.Codes, styles: map[Kind]int{}}
	if err := w.start(); err != nil {
		w.f.Close()
		return nil, err
	}
	return w, nil
}

// start makes the sheet, its number styles, and writes the header row.
func (w *Writer) start() error {
	if err := w.f.SetSheetName("Sheet1", SheetName); err != nil {
		return err
	}
	for kind, format := range map[Kind]string{Date: "dd.mm.yyyy", DateTime: "dd.mm.yyyy hh:mm", Money: "#,##0.00",
		Number: "#,##0.###", Int: "0"} {
		f := format
		id, err := w.f.NewStyle(&excelize.Style{CustomNumFmt: &f})
		if err != nil {
			return err
		}
		w.styles[kind] = id
	}
	if err := w.columnStyles(); err != nil {
		return err
	}
	head, err := w.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE6F0"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}})
	if err != nil {
		return err
	}
	if w.sw, err = w.f.NewStreamWriter(SheetName); err != nil {
		return err
	}
	for i, c := range w.cols {
		width := c.Width
		if width == 0 {
			width = 14
		}
		if err := w.sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := w.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := make([]any, len(w.cols))
	for i, c := range w.cols {
		header[i] = excelize.Cell{StyleID: head, Value: c.Header}
	}
	if err := w.sw.SetRow("A1", header, excelize.RowOpts{Height: 30}); err != nil {
		return err
	}
	w.row = 1
	return nil
}

// Rows is how many records were written.
func (w *Writer) Rows() int { return w.row - 1 }

// Write adds a record (a pointer to, or a value of, the entity's type).
func (w *Writer) Write(rec any) error {
	v := reflect.ValueOf(rec)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if w.typ == nil {
		w.typ = v.Type()
		w.access = make([]accessor, len(w.cols))
		for i, c := range w.cols {
			if c.Custom == nil {
				w.access[i] = accessorOf(w.typ, c.Key)
			}
		}
		w.custom = accessorOf(w.typ, "custom")
	} else if v.Type() != w.typ {
		return fmt.Errorf("xlsx: a %s among %s records", v.Type(), w.typ)
	}
	if w.row >= excelize.TotalRows {
		return core.Errorf(core.EINVALID, "more than %d rows do not fit a sheet: narrow the filters", excelize.TotalRows-1)
	}
	w.row++
	cells := make([]any, len(w.cols))
	custom, _ := w.custom.get(v).(core.CustomValues)
	for i, c := range w.cols {
		val := w.access[i].get(v)
		switch {
		case c.Custom != nil:
			val = customCell(c.Custom, custom[c.Custom.Key], w.codes)
		case c.Choices != nil && !w.codes:
			if code, ok := val.(string); ok {
				val = c.Choices.Label(code)
			}
		}
		cells[i] = w.cell(w.colStyle[i], val)
	}
	cell, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return err
	}
	return w.sw.SetRow(cell, cells)
}

// columnStyles gives each column its number style: its kind's, or a
// custom decimal's own (its scale's digits).
func (w *Writer) columnStyles() error {
	w.colStyle = make([]int, len(w.cols))
	own := map[string]int{}
	for i, c := range w.cols {
		w.colStyle[i] = w.styles[c.Kind]
		format := customNumFmt(c.Custom)
		if format == nil {
			continue
		}
		id, ok := own[*format]
		if !ok {
			var err error
			if id, err = w.f.NewStyle(&excelize.Style{CustomNumFmt: format}); err != nil {
				return fmt.Errorf("style of column %s: %w", c.Key, err)
			}
			own[*format] = id
		}
		w.colStyle[i] = id
	}
	return nil
}

// cell turns a field value into a typed cell of the number style.
func (w *Writer) cell(style int, v any) any {
	styled := func(val any) any { return excelize.Cell{StyleID: style, Value: val} }
	switch x := v.(type) {
	case nil:
		return nil
	case core.Date:
		if x.IsZero() {
			return nil
		}
		return styled(x.Time)
	case time.Time:
		if x.IsZero() {
			return nil
		}
		// Excel has no zones: the wall-clock time in the office's zone.
		t := x.In(w.loc)
		return styled(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC))
	case core.Money:
		f, _ := x.Round(2).Float64() // a cell holds a double; two decimals survive it
		return styled(f)
	case core.Quantity:
		f, _ := x.Float64()
		return styled(f)
	case decimal.Decimal:
		f, _ := x.Float64()
		return styled(f)
	case int64:
		return styled(x)
	case int:
		return styled(x)
	case bool:
		if x {
			return "да"
		}
		return "нет"
	case string:
		if x == "" {
			return nil
		}
		return x
	case []string:
		return strings.Join(x, ", ")
	default:
		return fmt.Sprint(x)
	}
}

// Close finishes the workbook and writes it to out.
func (w *Writer) Close(out io.Writer) error {
	last, err := excelize.CoordinatesToCellName(len(w.cols), max(w.row, 2))
	if err != nil {
		return err
	}
	// A table over the rows gives the header its filter buttons.
	if err := w.sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: "data", StyleName: "TableStyleLight1"}); err != nil {
		return err
	}
	if err := w.sw.Flush(); err != nil {
		return err
	}
	defer w.f.Close()
	return writeStreaming(w.f, out)
}

// writeStreaming writes the workbook's zip straight to out: excelize's
// WriteTo assembles the whole archive in memory first (a million rows
// were 100 MB more), so its zip writer is pointed at out instead and the
// empty buffer it fills is discarded.
func writeStreaming(f *excelize.File, out io.Writer) error {
	zw := zip.NewWriter(out)
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	_, err := f.WriteTo(io.Discard)
	return err
}

// accessor reads a JSON field (a path such as "address.city") from a
// record by reflection, found once per type.
type accessor struct {
	path [][]int // field indexes, one per path step
}

var accessorCache sync.Map // reflect.Type + key → accessor

func accessorOf(t reflect.Type, key string) accessor {
	type cacheKey struct {
		t   reflect.Type
		key string
	}
	if a, ok := accessorCache.Load(cacheKey{t, key}); ok {
		return a.(accessor)
	}
	var a accessor
	cur := t
	for _, part := range strings.Split(key, ".") {
		idx, ft, ok := fieldByJSON(cur, part)
		if !ok {
			a.path = nil
			break
		}
		a.path = append(a.path, idx)
		cur = ft
		for cur.Kind() == reflect.Pointer {
			cur = cur.Elem()
		}
	}
	accessorCache.Store(cacheKey{t, key}, a)
	return a
}

// fieldByJSON finds the field tagged name, through embedded structs.
func fieldByJSON(t reflect.Type, name string) ([]int, reflect.Type, bool) {
	if t.Kind() != reflect.Struct {
		return nil, nil, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("json"), ",")[0]
		if tag == name {
			return []int{i}, f.Type, true
		}
		if f.Anonymous && tag == "" {
			if idx, ft, ok := fieldByJSON(f.Type, name); ok {
				return append([]int{i}, idx...), ft, true
			}
		}
	}
	return nil, nil, false
}

func (a accessor) get(v reflect.Value) any {
	if a.path == nil {
		return nil
	}
	for _, idx := range a.path {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return nil
			}
			v = v.Elem()
		}
		v = v.FieldByIndex(idx)
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	return v.Interface()
}

// WriteTable writes a plain workbook: a bold header and rows of text
// (the error workbook: the failed rows as they came, with the reason).
func WriteTable(out io.Writer, header []string, rows [][]string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(SheetName)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	for i, r := range rows {
		vals := make([]any, len(r))
		for j, v := range r {
			vals[j] = v
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return writeStreaming(f, out)
}

// Template writes an entity's import template: its headers (without the
// hub's own columns), those of the custom fields given after them, and a
// sample row.
func Template(out io.Writer, entity string, custom ...core.CustomField) error {
	cols := withCustom(entity, custom)
	if cols == nil {
		return core.Errorf(core.ENOTFOUND, "%s has no import template", entity)
	}
	var header, sample []string
	for _, c := range cols {
		switch c.Key {
		case "id", "owner_id", "created_at", "updated_at":
			continue
		}
		header = append(header, c.Header)
		sample = append(sample, sampleValue(c))
	}
	return WriteTable(out, header, [][]string{sample})
}

func sampleValue(c Column) string {
	if c.Custom != nil && c.Kind == Text {
		return customSample(c.Custom)
	}
	switch c.Kind {
	case Date:
		return "27.11.2026"
	case DateTime:
		return "27.11.2026 10:30"
	case Money:
		return "1 234,56"
	case Number:
		return "10"
	case Int:
		return "25"
	case Bool:
		return "нет"
	case Phone:
		return "+7 (495) 123-45-67"
	}
	switch {
	case c.Key == "price_book":
		return "Розница"
	case c.Key == "sku":
		return "D-001"
	case c.Key == "email":
		return "info@example.ru"
	case c.Key == "inn":
		return "7707083893"
	case c.Key == "kpp":
		return "773601001"
	case strings.HasSuffix(c.Key, "_id"):
		return ""
	case c.Key == "last_name":
		return "Иванов"
	case c.Key == "first_name":
		return "Иван"
	case c.Key == "name" || c.Key == "company":
		return "ООО «Ромашка»"
	}
	return ""
}
