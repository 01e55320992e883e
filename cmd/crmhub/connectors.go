package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/crmhub/crmhub/connectors/telephony"
	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
	"github.com/crmhub/crmhub/core/store"
)

// connectors are the enabled webhook connectors and the inbox workers that
// process what they receive.
type connectors struct {
	hooks   []core.Webhook
	workers []*inbox.Worker
	wg      sync.WaitGroup
}

func newConnectors(cfg Config, st *store.Store, log *slog.Logger) (*connectors, error) {
	c := &connectors{}
	in := inbox.New(st.Pool())
	if g := cfg.Telephony.Generic; g.Secret != "" {
		h, err := telephony.NewGeneric(telephony.Config{Secret: g.Secret, Policy: g.policy(), Logger: log}, in, st)
		if err != nil {
			return nil, err
		}
		c.hooks = append(c.hooks, h)
		c.workers = append(c.workers, in.NewWorker(inbox.WorkerConfig{Source: h.Source(), Logger: log}, h.Process))
		log.Info("connector_enabled", "connector", "telephony/generic", "path", "/hooks/"+h.Path())
	}
	return c, nil
}

// start runs the workers until ctx ends; wait waits for them.
func (c *connectors) start(ctx context.Context) {
	for _, w := range c.workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_ = w.Run(ctx)
		}()
	}
}

func (c *connectors) wait() { c.wg.Wait() }
