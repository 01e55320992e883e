package reportout

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

// WriteCSV writes a result as CSV in UTF-8 with a BOM (so Excel reads the
// Cyrillic right): a header of column labels, then the rows, the
// subtotals and the total. With sep ',' values are as the API gives them
// (codes, decimal points, ISO dates); with ';', for Russian Excel, as
// people read them: decimal commas, 27.11.2026, picklist labels. Every
// cell but a number in a numeric column is Defused, so a spreadsheet
// opening the file never runs a formula a record's text smuggled in.
func WriteCSV(w io.Writer, res *core.ReportResult, sep rune) error {
	if sep != ',' && sep != ';' {
		return fmt.Errorf("reportout: separator %q: use , or ;", sep)
	}
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.Comma = sep
	header := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		header[i] = Defused(c.Label)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(res.Columns))
	for _, l := range Lines(res) {
		for i := range rec {
			rec[i] = ""
			if i >= len(l.Cells) || l.Cells[i] == nil {
				continue
			}
			v := l.Cells[i]
			s, _ := v.(string)
			switch {
			case sep == ';' && (l.Kind == LineRow || !isLabel(s)):
				rec[i] = russian(res.Columns[i], v)
			default:
				rec[i] = fmt.Sprint(v)
			}
			if !isNumber(res.Columns[i], v) {
				rec[i] = Defused(rec[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// russian is a value as Russian Excel reads it: numbers with a decimal
// comma and no grouping, dates as 27.11.2026, labels for codes.
func russian(col core.ReportColumn, v any) string {
	if s, ok := v.(string); ok && (col.Type == "money" || col.Type == "number") {
		return strings.Replace(s, ".", ",", 1)
	}
	return Text(col, v, time.UTC)
}

// Defused is a CSV cell a spreadsheet shows as the text it is: a cell
// starting with =, +, -, @, a tab or a carriage return, which Excel and
// LibreOffice would read as a formula (=HYPERLINK(…), =cmd|' /C calc'!A0,
// +1+1), gets a leading apostrophe, as OWASP's CSV injection rule says.
func Defused(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// isNumber reports whether v is a number of a numeric column (a count,
// an amount, a quantity): written as it is, a negative one stays a
// number for the spreadsheet.
func isNumber(col core.ReportColumn, v any) bool {
	switch x := v.(type) {
	case int64:
		return true
	case string:
		if col.Type != "money" && col.Type != "number" && col.Type != "integer" {
			return false
		}
		_, err := decimal.NewFromString(x)
		return err == nil
	}
	return false
}
