package api

import (
	"context"
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/crmhub/crmhub/core"
)

var dealSortFields = []string{"created_at", "updated_at", "name"}

func (s *Server) listDeals(c *fiber.Ctx) error {
	var f core.DealFilter
	return serveList(c, dealSortFields, &f.ListParams, func(l *listQuery, name, v string) bool {
		switch name {
		case "pipeline_id":
			f.PipelineID = l.id(name, v)
		case "stage":
			f.Stages = l.codes(name, v)
		case "account_id":
			f.AccountID = l.id(name, v)
		case "contact_id":
			f.ContactID = l.id(name, v)
		case "open":
			b := l.boolean(name, v)
			f.Open = &b
		case "close_from":
			f.CloseFrom = l.date(name, v)
		case "close_to":
			f.CloseTo = l.date(name, v)
		default:
			return false
		}
		return true
	}, func(ctx context.Context) (core.Page[core.Deal], error) {
		return s.deps.Deals.List(ctx, f)
	})
}

// reopenDeal serves POST /deals/{id}/reopen with an optional {"stage": …}.
func (s *Server) reopenDeal(c *fiber.Ctx) error {
	v, err := s.ifMatch(c)
	if err != nil {
		return err
	}
	var in struct {
		Stage string `json:"stage"`
	}
	if body := c.Body(); len(body) > 0 {
		p, err := core.DecodePatch(body)
		if err != nil {
			return err
		}
		for name, raw := range p {
			if name != "stage" || json.Unmarshal(raw, &in.Stage) != nil {
				return core.Invalid([]core.FieldError{{Field: name, Code: "invalid", Message: "the body may only hold a stage code"}})
			}
		}
	}
	d, err := s.deps.Deals.Reopen(c.UserContext(), c.Params("id"), v, in.Stage)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(d.Version))
	return c.JSON(d)
}

func (s *Server) dealStages(c *fiber.Ctx) error {
	h, err := s.deps.Deals.StageHistory(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": h})
}

var pipelineSortFields = []string{"created_at", "updated_at", "name"}

func (s *Server) listPipelines(c *fiber.Ctx) error {
	var params core.ListParams
	return serveList(c, pipelineSortFields, &params, nil, func(ctx context.Context) (core.Page[core.Pipeline], error) {
		return s.deps.Pipelines.List(ctx, params)
	})
}
