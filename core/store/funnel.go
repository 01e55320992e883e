package store

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/crmhub/crmhub/core"
)

var _ core.FunnelService = (*Store)(nil)

// funnelSQL groups the pipeline's deals by owner, current stage position
// and furthest open stage position reached (won deals: all the way), from
// the deals_funnel index alone. $1 pipeline, $2..$4 the stage codes,
// positions and kinds, $5 the last open position, then filters.
const funnelSQL = `WITH st AS (SELECT * FROM unnest($2::text[], $3::int[], $4::text[]) AS s(code, pos, kind)),
d AS (
	SELECT d.owner_id, d.amount, cs.pos AS cur, cs.kind,
		CASE WHEN cs.kind = 'won' THEN $5 ELSE fs.pos END AS reach
	FROM deals d JOIN st cs ON cs.code = d.stage LEFT JOIN st fs ON fs.code = d.furthest_stage
	WHERE d.pipeline_id = $1 AND d.deleted_at IS NULL %s
)
SELECT owner_id::text, cur, kind, coalesce(reach, -1), count(*), coalesce(sum(amount), 0)
FROM d GROUP BY owner_id, cur, kind, reach`

// Funnel implements core.FunnelService.
func (s *Store) Funnel(ctx context.Context, f core.FunnelFilter) (*core.Funnel, error) {
	p, err := pipelineFor(ctx, s.db(ctx), s.tables.pipeline, f.PipelineID)
	if err != nil {
		return nil, err
	}
	codes, kinds := make([]string, len(p.Stages)), make([]string, len(p.Stages))
	pos := make([]int32, len(p.Stages))
	lastOpen := -1
	for i, st := range p.Stages {
		codes[i], pos[i], kinds[i] = st.Code, int32(i), st.Kind
		if st.Kind == core.StageOpen {
			lastOpen = i
		}
	}
	q := &query{args: []any{p.ID, codes, pos, kinds, lastOpen}}
	if f.OwnerID != "" {
		q.where("d.owner_id = " + q.arg(f.OwnerID))
	}
	if !f.From.IsZero() {
		q.where("d.created_at >= " + q.arg(f.From))
	}
	if !f.To.IsZero() {
		q.where("d.created_at < " + q.arg(f.To))
	}
	acc := core.AccessFromContext(ctx)
	if c := visibleCond(q, acc, core.EntityDeal, false, core.ActView, "d."); c != "" {
		q.where(c)
	}
	extra := ""
	for _, c := range q.conds {
		extra += " AND " + c
	}
	sql := fmt.Sprintf(funnelSQL, extra)
	if acc != nil && acc.Field(core.EntityDeal, "amount") == core.FieldHidden {
		sql = strings.Replace(sql, "SELECT d.owner_id, d.amount,", "SELECT d.owner_id, NULL::numeric AS amount,", 1) // the sums show nothing
	}
	rows, err := s.db(ctx).Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("funnel: %w", err)
	}
	defer rows.Close()
	all := newFunnelAcc(p)
	owners := map[string]*funnelAcc{}
	for rows.Next() {
		var owner, kind string
		var cur, reach int
		var n int64
		var amount decimal.Decimal
		if err := rows.Scan(&owner, &cur, &kind, &reach, &n, &amount); err != nil {
			return nil, fmt.Errorf("funnel: %w", err)
		}
		if owners[owner] == nil {
			owners[owner] = newFunnelAcc(p)
		}
		for _, acc := range []*funnelAcc{all, owners[owner]} {
			acc.add(cur, kind, reach, n, amount)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("funnel: %w", err)
	}
	out := &core.Funnel{PipelineID: p.ID, FunnelPart: all.part(), ByOwner: []core.OwnerFunnel{}}
	for id, acc := range owners {
		out.ByOwner = append(out.ByOwner, core.OwnerFunnel{OwnerID: id, FunnelPart: acc.part()})
	}
	sort.Slice(out.ByOwner, func(i, j int) bool { return out.ByOwner[i].OwnerID < out.ByOwner[j].OwnerID })
	return out, nil
}

// funnelAcc adds up grouped rows for one set of deals.
type funnelAcc struct {
	p                *core.Pipeline
	current, reached []tally
	won, lost, total tally
}

type tally struct {
	n      int64
	amount decimal.Decimal
}

func (t *tally) add(n int64, amount decimal.Decimal) { t.n += n; t.amount = t.amount.Add(amount) }

func (t tally) out() core.Tally {
	return core.Tally{Count: t.n, Amount: core.NewMoney(t.amount.Round(2))}
}

func newFunnelAcc(p *core.Pipeline) *funnelAcc {
	return &funnelAcc{p: p, current: make([]tally, len(p.Stages)), reached: make([]tally, len(p.Stages))}
}

func (a *funnelAcc) add(cur int, kind string, reach int, n int64, amount decimal.Decimal) {
	a.total.add(n, amount)
	switch kind {
	case core.StageWon:
		a.won.add(n, amount)
	case core.StageLost:
		a.lost.add(n, amount)
	default:
		a.current[cur].add(n, amount)
	}
	for i := 0; i <= reach && i < len(a.reached); i++ {
		if a.p.Stages[i].Kind == core.StageOpen {
			a.reached[i].add(n, amount)
		}
	}
}

func (a *funnelAcc) part() core.FunnelPart {
	out := core.FunnelPart{Stages: []core.FunnelStage{}, Won: a.won.out(), Lost: a.lost.out(), Total: a.total.out()}
	prev := int64(-1)
	for i, st := range a.p.Stages {
		if st.Kind != core.StageOpen {
			continue
		}
		fs := core.FunnelStage{Code: st.Code, LabelRU: st.LabelRU, LabelEN: st.LabelEN,
			Current: a.current[i].out(), Reached: a.reached[i].out()}
		if prev > 0 {
			c := math.Round(float64(a.reached[i].n)/float64(prev)*10000) / 10000
			fs.Conversion = &c
		}
		prev = a.reached[i].n
		out.Stages = append(out.Stages, fs)
	}
	return out
}
