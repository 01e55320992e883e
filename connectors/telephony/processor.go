package telephony

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/crmhub/crmhub/core"
	"github.com/crmhub/crmhub/core/inbox"
)

// reporter reads a stored delivery's report: nil when it has nothing to
// apply (a DTMF, a rating); an error means it never can be applied.
type reporter func(d inbox.Delivery) (*core.CallReport, error)

// processor applies a provider's stored deliveries: alone (Process) or,
// for the inbox's batch workers, a claimed batch at once (ProcessBatch):
// the reports of each call merged, all the calls in one transaction.
type processor struct {
	calls  core.CallService
	policy core.CallPolicy
	report reporter
}

// Process is the inbox handler of one delivery.
func (p processor) Process(ctx context.Context, d inbox.Delivery) error {
	return p.ProcessBatch(ctx, []inbox.Delivery{d})[0]
}

// ProcessBatch is the inbox batch handler: the reports of the deliveries
// of each call are applied together, as the telephony source; what cannot
// succeed on a retry fails at once.
func (p processor) ProcessBatch(ctx context.Context, ds []inbox.Delivery) []error {
	errs := make([]error, len(ds))
	var calls []core.CallReports
	var of [][]int // the deliveries of each call
	at := map[string]int{}
	for i, d := range ds {
		r, err := p.report(d)
		if err != nil {
			errs[i] = inbox.Permanent(fmt.Errorf("%s: %w", d.Kind, err))
			continue
		}
		if r == nil {
			continue // kept in the inbox, nothing to do
		}
		k := r.Provider + "\x00" + r.CallID
		j, ok := at[k]
		if !ok {
			j, at[k] = len(calls), len(calls)
			calls = append(calls, core.CallReports{CorrelationID: fmt.Sprintf("inbox:%d", d.ID)})
			of = append(of, nil)
		}
		calls[j].Reports = append(calls[j].Reports, *r)
		of[j] = append(of[j], i)
	}
	if len(calls) == 0 {
		return errs
	}
	ctx = core.NewContextWithActor(ctx, core.Actor{ID: ds[0].Source, Source: "telephony"})
	for j, err := range p.calls.ReportCallBatch(ctx, calls, p.policy) {
		if code := core.ErrorCode(err); code == core.EINVALID || code == core.ENOTFOUND {
			err = inbox.Permanent(err)
		}
		for _, i := range of[j] {
			errs[i] = err
		}
	}
	return errs
}

// setDuration reads a duration in seconds; a closing report's end is its
// start plus the duration.
func setDuration(r *core.CallReport, s string) error {
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("duration: not a number: %q", s)
	}
	r.Duration = &n
	if r.StartedAt != nil && r.Final {
		end := r.StartedAt.Add(time.Duration(n) * time.Second)
		r.EndedAt = &end
	}
	return nil
}

// firstFieldError says which field of a report is wrong, for the provider.
func firstFieldError(err error) error {
	var ce *core.Error
	if errors.As(err, &ce) && len(ce.Fields) > 0 {
		return fmt.Errorf("%s: %s", ce.Fields[0].Field, ce.Fields[0].Message)
	}
	return err
}
