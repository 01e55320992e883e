package store

import (
	"context"
	"fmt"

	"github.com/crmhub/crmhub/core"
)

// pipelines keeps pipelines; Store.Pipelines returns it.
type pipelines struct {
	repo[core.Pipeline, *core.Pipeline]
}

var _ core.PipelineService = pipelines{}

func newPipelineTable() *table[core.Pipeline, *core.Pipeline] {
	return (&table[core.Pipeline, *core.Pipeline]{
		entity: core.EntityPipeline, name: "pipelines", schema: core.PipelineSchema, ownerless: true,
		cols: func(p *core.Pipeline) []col {
			return []col{{"code", &p.Code}, {"name", &p.Name}, {"stages", &p.Stages}, {"is_default", &p.Default},
				{"active", &p.Active}}
		},
		defaults: func(p *core.Pipeline) { p.Active = true },
		validate: (*core.Pipeline).Validate,
		prepare:  preparePipeline,
		sorts:    commonSorts(map[string]func(*core.Pipeline) string{"name": func(p *core.Pipeline) string { return p.Name }}),
	}).init()
}

// preparePipeline keeps one default pipeline and refuses to drop stages
// that live deals are in.
func preparePipeline(ctx context.Context, db dbtx, old, p *core.Pipeline) error {
	if p.Default {
		var other bool
		err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pipelines WHERE is_default AND deleted_at IS NULL AND id::text <> $1)`,
			p.ID).Scan(&other)
		if err != nil {
			return err
		}
		if other {
			return core.Errorf(core.ECONFLICT, "another pipeline is the default: unset it first")
		}
	}
	if old == nil {
		return nil
	}
	var dropped []string
	for _, s := range old.Stages {
		if p.Stage(s.Code) == nil {
			dropped = append(dropped, s.Code)
		}
	}
	if len(dropped) == 0 {
		return nil
	}
	var inUse []string
	err := db.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT stage), '{}') FROM deals
		WHERE pipeline_id = $1 AND stage = ANY($2) AND deleted_at IS NULL`, p.ID, dropped).Scan(&inUse)
	if err != nil {
		return err
	}
	if len(inUse) > 0 {
		return core.Errorf(core.ECONFLICT, "deals are in the stages %v: move them before removing the stages", inUse)
	}
	return nil
}

// Pipelines returns the pipeline repository.
func (s *Store) Pipelines() core.PipelineService {
	return pipelines{repo[core.Pipeline, *core.Pipeline]{s: s, t: s.tables.pipeline}}
}

// Delete implements core.PipelineService.
func (r pipelines) Delete(ctx context.Context, id string, ifVersion int64) error {
	p, err := r.Get(ctx, id)
	if err != nil {
		return wrap("delete pipeline", err)
	}
	var used bool
	if err := r.s.db(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deals WHERE pipeline_id = $1 AND deleted_at IS NULL)`,
		p.ID).Scan(&used); err != nil {
		return wrap("delete pipeline", err)
	}
	if used {
		return core.Errorf(core.ECONFLICT, "deals use this pipeline: move or delete them first, or set active to false")
	}
	return r.t.delete(ctx, r.s, id, ifVersion)
}

// List implements core.PipelineService.
func (r pipelines) List(ctx context.Context, f core.ListParams) (core.Page[core.Pipeline], error) {
	q := &query{}
	if f.Query != "" {
		q.anyLike(f.Query, "code", "name")
	}
	return r.t.list(ctx, r.s, q, f)
}

// Ensure implements core.PipelineService.
func (r pipelines) Ensure(ctx context.Context, list []core.Pipeline) (int, error) {
	created := 0
	for _, p := range list {
		var exists bool
		if err := r.s.db(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pipelines WHERE code = $1 AND deleted_at IS NULL)`,
			p.Code).Scan(&exists); err != nil {
			return created, wrap("ensure pipelines", err)
		}
		if exists {
			continue
		}
		patch := core.PatchOf(map[string]any{"code": p.Code, "name": p.Name, "stages": p.Stages, "default": p.Default})
		if _, err := r.Create(ctx, patch); err != nil {
			return created, fmt.Errorf("pipeline %s: %w", p.Code, err)
		}
		created++
	}
	return created, nil
}

// pipelineFor loads the pipeline a deal is in: pipelineID, or the default.
func pipelineFor(ctx context.Context, db dbtx, t *table[core.Pipeline, *core.Pipeline], pipelineID string) (*core.Pipeline, error) {
	where, args := "WHERE is_default AND deleted_at IS NULL", []any{}
	if pipelineID != "" {
		where, args = "WHERE id = $1 AND deleted_at IS NULL", []any{pipelineID}
	}
	p, err := t.get1(ctx, db, where, args...)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return nil, core.Invalid([]core.FieldError{{Field: "pipeline_id", Code: "not_found",
			Message: "no such pipeline (and no default one)"}})
	}
	return p, err
}
