package cases_test

import (
	"testing"

	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/tenants"
)

// TestActionResult: every action of the machine leads where the machine says, by its first post;
// report, self_handle and supervise are the machine's exceptions; anything else is not an action.
func TestActionResult(t *testing.T) {
	for _, tc := range []struct {
		a    cases.Action
		to   cases.State
		post tenants.Role
	}{
		{cases.Report, cases.Reported, tenants.Acceptor},
		{cases.SelfHandle, cases.Closed, tenants.Inspector},
		{cases.Supervise, "", tenants.Leader},
		{cases.Void, cases.Voided, tenants.Acceptor},
		{cases.Check, cases.Checked, tenants.Inspector},
		{cases.Rework, cases.Dispatched, tenants.ShiftLead},
		{cases.ApproveReturn, cases.Filed, tenants.Dispatcher},
	} {
		to, post, ok := cases.ActionResult(tc.a)
		if !ok || to != tc.to || post != tc.post {
			t.Errorf("%s: %s %s %t, want %s %s", tc.a, to, post, ok, tc.to, tc.post)
		}
	}
	for _, tr := range cases.Machine {
		if to, _, ok := cases.ActionResult(tr.Action); !ok || to != tr.To {
			t.Errorf("%s leads to %s, the machine says %s", tr.Action, to, tr.To)
		}
	}
	if _, _, ok := cases.ActionResult("closed"); ok {
		t.Error("closed is a state, not an action")
	}
}
