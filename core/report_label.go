package core

import (
	"maps"
	"strings"
	"sync"
)

// The labels a report gives its columns and the codes of its picklist
// fields, for people. The report compiler (core/reportsql) puts them on a
// plan; the store only reads the labels that live in the database.

// Label is the column label of an aggregate over a field labelled
// fieldLabel: its function's name, then the field's ("Сумма: Сумма"). A
// count of rows (no Field) is named by its function alone.
func (a ReportAggregate) Label(fieldLabel string) string {
	fn := reportFnLabel(a.Fn)
	if a.Field == "" {
		return fn
	}
	return fn + ": " + fieldLabel
}

func reportFnLabel(fn string) string {
	switch fn {
	case "count":
		return "Количество"
	case "sum":
		return "Сумма"
	case "avg":
		return "Среднее"
	case "min":
		return "Минимум"
	case "max":
		return "Максимум"
	}
	return ""
}

// ReportFieldLabel labels a field reached through links: the links'
// labels joined by arrows, then the field's ("Счёт → Ответственный: Имя").
// A field of the report's own entity (no links) keeps its label.
func ReportFieldLabel(links []string, field string) string {
	if len(links) == 0 {
		return field
	}
	return strings.Join(links, " → ") + ": " + field
}

// MergeReportLabels returns a picklist field's labels: those read when a
// report runs (live) over those it was built with (static). Neither map
// changes, and the result is never nil.
func MergeReportLabels(static, live map[string]string) map[string]string {
	merged := make(map[string]string, len(static)+len(live))
	maps.Copy(merged, static)
	maps.Copy(merged, live)
	return merged
}

// StageKinds names the kinds of deal stages (StageOpen, StageWon,
// StageLost), as a report shows a deal's outcome.
func StageKinds() *Picklist { return stageKindsList() }

var stageKindsList = sync.OnceValue(func() *Picklist {
	return NewPicklist("stage_kind", Choice{StageOpen, "В работе", "Open"}, Choice{StageWon, "Выиграна", "Won"},
		Choice{StageLost, "Проиграна", "Lost"})
})

// DefaultStagePicklist names the stages of DefaultStages: how a report
// labels a deal stage before it reads the stages of every pipeline.
func DefaultStagePicklist() *Picklist { return defaultStageList() }

var defaultStageList = sync.OnceValue(func() *Picklist {
	var cs []Choice
	for _, st := range DefaultStages() {
		cs = append(cs, Choice{Code: st.Code, RU: st.LabelRU, EN: st.LabelEN})
	}
	return NewPicklist("deal_stage", cs...)
})
