package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/app/web"
)

// fuzzStrings are the bad values every parameter and field gets: bytes no text has, quotes and
// placeholders that would change SQL written naively, numbers that do not fit, dates that do not
// exist, paths that climb, markup, a long value, nothing at all.
var fuzzStrings = []string{
	"\x00", "a\x00b", "\xff\xfe", "\x1b[0m", "'", `"; --`, `\`, "$1", "?", "-1", "0",
	"99999999999999999999", "1e309", "NaN", "2026-13-45", "../../etc/passwd",
	"<script>alert(1)</script>", strings.Repeat("长", 3000), " ", "",
}

// fuzzJSON are the raw JSON values a body field gets besides the strings above: every other
// kind, and numbers that do not fit.
var fuzzJSON = []string{`-1`, `1e309`, `99999999999999999999`, `0.5`, `true`, `null`, `[]`, `{}`, `[null]`, `{"a":{"b":[1]}}`}

// fuzzStats counts what the fuzz run sent and got.
type fuzzStats struct {
	mu       sync.Mutex
	requests int
	statuses map[int]int
	failures []string
}

func (s *fuzzStats) add(status int, failure string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.statuses[status]++
	if failure != "" && len(s.failures) < 30 {
		s.failures = append(s.failures, failure)
	}
}

// TestFuzzRouteTable walks every route the server has — the JSON API, the console's pages and
// forms, Open311, the citizens' form — and sends each parameter and body field every bad value,
// as the user who may use the route, on both dialects. No answer may be a 5xx and no connection
// may be reset. CITYOPS_FUZZ_LOG=1 prints the counts.
func TestFuzzRouteTable(t *testing.T) {
	if testing.Short() {
		t.Skip("the route-table fuzz sends thousands of requests")
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			fuzzRouteTable(t, dialect)
		})
	}
}

func fuzzRouteTable(t *testing.T, dialect string) {
	f := newO311Fixture(t, dialect)
	c := f.report(t, "acceptorA", reportA)
	// The modules sold by plans are switched on for A, so that their routes reach their
	// handlers instead of stopping at the entitlement check.
	var sold map[string]bool
	for _, m := range f.app.modules.list {
		if m.Entitlement != "" {
			if sold == nil {
				sold = map[string]bool{}
			}
			sold[m.Entitlement] = true
		}
	}
	if _, err := f.app.billing.SetPlan(context.Background(), mustTenant(t, f.fixture, "chuxiong"), "", sold); err != nil {
		t.Fatal(err)
	}
	addr := f.listen(t)
	admin := adminLogin(t, f.fixture, "adminA")
	op := adminLogin(t, f.fixture, "operator")
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	var stdID string
	{
		res, _ := f.do(t, "adminA", "GET", "/api/v1/t/chuxiong/standards", "")
		var st []struct{ ID string }
		json.Unmarshal([]byte(res.body), &st)
		if len(st) > 0 {
			stdID = st[0].ID
		}
	}
	// good are values that reach a handler, by parameter name (and path, where a name means
	// different things in different places).
	good := func(path, param string) string {
		switch param {
		case "tenant", "slug":
			return "chuxiong"
		case "format":
			return "json"
		case "year":
			return "2026"
		case "kind":
			if strings.Contains(path, "/billing/") {
				return "advance"
			}
			return "component"
		case "code":
			switch {
			case strings.Contains(path, "/classes/"):
				return "0101"
			case strings.Contains(path, "responsib"):
				return "R1"
			case strings.Contains(path, "/services/"):
				return "component-0101"
			case strings.Contains(path, "/plans/"):
				return "starter"
			}
			return "53230100100101"
		case "action":
			return "accept"
		case "stage":
			return "dispatch"
		case "id":
			switch {
			case strings.Contains(path, "/cases/"), strings.Contains(path, "/requests/"):
				return c.ID
			case strings.Contains(path, "/departments/"):
				return f.dept
			case strings.Contains(path, "/members/"), strings.Contains(path, "/staff/"):
				return f.ids["inspectorA"]
			case strings.Contains(path, "/standards/"):
				return stdID
			}
		}
		return "x"
	}
	// Routes whose effect would end the run early with their good parameters (the tenant
	// suspended, offboarded, the session gone) get only bad path parameters.
	destructive := regexp.MustCompile(`/(suspend|offboard|rotate|logout|provision)$|/tokens/:id$`)

	queryNames, bodyFields := openAPIFields(t, f.app.apiDoc)
	var modTemplates []fs.FS
	for _, m := range f.app.modules.list {
		if m.Templates != nil {
			modTemplates = append(modTemplates, m.Templates)
		}
	}
	formNames := templateFieldNames(t, modTemplates...)
	for _, n := range []string{"api_key", "jurisdiction_id", "service_code", "service_request_id", "lat", "long", "address_string",
		"description", "email", "first_name", "last_name", "phone", "media_url", "start_date", "end_date", "status", "number",
		"w.departments.handle_rate", "w.grids.close_rate"} { // and two of the evaluation scheme form's weights (named in its template by a variable)
		formNames[n] = true
	}
	allQuery := sortedKeys(queryNames, formNames)

	var sendNow func(method, path, ctype string, body []byte, who string)
	stats := &fuzzStats{statuses: map[int]int{}}
	// A route's requests go out four at a time; routes follow one another, so that the
	// destructive ones still come last.
	var inflight sync.WaitGroup
	slots := make(chan struct{}, 4)
	send := func(method, path, ctype string, body []byte, who string) {
		slots <- struct{}{}
		inflight.Add(1)
		go func() {
			defer func() { <-slots; inflight.Done() }()
			sendNow(method, path, ctype, body, who)
		}()
	}
	sendNow = func(method, path, ctype string, body []byte, who string) {
		req, err := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
		if err != nil {
			stats.add(0, "")
			return // a value net/http itself will not send (it never reaches any server)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		switch who {
		case "session":
			req.Header.Set("Cookie", admin.cookie)
			req.Header.Set("Accept", "text/html")
		case "op-session":
			req.Header.Set("Cookie", op.cookie)
			req.Header.Set("Accept", "text/html")
		case "":
		default:
			req.Header.Set("Authorization", "Bearer "+f.tokens[who])
		}
		res, err := client.Do(req)
		if err != nil {
			stats.add(-1, fmt.Sprintf("%s %s: %v", method, path, err))
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fail := ""
		if res.StatusCode >= 500 {
			fail = fmt.Sprintf("%s %s [%s] %q → %d %s", method, textTrim(path, 200), ctype, textTrim(string(body), 200), res.StatusCode, textTrim(string(b), 300))
		}
		stats.add(res.StatusCode, fail)
	}

	routes := f.app.fiber.GetRoutes(true)
	sort.Slice(routes, func(i, j int) bool {
		// Routes that change a tenant's state go last, so that earlier ones meet a live tenant.
		di, dj := destructive.MatchString(routes[i].Path), destructive.MatchString(routes[j].Path)
		if di != dj {
			return dj
		}
		return routes[i].Method+routes[i].Path < routes[j].Method+routes[j].Path
	})
	seen := map[string]bool{}
	for _, r := range routes {
		if r.Method == http.MethodHead || r.Method == http.MethodOptions || r.Method == "TRACE" || r.Method == "CONNECT" {
			continue
		}
		key := r.Method + " " + r.Path
		if seen[key] {
			continue
		}
		seen[key] = true
		who := whoFor(r.Path)
		params := routeParams(r.Path)
		csrf := ""
		switch who {
		case "session":
			csrf = admin.csrf
		case "op-session":
			csrf = op.csrf
		}
		fill := func(over map[string]string) string {
			p := r.Path
			for _, name := range params {
				v, ok := over[name]
				if !ok {
					v = good(r.Path, name)
				}
				p = strings.Replace(p, ":"+name, url.PathEscape(v), 1)
			}
			return p
		}

		// Every path parameter, every bad value, the others good.
		for _, name := range params {
			for _, v := range fuzzStrings {
				if v == "" {
					continue // an empty segment is another route
				}
				send(r.Method, fill(map[string]string{name: v}), "", nil, who)
			}
		}
		inflight.Wait()
		if destructive.MatchString(r.Path) {
			continue
		}
		path := fill(nil)
		api := strings.HasPrefix(r.Path, "/api/")
		switch r.Method {
		case http.MethodGet, http.MethodDelete:
			// Every query name the API documents or a form uses, all at once, each bad value;
			// and the route's own documented ones one at a time.
			for _, v := range fuzzStrings {
				q := url.Values{}
				for _, n := range allQuery {
					q.Set(n, v)
				}
				send(r.Method, path+"?"+q.Encode(), "", nil, who)
			}
			for _, n := range queryNames[openAPIPath(strings.TrimPrefix(r.Path, "/api/v1"))] {
				for _, v := range fuzzStrings {
					send(r.Method, path+"?"+url.Values{n: {v}}.Encode(), "", nil, who)
				}
			}
		default:
			fields := bodyFields[r.Method+" "+openAPIPath(strings.TrimPrefix(r.Path, "/api/v1"))]
			if api {
				// The documented fields one at a time with every string and every other kind of
				// JSON value, the rest absent; then every field at once.
				for _, fl := range fields {
					for _, v := range fuzzStrings {
						b, _ := json.Marshal(map[string]string{fl: v})
						send(r.Method, path, "application/json", b, who)
					}
					for _, raw := range fuzzJSON {
						send(r.Method, path, "application/json", []byte(`{"`+fl+`":`+raw+`}`), who)
					}
				}
				for _, v := range fuzzStrings {
					all := map[string]string{}
					for _, fl := range fields {
						all[fl] = v
					}
					b, _ := json.Marshal(all)
					send(r.Method, path, "application/json", b, who)
				}
				for _, raw := range []string{``, `{`, `[1,2]`, `"x"`, `{"a":1}{}`, strings.Repeat(`[`, 100)} {
					send(r.Method, path, "application/json", []byte(raw), who)
				}
				// A body that is not JSON at all, with a media type the route may also take.
				send(r.Method, path, "text/csv", []byte("a,b\n\x00,\xff\n"), who)
				continue
			}
			// Forms (console, Open311, the citizens' form): every name at once, urlencoded and
			// as multipart with a file, each bad value.
			for _, v := range fuzzStrings {
				q := url.Values{}
				for n := range formNames {
					q.Set(n, v)
				}
				if csrf != "" {
					q.Set("_csrf", csrf)
				}
				send(r.Method, path, "application/x-www-form-urlencoded", []byte(q.Encode()), who)
			}
			for _, v := range fuzzStrings[:8] {
				var buf bytes.Buffer
				w := multipart.NewWriter(&buf)
				for n := range formNames {
					_ = w.WriteField(n, v)
				}
				if csrf != "" {
					_ = w.WriteField("_csrf", csrf)
				}
				for _, name := range []string{"file", "media", "photo"} {
					fw, _ := w.CreateFormFile(name, "x"+v+".png")
					_, _ = fw.Write([]byte("\x89PNG not really" + v))
				}
				w.Close()
				send(r.Method, path, w.FormDataContentType(), buf.Bytes(), who)
			}
		}
	}
	inflight.Wait()
	if os.Getenv("CITYOPS_FUZZ_LOG") != "" || len(stats.failures) > 0 {
		t.Logf("%s: %d requests over %d routes; statuses %v", dialect, stats.requests, len(seen), stats.statuses)
	}
	if len(stats.failures) > 0 {
		t.Fatalf("%d answers were 5xx or no answer at all; first:\n%s", stats.statuses[-1]+count5xx(stats.statuses), strings.Join(stats.failures, "\n"))
	}
}

func count5xx(m map[int]int) int {
	n := 0
	for s, c := range m {
		if s >= 500 {
			n += c
		}
	}
	return n
}

// whoFor is the user the fuzz sends a route as: the one who may use it, so that requests get
// past the login and the role checks to the handler.
func whoFor(path string) string {
	switch {
	case strings.HasPrefix(path, "/api/v1/tenants"), strings.HasPrefix(path, "/api/v1/audit"),
		strings.HasPrefix(path, "/api/v1/billing"):
		return "operator"
	case strings.HasPrefix(path, "/api/v1/"):
		return "adminA"
	case strings.HasPrefix(path, "/ops"):
		return "op-session"
	case strings.HasPrefix(path, "/t/"), path == "/me", path == "/logout":
		return "session"
	}
	return "" // Open311, the citizens' form, login, invitations, health: anonymous
}

func routeParams(path string) []string {
	var out []string
	for _, m := range routeParam.FindAllString(path, -1) {
		out = append(out, m[1:])
	}
	return out
}

// openAPIFields reads, from the served OpenAPI document b (the modules' operations merged in),
// each path's query parameter names and each operation's JSON body field names.
func openAPIFields(t *testing.T, b []byte) (query map[string][]string, body map[string][]string) {
	t.Helper()
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	type schema struct {
		Ref        string                     `json:"$ref"`
		Properties map[string]json.RawMessage `json:"properties"`
		AllOf      []json.RawMessage          `json:"allOf"`
	}
	var props func(raw json.RawMessage, depth int) []string
	props = func(raw json.RawMessage, depth int) []string {
		var s schema
		if depth > 5 || json.Unmarshal(raw, &s) != nil {
			return nil
		}
		if s.Ref != "" {
			return props(doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")], depth+1)
		}
		var out []string
		for k := range s.Properties {
			out = append(out, k)
		}
		for _, a := range s.AllOf {
			out = append(out, props(a, depth+1)...)
		}
		sort.Strings(out)
		return out
	}
	query, body = map[string][]string{}, map[string][]string{}
	for p, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				Parameters []struct {
					Name string `json:"name"`
					In   string `json:"in"`
				} `json:"parameters"`
				RequestBody struct {
					Content map[string]struct {
						Schema json.RawMessage `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			}
			if json.Unmarshal(raw, &op) != nil {
				continue
			}
			for _, prm := range op.Parameters {
				if prm.In == "query" {
					query[p] = append(query[p], prm.Name)
				}
			}
			if c, ok := op.RequestBody.Content["application/json"]; ok {
				body[strings.ToUpper(method)+" "+p] = props(c.Schema, 0)
			}
		}
	}
	return query, body
}

var formField = regexp.MustCompile(`name="([a-zA-Z_][a-zA-Z0-9_]*)"`)

// templateFieldNames lists the names of every input, select and textarea the console's
// templates and the modules' templates (mods) have.
func templateFieldNames(t *testing.T, mods ...fs.FS) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	walk := func(fsys fs.FS, root string) error {
		return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			for _, m := range formField.FindAllSubmatch(b, -1) {
				if n := string(m[1]); n != "_csrf" && n != "viewport" {
					out[n] = true
				}
			}
			return nil
		})
	}
	if err := walk(web.Files, "templates"); err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if err := walk(m, "."); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func sortedKeys(maps ...any) []string {
	set := map[string]bool{}
	for _, m := range maps {
		switch m := m.(type) {
		case map[string][]string:
			for _, ns := range m {
				for _, n := range ns {
					set[n] = true
				}
			}
		case map[string]bool:
			for n := range m {
				set[n] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func textTrim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
