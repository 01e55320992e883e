package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/store/storetest"
)

func stages(t *testing.T, s interface {
	Deals() core.DealService
}, id string) []string {
	t.Helper()
	h, err := s.Deals().StageHistory(apiCtx(), id)
	require.NoError(t, err)
	var out []string
	for _, c := range h {
		out = append(out, c.From+">"+c.To)
	}
	return out
}

func TestDealStagesAndHistory(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	d, err := s.Deals().Create(ctx, patch(t, `{"name":"Поставка ноутбуков","amount":"150000"}`))
	require.NoError(t, err)
	require.Equal(t, "prospecting", d.Stage, "new deals start in the default pipeline's first open stage")
	require.EqualValues(t, 10, d.Probability)
	require.Equal(t, "RUB", d.Currency)
	require.False(t, d.CloseDate.IsZero())
	require.Nil(t, d.ClosedAt)
	require.Equal(t, []string{">prospecting"}, stages(t, s, d.ID))

	d, err = s.Deals().Update(ctx, d.ID, 0, patch(t, `{"stage":"qualification"}`))
	require.NoError(t, err)
	require.EqualValues(t, 20, d.Probability, "the probability follows the stage")
	d, err = s.Deals().Update(ctx, d.ID, 0, patch(t, `{"stage":"negotiation_review","probability":90}`))
	require.NoError(t, err)
	require.EqualValues(t, 90, d.Probability, "unless given")
	d, err = s.Deals().Update(ctx, d.ID, 0, patch(t, `{"amount":"160000"}`))
	require.NoError(t, err)
	require.EqualValues(t, 90, d.Probability, "other edits keep it")
	require.Equal(t, []string{">prospecting", "prospecting>qualification", "qualification>negotiation_review"}, stages(t, s, d.ID))

	_, err = s.Deals().Update(ctx, d.ID, 0, patch(t, `{"stage":"won"}`))
	require.Equal(t, map[string]string{"stage": "invalid_choice"}, fieldCodes(err))

	d, err = s.Deals().Update(ctx, d.ID, 0, patch(t, `{"stage":"closed_won"}`))
	require.NoError(t, err)
	require.NotNil(t, d.ClosedAt)
	require.Equal(t, "negotiation_review", d.FurthestStage, "closing keeps how far the deal got")
	require.EqualValues(t, 100, d.Probability)

	before := count(t, s, "SELECT count(*) FROM outbox")
	_, err = s.Deals().Update(ctx, d.ID, 0, patch(t, `{"amount":"1"}`))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "a won deal is closed")
	require.Equal(t, core.ECONFLICT, core.ErrorCode(s.Deals().Delete(ctx, d.ID, 0)))
	_, err = s.Deals().Reopen(ctx, d.ID, 0, "closed_lost")
	require.Equal(t, map[string]string{"stage": "not_open"}, fieldCodes(err))
	require.Equal(t, before, count(t, s, "SELECT count(*) FROM outbox"))

	d, err = s.Deals().Reopen(ctx, d.ID, 0, "")
	require.NoError(t, err)
	require.Equal(t, "negotiation_review", d.Stage, "back where it was before it closed")
	require.Nil(t, d.ClosedAt)
	_, err = s.Deals().Reopen(ctx, d.ID, 0, "")
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "only closed deals reopen")
	ev := events(t, s, d.ID)
	require.Equal(t, "deal.updated", ev[len(ev)-1].Type)
	require.Contains(t, ev[len(ev)-1].Changed, "stage")
}

func TestDealsAcrossPipelines(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := apiCtx()
	tenders, err := s.Pipelines().Create(ctx, patch(t, `{"code":"tenders","name":"Тендеры","stages":[
		{"code":"announced","label_ru":"Объявлен","label_en":"Announced","probability":5,"kind":"open"},
		{"code":"bid","label_ru":"Заявка подана","label_en":"Bid","probability":30,"kind":"open"},
		{"code":"won","label_ru":"Выигран","label_en":"Won","probability":100,"kind":"won"},
		{"code":"lost","label_ru":"Проигран","label_en":"Lost","probability":0,"kind":"lost"}]}`))
	require.NoError(t, err)

	d, err := s.Deals().Create(ctx, patch(t, `{"name":"Тендер 44-ФЗ","pipeline_id":"`+tenders.ID+`"}`))
	require.NoError(t, err)
	require.Equal(t, "announced", d.Stage)
	require.EqualValues(t, 5, d.Probability)
	_, err = s.Deals().Update(ctx, d.ID, 0, patch(t, `{"stage":"qualification"}`))
	require.Equal(t, map[string]string{"stage": "invalid_choice"}, fieldCodes(err), "a stage of another pipeline")
	_, err = s.Deals().Create(ctx, patch(t, `{"name":"X","pipeline_id":"0190a5c0-0000-7000-8000-000000000000"}`))
	require.Equal(t, map[string]string{"pipeline_id": "not_found"}, fieldCodes(err))
	_, err = s.Deals().Create(ctx, patch(t, `{"name":"X","account_id":"0190a5c0-0000-7000-8000-000000000000"}`))
	require.Equal(t, map[string]string{"account_id": "not_found"}, fieldCodes(err))
	require.Equal(t, 0, count(t, s, "SELECT count(*) FROM deal_stage_history h JOIN deals d ON d.id = h.deal_id WHERE d.name = 'X'"))

	// Pipelines guard the deals in them.
	_, err = s.Pipelines().Update(ctx, tenders.ID, 0, patch(t, `{"stages":[
		{"code":"bid","label_ru":"Заявка","label_en":"Bid","probability":30,"kind":"open"},
		{"code":"won","label_ru":"Выигран","label_en":"Won","probability":100,"kind":"won"},
		{"code":"lost","label_ru":"Проигран","label_en":"Lost","probability":0,"kind":"lost"}]}`))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "a deal is in the stage that would go")
	require.Equal(t, core.ECONFLICT, core.ErrorCode(s.Pipelines().Delete(ctx, tenders.ID, 0)))
	_, err = s.Pipelines().Update(ctx, tenders.ID, 0, patch(t, `{"default":true}`))
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "one default pipeline")
	_, err = s.Pipelines().Create(ctx, patch(t, `{"code":"bad","name":"Без побед","stages":[
		{"code":"a","label_ru":"А","label_en":"A","probability":5,"kind":"open"},
		{"code":"b","label_ru":"Б","label_en":"B","probability":0,"kind":"lost"}]}`))
	require.Equal(t, map[string]string{"stages": "incomplete"}, fieldCodes(err))

	p, err := s.Deals().List(ctx, core.DealFilter{ListParams: core.ListParams{Sort: core.Sort{Field: "name"}, Limit: 10}, PipelineID: tenders.ID})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
}
