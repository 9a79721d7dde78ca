package guidance_test

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/guidance"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// figures is a county's monthly indicators, as the evaluation would give them.
type figures map[string]int64

func (f figures) Monthly(context.Context, int, time.Month) (map[string]int64, error) { return f, nil }

var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde")

type env struct {
	*platformtest.Env
	s *guidance.Service
	// Far is a county under another prefecture.
	Far context.Context
	now time.Time
}

func mustEnv(t *testing.T, e *platformtest.Env) *env {
	t.Helper()
	ctx := context.Background()
	p := tenants.NewProvisioner(e.Store)
	other, err := p.Provision(ctx, tenants.NewTenant{Slug: "dali-zhou", NameZH: "大理州", Kind: tenants.Prefecture, AdminCode: "532900"})
	if err != nil {
		t.Fatal(err)
	}
	far, err := p.Provision(ctx, tenants.NewTenant{Slug: "dali", NameZH: "大理市", Kind: tenants.City, AdminCode: "532901", ParentSlug: other.Tenant.Slug})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := guidance.NewService(guidance.Config{Gate: e.Store, Blobs: blob.NewLocal(t.TempDir()), Indicators: figures{"reported": 42, "closed": 40},
		Now: func() time.Time { return now }})
	return &env{Env: e, s: s, Far: tenants.WithScope(ctx, tenants.SystemScope(far.Tenant)), now: now}
}

func mustCode(t *testing.T, err error, want errs.Code) {
	t.Helper()
	if errs.CodeOf(err) != want {
		t.Fatalf("got %v (%s), want %s", err, errs.CodeOf(err), want)
	}
}

func TestNoticeToAcknowledgement(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		e := mustEnv(t, pe)
		n, err := e.s.PublishNotice(e.Pref, guidance.NoticeInput{Kind: "notice", Title: "关于开展市容专项整治的通知", Body: "各县市：……",
			AckDue: "2026-12-10", Counties: []string{"chuxiong"}}, []guidance.Upload{{Name: "方案.png", Data: png}})
		if err != nil {
			t.Fatal(err)
		}
		if len(n.Files) != 1 || n.Files[0].ContentType != "image/png" || !slices.Equal(n.Counties, []string{"chuxiong"}) {
			t.Fatalf("notice %+v", n)
		}
		// A sees it, unread; B, the far county and the prefecture's own inbox do not.
		in, err := e.s.Inbox(e.A)
		if err != nil || len(in) != 1 || in[0].Receipt.ReadAt != nil {
			t.Fatalf("A's inbox %+v %v", in, err)
		}
		for name, ctx := range map[string]context.Context{"B": e.B, "far": e.Far} {
			in, err := e.s.Inbox(ctx)
			if err != nil || len(in) != 0 {
				t.Fatalf("%s's inbox %+v %v", name, in, err)
			}
			_, err = e.s.ReadNotice(ctx, n.ID)
			mustCode(t, err, errs.NotFound)
			_, err = e.s.Acknowledge(ctx, n.ID, "")
			mustCode(t, err, errs.NotFound)
			_, _, err = e.s.InboxFile(ctx, n.ID, n.Files[0].ID)
			mustCode(t, err, errs.NotFound)
		}
		// A county is no prefecture: it publishes nothing and reads no status.
		_, err = e.s.PublishNotice(e.A, guidance.NoticeInput{Kind: "notice", Title: "x", All: true}, nil)
		mustCode(t, err, errs.NotFound)
		_, err = e.s.NoticeStatus(e.A, n.ID)
		mustCode(t, err, errs.NotFound)

		// A reads (receipt), downloads the attachment, acknowledges.
		if got, err := e.s.ReadNotice(e.A, n.ID); err != nil || got.Receipt.ReadAt == nil || got.Receipt.AckedAt != nil {
			t.Fatalf("read %+v %v", got, err)
		}
		f, r, err := e.s.InboxFile(e.A, n.ID, n.Files[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if f.Name != "方案.png" || string(b) != string(png) {
			t.Fatalf("file %+v %q", f, b)
		}
		st, err := e.s.NoticeStatus(e.Pref, n.ID)
		if err != nil || len(st.Receipts) != 1 || st.Read != 1 || st.Acked != 0 {
			t.Fatalf("status %+v %v", st, err)
		}
		// The viewer (read-only) cannot acknowledge.
		_, err = e.s.Acknowledge(e.View, n.ID, "")
		mustCode(t, err, errs.Forbidden)
		if _, err := e.s.Acknowledge(e.A, n.ID, "已部署"); err != nil {
			t.Fatal(err)
		}
		if again, err := e.s.Acknowledge(e.A, n.ID, "再次"); err != nil || again.Receipt.Note != "已部署" {
			t.Fatalf("second acknowledgement %+v %v", again, err)
		}
		st, err = e.s.NoticeStatus(e.Pref, n.ID)
		if err != nil || st.Acked != 1 || st.Receipts[0].Note != "已部署" || st.Receipts[0].Overdue {
			t.Fatalf("status %+v %v", st, err)
		}
		// Every crossing is audited on the tenant read.
		if len(e.MustAudit(t, e.Prefecture, guidance.ActionReadPrefecture)) == 0 || len(e.MustAudit(t, e.TenantA, guidance.ActionReadCounty)) == 0 {
			t.Fatal("crossings not audited")
		}
		if len(e.MustAudit(t, e.TenantA, "guidance.notice.acknowledge")) != 1 {
			t.Fatal("acknowledgement not audited once")
		}

		// A notice for all reaches B too; overdue shows once the deadline passed.
		all, err := e.s.PublishNotice(e.Pref, guidance.NoticeInput{Kind: "standard", Title: "井盖管理标准", All: true, AckDue: "2026-12-08"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if in, err := e.s.Inbox(e.B); err != nil || len(in) != 1 || in[0].ID != all.ID {
			t.Fatalf("B's inbox %+v %v", in, err)
		}
		later := *e
		later.s = guidance.NewService(guidance.Config{Gate: e.Store, Now: func() time.Time { return e.now.Add(72 * time.Hour) }})
		st, err = later.s.NoticeStatus(e.Pref, all.ID)
		if err != nil || len(st.Receipts) != 2 || !st.Receipts[0].Overdue || !st.Receipts[1].Overdue {
			t.Fatalf("overdue status %+v %v", st, err)
		}
	}, guidance.Module(nil))
}

func TestNoticeInput(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		e := mustEnv(t, pe)
		for name, in := range map[string]guidance.NoticeInput{
			"kind":       {Kind: "memo", Title: "x", All: true},
			"title":      {Kind: "notice", Title: " ", All: true},
			"nul":        {Kind: "notice", Title: "a\x00b", All: true},
			"no county":  {Kind: "notice", Title: "x"},
			"far county": {Kind: "notice", Title: "x", Counties: []string{"dali"}},
			"past due":   {Kind: "notice", Title: "x", All: true, AckDue: "2026-01-01"},
			"bad due":    {Kind: "notice", Title: "x", All: true, AckDue: "tomorrow"},
		} {
			_, err := e.s.PublishNotice(e.Pref, in, nil)
			if errs.CodeOf(err) != errs.Invalid {
				t.Errorf("%s: got %v, want invalid", name, err)
			}
		}
		_, err := e.s.PublishNotice(e.Pref, guidance.NoticeInput{Kind: "notice", Title: "x", All: true}, []guidance.Upload{{Name: "a.exe", Data: []byte("MZ\x90\x00")}})
		mustCode(t, err, errs.Invalid)
		if ns, _ := e.s.Notices(e.Pref); len(ns) != 0 {
			t.Fatalf("refused notices stored: %+v", ns)
		}
	}, guidance.Module(nil))
}

func TestSupervisionTask(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		e := mustEnv(t, pe)
		task, err := e.s.OpenTask(e.Pref, guidance.TaskInput{Title: "城区井盖专项检查", Checklist: []string{"井盖完好", "标识清楚"},
			Points: []guidance.Point{{Lat: 25.033, Lng: 101.546, Label: "鹿城广场"}}, Due: "2026-12-20", Counties: []string{"chuxiong", "wuding"}})
		if err != nil {
			t.Fatal(err)
		}
		// Reviewing before an answer is refused; the far county sees nothing.
		score := 90
		_, err = e.s.ReviewTask(e.Pref, task.ID, "chuxiong", guidance.ReviewInput{Verdict: "scored", Score: &score})
		mustCode(t, err, errs.Conflict)
		_, err = e.s.MyTask(e.Far, task.ID)
		mustCode(t, err, errs.NotFound)
		_, err = e.s.Respond(e.Far, task.ID, guidance.ResponseInput{Findings: "x"}, nil)
		mustCode(t, err, errs.NotFound)
		// Bad answers.
		_, err = e.s.Respond(e.A, task.ID, guidance.ResponseInput{Findings: "x", Checks: []guidance.Check{{OK: true}}}, nil)
		mustCode(t, err, errs.Invalid)
		_, err = e.s.Respond(e.A, task.ID, guidance.ResponseInput{Findings: "x", Checks: make([]guidance.Check, 2), CaseIDs: []string{"NO-SUCH"}}, nil)
		mustCode(t, err, errs.Invalid)
		// A answers with a photo; the prefecture sends it back; A answers again; scored.
		mine, err := e.s.Respond(e.A, task.ID, guidance.ResponseInput{Findings: "发现 3 处井盖破损，已立案。", Checks: []guidance.Check{{OK: false, Note: "3 处破损"}, {OK: true}}},
			[]guidance.Upload{{Name: "现场.png", Data: png}})
		if err != nil || mine.State != guidance.StateAnswered || len(mine.Responses) != 1 || len(mine.Responses[0].Photos) != 1 {
			t.Fatalf("answer %+v %v", mine, err)
		}
		resp := mine.Responses[0]
		// B cannot read A's photo, and the prefecture reads it only through its task and county.
		_, _, err = e.s.ResponseFile(e.B, task.ID, "", resp.ID, resp.Photos[0].ID)
		mustCode(t, err, errs.NotFound)
		f, r, err := e.s.ResponseFile(e.Pref, task.ID, "chuxiong", resp.ID, resp.Photos[0].ID)
		if err != nil || f.Name != "现场.png" {
			t.Fatalf("photo %+v %v", f, err)
		}
		r.Close()
		_, _, err = e.s.ResponseFile(e.Pref, task.ID, "wuding", resp.ID, resp.Photos[0].ID)
		mustCode(t, err, errs.NotFound)
		_, err = e.s.ReviewTask(e.Pref, task.ID, "chuxiong", guidance.ReviewInput{Verdict: "returned"})
		mustCode(t, err, errs.Invalid)
		bad := 101
		_, err = e.s.ReviewTask(e.Pref, task.ID, "chuxiong", guidance.ReviewInput{Verdict: "scored", Score: &bad})
		mustCode(t, err, errs.Invalid)
		_, err = e.s.ReviewTask(e.Pref, task.ID, "dali", guidance.ReviewInput{Verdict: "scored", Score: &score})
		mustCode(t, err, errs.NotFound)
		// A county cannot review (it is no prefecture).
		_, err = e.s.ReviewTask(e.A, task.ID, "chuxiong", guidance.ReviewInput{Verdict: "scored", Score: &score})
		mustCode(t, err, errs.NotFound)
		p, err := e.s.ReviewTask(e.Pref, task.ID, "chuxiong", guidance.ReviewInput{Verdict: "returned", Comment: "请补充整改照片"})
		if err != nil || p.State != guidance.StateReturned {
			t.Fatalf("returned %+v %v", p, err)
		}
		_, err = e.s.ReviewTask(e.Pref, task.ID, "chuxiong", guidance.ReviewInput{Verdict: "scored", Score: &score})
		mustCode(t, err, errs.Conflict)
		if mine, err = e.s.MyTask(e.A, task.ID); err != nil || mine.State != guidance.StateReturned || mine.Reviews[0].Comment != "请补充整改照片" {
			t.Fatalf("A sees %+v %v", mine, err)
		}
		if _, err = e.s.Respond(e.A, task.ID, guidance.ResponseInput{Findings: "已补充。", Checks: make([]guidance.Check, 2)}, nil); err != nil {
			t.Fatal(err)
		}
		if p, err = e.s.ReviewTask(e.Pref, task.ID, "chuxiong", guidance.ReviewInput{Verdict: "scored", Score: &score, Comment: "整改到位"}); err != nil || p.State != guidance.StateScored || *p.Score != 90 {
			t.Fatalf("scored %+v %v", p, err)
		}
		_, err = e.s.Respond(e.A, task.ID, guidance.ResponseInput{Findings: "再报", Checks: make([]guidance.Check, 2)}, nil)
		mustCode(t, err, errs.Conflict)
		st, err := e.s.TaskStatus(e.Pref, task.ID)
		if err != nil || len(st.Progress) != 2 {
			t.Fatalf("status %+v %v", st, err)
		}
		states := map[string]string{}
		for _, p := range st.Progress {
			states[p.County] = p.State
		}
		if states["chuxiong"] != guidance.StateScored || states["wuding"] != guidance.StateOpen {
			t.Fatalf("states %v", states)
		}
	}, guidance.Module(nil))
}

func TestMonthlyReport(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		e := mustEnv(t, pe)
		_, err := e.s.CreateTemplate(e.Pref, guidance.TemplateInput{Title: "工作月报", All: true, Fields: []guidance.Field{{Key: "x", Label: "x", Type: "indicator", Indicator: "nope"}}})
		mustCode(t, err, errs.Invalid)
		tpl, err := e.s.CreateTemplate(e.Pref, guidance.TemplateInput{Title: "工作月报", All: true, Fields: []guidance.Field{
			{Key: "reported", Label: "上报数", Type: "indicator", Indicator: "reported"},
			{Key: "closed", Label: "结案数", Type: "indicator", Indicator: "closed"},
			{Key: "highlights", Label: "本月重点工作", Type: "text"}}})
		if err != nil {
			t.Fatal(err)
		}
		f, err := e.s.ReportForm(e.A, tpl.ID, "")
		if err != nil || f.Period != "2026-11" || f.Values["reported"] != "42" || f.Values["closed"] != "40" || f.Submission != nil {
			t.Fatalf("form %+v %v", f, err)
		}
		_, err = e.s.SubmitReport(e.A, tpl.ID, "2026-11", map[string]string{"reported": "many", "closed": "40"})
		mustCode(t, err, errs.Invalid)
		_, err = e.s.SubmitReport(e.A, tpl.ID, "2027-01", map[string]string{"reported": "1", "closed": "1"})
		mustCode(t, err, errs.Invalid)
		_, err = e.s.SubmitReport(e.A, tpl.ID, "2026-11", map[string]string{"reported": "1", "closed": "1", "other": "1"})
		mustCode(t, err, errs.Invalid)
		_, err = e.s.SubmitReport(e.Far, tpl.ID, "2026-11", map[string]string{"reported": "1", "closed": "1"})
		mustCode(t, err, errs.NotFound)
		if _, err := e.s.SubmitReport(e.A, tpl.ID, "2026-11", map[string]string{"reported": "43", "closed": "40", "highlights": "井盖专项"}); err != nil {
			t.Fatal(err)
		}
		st, err := e.s.ReportStatus(e.Pref, tpl.ID, "2026-11")
		if err != nil || st.Missing != 1 || len(st.Reports) != 2 {
			t.Fatalf("status %+v %v", st, err)
		}
		for _, r := range st.Reports {
			if r.County == "chuxiong" && (r.Submission == nil || r.Submission.Values["reported"] != "43") {
				t.Fatalf("A's report %+v", r)
			}
			if r.County == "wuding" && (r.Submission != nil || !r.Overdue) { // due on the 5th
				t.Fatalf("B's report %+v", r)
			}
		}
	}, guidance.Module(nil))
}

// TestChannelOnlyReads: a write inside either crossing is refused (on PostgreSQL by the
// read-only role and transaction as well as by the gate).
func TestChannelOnlyReads(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		e := mustEnv(t, pe)
		err := e.s.Channel.FromCounty(e.Pref, e.TenantA, "probe", func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewRaw("INSERT INTO guidance_receipts (notice_id, note) VALUES ('x', 'forged')").Exec(ctx)
			return err
		})
		if err == nil {
			t.Fatal("the prefecture wrote a county's receipt through the channel")
		}
		err = e.s.Channel.FromPrefecture(e.A, "probe", func(ctx context.Context, db bun.IDB, _ *tenants.Tenant, _ uuid.UUID) error {
			_, err := db.NewRaw("INSERT INTO guidance_notices (id, kind, title, published_at) VALUES ('x', 'notice', 'forged', 0)").Exec(ctx)
			return err
		})
		if err == nil {
			t.Fatal("a county wrote the prefecture's notice through the channel")
		}
		// A county outside the prefecture is not reached; a unit without a prefecture reads none.
		far, err := e.Store.FindTenantBySlug(context.Background(), "dali")
		if err != nil {
			t.Fatal(err)
		}
		err = e.s.Channel.FromCounty(e.Pref, far, "probe", func(context.Context, bun.IDB) error { return nil })
		mustCode(t, err, errs.NotFound)
		err = e.s.Channel.FromPrefecture(e.Pref, "probe", func(context.Context, bun.IDB, *tenants.Tenant, uuid.UUID) error { return nil })
		mustCode(t, err, errs.NotFound)
		// Nothing was written.
		if ns, err := e.s.Notices(e.Pref); err != nil || len(ns) != 0 {
			t.Fatalf("notices %+v %v", ns, err)
		}
	}, guidance.Module(nil))
}

// TestChannelThroughPgBouncer runs the crossing both ways through PgBouncer in transaction mode,
// interleaving the prefecture's and the counties' transactions on the pooled server connections:
// each reads only what it should and a write through the channel is still refused.
func TestChannelThroughPgBouncer(t *testing.T) {
	e := mustEnv(t, platformtest.MustEnvThroughPgBouncer(t, guidance.Module(nil)))
	n, err := e.s.PublishNotice(e.Pref, guidance.NoticeInput{Kind: "notice", Title: "经连接池发布", Counties: []string{"chuxiong"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		in, err := e.s.Inbox(e.A)
		if err != nil || len(in) != 1 || in[0].ID != n.ID {
			t.Fatalf("round %d: A's inbox %+v %v", i, in, err)
		}
		if in, err := e.s.Inbox(e.B); err != nil || len(in) != 0 {
			t.Fatalf("round %d: B's inbox %+v %v", i, in, err)
		}
		if _, err := e.s.NoticeStatus(e.Pref, n.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.s.Acknowledge(e.A, n.ID, "经连接池签收"); err != nil {
		t.Fatal(err)
	}
	st, err := e.s.NoticeStatus(e.Pref, n.ID)
	if err != nil || st.Acked != 1 {
		t.Fatalf("status %+v %v", st, err)
	}
	err = e.s.Channel.FromCounty(e.Pref, e.TenantA, "probe", func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewRaw("UPDATE guidance_receipts SET note = 'forged'").Exec(ctx)
		return err
	})
	if err == nil {
		t.Fatal("the prefecture wrote a county's receipt through the pooler")
	}
	// The refused write left no role or search path behind on the pooled connection: B's own
	// next transaction sees B's (empty) receipts, and A's receipt is untouched.
	if in, err := e.s.Inbox(e.B); err != nil || len(in) != 0 {
		t.Fatalf("B after the refused write: %+v %v", in, err)
	}
	if st, err := e.s.NoticeStatus(e.Pref, n.ID); err != nil || st.Receipts[0].Note != "经连接池签收" {
		t.Fatalf("A's receipt after the refused write: %+v %v", st, err)
	}
}

// TestSpotCheck: the prefecture draws closed cases of a county with a seed (the same seed draws
// the same cases again), the county re-inspects them, the prefecture reads the results; another
// county sees none of it.
func TestSpotCheck(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, pe *platformtest.Env) {
		e := mustEnv(t, pe)
		closedAt := time.Date(2026, 11, 10, 3, 0, 0, 0, time.UTC)
		var ids []string
		err := e.Store.Tx(e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			for i := range 8 {
				id, state := uuid.Must(uuid.NewV7()).String(), "closed"
				if i == 7 {
					state = "dispatched"
				} else {
					ids = append(ids, id)
				}
				if _, err := db.NewRaw(`INSERT INTO cases (id, number, seq, state, version, source, kind, class_code, lon, lat, reported_by, created_at, updated_at, closed_at)
VALUES (?, ?, ?, ?, 1, 'inspector', 'event', '0101', 101.5, 25.0, 'x', ?, ?, ?)`, id, "532301-"+string(rune('A'+i)), i+1, state, closedAt, closedAt, closedAt).Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		seed := int64(20261207)
		in := guidance.SpotInput{County: "chuxiong", Size: 3, From: "2026-11-01", To: "2026-12-01", Seed: &seed, Due: "2026-12-20"}
		sp, err := e.s.DrawSpotCheck(e.Pref, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(sp.CaseIDs) != 3 || sp.Seed != seed || !slices.Equal(sp.CaseIDs, guidance.Sample(ids, 3, seed)) {
			t.Fatalf("draw %+v, want %v", sp, guidance.Sample(ids, 3, seed))
		}
		again, err := e.s.DrawSpotCheck(e.Pref, in)
		if err != nil || !slices.Equal(again.CaseIDs, sp.CaseIDs) {
			t.Fatalf("the same seed drew %v, then %v", sp.CaseIDs, again.CaseIDs)
		}
		for _, c := range sp.CaseIDs {
			if !slices.Contains(ids, c) {
				t.Fatalf("%s is not a closed case", c)
			}
		}
		none := in
		none.From, none.To = "2025-01-01", "2025-02-01"
		_, err = e.s.DrawSpotCheck(e.Pref, none)
		mustCode(t, err, errs.Conflict)
		far := in
		far.County = "dali"
		_, err = e.s.DrawSpotCheck(e.Pref, far)
		mustCode(t, err, errs.Invalid)
		_, err = e.s.DrawSpotCheck(e.A, in)
		mustCode(t, err, errs.NotFound)

		mine, err := e.s.MySpotChecks(e.A)
		if err != nil || len(mine) != 2 || len(mine[0].Items) != 3 || mine[0].Items[0].Number == "" {
			t.Fatalf("A's spot checks %+v %v", mine, err)
		}
		if other, err := e.s.MySpotChecks(e.B); err != nil || len(other) != 0 {
			t.Fatalf("B's spot checks %+v %v", other, err)
		}
		_, err = e.s.Recheck(e.B, sp.ID, guidance.RecheckInput{CaseID: sp.CaseIDs[0], Passed: true})
		mustCode(t, err, errs.NotFound)
		_, err = e.s.Recheck(e.A, sp.ID, guidance.RecheckInput{CaseID: ids[0] + "x", Passed: true})
		mustCode(t, err, errs.Invalid)
		_, err = e.s.Recheck(e.A, sp.ID, guidance.RecheckInput{CaseID: sp.CaseIDs[0], Passed: false})
		mustCode(t, err, errs.Invalid) // a failed re-inspection says why
		if _, err := e.s.Recheck(e.A, sp.ID, guidance.RecheckInput{CaseID: sp.CaseIDs[0], Passed: false, Note: "井盖仍松动"}); err != nil {
			t.Fatal(err)
		}
		st, err := e.s.SpotCheckStatus(e.Pref, sp.ID)
		if err != nil || st.Items[0].Passed == nil || *st.Items[0].Passed || st.Items[0].Note != "井盖仍松动" || st.Items[1].Passed != nil {
			t.Fatalf("status %+v %v", st, err)
		}
	}, guidance.Module(nil))
}
