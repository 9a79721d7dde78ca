package stripegw_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/billing/stripegw"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v76/webhook"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// stripeMockVersion is the stripe-mock the tests run (installed with go install if missing).
const stripeMockVersion = "v0.203.0"

var (
	mockOnce sync.Once
	mockURL  string
	mockErr  error
)

// stripeMock returns the URL of a stripe-mock started for this test process: $STRIPE_MOCK_URL if
// set (scripts/test.sh starts one), otherwise the binary from PATH or GOBIN, installed with
// go install when missing. It fails, never skips, when it cannot.
func stripeMock(t *testing.T) string {
	t.Helper()
	mockOnce.Do(func() {
		if u := os.Getenv("STRIPE_MOCK_URL"); u != "" {
			mockURL = u
			return
		}
		bin, err := exec.LookPath("stripe-mock")
		if err != nil {
			gobin := os.Getenv("GOBIN")
			if gobin == "" {
				out, _ := exec.Command("go", "env", "GOPATH").Output()
				gobin = filepath.Join(strings.Split(strings.TrimSpace(string(out)), string(os.PathListSeparator))[0], "bin")
			}
			bin = filepath.Join(gobin, "stripe-mock")
			if _, err := os.Stat(bin); err != nil {
				cmd := exec.Command("go", "install", "github.com/stripe/stripe-mock@"+stripeMockVersion)
				cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=")
				if out, err := cmd.CombinedOutput(); err != nil {
					mockErr = fmt.Errorf("stripe-mock is not installed and `go install github.com/stripe/stripe-mock@%s` failed: %v\n%s", stripeMockVersion, err, out)
					return
				}
			}
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			mockErr = err
			return
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		// HTTPS on a port of the system's choosing, so that it never collides with another instance.
		cmd := exec.Command(bin, "-http-addr", fmt.Sprintf("127.0.0.1:%d", port), "-https-addr", "127.0.0.1:")
		tieToTestProcess(cmd)
		if err := cmd.Start(); err != nil {
			mockErr = fmt.Errorf("start %s: %w", bin, err)
			return
		}
		mockURL = fmt.Sprintf("http://127.0.0.1:%d", port)
		for i := 0; i < 100; i++ {
			if c, err := net.Dial("tcp", mockURL[len("http://"):]); err == nil {
				c.Close()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		mockErr = errors.New("stripe-mock did not start listening")
	})
	if mockErr != nil {
		t.Fatalf("stripe-mock: %v (install it with: go install github.com/stripe/stripe-mock@%s)", mockErr, stripeMockVersion)
	}
	return mockURL
}

// recorder is a reverse proxy in front of stripe-mock that records every request that reaches
// it and can inject faults: an answer of 500 without forwarding, or forwarding and then answering
// too late for the client.
type recorder struct {
	mu       sync.Mutex
	reached  []request
	fault    func(r *http.Request, n int) string // "", "500" or "slow"
	seen     map[string]int
	srv      *httptest.Server
	slowness time.Duration
}

type request struct {
	Method, Path, Key string
	Body              string
}

func newRecorder(t *testing.T, target string) *recorder {
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	rec := &recorder{seen: map[string]int{}, slowness: 1500 * time.Millisecond}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec.mu.Lock()
		k := r.Method + " " + r.URL.Path
		rec.seen[k]++
		n := rec.seen[k]
		f := ""
		if rec.fault != nil {
			f = rec.fault(r, n)
		}
		if f != "500" {
			rec.reached = append(rec.reached, request{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), string(body)})
		}
		rec.mu.Unlock()
		switch f {
		case "500":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			io.WriteString(w, `{"error":{"type":"api_error","message":"injected outage"}}`)
			return
		case "slow":
			rw := httptest.NewRecorder()
			proxy.ServeHTTP(rw, r)   // Stripe did it...
			time.Sleep(rec.slowness) // ...but the answer comes after the client gave up.
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reached...)
}

// testClock is a settable test clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t *testing.T, d dbx.Dialect, now func() time.Time) *tenants.Store {
	cfg := tenants.Config{DataDir: t.TempDir(), Now: now}
	if d == dbx.Postgres {
		pg := testdb.Postgres(t)
		cfg.DatabaseURL, cfg.RolePrefix = pg.DSN, pg.RolePrefix
	}
	s, err := tenants.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.MigrateControl(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func insertTenant(t *testing.T, s *tenants.Store, slug, code string) *tenants.Tenant {
	now := s.Now()
	tn := &tenants.Tenant{ID: uuid.New(), Slug: slug, NameZH: slug, Kind: tenants.County, AdminCode: code, Plan: "starter",
		Status: tenants.StatusActive, SchemaName: "t_" + code, DBRole: "x_" + code, CreatedAt: now, UpdatedAt: now}
	if _, err := s.DB().NewInsert().Model(tn).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tn
}

// TestExactlyOnceUnderFaults runs every kind of Stripe call through the outbox while Stripe
// answers 500, answers too late, and the process "crashes" before recording a call it made; then
// checks at the proxy that every operation reached Stripe under one idempotency key, that every
// repeat carried the same key and body (so Stripe de-duplicates it), and that nothing is lost.
func TestExactlyOnceUnderFaults(t *testing.T) {
	mock := stripeMock(t)
	for _, d := range []dbx.Dialect{dbx.SQLite, dbx.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			rec := newRecorder(t, mock)
			rec.fault = func(r *http.Request, n int) string {
				switch {
				case n == 1: // every endpoint's first request: an outage
					return "500"
				case r.URL.Path == "/v1/customers" && n == 2: // then Stripe makes the customer but we time out
					return "slow"
				}
				return ""
			}
			gw, err := stripegw.New(stripegw.Config{Key: "sk_test_123", WebhookSecret: "whsec_test", APIBase: rec.srv.URL, Timeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			clk := &testClock{t: time.Date(2026, 5, 14, 1, 0, 0, 0, time.UTC)}
			st := openStore(t, d, clk.Now)
			crashed := map[string]bool{}
			var mu sync.Mutex
			newSvc := func() *billing.Service {
				s := billing.NewService(billing.Deps{Store: st, Now: clk.Now, Gateway: gw, FlushInterval: 10 * time.Millisecond,
					AfterStripeCall: func(kind, key string) error {
						// Crash once after each kind's first successful call, before it is recorded.
						mu.Lock()
						defer mu.Unlock()
						if !crashed[kind] {
							crashed[kind] = true
							return errors.New("crash")
						}
						return nil
					}})
				t.Cleanup(func() { s.Close() })
				return s
			}
			svc := newSvc()
			tn := insertTenant(t, st, "chuxiong", "532301")
			if err := svc.ProvisionStep().Run(ctx, tn); err != nil {
				t.Fatal(err)
			}
			if err := svc.ProvisionStep().Run(ctx, tn); err != nil { // idempotent
				t.Fatal(err)
			}
			if err := svc.SyncCatalog(ctx); err != nil {
				t.Fatal(err)
			}
			// Work the outbox across "restarts" until nothing is left.
			drain := func() {
				for i := 0; i < 60; i++ {
					svc.DrainOutbox(ctx)
					items, err := svc.FindOutbox(ctx, "pending", 500)
					if err != nil {
						t.Fatal(err)
					}
					due := 0
					for _, it := range items {
						if it.NextAttemptAt.Before(clk.Now().Add(4 * time.Hour)) { // not one scheduled for later
							due++
						}
					}
					if due == 0 {
						return
					}
					clk.Add(3 * time.Hour) // past every backoff and lease
					if i%3 == 2 {
						svc = newSvc() // a restart: a new process with the same database
					}
				}
				items, _ := svc.FindOutbox(ctx, "pending", 500)
				for _, it := range items {
					t.Logf("pending: %s %s attempts %d next %s: %s", it.Kind, it.IdempotencyKey, it.Attempts, it.NextAttemptAt, it.LastError)
				}
				t.Fatal("the outbox never drained")
			}
			drain()
			if err := svc.Subscribe(ctx, tn); err != nil {
				t.Fatal(err)
			}
			if err := svc.Subscribe(ctx, tn); err != nil { // queued already: nothing more
				t.Fatal(err)
			}
			for i := 0; i < 5; i++ {
				if err := svc.Record(ctx, tn.ID, billing.MeterCasesCreated, 1, fmt.Sprintf("case-%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			svc.Record(ctx, tn.ID, billing.MeterCasesCreated, 1, "case-1") // a repeat, counted once
			if err := svc.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.PutSchedule(ctx, tn, billing.ScheduleRequest{PrincipalFen: 300_000_00, Years: 3, StartYear: 2026}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.IssueInstalment(ctx, tn, 2026); err != nil {
				t.Fatal(err)
			}
			drain()
			// Subscribed: subscribing again is a conflict, never a second subscription.
			if err := svc.Subscribe(ctx, tn); !errs.Is(err, errs.Conflict) {
				t.Fatalf("second subscribe: %v", err)
			}
			// A plan change this month moves the subscription now; one scheduled for July moves it
			// when July begins, and not before.
			c, err := svc.ChangePlan(ctx, tn, billing.PlanChangeRequest{Plan: "standard", Effective: "2026-05"})
			if err != nil || c.Stripe != "queued" {
				t.Fatalf("change to standard: %+v %v", c, err)
			}
			if c, err := svc.ChangePlan(ctx, tn, billing.PlanChangeRequest{Plan: "prefecture", Effective: "2026-07"}); err != nil || c.Stripe != "queued" {
				t.Fatalf("change to prefecture in July: %+v %v", c, err)
			}
			drain()
			if n := len(updates(rec.requests())); n == 0 {
				t.Fatal("the change to standard did not reach Stripe")
			}
			for _, r := range updates(rec.requests()) {
				if strings.Contains(r.Body, "prefecture") {
					t.Fatalf("the July change reached Stripe in May: %s", r.Body)
				}
			}
			clk.mu.Lock()
			clk.t = time.Date(2026, 7, 1, 0, 0, 1, 0, clock.China)
			clk.mu.Unlock()
			drain()
			dead, _ := svc.FindOutbox(ctx, "dead", 500)
			if len(dead) != 0 {
				t.Fatalf("dead outbox rows: %+v", dead[0])
			}
			done, _ := svc.FindOutbox(ctx, "done", 500)
			// 1 customer + 6 meters + prices + 1 subscription + 1 meter event + 1 invoice.
			byKey := map[string][]request{}
			for _, r := range rec.requests() {
				if r.Method != "POST" {
					continue
				}
				if r.Key == "" {
					t.Fatalf("a request without an idempotency key reached Stripe: %s %s", r.Method, r.Path)
				}
				byKey[r.Key] = append(byKey[r.Key], r)
			}
			for k, rs := range byKey {
				for _, r := range rs[1:] {
					if r.Body != rs[0].Body || r.Path != rs[0].Path {
						t.Fatalf("key %s was sent with different requests:\n%s\n%s", k, rs[0].Body, r.Body)
					}
				}
			}
			// Each outbox row is one operation: the invoice is three calls (invoice, item, finalize).
			wantKeys := len(done) + 2
			if len(byKey) != wantKeys {
				keys := []string{}
				for k := range byKey {
					keys = append(keys, k)
				}
				t.Fatalf("%d distinct operations reached Stripe, want %d: %v", len(byKey), wantKeys, keys)
			}
			// The customer reached Stripe twice (the slow answer, then the retry) under one key.
			if n := len(byKey["customer:"+tn.ID.String()]); n < 2 {
				t.Fatalf("customer requests: %d, want at least 2 (the slow answer, then the retry) with one key", n)
			}
			// The five distinct cases reached Stripe as meter events (one per flush that stored
			// some) whose values add up to 5, each identified by its first usage row id.
			var value int
			for k := range byKey {
				if strings.HasPrefix(k, "cityops-usage-") {
					body := byKey[k][0].Body
					if !strings.Contains(body, "identifier="+k+"&") {
						t.Fatalf("meter event %s: %s", k, body)
					}
					var v int
					if _, err := fmt.Sscanf(body[strings.Index(body, "payload[value]=")+len("payload[value]="):], "%d", &v); err != nil {
						t.Fatalf("meter event value: %s", body)
					}
					value += v
				}
			}
			if value != 5 {
				t.Fatalf("meter events add up to %d, want 5", value)
			}
			sch, _ := svc.FindSchedule(ctx, tn.ID)
			if sch.Instalments[0].StripeInvoiceID == "" {
				t.Fatal("the instalment's invoice id was not recorded")
			}
			// One subscription was made, under one key, however often it was asked for and retried;
			// the two plan changes each updated it in place, once each (one key per change).
			creates := map[string]bool{}
			for _, rs := range byKey {
				if rs[0].Path == "/v1/subscriptions" {
					creates[rs[0].Key] = true
					if !strings.Contains(rs[0].Body, "billing_cycle_anchor=") {
						t.Fatalf("subscription without an anchor at the start of a month: %s", rs[0].Body)
					}
				}
			}
			if len(creates) != 1 {
				t.Fatalf("%d subscriptions were created, want 1: %v", len(creates), creates)
			}
			upd := map[string]string{}
			for _, r := range updates(rec.requests()) {
				upd[r.Key] = r.Body
			}
			if len(upd) != 2 {
				t.Fatalf("%d subscription updates, want 2 (one per plan change): %v", len(upd), upd)
			}
			plans := []string{}
			for _, body := range upd {
				if !strings.Contains(body, "items[0][price]=") || !strings.Contains(body, "proration_behavior=none") {
					t.Fatalf("update body: %s", body)
				}
				for _, p := range []string{"standard", "prefecture"} {
					if strings.Contains(body, "metadata[plan]="+p) {
						plans = append(plans, p)
					}
				}
			}
			if len(plans) != 2 || plans[0] == plans[1] {
				t.Fatalf("updates moved the subscription to %v, want standard and prefecture", plans)
			}
		})
	}
}

// updates are the subscription updates (POST /v1/subscriptions/{id}) among reqs.
func updates(reqs []request) []request {
	var out []request
	for _, r := range reqs {
		if r.Method == "POST" && strings.HasPrefix(r.Path, "/v1/subscriptions/") {
			out = append(out, r)
		}
	}
	return out
}

func signed(t *testing.T, payload string) string {
	t.Helper()
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: "whsec_test", Timestamp: time.Now()})
	return sp.Header
}

func invoiceEvent(id, typ, invoice, tenant string, paid int64, version string) string {
	return fmt.Sprintf(`{"id":%q,"object":"event","api_version":%q,"created":1780000000,"type":%q,"data":{"object":{"id":%q,"object":"invoice","customer":"cus_x","amount_paid":%d,"currency":"cny","status":"paid","metadata":{"tenant_id":%q,"instalment_year":"2026"},"status_transitions":{"paid_at":1780000000}}}}`,
		id, version, typ, invoice, paid, tenant)
}

func TestWebhooks(t *testing.T) {
	for _, d := range []dbx.Dialect{dbx.SQLite, dbx.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			gw, err := stripegw.New(stripegw.Config{Key: "sk_test_123", WebhookSecret: "whsec_test", APIBase: "http://127.0.0.1:1"})
			if err != nil {
				t.Fatal(err)
			}
			clk := &testClock{t: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)}
			st := openStore(t, d, clk.Now)
			svc := billing.NewService(billing.Deps{Store: st, Now: clk.Now, Gateway: gw})
			t.Cleanup(func() { svc.Close() })
			tn := insertTenant(t, st, "chuxiong", "532301")
			if _, err := svc.Post(ctx, tn, billing.Entry{Kind: billing.Advance, AmountFen: 300_000_00}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.PutSchedule(ctx, tn, billing.ScheduleRequest{PrincipalFen: 300_000_00, Years: 3, StartYear: 2026}); err != nil {
				t.Fatal(err)
			}
			paid := invoiceEvent("evt_2", "invoice.paid", "in_1", tn.ID.String(), 100_000_00, stripegw.APIVersion)
			// A bad signature, a signature of another payload, and another API version are refused.
			if _, err := svc.HandleWebhook(ctx, []byte(paid), "t=1,v1=deadbeef"); !errs.Is(err, errs.Invalid) {
				t.Fatalf("bad signature: %v", err)
			}
			if _, err := svc.HandleWebhook(ctx, []byte(paid), signed(t, paid+" ")); !errs.Is(err, errs.Invalid) {
				t.Fatalf("signature of another payload: %v", err)
			}
			old := invoiceEvent("evt_9", "invoice.paid", "in_9", tn.ID.String(), 5, "2020-08-27")
			if _, err := svc.HandleWebhook(ctx, []byte(old), signed(t, old)); !errs.Is(err, errs.Invalid) {
				t.Fatalf("another API version: %v", err)
			}
			// invoice.paid arrives before invoice.finalized, and is replayed.
			r, err := svc.HandleWebhook(ctx, []byte(paid), signed(t, paid))
			if err != nil || r.JournalID == 0 || r.Replayed {
				t.Fatalf("paid: %+v %v", r, err)
			}
			r, err = svc.HandleWebhook(ctx, []byte(paid), signed(t, paid))
			if err != nil || !r.Replayed {
				t.Fatalf("replay: %+v %v", r, err)
			}
			fin := invoiceEvent("evt_1", "invoice.finalized", "in_1", tn.ID.String(), 0, stripegw.APIVersion)
			if _, err := svc.HandleWebhook(ctx, []byte(fin), signed(t, fin)); err != nil {
				t.Fatal(err)
			}
			// A second event about the same payment (another id) does not pay twice.
			ps := invoiceEvent("evt_3", "invoice.payment_succeeded", "in_1", tn.ID.String(), 100_000_00, stripegw.APIVersion)
			if _, err := svc.HandleWebhook(ctx, []byte(ps), signed(t, ps)); err != nil {
				t.Fatal(err)
			}
			b, _ := svc.FindBalance(ctx, tn.ID, time.Time{})
			if b.Repaid != 100_000_00 || b.Outstanding != 200_000_00 {
				t.Fatalf("after the webhooks: %+v", b)
			}
			sch, _ := svc.FindSchedule(ctx, tn.ID)
			if in := sch.Instalments[0]; in.Status != "paid" || in.StripeInvoiceID != "in_1" {
				t.Fatalf("instalment after finalized-after-paid: %+v", in)
			}
			// A subscription deleted in Stripe is forgotten (only the one we hold), so the tenant can
			// subscribe again; while it exists, subscribing again is a conflict.
			if _, err := st.DB().NewRaw("INSERT INTO control.billing_accounts (tenant_id, modules, stripe_customer_id, stripe_subscription_id, updated_at) VALUES (?, '{}', 'cus_x', 'sub_1', ?)",
				tn.ID, clk.Now()).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if err := svc.Subscribe(ctx, tn); !errs.Is(err, errs.Conflict) {
				t.Fatalf("subscribe with a subscription: %v", err)
			}
			for _, sub := range []string{"sub_other", "sub_1"} {
				del := fmt.Sprintf(`{"id":"evt_del_%s","object":"event","api_version":%q,"created":1780000000,"type":"customer.subscription.deleted","data":{"object":{"id":%q,"object":"subscription","customer":"cus_x","status":"canceled","metadata":{}}}}`,
					sub, stripegw.APIVersion, sub)
				if _, err := svc.HandleWebhook(ctx, []byte(del), signed(t, del)); err != nil {
					t.Fatal(err)
				}
				err := svc.Subscribe(ctx, tn)
				if sub == "sub_other" && !errs.Is(err, errs.Conflict) {
					t.Fatalf("another subscription's deletion forgot ours: %v", err)
				}
				if sub == "sub_1" && err != nil {
					t.Fatalf("subscribe after the deletion: %v", err)
				}
			}
		})
	}
}
