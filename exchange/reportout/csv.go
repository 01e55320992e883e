package reportout

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"

	"github.com/crmhub/crmhub/core"
)

// WriteCSV writes a result as CSV in UTF-8 with a BOM (so Excel reads the
// Cyrillic right): a header of column labels, then the rows with values
// as the API gives them (decimal points, ISO dates), the subtotals and the
// total. sep is ',' or ';' (what Russian Excel expects).
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
		header[i] = c.Label
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(res.Columns))
	for _, l := range Lines(res) {
		for i := range rec {
			rec[i] = ""
			if i < len(l.Cells) && l.Cells[i] != nil {
				rec[i] = fmt.Sprint(l.Cells[i])
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
