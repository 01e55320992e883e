package core

import (
	"fmt"
	"strings"
	"time"
)

// CheckDealChange refuses a change to a closed deal (won or lost) unless
// the change is its reopening: a closed deal is the record of how it
// ended. old is nil on create.
func CheckDealChange(old *Deal, reopening bool) error {
	if old == nil || old.ClosedAt == nil || reopening {
		return nil
	}
	return Errorf(ECONFLICT, "the deal is closed (%s): reopen it first with POST /api/v1/deals/%s/reopen", old.Stage, old.ID)
}

// PlaceDeal applies pipeline p's rules to deal d being written (old is
// the stored deal, nil on create; p is d's pipeline, the default one when
// d names none), at time now:
//   - a deal without a stage, or one moved to a pipeline that lacks its
//     stage, starts in the pipeline's first open stage; any other stage
//     must be one of the pipeline's (a reopening, an open one);
//   - the probability follows the stage on every move, unless the patch
//     gave it;
//   - the furthest open stage is kept across moves back and closing, and
//     starts over in a new pipeline;
//   - a won or lost stage closes the deal (at now, unless it already was),
//     an open one reopens it;
//   - a new deal without a close date is expected to close a month ahead.
//
// Errors: EINVALID (not a stage of p; a reopening into a closed stage).
func PlaceDeal(p *Pipeline, old, d *Deal, reopening bool, now time.Time) error {
	d.PipelineID = p.ID
	st, err := dealStage(p, old, d, reopening)
	if err != nil {
		return err
	}

	moved := old == nil || old.Stage != d.Stage || old.PipelineID != d.PipelineID
	if moved && !d.ProbabilityGiven() {
		d.Probability = int64(st.Probability)
	}
	trackFurthest(p, st, old, d)

	switch {
	case st.Kind == StageOpen:
		d.ClosedAt = nil
	case d.ClosedAt == nil:
		closed := now
		d.ClosedAt = &closed
	}

	if old == nil && d.CloseDate.IsZero() {
		d.CloseDate = NewDate(now.AddDate(0, 1, 0)) // a starting estimate
	}
	return nil
}

// dealStage settles d's stage in p and returns it.
func dealStage(p *Pipeline, old, d *Deal, reopening bool) (*Stage, error) {
	if d.Stage == "" || movedWithoutStage(p, old, d) {
		d.Stage = p.FirstOpen().Code
	}
	st := p.Stage(d.Stage)
	if st == nil {
		return nil, notAStage(p)
	}
	if reopening && st.Kind != StageOpen {
		return nil, Invalid([]FieldError{{Field: "stage", Code: "not_open", Message: "a deal is reopened into an open stage"}})
	}
	return st, nil
}

// trackFurthest keeps d's furthest open stage: it moves on when d reaches
// an open stage further along, and starts over in a new pipeline.
func trackFurthest(p *Pipeline, st *Stage, old, d *Deal) {
	if old == nil || old.PipelineID != d.PipelineID || p.Position(d.FurthestStage) < 0 {
		d.FurthestStage = ""
	}
	if st.Kind == StageOpen && p.Position(d.Stage) > p.Position(d.FurthestStage) {
		d.FurthestStage = d.Stage
	}
}

// movedWithoutStage reports whether d moved to another pipeline keeping a
// stage code the new pipeline lacks.
func movedWithoutStage(p *Pipeline, old, d *Deal) bool {
	return old != nil && old.PipelineID != d.PipelineID && d.Stage == old.Stage && p.Stage(d.Stage) == nil
}

func notAStage(p *Pipeline) error {
	codes := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		codes[i] = s.Code
	}
	return Invalid([]FieldError{{Field: "stage", Code: "invalid_choice",
		Message: fmt.Sprintf("not a stage of pipeline %s: %s", p.Code, strings.Join(codes, ", "))}})
}
