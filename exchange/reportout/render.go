package reportout

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/crmhub/crmhub/core"
)

// Formats are the formats a report renders to.
var Formats = []string{"json", "csv", "xlsx", "pdf", "svg", "png"}

// Options tune a rendering.
type Options struct {
	Location *time.Location // dates and times (nil: UTC)
	CSVSep   rune           // ',' (default) or ';'
	Width    int            // chart pixels (svg, png); 0: the default
	Height   int
}

// Format is a rendering's media type and file name extension.
type Format struct {
	ContentType, Ext string
}

// FormatOf describes a format; ok is false for an unknown one.
func FormatOf(name string) (Format, bool) {
	f, ok := map[string]Format{
		"json": {"application/json", "json"},
		"csv":  {"text/csv; charset=utf-8", "csv"},
		"xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
		"pdf":  {"application/pdf", "pdf"},
		"svg":  {"image/svg+xml", "svg"},
		"png":  {"image/png", "png"},
	}[name]
	return f, ok
}

// Render writes a result in format; the chart image of a report that
// found nothing says NoData. Errors: EINVALID for an unknown format or a
// chart image of a report without a chart.
func Render(w io.Writer, res *core.ReportResult, format string, o Options) error {
	if o.Location == nil {
		o.Location = time.UTC
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		return enc.Encode(res)
	case "csv":
		sep := o.CSVSep
		if sep == 0 {
			sep = ','
		}
		return WriteCSV(w, res, sep)
	case "xlsx":
		return WriteXLSX(w, res, o.Location)
	case "pdf":
		var b bytes.Buffer
		if err := WritePDF(&b, res, o.Location); err != nil {
			return err
		}
		_, err := w.Write(b.Bytes())
		return err
	case "svg", "png":
		d := ChartOf(res, o.Location)
		if d == nil {
			return core.Invalid([]core.FieldError{{Field: "format", Code: "no_chart", Message: "this report has no chart: use json, csv, xlsx or pdf"}})
		}
		if len(d.Categories) == 0 { // an image still: a dashboard embedding it shows NoData
			return WriteEmptyChart(w, d.Title, format, o.Width, o.Height)
		}
		return WriteChart(w, d, res.Chart.Type, format, o.Width, o.Height)
	}
	return core.Invalid([]core.FieldError{{Field: "format", Code: "invalid_choice", Message: "must be json, csv, xlsx, pdf, svg or png"}})
}
