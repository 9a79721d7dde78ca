package app

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/app/open311api"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/tenants"
)

// o311Fixture is the case fixture with component-0101 public in A (and in B), a key for each
// tenant and a revoked key of A.
type o311Fixture struct {
	*caseFixture
	keyA, keyB, revokedA string
	bodies               []string // every body Open311 answered, checked for personal data
}

// o311PII is personal data sent with requests; no Open311 answer may contain it.
var o311PII = []string{"李四PII", "13900139000", "pii@example.com", "PIIlast"}

func newO311Fixture(t *testing.T, dialect string) *o311Fixture {
	t.Helper()
	f := &o311Fixture{caseFixture: newCaseFixture(t, dialect)}
	ctx := context.Background()
	s := f.app.open311
	ta, tb := mustTenant(t, f.fixture, "chuxiong"), mustTenant(t, f.fixture, "wuding")
	for _, tn := range []*tenants.Tenant{ta, tb} {
		if err := s.AddServiceCode(ctx, tn, "component-0101"); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if f.keyA, _, err = s.CreateKey(ctx, ta, "city app"); err != nil {
		t.Fatal(err)
	}
	if f.keyB, _, err = s.CreateKey(ctx, tb, "wuding app"); err != nil {
		t.Fatal(err)
	}
	var k *open311.Key
	if f.revokedA, k, err = s.CreateKey(ctx, ta, "old app"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeKey(ctx, ta, k.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

// call sends req, keeps the body for the personal-data check and checks the status.
func (f *o311Fixture) call(t *testing.T, req *http.Request, status int) *response {
	t.Helper()
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	f.bodies = append(f.bodies, res.body)
	if res.status != status {
		t.Fatalf("%s %s: got %d, want %d: %s", req.Method, req.URL, res.status, status, res.body)
	}
	return res
}

func (f *o311Fixture) get(t *testing.T, path string, status int) *response {
	t.Helper()
	return f.call(t, httptest.NewRequest("GET", path, nil), status)
}

func (f *o311Fixture) post(t *testing.T, path string, form url.Values, status int) *response {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.call(t, req, status)
}

func (f *o311Fixture) postMultipart(t *testing.T, path string, form url.Values, media []byte, status int) *response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if media != nil {
		fw, _ := w.CreateFormFile("media", "photo.png")
		fw.Write(media)
	}
	w.Close()
	req := httptest.NewRequest("POST", path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return f.call(t, req, status)
}

// xmlRoot checks the declaration and returns the root element's name.
func xmlRoot(t *testing.T, res *response) string {
	t.Helper()
	if !strings.HasPrefix(res.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>") {
		t.Fatalf("no XML declaration: %.80s", res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("content type %q", ct)
	}
	d := xml.NewDecoder(strings.NewReader(res.body))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("XML: %v: %s", err, res.body)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
}

type xmlError struct {
	XMLName xml.Name `xml:"errors"`
	Errors  []struct {
		Code        string `xml:"code"`
		Description string `xml:"description"`
	} `xml:"error"`
}

type xmlRequests struct {
	XMLName  xml.Name          `xml:"service_requests"`
	Requests []open311.Request `xml:"request"`
}

// checkError checks an error answer in the path's format: root errors/error or a bare array,
// with the status as code.
func checkError(t *testing.T, res *response, status int) {
	t.Helper()
	if strings.HasPrefix(res.body, "[") {
		var es []open311.Error
		if err := json.Unmarshal([]byte(res.body), &es); err != nil || len(es) != 1 || es[0].Code != status || es[0].Description == "" {
			t.Fatalf("JSON error: %v %s", err, res.body)
		}
		return
	}
	if root := xmlRoot(t, res); root != "errors" {
		t.Fatalf("error root %q", root)
	}
	var e xmlError
	if err := xml.Unmarshal([]byte(res.body), &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Code != fmt.Sprint(status) || e.Errors[0].Description == "" {
		t.Fatalf("XML error: %v %s", err, res.body)
	}
}

func o311Form(key string, kv ...string) url.Values {
	v := url.Values{"jurisdiction_id": {"chuxiong"}, "service_code": {"component-0101"}, "lat": {"25.005"}, "long": {"101.505"},
		"description": {"井盖缺失"}, "first_name": {"李四PII"}, "last_name": {"PIIlast"}, "phone": {"13900139000"}, "email": {"pii@example.com"}}
	if key != "" {
		v.Set("api_key", key)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

const o311 = "/open311/v2"

func TestOpen311Contract(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testOpen311Contract(t, dialect) })
	}
}

func testOpen311Contract(t *testing.T, dialect string) {
	f := newO311Fixture(t, dialect)
	ja := "?jurisdiction_id=chuxiong"

	t.Run("discovery", func(t *testing.T) {
		if root := xmlRoot(t, f.get(t, o311+"/discovery.xml", 200)); root != "discovery" {
			t.Fatalf("root %q", root)
		}
		var d open311.Discovery
		if err := json.Unmarshal([]byte(f.get(t, o311+"/discovery.json", 200).body), &d); err != nil || len(d.Endpoints) != 1 || len(d.Endpoints[0].Formats) != 2 {
			t.Fatalf("discovery: %v %+v", err, d)
		}
	})

	t.Run("jurisdiction and format errors", func(t *testing.T) {
		for _, fm := range []string{"xml", "json"} {
			for _, p := range []string{"/services.", "/services/component-0101.", "/requests.", "/requests/x.", "/tokens/x.", "/servicerequestupdates."} {
				checkError(t, f.get(t, o311+p+fm, 400), 400)
				checkError(t, f.get(t, o311+p+fm+"?jurisdiction_id=nowhere", 404), 404)
			}
			checkError(t, f.post(t, o311+"/requests."+fm, o311Form(f.keyA, "jurisdiction_id", ""), 400), 400)
			checkError(t, f.post(t, o311+"/requests."+fm, o311Form(f.keyA, "jurisdiction_id", "nowhere"), 404), 404)
		}
		checkError(t, f.get(t, o311+"/services.html"+ja, 404), 404)
		checkError(t, f.get(t, o311+"/services"+ja, 404), 404)
		checkError(t, f.get(t, o311+"/nothing.json"+ja, 404), 404)
	})

	t.Run("services and definitions", func(t *testing.T) {
		res := f.get(t, o311+"/services.xml"+ja, 200)
		if root := xmlRoot(t, res); root != "services" {
			t.Fatalf("root %q", root)
		}
		var xs struct {
			Services []open311.PublicService `xml:"service"`
		}
		if err := xml.Unmarshal([]byte(res.body), &xs); err != nil || len(xs.Services) != 1 || xs.Services[0].Code != "component-0101" || xs.Services[0].Name == "" {
			t.Fatalf("services XML: %v %s", err, res.body)
		}
		var js []open311.PublicService
		if err := json.Unmarshal([]byte(f.get(t, o311+"/services.json"+ja, 200).body), &js); err != nil || len(js) != 1 || js[0].Code != "component-0101" || js[0].Type != "realtime" {
			t.Fatalf("services JSON: %v %+v", err, js)
		}
		res = f.get(t, o311+"/services/component-0101.xml"+ja, 200)
		if root := xmlRoot(t, res); root != "service_definition" {
			t.Fatalf("root %q", root)
		}
		res = f.get(t, o311+"/services/component-0101.json"+ja, 200)
		if !strings.Contains(res.body, `"attributes":[]`) || !strings.Contains(res.body, `"service_code":"component-0101"`) {
			t.Fatalf("definition JSON: %s", res.body)
		}
		for _, fm := range []string{"xml", "json"} {
			checkError(t, f.get(t, o311+"/services/event-9999."+fm+ja, 404), 404)
			checkError(t, f.get(t, o311+"/services/component-0102."+fm+ja, 404), 404) // a class that is not public
		}
	})

	var idXML, idJSON, idPhoto, tokenXML string
	t.Run("POST requests", func(t *testing.T) {
		for _, fm := range []string{"xml", "json"} {
			p := o311 + "/requests." + fm
			checkError(t, f.post(t, p, o311Form(""), 403), 403)
			checkError(t, f.post(t, p, o311Form("o311_not-a-key"), 403), 403)
			checkError(t, f.post(t, p, o311Form(f.revokedA), 403), 403)
			checkError(t, f.post(t, p, o311Form(f.keyB), 403), 403) // B's key on A
			checkError(t, f.post(t, p, o311Form(f.keyA, "lat", "", "long", ""), 400), 400)
			checkError(t, f.post(t, p, o311Form(f.keyA, "lat", "north"), 400), 400)
			checkError(t, f.post(t, p, o311Form(f.keyA, "service_code", ""), 400), 400)
			checkError(t, f.post(t, p, o311Form(f.keyA, "service_code", "event-9999"), 404), 404)
			checkError(t, f.post(t, p, o311Form(f.keyA, "media_url", "javascript:alert(1)"), 400), 400)
		}
		res := f.post(t, o311+"/requests.xml", o311Form(f.keyA), 200)
		if root := xmlRoot(t, res); root != "service_requests" {
			t.Fatalf("root %q", root)
		}
		var xr struct {
			Requests []open311.Receipt `xml:"request"`
		}
		if err := xml.Unmarshal([]byte(res.body), &xr); err != nil || len(xr.Requests) != 1 || xr.Requests[0].ID == "" || xr.Requests[0].Token == "" {
			t.Fatalf("POST XML: %v %s", err, res.body)
		}
		idXML, tokenXML = xr.Requests[0].ID, xr.Requests[0].Token
		// An address that names none of the tenant's grids is refused (400; TestOpen311AddressOnly
		// places one that does), a point outside China too.
		checkError(t, f.post(t, o311+"/requests.xml", o311Form(f.keyA, "lat", "", "long", "", "address_string", "鹿城镇南路 1 号"), 400), 400)
		checkError(t, f.post(t, o311+"/requests.json", o311Form(f.keyA, "lat", "0", "long", "0"), 400), 400)
		// jurisdiction_id in the query string, an address with the point, a media_url.
		form := o311Form(f.keyA, "jurisdiction_id", "", "address_string", "鹿城镇南路 1 号", "media_url", "https://example.com/p.jpg")
		res = f.post(t, o311+"/requests.json"+ja, form, 200)
		var jr []open311.Receipt
		if err := json.Unmarshal([]byte(res.body), &jr); err != nil || len(jr) != 1 || jr[0].ID == "" || jr[0].Token == "" {
			t.Fatalf("POST JSON: %v %s", err, res.body)
		}
		idJSON = jr[0].ID
		// multipart with a photo; and one whose media is not an image
		res = f.postMultipart(t, o311+"/requests.json", o311Form(f.keyA), []byte(pngBytes), 200)
		json.Unmarshal([]byte(res.body), &jr)
		idPhoto = jr[0].ID
		c, err := f.app.cases.FindCaseByID(tenants.WithScope(context.Background(), tenants.SystemScope(mustTenant(t, f.fixture, "chuxiong"))), idPhoto)
		if err != nil || len(c.Photos) != 1 || c.Source != "citizen" || c.Reporter == nil || c.Reporter.Name != "李四PII PIIlast" {
			t.Fatalf("case with photo: %v %+v", err, c)
		}
		checkError(t, f.postMultipart(t, o311+"/requests.xml", o311Form(f.keyA), []byte("not an image at all"), 400), 400)
		checkError(t, f.postMultipart(t, o311+"/requests.json", o311Form(""), []byte(pngBytes), 403), 403)
	})

	t.Run("tokens", func(t *testing.T) {
		res := f.get(t, o311+"/tokens/"+tokenXML+".xml"+ja, 200)
		if root := xmlRoot(t, res); root != "service_requests" || !strings.Contains(res.body, "<service_request_id>"+idXML+"</service_request_id>") {
			t.Fatalf("token XML: %s", res.body)
		}
		var jr []open311.Receipt
		if err := json.Unmarshal([]byte(f.get(t, o311+"/tokens/"+tokenXML+".json"+ja, 200).body), &jr); err != nil || len(jr) != 1 || jr[0].ID != idXML {
			t.Fatalf("token JSON: %v %+v", err, jr)
		}
		for _, fm := range []string{"xml", "json"} {
			checkError(t, f.get(t, o311+"/tokens/nope."+fm+ja, 404), 404)
			checkError(t, f.get(t, o311+"/tokens/"+tokenXML+"."+fm+"?jurisdiction_id=wuding", 404), 404)
		}
	})

	t.Run("GET requests", func(t *testing.T) {
		res := f.get(t, o311+"/requests.xml"+ja, 200)
		if root := xmlRoot(t, res); root != "service_requests" {
			t.Fatalf("root %q", root)
		}
		var xr xmlRequests
		if err := xml.Unmarshal([]byte(res.body), &xr); err != nil || len(xr.Requests) != 3 {
			t.Fatalf("requests XML: %v %s", err, res.body)
		}
		r := xr.Requests[len(xr.Requests)-1] // oldest last
		if r.ID != idXML || r.Status != "open" || r.StatusNotes == "" || r.ServiceCode != "component-0101" || r.Lat != 25.005 || r.Long != 101.505 {
			t.Fatalf("request: %+v", r)
		}
		if _, err := time.Parse(time.RFC3339, r.RequestedDatetime); err != nil || !strings.HasSuffix(r.RequestedDatetime, "+08:00") {
			t.Fatalf("requested_datetime %q", r.RequestedDatetime)
		}
		var js []open311.Request
		mustJSON := func(path string) []open311.Request {
			t.Helper()
			js = nil
			res := f.get(t, path, 200)
			if !strings.HasPrefix(res.body, "[") {
				t.Fatalf("not a bare array: %s", res.body)
			}
			if err := json.Unmarshal([]byte(res.body), &js); err != nil {
				t.Fatal(err)
			}
			return js
		}
		if got := mustJSON(o311 + "/requests.json" + ja); len(got) != 3 || got[1].MediaURL != "https://example.com/p.jpg" || got[1].Address != "鹿城镇南路 1 号" {
			t.Fatalf("requests JSON: %+v", got)
		}
		if got := mustJSON(o311 + "/requests.json" + ja + "&status=closed"); len(got) != 0 {
			t.Fatalf("closed: %+v", got)
		}
		if got := mustJSON(o311 + "/requests.json" + ja + "&status=open&service_code=component-0101"); len(got) != 3 {
			t.Fatalf("open: %d", len(got))
		}
		if got := mustJSON(o311 + "/requests.json" + ja + "&service_code=event-0101"); len(got) != 0 {
			t.Fatalf("other service: %d", len(got))
		}
		// A window in the past has nothing; service_request_id overrides it and every other filter.
		past := "&start_date=" + url.QueryEscape("2020-01-01T00:00:00+08:00") + "&end_date=" + url.QueryEscape("2020-02-01T00:00:00+08:00")
		if got := mustJSON(o311 + "/requests.json" + ja + past); len(got) != 0 {
			t.Fatalf("past window: %d", len(got))
		}
		if got := mustJSON(o311 + "/requests.json" + ja + past + "&status=closed&service_request_id=" + idXML + "," + idJSON + ",unknown"); len(got) != 2 {
			t.Fatalf("by id: %+v", got)
		}
		// end_date alone: the 90 days before it, which excludes today when it is 91 days ahead.
		ahead := url.QueryEscape(time.Now().Add(91 * 24 * time.Hour).Format(time.RFC3339))
		if got := mustJSON(o311 + "/requests.json" + ja + "&end_date=" + ahead); len(got) != 0 {
			t.Fatalf("default window before end_date: %d", len(got))
		}
		if got := mustJSON(o311 + "/requests.json" + ja + "&end_date=" + url.QueryEscape(time.Now().Add(89*24*time.Hour).Format(time.RFC3339))); len(got) != 3 {
			t.Fatalf("window of 90 days: %d", len(got))
		}
		// the cap
		f.app.open311.SetMaxResults(2)
		if got := mustJSON(o311 + "/requests.json" + ja); len(got) != 2 || got[0].ID != idPhoto {
			t.Fatalf("capped: %+v", got)
		}
		f.app.open311.SetMaxResults(open311.DefaultMaxResults)
		for _, fm := range []string{"xml", "json"} {
			for _, q := range []string{"&status=pending", "&start_date=yesterday", "&end_date=2026-01-01", "&start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z"} {
				checkError(t, f.get(t, o311+"/requests."+fm+ja+q, 400), 400)
			}
		}
		// tenant isolation: B lists none of A's
		if got := mustJSON(o311 + "/requests.json?jurisdiction_id=wuding"); len(got) != 0 {
			t.Fatalf("B lists A's: %+v", got)
		}
		if got := mustJSON(o311 + "/requests.json?jurisdiction_id=wuding&service_request_id=" + idXML); len(got) != 0 {
			t.Fatalf("B lists A's by id: %+v", got)
		}
	})

	t.Run("GET one request", func(t *testing.T) {
		res := f.get(t, o311+"/requests/"+idXML+".xml"+ja, 200)
		var xr xmlRequests
		if root := xmlRoot(t, res); root != "service_requests" || xml.Unmarshal([]byte(res.body), &xr) != nil || len(xr.Requests) != 1 || xr.Requests[0].ID != idXML {
			t.Fatalf("one XML: %s", res.body)
		}
		var js []open311.Request
		if err := json.Unmarshal([]byte(f.get(t, o311+"/requests/"+idXML+".json"+ja, 200).body), &js); err != nil || len(js) != 1 {
			t.Fatalf("one JSON: %v", err)
		}
		for _, fm := range []string{"xml", "json"} {
			checkError(t, f.get(t, o311+"/requests/00000000-0000-0000-0000-000000000000."+fm+ja, 404), 404)
			checkError(t, f.get(t, o311+"/requests/"+idXML+"."+fm+"?jurisdiction_id=wuding", 404), 404)
		}
	})

	t.Run("state mapping and updates", func(t *testing.T) {
		var cv caseView
		res := f.mustDo(t, "acceptorA", "POST", casesA+"/"+idXML+"/actions/accept", `{"version":1}`, 200)
		json.Unmarshal([]byte(res.body), &cv)
		res = f.mustDo(t, "shiftA", "POST", casesA+"/"+idXML+"/actions/file", fmt.Sprintf(`{"version":%d}`, cv.Version), 200)
		json.Unmarshal([]byte(res.body), &cv)
		f.mustDo(t, "dispatcherA", "POST", casesA+"/"+idXML+"/actions/dispatch", fmt.Sprintf(`{"version":%d}`, cv.Version), 200)
		var js []open311.Request
		json.Unmarshal([]byte(f.get(t, o311+"/requests/"+idXML+".json"+ja, 200).body), &js)
		if r := js[0]; r.Status != "open" || !strings.Contains(r.StatusNotes, "派遣") || r.AgencyResponsible != "市政局A-SECRET" || r.ExpectedDatetime == "" {
			t.Fatalf("dispatched request: %+v", r)
		}
		res = f.get(t, o311+"/servicerequestupdates.xml"+ja, 200)
		if root := xmlRoot(t, res); root != "service_request_updates" {
			t.Fatalf("root %q", root)
		}
		var xu struct {
			Updates []open311.Update `xml:"request_update"`
		}
		if err := xml.Unmarshal([]byte(res.body), &xu); err != nil || len(xu.Updates) != 6 { // 3 reports + accept, file, dispatch
			t.Fatalf("updates XML: %v %s", err, res.body)
		}
		var ju []open311.Update
		res = f.get(t, o311+"/servicerequestupdates.json"+ja, 200)
		if err := json.Unmarshal([]byte(res.body), &ju); err != nil || len(ju) != 6 || ju[5].ServiceRequestID != idXML || ju[5].Status != "open" || ju[5].UpdateID == "" {
			t.Fatalf("updates JSON: %v %s", err, res.body)
		}
		for _, fm := range []string{"xml", "json"} {
			checkError(t, f.get(t, o311+"/servicerequestupdates."+fm+ja+"&start_date=soon", 400), 400)
		}
		if res := f.get(t, o311+"/servicerequestupdates.json?jurisdiction_id=wuding", 200); res.body != "[]" {
			t.Fatalf("B's updates: %s", res.body)
		}
		// void one: closed
		f.mustDo(t, "acceptorA", "POST", casesA+"/"+idJSON+"/actions/void", `{"version":1,"reason":"重复"}`, 200)
		json.Unmarshal([]byte(f.get(t, o311+"/requests.json"+ja+"&status=closed", 200).body), &js)
		if len(js) != 1 || js[0].ID != idJSON || js[0].Status != "closed" {
			t.Fatalf("closed: %+v", js)
		}
	})

	t.Run("metered as API requests", func(t *testing.T) {
		usage := func() int {
			t.Helper()
			if err := f.app.billing.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			res := f.mustDo(t, "adminB", "GET", "/api/v1/t/wuding/billing/usage?period=month&meter=api_requests", "", 200)
			m := regexp.MustCompile(`"quantity":(\d+)`).FindStringSubmatch(res.body)
			if m == nil {
				return 0
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
		before := usage()
		f.get(t, o311+"/services.json?jurisdiction_id=wuding", 200)
		f.get(t, o311+"/requests.xml?jurisdiction_id=wuding", 200)
		f.get(t, o311+"/discovery.xml", 200) // no jurisdiction, not metered
		if got := usage(); got != before+3 { // two Open311 requests and the first usage read
			t.Fatalf("api_requests: got %d, want %d", got, before+3)
		}
	})

	t.Run("POST is rate-limited per api key", func(t *testing.T) {
		key, _, err := f.app.open311.CreateKey(context.Background(), mustTenant(t, f.fixture, "wuding"), "busy app")
		if err != nil {
			t.Fatal(err)
		}
		form := o311Form(key, "jurisdiction_id", "wuding", "lat", "", "long", "") // refused fast, still counted
		for i := 0; ; i++ {
			req := httptest.NewRequest("POST", o311+"/requests.json", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := f.send(t, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.status == 429 {
				checkError(t, res, 429)
				break
			}
			if res.status != 400 || i > open311api.PostsPerMinute {
				t.Fatalf("post %d: %d %s", i, res.status, res.body)
			}
		}
		// another key is not held up
		f.post(t, o311+"/requests.json", o311Form(f.keyA, "lat", "", "long", ""), 400)
	})

	t.Run("suspended tenant reads but takes no requests", func(t *testing.T) {
		f.mustDo(t, "operator", "POST", "/api/v1/tenants/wuding/suspend", `{"reason":"test"}`, 200)
		f.get(t, o311+"/services.json?jurisdiction_id=wuding", 200)
		form := o311Form(f.keyB, "jurisdiction_id", "wuding")
		res := f.post(t, o311+"/requests.json", form, 403)
		checkError(t, res, 403)
		if !strings.Contains(res.body, "suspended") {
			t.Fatalf("suspended: %s", res.body)
		}
	})

	t.Run("no personal data in any answer", func(t *testing.T) {
		for _, b := range f.bodies {
			for _, pii := range o311PII {
				if strings.Contains(b, pii) {
					t.Fatalf("personal data %q in %s", pii, b)
				}
			}
		}
	})
}

// TestOpen311ReporterIsTheClient: a case reported through Open311 names the client app (its api
// key's name) as reporter, as the actor of its first event and as the uploader of its photo,
// not "system".
func TestOpen311ReporterIsTheClient(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newO311Fixture(t, dialect)
			res := f.postMultipart(t, o311+"/requests.json", o311Form(f.keyA), []byte(pngBytes), 200)
			var receipts []struct {
				ID string `json:"service_request_id"`
			}
			if err := json.Unmarshal([]byte(res.body), &receipts); err != nil || len(receipts) != 1 {
				t.Fatalf("receipt: %v %s", err, res.body)
			}
			var c struct {
				ReportedBy string `json:"reported_by"`
				Events     []struct {
					ActorID string `json:"actor_id"`
					Detail  struct {
						Client struct{ Kind, ID, Name string }
					}
				}
				Photos []struct {
					UploadedBy string `json:"uploaded_by"`
				}
			}
			json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"/"+receipts[0].ID, "", 200).body), &c)
			const want = "open311:city app"
			if c.ReportedBy != want || len(c.Events) != 1 || c.Events[0].ActorID != want ||
				c.Events[0].Detail.Client.Name != "city app" || c.Events[0].Detail.Client.Kind != "open311" || c.Events[0].Detail.Client.ID == "" {
				t.Fatalf("reporter: %+v", c)
			}
			if len(c.Photos) != 1 || c.Photos[0].UploadedBy != want {
				t.Fatalf("photo uploader: %+v", c.Photos)
			}
		})
	}
}

// TestOpen311AddressOnly: a request with an address_string and no point is placed in the grid its
// address names (the most precise level), says so in its notice and its history; an address that
// names no grid is refused.
func TestOpen311AddressOnly(t *testing.T) {
	f := newO311Fixture(t, "sqlite")
	o311 := "/open311/v2"
	chuxiong := mustTenant(t, f.fixture, "chuxiong")
	sctx := tenants.WithScope(context.Background(), tenants.SystemScope(chuxiong))
	if _, err := f.app.platform.grids.Import(sctx, []byte(`{"type":"FeatureCollection","features":[`+
		`{"type":"Feature","properties":{"code":"53230100100000","name":"鹿城街道"},"geometry":{"type":"Polygon","coordinates":[[[101.50,25.00],[101.60,25.00],[101.60,25.06],[101.50,25.06],[101.50,25.00]]]}},`+
		`{"type":"Feature","properties":{"code":"53230100100100","name":"北浦社区"},"geometry":{"type":"Polygon","coordinates":[[[101.53,25.02],[101.56,25.02],[101.56,25.04],[101.53,25.04],[101.53,25.02]]]}}]}`), false); err != nil {
		t.Fatal(err)
	}
	res := f.post(t, o311+"/requests.json", o311Form(f.keyA, "lat", "", "long", "", "address_string", "鹿城街道北浦社区菜市场旁"), 200)
	var placed []open311.Receipt
	if err := json.Unmarshal([]byte(res.body), &placed); err != nil || len(placed) != 1 || !strings.Contains(placed[0].ServiceNotice, "北浦社区") {
		t.Fatalf("address only: %v %s", err, res.body)
	}
	pc, err := f.app.cases.FindCaseByID(sctx, placed[0].ID)
	if err != nil || pc.Lon < 101.53 || pc.Lon > 101.56 || pc.Lat < 25.02 || pc.Lat > 25.04 || !strings.Contains(string(pc.Events[0].Detail), "address:53230100100100") {
		t.Fatalf("the address-only case is not placed in 北浦社区: %v %+v", err, pc)
	}
	checkError(t, f.post(t, o311+"/requests.json", o311Form(f.keyA, "lat", "", "long", "", "address_string", "昆明市五华区"), 400), 400)
}
