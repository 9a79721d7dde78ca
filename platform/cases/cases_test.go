package cases_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/cityops/cityops/internal/msg"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// msgTestBillingDown is what the failing usage recorder of the tests says.
var msgTestBillingDown = msg.New("cases.test_billing_down", "billing is down", "计费服务不可用")

func TestMain(m *testing.M) { testdb.Main(m) }

// fakeCipher "encrypts" by base64 with a tenant prefix, so a test can tell ciphertext from text.
type fakeCipher struct{}

func (fakeCipher) Encrypt(_ context.Context, t uuid.UUID, p []byte) (string, error) {
	return t.String() + ":" + base64.StdEncoding.EncodeToString(p), nil
}

func (fakeCipher) Decrypt(_ context.Context, t uuid.UUID, c string) ([]byte, error) {
	rest, ok := strings.CutPrefix(c, t.String()+":")
	if !ok {
		return nil, errors.New("another tenant's ciphertext")
	}
	return base64.StdEncoding.DecodeString(rest)
}

func (f fakeCipher) EncryptBatch(ctx context.Context, t uuid.UUID, ps [][]byte) ([]string, error) {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i], _ = f.Encrypt(ctx, t, p)
	}
	return out, nil
}

func (f fakeCipher) DecryptBatch(ctx context.Context, t uuid.UUID, cs []string) ([][]byte, error) {
	out := make([][]byte, len(cs))
	for i, c := range cs {
		var err error
		if out[i], err = f.Decrypt(ctx, t, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type usage struct {
	mu   sync.Mutex
	keys []string
	fail bool
}

func (u *usage) Record(_ context.Context, _ uuid.UUID, meter string, q int64, key string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.fail {
		return errs.E(errs.Unavailable, msgTestBillingDown)
	}
	u.keys = append(u.keys, meter+"/"+key)
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// as is a context of tenant t for an identity holding role.
func as(t *tenants.Tenant, id uuid.UUID, role tenants.Role) context.Context {
	ctx := tenants.WithPrincipal(context.Background(), &tenants.Principal{Identity: &tenants.Identity{ID: id, Email: string(role) + "@test.cn"}})
	return tenants.WithScope(ctx, &tenants.Scope{Tenant: t, Roles: []tenants.Role{role}})
}

// TestServiceLoop runs the service on both dialects: numbers, usage, the clock through a
// suspension and an extension, the overdue job, and two concurrent actions.
func TestServiceLoop(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		clk := &clock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
		u := &usage{}
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: fakeCipher{}, Usage: u, PhotoDir: t.TempDir(), Now: clk.now})
		o := org.NewService(e.Store, nil)
		dept, err := o.CreateDepartment(e.A, org.DepartmentInput{Code: "SZJ", Name: "市政局"})
		if err != nil {
			t.Fatal(err)
		}
		handlerID := uuid.New()
		hid := handlerID.String()
		if _, err := o.CreateStaff(e.A, org.StaffInput{IdentityID: &hid, Name: "处置员", DepartmentID: &dept.ID, Posts: []org.Post{"handler"}}); err != nil {
			t.Fatal(err)
		}
		ctx := map[tenants.Role]context.Context{}
		for _, r := range []tenants.Role{tenants.Inspector, tenants.Acceptor, tenants.ShiftLead, tenants.Dispatcher, tenants.Leader} {
			ctx[r] = as(e.TenantA, uuid.New(), r)
		}
		ctx[tenants.Handler] = as(e.TenantA, handlerID, tenants.Handler)

		c, err := s.Report(ctx[tenants.Acceptor], cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25, ReporterName: "李四", ReporterPhone: "139"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Number != "532301-2026-000001" || c.Reporter == nil || c.Reporter.Name != "李四" || c.GridCode != nil {
			t.Fatalf("reported: %+v %+v", c, c.Reporter)
		}
		if len(u.keys) != 1 || u.keys[0] != "cases_created/case:"+c.ID {
			t.Fatalf("usage: %v", u.keys)
		}
		// B's first case has B's own number: counters are per tenant.
		cb, err := s.Report(as(e.TenantB, uuid.New(), tenants.Inspector), cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 102.2, Lat: 25.5})
		if err != nil {
			t.Fatal(err)
		}
		if cb.Number != "532329-2026-000001" {
			t.Fatalf("B's number %s", cb.Number)
		}
		act := func(r tenants.Role, a cases.Action, in cases.ActionInput) {
			t.Helper()
			in.Version = c.Version
			if in.Reason == "" {
				in.Reason = "test"
			}
			got, err := s.Act(ctx[r], c.ID, a, in)
			if err != nil {
				t.Fatalf("%s by %s: %v", a, r, err)
			}
			c = got
		}
		act(tenants.Acceptor, cases.Accept, cases.ActionInput{})
		act(tenants.ShiftLead, cases.File, cases.ActionInput{Limit: &calendar.Limit{Amount: 2, Unit: calendar.UrgentHours}})
		act(tenants.Dispatcher, cases.Dispatch, cases.ActionInput{DepartmentID: dept.ID})
		if c.DeadlineAt == nil || !c.DeadlineAt.Equal(clk.now().Add(2*time.Hour)) {
			t.Fatalf("deadline %v", c.DeadlineAt)
		}
		start := clk.now()
		clk.add(30 * time.Minute)
		act(tenants.Handler, cases.Take, cases.ActionInput{})
		act(tenants.Handler, cases.RequestSuspension, cases.ActionInput{})
		act(tenants.ShiftLead, cases.ApproveSuspension, cases.ActionInput{})
		clk.add(3 * time.Hour) // suspended: the clock stands still
		if n, err := s.MarkOverdue(e.A); err != nil || n != 0 {
			t.Fatalf("overdue while suspended: %d %v", n, err)
		}
		act(tenants.ShiftLead, cases.Resume, cases.ActionInput{})
		act(tenants.Handler, cases.RequestExtension, cases.ActionInput{Extension: &calendar.Limit{Amount: 1, Unit: calendar.UrgentHours}})
		act(tenants.ShiftLead, cases.ApproveExtension, cases.ActionInput{})
		if want := start.Add(6 * time.Hour); !c.DeadlineAt.Equal(want) {
			t.Fatalf("deadline after 3h pause and 1h extension: %v, want %v", c.DeadlineAt, want)
		}
		clk.add(4*time.Hour + 30*time.Minute) // 8h after dispatch: 5h run of 3h allowed
		if n, err := s.MarkOverdue(e.A); err != nil || n != 1 {
			t.Fatalf("overdue job: %d %v", n, err)
		}
		got, err := s.FindCaseByID(ctx[tenants.Leader], c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Overdue || got.OvertimeMultiple != 0.67 || got.Version != c.Version {
			t.Fatalf("after the job: overdue %v multiple %v version %d/%d", got.Overdue, got.OvertimeMultiple, got.Version, c.Version)
		}
		if got.Reporter == nil || got.Reporter.Visibility != "masked" || got.Reporter.Name == "李四" {
			t.Fatalf("a leader sees the reporter: %+v", got.Reporter)
		}
		// Two concurrent actions at the same version: exactly one wins.
		var wg sync.WaitGroup
		errc := make(chan error, 2)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Act(ctx[tenants.Leader], c.ID, cases.Supervise, cases.ActionInput{Version: c.Version, Reason: "督办"})
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		var ok, conflict int
		for err := range errc {
			switch {
			case err == nil:
				ok++
			case errs.Is(err, errs.Conflict):
				conflict++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || conflict != 1 {
			t.Fatalf("concurrent: %d ok, %d conflicts", ok, conflict)
		}
		// Billing being down never stops a report.
		u.fail = true
		if _, err := s.Report(ctx[tenants.Inspector], cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25}); err != nil {
			t.Fatalf("report with billing down: %v", err)
		}
		// The history cannot be rewritten.
		err = e.Store.Tx(e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewUpdate().Table("case_events").Set("reason = 'rewritten'").Where("case_id = ?", c.ID).Exec(ctx)
			return err
		})
		if err == nil {
			t.Fatal("case_events were updated")
		}
	})
}

// TestDeadlineRecorded: the actions that start, move, stop or reset the disposal clock record
// the deadline after them in their event (null while the clock is not running); the others
// record none.
func TestDeadlineRecorded(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		clk := &clock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: fakeCipher{}, PhotoDir: t.TempDir(), Now: clk.now})
		o := org.NewService(e.Store, nil)
		var depts []string
		handlers := map[string]context.Context{}
		for _, code := range []string{"SZJ", "HWZ"} {
			d, err := o.CreateDepartment(e.A, org.DepartmentInput{Code: code, Name: code})
			if err != nil {
				t.Fatal(err)
			}
			id := uuid.New()
			ids := id.String()
			if _, err := o.CreateStaff(e.A, org.StaffInput{IdentityID: &ids, Name: "处置员 " + code, DepartmentID: &d.ID, Posts: []org.Post{"handler"}}); err != nil {
				t.Fatal(err)
			}
			depts = append(depts, d.ID)
			handlers[d.ID] = as(e.TenantA, id, tenants.Handler)
		}
		ctx := map[tenants.Role]context.Context{}
		for _, r := range []tenants.Role{tenants.Inspector, tenants.Acceptor, tenants.ShiftLead, tenants.Dispatcher} {
			ctx[r] = as(e.TenantA, uuid.New(), r)
		}
		c, err := s.Report(ctx[tenants.Acceptor], cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25})
		if err != nil {
			t.Fatal(err)
		}
		// act takes a as r (the department's handler for tenants.Handler) and returns the
		// deadline its event recorded, and whether it recorded one.
		act := func(r tenants.Role, a cases.Action, in cases.ActionInput) (*time.Time, bool) {
			t.Helper()
			in.Version, in.Reason = c.Version, "test"
			cx := ctx[r]
			if r == tenants.Handler {
				cx = handlers[*c.DepartmentID]
			}
			if a == cases.Feedback {
				ph, err := s.AddPhoto(cx, c.ID, []byte("\x89PNG\r\n\x1a\nnot really an image"))
				if err != nil {
					t.Fatal(err)
				}
				in.Attachments = []string{ph.ID}
			}
			got, err := s.Act(cx, c.ID, a, in)
			if err != nil {
				t.Fatalf("%s by %s: %v", a, r, err)
			}
			c = got
			full, err := s.FindCaseByID(ctx[tenants.ShiftLead], c.ID)
			if err != nil {
				t.Fatal(err)
			}
			ev := full.Events[len(full.Events)-1]
			if ev.Action != a {
				t.Fatalf("last event %s, want %s", ev.Action, a)
			}
			var d map[string]json.RawMessage
			if err := json.Unmarshal(ev.Detail, &d); err != nil {
				t.Fatal(err)
			}
			raw, ok := d["deadline"]
			if !ok {
				return nil, false
			}
			var s *string
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("%s: deadline %s: %v", a, raw, err)
			}
			if s == nil {
				return nil, true
			}
			at, err := time.Parse(time.RFC3339, *s)
			if err != nil || at.Location() != time.UTC {
				t.Fatalf("%s: deadline %q: %v", a, *s, err)
			}
			return &at, true
		}
		want := func(a cases.Action, got *time.Time, recorded bool, exp *time.Time) {
			t.Helper()
			switch {
			case !recorded:
				t.Fatalf("%s recorded no deadline", a)
			case exp == nil && got != nil:
				t.Fatalf("%s recorded deadline %v, want null", a, got)
			case exp != nil && (got == nil || !got.Equal(*exp)):
				t.Fatalf("%s recorded deadline %v, want %v", a, got, exp)
			case exp != nil && (c.DeadlineAt == nil || !c.DeadlineAt.Equal(*exp)):
				t.Fatalf("after %s the case's deadline is %v, the event's %v", a, c.DeadlineAt, exp)
			}
		}
		none := func(r tenants.Role, a cases.Action, in cases.ActionInput) {
			t.Helper()
			if d, ok := act(r, a, in); ok {
				t.Fatalf("%s recorded deadline %v", a, d)
			}
		}
		at := func(d time.Duration) *time.Time { x := clk.now().Add(d); return &x }

		none(tenants.Acceptor, cases.Accept, cases.ActionInput{})
		none(tenants.ShiftLead, cases.File, cases.ActionInput{Limit: &calendar.Limit{Amount: 2, Unit: calendar.UrgentHours}})
		start := *at(0)
		d, ok := act(tenants.Dispatcher, cases.Dispatch, cases.ActionInput{DepartmentID: depts[0]})
		want(cases.Dispatch, d, ok, at(2*time.Hour))
		clk.add(30 * time.Minute)
		none(tenants.Handler, cases.Take, cases.ActionInput{})
		none(tenants.Handler, cases.RequestExtension, cases.ActionInput{Extension: &calendar.Limit{Amount: 1, Unit: calendar.UrgentHours}})
		// An extension moves it.
		d, ok = act(tenants.ShiftLead, cases.ApproveExtension, cases.ActionInput{})
		want(cases.ApproveExtension, d, ok, ptrTime(start.Add(3*time.Hour)))
		none(tenants.Handler, cases.RequestSuspension, cases.ActionInput{})
		// While suspended (挂账) the clock stands still: no deadline.
		d, ok = act(tenants.ShiftLead, cases.ApproveSuspension, cases.ActionInput{})
		want(cases.ApproveSuspension, d, ok, nil)
		clk.add(3 * time.Hour)
		// Resumed: later by the pause.
		d, ok = act(tenants.ShiftLead, cases.Resume, cases.ActionInput{})
		want(cases.Resume, d, ok, ptrTime(start.Add(6*time.Hour)))
		none(tenants.Handler, cases.RequestReturn, cases.ActionInput{})
		// Returned (回退): no clock until the next department's dispatch starts a fresh one.
		d, ok = act(tenants.Dispatcher, cases.ApproveReturn, cases.ActionInput{})
		want(cases.ApproveReturn, d, ok, nil)
		clk.add(time.Hour)
		start = *at(0)
		d, ok = act(tenants.Dispatcher, cases.Dispatch, cases.ActionInput{DepartmentID: depts[1]})
		want(cases.Dispatch, d, ok, at(2*time.Hour))
		none(tenants.Handler, cases.Take, cases.ActionInput{})
		clk.add(time.Hour)
		// Feedback stops the clock; the time until rework is not the department's.
		d, ok = act(tenants.Handler, cases.Feedback, cases.ActionInput{})
		want(cases.Feedback, d, ok, nil)
		none(tenants.Acceptor, cases.SendCheck, cases.ActionInput{})
		failed := false
		none(tenants.Inspector, cases.Check, cases.ActionInput{Passed: &failed})
		clk.add(5 * time.Hour)
		d, ok = act(tenants.ShiftLead, cases.Rework, cases.ActionInput{})
		want(cases.Rework, d, ok, ptrTime(start.Add(7*time.Hour)))
	})
}

func ptrTime(t time.Time) *time.Time { return &t }
