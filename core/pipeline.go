package core

import (
	"context"
	"encoding/json"
	"sync"
)

// EntityPipeline names pipelines in events and errors.
const EntityPipeline = "pipeline"

// Stage kinds: a deal in an open stage is in progress; won and lost close it.
const (
	StageOpen = "open"
	StageWon  = "won"
	StageLost = "lost"
)

// Pipeline is an ordered list of deal stages. A company may run several
// (new sales, renewals, tenders).
type Pipeline struct {
	Record
	Code    string  `json:"code"`
	Name    string  `json:"name"`
	Stages  []Stage `json:"stages"`
	Default bool    `json:"default"`
	Active  bool    `json:"active"`
}

// Stage is one step of a pipeline.
type Stage struct {
	Code        string `json:"code"`
	LabelRU     string `json:"label_ru"`
	LabelEN     string `json:"label_en"`
	Probability int    `json:"probability"`
	Kind        string `json:"kind"`
}

// Stage returns the stage with code, or nil.
func (p *Pipeline) Stage(code string) *Stage {
	for i := range p.Stages {
		if p.Stages[i].Code == code {
			return &p.Stages[i]
		}
	}
	return nil
}

// Position returns the index of a stage in the pipeline, or -1.
func (p *Pipeline) Position(code string) int {
	for i := range p.Stages {
		if p.Stages[i].Code == code {
			return i
		}
	}
	return -1
}

// FirstOpen returns the first open stage (where new deals start).
func (p *Pipeline) FirstOpen() *Stage {
	for i := range p.Stages {
		if p.Stages[i].Kind == StageOpen {
			return &p.Stages[i]
		}
	}
	return nil
}

// DefaultStages are vtiger's sales stages with vtiger's default
// probabilities.
func DefaultStages() []Stage {
	return []Stage{
		{"prospecting", "Переговоры", "Prospecting", 10, StageOpen},
		{"qualification", "Оценка", "Qualification", 20, StageOpen},
		{"needs_analysis", "Нуждается в анализе", "Needs Analysis", 25, StageOpen},
		{"value_proposition", "Предложение", "Value Proposition", 30, StageOpen},
		{"id_decision_makers", "Поиск принимающих решение", "Id. Decision Makers", 40, StageOpen},
		{"perception_analysis", "Анализ ситуации", "Perception Analysis", 50, StageOpen},
		{"proposal_price_quote", "Коммерческое предложение/цены", "Proposal/Price Quote", 65, StageOpen},
		{"negotiation_review", "Переговоры/ознакомление", "Negotiation/Review", 80, StageOpen},
		{"closed_won", "Закрыта удачно", "Closed Won", 100, StageWon},
		{"closed_lost", "Закрыта неудачно", "Closed Lost", 0, StageLost},
	}
}

// PipelineSchema returns the writable fields of a pipeline.
func PipelineSchema() *Schema[Pipeline] { return pipelineSchema() }

var pipelineSchema = sync.OnceValue(func() *Schema[Pipeline] {
	return NewSchema[Pipeline]("id", "created_at", "updated_at", "version").
		Field("code", Normalized("invalid_code", "must be 1 to 50 of a-z, 0-9, _", codeOK, func(p *Pipeline) *string { return &p.Code })).
		Field("name", Text(100, false, func(p *Pipeline) *string { return &p.Name })).
		Field("stages", Stages(func(p *Pipeline) *[]Stage { return &p.Stages })).
		Field("default", Bool(func(p *Pipeline) *bool { return &p.Default })).
		Field("active", Bool(func(p *Pipeline) *bool { return &p.Active }))
})

func codeOK(s string) (string, bool) {
	if s == "" || len(s) > 50 {
		return "", false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "", false
		}
	}
	return s, true
}

// Stages sets the whole ordered stage list of a pipeline.
func Stages[T any](field func(*T) *[]Stage) Setter[T] {
	return func(rec *T, raw json.RawMessage, path string) []FieldError {
		var list []Stage
		if err := json.Unmarshal(raw, &list); err != nil || list == nil {
			return fail(path, "invalid_type", "must be a list of {code, label_ru, label_en, probability, kind}")
		}
		*field(rec) = list
		return nil
	}
}

// Validate checks a pipeline: a code and a name; 2 to 30 stages with
// unique valid codes, labels, probabilities 0–100, kinds open, won or lost;
// at least one open stage, one won and one lost.
func (p *Pipeline) Validate() error {
	var errs []FieldError
	bad := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	if p.Code == "" {
		bad("code", "required", "is required")
	}
	if p.Name == "" {
		bad("name", "required", "is required")
	}
	if len(p.Stages) < 2 || len(p.Stages) > 30 {
		bad("stages", "invalid_count", "a pipeline has 2 to 30 stages")
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	for i, s := range p.Stages {
		f := "stages[" + itoa(i) + "]"
		if _, ok := codeOK(s.Code); !ok || seen[s.Code] {
			bad(f+".code", "invalid_code", "stage codes are unique, 1 to 50 of a-z, 0-9, _")
		}
		seen[s.Code] = true
		if s.LabelRU == "" || s.LabelEN == "" || len(s.LabelRU) > 200 || len(s.LabelEN) > 200 {
			bad(f, "invalid_label", "label_ru and label_en are required, at most 200 bytes")
		}
		if s.Probability < 0 || s.Probability > 100 {
			bad(f+".probability", "out_of_range", "must be 0 to 100")
		}
		if s.Kind != StageOpen && s.Kind != StageWon && s.Kind != StageLost {
			bad(f+".kind", "invalid_choice", "must be open, won or lost")
		}
		kinds[s.Kind]++
	}
	if len(p.Stages) >= 2 && (kinds[StageOpen] == 0 || kinds[StageWon] == 0 || kinds[StageLost] == 0) {
		bad("stages", "incomplete", "a pipeline needs at least one open, one won and one lost stage")
	}
	return Invalid(errs)
}

// PipelineService keeps pipelines. Delete fails with ECONFLICT while deals
// use the pipeline.
type PipelineService interface {
	Repository[Pipeline]
	// List returns pipelines (a page of at most limit).
	List(ctx context.Context, f ListParams) (Page[Pipeline], error)
	// Ensure creates the pipelines in list that do not exist yet (by code),
	// for pipelines configured in YAML. It returns how many it created.
	Ensure(ctx context.Context, list []Pipeline) (int, error)
}

// DefaultPipeline is the pipeline crmhub starts with when none is
// configured: vtiger's stages.
func DefaultPipeline() Pipeline {
	return Pipeline{Code: "sales", Name: "Продажи", Default: true, Active: true, Stages: DefaultStages()}
}

// ValidCode reports whether s is a code: 1 to 50 of a-z, 0-9 and _.
func ValidCode(s string) bool { _, ok := codeOK(s); return ok }
