package app

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSurvey: a citizen on a phone reports a problem through the public form; the staff
// work the case to closed through the case loop; the citizen, back on the progress page, answers
// the survey (回访): solved, satisfied (4), a comment, by keyboard-reachable radio buttons with
// their legends. The staff see the answer on the case page, and the county's evaluation shows it
// in its satisfaction figures.
func TestBrowserSurvey(t *testing.T) {
	f := surveyFixture(t, "sqlite")
	b := newBrowser(t, f.listen(t))
	s := b.user("citizen")
	s.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	s.visit("/r/chuxiong/")
	s.fill("#p-service", "component-0101")
	s.fill("#p-desc", "鹿城南路的井盖丢了")
	// The point inside A's unit grid, typed as the hint allows (the map is an aid).
	eval[bool](s, `(function(){document.getElementById('p-lat').value='25.005';document.getElementById('p-lon').value='101.505';return true})()`)
	s.fill("#p-phone", "13900139000")
	s.click(".public-form button[type=submit]")
	waitJS(s, "the progress page", `location.pathname === '/r/chuxiong/lookup' && document.querySelector('.case-number') !== null`)
	progress := s.location()
	m := regexp.MustCompile(`number=([0-9-]+)&token=([0-9a-f-]{36})`).FindStringSubmatch(progress)
	if m == nil {
		t.Fatalf("after the report: %s", progress)
	}
	number, token := m[1], m[2]
	if n := eval[int](s, `document.querySelectorAll('.survey-form').length`); n != 0 {
		t.Fatal("the survey is offered before the case is closed")
	}
	r, err := f.app.open311.FindToken(t.Context(), mustTenant(t, f.fixture, "chuxiong"), token)
	if err != nil {
		t.Fatal(err)
	}
	workToClosed(t, f, r.ID)

	// Back on the progress page: closed, and the survey under it.
	s.visit("/r/chuxiong/lookup?number=" + url.QueryEscape(number) + "&token=" + token)
	s.waitText(".progress .state", "已办结")
	s.waitText("#survey-title", "回访")
	if legends := s.text(".survey-form"); !strings.Contains(legends, "问题解决了吗？") || !strings.Contains(legends, "满意度") {
		t.Fatalf("the survey form lacks its legends:\n%s", legends)
	}
	if w := eval[float64](s, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the survey is %v px wide on a 390 px phone", w)
	}
	// A rating is a labelled radio button, reachable by keyboard.
	if got := eval[string](s, `(function(){var e=document.getElementById('s-rating-4');e.focus();return document.activeElement.id+'|'+document.querySelector('label[for=s-rating-4]').textContent.trim()})()`); got != "s-rating-4|4 · 满意" {
		t.Errorf("rating 4: %q", got)
	}
	s.shot("survey-form")
	s.do(chromedp.Click(chromedp.CSS("#s-solved-yes")), chromedp.Click(chromedp.CSS("#s-rating-4")))
	s.fill("#s-comment", "修得很快，谢谢")
	s.click(".survey-form button[type=submit]")
	s.waitText(".flash", "已收到您的回访评价")
	s.waitText(".survey-answer", "修得很快，谢谢")
	if txt := s.text("main"); !strings.Contains(txt, "4 / 5") || strings.Contains(txt, "13900139000") {
		t.Fatalf("after answering:\n%s", txt)
	}
	if n := eval[int](s, `document.querySelectorAll('.survey-form').length`); n != 0 {
		t.Fatal("the survey is offered again after the answer")
	}
	s.shot("survey-answered")

	// The staff see it on the case page, and in the county's evaluation.
	staff := b.user("adminA")
	staff.login("admina@test.cn", testPassword)
	staff.visit("/t/chuxiong/cases/" + r.ID)
	staff.waitText("#survey .survey-rating", "4 / 5")
	staff.waitText("#survey .survey-comment", "修得很快，谢谢")
	staff.shot("survey-case-page")
	staff.visit("/t/chuxiong/evaluation")
	staff.waitText("#sat-surveyed", "1")
	staff.waitText("#sat-average", "4.00")
	staff.waitText("#sat-solved", "100.0%")
	staff.shot("survey-evaluation")

	// The prefecture's viewer compares the counties' satisfaction.
	evalPlan(t, f.fixture, "chuxiong-zhou")
	v := b.user("viewer")
	v.login("viewer@test.cn", testPassword)
	v.visit("/t/chuxiong-zhou/evaluation")
	v.waitText("#satisfaction", "楚雄市")
	v.waitText("#satisfaction tbody td:nth-child(3)", "4.00")
}
