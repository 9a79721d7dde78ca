package cases

import (
	"slices"
	"testing"
)

// TestEveryStateHasAStage: every state that is not final is in exactly one timed stage, every
// stage has states, and every stage but handling has a default limit.
func TestEveryStateHasAStage(t *testing.T) {
	for _, tr := range Machine {
		for _, s := range []State{tr.From, tr.To} {
			if got := StageOf(s); (got == "") != s.Final() {
				t.Errorf("state %s: stage %q", s, got)
			}
		}
	}
	defaults := DefaultStageLimits()
	for _, st := range Stages {
		if len(statesOf(st)) == 0 {
			t.Errorf("stage %s has no state", st)
		}
		has := slices.ContainsFunc(defaults, func(l StageLimit) bool { return l.Stage == st })
		if has == (st == StageHandle) {
			t.Errorf("stage %s: default limit %v", st, has)
		}
	}
	for _, l := range defaults {
		if l.Limit.Validate() != nil || l.Urgent.Validate() != nil || !l.Urgent.Unit.Natural() {
			t.Errorf("default of %s: %+v", l.Stage, l)
		}
	}
}
