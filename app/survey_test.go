package app

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/open311"
	"github.com/gofiber/fiber/v2"
)

func init() {
	answer := &open311.Survey{CaseID: "c1", Channel: open311.SurveyLookup, AskedBy: "公众网页上报 / public web form", AskedAt: sampleNow,
		Solved: false, Rating: 2, Comment: "<b>又坏了</b>", AnsweredAt: sampleNow}
	samplePage("public_survey", fiber.Map{"Tenant": sampleTenant, "Base": "/r/chuxiong"},
		fiber.Map{"Tenant": sampleTenant, "Base": "/r/chuxiong", "Number": "532301-2026-000001", "From": "link", "Ratings": []int{5, 4, 3, 2, 1},
			"SurveyForm": true, "SurveyToken": "tok-<x>", "SurveyError": "输入有误：rating", "SurveyNotClosed": true,
			"Answer": fiber.Map{"solved": "no", "rating": "9", "comment": "<script>"},
			"Survey": &open311.SurveyStatus{Closed: true, Answer: answer, FollowUpNumber: "532301-2026-000002", FollowUpToken: "t2"}})
}

// surveyFixture is the case fixture with 楚雄市 taking public reports of 上水井盖 (component-0101).
func surveyFixture(t *testing.T, dialect string) *caseFixture {
	t.Helper()
	f := newCaseFixture(t, dialect)
	evalPlan(t, f.fixture, "chuxiong") // the evaluation's satisfaction figures
	if err := f.app.open311.AddServiceCode(context.Background(), mustTenant(t, f.fixture, "chuxiong"), "component-0101"); err != nil {
		t.Fatal(err)
	}
	return f
}

// publicReport reports through the public form inside A's unit grid and returns the number, the
// token and the case id.
func publicReport(t *testing.T, f *caseFixture, desc string) (number, token, id string) {
	t.Helper()
	res := publicPost(t, f.fixture, "/r/chuxiong/", map[string]string{"service_code": "component-0101", "description": desc,
		"lat": "25.005", "long": "101.505", "first_name": "王五PII", "phone": "13700137000"}, nil, "")
	m := regexp.MustCompile(`number=([0-9-]+)&token=([0-9a-f-]{36})`).FindStringSubmatch(res.header.Get("Location"))
	if res.status != 303 || m == nil {
		t.Fatalf("public report: %d %s %s", res.status, res.header.Get("Location"), res.body)
	}
	r, err := f.app.open311.FindToken(context.Background(), mustTenant(t, f.fixture, "chuxiong"), m[2])
	if err != nil {
		t.Fatal(err)
	}
	return m[1], m[2], r.ID
}

// workToClosed drives case id through the case loop, by each post's own API calls, to closed.
func workToClosed(t *testing.T, f *caseFixture, id string) {
	t.Helper()
	var c caseView
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"/"+id, "", 200).body), &c)
	for _, a := range append(append([]cases.Action{}, pathTo[cases.Checked]...), cases.Close) {
		tr := transitionOf(t, cases.State(c.State), a)
		c = f.act(t, casePosts[tr.Posts[0]], c, a, 200)
	}
	if c.State != string(cases.Closed) {
		t.Fatalf("worked to %s", c.State)
	}
}

// surveyPost posts the public survey form (app.Test sends every request from one address: a
// test stays under console.SurveyPostsPerIP).
func surveyPost(t *testing.T, f *caseFixture, form url.Values) *response {
	t.Helper()
	req := httptest.NewRequest("POST", "/r/chuxiong/survey", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	res, err := f.send(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSurvey(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testSurvey(t, dialect) })
	}
}

func testSurvey(t *testing.T, dialect string) {
	f := surveyFixture(t, dialect)
	number, token, id := publicReport(t, f, "鹿城南路井盖丢了")
	answer := func(solved, rating, comment string) url.Values {
		return url.Values{"number": {number}, "token": {token}, "solved": {solved}, "rating": {rating}, "comment": {comment}}
	}
	lookup := "/r/chuxiong/lookup?number=" + url.QueryEscape(number) + "&token=" + token

	// Before closure: no form on the lookup page; an answer is refused (409) and nothing stored.
	if res := webPage(t, f.fixture, "", "", "GET", lookup, nil); res.status != 200 || strings.Contains(res.body, "survey-form") {
		t.Fatalf("lookup before closure: %d\n%s", res.status, res.body)
	}
	if res := surveyPost(t, f, answer("yes", "5", "")); res.status != 409 || !strings.Contains(res.body, "尚未结案") {
		t.Fatalf("answer before closure: %d\n%s", res.status, res.body)
	}
	if res := webPage(t, f.fixture, "", "", "GET", "/r/chuxiong/survey?number="+number+"&token="+token, nil); res.status != 200 || !strings.Contains(res.body, "尚未办结") || strings.Contains(res.body, "survey-form") {
		t.Fatalf("survey link before closure: %d\n%s", res.status, res.body)
	}

	workToClosed(t, f, id)

	// The lookup page offers the survey under the progress; without the token it asks for it.
	res := webPage(t, f.fixture, "", "", "GET", lookup, nil)
	if res.status != 200 || !strings.Contains(res.body, `class="public-form survey-form"`) || !strings.Contains(res.body, "<legend>满意度</legend>") ||
		!strings.Contains(res.body, `type="hidden" name="token" value="`+token+`"`) {
		t.Fatalf("lookup after closure: %d\n%s", res.status, res.body)
	}
	if res := webPage(t, f.fixture, "", "", "GET", "/r/chuxiong/lookup?number="+number, nil); !strings.Contains(res.body, `id="s-token"`) {
		t.Fatalf("lookup without the token does not ask for it:\n%s", res.body)
	}

	// Bad input: a clear 4xx page with the form, never a 500, nothing stored.
	long := strings.Repeat("很", open311.MaxSurveyComment+1)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"rating 0", answer("yes", "0", ""), 400, "1（很不满意）到 5"},
		{"rating 6", answer("yes", "6", ""), 400, "1（很不满意）到 5"},
		{"rating a word", answer("yes", "five", ""), 400, "满意度"},
		{"rating 4.5", answer("yes", "4.5", ""), 400, "满意度"},
		{"solved a word", answer("maybe", "4", ""), 400, "yes 或 no"},
		{"no solved", answer("", "4", ""), 400, "yes 或 no"},
		{"NUL in the comment", answer("yes", "4", "a\x00b"), 400, "NUL"},
		{"NUL in the token", url.Values{"number": {number}, "token": {token + "\x00"}, "solved": {"yes"}, "rating": {"4"}}, 400, "NUL"},
		{"NUL in the number", url.Values{"number": {number + "\x00"}, "token": {token}, "solved": {"yes"}, "rating": {"4"}}, 400, "NUL"},
		{"oversize comment", answer("yes", "4", long), 400, "500"},
		{"no token", url.Values{"number": {number}, "solved": {"yes"}, "rating": {"4"}}, 400, "凭证码"},
		{"wrong token", url.Values{"number": {number}, "token": {"0b0c0d0e-0000-4000-8000-000000000000"}, "solved": {"yes"}, "rating": {"4"}}, 404, "没有与该编号和凭证码相符"},
		{"token of a number that does not exist", url.Values{"number": {"532301-2026-999999"}, "token": {token}, "solved": {"yes"}, "rating": {"4"}}, 404, "没有与该编号和凭证码相符"},
		{"a huge token", url.Values{"number": {number}, "token": {strings.Repeat("a", 5000)}, "solved": {"yes"}, "rating": {"4"}}, 400, "token"},
	} {
		res := surveyPost(t, f, tc.form)
		if res.status != tc.status || !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, "<!doctype html>") {
			t.Errorf("%s: %d, want %d with %q\n%.3000s", tc.name, res.status, tc.status, tc.want, res.body)
		}
	}
	// A wrong token and an unknown number read the same: no hint whether the number exists.
	a := surveyPost(t, f, url.Values{"number": {number}, "token": {"0b0c0d0e-0000-4000-8000-000000000000"}, "solved": {"yes"}, "rating": {"4"}})
	b := surveyPost(t, f, url.Values{"number": {"532301-2026-999999"}, "token": {"0b0c0d0e-0000-4000-8000-000000000000"}, "solved": {"yes"}, "rating": {"4"}})
	if a.status != 404 || b.status != 404 || strings.ReplaceAll(a.body, number, "N") != strings.ReplaceAll(b.body, "532301-2026-999999", "N") {
		t.Errorf("a wrong token for a real number reads differently from an unknown number:\n%s\n---\n%s", a.body, b.body)
	}
	if res := webPage(t, f.fixture, "", "", "GET", "/r/chuxiong/survey?number="+number+"&token=nope", nil); res.status != 404 || strings.Contains(res.body, "survey-form") {
		t.Errorf("survey link with a wrong token: %d", res.status)
	}

	// The answer: solved, 4, a comment; the lookup page shows it and no form any more.
	res = surveyPost(t, f, answer("yes", "4", "修好了，谢谢"))
	if res.status != 303 || !strings.Contains(res.header.Get("Location"), "done=public.survey.thanks") {
		t.Fatalf("answer: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	res = webPage(t, f.fixture, "", "", "GET", res.header.Get("Location"), nil)
	if res.status != 200 || !strings.Contains(res.body, "感谢您的回访评价") || !strings.Contains(res.body, "修好了，谢谢") || strings.Contains(res.body, "survey-form") {
		t.Fatalf("lookup after answering: %d\n%s", res.status, res.body)
	}
	for _, pii := range []string{"王五PII", "13700137000"} {
		if strings.Contains(res.body, pii) {
			t.Errorf("the public page shows %s", pii)
		}
	}
	// Once: a second answer is refused (409) and the first stands.
	if res := surveyPost(t, f, answer("no", "1", "改主意了")); res.status != 409 || !strings.Contains(res.body, "只能回访一次") {
		t.Fatalf("second answer: %d\n%s", res.status, res.body)
	}

	// Staff see the answer on the case page, with who asked and when; the prefecture's viewer
	// reads it; another tenant's staff get a 404.
	cookie, _ := webLogin(t, f.fixture, "adminA")
	res = webPage(t, f.fixture, cookie, "", "GET", "/t/chuxiong/cases/"+id, nil)
	if res.status != 200 || !strings.Contains(res.body, `id="survey"`) || !strings.Contains(res.body, "修好了，谢谢") ||
		!strings.Contains(res.body, "4 / 5") || !strings.Contains(res.body, "公众网页上报") || !strings.Contains(res.body, "进度查询页") {
		t.Fatalf("case page: %d\n%s", res.status, res.body)
	}
	vc, _ := webLogin(t, f.fixture, "viewer")
	if res := webPage(t, f.fixture, vc, "", "GET", "/t/chuxiong/cases/"+id, nil); res.status != 200 || !strings.Contains(res.body, "修好了，谢谢") {
		t.Errorf("the prefecture's viewer: %d", res.status)
	}
	bc, _ := webLogin(t, f.fixture, "adminB")
	for _, path := range []string{"/t/chuxiong/cases/" + id, "/t/wuding/cases/" + id} {
		if res := webPage(t, f.fixture, bc, "", "GET", path, nil); res.status != 404 && res.status != 403 || strings.Contains(res.body, "修好了") {
			t.Errorf("B's admin GET %s: %d", path, res.status)
		}
	}
	// Another tenant's public pages know nothing of it.
	if err := f.app.open311.AddServiceCode(context.Background(), mustTenant(t, f.fixture, "wuding"), "component-0101"); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/r/wuding/survey", strings.NewReader(url.Values{"number": {number}, "token": {token}, "solved": {"yes"}, "rating": {"4"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, _ := f.send(t, req); res.status != 404 {
		t.Errorf("A's token on B's survey: %d, want 404", res.status)
	}
	// The prefecture's viewer cannot write through the console (read-only scope).
	vcookie, vcsrf := webLogin(t, f.fixture, "viewer")
	if res := webPage(t, f.fixture, vcookie, vcsrf, "POST", "/t/chuxiong/cases/"+id+"/actions/supervise", url.Values{"reason": {"x"}}); res.status != 403 {
		t.Errorf("viewer POST on the case: %d, want 403", res.status)
	}

	// The evaluation counts the answer: satisfaction 4, solved by the citizen's word 1 of 1, in the
	// county's grid and department rows too; the prefecture's comparison shows the county's.
	testSurveyEvaluation(t, f, 1, 1, 4)
	var sat struct {
		Rows map[string][]struct {
			Key      string
			Surveyed int64
			Average  *float64
		}
	}
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/evaluation/satisfaction", "", 200).body), &sat)
	for _, o := range []string{"streets", "communities", "grids", "departments"} {
		if rows := sat.Rows[o]; len(rows) != 1 || rows[0].Surveyed != 1 || rows[0].Average == nil || *rows[0].Average != 4 {
			t.Errorf("satisfaction %s: %+v", o, rows)
		}
	}
	if rows := sat.Rows["departments"]; len(rows) == 1 && rows[0].Key != f.dept {
		t.Errorf("satisfaction counted under department %s, want %s", rows[0].Key, f.dept)
	}
	f.mustDo(t, "adminB", "GET", "/api/v1/t/chuxiong/evaluation/satisfaction", "", 404)
	evalPlan(t, f.fixture, "chuxiong-zhou")
	units := f.mustDo(t, "viewer", "GET", "/api/v1/t/chuxiong-zhou/evaluation/units", "", 200)
	if !strings.Contains(units.body, `"satisfaction":{"key":"chuxiong","name":"楚雄市","surveyed":1,"solved":1,"rating_sum":4,"average":4,"solved_rate":1}`) {
		t.Errorf("the prefecture's comparison lacks A's satisfaction:\n%s", units.body)
	}
	f.mustDo(t, "viewer", "GET", "/api/v1/t/chuxiong/evaluation/satisfaction", "", 200)

	// "Not solved" reports a follow-up case linked both ways; the citizen follows it by number.
	n2, tok2, id2 := publicReport(t, f, "路灯不亮")
	workToClosed(t, f, id2)
	res = surveyPost(t, f, url.Values{"number": {n2}, "token": {tok2}, "solved": {"no"}, "rating": {"2"}, "comment": {"还是不亮"}, "from": {"link"}})
	if res.status != 303 {
		t.Fatalf("not solved: %d\n%s", res.status, res.body)
	}
	res = webPage(t, f.fixture, "", "", "GET", res.header.Get("Location"), nil)
	m := regexp.MustCompile(`/r/chuxiong/lookup\?number=([0-9-]+)&amp;token=([0-9a-f-]{36})`).FindStringSubmatch(res.body)
	if m == nil || m[1] == n2 {
		t.Fatalf("the follow-up is not linked from the citizen's number:\n%s", res.body)
	}
	n3, tok3 := m[1], m[2]
	res = webPage(t, f.fixture, "", "", "GET", "/r/chuxiong/lookup?number="+n3+"&token="+tok3, nil)
	if res.status != 200 || !strings.Contains(res.body, "已收到，待受理") {
		t.Fatalf("the follow-up's progress: %d\n%s", res.status, res.body)
	}
	var list struct{ Cases []cases.Case }
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"?limit=50", "", 200).body), &list)
	var follow *cases.Case
	for i := range list.Cases {
		if list.Cases[i].Number == n3 {
			follow = &list.Cases[i]
		}
	}
	if follow == nil || follow.Source != cases.FromCitizen || follow.State != cases.Reported || follow.ClassCode != "0101" ||
		!strings.Contains(follow.Description, n2) || !strings.Contains(follow.Description, "还是不亮") {
		t.Fatalf("follow-up case: %+v", follow)
	}
	full := f.mustDo(t, "adminA", "GET", casesA+"/"+follow.ID, "", 200)
	if !strings.Contains(full.body, `"name":"王五PII"`) || !strings.Contains(full.body, `"reported_by":"survey:公众回访 / citizen survey"`) {
		t.Errorf("the follow-up lacks its reporter or its reporter's name:\n%s", full.body)
	}
	res = webPage(t, f.fixture, cookie, "", "GET", "/t/chuxiong/cases/"+id2, nil)
	if !strings.Contains(res.body, "/t/chuxiong/cases/"+follow.ID) || !strings.Contains(res.body, "回访链接") {
		t.Errorf("the original's page does not link the follow-up:\n%s", res.body)
	}
	res = webPage(t, f.fixture, cookie, "", "GET", "/t/chuxiong/cases/"+follow.ID, nil)
	if !strings.Contains(res.body, "/t/chuxiong/cases/"+id2) {
		t.Errorf("the follow-up's page does not link the original:\n%s", res.body)
	}
	// The original stays closed (a closed case is final).
	var orig caseView
	json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"/"+id2, "", 200).body), &orig)
	if orig.State != string(cases.Closed) {
		t.Errorf("the original is %s", orig.State)
	}
	testSurveyEvaluation(t, f, 2, 1, 6)

	// The case list filters by the survey, in the API and on the console's list.
	for _, tc := range []struct {
		q    string
		want []string
	}{{"answered", []string{number, n2}}, {"solved", []string{number}}, {"not_solved", []string{n2}}} {
		var page struct{ Cases []cases.Case }
		json.Unmarshal([]byte(f.mustDo(t, "adminA", "GET", casesA+"?survey="+tc.q, "", 200).body), &page)
		var got []string
		for _, c := range page.Cases {
			got = append(got, c.Number)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") && !(len(got) == 2 && len(tc.want) == 2 && got[0] == tc.want[1] && got[1] == tc.want[0]) {
			t.Errorf("survey=%s: %v, want %v", tc.q, got, tc.want)
		}
	}
	f.mustDo(t, "adminA", "GET", casesA+"?survey=maybe", "", 400)
	res = webPage(t, f.fixture, cookie, "", "GET", "/t/chuxiong/cases?survey=not_solved", nil)
	if res.status != 200 || !strings.Contains(res.body, n2) || strings.Contains(res.body, ">"+number+"<") || !strings.Contains(res.body, `<option value="not_solved" selected>`) {
		t.Errorf("the console's list filtered by survey: %d\n%s", res.status, res.body)
	}
}

// testSurveyEvaluation checks the month's satisfaction figures of A: answers, solved and the sum
// of the ratings, in the county's totals.
func testSurveyEvaluation(t *testing.T, f *caseFixture, surveyed, solved, ratings int64) {
	t.Helper()
	res := f.mustDo(t, "adminA", "GET", "/api/v1/t/chuxiong/evaluation/satisfaction", "", 200)
	var s struct {
		Total struct {
			Surveyed  int64 `json:"surveyed"`
			Solved    int64 `json:"solved"`
			RatingSum int64 `json:"rating_sum"`
		} `json:"total"`
	}
	if err := json.Unmarshal([]byte(res.body), &s); err != nil || s.Total.Surveyed != surveyed || s.Total.Solved != solved || s.Total.RatingSum != ratings {
		t.Errorf("satisfaction: %v %s", err, res.body)
	}
}

// TestSurveyOpen311: the extension endpoint answers a closed request's survey by its token and
// service_request_id, in XML and JSON, with the spec's error shapes.
func TestSurveyOpen311(t *testing.T) {
	f := surveyFixture(t, "sqlite")
	number, token, id := publicReport(t, f, "井盖响")
	post := func(fm string, v url.Values) *response {
		t.Helper()
		req := httptest.NewRequest("POST", o311+"/surveys."+fm, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := f.send(t, req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	get := func(path string) *response {
		t.Helper()
		res, err := f.send(t, httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	base := func() url.Values {
		return url.Values{"jurisdiction_id": {"chuxiong"}, "token": {token}, "service_request_id": {id}, "solved": {"yes"}, "rating": {"5"}}
	}
	if res := get(o311 + "/surveys/" + token + ".json?jurisdiction_id=chuxiong"); res.status != 200 || !strings.Contains(res.body, `"survey_status":"not_closed"`) {
		t.Fatalf("GET before closure: %d %s", res.status, res.body)
	}
	if res := post("json", base()); res.status != 409 {
		t.Fatalf("POST before closure: %d %s", res.status, res.body)
	}
	// The SMS hook has a link only while the survey is open.
	ta := mustTenant(t, f.fixture, "chuxiong")
	if _, ok, err := f.app.open311.SurveyLinkFor(t.Context(), ta, id); ok || err != nil {
		t.Fatalf("survey link before closure: %v %v", ok, err)
	}
	workToClosed(t, f, id)
	if link, ok, err := f.app.open311.SurveyLinkFor(t.Context(), ta, id); !ok || err != nil || link != "/r/chuxiong/survey?number="+number+"&token="+token {
		t.Fatalf("survey link after closure: %q %v %v", link, ok, err)
	}
	if res := webPage(t, f.fixture, "", "", "GET", "/r/chuxiong/survey?number="+number+"&token="+token, nil); res.status != 200 || !strings.Contains(res.body, `name="from" value="link"`) {
		t.Fatalf("the survey link's page: %d\n%s", res.status, res.body)
	}
	if res := get(o311 + "/surveys/" + token + ".xml?jurisdiction_id=chuxiong"); res.status != 200 || !strings.Contains(res.body, "<survey_status>open</survey_status>") || !strings.HasPrefix(res.body, "<?xml") {
		t.Fatalf("GET after closure: %d %s", res.status, res.body)
	}
	with := func(k, v string) url.Values {
		b := base()
		b.Set(k, v)
		return b
	}
	for _, tc := range []struct {
		name   string
		v      url.Values
		status int
	}{
		{"rating 0", with("rating", "0"), 400},
		{"rating 6", with("rating", "6"), 400},
		{"rating NUL", with("rating", "\x00"), 400},
		{"comment NUL", with("comment", "x\x00"), 400},
		{"no jurisdiction", with("jurisdiction_id", ""), 400},
		{"another jurisdiction", with("jurisdiction_id", "wuding"), 404},
		{"wrong token", with("token", "0b0c0d0e-0000-4000-8000-000000000000"), 404},
		{"another request's id", with("service_request_id", "0b0c0d0e-0000-4000-8000-000000000000"), 404},
		{"no id nor number", with("service_request_id", ""), 400},
	} {
		if res := post("json", tc.v); res.status != tc.status || !strings.HasPrefix(res.body, `[{"code":`) {
			t.Errorf("%s: %d, want %d: %s", tc.name, res.status, tc.status, res.body)
		}
	}
	res := post("json", with("comment", "很好"))
	if res.status != 200 || !strings.Contains(res.body, `"survey_status":"answered"`) || !strings.Contains(res.body, `"rating":5`) {
		t.Fatalf("answer: %d %s", res.status, res.body)
	}
	if res := post("xml", url.Values{"jurisdiction_id": {"chuxiong"}, "token": {token}, "number": {number}, "solved": {"no"}, "rating": {"1"}}); res.status != 409 || !strings.Contains(res.body, "<errors>") {
		t.Fatalf("second answer: %d %s", res.status, res.body)
	}
	if _, ok, err := f.app.open311.SurveyLinkFor(t.Context(), ta, id); ok || err != nil {
		t.Fatalf("survey link after the answer: %v %v", ok, err)
	}
	if res := get(o311 + "/surveys/" + token + ".json?jurisdiction_id=chuxiong"); res.status != 200 || !strings.Contains(res.body, `"survey_status":"answered"`) || !strings.Contains(res.body, `"comment":"很好"`) {
		t.Fatalf("GET after the answer: %d %s", res.status, res.body)
	}
	if res := get(o311 + "/surveys/" + token + ".json?jurisdiction_id=wuding"); res.status != 404 {
		t.Fatalf("GET in another jurisdiction: %d %s", res.status, res.body)
	}
	var audit []struct{ Action, Target string }
	json.Unmarshal([]byte(f.mustDo(t, "operator", "GET", "/api/v1/audit?action=open311.survey_answer", "", 200).body), &audit)
	if len(audit) != 1 || audit[0].Target != id {
		t.Errorf("audit: %+v", audit)
	}
}

// TestSurveyRateLimit: one address sends at most console.SurveyPostsPerIP answers a minute.
func TestSurveyRateLimit(t *testing.T) {
	f := surveyFixture(t, "sqlite")
	bogus := url.Values{"number": {"532301-2026-000001"}, "token": {"0b0c0d0e-0000-4000-8000-000000000000"}, "solved": {"yes"}, "rating": {"4"}}
	for i := 0; i < console.SurveyPostsPerIP; i++ {
		if res := surveyPost(t, f, bogus); res.status != 404 {
			t.Fatalf("answer %d: %d", i, res.status)
		}
	}
	if res := surveyPost(t, f, bogus); res.status != 429 || !strings.Contains(res.body, "回访次数过多") {
		t.Fatalf("answer over the limit: %d\n%s", res.status, res.body)
	}
}
