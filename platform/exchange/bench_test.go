package exchange_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/migrations"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"
)

// The benchmarks run only with -bench, on PostgreSQL. Sizes come from the environment, so that
// the big backlog is built only when asked:
//
//	CITYOPS_BENCH_EXCHANGE_TENANTS  counties pushing at once (default 4)
//	CITYOPS_BENCH_EXCHANGE_BACKLOG  changes in the backlog BenchmarkDrain drains (default 20000;
//	                                docs/benchmarks.md: 1000000), spread over the counties
//	CITYOPS_BENCH_EXCHANGE_BATCH    the destinations' batch size (default 200, the default)
//
// The receiver is a local HTTP server that decodes each batch and answers every item accepted;
// it runs on the same machine (and cores) as the database and the pusher.

func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			panic(fmt.Sprintf("%s: %q is not a positive number", name, v))
		}
		return n
	}
	return def
}

// benchReceiver answers every item of a batch accepted, and counts them.
func benchReceiver(tb testing.TB) (string, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env exchange.Envelope
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &env); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		type result struct {
			Key    string `json:"key"`
			Status string `json:"status"`
		}
		out := make([]result, len(env.Items))
		for i, it := range env.Items {
			out[i] = result{Key: it.Key, Status: "accepted"}
		}
		n.Add(int64(len(out)))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"results": out})
	}))
	tb.Cleanup(srv.Close)
	return srv.URL, &n
}

// pushEnv is a PostgreSQL store with the exchange's tables, counties of 楚雄州, each with a
// destination at a local receiver, and the exchange service.
type pushEnv struct {
	store    *tenants.Store
	counties []*tenants.Tenant
	ex       *exchange.Service
	received *atomic.Int64
	seq      []int64 // cases made in each county
}

func newPushEnv(b *testing.B, counties int, withDestination bool) *pushEnv {
	b.Helper()
	pg := testdb.Postgres(b)
	migs, err := migrations.LoadFS(exchange.Module(nil, nil, nil).Migrations, "postgres", "exchange")
	if err != nil {
		b.Fatal(err)
	}
	s, err := tenants.Open(tenants.Config{DataDir: b.TempDir(), DatabaseURL: pg.DSN, RolePrefix: pg.RolePrefix,
		Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1}, Migrations: migs})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if _, err := s.MigrateControl(ctx); err != nil {
		b.Fatal(err)
	}
	keys, err := secrets.OpenKeyring(ctx, b.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { keys.Close() })
	p := tenants.NewProvisioner(s)
	if _, err := p.Provision(ctx, tenants.NewTenant{Slug: "chuxiong-zhou", NameZH: "楚雄州", Kind: tenants.Prefecture, AdminCode: "532300"}); err != nil {
		b.Fatal(err)
	}
	ds, err := s.FindDivisions(ctx, tenants.DivisionFilter{Parent: "532300"})
	if err != nil || len(ds) < counties {
		b.Fatalf("楚雄州 has %d counties, %d asked (%v)", len(ds), counties, err)
	}
	url, received := benchReceiver(b)
	e := &pushEnv{store: s, received: received, seq: make([]int64, counties),
		ex: exchange.NewService(exchange.Config{Gate: s, Credentials: keys, Log: slog.New(slog.DiscardHandler)})}
	batch := envInt("CITYOPS_BENCH_EXCHANGE_BATCH", exchange.DefaultBatchSize)
	for _, d := range ds[:counties] {
		res, err := p.Provision(ctx, tenants.NewTenant{Slug: "c" + d.Code, NameZH: d.NameZH, Kind: d.Kind(), AdminCode: d.Code, ParentSlug: "chuxiong-zhou"})
		if err != nil {
			b.Fatalf("provision %s: %v", d.Code, err)
		}
		e.counties = append(e.counties, res.Tenant)
		if withDestination {
			if _, err := e.ex.PutDestination(e.ctx(len(e.counties)-1), "province", exchange.DestinationInput{URL: url, BatchSize: &batch}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return e
}

func (e *pushEnv) ctx(i int) context.Context {
	return tenants.WithScope(context.Background(), tenants.SystemScope(e.counties[i]))
}

// changes adds n cases with versions events each to county i, set-based, through the tenant
// gate: the events' insert fires the exchange's trigger as the case loop's does.
func (e *pushEnv) changes(b *testing.B, i int, n, versions int) {
	b.Helper()
	from, to := e.seq[i]+1, e.seq[i]+int64(n)
	e.seq[i] = to
	code := e.counties[i].AdminCode
	err := e.store.Tx(e.ctx(i), tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.NewRaw(`INSERT INTO cases (id, number, seq, state, version, source, kind, class_code, lon, lat, grid_code,
			reported_by, created_at, updated_at)
			SELECT md5('c' || i)::uuid::text, ? || '-' || lpad(i::text, 8, '0'), i, 'verifying', ?, 'inspector', 'component', '0101',
				101.5 + (i % 100) * 0.001, 25.0 + (i % 97) * 0.001, ? || '00100101', 'bench', now(), now()
			FROM generate_series(?::bigint, ?::bigint) i`, code, versions, code, from, to).Exec(ctx); err != nil {
			return err
		}
		_, err := db.NewRaw(`INSERT INTO case_events (id, case_id, version, action, from_state, to_state, actor_id, post, detail, at)
			SELECT md5('e' || i || '/' || v)::uuid::text, md5('c' || i)::uuid::text, v,
				CASE WHEN v = 1 THEN 'report' WHEN v % 2 = 0 THEN 'send_verify' ELSE 'verify' END,
				CASE WHEN v = 1 THEN '' WHEN v % 2 = 0 THEN 'accepted' ELSE 'verifying' END,
				CASE WHEN v = 1 THEN 'reported' WHEN v % 2 = 0 THEN 'verifying' ELSE 'accepted' END,
				'bench', 'acceptor', '{"deadline":null}', now() - interval '1 hour' + (v * 1000000 + i % 1000000) * interval '1 microsecond'
			FROM generate_series(?::bigint, ?::bigint) i, generate_series(1, ?) v
			ORDER BY v, i`, from, to, versions).Exec(ctx)
		return err
	})
	if err != nil {
		b.Fatalf("seed county %d: %v", i, err)
	}
}

// drainAll delivers every county's outbox until it is empty, LoopWorkers counties at a time
// as the loop runs them, and returns how many changes went.
func (e *pushEnv) drainAll(b *testing.B) int {
	b.Helper()
	var total atomic.Int64
	g := new(errgroup.Group)
	g.SetLimit(exchange.LoopWorkers)
	for i := range e.counties {
		g.Go(func() error {
			for {
				st, err := e.ex.Deliver(e.ctx(i), 0)
				if err != nil {
					return err
				}
				total.Add(int64(st.Delivered))
				if st.Batches == 0 {
					return nil
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return int(total.Load())
}

// BenchmarkPush: rounds of 2,000 new changes (one event each of as many cases, spread over the
// counties, as live traffic is) pushed by the delivery to the receiver: changes/s is what the
// push keeps up with.
func BenchmarkPush(b *testing.B) {
	counties := envInt("CITYOPS_BENCH_EXCHANGE_TENANTS", 4)
	e := newPushEnv(b, counties, true)
	const round = 2000
	var pushed int
	var spent time.Duration
	for b.Loop() {
		b.StopTimer()
		for i := range counties {
			e.changes(b, i, round/counties, 1)
		}
		b.StartTimer()
		start := time.Now()
		pushed += e.drainAll(b)
		spent += time.Since(start)
	}
	if pushed != b.N*round/counties*counties {
		b.Fatalf("pushed %d changes, want %d", pushed, b.N*round/counties*counties)
	}
	b.ReportMetric(float64(pushed)/spent.Seconds(), "changes/s")
}

// BenchmarkDrain: a backlog left by an outage (CITYOPS_BENCH_EXCHANGE_BACKLOG changes: cases of
// 10 events, spread over the counties, in the outbox in the order they were made) drained to
// the receiver; changes/s is the drain rate.
func BenchmarkDrain(b *testing.B) {
	counties := envInt("CITYOPS_BENCH_EXCHANGE_TENANTS", 4)
	backlog := envInt("CITYOPS_BENCH_EXCHANGE_BACKLOG", 20_000)
	const versions = 10
	e := newPushEnv(b, counties, true)
	var drained int
	var spent time.Duration
	for b.Loop() {
		b.StopTimer()
		start := time.Now()
		perCounty := backlog / versions / counties
		for i := range counties {
			for done := 0; done < perCounty; done += 20_000 {
				e.changes(b, i, min(20_000, perCounty-done), versions)
			}
		}
		b.Logf("backlog of %d changes built in %s", perCounty*versions*counties, time.Since(start).Round(time.Millisecond))
		b.StartTimer()
		start = time.Now()
		drained += e.drainAll(b)
		spent += time.Since(start)
	}
	b.ReportMetric(float64(drained)/spent.Seconds(), "changes/s")
	b.ReportMetric(float64(drained)/float64(b.N), "changes/op")
}

// BenchmarkCollect: what the outbox costs the case loop — inserting events (rounds of 2,000 in
// one statement, as a group commit of reports writes them) into a county with no destination and
// into one with a destination, round after round in the same run; "with/without" is the ratio of
// the times (1.15: the trigger adds 15 %).
func BenchmarkCollect(b *testing.B) {
	e := newPushEnv(b, 2, false)
	url, _ := benchReceiver(b)
	if _, err := e.ex.PutDestination(e.ctx(1), "province", exchange.DestinationInput{URL: url}); err != nil {
		b.Fatal(err)
	}
	const round = 2000
	var without, with time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		e.changes(b, 0, round, 1)
		mid := time.Now()
		e.changes(b, 1, round, 1)
		without, with = without+mid.Sub(start), with+time.Since(mid)
		n += round
	}
	b.ReportMetric(float64(n)/without.Seconds(), "without-changes/s")
	b.ReportMetric(float64(n)/with.Seconds(), "with-changes/s")
	b.ReportMetric(with.Seconds()/without.Seconds(), "with/without")
}
