package core_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crmhub/crmhub/core"
)

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func intp(n int) *int { return &n }

// permutations calls f with every order of reports.
func permutations(reports []core.CallReport, f func([]core.CallReport)) {
	var rec func(k int)
	rec = func(k int) {
		if k == len(reports) {
			f(append([]core.CallReport(nil), reports...))
			return
		}
		for i := k; i < len(reports); i++ {
			reports[k], reports[i] = reports[i], reports[k]
			rec(k + 1)
			reports[k], reports[i] = reports[i], reports[k]
		}
	}
	rec(0)
}

func TestCallMergeIsOrderIndependent(t *testing.T) {
	// A group call as Mango reports it: two employees' phones ring, 102
	// answers, 101's leg ends unanswered, then the summary; and a retry.
	mango := func(r core.CallReport) core.CallReport {
		r.Provider, r.CallID, r.Direction = "mango", "MToxNjc3MDkxMzA6MjI=", core.CallIn
		return r
	}
	reports := []core.CallReport{
		mango(core.CallReport{From: "74951234567", To: "sip:101@vpbx400.mangosip.ru", Extension: "101", StartedAt: at("2026-11-27T10:00:01Z")}),
		mango(core.CallReport{From: "74951234567", Extension: "102", StartedAt: at("2026-11-27T10:00:02Z")}),
		mango(core.CallReport{Extension: "102", AnsweredAt: at("2026-11-27T10:00:09Z")}),
		mango(core.CallReport{Extension: "101", EndedAt: at("2026-11-27T10:00:09Z"), Disposition: core.CallMissed}),
		mango(core.CallReport{From: "8 (495) 123-45-67", Extension: "102", StartedAt: at("2026-11-27T10:00:00Z"),
			EndedAt: at("2026-11-27T10:03:10Z"), Duration: intp(181), Disposition: core.CallAnswered, Final: true}),
		mango(core.CallReport{Extension: "102", AnsweredAt: at("2026-11-27T10:00:09Z")}), // a retry
	}
	var first *core.CallState
	n := 0
	permutations(reports, func(order []core.CallReport) {
		var c core.CallState
		for _, r := range order {
			c.Merge(r)
		}
		n++
		if first == nil {
			first = &c
			return
		}
		require.Equal(t, *first, c, "order %d", n)
	})
	require.Equal(t, 720, n)
	require.Equal(t, core.CallState{Provider: "mango", CallID: "MToxNjc3MDkxMzA6MjI=", Direction: core.CallIn,
		From: "+74951234567", To: "sip:101@vpbx400.mangosip.ru", Extension: "101", AnsweredBy: "102",
		StartedAt: at("2026-11-27T10:00:00Z"), AnsweredAt: at("2026-11-27T10:00:09Z"), EndedAt: at("2026-11-27T10:03:10Z"),
		Duration: 181, Disposition: core.CallAnswered, Final: true}, *first)
	require.Equal(t, "102", first.Employee(), "the call belongs to who answered it")
	require.Equal(t, "+74951234567", first.ClientNumber())
	require.False(t, first.Missed())
}

func TestMissedCall(t *testing.T) {
	var c core.CallState
	c.Merge(core.CallReport{Provider: "zadarma", CallID: "in_1", Direction: core.CallIn, From: "79161234567", To: "74957776655", Extension: "100"})
	require.False(t, c.Missed(), "not over yet")
	c.Merge(core.CallReport{Provider: "zadarma", CallID: "in_1", Final: true, Duration: intp(0), Disposition: core.CallBusy})
	require.True(t, c.Missed())
	require.Equal(t, "100", c.Employee(), "nobody answered: the extension it reached")

	var out core.CallState
	out.Merge(core.CallReport{Provider: "zadarma", CallID: "out_1", Direction: core.CallOut, From: "100", To: "8 916 123-45-67", Final: true, Disposition: core.CallMissed})
	require.False(t, out.Missed(), "an unanswered outgoing call needs no call back")
	require.Equal(t, "+79161234567", out.ClientNumber())
	require.Equal(t, "100", out.From, "an extension stays as written")
}

func TestValidateCallReport(t *testing.T) {
	require.NoError(t, core.ValidateCallReport(&core.CallReport{Provider: "vats", CallID: "abc"}))
	err := core.ValidateCallReport(&core.CallReport{Provider: "Mango!", Direction: "sideways", Disposition: "maybe", Duration: intp(-1)})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
	var ce *core.Error
	require.ErrorAs(t, err, &ce)
	var fields []string
	for _, f := range ce.Fields {
		fields = append(fields, f.Field)
	}
	require.Equal(t, []string{"provider", "provider_call_id", "direction", "disposition", "duration"}, fields)
}
