package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserGuidance walks the two-level flows in the console, as the prefecture's admin and
// the county's admin each in their own browser: a notice with an attachment published to one
// county, read and acknowledged there, the prefecture seeing the acknowledgement; a supervision
// task with a checklist and a point on the map, answered with a photo, sent back, answered again
// and scored; a monthly report template (工作月报) whose indicator fields come pre-filled in the
// county, filled and submitted, the prefecture seeing who is missing.
func TestBrowserGuidance(t *testing.T) {
	f := guidanceFixture(t, "sqlite")
	b := newBrowser(t, f.listen(t))
	dir := t.TempDir()
	photo := filepath.Join(dir, "现场.png")
	if err := os.WriteFile(photo, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"), 0o644); err != nil {
		t.Fatal(err)
	}
	pref := b.user("pref")
	pref.login("prefadmin@test.cn", testPassword)
	county := b.user("county")
	county.login("admina@test.cn", testPassword)

	// 1. A notice, published to 楚雄市 only, to its acknowledgement.
	pref.visit("/t/chuxiong-zhou/guidance")
	pref.click("#notices details summary")
	pref.fill("#publish-form input[name=title]", "关于开展井盖专项整治的通知")
	pref.fill("#publish-form textarea[name=body]", "各县（市）：请于月底前完成辖区井盖排查。")
	pref.fill("#publish-form input[name=ack_due]", "2099-12-31")
	pref.do(chromedp.Click(chromedp.CSS("#publish-form input[name=all]")), chromedp.Click(chromedp.CSS(`#publish-form input[name=counties][value=chuxiong]`)))
	pref.upload("#publish-form input[name=files]", photo)
	pref.shot("publish")
	pref.click("#publish-form button[type=submit]")
	pref.waitText("h1", "关于开展井盖专项整治的通知")
	pref.waitText("#ack-count", "已签收 0 / 1")
	noticePage := pref.location()

	county.visit("/t/chuxiong/guidance")
	county.waitText("#unacked", "1 条未签收")
	county.shot("inbox")
	county.click("#inbox a")
	county.waitText(".notice-body", "请于月底前完成辖区井盖排查")
	county.waitText(".files", "现场.png")
	county.fill("#ack-form input[name=note]", "已部署排查")
	county.click("#ack-form button[type=submit]")
	county.waitText("#acked", "已签收")
	county.shot("acknowledged")

	pref.visit(noticePage)
	pref.waitText("#ack-count", "已签收 1 / 1")
	pref.waitText(`#receipts tr[data-county=chuxiong]`, "已部署排查")
	pref.shot("receipts")

	// 2. A supervision task for every county: opened, answered, sent back, answered, scored.
	pref.visit("/t/chuxiong-zhou/guidance")
	pref.click("#tasks details summary")
	pref.fill("#task-form input[name=title]", "城区井盖专项检查")
	pref.fill("#task-form textarea[name=checklist]", "井盖完好无缺失\n警示标识清楚")
	pref.fill("#task-form textarea[name=points]", "25.0330, 101.5460, 鹿城广场")
	pref.fill("#task-form input[name=due]", "2099-12-31")
	pref.click("#task-form button[type=submit]")
	pref.waitText("h1", "城区井盖专项检查")
	pref.waitText(`section[data-county=chuxiong] .state`, "待反馈")
	if n := eval[int](pref, `document.querySelectorAll('#taskmap').length`); n != 1 {
		t.Fatal("the task page has no map of its points")
	}
	pref.shot("task-opened")
	taskPage := pref.location()

	county.visit("/t/chuxiong/guidance")
	county.click("#tasks a")
	county.fill("#respond-form textarea[name=findings]", "鹿城广场发现 2 处井盖破损，已立案处置。")
	county.do(chromedp.Click(chromedp.CSS(`#respond-form input[name=check_0][value=no]`)))
	county.fill("#respond-form input[name=note_0]", "2 处破损")
	county.upload("#respond-form input[name=photos]", photo)
	county.click("#respond-form button[type=submit]")
	county.waitText("#mine .state", "已反馈待评分")
	county.shot("answered")

	pref.visit(taskPage)
	pref.waitText(`section[data-county=chuxiong] .findings`, "2 处井盖破损")
	pref.waitText(`section[data-county=chuxiong]`, "现场.png")
	pref.do(chromedp.Click(chromedp.CSS(`section[data-county=chuxiong] input[name=verdict][value=returned]`)))
	pref.fill(`section[data-county=chuxiong] input[name=comment]`, "请补充整改后照片")
	pref.click(`section[data-county=chuxiong] .review-form button[type=submit]`)
	pref.waitText(`section[data-county=chuxiong] .state`, "已退回")

	county.visit(strings.Replace(taskPage, "chuxiong-zhou", "chuxiong", 1))
	county.waitText("#mine .state", "已退回")
	county.waitText("#mine", "请补充整改后照片")
	county.fill("#respond-form textarea[name=findings]", "已补充整改后照片，2 处井盖均已更换。")
	county.upload("#respond-form input[name=photos]", photo)
	county.click("#respond-form button[type=submit]")
	county.waitText("#mine .state", "已反馈待评分")

	pref.visit(taskPage)
	pref.fill(`section[data-county=chuxiong] input[name=score]`, "88")
	pref.fill(`section[data-county=chuxiong] input[name=comment]`, "整改到位")
	pref.click(`section[data-county=chuxiong] .review-form button[type=submit]`)
	pref.waitText(`section[data-county=chuxiong] .state`, "已评分")
	pref.waitText(`section[data-county=chuxiong] .score`, "88")
	pref.waitText(`section[data-county=wuding] .state`, "待反馈")
	pref.shot("scored")
	county.visit(strings.Replace(taskPage, "chuxiong-zhou", "chuxiong", 1))
	county.waitText("#mine .score", "88")
	if n := eval[int](county, `document.querySelectorAll('#respond-form').length`); n != 0 {
		t.Fatal("a scored task still takes answers")
	}

	// 3. A monthly report from its template to its submission.
	pref.visit("/t/chuxiong-zhou/guidance")
	pref.click("#templates details summary")
	pref.click("#template-form button[type=submit]")
	pref.waitText("h1", "工作月报")
	pref.waitText("#missing", "2 个县（市）未报送")
	templatePage := pref.location()

	county.visit("/t/chuxiong/guidance")
	county.waitText("#reports", "未报送")
	county.click("#reports a")
	if v := eval[string](county, `document.querySelector('#report-form input[name=v_reported]').value`); v != "0" {
		t.Fatalf("the indicator field is pre-filled with %q, want the county's own 0", v)
	}
	county.waitText("#report-form", "已按本单位指标预填")
	county.fill("#report-form input[name=v_reported]", "12")
	county.fill("#report-form textarea[name=v_highlights]", "完成井盖专项排查")
	county.shot("report-form")
	county.click("#report-form button[type=submit]")
	county.waitText("#submitted", "已报送")

	pref.visit(templatePage)
	pref.waitText("#missing", "1 个县（市）未报送")
	pref.waitText(`tr[data-county=chuxiong]`, "完成井盖专项排查")
	if c := eval[string](pref, `document.querySelector('tr[data-county=wuding]').className`); c != "missing" { // 未报送 or 已逾期, by the date
		t.Fatalf("wuding's row is %q, want missing", c)
	}
	pref.shot("reports")
}
