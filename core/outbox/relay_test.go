package outbox

import (
	"errors"
	"fmt"
	"testing"

	"github.com/crmhub/crmhub/core"
)

func rows(seqs ...int64) []row {
	out := make([]row, len(seqs))
	for i, s := range seqs {
		out[i].seq = s
	}
	return out
}

func TestPositionAdvance(t *testing.T) {
	for _, c := range []struct {
		name       string
		pos        position
		late, next []row
		lateFull   bool
		xmin, xmax int64
		want       position
	}{
		{name: "no holes", pos: position{cursor: 10}, next: rows(11, 12, 13), xmin: 5, xmax: 9,
			want: position{cursor: 13}},
		{name: "holes become gaps with the snapshot's xmax", pos: position{cursor: 10}, next: rows(12, 15), xmin: 5, xmax: 9,
			want: position{cursor: 15, gaps: []gap{{11, 11, 9}, {13, 14, 9}}}},
		{name: "a hole before the first event", pos: position{cursor: 0}, next: rows(3), xmin: 1, xmax: 2,
			want: position{cursor: 3, gaps: []gap{{1, 2, 2}}}},
		{name: "found events split their gap", pos: position{cursor: 20, gaps: []gap{{11, 19, 9}}}, late: rows(11, 14, 19),
			xmin: 5, xmax: 12, want: position{cursor: 20, gaps: []gap{{12, 13, 9}, {15, 18, 9}}}},
		{name: "gaps of ended transactions are given up", pos: position{cursor: 20, gaps: []gap{{11, 12, 7}, {15, 15, 9}}},
			late: rows(12), xmin: 8, xmax: 12, want: position{cursor: 20, gaps: []gap{{15, 15, 9}}}},
		{name: "nothing is given up when late was cut short", pos: position{cursor: 20, gaps: []gap{{11, 15, 7}}},
			late: rows(11, 12), lateFull: true, xmin: 8, xmax: 12, want: position{cursor: 20, gaps: []gap{{13, 15, 7}}}},
		{name: "old gaps stay ahead of new ones", pos: position{cursor: 20, gaps: []gap{{11, 11, 9}}}, next: rows(22),
			xmin: 5, xmax: 12, want: position{cursor: 22, gaps: []gap{{11, 11, 9}, {21, 21, 12}}}},
		{name: "nothing new", pos: position{cursor: 20, gaps: []gap{{11, 11, 9}}}, xmin: 5, xmax: 12,
			want: position{cursor: 20, gaps: []gap{{11, 11, 9}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.pos.advance(c.late, c.lateFull, c.next, c.xmin, c.xmax)
			if !got.same(&c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if c.name == "nothing new" && !got.same(&c.pos) {
				t.Fatal("an idle batch must leave the position as it was (no write)")
			}
		})
	}
}

func TestAgainKeepsEachRecordsOrder(t *testing.T) {
	ev := func(id string) core.Event { return core.Event{ID: id + "-ev", Entity: "lead", EntityID: id} }
	events := []core.Event{ev("a"), ev("x"), ev("b"), ev("x"), ev("c")}
	seqs := []int64{1, 2, 3, 4, 5}
	refused := fmt.Errorf("too large: %w", ErrRejected)
	res := results(len(events), Failures{nil, refused, nil, nil, errors.New("timeout")})
	redo, rseqs, permanent := again(events, seqs, res)
	if !permanent {
		t.Fatal("a refusal makes the failures permanent")
	}
	// x's later event was accepted, but goes again after x's failed one; c
	// failed for a passing reason; a and b are done.
	if got := fmt.Sprint(rseqs); got != "[2 4 5]" || len(redo) != 3 {
		t.Fatalf("again: %v", got)
	}
	if r := results(2, errors.New("broker down")); r[0].err == nil || r[1].err == nil || r[0].permanent {
		t.Fatalf("a whole-batch error fails every event for a passing reason: %+v", r)
	}
}
