package exchange_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// eachDialect runs body on SQLite and PostgreSQL with the exchange's tables.
func eachDialect(t *testing.T, body func(t *testing.T, e *platformtest.Env)) {
	platformtest.EachDialect(t, body, exchange.Module(nil, nil, nil))
}

// Grids of A: one street, one community, two unit grids.
const (
	g1 = "53230100100101"
	g2 = "53230100100102"
)

func square(lon0, lat0, d float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`,
		lon0, lat0, lon0+d, lat0, lon0+d, lat0+d, lon0, lat0+d, lon0, lat0)
}

func feature(code, name, geom string) string {
	return fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":%q},"geometry":%s}`, code, name, geom)
}

var gridsJSON = `{"type":"FeatureCollection","features":[` + strings.Join([]string{
	feature("53230100100000", "鹿城街道", square(101.49, 24.99, 0.05)),
	feature("53230100100100", "鹿城社区", square(101.495, 24.995, 0.03)),
	feature(g1, "鹿城一号网格", square(101.50, 25.00, 0.01)),
	feature(g2, "鹿城二号网格", square(101.51, 25.00, 0.01)),
}, ",") + `]}`

// world is tenant A (and B) of e with the case loop, grids and the exchange on a keyring.
type world struct {
	t     testing.TB
	e     *platformtest.Env
	cs    *cases.Service
	grids *grids.Service
	ex    *exchange.Service
	keys  *secrets.Keyring
	// staff is a context in A holding the inspector's and the acceptor's posts (and the
	// leader's), enough to report cases and walk them round send_verify → verify for ever.
	staff context.Context
}

func newWorld(t testing.TB, e *platformtest.Env, cfg exchange.Config) *world {
	t.Helper()
	ctx := context.Background()
	keys, err := secrets.OpenKeyring(ctx, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	for _, tn := range []*tenants.Tenant{e.TenantA, e.TenantB} {
		if err := keys.EnsureTenantKey(ctx, tn.ID); err != nil {
			t.Fatal(err)
		}
	}
	g := grids.NewService(e.Store, nil)
	o := org.NewService(e.Store, nil, g.Index())
	cat := catalog.NewService(e.Store, o, g, nil)
	if rep, err := g.Import(e.A, []byte(gridsJSON), false); err != nil || rep.Accepted != 4 {
		t.Fatalf("grids: %+v %v", rep, err)
	}
	cfg.Gate, cfg.Credentials = e.Store, keys
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	w := &world{t: t, e: e, grids: g, keys: keys, ex: exchange.NewService(cfg),
		cs: cases.NewService(cases.Config{Gate: e.Store, Cipher: keys, PhotoDir: t.TempDir(), Places: g.Index(), Classes: cat.Entries(), RulesTTL: -1})}
	id := uuid.New()
	w.staff = tenants.WithScope(tenants.WithPrincipal(ctx, &tenants.Principal{Identity: &tenants.Identity{ID: id, Email: "staff@test.cn"}}),
		&tenants.Scope{Tenant: e.TenantA, Roles: []tenants.Role{tenants.Inspector, tenants.Acceptor, tenants.Leader}})
	return w
}

// report reports a case in A at grid 1 (a citizen's, with the reporter's name and phone).
func (w *world) report() *cases.Case {
	w.t.Helper()
	c, err := w.cs.Report(w.staff, cases.ReportInput{Source: cases.FromCitizen, Kind: catalog.Component, ClassCode: "0101",
		Lon: 101.505, Lat: 25.005, Description: "井盖丢失", ReporterName: "张三", ReporterPhone: "13800000000"})
	if err != nil {
		w.t.Fatalf("report: %v", err)
	}
	return c
}

// step takes the case one event further (send_verify, then verify, and round again).
func (w *world) step(c *cases.Case) *cases.Case {
	w.t.Helper()
	next, err := w.tryStep(c)
	if err != nil {
		w.t.Fatalf("step %s v%d: %v", c.Number, c.Version, err)
	}
	return next
}

func (w *world) tryStep(c *cases.Case) (*cases.Case, error) {
	a := cases.SendVerify
	if c.State == cases.Verifying {
		a = cases.Verify
	}
	return w.cs.Act(w.staff, c.ID, a, cases.ActionInput{Version: c.Version})
}

// put makes (or changes) A's destination code pointing at url, with fast settings.
func (w *world) put(code, url string, in exchange.DestinationInput) *exchange.Destination {
	w.t.Helper()
	in.URL = url
	if in.TimeoutMS == nil {
		ms := 2000
		in.TimeoutMS = &ms
	}
	d, err := w.ex.PutDestination(w.e.A, code, in)
	if err != nil {
		w.t.Fatalf("put destination: %v", err)
	}
	return d
}

// events are the ids of A's case events, in id order.
func (w *world) events() []string {
	w.t.Helper()
	var ids []string
	if err := w.e.Store.Tx(w.e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw("SELECT id FROM case_events ORDER BY id").Scan(ctx, &ids)
	}); err != nil {
		w.t.Fatal(err)
	}
	return ids
}

// outboxCount counts A's outbox rows of status ("" for all).
func (w *world) outboxCount(status string) int {
	w.t.Helper()
	var n int
	q := "SELECT count(*) FROM exchange_outbox"
	if status != "" {
		q += " WHERE status = '" + status + "'"
	}
	if err := w.e.Store.Tx(w.e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw(q).Scan(ctx, &n)
	}); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// deliver runs delivery passes in A until nothing more is delivered.
func (w *world) deliver() exchange.PassStats {
	w.t.Helper()
	var total exchange.PassStats
	for range 50 {
		st, err := w.ex.Deliver(w.e.A, 0)
		if err != nil {
			w.t.Fatalf("deliver: %v", err)
		}
		total.Batches += st.Batches
		total.Delivered += st.Delivered
		total.Refused += st.Refused
		total.Failed += st.Failed
		if st.Batches == 0 {
			break
		}
	}
	return total
}

// fastRetry is a retry policy for tests: milliseconds instead of seconds.
var fastRetry = outbox.Policy{Lease: 5 * time.Second, MaxAttempts: 3, Base: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
var fastPause = outbox.Policy{Base: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

// receiver is a provincial platform for the tests: it applies each idempotency key once (and
// counts the copies it deduplicated), remembers the order it applied each subject's items in,
// and can be told to misbehave.
type receiver struct {
	mu       sync.Mutex
	seen     map[string]bool
	applied  []received
	dupes    int
	batches  int
	auth     []string
	profiles []string
	// answer, when set, decides an item's outcome instead of applying it ("" applies).
	answer func(it received) string
	// status, when set, answers the whole batch with this status instead.
	status func() int
	// fault, when set, is consulted per batch (see faults.go).
	fault func() fault
	rng   *rand.Rand
}

// received is an item as the receiver got it.
type received struct {
	Key     string          `json:"key"`
	Kind    string          `json:"kind"`
	Subject string          `json:"subject"`
	Seq     int64           `json:"seq"`
	Data    json.RawMessage `json:"data"`
}

// fault is what a batch suffers.
type fault struct {
	before  int           // answer this status without applying anything
	after   int           // apply, then answer this status (the answer is lost)
	delay   time.Duration // wait this long before applying (a slow receiver; past the timeout: a timeout)
	perItem float64       // answer retry for this share of the items, without applying them
}

func newReceiver() *receiver {
	return &receiver{seen: map[string]bool{}, rng: rand.New(rand.NewPCG(1, 2))}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var env struct {
		Profile string     `json:"profile"`
		Items   []received `json:"items"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, `{"detail":"not json"}`, 400)
		return
	}
	r.mu.Lock()
	r.batches++
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.profiles = append(r.profiles, env.Profile)
	var f fault
	if r.fault != nil {
		f = r.fault()
	}
	status := 0
	if r.status != nil {
		status = r.status()
	}
	r.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"detail":"the receiver says %d"}`, status)
		return
	}
	if f.before != 0 {
		w.WriteHeader(f.before)
		return
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	type result struct {
		Key     string `json:"key"`
		Status  string `json:"status"`
		Message string `json:"message,omitempty"`
	}
	var results []result
	r.mu.Lock()
	for _, it := range env.Items {
		outcome := ""
		if r.answer != nil {
			outcome = r.answer(it)
		}
		if outcome == "" && f.perItem > 0 && r.rng.Float64() < f.perItem {
			outcome = "retry"
		}
		switch {
		case outcome != "":
			results = append(results, result{Key: it.Key, Status: outcome, Message: "the receiver says " + outcome})
		case r.seen[it.Key]:
			r.dupes++
			results = append(results, result{Key: it.Key, Status: "duplicate"})
		default:
			r.seen[it.Key] = true
			r.applied = append(r.applied, it)
			results = append(results, result{Key: it.Key, Status: "accepted"})
		}
	}
	r.mu.Unlock()
	if f.after != 0 {
		w.WriteHeader(f.after)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"results": results})
}

// appliedKeys are the keys applied, in order.
func (r *receiver) appliedKeys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.applied))
	for i, it := range r.applied {
		out[i] = it.Key
	}
	return out
}

func (r *receiver) items() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.applied)
}

// checkOrder fails t unless every case's events were applied in version order, one version
// after the other.
func (r *receiver) checkOrder(t testing.TB) {
	t.Helper()
	last := map[string]int64{}
	for _, it := range r.items() {
		if it.Kind != exchange.KindCaseEvent {
			continue
		}
		if it.Seq != last[it.Subject]+1 {
			t.Fatalf("%s: version %d applied after version %d", it.Subject, it.Seq, last[it.Subject])
		}
		last[it.Subject] = it.Seq
	}
}

// server serves h on a fixed loopback address that can be stopped and started again.
type server struct {
	addr string
	h    http.Handler
	mu   sync.Mutex
	srv  *http.Server
}

func startServer(t testing.TB, h http.Handler) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: ln.Addr().String(), h: h}
	s.serve(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *server) url() string { return "http://" + s.addr + "/batches" }

func (s *server) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv = &http.Server{Handler: s.h}
	go s.srv.Serve(ln)
}

// stop closes the listener and every connection: the receiver is down.
func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// restart listens on the same address again.
func (s *server) restart(t testing.TB) {
	for range 100 {
		ln, err := net.Listen("tcp", s.addr)
		if err == nil {
			s.serve(ln)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("the receiver could not listen on %s again", s.addr)
}
