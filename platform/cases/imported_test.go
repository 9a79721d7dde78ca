package cases_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
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

// TestImportRunFilter: the list's filter import_run lists the cases MarkImportedIn recorded for
// the run, once each however often they were recorded, and combines with the other filters; a run
// id that is not a UUID is refused naming the filter; another tenant lists nothing of it.
func TestImportRunFilter(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: fakeCipher{}, Usage: &usage{}, PhotoDir: t.TempDir()})
		acceptor := as(e.TenantA, uuid.New(), tenants.Acceptor)
		var ids []string
		for _, class := range []string{"0101", "0101", "0102"} {
			c, err := s.Report(acceptor, cases.ReportInput{Kind: "component", ClassCode: class, Lon: 101.5, Lat: 25})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		run := uuid.New().String()
		for _, part := range [][]string{ids[:2], ids[1:2]} {
			if err := e.Store.Tx(e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
				return cases.MarkImportedIn(ctx, db, run, part)
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			ctx  context.Context
			f    cases.Filter
			want int
		}{
			{acceptor, cases.Filter{ImportRun: run}, 2},
			{acceptor, cases.Filter{ImportRun: strings.ToUpper(run)}, 2},
			{acceptor, cases.Filter{ImportRun: run, ClassCode: "0102"}, 0},
			{acceptor, cases.Filter{ImportRun: uuid.New().String()}, 0},
			{acceptor, cases.Filter{}, 3},
			{as(e.TenantB, uuid.New(), tenants.Acceptor), cases.Filter{ImportRun: run}, 0},
		} {
			page, err := s.FindCases(tc.ctx, tc.f)
			if err != nil || len(page.Cases) != tc.want {
				t.Fatalf("%+v: %v, want %d cases", tc.f, err, tc.want)
			}
		}
		for _, bad := range []string{"x", "{" + run + "}", "urn:uuid:" + run, run + "\x00"} {
			if _, err := s.FindCases(acceptor, cases.Filter{ImportRun: bad}); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "import_run" {
				t.Errorf("%q: %v", bad, err)
			}
		}
	})
}
