package guidance

import (
	"context"
	"time"

	"github.com/cityops/cityops/tenants"
)

// Demo gives the demo's county t and its prefecture sample guidance: a notice for every county
// to acknowledge within a week, a supervision task for t with points and a checklist, and the
// monthly report template 工作月报 pre-filled from the counties' indicators. The prefecture's
// items are written in the prefecture's own tenant (its system scope, as the demo's seeding);
// nothing is written in t.
func (s *Service) Demo(ctx context.Context, t *tenants.Tenant) error {
	pref, err := s.Channel.PrefectureOf(ctx, t)
	if err != nil {
		return nil // a unit with no prefecture above: nothing to seed
	}
	pctx := tenants.WithScope(ctx, tenants.SystemScope(pref))
	week := s.now().In(chinaTime).AddDate(0, 0, 7).Format(time.DateOnly)
	if _, err := s.PublishNotice(pctx, NoticeInput{Kind: "notice", Title: "关于开展城市窨井盖专项整治的通知",
		Body: "各县（市）城市管理部门：\n为消除窨井盖安全隐患，请于一周内完成辖区主次干道窨井盖排查，建立问题台账并及时立案处置。", AckDue: week, All: true}, nil); err != nil {
		return err
	}
	if _, err := s.OpenTask(pctx, TaskInput{Title: "城区窨井盖专项检查", Body: "按清单逐项检查下列点位，发现问题立案处置并反馈照片。",
		Checklist: []string{"井盖完好、无缺失破损", "井盖与路面平整", "警示标识清楚"},
		Points:    []Point{{Lat: 25.0330, Lng: 101.5460, Label: "鹿城广场"}, {Lat: 25.0405, Lng: 101.5430, Label: "鹿城南路口"}},
		Due:       week, Counties: []string{t.Slug}}); err != nil {
		return err
	}
	_, err = s.CreateTemplate(pctx, TemplateInput{Title: "工作月报", DueDay: 5, All: true, Fields: []Field{
		{Key: "reported", Label: "上报案件数", Type: "indicator", Indicator: "reported"},
		{Key: "closed", Label: "结案数", Type: "indicator", Indicator: "closed"},
		{Key: "closed_on_time", Label: "按期结案数", Type: "indicator", Indicator: "closed_on_time"},
		{Key: "highlights", Label: "本月重点工作", Type: "text"}}})
	return err
}
