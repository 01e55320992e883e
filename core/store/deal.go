package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmhub/crmhub/core"
)

// deals keeps deals; Store.Deals returns it.
type deals struct{ repo[core.Deal, *core.Deal] }

var _ core.DealService = deals{}

func (s *Store) newDealTable() *table[core.Deal, *core.Deal] {
	return (&table[core.Deal, *core.Deal]{
		entity: core.EntityDeal, name: "deals", schema: core.DealSchema,
		cols: func(d *core.Deal) []col {
			return []col{{"name", &d.Name}, {"pipeline_id", &d.PipelineID}, {"stage", &d.Stage},
				{"furthest_stage", &d.FurthestStage}, {"probability", &d.Probability}, {"amount", &d.Amount},
				{"currency", &d.Currency}, {"close_date", &d.CloseDate}, {"account_id", &d.AccountID},
				{"contact_id", &d.ContactID}, {"source", &d.Source}, {"type", &d.Type}, {"next_step", &d.NextStep},
				{"description", &d.Description}, {"closed_at", &d.ClosedAt}, {"lead_id", &d.LeadID},
				{"external_ids", &d.ExternalIDs}}
		},
		defaults:    func(d *core.Deal) { d.Currency, d.ExternalIDs = "RUB", map[string]string{} },
		validate:    (*core.Deal).Validate,
		prepareWith: s.prepareDeal,
		extra:       stageHistory,
		sorts: commonSorts(map[string]func(*core.Deal) string{
			"name": func(d *core.Deal) string { return d.Name },
		}),
	}).init()
}

// prepareDeal places the deal in its pipeline (core.PlaceDeal: the
// default pipeline when none is given) and checks its links; a closed
// deal changes only when o reopens it (core.CheckDealChange).
func (s *Store) prepareDeal(ctx context.Context, db dbtx, old, d *core.Deal, o writeOpts) error {
	if err := core.CheckDealChange(old, o.reopen); err != nil {
		return err
	}
	p, err := pipelineFor(ctx, db, s.tables.pipeline, d.PipelineID)
	if err != nil {
		return err
	}
	if err := core.PlaceDeal(p, old, d, o.reopen, s.now()); err != nil {
		return err
	}
	if err := mustExist(ctx, db, "accounts", "account_id", d.AccountID); err != nil {
		return err
	}
	return mustExist(ctx, db, "contacts", "contact_id", d.ContactID)
}

// stageHistory records a stage change in the deal's transaction.
func stageHistory(ctx context.Context, old, d *core.Deal) []queuedStmt {
	from := ""
	if old != nil {
		if old.Stage == d.Stage && old.PipelineID == d.PipelineID {
			return nil
		}
		from = old.Stage
	}
	a := core.ActorFromContext(ctx)
	return []queuedStmt{{`INSERT INTO deal_stage_history
		(deal_id, pipeline_id, from_stage, to_stage, amount, probability, actor, user_id, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		[]any{d.ID, d.PipelineID, from, d.Stage, d.Amount, d.Probability, a.ID, a.UserID, d.UpdatedAt}}}
}

// Deals returns the deal repository.
func (s *Store) Deals() core.DealService {
	return deals{repo[core.Deal, *core.Deal]{s: s, t: s.tables.deal}}
}

// Delete implements core.DealService; a closed deal must be reopened first.
func (r deals) Delete(ctx context.Context, id string, ifVersion int64) error {
	d, err := r.Get(ctx, id)
	if err != nil {
		return wrap("delete deal", err)
	}
	if d.ClosedAt != nil {
		return core.Errorf(core.ECONFLICT, "the deal is closed (%s): reopen it before deleting", d.Stage)
	}
	return r.t.delete(ctx, r.s, id, ifVersion)
}

// Reopen implements core.DealService.
func (r deals) Reopen(ctx context.Context, id string, ifVersion int64, stage string) (*core.Deal, error) {
	d, err := r.Get(ctx, id)
	if err != nil {
		return nil, wrap("reopen deal", err)
	}
	if d.ClosedAt == nil {
		return nil, core.Errorf(core.ECONFLICT, "the deal is not closed")
	}
	if stage == "" {
		// The open stage it was in before it closed.
		err := r.s.db(ctx).QueryRow(ctx, `SELECT from_stage FROM deal_stage_history
			WHERE deal_id = $1 AND to_stage = $2 ORDER BY id DESC LIMIT 1`, id, d.Stage).Scan(&stage)
		if err != nil && err != pgx.ErrNoRows {
			return nil, wrap("reopen deal", err)
		}
	}
	p := core.PatchOf(map[string]any{"stage": stage})
	if stage == "" {
		p["stage"] = []byte("null") // the pipeline's first open stage
	}
	return r.t.updateWith(ctx, r.s, id, ifVersion, p, writeOpts{reopen: true})
}

// List implements core.DealService.
func (r deals) List(ctx context.Context, f core.DealFilter) (core.Page[core.Deal], error) {
	q := &query{}
	if f.PipelineID != "" {
		q.where("pipeline_id = " + q.arg(f.PipelineID))
	}
	if len(f.Stages) > 0 {
		q.where("stage = ANY(" + q.arg(f.Stages) + ")")
	}
	if f.AccountID != "" {
		q.where("account_id = " + q.arg(f.AccountID))
	}
	if f.ContactID != "" {
		q.where("contact_id = " + q.arg(f.ContactID))
	}
	if f.Open != nil && *f.Open {
		q.where("closed_at IS NULL")
	} else if f.Open != nil {
		q.where("closed_at IS NOT NULL")
	}
	if !f.CloseFrom.IsZero() {
		q.where("close_date >= " + q.arg(f.CloseFrom.Time))
	}
	if !f.CloseTo.IsZero() {
		q.where("close_date <= " + q.arg(f.CloseTo.Time))
	}
	if f.Query != "" {
		q.anyLike(f.Query, "name")
	}
	return r.t.list(ctx, r.s, q, f.ListParams)
}

// StageHistory implements core.DealService.
func (r deals) StageHistory(ctx context.Context, id string) ([]core.StageChange, error) {
	if _, err := r.Get(ctx, id); err != nil {
		return nil, wrap("stage history", err)
	}
	rows, err := r.s.db(ctx).Query(ctx, `SELECT deal_id::text, pipeline_id::text, from_stage, to_stage, amount, probability,
		actor, user_id, at FROM deal_stage_history WHERE deal_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, wrap("stage history", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.StageChange, error) {
		var c core.StageChange
		err := row.Scan(&c.DealID, &c.PipelineID, &c.From, &c.To, &c.Amount, &c.Probability, &c.Actor, &c.UserID, &c.At)
		c.At = c.At.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("stage history: %w", err)
	}
	return out, nil
}
