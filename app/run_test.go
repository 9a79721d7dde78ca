package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"
	"go.uber.org/goleak"
)

// noLeaks fails t if, after its cleanups, a goroutine is left that was not there before it. Not
// the App's, and so not counted: the clocks of fiber (started here, before the count) and of
// fasthttp's Date header, which run for the life of the process once started; and the cleaner of
// a fasthttp server's worker pool, which fasthttp's Shutdown does not wait for and which notices
// the stop only after its sleep (up to 10 s).
func noLeaks(t *testing.T) {
	utils.StartTimeStampUpdater()
	opts := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2")}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}

// gateStep is a provisioning step that holds the first run of one tenant's provisioning at the
// gate until it is released or its context ends.
type gateStep struct {
	slug    string
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGateStep(slug string) *gateStep {
	return &gateStep{slug: slug, entered: make(chan struct{}), release: make(chan struct{})}
}

func (*gateStep) Name() string { return "gate" }

func (g *gateStep) Run(ctx context.Context, t *tenants.Tenant) error {
	first := false
	if t.Slug == g.slug {
		g.once.Do(func() { first = true })
	}
	if !first {
		return nil
	}
	close(g.entered)
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mustServeApp boots a migrated App with the prefecture, and with Stripe at stripeURL (offline
// without one), where the prefecture's provisioning has queued its customer for the outbox. It
// returns Close, once: the test calls it to check its answer, cleanup calls it otherwise.
func mustServeApp(t *testing.T, grace time.Duration, stripeURL string, gate *gateStep) (*App, func() error) {
	t.Helper()
	cfg := Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", LogFormat: "json", LogLevel: "error", MigrateOnStart: true,
		MigrateWorkers: 2, BodyLimit: 1 << 20, MaxOpenTenants: 8, ShutdownGrace: grace}
	if stripeURL != "" {
		cfg.StripeKey, cfg.StripeAPIBase = "sk_test_loops", stripeURL
	}
	ctx := context.Background()
	a, err := New(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler), Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1},
		Steps: []tenants.Step{gate}})
	if err != nil {
		t.Fatal(err)
	}
	closeApp := sync.OnceValue(a.Close)
	t.Cleanup(func() { closeApp() })
	if _, err := a.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.prov.Provision(ctx, tenants.NewTenant{Slug: "chuxiong-zhou", NameZH: "楚雄州", Kind: tenants.Prefecture, AdminCode: "532300"}); err != nil {
		t.Fatal(err)
	}
	return a, closeApp
}

var yaoan = tenants.NewTenant{Slug: "yaoan", NameZH: "姚安县", Kind: tenants.County, AdminCode: "532325", ParentSlug: "chuxiong-zhou"}

// loopWatch wraps every loop of a to report when it starts and record when it returns.
type loopWatch struct {
	started  chan string
	mu       sync.Mutex
	returned map[string]bool
}

func watchLoops(a *App) *loopWatch {
	w := &loopWatch{started: make(chan string, 16), returned: map[string]bool{}}
	for i, l := range a.loops {
		a.loops[i].run = func(ctx context.Context) error {
			w.started <- l.name
			defer func() {
				w.mu.Lock()
				w.returned[l.name] = true
				w.mu.Unlock()
			}()
			return l.run(ctx)
		}
	}
	return w
}

// notReturned returns the loops that have not returned, sorted.
func (w *loopWatch) notReturned(a *App) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range a.loops {
		if !w.returned[l.name] {
			out = append(out, l.name)
		}
	}
	slices.Sort(out)
	return out
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// serveResult is what Serve returned and what had ended by the time it did.
type serveResult struct {
	err         error
	notReturned []string
	provRunning []string
	elapsed     time.Duration // from cancel to return
}

// serve runs a.Serve until cancel; its result comes on the channel.
func serve(t *testing.T, a *App, w *loopWatch) (addr string, cancel func(), result <-chan serveResult) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var cancelled atomic.Pointer[time.Time]
	addrc := make(chan string, 1)
	done := make(chan serveResult, 1)
	go func() {
		err := a.Serve(ctx, func(addr string) { addrc <- addr })
		r := serveResult{err: err, notReturned: w.notReturned(a), provRunning: a.jobs.running()}
		if at := cancelled.Load(); at != nil {
			r.elapsed = time.Since(*at)
		}
		done <- r
	}()
	return recv(t, addrc, "Serve to listen"), func() {
		now := time.Now()
		cancelled.Store(&now)
		stop()
	}, done
}

// TestServeShutdownAwaitsLoopsAndProvisioning: Serve runs every loop with the server; at shutdown
// it drains HTTP, stops the loops (the Stripe outbox in the middle of a call) and waits for each,
// and waits for a provisioning run to finish rather than cutting it. After Close nothing of the
// App's is left running.
func TestServeShutdownAwaitsLoopsAndProvisioning(t *testing.T) {
	noLeaks(t)
	stripeCalled, over := make(chan string, 16), make(chan struct{})
	stripe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stripeCalled <- r.URL.Path
		select { // held until the outbox gives the call up: work in flight at shutdown
		case <-r.Context().Done():
		case <-over: // the test failed before
		}
	}))
	t.Cleanup(stripe.Close)
	t.Cleanup(func() { close(over) })
	gate := newGateStep("yaoan")
	a, closeApp := mustServeApp(t, 20*time.Second, stripe.URL, gate)
	w := watchLoops(a)
	stopping, release := make(chan struct{}), make(chan struct{})
	a.loops = append(a.loops, loop{name: "slow to stop", run: func(ctx context.Context) error {
		w.started <- "slow to stop"
		<-ctx.Done()
		close(stopping)
		<-release
		w.mu.Lock()
		w.returned["slow to stop"] = true
		w.mu.Unlock()
		return nil
	}})

	addr, cancel, result := serve(t, a, w)
	var started []string
	for range a.loops {
		started = append(started, recv(t, w.started, "the loops to start"))
	}
	slices.Sort(started)
	if want := []string{"billing rating", "cache sync", "case overdue", "evaluation bulletins", "evaluation totals", "exchange delivery", "guidance reminders", "monitoring alarm cases", "monitoring no data", "monitoring retention", "monitoring video gateway", "monitoring video snapshots", "notify deliver", "notify fanout", "slow to stop", "storage sample", "stripe outbox"}; !slices.Equal(started, want) {
		t.Fatalf("loops started: %v, want %v", started, want)
	}
	if path := recv(t, stripeCalled, "the outbox to call Stripe"); path != "/v1/customers" {
		t.Fatalf("the outbox called %s, want /v1/customers", path)
	}
	job := a.jobs.start(context.Background(), yaoan.Slug, uuid.Nil, func(ctx context.Context) (*tenants.Provisioned, error) {
		return a.prov.Provision(ctx, yaoan)
	})
	recv(t, gate.entered, "provisioning to reach the gate")
	// A kept-alive connection: its close lingers, and shutdown waits for that too.
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	res, err := client.Get("http://" + addr + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()

	cancel()
	recv(t, stopping, "the loops to be stopped")
	select {
	case r := <-result:
		t.Fatalf("Serve returned while a loop was still running: %+v", r)
	default:
	}
	// Provisioning goes on during the shutdown, and Serve waits for it.
	close(gate.release)
	close(release)
	r := recv(t, result, "Serve to return")
	if r.err != nil {
		t.Fatalf("Serve: %v", r.err)
	}
	if len(r.notReturned) > 0 || len(r.provRunning) > 0 {
		t.Fatalf("when Serve returned, loops still running: %v, provisioning still running: %v", r.notReturned, r.provRunning)
	}
	if over, err := job.finished(); !over || err != nil {
		t.Fatalf("provisioning: over %v, err %v; want finished, not cut", over, err)
	}
	if tn, err := a.store.FindTenantBySlug(context.Background(), yaoan.Slug); err != nil || tn.Status != tenants.StatusActive {
		t.Fatalf("yaoan after shutdown: %+v %v", tn, err)
	}
	// Nothing starts after shutdown.
	if _, err := a.jobs.start(context.Background(), "dayao", uuid.Nil, func(context.Context) (*tenants.Provisioned, error) {
		t.Error("provisioning ran after shutdown")
		return nil, nil
	}).finished(); err == nil {
		t.Fatal("provisioning started after shutdown")
	}
	if err := closeApp(); err != nil {
		t.Fatal(err)
	}
}

// TestServeShutdownBound: a loop that ignores its context holds Serve until the grace is over,
// and no longer; Serve then names it. A provisioning run still going at the bound is cut, is
// recorded as stopped, and resumes to the end.
func TestServeShutdownBound(t *testing.T) {
	noLeaks(t)
	gate := newGateStep("yaoan")
	const grace = 300 * time.Millisecond
	a, closeApp := mustServeApp(t, grace, "", gate)
	w := watchLoops(a)
	release, returned := make(chan struct{}), make(chan struct{})
	a.loops = append(a.loops, loop{name: "stubborn", run: func(ctx context.Context) error {
		defer close(returned)
		w.started <- "stubborn"
		<-ctx.Done()
		<-release
		return nil
	}})
	_, cancel, result := serve(t, a, w)
	recv(t, w.started, "the loop to start")
	job := a.jobs.start(context.Background(), yaoan.Slug, uuid.Nil, func(ctx context.Context) (*tenants.Provisioned, error) {
		return a.prov.Provision(ctx, yaoan)
	})
	recv(t, gate.entered, "provisioning to reach the gate")

	cancel()
	r := recv(t, result, "Serve to return")
	close(release)
	<-returned
	if r.err == nil || !strings.Contains(r.err.Error(), "stubborn") {
		t.Fatalf("Serve: %v, want an error naming the loop that did not stop", r.err)
	}
	if r.elapsed < grace || r.elapsed > grace+2*cutWait+5*time.Second {
		t.Fatalf("Serve returned %s after its context ended, want the grace (%s) plus at most 2×%s", r.elapsed, grace, cutWait)
	}
	if !slices.Equal(r.notReturned, []string{"stubborn"}) || len(r.provRunning) > 0 {
		t.Fatalf("when Serve returned, loops still running: %v (want only stubborn), provisioning still running: %v", r.notReturned, r.provRunning)
	}
	if over, err := job.finished(); !over || !errors.Is(err, context.Canceled) {
		t.Fatalf("provisioning at the bound: over %v, err %v; want cut", over, err)
	}
	ctx := context.Background()
	tn, err := a.store.FindTenantBySlug(ctx, yaoan.Slug)
	if err != nil || tn.Status != tenants.StatusProvisioning || !strings.Contains(tn.ProvisionError, "gate") {
		t.Fatalf("yaoan after the cut: %+v %v, want provisioning, stopped at the gate", tn, err)
	}
	if _, err := a.prov.Resume(ctx, tn); err != nil {
		t.Fatalf("resuming after the cut: %v", err)
	}
	if tn, err := a.store.FindTenantBySlug(ctx, yaoan.Slug); err != nil || tn.Status != tenants.StatusActive {
		t.Fatalf("yaoan resumed: %+v %v", tn, err)
	}
	if err := closeApp(); err != nil {
		t.Fatal(err)
	}
}

// TestLoopRestartsAfterFailure: a loop that returns an error, panics or returns before shutdown
// is logged and started again after its backoff; stop waits for it.
func TestLoopRestartsAfterFailure(t *testing.T) {
	noLeaks(t)
	var logs bytes.Buffer
	r := newRunner(slog.New(slog.NewTextHandler(&logs, nil)))
	r.minBackoff = time.Millisecond
	runs := make(chan int, 4)
	n := 0
	r.start(context.Background(), []loop{{name: "flaky", run: func(ctx context.Context) error {
		n++
		runs <- n
		switch n {
		case 1:
			return errors.New("database gone")
		case 2:
			panic("a bug")
		case 3:
			return nil
		}
		<-ctx.Done()
		return ctx.Err()
	}}})
	for want := 1; want <= 4; want++ {
		if got := recv(t, runs, "the loop to run"); got != want {
			t.Fatalf("run %d, want %d", got, want)
		}
	}
	if got := r.active(); !slices.Equal(got, []string{"flaky"}) {
		t.Fatalf("active: %v", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.active(); len(got) > 0 {
		t.Fatalf("active after stop: %v", got)
	}
	out := logs.String()
	if c := strings.Count(out, "background loop failed"); c != 3 {
		t.Errorf("%d failures logged, want 3:\n%s", c, out)
	}
	for _, want := range []string{"database gone", "panic: a bug", "returned before shutdown", "loop=flaky"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
