// Package reportout renders report results for people: CSV, Excel with a
// native chart, PDF, and the chart alone as SVG or PNG.
package reportout

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

// Line kinds.
const (
	LineRow      = "row"
	LineSubtotal = "subtotal"
	LineTotal    = "total"
)

// Line is one printed line of a report: a row, a group's subtotal or the
// grand total, with a cell per column (nil for none).
type Line struct {
	Kind  string
	Level int // a subtotal's grouping level
	Cells []any
}

// Lines lays a result out as it prints: the rows, each group's subtotal
// after its rows, the grand total last. Subtotal and total cells put each
// aggregate under its own column, or under the column of the field it
// aggregates; the first free cell says what the line is.
func Lines(res *core.ReportResult) []Line {
	n := len(res.Columns)
	colOf := map[string]int{}
	for i, c := range res.Columns {
		colOf[c.Key] = i
	}
	summary := isSummary(res)
	place := func(values map[string]any, cells []any) string {
		var extra []string
		for _, key := range res.Aggregates {
			v, ok := values[key]
			if !ok {
				continue
			}
			if i, ok := colOf[key]; ok {
				cells[i] = v
				continue
			}
			if _, field, ok := strings.Cut(key, "_"); ok {
				if i, ok := colOf[field]; ok && cells[i] == nil {
					cells[i] = v
					continue
				}
			}
			extra = append(extra, fmt.Sprintf("%s: %v", aggName(key), v))
		}
		return strings.Join(extra, ", ")
	}
	label := func(cells []any, from int, text string) {
		for i := from; i < n; i++ {
			if cells[i] == nil {
				cells[i] = text
				return
			}
		}
	}
	var out []Line
	next := 0
	emit := func(upto int) {
		for next < len(res.Subtotals) && res.Subtotals[next].AfterRow <= upto {
			st := res.Subtotals[next]
			next++
			cells := make([]any, n)
			from := 0
			if summary {
				copy(cells, st.Keys)
				from = st.Level
			}
			extra := place(st.Values, cells)
			text := "Итого"
			if !summary {
				text = "Итого: " + keyText(st.Keys)
			}
			if extra != "" {
				text += " (" + extra + ")"
			}
			label(cells, from, text)
			out = append(out, Line{Kind: LineSubtotal, Level: st.Level, Cells: cells})
		}
	}
	for i, r := range res.Rows {
		out = append(out, Line{Kind: LineRow, Cells: r})
		emit(i + 1)
	}
	emit(len(res.Rows) + len(res.Subtotals))
	if len(res.Totals) > 0 {
		cells := make([]any, n)
		extra := place(res.Totals, cells)
		text := "Всего"
		if extra != "" {
			text += " (" + extra + ")"
		}
		label(cells, 0, text)
		out = append(out, Line{Kind: LineTotal, Cells: cells})
	}
	return out
}

// isSummary tells a summary (a row per group: the group columns, then
// the aggregates) from a detail report.
func isSummary(res *core.ReportResult) bool {
	return len(res.Groups) > 0 && len(res.Columns) == len(res.Groups)+len(res.Aggregates) && res.Columns[0].Key == res.Groups[0]
}

func aggName(key string) string {
	switch {
	case key == "count":
		return "количество"
	case strings.HasPrefix(key, "sum_"):
		return "сумма"
	case strings.HasPrefix(key, "avg_"):
		return "среднее"
	case strings.HasPrefix(key, "min_"):
		return "минимум"
	case strings.HasPrefix(key, "max_"):
		return "максимум"
	}
	return key
}

func keyText(keys []any) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		if k == nil || k == "" {
			parts[i] = "(пусто)"
		} else {
			parts[i] = fmt.Sprint(k)
		}
	}
	return strings.Join(parts, " / ")
}

// Text formats a cell for people: amounts with a decimal comma and
// spaces between thousands, dates as 27.11.2026, periods by their part.
func Text(col core.ReportColumn, v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "да"
		}
		return "нет"
	case int64:
		return core.FormatQuantity(decimal.NewFromInt(x))
	case string:
		if l, ok := col.Labels[x]; ok {
			return l
		}
		switch col.Type {
		case "money":
			if d, err := decimal.NewFromString(x); err == nil {
				return core.FormatAmount(d)
			}
		case "number":
			if d, err := decimal.NewFromString(x); err == nil {
				return core.FormatQuantity(d)
			}
		case "date":
			if t, err := time.Parse("2006-01-02", x); err == nil {
				return Period(t, col.DatePart)
			}
		case "datetime":
			if t, err := time.Parse(time.RFC3339, x); err == nil {
				return t.In(loc).Format("02.01.2006 15:04")
			}
		}
		return x
	}
	return fmt.Sprint(v)
}

var months = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
	"ноябрь", "декабрь"}

// Period names a date group: «ноябрь 2026», «4 кв. 2026», «2026»,
// «неделя с 23.11.2026», or the date.
func Period(t time.Time, part string) string {
	switch part {
	case "month":
		return fmt.Sprintf("%s %d", months[t.Month()-1], t.Year())
	case "quarter":
		return fmt.Sprintf("%d кв. %d", (int(t.Month())-1)/3+1, t.Year())
	case "year":
		return fmt.Sprint(t.Year())
	case "week":
		return "неделя с " + t.Format("02.01.2006")
	}
	return t.Format("02.01.2006")
}
