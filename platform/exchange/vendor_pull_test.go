package exchange_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/google/uuid"
)

// vendorAPI is a vendor's paged JSON API over records, in one of the paging styles a pull knows:
// {"code":0,"data":{"list":[…],"next":…},"links":{"next":…}}.
type vendorAPI struct {
	mu      sync.Mutex
	records []map[string]any
	by      string // page | offset | cursor | next_link
	size    int
	// fail[n] is how many more times the n-th request of a page (by its first record) fails
	// with 503; garbage[n] is the body served instead of that page.
	fail    map[int]int
	garbage map[int]string
	status  map[int]int
	// requests are the queries the server was asked, and auth their Authorization headers.
	requests []url.Values
	auth     []string
}

// set changes the server under its lock.
func (v *vendorAPI) set(f func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f()
}

func (v *vendorAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	q := r.URL.Query()
	v.requests, v.auth = append(v.requests, q), append(v.auth, r.Header.Get("Authorization"))
	from := 0
	switch v.by {
	case "page":
		n, _ := strconv.Atoi(q.Get("pageNo"))
		from = (n - 1) * v.size
	case "offset":
		from, _ = strconv.Atoi(q.Get("offset"))
	case "cursor":
		from, _ = strconv.Atoi(strings.TrimPrefix(q.Get("cursor"), "c"))
	case "next_link":
		from, _ = strconv.Atoi(q.Get("after"))
	}
	if v.fail[from] > 0 {
		v.fail[from]--
		http.Error(w, `{"msg":"系统繁忙"}`, http.StatusServiceUnavailable)
		return
	}
	if s := v.status[from]; s != 0 {
		w.WriteHeader(s)
		fmt.Fprint(w, `{"msg":"token expired"}`)
		return
	}
	if g, ok := v.garbage[from]; ok {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, g)
		return
	}
	from = max(0, min(from, len(v.records)))
	to := min(from+v.size, len(v.records))
	data := map[string]any{"list": v.records[from:to]}
	page := map[string]any{"code": 0, "data": data}
	if to < len(v.records) {
		switch v.by {
		case "cursor":
			data["next"] = "c" + strconv.Itoa(to)
		case "next_link":
			page["links"] = map[string]any{"next": "/records?after=" + strconv.Itoa(to)}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(page)
}

// vendorRecords are the sample JSON profile's two records and n more like its second, each a
// record of its own.
func vendorRecords(t testing.TB, n int) []map[string]any {
	t.Helper()
	var recs []map[string]any
	if err := json.Unmarshal(mustRead(t, "szcg-b.json"), &recs); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		var c map[string]any
		b, _ := json.Marshal(recs[1])
		json.Unmarshal(b, &c)
		c["案卷标识"] = fmt.Sprintf("b-8%04d", i)
		recs = append(recs, c)
	}
	return recs
}

// pullMapping saves the sample JSON profile's mapping with pull as its pull section.
func (vw *vendorWorld) pullMapping(ctx context.Context, pull map[string]any) *exchange.Mapping {
	vw.t.Helper()
	var m map[string]any
	json.Unmarshal(mustRead(vw.t, "szcg-b.mapping.json"), &m)
	m["pull"] = pull
	b, _ := json.Marshal(m)
	pm, err := exchange.ParseMapping(b)
	if err != nil {
		vw.t.Fatal(err)
	}
	if pm, err = vw.im.EnsureMapping(ctx, pm); err != nil {
		vw.t.Fatal(err)
	}
	return pm
}

// puller is vw's importer with the credential store and quick retries.
func (vw *vendorWorld) puller(chunk int, cipher cases.Cipher) *exchange.Importer {
	if cipher == nil {
		cipher = vw.keys
	}
	return exchange.NewImporter(exchange.ImporterConfig{Gate: vw.e.Store, Cipher: cipher, Credentials: vw.keys, Usage: vw.usage,
		Classes: catalog.NewEntries(), Chunk: chunk, HistoryChanged: func(context.Context, uuid.UUID) { vw.changed++ },
		Pull: exchange.PullConfig{Backoff: outbox.Policy{Base: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, Attempts: 3}})
}

func mustPull(t testing.TB, im *exchange.Importer, ctx context.Context, opts exchange.PullOptions) *exchange.PullReport {
	t.Helper()
	rep, err := im.Pull(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("problems: %+v", rep.Problems)
	}
	return rep
}

// TestVendorPullPaging: each paging style reads every page once and the records import as the
// file's do; the window, the fixed query and the credential reach the vendor; a dry run writes
// nothing; a re-pull changes nothing; a corrected record updates.
func TestVendorPullPaging(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 2)
		if _, err := vw.keys.PutCredential(e.A, e.TenantA.ID, exchange.VendorCredentialName("szcg-b"), "s3cret", "test"); err != nil {
			t.Fatal(err)
		}
		im := vw.puller(2, nil)
		from, to := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		paging := map[string]map[string]any{
			"page":      {"by": "page", "param": "pageNo", "size_param": "pageSize", "size": 2},
			"offset":    {"by": "offset", "param": "offset", "size_param": "limit", "size": 2},
			"cursor":    {"by": "cursor", "param": "cursor", "next": "data.next", "size_param": "limit", "size": 2},
			"next_link": {"by": "next_link", "next": "links.next"},
		}
		for i, by := range []string{"page", "offset", "cursor", "next_link"} {
			api := &vendorAPI{records: vendorRecords(t, 3), by: by, size: 2}
			srv := httptest.NewServer(api)
			defer srv.Close()
			vendor := "szcg-b"
			pm := vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": srv.URL + "/records?tenant=wd", "records": "data.list",
				"paging": paging[by], "query": map[string]string{"status": "all"},
				"window": map[string]string{"from": "beginTime", "to": "endTime", "layout": "2006-01-02 15:04:05"},
				"auth":   map[string]string{"header": "Authorization", "prefix": "Bearer "}})
			if pm.Version != i+1 {
				t.Fatalf("%s: mapping version %d", by, pm.Version)
			}
			var phases []string
			opts := exchange.PullOptions{Vendor: vendor, From: from, To: to, DryRun: true, Progress: func(p exchange.ImportProgress) {
				if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
					phases = append(phases, p.Phase)
				}
			}}
			dry := mustPull(t, im, e.A, opts)
			if i == 0 && (dry.Created != 5 || dry.Applied || dry.Pull.Pulled != 5 || dry.Pull.Duplicates != 0 || strings.Join(phases, ",") != "pull,check") {
				t.Fatalf("%s dry run: %+v %+v %v", by, dry.ImportReport, dry.Pull, phases)
			}
			// Pages: 3 of 2, 2, 1 records; page and offset paging ask once more and get none.
			if want := map[string]int{"page": 4, "offset": 4, "cursor": 3, "next_link": 3}[by]; dry.Pull.Pages != want {
				t.Fatalf("%s: %d pages, want %d", by, dry.Pull.Pages, want)
			}
			q := api.requests[0]
			if q.Get("beginTime") != "2024-04-01 08:00:00" || q.Get("endTime") != "2024-05-01 08:00:00" || q.Get("status") != "all" || q.Get("tenant") != "wd" ||
				api.auth[0] != "Bearer s3cret" || api.auth[len(api.auth)-1] != "Bearer s3cret" {
				t.Fatalf("%s: request %v, auth %v", by, q, api.auth)
			}
			if i == 0 {
				if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 0 {
					t.Fatalf("the dry run wrote %d cases", n)
				}
			}
			rep := mustPull(t, im, e.A, exchange.PullOptions{Vendor: vendor, From: from, To: to})
			if i == 0 && (rep.Created != 5 || rep.Events != 6+9*4 || !rep.Applied || rep.RunID == "") {
				t.Fatalf("%s: %+v", by, rep.ImportReport)
			}
			if i > 0 && (rep.Created != 0 || rep.Unchanged != 5 || rep.Events != 0) {
				t.Fatalf("%s re-pull: %+v", by, rep.ImportReport)
			}
		}
		if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 5 {
			t.Fatalf("%d cases", n)
		}
		if c := vw.caseOf(e.A, "szcg-b", "b-80002"); c.State != cases.Closed || c.Version != 9 {
			t.Fatalf("case: %+v", c)
		}
		if len(vw.usage.keys) != 1 {
			t.Fatalf("metered: %v", vw.usage.keys)
		}

		// A corrected record: the vendor's first record got its extension approved.
		api := &vendorAPI{records: vendorRecords(t, 3), by: "page", size: 2}
		hist := api.records[0]["流转记录"].([]any)
		api.records[0]["流转记录"] = append(hist, map[string]any{"环节名称": "同意延期", "处理时间": "2024-04-11T10:00:00", "处理人": "张值班长"})
		srv := httptest.NewServer(api)
		defer srv.Close()
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": srv.URL, "records": "data.list", "paging": paging["page"],
			"window": map[string]string{"from": "beginTime", "to": "endTime"}, "auth": map[string]string{"header": "Authorization", "prefix": "Bearer "}})
		rep := mustPull(t, im, e.A, exchange.PullOptions{Vendor: "szcg-b", From: from, To: to})
		if rep.Updated != 1 || rep.Unchanged != 4 || rep.Events != 1 {
			t.Fatalf("corrected: %+v", rep.ImportReport)
		}
		if c := vw.caseOf(e.A, "szcg-b", "b-77001"); c.State != cases.Handling || c.Version != 7 {
			t.Fatalf("corrected case: %s v%d", c.State, c.Version)
		}
		if api.requests[0].Get("beginTime") != "2024-04-01T08:00:00+08:00" {
			t.Fatalf("default layout: %v", api.requests[0])
		}
	})
}

// TestVendorPullFailures: a page that fails and then answers loses and duplicates nothing; a
// server that keeps failing, answers garbage, refuses the credential or sends the pull elsewhere
// is a clear upstream error naming the page, and nothing is written; a record sent twice is
// imported once; a pull cut short while writing continues.
func TestVendorPullFailures(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 1)
		im := vw.puller(1, nil)
		api := &vendorAPI{records: vendorRecords(t, 3), by: "offset", size: 2, fail: map[int]int{2: 5}}
		srv := httptest.NewServer(api)
		defer srv.Close()
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": srv.URL, "records": "data.list",
			"paging": map[string]any{"by": "offset", "param": "offset", "size_param": "limit", "size": 2}})
		pull := exchange.PullOptions{Vendor: "szcg-b"}
		_, err := im.Pull(e.A, pull)
		if !errs.Is(err, errs.Upstream) || !strings.Contains(err.Error(), "Page 2 of "+srv.URL) || !strings.Contains(err.Error(), "503") ||
			!strings.Contains(err.Error(), "系统繁忙") || !strings.Contains(err.Error(), "3 attempts") {
			t.Fatalf("failing: %v", err)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 0 {
			t.Fatalf("%d cases after a failed pull", n)
		}
		// It fails twice more, then answers.
		api.set(func() { api.fail[2] = 2 })
		rep := mustPull(t, im, e.A, pull)
		if rep.Created != 5 || rep.Pull.Retries != 2 || rep.Pull.Pulled != 5 || rep.Pull.Duplicates != 0 {
			t.Fatalf("recovered: %+v %+v", rep.ImportReport, rep.Pull)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 5 {
			t.Fatalf("%d cases", n)
		}

		for name, tc := range map[string]struct {
			setup func()
			code  errs.Code
			want  []string
		}{
			"html":     {func() { api.garbage = map[int]string{2: "<html>502 Bad Gateway</html>"} }, errs.Upstream, []string{"Page 2 of", "is not JSON", "text/html", "<html>"}},
			"no array": {func() { api.garbage = map[int]string{0: `{"code":500,"msg":"数据库连接失败"}`} }, errs.Upstream, []string{"Page 1 of", "data.list", "数据库连接失败"}},
			"not objects": {func() { api.garbage = map[int]string{2: `{"data":{"list":[{"案卷标识":"x"},"b-2",3]}}`} }, errs.Upstream,
				[]string{"Page 2 of", "record 2 is not a JSON object"}},
			"refused":   {func() { api.status = map[int]int{0: 401} }, errs.Upstream, []string{"Page 1 of", "401 Unauthorized", "token expired", "vendor_szcg-b"}},
			"not there": {func() { api.status = map[int]int{4: 404} }, errs.Upstream, []string{"Page 3 of", "404 Not Found", "1 attempts"}},
		} {
			api.set(func() { api.garbage, api.status = nil, nil; tc.setup() })
			if _, err := im.Pull(e.A, pull); !errs.Is(err, tc.code) || !containsAll(err.Error(), tc.want) {
				t.Errorf("%s: %v", name, err)
			}
		}
		api.set(func() { api.garbage, api.status = nil, nil })

		// A redirect to another host is not followed; one on the vendor's host is.
		other := httptest.NewServer(api)
		defer other.Close()
		hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/old" {
				http.Redirect(w, r, "/records?"+r.URL.RawQuery, http.StatusFound)
				return
			}
			if r.URL.Path == "/loop" {
				http.Redirect(w, r, "/loop", http.StatusFound)
				return
			}
			if r.URL.Path == "/away" {
				http.Redirect(w, r, other.URL+"/records?"+r.URL.RawQuery, http.StatusFound)
				return
			}
			api.ServeHTTP(w, r)
		}))
		defer hop.Close()
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": hop.URL + "/away", "records": "data.list",
			"paging": map[string]any{"by": "offset", "param": "offset", "size_param": "limit", "size": 2}})
		if _, err := im.Pull(e.A, pull); !errs.Is(err, errs.Upstream) || !strings.Contains(err.Error(), "another host ("+other.URL+")") {
			t.Fatalf("redirect away: %v", err)
		}
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": hop.URL + "/loop"})
		if _, err := im.Pull(e.A, pull); !errs.Is(err, errs.Upstream) || !strings.Contains(err.Error(), "redirected more than 5 times") {
			t.Fatalf("redirect loop: %v", err)
		}
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": hop.URL + "/old", "records": "data.list",
			"paging": map[string]any{"by": "offset", "param": "offset", "size_param": "limit", "size": 2}})
		if rep := mustPull(t, im, e.A, pull); rep.Unchanged != 5 {
			t.Fatalf("redirect on the host: %+v", rep.ImportReport)
		}

		// Offset paging over records that shift: the record at the page's border comes twice.
		dup := &vendorAPI{records: append(vendorRecords(t, 3)[:2:2], vendorRecords(t, 3)[1:]...), by: "offset", size: 2}
		dsrv := httptest.NewServer(dup)
		defer dsrv.Close()
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": dsrv.URL, "records": "data.list",
			"paging": map[string]any{"by": "offset", "param": "offset", "size_param": "limit", "size": 2}})
		if rep := mustPull(t, im, e.A, pull); rep.Pull.Pulled != 6 || rep.Pull.Duplicates != 1 || rep.Records != 5 || rep.Unchanged != 5 {
			t.Fatalf("duplicates: %+v %+v", rep.ImportReport, rep.Pull)
		}

		// Cut short while writing (the key store fails after the first chunks), then continued.
		fresh := &vendorAPI{records: vendorRecords(t, 3)[2:], by: "offset", size: 2}
		for _, r := range fresh.records {
			r["案卷标识"] = "new-" + r["案卷标识"].(string)
			r["举报人姓名"] = "王五"
		}
		fsrv := httptest.NewServer(fresh)
		defer fsrv.Close()
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": fsrv.URL, "records": "data.list",
			"paging": map[string]any{"by": "offset", "param": "offset", "size_param": "limit", "size": 2}})
		broken := vw.puller(1, &failingCipher{Cipher: vw.keys, ok: 1})
		if _, err := broken.Pull(e.A, pull); !errs.Is(err, errs.Unavailable) {
			t.Fatalf("cut short: %v", err)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 6 {
			t.Fatalf("%d cases after the first chunk", n)
		}
		rep = mustPull(t, im, e.A, pull)
		if rep.Resumed != 1 || rep.Created != 3 {
			t.Fatalf("continued: %+v", rep.ImportReport)
		}
		if n := vw.count(e.A, "SELECT count(*) FROM cases"); n != 8 {
			t.Fatalf("%d cases", n)
		}
	})
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestVendorPullLimits: a server that does not answer in time is tried again and then named; a
// pull is cancelled with its context; the page and byte caps hold; a pull needs its credential,
// a pull section, a window it can send, and the tenant's admin.
func TestVendorPullLimits(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		im := vw.puller(0, nil)
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer slow.Close()
		defer close(release)
		pull := exchange.PullOptions{Vendor: "szcg-b"}
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": slow.URL, "timeout_seconds": 1})
		start := time.Now()
		if _, err := im.Pull(e.A, pull); !errs.Is(err, errs.Upstream) || !strings.Contains(err.Error(), "no answer within 1s (3 attempts)") {
			t.Fatalf("slow: %v", err)
		}
		if d := time.Since(start); d < 3*time.Second || d > 10*time.Second {
			t.Fatalf("slow took %s", d)
		}
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": slow.URL})
		ctx, cancel := context.WithTimeout(e.A, 300*time.Millisecond)
		defer cancel()
		start = time.Now()
		if _, err := im.Pull(ctx, pull); err == nil || !strings.Contains(err.Error(), "context deadline exceeded") || time.Since(start) > 5*time.Second {
			t.Fatalf("cancelled: %v after %s", err, time.Since(start))
		}

		api := &vendorAPI{records: vendorRecords(t, 20), by: "page", size: 2}
		srv := httptest.NewServer(api)
		defer srv.Close()
		paging := map[string]any{"by": "page", "param": "pageNo", "size_param": "pageSize", "size": 2}
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": srv.URL, "records": "data.list", "paging": paging, "max_pages": 3})
		if _, err := im.Pull(e.A, pull); !errs.Is(err, errs.TooLarge) || !strings.Contains(err.Error(), "over 3 pages") {
			t.Fatalf("pages: %v", err)
		}
		small := exchange.NewImporter(exchange.ImporterConfig{Gate: e.Store, Cipher: vw.keys, Pull: exchange.PullConfig{PageBytes: 1000}})
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": srv.URL, "records": "data.list", "paging": paging})
		if _, err := small.Pull(e.A, pull); !errs.Is(err, errs.TooLarge) || !strings.Contains(err.Error(), "Page 1 of") {
			t.Fatalf("page bytes: %v", err)
		}
		big := &vendorAPI{records: vendorRecords(t, 1500), by: "page", size: 2000}
		bsrv := httptest.NewServer(big)
		defer bsrv.Close()
		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": bsrv.URL, "records": "data.list", "max_mib": 1})
		if _, err := im.Pull(e.A, pull); !errs.Is(err, errs.TooLarge) || !strings.Contains(err.Error(), "over 1 MiB") {
			t.Fatalf("bytes: %v", err)
		}

		vw.pullMapping(e.A, map[string]any{"kind": "json_pages", "base_url": srv.URL, "records": "data.list", "paging": paging,
			"auth": map[string]string{"query": "api_key"}})
		if _, err := im.Pull(e.A, pull); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "cityops credentials set "+e.TenantA.Slug+" vendor_szcg-b") {
			t.Fatalf("no credential: %v", err)
		}
		if _, err := vw.keys.PutCredential(e.A, e.TenantA.ID, "vendor_szcg-b", "k3y", "test"); err != nil {
			t.Fatal(err)
		}
		if rep := mustPull(t, im, e.A, exchange.PullOptions{Vendor: "szcg-b", DryRun: true}); rep.Created != 22 || api.requests[len(api.requests)-1].Get("api_key") != "k3y" ||
			strings.Contains(rep.File, "k3y") || strings.Contains(rep.Pull.Source, "k3y") {
			t.Fatalf("query credential: %+v %v", rep.ImportReport, api.requests[len(api.requests)-1])
		}
		api.set(func() { api.status = map[int]int{2: 403} })
		if _, err := im.Pull(e.A, pull); err == nil || strings.Contains(err.Error(), "k3y") || !strings.Contains(err.Error(), "403 Forbidden") {
			t.Fatalf("the credential in an error: %v", err)
		}
		if _, err := im.Pull(e.A, exchange.PullOptions{Vendor: "szcg-b", From: time.Now()}); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "from" {
			t.Fatalf("a window it cannot send: %v", err)
		}
		if _, err := im.Pull(e.A, exchange.PullOptions{Vendor: "szcg-b", From: time.Now(), To: time.Now().Add(-time.Hour)}); errs.FieldOf(err) != "to" {
			t.Fatalf("to before from: %v", err)
		}
		vw.mustMapping(e.A, "szcg-a.mapping.json")
		if _, err := im.Pull(e.A, exchange.PullOptions{Vendor: "szcg-a"}); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "no pull section") {
			t.Fatalf("no pull section: %v", err)
		}
		for name, ctx := range map[string]context.Context{"viewer": e.View, "inspector": vw.staff} {
			if _, err := im.Pull(ctx, pull); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if _, err := im.Pull(e.B, pull); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B pulls A's vendor: %v", err)
		}
	})
}

// TestVendorPullMappingCheck: the pull section is checked strictly, field by field.
func TestVendorPullMappingCheck(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		var base map[string]any
		json.Unmarshal(mustRead(t, "szcg-b.mapping.json"), &base)
		good := map[string]any{"kind": "json_pages", "base_url": "https://szcg.example.cn/api/cases", "records": "data.list",
			"paging": map[string]any{"by": "page", "param": "pageNo", "size_param": "pageSize", "size": 100}}
		for _, tc := range []struct {
			name, field string
			change      func(p map[string]any)
		}{
			{"kind", "pull.kind", func(p map[string]any) { p["kind"] = "soap" }},
			{"ftp", "pull.base_url", func(p map[string]any) { p["base_url"] = "ftp://szcg.example.cn/x" }},
			{"file", "pull.base_url", func(p map[string]any) { p["base_url"] = "file:///etc/passwd" }},
			{"no host", "pull.base_url", func(p map[string]any) { p["base_url"] = "https:///x" }},
			{"user", "pull.base_url", func(p map[string]any) { p["base_url"] = "https://u:p@szcg.example.cn/" }},
			{"NUL", "pull.base_url", func(p map[string]any) { p["base_url"] = "https://szcg.example.cn/\x00" }},
			{"newline", "pull.base_url", func(p map[string]any) { p["base_url"] = "https://szcg.example.cn/\r\nX: y" }},
			{"path", "pull.records", func(p map[string]any) { p["records"] = "data..list" }},
			{"paging", "pull.paging.by", func(p map[string]any) { p["paging"] = map[string]any{"by": "scroll"} }},
			{"no param", "pull.paging.param", func(p map[string]any) { p["paging"] = map[string]any{"by": "offset"} }},
			{"cursor without next", "pull.paging.next", func(p map[string]any) { p["paging"] = map[string]any{"by": "cursor", "param": "c"} }},
			{"size", "pull.paging.size", func(p map[string]any) { p["paging"].(map[string]any)["size"] = 5000 }},
			{"size param twice", "pull.paging.size_param", func(p map[string]any) { p["paging"].(map[string]any)["size_param"] = "pageNo" }},
			{"query twice", "pull.query", func(p map[string]any) { p["query"] = map[string]string{"pageNo": "1"} }},
			{"query NUL", "pull.query.x", func(p map[string]any) { p["query"] = map[string]string{"x": "a\x00"} }},
			{"auth both", "pull.auth", func(p map[string]any) { p["auth"] = map[string]string{"header": "X-Key", "query": "key"} }},
			{"auth none", "pull.auth", func(p map[string]any) { p["auth"] = map[string]string{} }},
			{"auth header", "pull.auth.header", func(p map[string]any) { p["auth"] = map[string]string{"header": "X Key:"} }},
			{"window", "pull.window.to", func(p map[string]any) { p["window"] = map[string]string{"from": "t", "to": "t"} }},
			{"window empty", "pull.window.from", func(p map[string]any) { p["window"] = map[string]string{"to": "t"} }},
			{"jurisdiction", "pull.jurisdiction_id", func(p map[string]any) { p["jurisdiction_id"] = "wuding" }},
			{"open311 records", "pull.records", func(p map[string]any) { p["kind"] = "open311" }},
			{"open311 cursor", "pull.paging.by", func(p map[string]any) {
				p["kind"], p["records"], p["paging"] = "open311", "", map[string]any{"by": "cursor", "param": "c", "next": "n"}
			}},
			{"open311 page in the query", "pull.query", func(p map[string]any) {
				p["kind"], p["records"], p["paging"], p["query"] = "open311", "", nil, map[string]string{"page": "2"}
			}},
			{"open311 status", "pull.status", func(p map[string]any) { p["kind"], p["records"], p["status"] = "open311", "", "pending" }},
			{"pages", "pull.max_pages", func(p map[string]any) { p["max_pages"] = -1 }},
			{"mib", "pull.max_mib", func(p map[string]any) { p["max_mib"] = 1 << 20 }},
			{"timeout", "pull.timeout_seconds", func(p map[string]any) { p["timeout_seconds"] = 3600 }},
		} {
			var p map[string]any
			b, _ := json.Marshal(good)
			json.Unmarshal(b, &p)
			tc.change(p)
			base["pull"] = p
			mb, _ := json.Marshal(base)
			m, err := exchange.ParseMapping(mb)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if _, err := vw.im.PutMapping(e.A, m); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("%s: %v (field %q)", tc.name, err, errs.FieldOf(err))
			}
		}
		base["pull"] = good
		mb, _ := json.Marshal(base)
		m, err := exchange.ParseMapping(mb)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := vw.im.PutMapping(e.A, m); err != nil {
			t.Fatal(err)
		}
		// An Open311 mapping may leave out its fields, history and state table.
		m, err = exchange.ParseMapping([]byte(`{"vendor":"city311","pull":{"kind":"open311","base_url":"https://311.example.cn/open311/v2"},
			"codes":{"class":{"component-0101":{"kind":"component","code":"0101"}}}}`))
		if err != nil {
			t.Fatal(err)
		}
		saved, err := vw.im.PutMapping(e.A, m)
		if err != nil {
			t.Fatal(err)
		}
		if saved.Fields["record_id"] != "service_request_id" || saved.Fields["lon"] != "long" || saved.History.Fields["at"] != "datetime" ||
			saved.Codes.State["closed"] != cases.Close {
			t.Fatalf("open311 defaults: %+v", saved)
		}
		if again, err := vw.im.EnsureMapping(e.A, m); err != nil || again.Version != saved.Version {
			t.Fatalf("the same mapping again: %v %v", again, err)
		}
	})
}

// open311Server is a GeoReport v2 server with paging: GET /v2/requests.json?page=.
type open311Server struct {
	mu       sync.Mutex
	requests []map[string]any
	size     int
	// ignorePage answers every page as the first (a server without paging).
	ignorePage bool
	queries    []url.Values
}

func (o *open311Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r.URL.Path != "/open311/v2/requests.json" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	o.queries = append(o.queries, q)
	n, _ := strconv.Atoi(q.Get("page"))
	if o.ignorePage || n < 1 {
		n = 1
	}
	from := min((n-1)*o.size, len(o.requests))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(o.requests[from:min(from+o.size, len(o.requests))])
}

func o311Request(id, status, requested, updated string, lon, lat float64) map[string]any {
	return map[string]any{"service_request_id": id, "status": status, "status_notes": "已结案 / solved and closed", "service_name": "上水井盖",
		"service_code": "component-0101", "description": "井盖丢失 " + id, "requested_datetime": requested, "updated_datetime": updated,
		"address": "鹿城镇东路", "lat": lat, "long": lon, "media_url": "https://img.example.cn/" + id + ".jpg"}
}

// TestVendorPullOpen311: an Open311 server's requests become cases with the history an Open311
// server can tell (the report, and the close of a closed request); a request closed since the
// last pull gets its close; a server that ignores page stops the pull at the first page that
// brings nothing new.
func TestVendorPullOpen311(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		vw := newVendorWorld(t, e, 0)
		im := vw.puller(0, nil)
		o := &open311Server{size: 2, requests: []map[string]any{
			o311Request("r1", "open", "2024-04-01T09:00:00+08:00", "2024-04-01T09:00:00+08:00", 101.505, 25.005),
			o311Request("r2", "closed", "2024-04-02T09:00:00+08:00", "2024-04-03T17:30:00+08:00", 101.506, 25.006),
			o311Request("r3", "open", "2024-04-04T09:00:00+08:00", "2024-04-05T09:00:00+08:00", 101.507, 25.007),
		}}
		srv := httptest.NewServer(o)
		defer srv.Close()
		m, err := exchange.ParseMapping([]byte(`{"vendor":"city311","pull":{"kind":"open311","base_url":"` + srv.URL + `/open311/v2/",
			"jurisdiction_id":"chuxiong","paging":{"by":"page","size_param":"page_size","size":2}},
			"codes":{"class":{"component-0101":{"kind":"component","code":"0101"}}}}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := im.EnsureMapping(e.A, m); err != nil {
			t.Fatal(err)
		}
		from, to := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		pull := exchange.PullOptions{Vendor: "city311", From: from, To: to}
		rep := mustPull(t, im, e.A, pull)
		if rep.Created != 3 || rep.Events != 4 || rep.Pull.Pages != 3 || rep.Pull.Kind != exchange.PullOpen311 {
			t.Fatalf("open311: %+v %+v", rep.ImportReport, rep.Pull)
		}
		q := o.queries[0]
		if q.Get("jurisdiction_id") != "chuxiong" || q.Get("start_date") != "2024-04-01T08:00:00+08:00" || q.Get("end_date") != "2024-05-01T08:00:00+08:00" ||
			q.Get("page") != "1" || q.Get("page_size") != "2" || o.queries[2].Get("page") != "3" {
			t.Fatalf("queries: %v", o.queries)
		}
		c1, c2 := vw.caseOf(e.A, "city311", "r1"), vw.caseOf(e.A, "city311", "r2")
		if c1.State != cases.Reported || c1.Version != 1 || c1.Kind != catalog.Component || c1.ClassCode != "0101" || c1.Lon != 101.505 ||
			c1.Description != "井盖丢失 r1" || c1.Address != "鹿城镇东路" || c1.Source != cases.FromCitizen {
			t.Fatalf("open request: %+v", c1)
		}
		if c2.State != cases.Closed || c2.Version != 2 || c2.ClosedAt == nil || !c2.ClosedAt.Equal(time.Date(2024, 4, 3, 9, 30, 0, 0, time.UTC)) {
			t.Fatalf("closed request: %+v", c2)
		}

		// r1 closed since; the server has no paging now.
		o.mu.Lock()
		o.requests[0]["status"], o.requests[0]["updated_datetime"] = "closed", "2024-04-06T10:00:00+08:00"
		o.ignorePage, o.size = true, 10
		o.mu.Unlock()
		rep = mustPull(t, im, e.A, pull)
		if rep.Updated != 1 || rep.Unchanged != 2 || rep.Events != 1 || rep.Pull.Pages != 2 || rep.Pull.Duplicates != 3 {
			t.Fatalf("closed since: %+v %+v", rep.ImportReport, rep.Pull)
		}
		if c := vw.caseOf(e.A, "city311", "r1"); c.State != cases.Closed || c.Version != 2 {
			t.Fatalf("r1: %s v%d", c.State, c.Version)
		}
		// A status the state table does not know is reported, as a file's would be.
		o.mu.Lock()
		o.requests[2]["status"] = "acknowledged"
		o.mu.Unlock()
		rep, err = im.Pull(e.A, pull)
		if err != nil || rep.OK() || len(rep.Unmapped) != 1 || rep.Unmapped[0].Value != "acknowledged" || rep.Unmapped[0].Column != "status" {
			t.Fatalf("unknown status: %v %+v", err, rep)
		}
		// Garbage from an Open311 server.
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"requests": 1}`) }))
		defer bad.Close()
		m.Pull.BaseURL = bad.URL
		if _, err := im.EnsureMapping(e.A, m); err != nil {
			t.Fatal(err)
		}
		if _, err := im.Pull(e.A, pull); !errs.Is(err, errs.Upstream) || !strings.Contains(err.Error(), "Page 1 of "+bad.URL+"/requests.json holds no array") {
			t.Fatalf("garbage: %v", err)
		}
	})
}
