package cases_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

func TestWaitingStatesFollowTheMachine(t *testing.T) {
	for post, want := range map[tenants.Role][]cases.State{
		tenants.Inspector:  {cases.Verifying, cases.Checking},
		tenants.Dispatcher: {cases.Filed, cases.ReturnRequested},
		tenants.Handler:    {cases.Dispatched, cases.Handling},
		tenants.Leader:     nil,
	} {
		if got := cases.WaitingStates(post); !slices.Equal(got, want) {
			t.Errorf("%s waits in %v, want %v", post, got, want)
		}
	}
	if open := cases.OpenStates(); slices.Contains(open, cases.Closed) || slices.Contains(open, cases.Voided) || len(open) != 13 {
		t.Errorf("open states %v", open)
	}
}

// TestQueueAndActionsFor: an inbox counts what waits, what is about to be overdue and what is
// overdue; a handler sees only its department's cases; ActionsFor offers exactly what Act takes.
func TestQueueAndActionsFor(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		clk := &clock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)} // a Monday, 09:00 in Beijing
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: fakeCipher{}, PhotoDir: t.TempDir(), Now: clk.now, RulesTTL: -1})
		o := org.NewService(e.Store, nil)
		dept, err := o.CreateDepartment(e.A, org.DepartmentInput{Code: "SZJ", Name: "市政局"})
		if err != nil {
			t.Fatal(err)
		}
		hid, other := uuid.New(), uuid.New()
		h := hid.String()
		if _, err := o.CreateStaff(e.A, org.StaffInput{IdentityID: &h, Name: "处置员", DepartmentID: &dept.ID, Posts: []org.Post{"handler"}}); err != nil {
			t.Fatal(err)
		}
		ctx := map[tenants.Role]context.Context{}
		for _, r := range []tenants.Role{tenants.Acceptor, tenants.ShiftLead, tenants.Dispatcher, tenants.Leader} {
			ctx[r] = as(e.TenantA, uuid.New(), r)
		}
		ctx[tenants.Handler] = as(e.TenantA, hid, tenants.Handler)
		stranger := as(e.TenantA, other, tenants.Handler)

		report := func() *cases.Case {
			c, err := s.Report(ctx[tenants.Acceptor], cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		act := func(c *cases.Case, r tenants.Role, a cases.Action, in cases.ActionInput) *cases.Case {
			t.Helper()
			in.Version, in.Reason = c.Version, "test"
			got, err := s.Act(ctx[r], c.ID, a, in)
			if err != nil {
				t.Fatalf("%s by %s: %v", a, r, err)
			}
			return got
		}
		first := report()
		clk.add(20 * time.Minute)
		second := report()
		queue := func(q cases.Queue) *cases.QueuePage {
			t.Helper()
			q.Soon = 15 * time.Minute
			p, err := s.FindQueue(ctx[tenants.Acceptor], q)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		// Half a working hour to accept: the first is 10 minutes from its deadline, the second 30.
		p := queue(cases.Queue{States: cases.WaitingStates(tenants.Acceptor)})
		if p.Waiting != 2 || p.DueSoon != 1 || p.Overdue != 0 || len(p.Cases) != 2 || p.Cases[0].ID != first.ID {
			t.Fatalf("acceptor's inbox: %+v", p)
		}
		clk.add(15 * time.Minute) // the first is overdue now, before the job has flagged it
		p = queue(cases.Queue{States: cases.WaitingStates(tenants.Acceptor)})
		if p.Waiting != 2 || p.Overdue != 1 || p.DueSoon != 1 || p.Cases[0].ID != first.ID {
			t.Fatalf("acceptor's inbox later: %+v", p)
		}
		if p := queue(cases.Queue{States: cases.OpenStates(), Late: true, Limit: 1}); p.Waiting != 2 || len(p.Cases) != 1 {
			t.Fatalf("late cases: %+v", p)
		}

		// ActionsFor is what the machine lets the caller's post do now.
		if got, _ := s.ActionsFor(ctx[tenants.Acceptor], first); !slices.Equal(got, []cases.Action{cases.Accept, cases.SendVerify, cases.Void}) {
			t.Fatalf("acceptor's actions: %v", got)
		}
		if got, _ := s.ActionsFor(ctx[tenants.ShiftLead], first); len(got) != 0 {
			t.Fatalf("shift lead's actions on a reported case: %v", got)
		}
		if got, _ := s.ActionsFor(ctx[tenants.Leader], first); !slices.Equal(got, []cases.Action{cases.Supervise}) {
			t.Fatalf("leader's actions: %v", got)
		}
		if got, _ := s.ActionsFor(e.View, first); len(got) != 0 {
			t.Fatalf("read-only actions: %v", got)
		}
		c := act(first, tenants.Acceptor, cases.Accept, cases.ActionInput{})
		c = act(c, tenants.ShiftLead, cases.File, cases.ActionInput{Limit: &calendar.Limit{Amount: 2, Unit: calendar.UrgentHours}})
		c = act(c, tenants.Dispatcher, cases.Dispatch, cases.ActionInput{DepartmentID: dept.ID})
		if got, _ := s.ActionsFor(ctx[tenants.Handler], c); !slices.Equal(got, []cases.Action{cases.Take, cases.RequestReturn}) {
			t.Fatalf("handler's actions: %v", got)
		}
		if got, _ := s.ActionsFor(stranger, c); len(got) != 0 {
			t.Fatalf("another department's handler: %v", got)
		}
		mine, err := s.FindQueue(ctx[tenants.Handler], cases.Queue{States: cases.WaitingStates(tenants.Handler), Handler: h})
		if err != nil || mine.Waiting != 1 || mine.Cases[0].ID != c.ID {
			t.Fatalf("handler's inbox: %+v %v", mine, err)
		}
		if p, err := s.FindQueue(stranger, cases.Queue{States: cases.WaitingStates(tenants.Handler), Handler: other.String()}); err != nil || p.Waiting != 0 {
			t.Fatalf("a handler with no department: %+v %v", p, err)
		}
		_ = second

		if err := s.CheckPhoto([]byte("not an image")); !errs.Is(err, errs.Unsupported) {
			t.Fatalf("a text file as a photo: %v", err)
		}
		if err := s.CheckPhoto([]byte("\x89PNG\r\n\x1a\nrest")); err != nil {
			t.Fatalf("a PNG: %v", err)
		}
		s.SetMaxPhoto(4)
		if err := s.CheckPhoto([]byte("\x89PNG\r\n\x1a\nrest")); !errs.Is(err, errs.TooLarge) {
			t.Fatalf("an oversize photo: %v", err)
		}
		if !s.CanAddPhoto(ctx[tenants.Handler], c) || s.CanAddPhoto(e.View, c) {
			t.Fatal("CanAddPhoto")
		}
	})
}
