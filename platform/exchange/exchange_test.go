package exchange_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

func ptr[T any](v T) *T { return &v }

// TestChangesEnterTheOutboxWithThem: a case's events, grid and component changes enter the
// outbox of every destination in the transaction that makes them, and a change that fails
// leaves nothing behind.
func TestChangesEnterTheOutboxWithThem(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		w := newWorld(t, e, exchange.Config{})
		before := w.report() // before any destination: owed to none
		if n := w.outboxCount(""); n != 0 {
			t.Fatalf("outbox before any destination: %d rows", n)
		}
		w.put("province", "http://127.0.0.1:1/x", exchange.DestinationInput{})
		w.put("nation", "http://127.0.0.1:1/y", exchange.DestinationInput{})
		c := w.report()
		c = w.step(c)
		w.step(before)
		if n := w.outboxCount(""); n != 6 {
			t.Fatalf("outbox after 3 events for 2 destinations: %d rows, want 6", n)
		}
		// A stale action fails: its event is not written, nor its outbox row.
		if _, err := w.cs.Act(w.staff, c.ID, cases.Verify, cases.ActionInput{Version: 1}); err == nil {
			t.Fatal("a stale action went through")
		}
		if n := w.outboxCount(""); n != 6 {
			t.Fatalf("outbox after a failed action: %d rows, want 6", n)
		}
		// A grid renamed twice before delivery is owed once per destination (its state is read
		// when it is sent).
		for _, name := range []string{"一号", "一号网格"} {
			if _, err := w.grids.RenameGrid(e.A, g1, name); err != nil {
				t.Fatal(err)
			}
		}
		var kinds []string
		if err := e.Store.Tx(e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewRaw("SELECT kind FROM exchange_outbox ORDER BY id").Scan(ctx, &kinds)
		}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(kinds, ","); got != "case_event,case_event,case_event,case_event,case_event,case_event,grid,grid" {
			t.Fatalf("outbox kinds: %s", got)
		}
		// B's outbox is B's: nothing of A's is in it.
		var nb int
		if err := e.Store.Tx(e.B, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewRaw("SELECT count(*) FROM exchange_outbox").Scan(ctx, &nb)
		}); err != nil || nb != 0 {
			t.Fatalf("B's outbox: %d rows (%v)", nb, err)
		}
	})
}

// TestDeliverSendsProfileV1InOrder: delivered items carry profile v1 with the case and its
// event (and no citizen's personal data), each key once, every case in version order; the
// outbox ends empty, the log and the destination's figures say so.
func TestDeliverSendsProfileV1InOrder(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		rec := newReceiver()
		srv := startServer(t, rec)
		w := newWorld(t, e, exchange.Config{Retry: fastRetry, Pause: fastPause})
		w.put("province", srv.url(), exchange.DestinationInput{Token: ptr("s3cret-token-value"), BatchSize: ptr(3)})
		for range 4 {
			c := w.report()
			for range 3 {
				c = w.step(c)
			}
		}
		st := w.deliver()
		// 16 events (the grids were imported before the destination was made); at most one
		// event of a case per batch.
		if st.Delivered != 16 || st.Failed != 0 || st.Batches < 6 {
			t.Fatalf("stats %+v", st)
		}
		events := w.events()
		var got []string
		for _, it := range rec.items() {
			if it.Kind == exchange.KindCaseEvent {
				got = append(got, strings.TrimPrefix(it.Key, "532301/ce:"))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, events) {
			t.Fatalf("applied %d events, want the %d of the history", len(got), len(events))
		}
		rec.checkOrder(t)
		if rec.dupes != 0 {
			t.Fatalf("%d duplicates without any fault", rec.dupes)
		}
		for _, a := range rec.auth {
			if a != "Bearer s3cret-token-value" {
				t.Fatalf("Authorization %q", a)
			}
		}
		// The payload: the case and its event, after profile v1; no reporter.
		it := rec.items()[0]
		var data struct {
			Case  map[string]any
			Event map[string]any
		}
		if err := json.Unmarshal(it.Data, &data); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"number", "kind", "class_code", "major_code", "source", "state", "lon", "lat", "grid_code", "reported_at", "admin_code"} {
			if _, ok := data.Case[k]; !ok {
				t.Fatalf("case lacks %s: %s", k, it.Data)
			}
		}
		for _, k := range []string{"id", "version", "action", "from", "to", "post", "at"} {
			if _, ok := data.Event[k]; !ok {
				t.Fatalf("event lacks %s: %s", k, it.Data)
			}
		}
		raw := string(it.Data)
		for _, personal := range []string{"张三", "13800000000", "reporter", "staff@test.cn"} {
			if strings.Contains(raw, personal) {
				t.Fatalf("the payload carries %q: %s", personal, raw)
			}
		}
		if data.Case["grid_code"] != g1 || data.Event["action"] != "report" {
			t.Fatalf("first item: %s", raw)
		}
		if n := w.outboxCount(""); n != 0 {
			t.Fatalf("outbox after delivery: %d rows", n)
		}
		ds, err := w.ex.FindDestinations(e.A)
		if err != nil {
			t.Fatal(err)
		}
		d := ds[0]
		if d.DeliveredTotal != int64(len(events)) || d.LastSuccessAt == nil || d.Backlog.Pending != 0 || d.Health() != "ok" {
			t.Fatalf("destination after delivery: %+v %+v", d, d.Backlog)
		}
		if d.Credential == nil || d.Credential.Last4 != "alue" {
			t.Fatalf("credential description: %+v", d.Credential)
		}
		js, _ := json.Marshal(ds)
		if strings.Contains(string(js), "s3cret") {
			t.Fatalf("the destination's JSON carries its credential: %s", js)
		}
		log, err := w.ex.FindLog(e.A, "province", 0, 100)
		if err != nil || len(log) == 0 || log[0].HTTPStatus != 200 {
			t.Fatalf("log: %+v %v", log, err)
		}
	})
}

// deliverFor runs delivery passes in A for d (refused items wait milliseconds under fastRetry).
func (w *world) deliverFor(d time.Duration) {
	w.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(3 * time.Millisecond) {
		if _, err := w.ex.Deliver(w.e.A, 0); err != nil {
			w.t.Fatalf("deliver: %v", err)
		}
	}
}

// seqs are the versions of subject the receiver applied, in order.
func seqs(r *receiver, subject string) []int64 {
	var out []int64
	for _, it := range r.items() {
		if it.Subject == subject {
			out = append(out, it.Seq)
		}
	}
	return out
}

// TestRefusalHoldsBackItsCaseOnly: an item the receiver keeps refusing holds back the later
// changes of its case, not the other cases; after its refusals it is dead, and retried by the
// admin it goes, followed by the rest of its case in order.
func TestRefusalHoldsBackItsCaseOnly(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		rec := newReceiver()
		srv := startServer(t, rec)
		w := newWorld(t, e, exchange.Config{Retry: fastRetry, Pause: fastPause})
		w.put("province", srv.url(), exchange.DestinationInput{})
		x, y := w.report(), w.report()
		for range 2 {
			x, y = w.step(x), w.step(y)
		}
		subjectX := "case:" + x.ID
		refuse := true
		rec.answer = func(it received) string {
			if refuse && it.Subject == subjectX && it.Seq == 2 {
				return "retry"
			}
			return ""
		}
		w.deliverFor(300 * time.Millisecond)
		if got := seqs(rec, subjectX); !slices.Equal(got, []int64{1}) {
			t.Fatalf("x: applied %v, want [1]", got)
		}
		if got := seqs(rec, "case:"+y.ID); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Fatalf("y: applied %v, want [1 2 3]", got)
		}
		dead, err := w.ex.FindEntries(e.A, "province", "dead", 10)
		if err != nil || len(dead) != 1 || dead[0].Subject != subjectX || dead[0].Seq != 2 || dead[0].Failures != 3 ||
			dead[0].LastError != "the receiver says retry" {
			t.Fatalf("dead entries: %+v %v", dead, err)
		}
		d, _ := w.ex.FindDestinationByCode(e.A, "province")
		if d.Backlog.Dead != 1 || d.Backlog.Pending != 1 || d.Health() != "dead" {
			t.Fatalf("backlog: %+v, health %s", d.Backlog, d.Health())
		}
		refuse = false
		if n, err := w.ex.RetryDead(e.A, "province", nil); err != nil || n != 1 {
			t.Fatalf("retry: %d %v", n, err)
		}
		w.deliver()
		if got := seqs(rec, subjectX); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Fatalf("x after the retry: applied %v", got)
		}
		e.MustAuditedOnce(t, "exchange.retry", "province", `{"code":"province","ids":null,"items":1}`)
		if n := w.outboxCount(""); n != 0 {
			t.Fatalf("outbox: %d rows", n)
		}
	})
}

// TestRejectionAndOutage: a 4xx of the whole batch kills its items (keeping the receiver's
// message); a 503 or a receiver that is down pauses the destination without counting against
// its items, which all go once it is back.
func TestRejectionAndOutage(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		rec := newReceiver()
		srv := startServer(t, rec)
		w := newWorld(t, e, exchange.Config{Retry: fastRetry, Pause: fastPause})
		w.put("province", srv.url(), exchange.DestinationInput{})
		w.report()
		status := 422
		rec.status = func() int { return status }
		w.deliver()
		dead, err := w.ex.FindEntries(e.A, "province", "dead", 10)
		if err != nil || len(dead) != 1 || dead[0].LastStatus != 422 || !strings.Contains(dead[0].LastError, "the receiver says 422") {
			t.Fatalf("after a 422: %+v %v", dead, err)
		}
		if _, err := w.ex.RetryDead(e.A, "province", []int64{dead[0].ID}); err != nil {
			t.Fatal(err)
		}
		w.report()
		status = 503
		for range 5 {
			if _, err := w.ex.Deliver(e.A, 0); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		d, _ := w.ex.FindDestinationByCode(e.A, "province")
		if d.Failures == 0 || d.LastStatus != 503 || d.Backlog.Pending != 2 || d.Backlog.Dead != 0 || d.Health() != "failing" {
			t.Fatalf("after 503s: failures %d, status %d, backlog %+v", d.Failures, d.LastStatus, d.Backlog)
		}
		pending, _ := w.ex.FindEntries(e.A, "province", "pending", 10)
		for _, p := range pending {
			if p.Failures != 0 || p.LastStatus != 503 {
				t.Fatalf("an outage counted against an item: %+v", p)
			}
		}
		// Down: no answer at all.
		status = 0
		srv.stop()
		time.Sleep(10 * time.Millisecond)
		w.deliver()
		d, _ = w.ex.FindDestinationByCode(e.A, "province")
		if d.LastStatus != 0 || !strings.Contains(d.LastError, "did not answer") {
			t.Fatalf("down: status %d, error %q", d.LastStatus, d.LastError)
		}
		srv.restart(t)
		w.deliverFor(200 * time.Millisecond)
		d, _ = w.ex.FindDestinationByCode(e.A, "province")
		if d.Failures != 0 || d.Backlog.Pending != 0 || d.Backlog.Dead != 0 || len(rec.appliedKeys()) != 2 {
			t.Fatalf("back up: failures %d, backlog %+v, applied %d", d.Failures, d.Backlog, len(rec.appliedKeys()))
		}
	})
}

type fakeIndicators struct{}

func (fakeIndicators) Monthly(_ context.Context, year int, month time.Month) (exchange.MonthFigures, error) {
	return exchange.MonthFigures{Reported: int64(year), Filed: int64(month) * 2, Closed: int64(month), ClosedOnTime: 1}, nil
}

// TestReplay: a replayed range goes again with its old keys (the receiver answers duplicate),
// by time or by event range, grids and components as they stand and the months' indicators;
// bad ranges are refused with a field.
func TestReplay(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		rec := newReceiver()
		srv := startServer(t, rec)
		w := newWorld(t, e, exchange.Config{Retry: fastRetry, Pause: fastPause, Indicators: fakeIndicators{}})
		w.put("province", srv.url(), exchange.DestinationInput{})
		w.step(w.step(w.report()))
		w.report()
		w.deliver()
		applied := len(rec.appliedKeys())
		// 4 events and last month's indicators.
		if applied != 5 {
			t.Fatalf("applied %d items, want 5", applied)
		}
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		res, err := w.ex.Replay(e.A, "province", exchange.ReplayInput{From: today, To: today})
		if err != nil || res.Queued["cases"] != 4 {
			t.Fatalf("replay today: %+v %v", res, err)
		}
		// Replaying what is still queued queues nothing more.
		if res, err := w.ex.Replay(e.A, "province", exchange.ReplayInput{From: today, To: today}); err != nil || res.Queued["cases"] != 0 {
			t.Fatalf("replay again: %+v %v", res, err)
		}
		w.deliver()
		if rec.dupes != 4 || len(rec.appliedKeys()) != applied {
			t.Fatalf("after the replay: %d duplicates, %d applied", rec.dupes, len(rec.appliedKeys()))
		}
		ev := w.events()
		res, err = w.ex.Replay(e.A, "province", exchange.ReplayInput{FromEvent: ev[1], ToEvent: ev[2], Kinds: []string{"cases", "grids", "components"}})
		if err != nil || res.Queued["cases"] != 2 || res.Queued["grids"] != 4 || res.Queued["components"] != 0 {
			t.Fatalf("replay by events: %+v %v", res, err)
		}
		month := time.Now().AddDate(0, -3, 0).Format(time.DateOnly)
		res, err = w.ex.Replay(e.A, "province", exchange.ReplayInput{From: month, To: today, Kinds: []string{"indicators"}})
		if err != nil || res.Queued["indicators"] < 3 {
			t.Fatalf("replay indicators: %+v %v", res, err)
		}
		w.deliver()
		rec.checkOrder(t)
		var grids, months int
		for _, it := range rec.items() {
			switch it.Kind {
			case exchange.KindGrid:
				grids++
			case exchange.KindIndicators:
				months++
				var m struct {
					Period    string
					Filed     int64
					CloseRate *float64 `json:"close_rate"`
				}
				if err := json.Unmarshal(it.Data, &m); err != nil || m.CloseRate == nil || *m.CloseRate != 0.5 {
					t.Fatalf("indicators: %s", it.Data)
				}
			}
		}
		if grids != 4 || months < 3 {
			t.Fatalf("applied %d grids and %d months", grids, months)
		}
		if es := e.MustAudit(t, e.TenantA, "exchange.replay"); len(es) != 4 {
			t.Fatalf("%d replays audited, want 4", len(es))
		}
		for _, tc := range []struct {
			in    exchange.ReplayInput
			field string
		}{
			{exchange.ReplayInput{}, "from"},
			{exchange.ReplayInput{From: "yesterday", To: today}, "from"},
			{exchange.ReplayInput{From: today, To: "2020-01-01"}, "to"},
			{exchange.ReplayInput{From: today, To: today, FromEvent: ev[0], ToEvent: ev[1]}, "from"},
			{exchange.ReplayInput{FromEvent: "x", ToEvent: ev[1]}, "from_event"},
			{exchange.ReplayInput{FromEvent: ev[1], ToEvent: ev[0]}, "to_event"},
			{exchange.ReplayInput{From: today, To: today, Kinds: []string{"photos"}}, "kinds"},
			{exchange.ReplayInput{FromEvent: ev[0], ToEvent: ev[1], Kinds: []string{"indicators"}}, "kinds"},
		} {
			_, err := w.ex.Replay(e.A, "province", tc.in)
			var ee *errs.Error
			if !errors.As(err, &ee) || ee.Code != errs.Invalid || ee.Field != tc.field {
				t.Fatalf("replay %+v: %v, want invalid %s", tc.in, err, tc.field)
			}
		}
	})
}

// TestDestinations: what a destination accepts, where its credential goes, and who may touch
// it: another county sees none of A's (not found), the prefecture reads A's and changes nothing.
func TestDestinations(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		w := newWorld(t, e, exchange.Config{})
		for _, tc := range []struct {
			code  string
			in    exchange.DestinationInput
			field string
		}{
			{"Province", exchange.DestinationInput{URL: "https://p.example/x"}, "code"},
			{"province", exchange.DestinationInput{}, "url"},
			{"province", exchange.DestinationInput{URL: "ftp://p.example/x"}, "url"},
			{"province", exchange.DestinationInput{URL: "https:///x"}, "url"},
			{"province", exchange.DestinationInput{URL: "https://user:pw@p.example/x"}, "url"},
			{"province", exchange.DestinationInput{URL: "https://p.example/x\x00"}, "url"},
			{"province", exchange.DestinationInput{URL: "https://p.example/x", Name: ptr("a\x00b")}, "name"},
			{"province", exchange.DestinationInput{URL: "https://p.example/x", Profile: ptr("xml/9")}, "profile"},
			{"province", exchange.DestinationInput{URL: "https://p.example/x", BatchSize: ptr(0)}, "batch_size"},
			{"province", exchange.DestinationInput{URL: "https://p.example/x", Concurrency: ptr(99)}, "concurrency"},
			{"province", exchange.DestinationInput{URL: "https://p.example/x", TimeoutMS: ptr(10)}, "timeout_ms"},
		} {
			_, err := w.ex.PutDestination(e.A, tc.code, tc.in)
			var ee *errs.Error
			if !errors.As(err, &ee) || ee.Code != errs.Invalid || ee.Field != tc.field {
				t.Fatalf("put %s %+v: %v, want invalid %s", tc.code, tc.in, err, tc.field)
			}
		}
		d, err := w.ex.PutDestination(e.A, "province", exchange.DestinationInput{URL: "https://p.example/x", Name: ptr("云南省平台"), Token: ptr("tok-12345678")})
		if err != nil || d.BatchSize != exchange.DefaultBatchSize || d.Concurrency != exchange.DefaultConcurrency || !d.Enabled ||
			d.Profile != exchange.ProfileV1 || d.Credential == nil || d.Credential.Last4 != "5678" {
			t.Fatalf("put: %+v %v", d, err)
		}
		if s, err := w.keys.Credential(context.Background(), e.TenantA.ID, "exchange_province"); err != nil || s.Reveal() != "tok-12345678" {
			t.Fatalf("the credential in the secret store: %v", err)
		}
		e.MustAuditedOnce(t, "exchange.destination", "province",
			`{"batch_size":200,"code":"province","concurrency":2,"created":true,"credential":"set","enabled":true,"profile":"cityops-province/1","timeout_ms":30000,"url":"https://p.example/x"}`)
		// Another county: not found, whatever it tries.
		if _, err := w.ex.FindDestinationByCode(e.B, "province"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B reads A's destination: %v", err)
		}
		if ds, err := w.ex.FindDestinations(e.B); err != nil || len(ds) != 0 {
			t.Fatalf("B's destinations: %v %v", ds, err)
		}
		if _, err := w.ex.Replay(e.B, "province", exchange.ReplayInput{From: "2026-01-01", To: "2026-01-02"}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B replays A's: %v", err)
		}
		if _, err := w.ex.RetryDead(e.B, "province", nil); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B retries A's: %v", err)
		}
		if err := w.ex.DeleteDestination(e.B, "province"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B deletes A's: %v", err)
		}
		// The prefecture reads, and changes nothing.
		if ds, err := w.ex.FindDestinations(e.View); err != nil || len(ds) != 1 {
			t.Fatalf("the prefecture reads A's destinations: %v %v", ds, err)
		}
		if _, err := w.ex.PutDestination(e.View, "province", exchange.DestinationInput{URL: "https://evil.example/"}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the prefecture changes A's destination: %v", err)
		}
		if _, err := w.ex.Replay(e.View, "province", exchange.ReplayInput{From: "2026-01-01", To: "2026-01-02"}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the prefecture replays: %v", err)
		}
		if _, err := w.ex.RetryDead(e.View, "province", nil); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the prefecture retries: %v", err)
		}
		if err := w.ex.DeleteDestination(e.View, "province"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the prefecture deletes: %v", err)
		}
		// Changed: the token removed, disabled.
		d, err = w.ex.PutDestination(e.A, "province", exchange.DestinationInput{URL: "https://p.example/y", Enabled: ptr(false), Token: ptr("")})
		if err != nil || d.Enabled || d.Credential != nil || d.URL != "https://p.example/y" || d.Name != "云南省平台" || d.Health() != "disabled" {
			t.Fatalf("changed: %+v %v", d, err)
		}
		w.report()
		if err := w.ex.DeleteDestination(e.A, "province"); err != nil {
			t.Fatal(err)
		}
		if n := w.outboxCount(""); n != 0 {
			t.Fatalf("outbox after the destination was removed: %d", n)
		}
		if _, err := w.ex.FindDestinationByCode(e.A, "province"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("removed destination: %v", err)
		}
	})
}
