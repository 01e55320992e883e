package reportsql

import (
	"strings"

	"github.com/crmhub/crmhub/core"
)

// pipelineStages gives each pipeline's stages as arrays (codes, kinds;
// positions from 1) and its last open position.
const pipelineStages = `(SELECT p.id AS pipeline_id, array_agg(s.v->>'code' ORDER BY s.o) AS codes,
	array_agg(s.v->>'kind' ORDER BY s.o) AS kinds, max(s.o) FILTER (WHERE s.v->>'kind' = 'open') AS last_open
	FROM pipelines p, jsonb_array_elements(p.stages) WITH ORDINALITY s(v, o) GROUP BY p.id)`

// stagePairs lists, per pipeline, every open stage (code, pos) a deal
// whose stage is at position cur and who got as far as position reach (0:
// nowhere) is in now (here) or has reached (reached).
const stagePairs = `(SELECT pl.pipeline_id, c.cur, r.reach, s.pos, pl.codes[s.pos] AS code, s.pos = c.cur AS here,
	s.pos <= r.reach AS reached
	FROM ` + pipelineStages + ` pl, generate_series(1, cardinality(pl.codes)) c(cur),
		generate_series(0, cardinality(pl.codes)) r(reach), generate_series(1, cardinality(pl.codes)) s(pos)
	WHERE pl.kinds[s.pos] = 'open' AND (s.pos = c.cur OR s.pos <= r.reach))`

// dealFunnelFrom pairs each live deal (%[1]s_deal) with the open stages of
// its pipeline (%[1]s_pl) it has reached or is in now (%[1]s: code, pos,
// here, reached). It reaches them as the funnel (core/store/funnel.go)
// counts: a won deal every open stage, any other deal the open stages up
// to its furthest one; a deal whose stage is not in its pipeline is in no
// funnel. Each deal is read once and finds its stages by its pipeline,
// the position of its stage and how far it got, in stagePairs.
const dealFunnelFrom = `deals %[1]s_deal
	JOIN ` + pipelineStages + ` %[1]s_pl ON %[1]s_pl.pipeline_id = %[1]s_deal.pipeline_id
	JOIN ` + stagePairs + ` %[1]s ON %[1]s.pipeline_id = %[1]s_deal.pipeline_id
		AND %[1]s.cur = array_position(%[1]s_pl.codes, %[1]s_deal.stage)
		AND %[1]s.reach = coalesce(CASE WHEN %[1]s_pl.kinds[array_position(%[1]s_pl.codes, %[1]s_deal.stage)] = 'won'
			THEN %[1]s_pl.last_open ELSE array_position(%[1]s_pl.codes, %[1]s_deal.furthest_stage) END, 0)`

// dealFunnel is the report entity deal_funnel: a row per deal and open
// stage it reached or is in now, so that grouped by stage its reached
// figures are the funnel's (GET /funnel) and its in-stage figures the
// open deals in each stage. The reached figures add up over deals, not
// over stages: a total over stages leaves them out.
func dealFunnel() *Entity {
	e := &Entity{name: "deal_funnel", label: "Воронка: сделка на этапе", from: dealFunnelFrom,
		live: "%[1]s_deal.deleted_at IS NULL", row: "%[1]s_deal", rights: core.EntityDeal,
		fields: map[string]rField{}, links: map[string]rLink{}}
	for _, s := range []string{"id id Сделка (Ид)", "created_at datetime Создана", "updated_at datetime Изменена",
		"name text Название", "probability integer Вероятность", "amount money Сумма", "currency text Валюта",
		"close_date date Дата закрытия", "closed_at datetime Закрыта", "source text Источник", "type text Тип",
		"pipeline_id id Воронка (Ид)", "owner_id id Ответственный (Ид)", "account_id id Контрагент (Ид)",
		"contact_id id Контакт (Ид)", "deal_stage text Этап сделки"} {
		parts := strings.SplitN(s, " ", 3)
		col := parts[0]
		if col == "deal_stage" {
			col = "stage"
		}
		e.fields[parts[0]] = rField{expr: "%[1]s_deal." + col, typ: parts[1], label: parts[2]}
	}
	here, reached := "%[1]s.here", "%[1]s.reached"
	e.computed("stage", rText, "Этап", "%[1]s.code").ordered("stage", "%[1]s.pos").
		labelled("stage", core.DefaultStagePicklist()).liveLabelled("stage", stageLabels).
		labelled("deal_stage", core.DefaultStagePicklist()).liveLabelled("deal_stage", stageLabels).
		labelled("source", core.LeadSources()).labelled("type", core.DealTypes()).
		computed("deal_stage_kind", rText, "Итог сделки", "%[1]s_pl.kinds[%[1]s.cur]").
		labelled("deal_stage_kind", core.StageKinds()).
		computed("in_stage", rID, "Сделки в этапе", "CASE WHEN "+here+" THEN %[1]s_deal.id END").
		computed("in_stage_amount", rMoney, "Сумма в этапе", "CASE WHEN "+here+" THEN coalesce(%[1]s_deal.amount, 0) END").
		computed("in_stage_weighted_amount", rMoney, "Взвешенная сумма в этапе",
			"CASE WHEN "+here+" THEN coalesce(round(%[1]s_deal.amount * %[1]s_deal.probability / 100.0, 2), 0) END").
		computed("reached", rID, "Дошли до этапа", "CASE WHEN "+reached+" THEN %[1]s_deal.id END").
		computed("reached_amount", rMoney, "Сумма дошедших", "CASE WHEN "+reached+" THEN coalesce(%[1]s_deal.amount, 0) END").
		within("reached", "stage").within("reached_amount", "stage")
	e.links["deal"] = rLink{target: "deal", fk: "%[1]s_deal.id", label: "Сделка"}
	e.links["owner"] = rLink{target: "user", fk: "%[1]s_deal.owner_id", label: "Ответственный"}
	e.links["account"] = rLink{target: "account", fk: "%[1]s_deal.account_id", label: "Контрагент"}
	e.links["contact"] = rLink{target: "contact", fk: "%[1]s_deal.contact_id", label: "Контакт"}
	return e
}
