package core_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

// applied is d with patch (JSON) applied as a client's write would be.
func applied(t *testing.T, d core.Deal, patch string) *core.Deal {
	t.Helper()
	var p core.Patch
	require.NoError(t, json.Unmarshal([]byte(patch), &p))
	require.Empty(t, core.DealSchema().Apply(&d, p, ""))
	return &d
}

func fieldCodes(err error) map[string]string {
	out := map[string]string{}
	for _, f := range core.ErrorFields(err) {
		out[f.Field] = f.Code
	}
	return out
}

func TestPlaceDeal(t *testing.T) {
	t.Parallel()

	sales := core.DefaultPipeline()
	sales.ID = "0190a5c0-0000-7000-8000-000000000001"
	tenders := core.Pipeline{Code: "tenders", Stages: []core.Stage{
		{Code: "announced", Probability: 5, Kind: core.StageOpen},
		{Code: "bid", Probability: 30, Kind: core.StageOpen},
		{Code: "won", Probability: 100, Kind: core.StageWon},
		{Code: "lost", Probability: 0, Kind: core.StageLost},
	}}
	tenders.ID = "0190a5c0-0000-7000-8000-000000000002"
	now := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)

	// place creates a deal from patch, or changes old by it.
	place := func(t *testing.T, p *core.Pipeline, old *core.Deal, patch string) (*core.Deal, error) {
		t.Helper()
		base := core.Deal{}
		if old != nil {
			base = *old
		}
		d := applied(t, base, patch)
		return d, core.PlaceDeal(p, old, d, false, now)
	}

	t.Run("NewDealStartsInFirstOpenStage", func(t *testing.T) {
		t.Parallel()
		d, err := place(t, &sales, nil, `{"name":"Поставка ноутбуков"}`)
		require.NoError(t, err)
		require.Equal(t, sales.ID, d.PipelineID)
		require.Equal(t, "prospecting", d.Stage)
		require.EqualValues(t, 10, d.Probability)
		require.Equal(t, "prospecting", d.FurthestStage)
		require.Nil(t, d.ClosedAt)
		require.Equal(t, "2026-12-27", d.CloseDate.String(), "a month ahead")
	})

	t.Run("GivenCloseDateStays", func(t *testing.T) {
		t.Parallel()
		d, err := place(t, &sales, nil, `{"name":"X","close_date":"2027-03-01"}`)
		require.NoError(t, err)
		require.Equal(t, "2027-03-01", d.CloseDate.String())
	})

	t.Run("ProbabilityFollowsStageUnlessGiven", func(t *testing.T) {
		t.Parallel()
		d, err := place(t, &sales, nil, `{"name":"X"}`)
		require.NoError(t, err)
		d2, err := place(t, &sales, d, `{"stage":"qualification"}`)
		require.NoError(t, err)
		require.EqualValues(t, 20, d2.Probability, "the probability follows the stage")
		d3, err := place(t, &sales, d2, `{"stage":"negotiation_review","probability":90}`)
		require.NoError(t, err)
		require.EqualValues(t, 90, d3.Probability, "unless given")
		d4, err := place(t, &sales, d3, `{"amount":"160000"}`)
		require.NoError(t, err)
		require.EqualValues(t, 90, d4.Probability, "other edits keep it")
		require.Equal(t, "2026-12-27", d4.CloseDate.String(), "only a new deal gets a close date")
	})

	t.Run("UnknownStage", func(t *testing.T) {
		t.Parallel()
		d, err := place(t, &sales, nil, `{"name":"X"}`)
		require.NoError(t, err)
		_, err = place(t, &sales, d, `{"stage":"won"}`)
		require.Equal(t, map[string]string{"stage": "invalid_choice"}, fieldCodes(err))
		require.Contains(t, err.Error(), "not a stage of pipeline sales: prospecting, qualification")
		_, err = place(t, &tenders, nil, `{"name":"X","stage":"qualification"}`)
		require.Equal(t, map[string]string{"stage": "invalid_choice"}, fieldCodes(err), "a stage of another pipeline")
	})

	t.Run("ClosingKeepsFurthestStage", func(t *testing.T) {
		t.Parallel()
		d, err := place(t, &sales, nil, `{"name":"X","stage":"negotiation_review"}`)
		require.NoError(t, err)
		back, err := place(t, &sales, d, `{"stage":"qualification"}`)
		require.NoError(t, err)
		require.Equal(t, "negotiation_review", back.FurthestStage, "a move back keeps how far the deal got")
		won, err := place(t, &sales, back, `{"stage":"closed_won"}`)
		require.NoError(t, err)
		require.Equal(t, now, *won.ClosedAt)
		require.Equal(t, "negotiation_review", won.FurthestStage, "closing keeps how far the deal got")
		require.EqualValues(t, 100, won.Probability)
	})

	t.Run("ClosedDealKeepsItsCloseTime", func(t *testing.T) {
		t.Parallel()
		closed := now.Add(-time.Hour)
		old := &core.Deal{Name: "X", PipelineID: sales.ID, Stage: "closed_won", ClosedAt: &closed}
		d, err := place(t, &sales, old, `{"stage":"closed_lost"}`)
		require.NoError(t, err)
		require.Equal(t, closed, *d.ClosedAt)
	})

	t.Run("NewPipelineStartsOver", func(t *testing.T) {
		t.Parallel()
		d, err := place(t, &sales, nil, `{"name":"X","stage":"negotiation_review"}`)
		require.NoError(t, err)
		moved, err := place(t, &tenders, d, `{"pipeline_id":"`+tenders.ID+`"}`)
		require.NoError(t, err)
		require.Equal(t, "announced", moved.Stage, "its stage is not the new pipeline's: the first open one")
		require.EqualValues(t, 5, moved.Probability)
		require.Equal(t, "announced", moved.FurthestStage)
	})

	t.Run("Reopening", func(t *testing.T) {
		t.Parallel()
		closed := now.Add(-time.Hour)
		old := &core.Deal{Name: "X", PipelineID: sales.ID, Stage: "closed_won", ClosedAt: &closed,
			FurthestStage: "negotiation_review"}
		old.ID = "deal-id"

		err := core.CheckDealChange(old, false)
		require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "a won deal is closed")
		require.Contains(t, err.Error(), "/api/v1/deals/deal-id/reopen")
		require.NoError(t, core.CheckDealChange(old, true))
		require.NoError(t, core.CheckDealChange(nil, false))

		d := applied(t, *old, `{"stage":"closed_lost"}`)
		require.Equal(t, map[string]string{"stage": "not_open"}, fieldCodes(core.PlaceDeal(&sales, old, d, true, now)))

		d = applied(t, *old, `{"stage":"negotiation_review"}`)
		require.NoError(t, core.PlaceDeal(&sales, old, d, true, now))
		require.Nil(t, d.ClosedAt)
		require.EqualValues(t, 80, d.Probability)

		d = applied(t, *old, `{"stage":null}`)
		require.NoError(t, core.PlaceDeal(&sales, old, d, true, now))
		require.Equal(t, "prospecting", d.Stage, "no stage: the pipeline's first open one")
	})
}
