package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/tenants/secrets/secretstest"
)

// TestEdgeRefusesBadStrings: a NUL byte, a control character or bytes that are not UTF-8, in any
// part of a request, get a 400 naming the field before any handler runs — with no login as well
// as with one, on both dialects (the values once reached the SQL text and answered 500).
func TestEdgeRefusesBadStrings(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			type tc struct {
				name, who, method, path, ctype, body string
				header                               [2]string
				field, want                          string
			}
			cases := []tc{
				{name: "public lookup NUL", method: "GET", path: "/r/chuxiong/lookup?number=%00", field: "number", want: "NUL"},
				{name: "open311 NUL", method: "GET", path: "/open311/v2/requests.json?jurisdiction_id=chuxiong&service_request_id=%00", want: "service_request_id"},
				{name: "list filter NUL", who: "adminA", method: "GET", path: "/api/v1/t/chuxiong/cases?state=%00", field: "state"},
				{name: "list filter not UTF-8", who: "adminA", method: "GET", path: "/api/v1/t/chuxiong/cases?q=%FF%FE", field: "q", want: "UTF-8"},
				{name: "query name NUL", who: "adminA", method: "GET", path: "/api/v1/t/chuxiong/cases?a%00b=1", want: "NUL"},
				{name: "path NUL", who: "adminA", method: "GET", path: "/api/v1/t/chu%00xiong/", field: "path"},
				{name: "path control", method: "GET", path: "/r/chu%0Axiong/", field: "path"},
				{name: "JSON NUL", who: "adminA", method: "POST", path: "/api/v1/t/chuxiong/departments", ctype: "application/json", body: `{"name":"a\u0000b"}`, field: "name"},
				{name: "JSON control in nested array", who: "adminA", method: "PUT", path: "/api/v1/t/chuxiong/settings/x", ctype: "application/json", body: `{"value":"ok","x":[{"y":"ok"},{"y":"\u0007"}]}`, field: "x[1].y"},
				{name: "JSON member name NUL", who: "adminA", method: "PUT", path: "/api/v1/t/chuxiong/settings/x", ctype: "application/json", body: `{"val\u0000ue":"ok"}`, want: "member name"},
				{name: "JSON not UTF-8", who: "adminA", method: "PUT", path: "/api/v1/t/chuxiong/settings/x", ctype: "application/json", body: "{\"value\":\"\xff\"}", want: "UTF-8"},
				{name: "JSON too deep", who: "adminA", method: "PUT", path: "/api/v1/t/chuxiong/settings/x", ctype: "application/json", body: deep, want: "32 levels"},
				{name: "login JSON NUL, anonymous", method: "POST", path: "/api/v1/auth/login", ctype: "application/json", body: `{"email":"a\u0000@b.cn","password":"x"}`, field: "email"},
				{name: "token name NUL", who: "adminA", method: "POST", path: "/api/v1/me/tokens", ctype: "application/json", body: `{"name":"\u0000"}`, field: "name"},
				{name: "form NUL", method: "POST", path: "/login", ctype: "application/x-www-form-urlencoded", body: "email=a%00b&password=x", field: "email"},
				{name: "form not UTF-8", method: "POST", path: "/login", ctype: "application/x-www-form-urlencoded", body: "email=%C3%28", field: "email", want: "UTF-8"},
				{name: "header not UTF-8", method: "GET", path: "/healthz", header: [2]string{"User-Agent", "caf\xe9"}, field: "User-Agent"},
				{name: "header control", method: "GET", path: "/healthz", header: [2]string{"X-Note", "a\x01b"}, field: "X-Note"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					var body io.Reader
					if c.body != "" {
						body = strings.NewReader(c.body)
					}
					req := httptest.NewRequest(c.method, "http://x"+c.path, body)
					if c.ctype != "" {
						req.Header.Set("Content-Type", c.ctype)
					}
					if c.who != "" {
						req.Header.Set("Authorization", "Bearer "+f.tokens[c.who])
					}
					if c.header[0] != "" {
						req.Header[c.header[0]] = []string{c.header[1]}
					}
					res, err := f.send(t, req)
					if err != nil {
						t.Fatal(err)
					}
					if res.status != 400 {
						t.Fatalf("status %d, want 400\n%s", res.status, res.body)
					}
					if strings.HasPrefix(c.path, "/open311/") {
						var e []struct{ Code int }
						if json.Unmarshal([]byte(res.body), &e) != nil || len(e) != 1 || e[0].Code != 400 {
							t.Fatalf("not a GeoReport error: %s", res.body)
						}
					} else {
						var p Problem
						if err := json.Unmarshal([]byte(res.body), &p); err != nil || p.Status != 400 || p.Detail == "" {
							t.Fatalf("not a problem: %s", res.body)
						}
						if c.field != "" && p.Field != c.field {
							t.Fatalf("field %q, want %q: %s", p.Field, c.field, res.body)
						}
					}
					if c.want != "" && !strings.Contains(res.body, c.want) {
						t.Fatalf("body lacks %q: %s", c.want, res.body)
					}
				})
			}

			// What is text stays accepted: line breaks and tabs in JSON strings and forms, Chinese.
			res, err := f.do(t, "adminA", "PUT", "/api/v1/t/chuxiong/settings/note", `{"value":"第一段\n\t第二段"}`)
			if err != nil || res.status != 200 {
				t.Fatalf("multi-line text refused: %v %d %s", err, res.status, res.body)
			}

			// The problem speaks the client's language.
			req := httptest.NewRequest("GET", "/r/chuxiong/lookup?number=%00", nil)
			req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
			res, err = f.send(t, req)
			if err != nil || res.status != 400 || !strings.Contains(res.body, "查询参数") || res.header.Get("Content-Language") != "zh-CN" {
				t.Fatalf("Chinese problem: %v %d %s %v", err, res.status, res.body, res.header)
			}
		})
	}
}

// TestEdgeRefusesBadMultipart: a multipart form's values and file names are checked like a form.
func TestEdgeRefusesBadMultipart(t *testing.T) {
	f := newFixture(t, "sqlite")
	for _, c := range []struct{ name, field, value, filename string }{
		{"value NUL", "description", "a\x00b", ""},
		{"file name not UTF-8", "", "", "photo\xff.png"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			if c.field != "" {
				_ = w.WriteField(c.field, c.value)
			}
			if c.filename != "" {
				h := make(map[string][]string)
				h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="file"; filename="%s"`, c.filename)}
				h["Content-Type"] = []string{"image/png"}
				p, _ := w.CreatePart(h)
				_, _ = p.Write([]byte("png"))
			}
			w.Close()
			req := httptest.NewRequest("POST", "/api/v1/t/chuxiong/cases", &buf)
			req.Header.Set("Content-Type", w.FormDataContentType())
			req.Header.Set("Authorization", "Bearer "+f.tokens["inspectorA"])
			res, err := f.send(t, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.status != 400 || !strings.Contains(res.body, "NUL") && !strings.Contains(res.body, "UTF-8") {
				t.Fatalf("%d %s", res.status, res.body)
			}
		})
	}
}

// TestOversizeBodyWithoutExpect: a body over the server's limit, sent at once without
// "Expect: 100-continue", gets a 413 problem — not a reset connection — and is logged.
func TestOversizeBodyWithoutExpect(t *testing.T) {
	f := newFixture(t, "sqlite")
	var logs secretstest.Buffer
	f.app.log = slog.New(slog.NewJSONHandler(&logs, nil))
	addr := f.listen(t)
	body := strings.Repeat("x", 8<<20) // the fixture's limit is 64 KiB
	client := &http.Client{Timeout: 20 * time.Second}
	for range 5 {
		// As curl and most clients do: the whole body is sent without waiting for an interim
		// 100 Continue, and the answer read afterwards.
		req, _ := http.NewRequest("PUT", "http://"+addr+"/api/v1/t/chuxiong/settings/x", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+f.tokens["adminA"])
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("no answer to an oversize body: %v", err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 413 || res.Header.Get("Content-Type") != "application/problem+json" || res.Header.Get("X-Request-ID") == "" {
			t.Fatalf("oversize body: %d %v %s", res.StatusCode, res.Header, b)
		}
		if rid := res.Header.Get("X-Request-ID"); !strings.Contains(logs.String(), rid) {
			t.Fatalf("request %s not logged:\n%s", rid, logs.String())
		}
	}
}

// TestStrictJSONBodies: a body that a reader could take to mean something else than the decoder
// does is refused, and nothing is created — the fuzz run once provisioned a tenant from one.
func TestStrictJSONBodies(t *testing.T) {
	f := newFixture(t, "sqlite")
	const ok = `"slug":"yaoan","name_zh":"姚安县","kind":"county","admin_code":"532325","parent":"chuxiong-zhou"`
	for _, c := range []struct{ name, body, field, want string }{
		{"name in another case", `{` + ok + `,"SLUG":"other"}`, "SLUG", "not known"},
		{"member twice", `{` + ok + `,"slug":"other"}`, "slug", "more than once"},
		{"unknown member", `{` + ok + `,"plan_id":1}`, "plan_id", "not known"},
		{"wrong type", `{"slug":1,"name_zh":"姚安县","kind":"county","admin_code":"532325"}`, "slug", "must be a string, not a number"},
		{"null body", `null`, "", "JSON object"},
		{"array body", `[{` + ok + `}]`, "", "JSON object"},
		{"trailing value", `{` + ok + `} {}`, "", "single JSON value"},
		{"truncated", `{"slug":"ya`, "", "ends in the middle"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := f.do(t, "operator", "POST", "/api/v1/tenants", c.body)
			if err != nil {
				t.Fatal(err)
			}
			var p Problem
			if res.status != 400 || json.Unmarshal([]byte(res.body), &p) != nil || p.Field != c.field || !strings.Contains(p.Detail, c.want) {
				t.Fatalf("%d %s; want 400 on field %q saying %q", res.status, res.body, c.field, c.want)
			}
		})
	}
	if res, _ := f.do(t, "operator", "GET", "/api/v1/tenants/yaoan", ""); res.status != 404 {
		t.Fatalf("a refused body created the tenant: %d %s", res.status, res.body)
	}
	if res, _ := f.do(t, "operator", "POST", "/api/v1/tenants", `{`+ok+`}`); res.status != 201 {
		t.Fatalf("the well-formed body: %d %s", res.status, res.body)
	}
}

// FuzzJSONCheck: the fast scan never passes a body the naming walk would refuse.
func FuzzJSONCheck(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":"\u0000"}`, `{"a\n":1}`, `{"a":"x\ty"}`, `{"k\t":"v"}`, `[["\b"]]`,
		`{"a":"\\u0000"}`, `{"a":"\u007f"}`, "{\"a\":\"\x7f\"}", `{"a":[1,{"b":"\u001F"}]}`, `"\u0001"`,
		strings.Repeat(`[`, 40), `{"a":"\"\u0000"}`, `{"a":"\\\u0000"}`, `{"a":"\uD800"}`, `{"a":"\u00zz"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return
		}
		if jsonLooksClean(b) {
			if err := walkJSON(b); err != nil {
				t.Fatalf("the scan passed %q, the walk refuses it: %v", b, err)
			}
		}
	})
}

// TestLoginFormRefusesOtherSites: the forms that open a session refuse a post another site
// made the browser send (login CSRF), and take one from this site or from a program.
func TestLoginFormRefusesOtherSites(t *testing.T) {
	f := newFixture(t, "sqlite")
	form := "email=admina%40test.cn&password=" + url.QueryEscape(testPassword)
	for _, c := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"another site, Sec-Fetch-Site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403},
		{"a sibling site", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"another site, Origin only", map[string]string{"Origin": "https://evil.example"}, 403},
		{"this site", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, 303},
		{"this site, Origin only", map[string]string{"Origin": "http://example.com"}, 303},
		{"a program", nil, 303},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/login", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			res, err := f.send(t, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.status != c.want {
				t.Fatalf("%d, want %d: %s", res.status, c.want, res.body)
			}
			if c.want == 403 && res.header.Get("Set-Cookie") != "" {
				t.Fatal("a refused login set a cookie")
			}
		})
	}
}
